"""Checking a register (its hash chains, row counts, marks; the published sets against it) and
reading a province's trail.

Used by :class:`evalkit.data.register.Register` (``verify``, ``history``) on an open
connection; see :mod:`evalkit.data.register_schema` for the tables and the hash.  The chain
alone cannot show that its latest cycle was deleted (a shorter chain still verifies): every
published ``OUT/<date>/<code>/provenance.json`` names the cycle it renders and its chained hash
(``register_cycle``), and :func:`published_problems` checks each against the register.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from evalkit.data.register_schema import FORMAT, IMPORTED_FROM, TABLES, cycle_hash, cycles, metadata
from evalkit.layout import province_cycles

__all__ = ["describe", "problems", "published_problems", "trail_rows"]

_COUNT = {"decisions": "n_decisions", "credit": "n_credit", "transitions": "n_transitions"}


def problems(conn: Connection, province: str | None = None) -> list[str]:
    """Every problem of the register on ``conn`` (empty: intact); with ``province``, the
    problems of that province's chain only (what a new cycle of it builds on)."""
    out: list[str] = []
    meta = metadata.tables["meta"]
    found = conn.execute(sa.select(meta.c.value).where(meta.c.key == "format")).scalar()
    if found != FORMAT:
        out.append(f"format {found!r}, expected {FORMAT!r}")
    q = sa.select(cycles).order_by(cycles.c.province, cycles.c.seq)
    heads = conn.execute(q if province is None else q.where(cycles.c.province == province)).all()
    by_id = {h.id: h for h in heads}
    rows: dict[str, dict[int, list[Any]]] = {}
    present = set(sa.inspect(conn).get_table_names())
    for name, table in TABLES.items():
        grouped: dict[int, list[Any]] = defaultdict(list)
        if name not in present:  # an optional table of a register made before it (issue 18)
            rows[name] = grouped
            continue
        q = sa.select(table).order_by(table.c.cycle_id, table.c.row)
        if province is not None:
            q = q.where(table.c.cycle_id.in_(sa.select(cycles.c.id).where(cycles.c.province == province)))
        for r in conn.execute(q):
            grouped[r.cycle_id].append(r)
        rows[name] = grouped
        for cid in sorted(set(grouped) - set(by_id)):
            out.append(f"{len(grouped[cid])} {name} row(s) belong to no recorded cycle (cycle id {cid})")
    by_province: dict[str, list[Any]] = defaultdict(list)
    for h in heads:
        by_province[h.province].append(h)
    for chain in by_province.values():
        out += _chain(chain, rows, by_id)
    return out


def _chain(chain: list[Any], rows: dict[str, dict[int, list[Any]]], by_id: dict[int, Any]) -> list[str]:
    out = []
    prev_hash = ""
    for i, h in enumerate(chain, start=1):
        label = f"cycle {h.id} ({h.province} {h.as_of})"
        if h.seq != i:
            out.append(f"{label}: chain position {h.seq}, expected {i} (a cycle of province {h.province} "
                       "is missing)")  # fmt: skip
        if h.prev_hash != prev_hash:
            out.append(f"{label}: the hash chain is broken (its previous hash is not the hash of the cycle "
                       "before it)")  # fmt: skip
        mine = {name: rows[name].get(h.id, []) for name in TABLES}
        for name, col in _COUNT.items():
            n, expected = len(mine[name]), getattr(h, col)
            if n != expected:
                out.append(f"{label}: {expected} {name} row(s) recorded, {n} found")
            seen = [r.row for r in mine[name]]
            if seen != list(range(len(seen))):
                out.append(f"{label}: {name} rows are not numbered 0…{len(seen) - 1} (rows missing or added)")
        if cycle_hash(h.prev_hash, h, mine) != h.hash:
            out.append(f"{label}: its rows or fields changed after it was recorded (hash mismatch)")
        if h.superseded_by is not None:
            other = by_id.get(h.superseded_by)
            if other is None or other.province != h.province or other.as_of != h.as_of or other.seq <= h.seq:
                out.append(f"{label}: superseded by cycle {h.superseded_by}, which is not a later cycle of "
                           "the same province and date")  # fmt: skip
        prev_hash = h.hash
    for i, h in enumerate(chain):  # a later-recorded earlier date (a backdate) makes a current cycle stale
        if h.superseded_by is None and not h.needs_regeneration \
                and any(b.as_of < h.as_of for b in chain[i + 1:]):
            out.append(f"cycle {h.id} ({h.province} {h.as_of}): an earlier date was recorded after it, but it "
                       "is not marked as needing regeneration")  # fmt: skip
    current: dict[str, list[int]] = defaultdict(list)
    for h in chain:
        if h.superseded_by is None:
            current[h.as_of].append(h.id)
    for day, ids in sorted(current.items()):
        if len(ids) > 1:
            out.append(f"province {chain[0].province}: {len(ids)} current cycles for {day} (ids "
                       f"{', '.join(map(str, ids))}); all but the last should be superseded")  # fmt: skip
    return out




