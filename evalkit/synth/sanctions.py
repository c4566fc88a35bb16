"""Statements after a sanction notice and applications for credit repair (docs/credit.md §3a).

Two providers with apps in unit 34 (the ``province`` scale: its unit) answered a sanction notice
of 40 days before ``as_of``: one statement accepted, one hearing request rejected; a third
provider's credit repair was approved 20 days before ``as_of``.  They answer notices and
listings of earlier cycles: a first run on this data alone has none (no notice is recorded),
so they change nothing there; a register holding those cycles makes them act.

:func:`draw_sanctions` draws from the ``sanctions`` stream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.synth.apps import Apps
from evalkit.synth.providers import Providers
from evalkit.synth.submissions import Submissions
from evalkit.synth.world import World

__all__ = ["draw_sanctions"]


def draw_sanctions(world: World, providers: Providers, apps: Apps,
                   submissions: Submissions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``sanction_statements`` and ``credit_repairs`` tables (``sanctions`` stream)."""
    rng = world.rng("sanctions")
    unit = world.province if world.scale == "province" else "34"
    sub = submissions.table
    in_unit = set(sub.loc[sub["province_code"].astype(str).eq(unit), "app_id"].astype(str))
    owners = pd.Series(providers.uscc[apps.owner], index=apps.id.astype(str))
    pool = np.unique(owners.loc[sorted(in_unit)].astype(str).to_numpy())
    chosen = rng.choice(pool, size=min(3, len(pool)), replace=False)
    notified = world.as_of - np.timedelta64(40, "D")
    statements = pd.DataFrame({
        "provider_id": chosen[:2], "province_code": unit, "notified_on": notified,
        "received_on": notified + np.timedelta64(3, "D"), "kind": ["statement", "hearing"][: len(chosen[:2])],
        "outcome": ["accepted", "rejected"][: len(chosen[:2])], "decided_on": notified + np.timedelta64(10, "D"),
    })
    repairs = pd.DataFrame({
        "provider_id": chosen[2:3], "province_code": unit, "applied_on": world.as_of - np.timedelta64(60, "D"),
        "rectification_ref": "整改报告及复测报告", "decided_on": world.as_of - np.timedelta64(20, "D"),
        "outcome": "approved",
    })
    for frame, cols in ((statements, ("notified_on", "received_on", "decided_on")),
                        (repairs, ("applied_on", "decided_on"))):
        for col in cols:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
    return statements, repairs
