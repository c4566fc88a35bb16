"""Which provinces a dataset's problems concern (docs/dataset.md, "Problems and provinces").

One province's bad rows never block another province: an error concerns the provinces whose
evaluation reads its row (:func:`evalkit.data.partition.memberships`), and every province when
it cannot be placed.  :class:`Attribution` computes, for every error a dataset check found, the
provinces it concerns as a bit mask (bit ``i``: ``identifiers.PROVINCE_CODES[i]``), then splits
the problems for a load of some provinces (:meth:`Attribution.scoped`) or says which provinces
the errors block (:meth:`Attribution.blocked`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from evalkit.data import identifiers
from evalkit.data.convert import LoadedTable, absent_frame
from evalkit.data.partition import memberships
from evalkit.data.problems import ProblemLog, RowProblems
from evalkit.errors import Problem

__all__ = ["Attribution"]

#: Bit ``i`` of a province mask stands for ``identifiers.PROVINCE_CODES[i]``.
_BIT = {code: i for i, code in enumerate(identifiers.PROVINCE_CODES)}
#: Every province: the mask of a problem that cannot be attributed.
_ALL = np.uint64((1 << len(identifiers.PROVINCE_CODES)) - 1)
#: Columns that place rows (evalkit.data.partition): an error there leaves its row unplaced (an
#: unknown province code, a reference that points nowhere) or could hide a row from the
#: province that really needs it (a provider's domicile, the provider an app belongs to), so it
#: concerns every province.  Every row that cannot be placed has such an error.
_PLACING = frozenset({
    ("submissions", "province_code"), ("panel_scores", "province_code"),
    ("experts", "province_code"), ("providers", "province_code"), ("apps", "provider_id"),
    ("violations", "provider_id"), ("assessments", "app_id"), ("complaints", "app_id"),
    ("waivers", "app_id"), ("ahp_judgments", "province_code"), ("ahp_judgments", "expert_id"),
    ("schools", "province_code"), ("selections", "school_id"), ("selections", "app_id"),
    ("objections", "province_code"), ("rechecks", "objection_id"), ("sanction_statements", "province_code"),
    ("credit_repairs", "province_code"),
})


def _mask(codes: Iterable[str]) -> np.uint64:
    bits = 0
    for code in codes:
        bits |= 1 << _BIT[code]
    return np.uint64(bits)


def _codes(mask: int | np.uint64) -> list[str]:
    m = int(mask)
    return [c for c, i in _BIT.items() if m >> i & 1]


class Attribution:
    """The provinces that need the row of each error (``evalkit.data.partition.memberships``).

    A problem concerns the provinces whose evaluation reads its row: a submission or panel
    score its own province, a provider its domicile and every province one of its apps is
    submitted to or scored in, an app, assessment, complaint or waiver the provinces of the
    app's provider, and so on (:mod:`evalkit.data.partition`); a duplicate key also the
    provinces of the row it repeats.  A problem concerns **every** province when it cannot be
    placed: it has no row (a missing file or column, an unreadable file), its row could not be
    read (a ragged row), it lies in a column that places rows (:data:`_PLACING`: an unknown
    province code, a reference that points nowhere, a provider's domicile, an app's provider,
    the province or expert of an AHP judgment), or in a partitioned table read for some
    provinces only (every row read there is theirs).  Rows are attributed before they are
    listed, so the 50-row cap applies to each province's share.

    Since every row that :func:`~evalkit.data.partition.memberships` cannot place holds an error
    in a placing column, which blocks every province, the memberships computed here are those
    :func:`~evalkit.data.partition.select` uses whenever a load goes on (:attr:`member`).
    """

    def __init__(self, loaded: dict[str, LoadedTable], out: ProblemLog,
                 whole: Iterable[str] = ()) -> None:
        self.out = out
        self.table_of = {item.file: name for name, item in loaded.items()}
        self.whole = set(whole)  # tables whose every row concerns the provinces read
        self.index = {name: (item.frame.index if item.frame is not None else pd.RangeIndex(0))
                      for name, item in loaded.items()}
        frames = {name: item.frame if item.frame is not None else absent_frame(item.table)
                  for name, item in loaded.items()}
        self.need: dict[str, np.ndarray] = {}
        self.member: dict[str, pd.DataFrame] | None = None
        if any(g.severity == "error" for g in out.groups) or any(
                p.severity == "error" and p.row is not None for p in out.items):
            self.member = memberships(frames)
            for name, pairs in self.member.items():
                bit = pd.Categorical(pairs["province"], categories=identifiers.PROVINCE_CODES).codes
                bits = np.bincount(pairs["row"].to_numpy(), weights=np.exp2(bit.astype(float)),
                                   minlength=len(frames[name]))
                self.need[name] = bits.astype(np.uint64)

    def _rows(self, table: str, rows: pd.Index | pd.Series | list[int]) -> np.ndarray:
        """Masks of data rows of a table (0 for a row not in it)."""
        pos = self.index[table].get_indexer(pd.Index(rows))
        bits = self.need.get(table)
        if bits is None or not len(bits):  # e.g. a file not read: its rows are nobody's
            return np.zeros(len(pos), dtype=np.uint64)
        return np.where(pos >= 0, bits[np.maximum(pos, 0)], np.uint64(0)).astype(np.uint64)

    def group(self, g: RowProblems) -> np.ndarray:
        """One mask per failing row of a group (aligned with ``g.failing``)."""
        n = len(g.failing)
        table = self.table_of.get(g.file)
        if (table is None or table in self.whole
                or (table, g.column) in _PLACING):
            return np.full(n, _ALL, dtype=np.uint64)
        bits = self._rows(table, g.failing.index)
        if g.related is not None:
            rel = g.related.reindex(g.failing.index)
            known = rel.notna().to_numpy(bool)
            extra = np.zeros(n, dtype=np.uint64)
            extra[known] = self._rows(table, rel[known].astype("int64"))
            bits |= extra
        bits[bits == 0] = _ALL  # needed by no province: cannot be placed
        return bits

    def single(self, p: Problem) -> np.uint64:
        table = self.table_of.get(p.file)
        if (p.row is None or table is None or table in self.whole
                or (table, p.column) in _PLACING):
            return _ALL
        bits = self._rows(table, [p.row])[0]
        return bits if bits else _ALL  # e.g. a ragged row: skipped, so never placed

    def masks(self) -> list[tuple[Problem | RowProblems, np.ndarray | np.uint64]]:
        """Every error (single or group) with its mask(s)."""
        found: list[tuple[Problem | RowProblems, np.ndarray | np.uint64]] = []
        found += [(p, self.single(p)) for p in self.out.items if p.severity == "error"]
        found += [(g, self.group(g)) for g in self.out.groups if g.severity == "error"]
        return found

    def scoped(self, scope: Iterable[str], *, name_scope: bool = True
               ) -> tuple[list[Problem], list[Problem]]:
        """(every problem, the errors only other provinces need) for a load of ``scope``.

        Errors whose row a province of ``scope`` needs stay errors; the others become warnings
        marked ``(province 53 only; not needed by 44)`` (``name_scope=False``: without the second
        part).  Warnings are listed as found.
        """
        codes = sorted(set(scope))
        scope_mask = _mask(codes)
        tail = f"; not needed by {', '.join(codes)}" if name_scope else ""
        found = [p for p in self.out.items if p.severity != "error"]
        found += [p for g in self.out.groups if g.severity != "error" for p in g.listed()]
        elsewhere: list[Problem] = []
        for item, mask in self.masks():
            if isinstance(item, Problem):
                if mask & scope_mask:
                    found.append(item)
                else:
                    moved = Problem(item.file, item.row, item.column,
                                    item.message + _note(mask, tail), "warning", item.code)
                    elsewhere.append(moved)
                continue
            inside = (mask & scope_mask) != 0
            found += item.listed(inside)
            outside = mask[~inside]
            elsewhere += item.listed(~inside, severity="warning",
                                     note=lambda i, m=outside: _note(m[i], tail),
                                     rest="that only other provinces need ",
                                     tail=f" ({tail[2:]})" if tail else "")
        return found + elsewhere, elsewhere

    def blocked(self) -> dict[str, list[Problem]]:
        """``{province: the errors in rows it needs}`` for every province with one."""
        masks = self.masks()
        union = np.uint64(0)
        for _, mask in masks:
            union |= np.bitwise_or.reduce(np.atleast_1d(mask))
        out: dict[str, list[Problem]] = {}
        for code in _codes(union):  # at most 32 provinces
            bit = np.uint64(1 << _BIT[code])
            found: list[Problem] = []
            for item, mask in masks:
                if isinstance(item, Problem):
                    if mask & bit:
                        found.append(item)
                else:
                    keep = (mask & bit) != 0
                    if keep.any():
                        found += item.listed(keep)
            out[code] = found
        return out


def _note(mask: int | np.uint64, tail: str = "") -> str:
    """`` (province 53 only; not needed by 44)``: the provinces a problem concerns."""
    codes = _codes(mask)
    which = f"province {codes[0]}" if len(codes) == 1 else f"provinces {', '.join(codes)}"
    return f" ({which} only{tail})"
