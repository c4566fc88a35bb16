"""The schools' share of a national evaluation (issue 18): the generator's national schools
(about 200,000) and selections (about 2,000,000), evaluated for all 32 provinces.

The decisions, lists and transitions are drawn at random so that the measurement does not
need the national panel: a pessimistic mix (a third of the apps excluded, a tenth of the
providers turned grey or black on the day: many alerts and about a million findings).

Usage::

    .venv/bin/python benchmarks/bench_schools.py

Measured 2026-12-02 on the 2 shared cores at a load average of 7–9 (wall times mostly waiting
for a core): drawing the school tables 13–44 s; preparing the national rows once 1.7–1.8 CPU s;
evaluating 32 provinces 10.6–10.9 CPU s (wall 28–48 s), peak 1.1 GiB (docs/schools.md "Scale").
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pandas as pd

from evalkit.data.identifiers import PROVINCE_CODES
from evalkit.evaluate.school_prep import prepare
from evalkit.evaluate.schools import evaluate_schools
from evalkit.rubric import load_profiles
from evalkit.synth.apps import app_table, draw_apps
from evalkit.synth.params import check_params
from evalkit.synth.providers import draw_providers
from evalkit.synth.schools import draw_schools
from evalkit.synth.submissions import draw_submissions
from evalkit.synth.world import World
from evalkit.synth.writers import typed


class _Tables:
    """What the school evaluation reads of a dataset."""

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self.tables = tables
        self.apps = tables["apps"]


def main() -> None:
    scale, seed, day, prov, _ = check_params("national", 0, "2026-09-01", "44", "csv")
    world = World.make(scale, seed, day, prov)
    t = time.time()
    providers = draw_providers(world)
    apps = draw_apps(world, providers)
    subs = draw_submissions(world, providers, apps)
    drawn = draw_schools(world, apps, subs.sorted_table())
    print(f"drawn in {time.time() - t:.1f} s: {len(drawn.schools):,} schools, {len(drawn.selections):,} selections")
    app_rows = app_table(apps, subs.app_dates).assign(self_developed_by="")
    ds = _Tables({"schools": typed("schools", drawn.schools), "selections": typed("selections", drawn.selections),
                  "apps": typed("apps", app_rows)})
    rng = np.random.default_rng(0)
    decisions = pd.DataFrame({"app_id": ds.apps["app_id"], "change": "",
                              "status": rng.choice(["recommended", "not_recommended", "excluded"], len(ds.apps))})
    credit = pd.DataFrame({"provider_id": ds.apps["provider_id"].unique()})
    credit["list"] = rng.choice(["white", "grey", "black"], len(credit), p=[0.9, 0.08, 0.02])
    history = pd.DataFrame({"provider_id": credit["provider_id"], "to": credit["list"], "recorded_on": "2026-09-01"})
    profiles = load_profiles(list(PROVINCE_CODES))
    cpu = time.process_time()
    prepare(ds)
    print(f"prepared once: {time.process_time() - cpu:.2f} CPU s")
    cpu, wall, findings = time.process_time(), time.time(), 0
    for code in PROVINCE_CODES:  # 32 provinces, as the pipeline does
        res = evaluate_schools(ds, code, pd.Timestamp(day), profiles[code], decisions, credit, history)
        findings += len(res.findings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"32 provinces: {time.process_time() - cpu:.1f} CPU s, {time.time() - wall:.1f} s wall, "
          f"{findings:,} findings, peak {peak:.2f} GiB")


if __name__ == "__main__":
    main()
