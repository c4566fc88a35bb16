"""ruff passes on the package, the tests and the benchmarks (rules in pyproject.toml:
pyflakes, pycodestyle errors and warnings, import sorting, bugbear; lines up to 120)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_passes() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "evalkit", "tests", "benchmarks",
                           "conftest.py", "dev.py"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
