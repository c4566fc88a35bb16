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
timeout: the second writer waits instead of failing).  DuckDB is an analytical engine: one
writing *process* per file (a second process cannot even open it while the first holds it:
"Could not set lock on file", DuckDB 2.0.1: the concurrent-publish case), and a new compiled
dependency for no gain at this size.

Concurrency.  SQLite: WAL journal, every write transaction ``BEGIN IMMEDIATE`` (TECH-NOTES
"Concurrent writers": a deferred ``BEGIN`` followed by a read and a write fails at once with
"database is locked").  PostgreSQL: READ COMMITTED plus a transaction-level advisory lock
per province, so two writers of one province queue while different provinces write at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from evalkit.data import register_verify
from evalkit.data.register_engine import (
    BUSY_TIMEOUT,
    database_url,
    empty_engine,
    is_url,
    register_target,
    sqlite_engine,
    sqlite_reader,
)
from evalkit.data.register_schema import (
    DUE_PROCESS_TABLES,
    FIELDS,
    FORMAT,
    OPTIONAL_ROWS,
    TABLES,
    Cycle,
    Recorded,
    RegisterError,
    canonical_json,
    cycle_frame,
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
_FOREVER = "9999-12-31"
_HISTORY_COLUMNS = ["as_of", "what", "id", "name", "value", "detail", "reasons", "cycle", "superseded",
                    "needs_regeneration", "rank", "total_score", "listed_on"]  # fmt: skip


class Register:
    """A register of cycles (see the module's docstring); open it with :meth:`open`."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.is_sqlite = engine.dialect.name == "sqlite"
        #: A SQLite file not created yet (``open(..., lazy=True)``): created by the first write.
        self.pending: Path | None = None
        self.has_due_process = True

    # --------------------------------------------------------------------------------------
    # opening

    @classmethod
    def open(cls, target: str | Path, *, create: bool = True, lazy: bool = False,
             read_only: bool = False) -> Register:
        """Open (and with ``create`` make) the register of ``target``: an output folder (its
        ``register.sqlite``), a ``.sqlite`` file, or a URL (``sqlite:///…``,
        ``postgresql://…`` / ``postgresql+psycopg://…``).  ``create=False`` refuses a register
        that does not exist yet (RegisterError).

        ``lazy`` (with ``create``): a SQLite file that does not exist yet is not created now but
        by the first :meth:`record`; until then the register reads as empty (or as the file,
        once another process has made it).  A publish or run that fails before recording
        anything thus leaves no empty register behind.

        ``read_only`` (implies ``create=False``): nothing is written, not even a SQLite file's
        journal mode, so that a register on a read-only disk or an archived copy can be
        verified and read (``evalkit register verify|history``)."""
        create = create and not read_only
        if is_url(target):
            url = database_url(str(target))
            if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
                return cls._open_file(Path(url.database), create, lazy, read_only)
            name = url.render_as_string(hide_password=True)
            try:
                engine = sa.create_engine(url)
            except (sa.exc.ArgumentError, ImportError) as exc:
                raise RegisterError(f"register {name}: cannot use this database ({exc})") from None
            return cls._ready(cls(engine, name), create, read_only)
        path = Path(target)
        if path.suffix.lower() not in (".sqlite", ".sqlite3", ".db"):
            path = path / DEFAULT_NAME
        return cls._open_file(path, create, lazy, read_only)

    @classmethod
    def _open_file(cls, path: Path, create: bool, lazy: bool = False, read_only: bool = False) -> Register:
        if path.is_dir():
            raise RegisterError(f"register {path}: a folder, not a SQLite file (such as {path / DEFAULT_NAME})")
        if not path.is_file():
            if not create:
                raise RegisterError(f"no register at {path} (`evalkit register import` builds one from "
                                    "published folders; a publish makes one)")  # fmt: skip
            if lazy:
                reg = cls._ready(cls(empty_engine(), str(path)), True)
                reg.pending = path
                return reg
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegisterError(f"register {path}: cannot create its folder: {exc}") from None
        if read_only:
            return cls._ready(cls(sqlite_reader(path), str(path)), False, True)
        url = sa.URL.create("sqlite", database=str(path))
        return cls._ready(cls(sqlite_engine(url), str(path)), create)

    def _materialise(self, *, create: bool) -> None:
        """A lazy register's file: opened once it exists, or (``create``) created now."""
        path = self.pending
        if path is None or not (create or path.is_file()):
            return
        real = self._open_file(path, create)
        self.engine.dispose()
        self.engine, self.pending = real.engine, None

    @classmethod
    def _ready(cls, reg: Register, create: bool, read_only: bool = False) -> Register:
        with (reg._read if read_only else reg._write)("open it") as conn:
            if create:
                if not reg.is_sqlite:  # two processes creating the tables at once would collide
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(727160)"))
                metadata.create_all(conn)
                meta = metadata.tables["meta"]
                if conn.execute(sa.select(meta.c.value).where(meta.c.key == "format")).first() is None:
                    conn.execute(meta.insert().values(key="format", value=FORMAT))
            tables = set(sa.inspect(conn).get_table_names())
            reg.has_school_alerts = "school_alerts" in tables  # a register made before issue 18 may lack it
            optional = OPTIONAL_ROWS | set(DUE_PROCESS_TABLES)  # an older register may lack these
            if not set(metadata.tables) - optional <= tables:
                raise RegisterError(f"register {reg.name}: not an evalkit register (tables missing: "
                                    f"{', '.join(sorted(set(metadata.tables) - optional - tables))})")  # fmt: skip
            reg.has_due_process = set(DUE_PROCESS_TABLES) <= tables
            meta = metadata.tables["meta"]
            found = conn.execute(sa.select(meta.c.value).where(meta.c.key == "format")).scalar()
            if found != FORMAT:
                raise RegisterError(f"register {reg.name}: format {found!r}, expected {FORMAT!r} (move it aside "
                                    "and rebuild it from the published sets: `evalkit register import OUT`)")
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
        self._materialise(create=True)
        with self._guard(what), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        self._materialise(create=False)
        with self._guard(what), self.engine.connect() as raw:
            conn = raw.execution_options(read_only=True)
            with conn.begin():
                yield conn

    # --------------------------------------------------------------------------------------
    # writing

    def record(self, cycle: Cycle, *, force: bool = False, backdate: bool = False,
               complete: bool = False) -> tuple[Recorded, list[str]]:
        """Record ``cycle`` in one transaction; returns it as stored and warnings.

        Refused (RegisterError): a date already recorded for the province, unless ``force``
        (the new cycle then supersedes the earlier one; both are kept); a date earlier than
        the province's latest current cycle, unless ``backdate`` (the later current cycles are
        then marked ``needs_regeneration`` and named in the warnings).

        ``complete`` (without ``force``): a current cycle of the same province and date that
        records exactly this cycle (same input fingerprint, parameters and rows) is returned as
        it is, with a warning, and nothing is recorded: the command whose files were not
        written after its cycle was recorded (a full disk, a kill) completes when run again.
        A same-date cycle that records anything else is still refused."""
        province, as_of = self._key(cycle.province, cycle.as_of)
        label = f"cycle {province} {as_of}"
        try:
            rows = {name: frame_rows(name, cycle_frame(cycle, name), 0) for name in FIELDS}
            inputs, parameters = canonical_json(cycle.inputs or {}), canonical_json(cycle.parameters or {})
        except (ValueError, TypeError) as exc:
            raise RegisterError(f"register {self.name}: {label} not recorded: {exc}") from None
        with self._write(f"record {label}") as conn:
            if not self.is_sqlite:  # writers of one province queue; other provinces go on
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(727161, :p)"), {"p": int(province)})
            current = self._current(conn, province)
            same = [c for c in current if c.as_of == as_of]
            if same and complete and not force:
                found = self._same(conn, same[-1], inputs, parameters, rows)
                if found is not None:
                    return found, [f"province {province} {as_of}: cycle {found.id} (recorded {found.recorded_at}) "
                                   "holds this result already; its files are written now"]  # fmt: skip
                raise RegisterError(
                    f"register {self.name}: province {province} already has a cycle for {as_of} (cycle "
                    f"{same[-1].id}, recorded {same[-1].recorded_at}) from other inputs or parameters, and "
                    "its files were not published; --force records a new one that supersedes it (both are kept)")
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
            if same:
                conn.execute(_cycles.update().where(_cycles.c.id.in_([c.id for c in same]))
                             .values(superseded_by=new_id))  # fmt: skip
            later = [c.id for c in current if c.as_of > as_of]
            if later:
                conn.execute(_cycles.update().where(_cycles.c.id.in_(later)).values(needs_regeneration=True))
            stored = conn.execute(sa.select(_cycles).where(_cycles.c.id == new_id)).one()
        return _recorded(stored), warnings

    @staticmethod
    def _same(conn: Connection, cycle: Recorded, inputs: str, parameters: str,
              rows: dict[str, list[dict[str, Any]]]) -> Recorded | None:  # fmt: skip
        """``cycle`` if it records ``inputs``, ``parameters`` and ``rows`` exactly, else None."""
        head = conn.execute(sa.select(_cycles).where(_cycles.c.id == cycle.id)).one()
        if (head.inputs, head.parameters) != (inputs, parameters):
            return None
        for name, table in TABLES.items():
            stored = conn.execute(sa.select(table).where(table.c.cycle_id == cycle.id).order_by(table.c.row)).all()
            mine = [{k: v for k, v in r.items() if k != "cycle_id"} for r in rows[name]]
            if [{k: v for k, v in r._mapping.items() if k != "cycle_id"} for r in stored] != mine:
                return None
        return cycle

    def recorded_as(self, cycle: Cycle) -> Recorded | None:
        """The current cycle of ``cycle``'s province and date if it records exactly ``cycle``
        (same input fingerprint, parameters and rows), else None."""
        province, as_of = self._key(cycle.province, cycle.as_of)
        try:
            rows = {name: frame_rows(name, getattr(cycle, name), 0) for name in FIELDS}
            inputs, parameters = canonical_json(cycle.inputs or {}), canonical_json(cycle.parameters or {})
        except (ValueError, TypeError):
            return None
        with self._read(f"read province {province}") as conn:
            same = [c for c in self._current(conn, province) if c.as_of == as_of]
            return self._same(conn, same[-1], inputs, parameters, rows) if same else None

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
        stale = [c for c in current if c.as_of < as_of][-1:]  # the cycle this one builds on
        return [
            f"province {province}: the cycle of {c.as_of} (cycle {c.id}) was computed without {as_of}: "
            f"it needs regeneration (publish it again with --force)"
            for c in sorted(current, key=lambda c: c.as_of) if c.as_of > as_of
        ] + [f"province {province}: {as_of} builds on the cycle of {c.as_of} (cycle {c.id}), which needs "
             f"regeneration after a backdated cycle: publish {c.as_of} again with --force, then {as_of}"
             for c in stale if c.needs_regeneration]  # fmt: skip

    # --------------------------------------------------------------------------------------
    # reading

    @staticmethod
    def _current(conn: Connection, province: str) -> list[Recorded]:
        return [_recorded(r) for r in conn.execute(
            sa.select(_cycles).where(_cycles.c.province == province, _cycles.c.superseded_by.is_(None))
            .order_by(_cycles.c.as_of, _cycles.c.seq)).all()]  # fmt: skip

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

    def school_alerts(self, cycle: Recorded | int) -> pd.DataFrame:
        """The cycle's withdrawal alerts of schools (dates text; issue 18): empty for a cycle without."""
        if not getattr(self, "has_school_alerts", True):
            return rows_frame("school_alerts", [])
        return self._rows("school_alerts", cycle)

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
        provider_name, ban_until, decided_on, reasons, grade, and legal_rep and province_code
        where the cycle recorded them (``""`` otherwise), sorted by provider_id: what a cycle
        needs to publish the ban of a provider absent from its input."""
        province, day = self._key(province, on)
        table = TABLES["credit"]
        q = (
            sa.select(table.c.provider_id, table.c.provider_name, table.c.list, table.c.ban_until,
                      table.c.decided_on, table.c.reasons, table.c.grade, table.c.extra)
            .join(_cycles, _cycles.c.id == table.c.cycle_id)
            .where(_cycles.c.province == province, _cycles.c.superseded_by.is_(None), _cycles.c.as_of < day)
            .order_by(_cycles.c.as_of, _cycles.c.seq, table.c.row)
        )  # fmt: skip
        with self._read(f"read the bans of province {province}") as conn:
            latest = {r.provider_id: r for r in conn.execute(q).all()}  # the last one wins
        keep = [r for _, r in sorted(latest.items())
                if r.list == "black" and (r.ban_until == "" or r.ban_until > day)]  # fmt: skip
        cols = ["provider_id", "provider_name", "ban_until", "decided_on", "reasons", "grade"]
        out = {c: pd.Series([getattr(r, c) for r in keep], dtype="str") for c in cols}
        extras = [json.loads(r.extra) if r.extra else {} for r in keep]
        for c in ("legal_rep", "province_code"):
            out[c] = pd.Series([str(e.get(c) or "") for e in extras], dtype="str")
        return pd.DataFrame(out)

    def history(self, province: str, *, app: str | None = None, provider: str | None = None) -> pd.DataFrame:
        """The province's trail, superseded cycles included, oldest first.

        One row per decision (``what`` ``decision``, ``value`` the status), credit row
        (``credit``, the list) and transition (``transition``, ``from→to``) of every cycle of the
        province; only ``app``'s decisions, or ``provider``'s credit rows, transitions and its
        apps' decisions, if given.  Sorted by as_of, then chain order.

        Columns: ``as_of`` (the cycle's date), ``what``, ``id`` (app or provider), ``name``,
        ``value``, ``detail`` (a readable summary), ``reasons`` (``;``-joined codes), ``cycle``
        (its id), ``superseded`` and ``needs_regeneration`` (its marks), and for decisions
        ``rank`` (``Int64``, missing when not ranked), ``total_score`` (``float64``) and
        ``listed_on`` (``YYYY-MM-DD``, ``""`` when not on the list); text columns are ``str``.

        An app's page: ``history(code, app=ID)`` gives one row per cycle that decided the app,
        with the cycle's date, the status, rank, score, reasons and ``listed_on`` (the date it
        was first listed, kept while it stays on the list); keep the rows with ``superseded``
        false for the current record (a ``--force`` republish supersedes the earlier cycle of
        its date), and note the ones with ``needs_regeneration`` (made stale by a backdate).
        """
        code = self._key(province, "2000-01-01")[0]
        with self._read(f"read the history of province {code}") as conn:
            heads = {c.id: c for c in (_recorded(r) for r in conn.execute(
                sa.select(_cycles).where(_cycles.c.province == code)).all())}  # fmt: skip
            found = register_verify.trail_rows(conn, list(heads), app=app, provider=provider)
        rows = []
        for what, r in found:
            c = heads[r.cycle_id]
            decided = what == "decision"
            rows.append({"as_of": c.as_of, "what": what, **register_verify.describe(what, r), "cycle": c.id,
                         "superseded": c.superseded_by is not None, "needs_regeneration": c.needs_regeneration,
                         "rank": r.rank if decided else None, "total_score": r.total_score if decided else None,
                         "listed_on": r.listed_on if decided else "",
                         "_key": (c.as_of, c.recorded_at_seq, ("decision", "credit", "transition").index(what),
                                  r.row)})  # fmt: skip
        rows.sort(key=lambda x: x.pop("_key"))
        frame = pd.DataFrame(rows, columns=_HISTORY_COLUMNS)
        for col in _HISTORY_COLUMNS:
            if col not in ("cycle", "superseded", "needs_regeneration", "rank", "total_score"):
                frame[col] = frame[col].astype("str")
        return frame.astype({"cycle": "int64", "superseded": "bool", "needs_regeneration": "bool", "rank": "Int64",
                             "total_score": "float64"})

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

    def verify(self, published: str | Path | None = None) -> list[str]:
        """Problems found (empty: intact): a broken hash chain, missing or extra rows, a cycle
        whose rows or fields changed after it was recorded, a wrong superseded mark; with
        ``published`` (an output folder), also every published set there whose
        ``provenance.json`` names a cycle the register does not hold as published (a deleted
        latest cycle, a truncated or rebuilt register: :meth:`check_published`)."""
        with self._read("verify it") as conn:
            found = [f"register {self.name}: {p}" for p in register_verify.problems(conn)]
        return found + (self.check_published(published)[0] if published is not None else [])

    def province_problems(self, province: str) -> list[str]:
        """The problems of province ``province``'s chain (:meth:`verify` for its cycles only):
        checked before a new cycle of it builds on them."""
        code = self._key(province, "2000-01-01")[0]
        with self._read(f"check the record of province {code}") as conn:
            return [f"register {self.name}: {p}" for p in register_verify.problems(conn, code)]

    def check_published(self, out: str | Path) -> tuple[list[str], int, int]:
        """(problems, sets checked, sets rendering a cycle of the register before it was rebuilt
        from them) of the province folders published under ``out`` against the
        register: each ``provenance.json``'s ``register_cycle`` (id, seq, hash) must be a cycle
        held here, of that province and date, with that chained hash, not superseded.  Sets
        published before the register (no ``register_cycle``) are not checked."""
        with self._read("check the published sets against it") as conn:
            return register_verify.published_problems(conn, Path(out))

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
