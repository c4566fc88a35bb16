"""App pages (issue 15): time and size of ``write_app_pages`` for one province, after the
evaluation (which is not timed).

Usage::

    .venv/bin/python benchmarks/bench_app_pages.py [--data data/sample] [--province 44] [--lang zh]

On the national dataset (``benchmarks/national.py`` writes it to ``/tmp/evalkit-national``) pass
``--data /tmp/evalkit-national``: only the province's rows are read.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-09-01"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "sample"))
    ap.add_argument("--province", default="44")
    ap.add_argument("--lang", default="zh", choices=["zh", "en"])
    args = ap.parse_args()

    import evalkit
    from evalkit.evaluate import pipeline
    from evalkit.publish.app_pages import write_app_pages

    t0 = time.perf_counter()
    ds = evalkit.load_dataset(args.data, as_of=AS_OF, provinces=[args.province])
    res = pipeline.evaluate(ds, AS_OF, provinces=[args.province]).province(args.province)
    print(f"evaluated in {time.perf_counter() - t0:.1f} s: {len(res.decisions):,} candidates, "
          f"{len(res.evidence):,} criterion rows")
    import evalkit.publish.render  # noqa: F401  (imported once per publish anyway: not timed)
    from evalkit.publish.app_pages import _shipped_names

    _shipped_names()  # the rubric's names, loaded once per process
    folder = Path(tempfile.mkdtemp(prefix="evalkit-app-pages-"))
    try:
        t0 = time.perf_counter()
        n = len(write_app_pages(res, folder, args.lang))
        wall = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in folder.rglob("*.html"))
        print(f"| {args.province} | {n:,} | {wall:.1f} | {wall / n * 1000:.1f} | {size / 2**20:.1f} | "
              f"{size / n / 1024:.1f} |")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
