"""Benchmark: national-scale scoring in one vectorised pass (DESIGN.md §8).

Builds a synthetic national-size input in the benchmark itself (32 units, 50,000 apps,
10,000 providers, 7 experts × 12 panel criteria per app ≈ 4.2 M panel rows, ≈ 1.7 M
assessments), then times ``evalkit.evaluate.scoring.evaluate``:

* ``full``: panel aggregation (per profile setting) + scoring;
* ``scoring only``: with the panel result precomputed; peak memory traced by tracemalloc
  in a separate run (tracing slows numpy down);
* ``naive``: a per-app Python loop over the same evidence, timed on a sample and extrapolated.

Run:  .venv/bin/python benchmarks/bench_scoring.py [--apps 50000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pandas as pd

from evalkit import rubric as R
from evalkit.data import identifiers
from evalkit.evaluate import scoring


def synthetic(n_apps: int, seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    rb = R.load_rubric()
    codes = np.array(identifiers.PROVINCE_CODES)
    n_prov = max(1, n_apps // 5)
    prov_ids = np.char.add("P", np.arange(n_prov).astype(str))
    providers = pd.DataFrame({
        "provider_id": pd.Series(prov_ids, dtype="str"),
        "name": pd.Series(np.char.add("公司", np.arange(n_prov).astype(str)), dtype="str"),
        "province_code": pd.Series(rng.choice(codes, n_prov), dtype="str"),
        "legal_rep": pd.Series(["张三"] * n_prov, dtype="str"),
        "icp_number": pd.Series(np.where(rng.random(n_prov) < 0.98, "京ICP备12345678号", ""), dtype="str"),
        "telecom_licence": pd.Series(np.where(rng.random(n_prov) < 0.7, "京B2-20190123", ""), dtype="str"),
        "mlps_level": pd.array(rng.choice([2, 3, 3, 3, 4], n_prov), dtype="Int64"),
        "mlps_filing_no": pd.Series(["11010813001-20001"] * n_prov, dtype="str"),
        "mlps_evaluated_on": pd.Series(pd.Timestamp("2024-06-30") - pd.to_timedelta(rng.integers(0, 500, n_prov), "D")),
    })
    app_ids = np.char.add("教APP备", np.char.zfill(np.arange(n_apps).astype(str), 7))
    stages = np.array(["primary", "junior;senior", "higher", "preschool", "primary;junior", "vocational"])
    feats = np.array(["", "", "ugc", "payments", "training", "face_data", "ugc;payments"])
    release = pd.Timestamp("2024-06-30") - pd.to_timedelta(rng.integers(0, 600, n_apps), "D")
    apps = pd.DataFrame(
        {
            "app_id": pd.Series(app_ids, dtype="str"),
            "provider_id": pd.Series(rng.choice(prov_ids, n_apps), dtype="str"),
            "name": pd.Series(np.char.add("应用", np.arange(n_apps).astype(str)), dtype="str"),
            "category": pd.Series(
                rng.choice(["teaching", "management", "learning", "life", "home_school"], n_apps), dtype="str"
            ),
            "stages": pd.Series(rng.choice(stages, n_apps), dtype="str"),
            "primary_users": pd.Series(
                rng.choice(["students", "teachers", "parents", "students;parents"], n_apps), dtype="str"
            ),
            "minors_primary": pd.array(rng.random(n_apps) < 0.5, dtype="boolean"),
            "features": pd.Series(rng.choice(feats, n_apps), dtype="str"),
            "charges_fees": pd.array(rng.random(n_apps) < 0.2, dtype="boolean"),
            "has_ads": pd.array(rng.random(n_apps) < 0.1, dtype="boolean"),
            "has_games": pd.array(rng.random(n_apps) < 0.05, dtype="boolean"),
            "age_range": pd.Series(np.where(rng.random(n_apps) < 0.9, "6-12", ""), dtype="str"),
            "daily_limit_min": pd.array(np.where(rng.random(n_apps) < 0.9, 40, -1), dtype="Int64").astype("Int64"),
            "info_updated_on": pd.Series(release + pd.to_timedelta(rng.integers(-30, 30, n_apps), "D")),
            "last_release_on": pd.Series(release),
        }
    )
    apps.loc[apps["daily_limit_min"] < 0, "daily_limit_min"] = pd.NA
    subs = pd.DataFrame(
        {
            "app_id": pd.Series(app_ids, dtype="str"),
            "province_code": pd.Series(rng.choice(codes, n_apps), dtype="str"),
            "submitted_on": pd.Series([pd.Timestamp("2024-05-01")] * n_apps),
            "mandated_use": pd.array(rng.random(n_apps) < 0.3, dtype="boolean"),
        }
    )
    acrit = [c for c in rb.criteria if c.source == "assessment"]
    k = len(acrit)
    a_app = np.repeat(app_ids, k)
    a_crit = np.tile(np.array([c.id for c in acrit]), n_apps)
    kinds = np.tile(np.array([c.rule for c in acrit]), n_apps)
    r = rng.random(n_apps * k)
    val = np.where(
        kinds == "mpf",
        np.where(r < 0.7, "meets", np.where(r < 0.9, "partial", np.where(r < 0.97, "fails", "na"))),
        np.where(kinds == "pass_fail", np.where(r < 0.97, "true", "false"), np.round(r * 10, 2).astype(str)),
    )
    assessments = pd.DataFrame(
        {
            "app_id": pd.Series(a_app, dtype="str"),
            "criterion_id": pd.Series(a_crit, dtype="str"),
            "value": pd.Series(val, dtype="str"),
            "assessed_on": pd.Series(
                pd.Timestamp("2024-06-30") - pd.to_timedelta(rng.integers(0, 420, n_apps * k), "D")
            ),
        }
    )
    pcrit = np.array([c.id for c in rb.criteria if c.source == "panel"])
    n_exp = 7
    experts_per_prov = {c: np.char.add(f"X{c}_", np.arange(9).astype(str)) for c in codes}
    prov_of_app = subs["province_code"].to_numpy(dtype=str)
    p_app = np.repeat(app_ids, n_exp * len(pcrit))
    p_prov = np.repeat(prov_of_app, n_exp * len(pcrit))
    p_exp = np.char.add(
        np.char.add("X", p_prov), np.char.add("_", np.tile(np.repeat(np.arange(n_exp), len(pcrit)), n_apps).astype(str))
    )
    p_crit = np.tile(pcrit, n_apps * n_exp)
    base = np.repeat(rng.uniform(5, 9.5, n_apps), n_exp * len(pcrit))
    score = np.clip(np.round(base + rng.normal(0, 0.8, base.size)), 0, 10)
    panel_scores = pd.DataFrame(
        {
            "province_code": pd.Series(p_prov, dtype="str"),
            "round": pd.array(np.ones(p_app.size, dtype=int), dtype="Int64"),
            "app_id": pd.Series(p_app, dtype="str"),
            "expert_id": pd.Series(p_exp, dtype="str"),
            "criterion_id": pd.Series(p_crit, dtype="str"),
            "score": score,
        }
    )
    all_exp = np.concatenate(list(experts_per_prov.values()))
    experts = pd.DataFrame(
        {"expert_id": pd.Series(all_exp, dtype="str"), "conflicts": pd.Series([""] * all_exp.size, dtype="str")}
    )
    return SimpleNamespace(
        providers=providers,
        apps=apps,
        submissions=subs,
        assessments=assessments,
        experts=experts,
        panel_scores=panel_scores,
        waivers=pd.DataFrame(),
        ahp_judgments=pd.DataFrame(),
    ), rb


def naive_total(ds: SimpleNamespace, rb: R.Rubric, n: int) -> float:
    """A per-app loop (the route the engine avoids): seconds for ``n`` apps."""
    ass = ds.assessments.set_index(["app_id", "criterion_id"])["value"]
    words = {"meets": 100, "partial": 50, "fails": 0, "true": 100, "false": 0}
    t = time.perf_counter()
    for app_id in ds.submissions["app_id"].iloc[:n]:
        total = 0.0
        for c in rb.criteria:
            if c.source != "assessment":
                continue
            v = ass.get((app_id, c.id))
            total += c.global_weight * (words.get(v, 0) if v is not None else 0)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    ds, rb = synthetic(args.apps, args.seed)
    t_build = time.perf_counter() - t0
    profiles = R.load_profiles(rubric=rb)
    as_of = "2024-06-30"
    print(
        f"input: {len(ds.submissions):,} candidates, {len(ds.assessments):,} assessments, "
        f"{len(ds.panel_scores):,} panel rows, {len(rb.criteria)} criteria (built in {t_build:.1f} s)"
    )

    t = time.perf_counter()
    ev = scoring.evaluate(ds, rb, profiles, as_of)
    t_full = time.perf_counter() - t
    t = time.perf_counter()
    ev2 = scoring.evaluate(ds, rb, profiles, as_of, panel=ev.panel)
    t_score = time.perf_counter() - t
    tracemalloc.start()
    scoring.evaluate(ds, rb, profiles, as_of, panel=ev.panel)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    sample = min(2_000, len(ds.submissions))
    t_naive = naive_total(ds, rb, sample) * len(ds.submissions) / sample
    assert ev2.candidates.equals(ev.candidates)
    print(f"full evaluate (panel aggregation + scoring): {t_full:.2f} s")
    print(f"scoring only (panel precomputed):            {t_score:.2f} s, peak traced memory {peak / 2**20:.0f} MiB")
    print(f"naive per-app loop (assessments only, extrapolated from {sample:,}): {t_naive:.1f} s")
    print(
        f"criteria long table: {len(ev.criteria):,} rows, {ev.criteria.memory_usage(deep=True).sum() / 2**20:.0f} MiB; "
        f"vetoed {int(ev.candidates['vetoed'].sum()):,} of {len(ev.candidates):,}"
    )


if __name__ == "__main__":
    main()
