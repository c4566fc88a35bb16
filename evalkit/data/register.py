"""The province's record: every cycle of every province in an embedded transactional database.

A *cycle* is one province published for one ``as_of`` date.  :meth:`Register.record` writes
it in **one transaction** (its decisions, credit rows and status transitions, the input
fingerprint, the parameters); cycles are **append-only**: nothing is ever updated but two
marks, ``superseded_by`` (a ``--force`` republish records a new cycle and keeps the earlier
one) and ``needs_regeneration`` (a ``--backdate`` cycle makes the later cycles stale).  Each
province's cycles form a hash chain (``hash = sha256(previous hash + canonical JSON of the
cycle)``) that :meth:`Register.verify` checks.  History (bans, listed dates, transitions) is
read from here, never from published files, which are renderings.

Where it lives.  An output folder ``OUT`` has its register in ``OUT/register.sqlite``
(SQLite through the standard library's ``sqlite3``); a ministry points every province at
one shared PostgreSQL with a URL (``postgresql://…``, run through psycopg 3).  Both through
SQLAlchemy Core, the same tables and statements.

Why SQLite and not DuckDB (measured: docs/register.md, benchmarks/bench_register.py).  The register's work is
small transactional row writes from several processes at once (two provinces publishing
into one output folder) and point reads; a national cycle is a few thousand rows.  SQLite
is in the standard library, needs no server, has been crash-safe for decades (WAL, fsync on
commit) and lets two processes write one file in turn (``BEGIN IMMEDIATE`` with a 30 s busy
timeout: the second writer waits instead of failing).  DuckDB is an analytical engine: it
allows one writing *process* per file (a second process cannot even open it while the
first holds it: "Could not set lock on file", DuckDB 2.0.1), the concurrent-publish case, and it would be a new
compiled dependency for no gain at this size.

Concurrency.  SQLite: WAL journal, every write transaction ``BEGIN IMMEDIATE`` (TECH-NOTES
"Concurrent writers": a deferred ``BEGIN`` followed by a read and a write fails at once with
"database is locked").  PostgreSQL: READ COMMITTED plus a transaction-level advisory lock
per province, so two writers of one province queue while different provinces write at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from evalkit.data import register_verify
from evalkit.data.register_schema import (
    DUE_PROCESS_TABLES,
    FIELDS,
    FORMAT,
    TABLES,
    Cycle,
    Recorded,
    RegisterError,
    canonical_json,
    cycle_hash,
    frame_rows,
    metadata,
    rows_frame,
)
from evalkit.data.register_schema import cycles as _cycles
from evalkit.data.register_schema import notices as _notices
from evalkit.dates import parse_date

__all__ = ["DEFAULT_NAME", "Cycle", "Recorded", "Register", "RegisterError", "register_target"]

#: The register file of an output folder.
DEFAULT_NAME = "register.sqlite"
#: Seconds a writer waits for another one (SQLite busy timeout).
BUSY_TIMEOUT = 30
_FOREVER = "9999-12-31"
_HISTORY_COLUMNS = ["as_of", "what", "id", "name", "value", "detail", "reasons", "cycle", "superseded",
                    "needs_regeneration"]  # fmt: skip


def register_target(out: str | Path | None, url: str | None = None) -> str | Path:
    """What :meth:`Register.open` should open: ``url`` if given, else the folder ``out``."""
    if url:
        return url
    if out is None:
        raise RegisterError("no register: give an output folder or --register URL")
    return Path(out)


def _is_url(target: str | Path) -> bool:
    return isinstance(target, str) and re.match(r"^[a-z][a-z0-9+]*://", target) is not None


def _wal(dbapi_conn: Any) -> None:
    """Switch a new file to WAL.  Two processes creating one register at once: the switch is
    refused at once ("database is locked", the busy timeout does not apply to it), so retry."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            mode = dbapi_conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() == "wal" or time.monotonic() > deadline:
                return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def _sqlite_engine(url: sa.URL) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event below issues BEGIN itself
        _wal(dbapi_conn)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")

    return engine


