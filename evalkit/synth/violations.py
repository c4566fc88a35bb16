"""Violations: found against providers (mostly the weaker ones), often about one of their
apps, with a rectification deadline; a few are fraud; the planted fraud and repeat offender.

:func:`draw_violations` draws from the ``violations`` stream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.data import schema
from evalkit.synth import names as N
from evalkit.synth.apps import Apps
from evalkit.synth.draws import choose, days, group_rows, int_text
from evalkit.synth.planted import APP_INDEX, PLANTED_PROVIDERS, PROVIDER_INDEX
from evalkit.synth.providers import Providers
from evalkit.synth.world import World

__all__ = ["draw_violations"]


def draw_violations(world: World, providers: Providers, apps: Apps) -> pd.DataFrame:
    """The ``violations`` table (``violations`` stream), planted ones first, by id."""
    rng = world.rng("violations")
    n_pp = len(PLANTED_PROVIDERS)
    n_prov = len(providers.uscc)
    n = max(3, round(world.size.violation_rate * n_prov))
    w = np.exp(-1.2 * providers.quality) * np.where(np.arange(n_prov) < n_pp, 0.0, 1.0)
    prov = rng.choice(n_prov, n, p=w / w.sum())
    order_a, starts, counts = group_rows(apps.owner, n_prov)
    pick = order_a[starts[prov] + np.floor(rng.random(n) * counts[prov]).astype(np.int64)]
    has_app = rng.random(n) < 0.8
    app_id = np.where(has_app, apps.id[pick], "").astype(object)
    found = world.as_of - days(rng.integers(20, 1000, n))
    vtype = choose(rng, N.VIOLATION_TYPES, n, p=N.VIOLATION_TYPE_P)
    fraud = rng.random(n) < 0.02
    vtype = np.where(fraud, "false_material", vtype).astype(object)
    severity = choose(rng, schema.SEVERITIES, n, p=(0.5, 0.35, 0.15))
    severity = np.where(fraud, "serious", severity).astype(object)
    period = rng.choice(np.array([30, 60, 90]), n)
    rectify_by = found + days(period)
    outcome = rng.choice(3, n, p=[0.75, 0.12, 0.13])
    rectified = np.select([outcome == 0, outcome == 1],
                          [found + days(rng.integers(5, 30, n)),
                           rectify_by + days(rng.integers(5, 60, n))],
                          np.datetime64("NaT"))
    rectified = np.where(rectified > world.as_of, np.datetime64("NaT"), rectified)
    order = np.lexsort((prov, found))
    frame = pd.DataFrame({
        "violation_id": "V" + int_text(np.arange(n) + 101, 7),
        "provider_id": providers.uscc[prov][order],
        "app_id": app_id[order],
        "found_on": found[order],
        "type": vtype[order],
        "severity": severity[order],
        "fraud": fraud[order],
        "rectify_by": rectify_by[order],
        "rectified_on": rectified[order],
    })
    frame = pd.concat([_planted_violations(world, providers, apps), frame], ignore_index=True)
    for col in ("found_on", "rectify_by", "rectified_on"):
        frame[col] = frame[col].astype("datetime64[s]")
    return frame.sort_values("violation_id", kind="stable").reset_index(drop=True)


def _planted_violations(world: World, providers: Providers, apps: Apps) -> pd.DataFrame:
    """V0000001: the fraud, unrectified; V0000002–4: the repeat offender, the last one
    unrectified past its deadline."""
    d = world.ago
    rep = providers.uscc[PROVIDER_INDEX["repeat"]]
    rep_app = apps.id[APP_INDEX["repeat"]]
    return pd.DataFrame({
        "violation_id": ["V0000001", "V0000002", "V0000003", "V0000004"],
        "provider_id": [providers.uscc[PROVIDER_INDEX["fraud"]], rep, rep, rep],
        "app_id": [apps.id[APP_INDEX["fraud"]], rep_app, "", rep_app],
        "found_on": [d(120), d(700), d(400), d(90)],
        "type": ["false_material", "ads", "privacy", "forced_use"],
        "severity": ["serious", "minor", "major", "major"],
        "fraud": [True, False, False, False],
        "rectify_by": [d(90), d(670), d(340), d(30)],
        "rectified_on": [np.datetime64("NaT"), d(680), d(300), np.datetime64("NaT")],
    })
