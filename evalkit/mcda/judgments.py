"""A panel's AHP judgments: long rows to matrices, each expert's consistency, screening.

* :func:`judgment_matrices` — long ``ahp_judgments`` rows ``(expert_id, level, a, b, value)``
  → one matrix per expert and level, the group matrix per level (geometric mean over the
  experts who judged each pair), and every refused row, missing or conflicting pair reported.
* :func:`individual_cr` — each expert's consistency ratio at one level.
* :func:`screen_judgments` — each expert's CR at one level, the experts excluded for an
  unacceptable CR (> 0.10, Saaty 1980) and the geometric mean of the others.

The arithmetic is :func:`evalkit.mcda.ahp.ahp` and :func:`evalkit.mcda.ahp.geomean_kernel`;
everything here is also reachable as :mod:`evalkit.mcda.weights` ``.judgment_matrices`` etc.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit import checks
from evalkit.errors import Problem, param_message, require_frame
from evalkit.mcda.ahp import SCALE_MAX, SCALE_MIN, AHPResult, WeightsError, ahp, geomean_kernel

__all__ = [
    "JudgmentMatrices",
    "ScreenedJudgments",
    "individual_cr",
    "judgment_matrices",
    "screen_judgments",
]

_JUDGMENT_COLUMNS = ("expert_id", "level", "a", "b", "value")

#: The problem code of every refused judgment row.
_CODE = "ahp_judgment"


# --------------------------------------------------------------------------------------------
# Judgment rows to matrices
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgmentMatrices:
    """Per-level matrices built by :func:`judgment_matrices`.

    Attributes
    ----------
    items : dict level -> tuple of item names
        The row/column order of every matrix of that level.
    experts : dict level -> tuple of expert ids
        The experts who judged at that level (axis 0 of ``individual``).
    individual : dict level -> ndarray (k, n, n)
        One matrix per expert; NaN where the expert gave no judgment for the pair.
    matrices : dict level -> ndarray (n, n)
        Group matrix: geometric mean over the experts who judged each pair; NaN where nobody
        did (then the level is not ``complete``).
    missing : DataFrame
        ``level, expert_id, a, b`` — every unordered pair an expert left out (a before b in
        the level's item order).
    problems : tuple of Problem
        Rows refused (out of the 1/9…9 scale, self-comparison, duplicate or contradicting
        judgments), each as ``ahp_judgments:row:column: message``.
    """

    items: dict[str, tuple[str, ...]]
    experts: dict[str, tuple[str, ...]]
    individual: dict[str, np.ndarray]
    matrices: dict[str, np.ndarray]
    missing: pd.DataFrame
    problems: tuple[Problem, ...] = field(default=())

    def complete(self, level: str) -> bool:
        """Whether every pair of ``level`` has at least one judgment."""
        return bool(np.all(np.isfinite(self.matrices[level])))

    def ahp(self, level: str, **kwargs: Any) -> AHPResult:
        """:func:`ahp` on the group matrix of ``level`` (labels = its items)."""
        func = "JudgmentMatrices.ahp"
        checks.one_of(level, self.matrices, "level", func, WeightsError)
        mx = self.matrices[level]
        if not self.complete(level):
            got = f"{level!r}, where no expert judged {self.missing_pairs(level)}"
            raise WeightsError(param_message("level", func, "a complete level", got))
        return ahp(mx, labels=self.items[level], **kwargs)

    def missing_pairs(self, level: str) -> list[tuple[str, str]]:
        """Pairs of ``level`` that no expert judged."""
        items = self.items[level]
        ii, jj = np.nonzero(np.triu(~np.isfinite(self.matrices[level]), 1))
        return [(items[i], items[j]) for i, j in zip(ii.tolist(), jj.tolist(), strict=True)]


def judgment_matrices(
    judgments: pd.DataFrame,
    *,
    items: Mapping[str, Sequence[str]] | None = None,
    rtol: float = 0.05,
    file: str = "ahp_judgments",
) -> JudgmentMatrices:
    """Build per-expert and group pairwise matrices from long judgment rows.

    A row ``(expert_id, level, a, b, value)`` says: at ``level``, ``a`` is ``value`` times as
    important as ``b`` (so ``m[a, b] = value`` and ``m[b, a] = 1 / value``).  Either
    orientation of a pair may be given; giving both is fine when they agree.

    Parameters
    ----------
    judgments : DataFrame
        Columns ``expert_id, level, a, b, value`` (extra columns ignored), e.g.
        ``Dataset.ahp_judgments``.
    items : mapping level -> sequence of item names, optional
        Fixes each level's items and their order (e.g. the rubric's dimensions); a level not
        listed, or ``items=None``, uses the sorted names seen in its rows.  Rows naming an
        item outside a fixed list are reported as problems.
    rtol : float, default 0.05
        Two judgments of one pair by one expert (``a,b`` and ``b,a``) agree when the
        implied ``m[a, b]`` values differ by a factor of at most ``1 + rtol`` (1/7 typed as
        0.14 passes; neighbouring scale values such as 8 and 9 differ by 12.5 %).
    file : str, default "ahp_judgments"
        File name used in the problems.

    Returns
    -------
    JudgmentMatrices
        ``.matrices[level]`` (geometric mean over the experts who judged each pair),
        ``.individual``, ``.items``, ``.experts``, ``.missing`` and ``.problems``.

    Notes
    -----
    Missing pairs are reported, never imputed: the group matrix uses the judgments that
    exist for each pair, and a pair nobody judged is NaN (``complete(level)`` is then False).
    Row numbers in the problems are 1-based positions in ``judgments``.
    """
    func = "judgment_matrices"
    require_frame(judgments, "judgments", func, _JUDGMENT_COLUMNS, error=WeightsError)
    df = _judgment_rows(judgments)
    problems: list[Problem] = []
    keep = _valid_rows(df, file, problems)
    levels, item_lists = _level_items(df, keep, items)
    out_ind: dict[str, np.ndarray] = {}
    out_grp: dict[str, np.ndarray] = {}
    out_exp: dict[str, tuple[str, ...]] = {}
    missing_parts: list[pd.DataFrame] = []
    for level in levels:  # a handful of levels
        sub = df.loc[keep & (df["level"] == level).to_numpy()]
        names = item_lists[level]
        experts, ind = _level_matrices(sub, level, names, rtol, file, problems)
        out_exp[level], out_ind[level] = experts, ind
        out_grp[level] = _group_matrix(ind)
        missing_parts.append(_missing_pairs(ind, level, names, experts))
    missing = (
        pd.concat(missing_parts, ignore_index=True)
        if missing_parts
        else pd.DataFrame(columns=["level", "expert_id", "a", "b"])
    ).astype("str")
    return JudgmentMatrices(
        items={lv: item_lists[lv] for lv in levels},
        experts=out_exp,
        individual=out_ind,
        matrices=out_grp,
        missing=missing,
        problems=tuple(sorted(problems, key=lambda p: (p.row or 0, p.column or ""))),
    )


def _judgment_rows(judgments: pd.DataFrame) -> pd.DataFrame:
    """The judgment columns as text (``value`` as float, NaN when unreadable) and the 1-based
    ``row`` of each."""
    return pd.DataFrame(
        {
            "row": np.arange(1, len(judgments) + 1),
            "expert_id": judgments["expert_id"].astype("str").to_numpy(),
            "level": judgments["level"].astype("str").to_numpy(),
            "a": judgments["a"].astype("str").to_numpy(),
            "b": judgments["b"].astype("str").to_numpy(),
            "value": pd.to_numeric(judgments["value"], errors="coerce").to_numpy(dtype=float),
        }
    )


def _refuse(rows: pd.Series, file: str, column: str, message: str, problems: list[Problem]) -> None:
    """One error per row of ``rows`` (the 1-based row numbers)."""
    problems.extend(
        Problem(file=file, row=int(r), column=column, message=message, code=_CODE)
        for r in rows.tolist()
    )


def _valid_rows(df: pd.DataFrame, file: str, problems: list[Problem]) -> np.ndarray:
    """Rows with a value on Saaty's 1/9…9 scale comparing two different items; the others are
    reported in ``problems``."""
    v = df["value"].to_numpy()
    tol = 1e-9
    bad_value = ~np.isfinite(v) | (v < SCALE_MIN * (1 - tol)) | (v > SCALE_MAX * (1 + tol))
    _refuse(df.loc[bad_value, "row"], file, "value", "must be a judgment on Saaty's scale 1/9…9",
            problems)
    self_cmp = (df["a"] == df["b"]).to_numpy()
    _refuse(df.loc[self_cmp & ~bad_value, "row"], file, "b",
            "must differ from 'a' (an item is not compared with itself)", problems)
    return ~bad_value & ~self_cmp


def _level_items(
    df: pd.DataFrame, keep: np.ndarray, items: Mapping[str, Sequence[str]] | None
) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The levels (those seen in the rows, sorted, then those only in ``items``) and each
    level's items: fixed by ``items`` or the sorted names seen in its valid rows."""
    levels = sorted(df["level"].unique().tolist())
    item_lists: dict[str, tuple[str, ...]] = {}
    for level in levels:  # a handful of levels
        if items is not None and level in items:
            item_lists[level] = tuple(str(x) for x in items[level])
        else:
            sub = df.loc[keep & (df["level"] == level).to_numpy()]
            item_lists[level] = tuple(sorted(set(sub["a"]).union(sub["b"])))
    if items is not None:
        for level in items:
            if level not in item_lists:
                item_lists[level] = tuple(str(x) for x in items[level])
                levels.append(level)
    return levels, item_lists


