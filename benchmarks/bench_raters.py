"""Benchmark: the rater bootstrap of the published robustness analysis, national scale.

Generates the national dataset in memory (``evalkit.synth.generate``, 50,000 apps, 7 experts × 12
panel criteria per app), scores it once, then for every province builds the list twice with the
profile's 1,000 draws:

* ``weights only``: Dirichlet weight draws (``ranking.bootstrap_raters: false``);
* ``weights + raters``: the published analysis (each draw also resamples every app's panel).

Prints the time of the rater matrix (once, nationally), the per-province totals of both runs and
the largest province; peak RSS at the end.

Run:  .venv/bin/python benchmarks/bench_raters.py [--apps 50000] [--draws 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from types import SimpleNamespace

from evalkit import rubric as R
from evalkit.evaluate import panel, pipeline, scoring
from evalkit.evaluate.raters import rater_bootstrap
from evalkit.evaluate.recommend import ListRules, recommend
from evalkit.synth import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=50_000)
    ap.add_argument("--draws", type=int, default=None, help="override the profile's draws")
    ap.add_argument("--provinces", default="", help="comma-separated codes (default: all)")
    args = ap.parse_args()
    as_of = "2026-09-01"
    t = time.perf_counter()
    tables = generate.generate_tables("national", n_apps=args.apps, as_of=as_of)
    ds = SimpleNamespace(**tables, tables=tables)
    rb = R.load_rubric()
    codes = sorted(set(ds.submissions["province_code"].astype(str)))
    if args.provinces:
        codes = [c for c in codes if c in set(args.provinces.split(","))]
    profiles = R.load_profiles(codes, rubric=rb)
    print(f"generated {len(ds.submissions):,} candidates, {len(ds.panel_scores):,} panel rows "
          f"in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    ev = scoring.evaluate(ds, rb, profiles, as_of)
    cand_all = pipeline._candidate_frame(ds, ev)
    print(f"scoring: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    rm = panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps)
    t_matrix = time.perf_counter() - t
    print(f"rater matrix: {rm.values.shape} in {t_matrix:.1f} s")

    weights = {d.id: float(d.weight) for d in rb.dimensions}
    tot_off = tot_on = tot_boot = 0.0
    rows = []
    for code in codes:  # loop over provinces
        rules = ListRules.from_profile(profiles[code], weights)
        if args.draws:
            rules = dataclasses.replace(rules, draws=args.draws)
        cand = cand_all.loc[cand_all["province_code"].eq(code)].reset_index(drop=True)
        t = time.perf_counter()
        off = recommend(cand, dataclasses.replace(rules, bootstrap_raters=False))
        t_off = time.perf_counter() - t
        t = time.perf_counter()
        boot = rater_bootstrap(ev, code, rm, reducer=profiles[code].panel.reducer)
        t_boot = time.perf_counter() - t
        t = time.perf_counter()
        on = recommend(cand, rules, raters=boot)
        t_on = time.perf_counter() - t
        n_el = int(on["rank"].notna().sum())
        close_off, close_on = int(off["close_call"].sum()), int(on["close_call"].sum())
        rows.append((code, len(cand), n_el, t_off, t_boot + t_on, close_off, close_on))
        tot_off += t_off
        tot_on += t_on
        tot_boot += t_boot
    print(f"{'code':>4} {'cands':>6} {'ranked':>6} {'weights s':>9} {'+raters s':>9} "
          f"{'close(w)':>8} {'close(w+r)':>10}")
    for code, n, n_el, a, b, c0, c1 in rows:
        print(f"{code:>4} {n:>6} {n_el:>6} {a:>9.2f} {b:>9.2f} {c0:>8} {c1:>10}")
    big = max(rows, key=lambda r: r[2])
    print(f"all provinces, weights only:     {tot_off:.1f} s")
    print(f"all provinces, weights + raters: {tot_on + tot_boot:.1f} s "
          f"(inputs {tot_boot:.1f} s) + rater matrix {t_matrix:.1f} s")
    print(f"largest province {big[0]}: {big[2]:,} ranked, {big[3]:.2f} s → {big[4]:.2f} s; "
          f"replicates {rules.draws} × {big[2]:,} × 4 floats = "
          f"{rules.draws * big[2] * 4 * 8 / 2**20:.0f} MiB")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")


if __name__ == "__main__":
    main()
