"""Arrow's allocator (evalkit.memory): a load puts Arrow on the C library's malloc, measured
faster and leaner at national scale than the bundled mimalloc; a pool the user chose stays."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
PROBE = ("import evalkit, pyarrow as pa; evalkit.load_dataset({path!r}, as_of='2026-09-01', provinces=['11']); "
         "print(pa.default_memory_pool().backend_name)")


def _pool_after_a_load(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    res = subprocess.run([sys.executable, "-c", PROBE.format(path=str(SAMPLE))], capture_output=True, text=True,
                         env={**clean, **env}, check=True)
    return res.stdout.strip().splitlines()[-1]


def test_a_load_puts_arrow_on_the_system_allocator() -> None:
    assert _pool_after_a_load() == "system"


def test_the_pool_the_user_chose_stays() -> None:
    assert _pool_after_a_load(ARROW_DEFAULT_MEMORY_POOL="mimalloc") == "mimalloc"