def _level_matrices(
    sub: pd.DataFrame, level: str, names: tuple[str, ...], rtol: float, file: str,
    problems: list[Problem],
) -> tuple[tuple[str, ...], np.ndarray]:
    """One level's experts and their matrices ``(k, n, n)`` (NaN where a pair was not judged).

    Rows naming an item outside ``names`` and contradicting repeats are reported and left out;
    agreeing repeats collapse to their geometric mean.
    """
    name_index = pd.Index(names)
    ia = name_index.get_indexer(sub["a"])
    ib = name_index.get_indexer(sub["b"])
    unknown = (ia < 0) | (ib < 0)
    if unknown.any():
        col = np.where(ia[unknown] < 0, "a", "b")
        message = f"is not an item of level {level!r} (items: {', '.join(names)})"
        problems.extend(
            Problem(file=file, row=int(r), column=str(c), message=message, code=_CODE)
            for r, c in zip(sub.loc[unknown, "row"].tolist(), col.tolist(), strict=True)
        )
    sub = sub.loc[~unknown]
    ia, ib = ia[~unknown], ib[~unknown]
    experts = tuple(sorted(sub["expert_id"].unique().tolist()))
    ie = pd.Index(experts).get_indexer(sub["expert_id"])
    # Orient every judgment as (lo, hi) with lo < hi: value for m[lo, hi].
    lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
    val = np.where(ia < ib, sub["value"].to_numpy(), 1.0 / sub["value"].to_numpy())
    key = pd.DataFrame(
        {
            "e": ie,
            "lo": lo,
            "hi": hi,
            "logv": np.log(val),
            "row": sub["row"].to_numpy(),
            "a": sub["a"].to_numpy(),
            "b": sub["b"].to_numpy(),
        }
    )
    clash = _repeats(key, rtol, file, problems)
    return experts, _expert_matrices(key.loc[~clash], len(experts), len(names))


