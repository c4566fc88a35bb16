"""Publishing speed: the naive route (papermill CLI, then nbconvert CLI, per notebook) vs
``evalkit publish`` (national evaluation once, in-process conversion, one reused kernel per
worker), measured side by side on the committed sample.

The naive route runs on a few provinces and is extrapolated linearly to all 32 (plus the
national page); ``evalkit publish`` runs on all 32.  Usage::

    .venv/bin/python benchmarks/bench_publish.py [--naive-provinces 11,44] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATA = ROOT / "data" / "sample"
AS_OF = "2026-09-01"
REPORTS = ["recommendation", "credit"]


def naive(codes: list[str], work: Path) -> float:
    """papermill CLI + nbconvert CLI for every report notebook of ``codes``; seconds."""
    start = time.perf_counter()
    for code in codes:  # provinces
        out = work / code
        out.mkdir(parents=True, exist_ok=True)
        for name in REPORTS:
            executed = out / f"{name}.ipynb"
            subprocess.run(
                [str(BIN / "papermill"), str(ROOT / "notebooks" / f"{name}.ipynb"), str(executed),
                 "-k", "python3", "-r", "province", code, "-r", "as_of", AS_OF,
                 "-r", "data_dir", str(DATA), "-r", "out_dir", str(out), "-r", "lang", "zh",
                 "--no-progress-bar"], check=True, capture_output=True)
            subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                            str(executed)], check=True, capture_output=True)
    return time.perf_counter() - start


def evalkit_publish(work: Path, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "evalkit"), "publish", "--data", str(DATA), "--as-of", AS_OF,
                    "--provinces", "all", "--workers", str(workers), "--out", str(work), "--quiet"],
                   check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--naive-provinces", default="11,44")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    codes = args.naive_provinces.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        t_naive = naive(codes, Path(tmp) / "naive")
        t_pub = evalkit_publish(Path(tmp) / "pub", args.workers)
        shutil.rmtree(tmp, ignore_errors=True)
    per_province = t_naive / len(codes)
    naive_32 = per_province * 33  # 32 provinces + the national page (about one province's cost)
    print("| route | provinces | seconds |\n|---|---|---|")
    print(f"| naive: papermill CLI + nbconvert CLI per notebook (measured) | {len(codes)} | {t_naive:.1f} |")
    print(f"| naive, extrapolated (32 provinces + index) | 32 | {naive_32:.0f} |")
    print(f"| `evalkit publish --workers {args.workers}` (measured) | 32 | {t_pub:.1f} |")
    print(f"\nratio evalkit / naive: {t_pub / naive_32:.2f} (target ≤ 0.25)")


if __name__ == "__main__":
    main()