def published_problems(conn: Connection, out: Path) -> tuple[list[str], int, int]:
    """(problems, number of published sets checked, how many of them render a cycle of a register
    since rebuilt from them) of the province folders ``OUT/<date>/<code>/`` against the register
    on ``conn``: each ``provenance.json`` that names a register cycle (``register_cycle``: id,
    seq, hash) must name a cycle the register holds, of that province and date, with that hash,
    not superseded, or the current cycle ``register import`` made from that very set
    (:data:`IMPORTED_FROM`).  A set published before the register (no ``register_cycle``) is not
    checked; a missing or unreadable ``provenance.json`` is a problem."""
    heads = {h.id: h for h in conn.execute(sa.select(cycles)).all()}
    out_problems: list[str] = []
    checked = rebuilt = 0
    for folder in province_cycles(out):  # a folder holding only a public notice renders no cycle
        path = folder / "provenance.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            out_problems.append(f"{path}: missing: the published set does not say which cycle it renders")
            continue
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            out_problems.append(f"{path}: cannot be read: {reason}")
            continue
        block = data.get("register_cycle") if isinstance(data, dict) else None
        if block is None:
            continue  # published before the register existed (`register import`)
        checked += 1
        problem = _published_problem(block, heads, folder.name, folder.parent.name)
        if problem and _imported_from(block, heads, folder.name, folder.parent.name):
            rebuilt += 1  # the register was rebuilt from this very set: it renders the imported cycle
            continue
        if problem:
            out_problems.append(f"{path}: {problem}")
    return out_problems, checked, rebuilt


def _imported_from(block: Any, heads: dict[int, Any], code: str, day: str) -> bool:
    """Whether the current cycle of ``code`` on ``day`` was imported from the set whose
    ``register_cycle`` is ``block`` (:data:`IMPORTED_FROM`)."""
    digest = block.get("hash") if isinstance(block, dict) else None
    for h in heads.values():
        if (h.province, h.as_of) == (code, day) and h.superseded_by is None and isinstance(digest, str):
            params = json.loads(h.parameters or "{}")
            if isinstance(params, dict) and params.get(IMPORTED_FROM) == digest:
                return True
    return False


def _published_problem(block: Any, heads: dict[int, Any], code: str, day: str) -> str:
    cid = block.get("id") if isinstance(block, dict) else None
    digest = block.get("hash") if isinstance(block, dict) else None
    if not isinstance(cid, int) or isinstance(cid, bool) or not isinstance(digest, str):
        return "register_cycle must hold the cycle's id (a number) and hash (text)"
    head = heads.get(cid)
    if head is None:
        return (f"publishes cycle {cid} (hash {digest[:16]}…), which the register does not hold: the cycle was "
                "deleted or the register truncated or replaced")
    if (head.province, head.as_of) != (code, day):
        return f"publishes cycle {cid}, but the register's cycle {cid} is {head.province} {head.as_of}"
    if head.hash != digest:
        return (f"publishes cycle {cid} with hash {digest[:16]}…, the register's cycle {cid} has {head.hash[:16]}…: "
                "the register's chain was changed or rebuilt after this set was published")
    if head.superseded_by is not None:
        return (f"publishes cycle {cid}, superseded by cycle {head.superseded_by}: the published files are not the "
                "current record (publish the date again)")
    return ""


def trail_rows(conn: Connection, cycle_ids: list[int], *, app: str | None = None,
               provider: str | None = None) -> list[tuple[str, Any]]:  # fmt: skip
    """(what, row) of the decisions, credit rows and transitions of ``cycle_ids``, only those
    of ``app`` or ``provider`` if given."""
    if not cycle_ids:
        return []
    out: list[tuple[str, Any]] = []
    for what, name in (("decision", "decisions"), ("credit", "credit"), ("transition", "transitions")):
        table = TABLES[name]
        q = sa.select(table).where(table.c.cycle_id.in_(cycle_ids))
        if app is not None:
            if name != "decisions":
                continue
            q = q.where(table.c.app_id == app)
        elif provider is not None:
            q = q.where(table.c.provider_id == provider)
        out += [(what, r) for r in conn.execute(q.order_by(table.c.cycle_id, table.c.row))]
    return out


def _num(value: Any) -> str:
    return "" if value is None else f"{value:g}"


def describe(what: str, r: Any) -> dict[str, str]:
    """id, name, value, detail and reasons of one trail row (see ``Register.history``)."""
    if what == "decision":
        detail = "; ".join(x for x in (
            f"rank {r.rank}" if r.rank is not None else "", f"score {_num(r.total_score)}" if r.total_score
            is not None else "", f"listed on {r.listed_on}" if r.listed_on else "",
            f"provider {r.provider_id}") if x)  # fmt: skip
        return {"id": r.app_id, "name": r.app_name, "value": r.status, "detail": detail, "reasons": r.reasons}
    if what == "credit":
        detail = "; ".join(x for x in (
            f"grade {r.grade}" if r.grade else "", f"score {_num(r.score)}" if r.score is not None else "",
            f"ban until {r.ban_until}" if r.ban_until else ("no end date" if r.list == "black" else ""),
            f"decided on {r.decided_on}" if r.decided_on else "") if x)  # fmt: skip
        return {"id": r.provider_id, "name": r.provider_name, "value": r.list, "detail": detail,
                "reasons": r.reasons}  # fmt: skip
    return {"id": r.provider_id, "name": "", "value": f"{r.from_list}→{r.to_list}", "detail": f"on {r.on_date}",
            "reasons": r.reasons}  # fmt: skip