def _repeats(key: pd.DataFrame, rtol: float, file: str, problems: list[Problem]) -> np.ndarray:
    """Judgments of one expert, level and pair given more than once: a repeat in the same
    orientation is a warning, judgments whose values differ by more than a factor ``1 + rtol``
    are errors (returned as a mask, to leave out)."""
    grp = key.groupby(["e", "lo", "hi"], sort=False)["logv"]
    spread = grp.transform("max") - grp.transform("min")
    count_same = key.groupby(["e", "lo", "hi", "a"], sort=False)["logv"].transform("size")
    dup = (count_same > 1).to_numpy()
    clash = (spread > math.log1p(rtol)).to_numpy()
    first_dup = key.duplicated(["e", "lo", "hi", "a"], keep="first").to_numpy()
    bad_dup = dup & first_dup & ~clash
    if bad_dup.any():
        problems.extend(
            Problem(file=file, row=int(r), column="b", code=_CODE, severity="warning",
                    message="repeats a judgment of the same expert, level and pair")
            for r in key.loc[bad_dup, "row"].tolist()
        )
    if clash.any():
        _refuse(key.loc[clash, "row"], file, "value",
                "contradicts another judgment of the same expert, level and pair", problems)
    return clash


def _expert_matrices(good: pd.DataFrame, k: int, n: int) -> np.ndarray:
    """Each expert's reciprocal matrix ``(k, n, n)`` from the oriented judgments (agreeing
    repeats by their geometric mean); NaN where the expert left a pair out."""
    agg = good.groupby(["e", "lo", "hi"], sort=True)["logv"].mean().reset_index()
    ind = np.full((k, n, n), np.nan)
    e_i = agg["e"].to_numpy()
    lo_i, hi_i = agg["lo"].to_numpy(), agg["hi"].to_numpy()
    ind[e_i, lo_i, hi_i] = np.exp(agg["logv"].to_numpy())
    ind[e_i, hi_i, lo_i] = np.exp(-agg["logv"].to_numpy())
    diag = np.arange(n)
    ind[:, diag, diag] = 1.0
    return ind


def _group_matrix(ind: np.ndarray) -> np.ndarray:
    """The level's group matrix: geometric mean over the experts who judged each pair."""
    k, n = ind.shape[0], ind.shape[1]
    grp_m = geomean_kernel(ind, np.ones(k)) if k else np.full((n, n), np.nan)
    diag = np.arange(n)
    grp_m[diag, diag] = 1.0
    return grp_m


