"""The register's tables, its records and the canonical form its hash chain covers.

:mod:`evalkit.data.register` is the public face (``Register``); this module holds what it
stores: the SQLAlchemy Core tables (``cycles``, ``decisions``, ``credit``, ``transitions``,
``meta``), the :class:`Cycle` and :class:`Recorded` records, the normalisation of a frame's
rows into stored values (dates as ``YYYY-MM-DD``, numbers or ``NULL``, other columns as JSON
per row) and the canonical JSON a cycle's hash is computed from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from evalkit.errors import EvalkitError

__all__ = [
    "DUE_PROCESS_TABLES", "FIELDS", "FORMAT", "HASHED_FIELDS", "IMPORTED_FROM", "OPTIONAL_ROWS", "TABLES", "Cycle",
    "Recorded",
    "RegisterError", "canonical_json", "cycle_frame", "cycle_hash", "frame_rows", "metadata", "rows_frame",
]  # fmt: skip

#: The register's format, stored in its ``meta`` table.  2: the hash no longer covers
#: ``recorded_at`` (:data:`HASHED_FIELDS`); a format-1 register (development versions before
#: the published sets carried their cycle's hash) is refused with a clear error.
FORMAT = "evalkit-register/2"
#: The parameter of a cycle ``register import`` read from a set that renders a cycle of an
#: earlier register (the register rebuilt): that cycle's hash, so that ``verify`` knows the set
#: renders this cycle (the rebuild is named, the set not counted as damaged).
IMPORTED_FROM = "imported_from_cycle"


class RegisterError(EvalkitError):
    """A refused write or a damaged register; the message names the register (and the cycle)."""


@dataclass(frozen=True)
class Cycle:
    """What one cycle (one province, one ``as_of`` date) records.

    ``decisions``: app_id, app_name, provider_id, status, rank, total_score, reasons, listed_on;
    ``credit``: provider_id, provider_name, score, grade, list, ban_until, decided_on, reasons;
    ``transitions`` (the status transitions decided *in this cycle*): provider_id, on, from, to,
    reasons.  Any other column of a frame is kept too, as JSON per row.
    """

    province: str
    as_of: str
    decisions: pd.DataFrame
    credit: pd.DataFrame
    transitions: pd.DataFrame
    inputs: dict[str, str] = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    evalkit_version: str = ""
    #: the schools' withdrawal alerts (school_id, app_id, alert, since, withdraw_by, status,
    #: withdrawn_on; issue 18); None: none
    school_alerts: pd.DataFrame | None = None


@dataclass(frozen=True)
class Recorded:
    """A cycle as stored.  ``recorded_at_seq`` is its place in its province's hash chain
    (1, 2, …, in the order recorded); ``superseded_by`` the id of the cycle that replaced it
    (``--force``); ``needs_regeneration`` marks a cycle recorded before a backdated one."""

    id: int
    province: str
    as_of: str
    recorded_at_seq: int
    superseded_by: int | None
    needs_regeneration: bool
    hash: str
    recorded_at: str = ""


metadata = MetaData()

Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

cycles = Table(
    "cycles", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("province", String(2), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("evalkit_version", Text, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("parameters", Text, nullable=False),
    Column("n_decisions", Integer, nullable=False),
    Column("n_credit", Integer, nullable=False),
    Column("n_transitions", Integer, nullable=False),
    Column("superseded_by", Integer, ForeignKey("cycles.id"), nullable=True),
    Column("needs_regeneration", Boolean, nullable=False, default=False),
    UniqueConstraint("province", "seq", name="uq_cycles_province_seq"),
    Index("ix_cycles_province_as_of", "province", "as_of"),
)  # fmt: skip

# -- due process (issue 17): notices and the other steps a cycle rests on, outside the cycles'
#    hash chain (each row is written once, never updated but for its superseded mark)
notices = Table(
    "notices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("province", String(2), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("ends_on", String(10), nullable=False),
    Column("working_days", Integer, nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("files", Text, nullable=False),  # JSON {file name: sha256}
    Column("summary", Text, nullable=False),  # JSON: counts by status, the draft list's app ids
    Column("superseded_by", Integer, ForeignKey("notices.id"), nullable=True),
    Index("ix_notices_province_as_of", "province", "as_of"),
)  # fmt: skip
#: Tables an older register may lack: created when it is opened for writing.
DUE_PROCESS_TABLES = ("notices",)

#: Per row table: (frame column, stored column, kind); kinds: text, int, float, date.
FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "decisions": (
        ("app_id", "app_id", "text"), ("app_name", "app_name", "text"), ("provider_id", "provider_id", "text"),
        ("status", "status", "text"), ("rank", "rank", "int"), ("total_score", "total_score", "float"),
        ("reasons", "reasons", "text"), ("listed_on", "listed_on", "date"),
    ),
    "credit": (
        ("provider_id", "provider_id", "text"), ("provider_name", "provider_name", "text"),
        ("score", "score", "float"), ("grade", "grade", "text"), ("list", "list", "text"),
        ("ban_until", "ban_until", "date"), ("decided_on", "decided_on", "date"), ("reasons", "reasons", "text"),
    ),
    "transitions": (
        ("provider_id", "provider_id", "text"), ("on", "on_date", "date"), ("from", "from_list", "text"),
        ("to", "to_list", "text"), ("reasons", "reasons", "text"),
    ),
    # issue 18: the withdrawal alerts of the province's schools (hashed only when a cycle has any,
    # so that cycles recorded before keep their hashes)
    "school_alerts": (
        ("school_id", "school_id", "text"), ("app_id", "app_id", "text"), ("alert", "alert", "text"),
        ("since", "since", "date"), ("withdraw_by", "withdraw_by", "date"), ("status", "status", "text"),
        ("withdrawn_on", "withdrawn_on", "date"),
    ),
}  # fmt: skip
#: Row tables a cycle may lack (absent from its hash when empty).
OPTIONAL_ROWS = frozenset({"school_alerts"})
_TYPES = {"text": Text, "date": String(10), "int": Integer, "float": Float}


def _row_table(name: str) -> Table:
    cols = [Column(db, _TYPES[kind], nullable=kind in ("int", "float")) for _, db, kind in FIELDS[name]]
    return Table(
        name, metadata,
        Column("cycle_id", Integer, ForeignKey("cycles.id"), primary_key=True),
        Column("row", Integer, primary_key=True, autoincrement=False),
        *cols,
        Column("extra", Text, nullable=False),
    )  # fmt: skip


TABLES: dict[str, Table] = {name: _row_table(name) for name in FIELDS}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ------------------------------------------------------------------------------------------
# frame rows <-> stored values


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _date(value: Any) -> str:
    if _missing(value) or value == "":
        return ""
    if isinstance(value, dt.date | pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    text = str(value).strip()
    if _DATE.match(text):
        try:
            dt.date.fromisoformat(text)
            return text
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date YYYY-MM-DD")


def _number(value: Any, kind: str) -> int | float | None:
    if _missing(value) or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    if kind == "int":
        if number != int(number):
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    return number


def jsonable(value: Any) -> Any:
    """A value as plain JSON: numbers, text, booleans, ``None`` (missing); dates ``YYYY-MM-DD``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | dt.datetime | np.datetime64):
        ts = pd.Timestamp(value)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 text kept (the hash's input)."""
    return json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def cycle_frame(cycle: Cycle, name: str) -> pd.DataFrame:
    """A cycle's ``name`` frame; an optional one it lacks (None) as an empty frame."""
    frame = getattr(cycle, name)
    if frame is None and name in OPTIONAL_ROWS:
        return pd.DataFrame({col: pd.Series([], dtype="str") for col, _, _ in FIELDS[name]})
    return frame


def frame_rows(name: str, frame: pd.DataFrame, cycle_id: int) -> list[dict[str, Any]]:
    """The stored rows of a cycle's ``name`` frame; a bad value raises ``ValueError`` naming it."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame; got {type(frame).__name__} instead")
    fields = FIELDS[name]
    missing = [col for col, _, _ in fields if col not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(missing)}")
    fixed = {col for col, _, _ in fields}
    extras = [c for c in frame.columns if c not in fixed]
    rows = []
    for i, rec in enumerate(frame.astype(object).to_dict("records")):
        row: dict[str, Any] = {"cycle_id": cycle_id, "row": i}
        for col, db, kind in fields:
            value = rec[col]
            try:
                if kind == "text":
                    row[db] = "" if _missing(value) else str(value)
                elif kind == "date":
                    row[db] = _date(value)
                else:
                    row[db] = _number(value, kind)
            except ValueError as exc:
                raise ValueError(f"{name} row {i + 1}, column {col}: {exc}") from None
        row["extra"] = json.dumps({str(c): jsonable(rec[c]) for c in extras}, ensure_ascii=False,
                                  separators=(",", ":"), allow_nan=False)  # fmt: skip
        rows.append(row)
    return rows


def rows_frame(name: str, rows: list[Any]) -> pd.DataFrame:
    """The frame of stored rows (ordered as recorded): the fixed columns, then the extra ones."""
    fields = FIELDS[name]
    data: dict[str, list[Any]] = {col: [] for col, _, _ in fields}
    extras: list[dict[str, Any]] = []
    for row in rows:
        m = row._mapping if hasattr(row, "_mapping") else row
        for col, db, _ in fields:
            data[col].append(m[db])
        extras.append(json.loads(m["extra"]) if m["extra"] else {})
    out = {}
    for col, _, kind in fields:
        dtype = {"int": "Int64", "float": "float64"}.get(kind, "str")
        out[col] = pd.Series(data[col], dtype=dtype)
    names: dict[str, None] = {}
    for e in extras:
        names.update(dict.fromkeys(e))
    for extra in names:
        out[extra] = pd.Series([e.get(extra) for e in extras], dtype=object)
    frame = pd.DataFrame(out)
    for extra in names:
        frame[extra] = _typed(frame[extra])
    return frame


def _typed(col: pd.Series) -> pd.Series:
    """An extra column back in a plain dtype where its JSON values allow: text → ``str``,
    booleans → ``bool`` (``boolean`` with missing), whole numbers → ``int64`` (``Int64`` with
    missing), numbers → ``float64``; anything mixed stays ``object``."""
    values = [v for v in col if v is not None]
    if not values:
        return col
    kinds = {type(v) for v in values}
    missing = len(values) < len(col)
    if kinds == {str}:
        return col.astype("str")
    if kinds == {bool}:
        return col.astype("boolean" if missing else "bool")
    if kinds == {int}:
        return col.astype("Int64" if missing else "int64")
    if kinds <= {int, float}:
        return col.astype("float64")
    return col


# ------------------------------------------------------------------------------------------
# the hash chain


#: The fields of a cycle its hash covers.  Not ``recorded_at`` (the wall clock): each province's
#: ``provenance.json`` carries its cycle's hash, and the same inputs and the same register
#: history must give the same bytes.  Nor the two marks set later (``superseded_by``,
#: ``needs_regeneration``), which ``verify`` checks against the chain instead.
HASHED_FIELDS = ("province", "as_of", "seq", "evalkit_version", "inputs", "parameters")


def cycle_hash(prev_hash: str, cycle: Any, rows: dict[str, list[Any]]) -> str:
    """sha256(previous hash + canonical JSON of the cycle's :data:`HASHED_FIELDS` and its stored
    rows)."""
    m = cycle._mapping if hasattr(cycle, "_mapping") else cycle
    body: dict[str, Any] = {key: m[key] for key in HASHED_FIELDS}
    for name, fields in FIELDS.items():
        if name in OPTIONAL_ROWS and not rows.get(name):
            continue
        cols = [db for _, db, _ in fields] + ["extra"]
        body[name] = [[(r._mapping if hasattr(r, "_mapping") else r)[c] for c in cols] for r in rows[name]]
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()