class Register:
    """A register of cycles (see the module's docstring); open it with :meth:`open`."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.has_due_process = True

    # --------------------------------------------------------------------------------------
    # opening

    @classmethod
    def open(cls, target: str | Path, *, create: bool = True) -> Register:
        """Open (and with ``create`` make) the register of ``target``: an output folder (its
        ``register.sqlite``), a ``.sqlite`` file, or a URL (``sqlite:///…``,
        ``postgresql://…`` / ``postgresql+psycopg://…``).  ``create=False`` refuses a register
        that does not exist yet (RegisterError)."""
        if _is_url(target):
            try:
                url = sa.make_url(str(target))
            except sa.exc.ArgumentError as exc:
                raise RegisterError(f"register {target!r}: not a database URL ({exc})") from None
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
                return cls._open_file(Path(url.database), create)
            name = url.render_as_string(hide_password=True)
            try:
                engine = sa.create_engine(url)
            except (sa.exc.ArgumentError, ImportError) as exc:
                raise RegisterError(f"register {name}: cannot use this database ({exc})") from None
            return cls._ready(cls(engine, name), create)
        path = Path(target)
        if path.suffix.lower() not in (".sqlite", ".sqlite3", ".db"):
            path = path / DEFAULT_NAME
        return cls._open_file(path, create)

    @classmethod
    def _open_file(cls, path: Path, create: bool) -> Register:
        if not path.is_file():
            if not create:
                raise RegisterError(f"no register at {path} (`evalkit register import` builds one from "
                                    "published folders; a publish makes one)")  # fmt: skip
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegisterError(f"register {path}: cannot create its folder: {exc}") from None
        url = sa.URL.create("sqlite", database=str(path))
        return cls._ready(cls(_sqlite_engine(url), str(path)), create)

    @classmethod
    def _ready(cls, reg: Register, create: bool) -> Register:
        with reg._write("open it") as conn:
            if create:
                if not reg.is_sqlite:  # two processes creating the tables at once would collide
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(727160)"))
                metadata.create_all(conn)
                meta = metadata.tables["meta"]
                if conn.execute(sa.select(meta.c.value).where(meta.c.key == "format")).first() is None:
                    conn.execute(meta.insert().values(key="format", value=FORMAT))
            tables = set(sa.inspect(conn).get_table_names())
            core = set(metadata.tables) - set(DUE_PROCESS_TABLES)  # an older register may lack these
            if not core <= tables:
                raise RegisterError(f"register {reg.name}: not an evalkit register (tables missing: "
                                    f"{', '.join(sorted(core - tables))})")  # fmt: skip
            reg.has_due_process = set(DUE_PROCESS_TABLES) <= tables
            meta = metadata.tables["meta"]
            found = conn.execute(sa.select(meta.c.value).where(meta.c.key == "format")).scalar()
            if found != FORMAT:
                raise RegisterError(f"register {reg.name}: format {found!r}, expected {FORMAT!r}")
        return reg

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Register({self.name!r})"

    # --------------------------------------------------------------------------------------
    # transactions: every database error becomes a RegisterError naming the register

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except RegisterError:
            raise
        except sa.exc.OperationalError as exc:
            text = str(exc.orig) if exc.orig is not None else str(exc)
            if "locked" in text or "busy" in text:
                text = f"busy: another process holds it (waited up to {BUSY_TIMEOUT} s: {text})"
            raise RegisterError(f"register {self.name}: cannot {what}: {text}") from None
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise RegisterError(f"register {self.name}: cannot {what}: {text}") from None

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        with self._guard(what), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        with self._guard(what), self.engine.connect() as raw:
            conn = raw.execution_options(read_only=True)
            with conn.begin():
                yield conn

    # --------------------------------------------------------------------------------------
    # writing

    def record(self, cycle: Cycle, *, force: bool = False, backdate: bool = False) -> tuple[Recorded, list[str]]:
        """Record ``cycle`` in one transaction; returns it as stored and warnings.

        Refused (RegisterError): a date already recorded for the province, unless ``force``
        (the new cycle then supersedes the earlier one; both are kept); a date earlier than
        the province's latest current cycle, unless ``backdate`` (the later current cycles are
        then marked ``needs_regeneration`` and named in the warnings)."""
        province, as_of = self._key(cycle.province, cycle.as_of)
        label = f"cycle {province} {as_of}"
        try:
            rows = {name: frame_rows(name, getattr(cycle, name), 0) for name in FIELDS}
            inputs, parameters = canonical_json(cycle.inputs or {}), canonical_json(cycle.parameters or {})
        except (ValueError, TypeError) as exc:
            raise RegisterError(f"register {self.name}: {label} not recorded: {exc}") from None
        with self._write(f"record {label}") as conn:
            if not self.is_sqlite:  # writers of one province queue; other provinces go on
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(727161, :p)"), {"p": int(province)})
            current = self._current(conn, province)
            warnings = self._check_order(current, province, as_of, force, backdate)
            last = conn.execute(
                sa.select(_cycles.c.seq, _cycles.c.hash).where(_cycles.c.province == province)
                .order_by(_cycles.c.seq.desc()).limit(1)
            ).first()  # fmt: skip
            seq, prev_hash = (last.seq + 1, last.hash) if last else (1, "")
            head = {
                "province": province, "as_of": as_of, "seq": seq, "prev_hash": prev_hash,
                "recorded_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "evalkit_version": str(cycle.evalkit_version or ""), "inputs": inputs, "parameters": parameters,
                "n_decisions": len(rows["decisions"]), "n_credit": len(rows["credit"]),
                "n_transitions": len(rows["transitions"]), "needs_regeneration": False,
            }  # fmt: skip
            head["hash"] = cycle_hash(prev_hash, head, rows)
            new_id = conn.execute(_cycles.insert().values(**head).returning(_cycles.c.id)).scalar_one()
            for name, table in TABLES.items():
                if rows[name]:
                    conn.execute(table.insert(), [{**r, "cycle_id": new_id} for r in rows[name]])
            same = [c for c in current if c.as_of == as_of]
            if same:
                conn.execute(_cycles.update().where(_cycles.c.id.in_([c.id for c in same]))
                             .values(superseded_by=new_id))  # fmt: skip
            later = [c.id for c in current if c.as_of > as_of]
            if later:
                conn.execute(_cycles.update().where(_cycles.c.id.in_(later)).values(needs_regeneration=True))
            stored = conn.execute(sa.select(_cycles).where(_cycles.c.id == new_id)).one()
        return _recorded(stored), warnings

    def _key(self, province: Any, as_of: Any) -> tuple[str, str]:
        from evalkit.data.identifiers import PROVINCE_CODES

        code = str(province)
        if code not in PROVINCE_CODES:
            raise RegisterError(f"register {self.name}: unknown province code {code!r}")
        try:
            day = parse_date(as_of, param="as_of", func="Register").strftime("%Y-%m-%d")
        except (ValueError, TypeError) as exc:
            raise RegisterError(f"register {self.name}: {exc}") from None
        return code, day

    def _check_order(self, current: list[Recorded], province: str, as_of: str, force: bool,
                     backdate: bool) -> list[str]:  # fmt: skip
        same = [c for c in current if c.as_of == as_of]
        if same and not force:
            raise RegisterError(
                f"register {self.name}: province {province} already has a cycle for {as_of} (cycle {same[0].id}, "
                f"recorded {same[0].recorded_at}); --force records a new one that supersedes it (both are kept)"
            )
        later = sorted(c.as_of for c in current if c.as_of > as_of)
        if later and not backdate:
            raise RegisterError(
                f"register {self.name}: province {province}'s latest recorded cycle is {later[-1]}; {as_of} is "
                "earlier: --backdate records it and marks the later cycles as needing regeneration"
            )
        return [
            f"province {province}: the cycle of {c.as_of} (cycle {c.id}) was computed without {as_of}: "
            f"it needs regeneration (publish it again with --force)"
            for c in sorted(current, key=lambda c: c.as_of) if c.as_of > as_of
        ]  # fmt: skip

    # --------------------------------------------------------------------------------------
    # reading

    @staticmethod
    def _current(conn: Connection, province: str) -> list[Recorded]:
        rows = conn.execute(
            sa.select(_cycles).where(_cycles.c.province == province, _cycles.c.superseded_by.is_(None))
            .order_by(_cycles.c.as_of, _cycles.c.seq)
        ).all()  # fmt: skip
        return [_recorded(r) for r in rows]

    def cycles(self, province: str | None = None, *, current: bool = False) -> list[Recorded]:
        """Every recorded cycle (of ``province``; only the current ones with ``current``), by
        province and chain order."""
        q = sa.select(_cycles).order_by(_cycles.c.province, _cycles.c.seq)
        if province is not None:
            q = q.where(_cycles.c.province == str(province))
        if current:
            q = q.where(_cycles.c.superseded_by.is_(None))
        with self._read("read its cycles") as conn:
            return [_recorded(r) for r in conn.execute(q).all()]

    def latest(self, province: str, before: Any) -> Recorded | None:
        """The latest current (not superseded) cycle of ``province`` strictly before ``before``."""
        province, day = self._key(province, before)
        with self._read(f"read province {province}") as conn:
            row = conn.execute(
                sa.select(_cycles).where(_cycles.c.province == province, _cycles.c.superseded_by.is_(None),
                                         _cycles.c.as_of < day)
                .order_by(_cycles.c.as_of.desc(), _cycles.c.seq.desc()).limit(1)
            ).first()  # fmt: skip
        return _recorded(row) if row is not None else None

    def _rows(self, name: str, cycle: Recorded | int) -> pd.DataFrame:
        cid = cycle if isinstance(cycle, int) else cycle.id
        table = TABLES[name]
        with self._read(f"read the {name} of cycle {cid}") as conn:
            rows = conn.execute(sa.select(table).where(table.c.cycle_id == cid).order_by(table.c.row)).all()
        return rows_frame(name, rows)

    def decisions(self, cycle: Recorded | int) -> pd.DataFrame:
        """The cycle's decisions, as recorded (rank ``Int64``, total_score ``float64``, dates text)."""
        return self._rows("decisions", cycle)

    def credit(self, cycle: Recorded | int) -> pd.DataFrame:
        """The cycle's credit rows, as recorded (score ``float64``; ban_until ``""`` = no end date)."""
        return self._rows("credit", cycle)

    def transitions(self, province: str, until: Any) -> pd.DataFrame:
        """Every transition recorded by the province's current cycles up to ``until``
        (inclusive), sorted by provider_id, on, recorded order; ``recorded_on`` is the as_of
        of the cycle that recorded it."""
        province, day = self._key(province, until)
        table = TABLES["transitions"]
        q = (
            sa.select(table, _cycles.c.as_of.label("recorded_on"))
            .join(_cycles, _cycles.c.id == table.c.cycle_id)
            .where(_cycles.c.province == province, _cycles.c.superseded_by.is_(None), _cycles.c.as_of <= day)
            .order_by(table.c.provider_id, table.c.on_date, _cycles.c.as_of, _cycles.c.seq, table.c.row)
        )  # fmt: skip
        with self._read(f"read the transitions of province {province}") as conn:
            rows = conn.execute(q).all()
        frame = rows_frame("transitions", rows)
        frame["recorded_on"] = pd.Series([r.recorded_on for r in rows], dtype="str")
        return frame

    def bans_in_force(self, province: str, on: Any) -> pd.DataFrame:
        """Bans in force on ``on``: for each provider, its credit row in the latest current cycle
        before ``on`` that holds it (so a ban survives a cycle the provider skipped), when that
        row is black with ``ban_until`` after ``on`` or no end date.  Columns: provider_id,
        provider_name, ban_until, decided_on, reasons (sorted by provider_id)."""
        province, day = self._key(province, on)
        table = TABLES["credit"]
        q = (
            sa.select(table.c.provider_id, table.c.provider_name, table.c.list, table.c.ban_until,
                      table.c.decided_on, table.c.reasons)
            .join(_cycles, _cycles.c.id == table.c.cycle_id)
            .where(_cycles.c.province == province, _cycles.c.superseded_by.is_(None), _cycles.c.as_of < day)
            .order_by(_cycles.c.as_of, _cycles.c.seq, table.c.row)
        )  # fmt: skip
        with self._read(f"read the bans of province {province}") as conn:
            latest = {r.provider_id: r for r in conn.execute(q).all()}  # the last one wins
        keep = [r for _, r in sorted(latest.items())
                if r.list == "black" and (r.ban_until == "" or r.ban_until > day)]  # fmt: skip
        cols = ["provider_id", "provider_name", "ban_until", "decided_on", "reasons"]
        return pd.DataFrame({c: pd.Series([getattr(r, c) for r in keep], dtype="str") for c in cols})

    def history(self, province: str, *, app: str | None = None, provider: str | None = None) -> pd.DataFrame:
        """The province's trail, superseded cycles included: one row per decision (``what``
        ``decision``, ``value`` the status), credit row (``credit``, the list) and transition
        (``transition``, ``from→to``), for ``app`` or ``provider`` (its credit, transitions and
        its apps' decisions) if given.  Columns: as_of, what, id, name, value, detail, reasons,
        cycle, superseded, needs_regeneration; sorted by as_of, chain order."""
        code = self._key(province, "2000-01-01")[0]
        with self._read(f"read the history of province {code}") as conn:
            heads = {c.id: c for c in (_recorded(r) for r in conn.execute(
                sa.select(_cycles).where(_cycles.c.province == code)).all())}  # fmt: skip
            found = register_verify.trail_rows(conn, list(heads), app=app, provider=provider)
        rows = []
        for what, r in found:
            c = heads[r.cycle_id]
            rows.append({"as_of": c.as_of, "what": what, **register_verify.describe(what, r), "cycle": c.id,
                         "superseded": c.superseded_by is not None, "needs_regeneration": c.needs_regeneration,
                         "_key": (c.as_of, c.recorded_at_seq, ("decision", "credit", "transition").index(what),
                                  r.row)})  # fmt: skip
        rows.sort(key=lambda x: x.pop("_key"))
        frame = pd.DataFrame(rows, columns=_HISTORY_COLUMNS)
        for col in _HISTORY_COLUMNS:
            if col not in ("cycle", "superseded", "needs_regeneration"):
                frame[col] = frame[col].astype("str")
        return frame.astype({"cycle": "int64", "superseded": "bool", "needs_regeneration": "bool"})

    # --------------------------------------------------------------------------------------
    # public notices (docs/due-process.md)

    def record_notice(self, province: str, as_of: Any, ends_on: Any, working_days: int, files: dict[str, str],
                      summary: dict[str, Any]) -> int:
        """Record a public notice of ``province`` on ``as_of`` running until ``ends_on``
        (inclusive); an earlier notice of the same date is marked superseded.  Returns its id."""
        province, day = self._key(province, as_of)
        end = self._key(province, ends_on)[1]
        row = {"province": province, "as_of": day, "ends_on": end, "working_days": int(working_days),
               "recorded_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
               "files": canonical_json(files), "summary": canonical_json(summary)}  # fmt: skip
        with self._write(f"record the notice of province {province} {day}") as conn:
            new_id = conn.execute(_notices.insert().values(**row).returning(_notices.c.id)).scalar_one()
            conn.execute(_notices.update().where(_notices.c.province == province, _notices.c.as_of == day,
                                                 _notices.c.id != new_id, _notices.c.superseded_by.is_(None))
                         .values(superseded_by=new_id))  # fmt: skip
        return int(new_id)

    def latest_notice(self, province: str, on: Any) -> dict[str, Any] | None:
        """The province's latest current notice issued on or before ``on``: id, province, as_of,
        ends_on, working_days, recorded_at, files and summary (decoded), or None."""
        province, day = self._key(province, on)
        if not self.has_due_process:
            return None
        with self._read(f"read the notices of province {province}") as conn:
            row = conn.execute(
                sa.select(_notices).where(_notices.c.province == province, _notices.c.superseded_by.is_(None),
                                          _notices.c.as_of <= day)
                .order_by(_notices.c.as_of.desc(), _notices.c.id.desc()).limit(1)
            ).first()  # fmt: skip
        if row is None:
            return None
        out = dict(row._mapping)
        out["files"], out["summary"] = json.loads(out["files"]), json.loads(out["summary"])
        return out

    # --------------------------------------------------------------------------------------
    # checking and importing

    def verify(self) -> list[str]:
        """Problems found (empty: intact): a broken hash chain, missing or extra rows, a cycle
        whose rows or fields changed after it was recorded, a wrong superseded mark."""
        with self._read("verify it") as conn:
            return [f"register {self.name}: {p}" for p in register_verify.problems(conn)]

    def import_published(self, out: str | Path) -> list[Recorded]:
        """Record the province folders published under ``out`` before the register existed
        (``OUT/<date>/<code>/``), dates in order; a cycle already recorded is skipped.  Every
        file is read and checked first: a damaged one is a RegisterError naming it, and then
        nothing is recorded."""
        from evalkit.data.register_import import read_published

        found = read_published(Path(out))
        done = {(c.province, c.as_of) for c in self.cycles(current=True)}
        seen: dict[str, set[tuple[str, ...]]] = {}
        recorded = []
        for cycle in found:
            if cycle.province not in seen:
                old = self.transitions(cycle.province, _FOREVER)
                seen[cycle.province] = {_transition_key(r) for r in old.to_dict("records")}
            keys = [_transition_key(r) for r in cycle.transitions.to_dict("records")]
            fresh = [k not in seen[cycle.province] for k in keys]
            seen[cycle.province].update(keys)
            if (cycle.province, cycle.as_of) in done:
                continue
            trans = cycle.transitions.loc[fresh].reset_index(drop=True)
            cycle = Cycle(cycle.province, cycle.as_of, cycle.decisions, cycle.credit, trans, cycle.inputs,
                          cycle.parameters, cycle.evalkit_version)  # fmt: skip
            recorded.append(self.record(cycle)[0])
        return recorded


def _transition_key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(row.get(c, "")) for c in ("provider_id", "on", "from", "to", "reasons"))


def _recorded(row: Any) -> Recorded:
    return Recorded(id=int(row.id), province=row.province, as_of=row.as_of, recorded_at_seq=int(row.seq),
                    superseded_by=None if row.superseded_by is None else int(row.superseded_by),
                    needs_regeneration=bool(row.needs_regeneration), hash=row.hash,
                    recorded_at=row.recorded_at)  # fmt: skip