def _missing_pairs(
    ind: np.ndarray, level: str, names: tuple[str, ...], experts: tuple[str, ...]
) -> pd.DataFrame:
    """``level, expert_id, a, b`` for every pair (upper triangle) an expert left out."""
    n = len(names)
    ee, ii, jj = np.nonzero(np.isnan(ind) & np.triu(np.ones((n, n), bool), 1)[None])
    nm = np.asarray(names, dtype=object)
    return pd.DataFrame(
        {
            "level": level,
            "expert_id": np.asarray(experts, dtype=object)[ee] if experts else np.array([], object),
            "a": nm[ii],
            "b": nm[jj],
        }
    )


# --------------------------------------------------------------------------------------------
# Screening individual judgments by consistency
# --------------------------------------------------------------------------------------------


def individual_cr(
    individual: Any, *, ri: str | Sequence[float] = "saaty1980", rtol: float = 1e-6
) -> np.ndarray:
    """Consistency ratio of each expert's pairwise matrix.

    Parameters
    ----------
    individual : array_like of shape (k, n, n)
        One reciprocal matrix per expert, NaN where the expert gave no judgment (as in
        :attr:`JudgmentMatrices.individual`).
    ri, rtol
        As for :func:`ahp`.

    Returns
    -------
    ndarray of shape (k,)
        CR per expert; NaN for an expert who left a pair out (the CR is not defined).
    """
    mats = checks.numeric_array(individual, "individual", "individual_cr", WeightsError, ndim=3,
                                what="(experts, n, n) array", square=True, allow_nan=True,
                                allow_inf=True)
    out = np.full(mats.shape[0], np.nan)
    for e in range(mats.shape[0]):  # a handful of experts per level
        if np.all(np.isfinite(mats[e])):
            out[e] = ahp(mats[e], ri=ri, rtol=rtol).cr
    return out


@dataclass(frozen=True)
class ScreenedJudgments:
    """Result of :func:`screen_judgments` for one level.

    Attributes
    ----------
    cr : ndarray (k,)
        Each expert's CR (NaN: the expert left a pair out).
    kept : ndarray of bool (k,)
        Experts whose matrix is complete with ``CR ≤ max_cr``.
    matrix : ndarray (n, n)
        Geometric mean of the kept experts' matrices (NaN everywhere when none is kept).
    max_cr : float
        The acceptance threshold used.
    """

    cr: np.ndarray
    kept: np.ndarray
    matrix: np.ndarray
    max_cr: float

    @property
    def complete(self) -> bool:
        """Whether the kept experts judged every pair."""
        return bool(np.all(np.isfinite(self.matrix)))


def screen_judgments(
    individual: Any,
    *,
    max_cr: float = 0.10,
    ri: str | Sequence[float] = "saaty1980",
    rtol: float = 1e-6,
) -> ScreenedJudgments:
    """Exclude experts with an unacceptable consistency ratio, then combine the rest.

    Saaty (1980, *The Analytic Hierarchy Process*, McGraw-Hill) accepts a matrix whose
    consistency ratio is at most 0.10.  An expert whose matrix at a level exceeds it — or whose
    matrix is incomplete, so that its CR is not defined — is excluded from that level; the
    others are combined by element-wise geometric mean (aggregation of individual judgments,
    Forman & Peniwati 1998, EJOR 108(1):165–169).  The geometric mean of acceptably consistent
    matrices is itself acceptably consistent (Xu 2000, EJOR 126(3):683–687; examined
    experimentally by Aull-Hyde, Erdoğan & Duke 2006, EJOR 171(1):290–295).

    Parameters
    ----------
    individual : array_like of shape (k, n, n)
        One matrix per expert (NaN where a pair was not judged).
    max_cr : float, default 0.10
        Largest acceptable CR.
    ri, rtol
        As for :func:`ahp`.

    Returns
    -------
    ScreenedJudgments
    """
    checks.number_between(max_cr, 0, 1, "max_cr", "screen_judgments", WeightsError)
    mats = np.asarray(individual, dtype=float)
    cr = individual_cr(mats, ri=ri, rtol=rtol)
    kept = np.isfinite(cr) & (cr <= max_cr)
    n = mats.shape[1]
    if kept.any():
        matrix = geomean_kernel(mats[kept], np.ones(int(kept.sum())))
        np.fill_diagonal(matrix, 1.0)
    else:
        matrix = np.full((n, n), np.nan)
    return ScreenedJudgments(cr=cr, kept=kept, matrix=matrix, max_cr=float(max_cr))

