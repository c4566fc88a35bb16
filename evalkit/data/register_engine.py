"""How the register is reached: the target (an output folder or a URL) and the SQLite engine.

SQLite: WAL journal, ``synchronous=FULL``, every write transaction ``BEGIN IMMEDIATE`` (TECH-NOTES
"Concurrent writers"); see :mod:`evalkit.data.register` for why SQLite.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from evalkit.data.register_schema import RegisterError

__all__ = ["BUSY_TIMEOUT", "database_url", "empty_engine", "is_url", "register_target", "sqlite_engine",
           "sqlite_reader", "wal"]

#: Seconds a writer waits for another one (SQLite busy timeout).
BUSY_TIMEOUT = 30


def register_target(out: str | Path | None, url: str | None = None) -> str | Path:
    """What :meth:`Register.open` should open: ``url`` if given, else the folder ``out``."""
    if url:
        return url
    if out is None:
        raise RegisterError("no register: give an output folder or --register URL")
    if re.match(r"^[a-z][a-z0-9+]*:/", str(out)) and not Path(out).exists():  # "scheme://…" made a Path
        raise RegisterError("the output folder looks like a database URL: give a URL with --register "
                            "(sqlite:///FILE or postgresql://user@host:port/db)")
    return Path(out)


def database_url(target: str) -> sa.URL:
    """``target`` as the URL of a SQLite or PostgreSQL register (``postgresql://`` run through
    psycopg 3); RegisterError for anything else, the password never shown."""
    try:
        url = sa.make_url(target)
    except sa.exc.ArgumentError as exc:
        raise RegisterError(f"register {target!r}: not a database URL ({exc})") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if not url.drivername.startswith(("sqlite", "postgresql")):
        raise RegisterError(f"register {url.render_as_string(hide_password=True)}: a register is a SQLite file "
                            f"(sqlite:///FILE) or a PostgreSQL database (postgresql://…), not {url.drivername}")
    return url


def is_url(target: str | Path) -> bool:
    """Whether ``target`` is a database URL (``sqlite:///…``, ``postgresql://…``), not a folder."""
    return isinstance(target, str) and re.match(r"^[a-z][a-z0-9+]*://", target) is not None


def wal(dbapi_conn: Any) -> None:
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


def sqlite_reader(path: Path) -> Engine:
    """A read-only SQLite engine: nothing is written into the file (SQLite makes the WAL index
    beside it, ``-shm`` and an empty ``-wal``, where the folder can be written: a reader needs
    it while a writer may be at work).  A register in a folder that cannot be written (a
    read-only disk, an archived copy) has no WAL index to share, and nobody can be writing it:
    it is then opened as immutable."""
    uri = Path(path).resolve().as_uri()

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT, check_same_thread=False)
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # opens the file (and its WAL index)
            return conn
        except sqlite3.OperationalError:
            conn.close()
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False)

    engine = sa.create_engine("sqlite://", creator=connect)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event below issues BEGIN itself

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def empty_engine() -> Engine:
    """An in-memory SQLite database (one shared connection): a lazy register's empty stand-in."""
    from sqlalchemy.pool import StaticPool

    return sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})


def sqlite_engine(url: sa.URL) -> Engine:
    """A SQLite engine: WAL, ``synchronous=FULL``, foreign keys, and every write transaction
    ``BEGIN IMMEDIATE`` (a second writer waits up to :data:`BUSY_TIMEOUT` seconds)."""
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event below issues BEGIN itself
        wal(dbapi_conn)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")

    return engine
