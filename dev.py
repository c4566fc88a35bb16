#!/usr/bin/env python3
"""Set up the project's virtual environment when needed, then run a task.

    python3 dev.py publish   # publish every province of data/sample into reports/
    python3 dev.py test      # the whole test suite (on min(cores, 4) pytest-xdist workers)
    python3 dev.py shell     # print the path of the environment's python

Needs only Python 3.11+: the first call creates `.venv` and installs evalkit with its
development dependencies; later calls reuse it until pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".evalkit-installed"


def _requirements_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_env() -> None:
    """Create the venv and install `.[dev]` unless the stamp matches pyproject.toml."""
    if sys.version_info < (3, 11):
        sys.exit(f"evalkit needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = _requirements_hash()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    print("Installing evalkit and its dependencies (first run only) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def _workers(args: list[str]) -> list[str]:
    """pytest-xdist's options for the suite unless ``args`` choose (``-n``, ``-p no:xdist``):
    one worker per core up to 4, the tests grouped as conftest.py says (``--dist loadgroup``)."""
    n = min(os.cpu_count() or 1, 4)
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist" for a in args)
    return [] if chosen or n < 2 else ["-n", str(n), "--dist", "loadgroup"]


def main(argv: list[str]) -> int:
    task, rest = (argv[0], argv[1:]) if argv else ("test", [])
    ensure_env()
    if task == "publish":
        cmd = [str(BIN / "evalkit"), "publish", "--data", "data/sample", "--out", "reports",
               "--force", *rest]
    elif task == "test":
        cmd = [str(PYTHON), "-m", "pytest", *_workers(rest), *rest]
    elif task == "shell":
        print(PYTHON)
        return 0
    else:
        print(__doc__)
        return 2
    return subprocess.run(cmd, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
