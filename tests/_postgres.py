"""A real PostgreSQL server for the tests, started in a temporary folder on a free port.

Debian's ``postgresql`` package (installed by ``.ci/run``) gives the binaries under
``/usr/lib/postgresql/<version>/bin``; ``initdb`` refuses root, so as root the cluster is
made and run as the ``postgres`` user (TECH-NOTES "PostgreSQL").  Where no server can be
started the test is skipped with the reason, or fails under CI (``_ci.require``) and under
``.ci/run`` (which sets ``EVALKIT_REQUIRE_POSTGRES=1``).

    with postgres_server() as server:      # ServerInfo(url=..., ...)
        url = server.new_database("t1")    # postgresql+psycopg://evalkit@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _ci import require as _ci_require


def require(ok: bool, reason: str) -> None:
    """Nothing if ``ok``; else skip, or fail under CI or ``EVALKIT_REQUIRE_POSTGRES=1``."""
    if not ok and os.environ.get("EVALKIT_REQUIRE_POSTGRES", "").strip() not in ("", "0"):
        pytest.fail(f"{reason} (required: EVALKIT_REQUIRE_POSTGRES is set)", pytrace=False)
    _ci_require(ok, reason)


@dataclass
class ServerInfo:
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://evalkit@127.0.0.1:{self.port}/postgres"

    def new_database(self, name: str) -> str:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        engine.dispose()
        return f"postgresql+psycopg://evalkit@127.0.0.1:{self.port}/{name}"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(args: list[str], as_postgres: bool) -> subprocess.CompletedProcess:
    if as_postgres:
        cmd = " ".join(f"'{a}'" for a in args)
        args = ["su", "postgres", "-s", "/bin/sh", "-c", cmd]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


@contextlib.contextmanager
def postgres_server() -> Iterator[ServerInfo]:
    """Start a throwaway server (skip, or fail under CI, if it cannot start); stop it after."""
    bindir = _bin_dir()
    require(bindir is not None, "PostgreSQL is not installed (Debian package postgresql: no initdb found)")
    assert bindir is not None
    as_postgres = os.geteuid() == 0
    if as_postgres:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            require(False, "running as root and there is no 'postgres' user to run initdb as")
    folder = Path(tempfile.mkdtemp(prefix="evalkit-pg-"))
    data, sock, log = folder / "data", folder / "sock", folder / "server.log"
    sock.mkdir()
    if as_postgres:
        for p in (folder, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    started = False
    try:
        init = _as_server_user([str(bindir / "initdb"), "-D", str(data), "-E", "UTF8", "--locale=C.UTF-8",
                                "--auth=trust", "-U", "evalkit"], as_postgres)  # fmt: skip
        require(init.returncode == 0, f"initdb failed: {init.stderr.strip()[-400:]}")
        start = _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
                                 f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"], as_postgres)
        started = start.returncode == 0
        text = log.read_text(errors="replace")[-600:] if log.exists() else ""
        require(started, f"the PostgreSQL server did not start: {start.stderr.strip()[-300:]} {text}")
        yield ServerInfo(port, folder)
    finally:
        if started:
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], as_postgres)
        shutil.rmtree(folder, ignore_errors=True)
