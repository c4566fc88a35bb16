"""App details (issue 15): size and write time of a province's app details, and the time to
interactive of its viewer on a cold first load in Chromium, after the evaluation (not timed).

Usage::

    .venv/bin/python benchmarks/bench_app_pages.py [--data data/sample] [--province 44|all] [--lang zh]
        [--loads 10]

On the national dataset (``python -m evalkit generate /tmp/evalkit-national --scale national
--format parquet``, or ``benchmarks/national.py``) pass ``--data /tmp/evalkit-national``: only
the province's rows are read (province 44 is the largest: 5,340 candidates).  ``--province all``
evaluates every province once and writes the details of all of them (the publish's share),
reporting the total; the browser then loads the largest province's viewer.

Time to interactive = ``performance.mark("ek-app-ready")`` of ``assets/apps.js`` (set when the
app's details are on the page) in a fresh browser context per load (nothing cached), Debian
Chromium via Playwright with the flags of TECH-NOTES.md.  It opens the app whose data file is
the province's largest, then ``--loads`` apps spread over the province.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-09-01"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # as tests/conftest.py


def _tti(folder: Path, code: str, app_ids: list[str]) -> list[float]:
    """Seconds from navigation to the app's details on the page, one fresh context per app."""
    from playwright.sync_api import sync_playwright

    from evalkit.publish.app_pages import app_href

    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for app in app_ids:
                ctx = browser.new_context()
                page = ctx.new_page()
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
                page.goto((folder / code).as_uri() + "/" + app_href(app))
                page.wait_for_selector("#ek-app[data-state=ready]", state="attached")
                ms = page.evaluate("() => performance.getEntriesByName('ek-app-ready')[0].startTime")
                out.append(ms / 1000)
                ctx.close()
        finally:
            browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "sample"))
    ap.add_argument("--province", default="44")
    ap.add_argument("--lang", default="zh", choices=["zh", "en"])
    ap.add_argument("--loads", type=int, default=10, help="cold loads of the viewer (0: none)")
    args = ap.parse_args()

    import evalkit
    from evalkit.evaluate import pipeline
    from evalkit.publish.app_pages import APPS_DIR, app_shard, app_shards, app_slug, write_app_pages
    from evalkit.publish.assets import write_assets

    t0 = time.perf_counter()
    codes = None if args.province == "all" else [args.province]
    ds = evalkit.load_dataset(args.data, as_of=AS_OF, provinces=codes)
    nat = pipeline.evaluate(ds, AS_OF, provinces=codes)
    codes = codes or list(nat.provinces)
    results = {c: nat.province(c) for c in codes}
    n = sum(len(r.decisions) for r in results.values())
    rows = sum(len(r.evidence) for r in results.values())
    print(f"evaluated in {time.perf_counter() - t0:.1f} s: {len(results)} provinces, {n:,} candidates, "
          f"{rows:,} criterion rows")
    import evalkit.publish.render  # noqa: F401  (imported once per publish anyway: not timed)
    from evalkit.publish.app_pages import _shipped_names

    _shipped_names()  # the rubric's names, loaded once per process
    folder = Path(tempfile.mkdtemp(prefix="evalkit-app-pages-"))
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        files = [p for code, res in results.items() for p in write_app_pages(res, folder / code, args.lang)]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        size = sum(p.stat().st_size for p in files)
        data = sorted(folder.glob(f"*/{APPS_DIR}/*.js"), key=lambda p: p.stat().st_size)
        print("| provinces | candidates | files | wall (s) | CPU (s) | per app (ms) | size (MiB) | per app (KiB) | "
              "largest data file (KiB) |")
        print(f"| {args.province} | {n:,} | {len(files):,} | {wall:.1f} | {cpu:.1f} | {wall / n * 1000:.2f} | "
              f"{size / 2**20:.2f} | {size / n / 1024:.2f} | {data[-1].stat().st_size / 1024:.0f} |")
        if args.loads:
            write_assets(folder)
            code = max(results, key=lambda c: len(results[c].decisions))
            ids = results[code].decisions["app_id"].astype("str").tolist()
            shards = app_shards(len(ids))
            biggest = max((p for p in data if p.parent.parent.name == code), key=lambda p: p.stat().st_size)
            first = next(a for a in ids if app_shard(app_slug(a), shards) == int(biggest.stem))
            step = max(1, len(ids) // args.loads)
            times = _tti(folder, code, [first, *ids[::step][: args.loads]])
            print(f"time to interactive, cold first load, province {code} ({len(ids):,} candidates): the app in its "
                  f"largest data file ({biggest.stat().st_size / 1024:.0f} KiB) {times[0]:.2f} s; "
                  f"{len(times) - 1} apps: median {statistics.median(times[1:]):.2f} s, worst {max(times[1:]):.2f} s")
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    sys.exit(main())
