"""Waivers: approved exemptions from a failing assessed criterion (high-risk vulnerabilities,
accessibility, resilience), approved by the unit that reviews the app; the planted active and
expired waivers.

:func:`draw_waivers` draws from the ``waivers`` stream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.synth import names as N
from evalkit.synth.apps import Apps
from evalkit.synth.assessments import Assessments
from evalkit.synth.catalogue import CODE_INDEX, CODES
from evalkit.synth.draws import choose, days, objects, person_names
from evalkit.synth.planted import APP_INDEX, PLANTED_APPS
from evalkit.synth.world import World

__all__ = ["draw_waivers"]


def draw_waivers(world: World, apps: Apps, assessed: Assessments) -> pd.DataFrame:
    """The ``waivers`` table (``waivers`` stream), sorted by app, criterion and approval day."""
    rng = world.rng("waivers")
    failing = {"S10_high_risk_vulnerabilities": assessed.value != "0",
               "F06_accessibility": assessed.value == "fails",
               "S07_masvs_resilience": assessed.value == "fails"}
    cand = np.zeros(len(assessed.app), dtype=bool)
    for cid, bad in failing.items():
        cand |= (assessed.crit == assessed.crit_ids.index(cid)) & bad
    cand &= assessed.app >= len(PLANTED_APPS)
    rows = np.flatnonzero(cand)
    k = min(len(rows), max(3, round(world.size.waiver_rate * len(apps.id))))
    rows = np.sort(rng.choice(rows, size=k, replace=False))
    app = assessed.app[rows]
    approved = np.maximum(assessed.day[rows] + np.timedelta64(7, "D"),
                          world.as_of - days(rng.integers(10, 200, k)))
    approved = np.minimum(approved, world.as_of)
    expires = np.maximum(approved + days(rng.integers(180, 366, k)),
                         world.as_of + np.timedelta64(30, "D"))
    # the approving unit is the one that reviews the app: its home unit (every app is a
    # candidate there), or at province scale the one unit all apps are submitted to
    unit = apps.home_idx[app] if world.scale != "province" else np.full(k, CODE_INDEX[world.province])
    approver = person_names(rng, k) + "（" + objects([N.SHORT[c] for c in CODES])[unit] + "教育厅）"
    frame = pd.DataFrame({
        "app_id": apps.id[app],
        "criterion_id": objects(assessed.crit_ids)[assessed.crit[rows]],
        "reason": choose(rng, N.WAIVER_REASONS, k),
        "approved_by": approver,
        "approved_on": approved,
        "expires_on": expires,
        "province_code": objects(CODES)[unit],
    })
    frame = pd.concat([_planted_waivers(world, apps), frame], ignore_index=True)
    for col in ("approved_on", "expires_on"):
        frame[col] = frame[col].astype("datetime64[s]")
    return frame.sort_values(["app_id", "criterion_id", "approved_on"], kind="stable").reset_index(drop=True)


def _planted_waivers(world: World, apps: Apps) -> pd.DataFrame:
    """An active waiver (S09, until as_of + 120 days) and an expired one (S10, 35 days ago),
    approved where the two planted apps are candidates."""
    d = world.ago
    planted_unit = world.province if world.scale == "province" else "34"  # where they are candidates
    return pd.DataFrame({
        "app_id": [apps.id[APP_INDEX["waiver_active"]], apps.id[APP_INDEX["waiver_expired"]]],
        "criterion_id": ["S09_no_cleartext_personal_data", "S10_high_risk_vulnerabilities"],
        "reason": ["经复测确认为第三方SDK误报：日志中的手机号为脱敏测试数据，已提交复测报告",
                   "整改方案已备案，限期内完成整改"],
        "approved_by": [f"陈静（{N.SHORT[planted_unit]}教育厅科技处）"] * 2,
        "approved_on": [d(60), d(400)],
        "expires_on": [world.as_of + np.timedelta64(120, "D"), d(35)],
        "province_code": [planted_unit, planted_unit],
    })
