"""The register's engine: two processes writing one database file at once, SQLite (standard
library, WAL + ``BEGIN IMMEDIATE``) vs DuckDB (not a dependency: measured only where it is
installed), and the register's own cost at national size.

Usage::

    .venv/bin/python benchmarks/bench_register.py

Measured 2026-12-02 (2 cores, DuckDB 2.0.1 in a throwaway venv): SQLite, both writers commit
(20 transactions of 500 rows each) in 0.07 s; DuckDB, the second process cannot open the file
("Could not set lock on file …: Conflicting lock is held"). The register: 32 provinces of
1,600 apps and 801 providers recorded in 2.7 s, verified in 2.4 s (docs/register.md).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROWS = [(i, "x" * 40) for i in range(500)]


def _duckdb(path: str, code: str, go: object, q: object) -> None:
    import duckdb

    go.wait()
    try:
        con = duckdb.connect(path)
        con.execute("CREATE TABLE IF NOT EXISTS t (p TEXT, i INT, v TEXT)")
        for _ in range(20):
            con.execute("BEGIN")
            con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(code, *r) for r in ROWS])
            con.execute("COMMIT")
        con.close()
        q.put((code, "ok"))
    except Exception as exc:  # the measurement is what fails
        q.put((code, f"{type(exc).__name__}: {str(exc)[:120]}"))


def _sqlite(path: str, code: str, go: object, q: object) -> None:
    go.wait()
    try:
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE IF NOT EXISTS t (p TEXT, i INT, v TEXT)")
        for _ in range(20):
            con.execute("BEGIN IMMEDIATE")
            con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(code, *r) for r in ROWS])
            con.execute("COMMIT")
        con.close()
        q.put((code, "ok"))
    except Exception as exc:
        q.put((code, f"{type(exc).__name__}: {str(exc)[:120]}"))


def two_writers() -> None:
    ctx = mp.get_context("spawn")
    engines = [("sqlite", _sqlite)]
    try:
        import duckdb  # noqa: F401

        engines.append(("duckdb", _duckdb))
    except ImportError:
        print("duckdb: not installed, not measured")
    for name, fn in engines:
        path = os.path.join(tempfile.mkdtemp(), "r.db")
        go, q = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=fn, args=(path, code, go, q)) for code in ("11", "44")]
        for p in procs:
            p.start()
        time.sleep(1)
        t = time.perf_counter()
        go.set()
        for p in procs:
            p.join()
        print(f"{name}: two writers {time.perf_counter() - t:.2f} s: {sorted(q.get() for _ in procs)}")


def national() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_register import make_cycle

    from evalkit.data.identifiers import PROVINCE_CODES
    from evalkit.data.register import Register

    reg = Register.open(Path(tempfile.mkdtemp()))
    cycles = [make_cycle(code, "2026-09-01", n=1600, seed=i) for i, code in enumerate(PROVINCE_CODES)]
    t = time.perf_counter()
    for c in cycles:
        reg.record(c)
    rec = time.perf_counter() - t
    t = time.perf_counter()
    assert reg.verify() == []
    ver = time.perf_counter() - t
    print(f"register: 32 provinces x 1,600 apps recorded in {rec:.2f} s, verified in {ver:.2f} s")


if __name__ == "__main__":
    two_writers()
    national()
