"""Objections to a province's public notice and their re-checks (docs/due-process.md).

One province's notice of a month before ``as_of`` drew six objections, one of each kind the
reports must show: a public objection on ads upheld, the provider's own objection (scoring
error) partly upheld, a school's and a parent's rejected, an expert's conflict of interest
upheld, and a parent's privacy objection still pending (no re-check).  The province is the one
the planted apps are candidates in (Anhui, 34; the ``province`` scale's own province); the apps
are drawn among its other candidates.  Objector names and telephone numbers are made up here
(personal data: the reports must never show them).

:func:`draw_objections` draws from the ``objections`` stream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.synth import names as N
from evalkit.synth.apps import Apps
from evalkit.synth.draws import days, person_names
from evalkit.synth.planted import PLANTED_APPS
from evalkit.synth.submissions import Submissions
from evalkit.synth.world import World

__all__ = ["draw_objections"]

#: (from_kind, grounds, outcome; "" = pending), one objection each.
_PLANTED = (
    ("public", "ads", "upheld"),
    ("provider", "scoring_error", "partly_upheld"),
    ("school", "content", "rejected"),
    ("parent", "fees", "rejected"),
    ("expert", "conflict_of_interest", "upheld"),
    ("parent", "privacy", ""),
)
_TEXTS = {
    "ads": "学生端首页出现游戏推广广告，与学习无关",
    "scoring_error": "功能性能得分所依据的检测报告为旧版本，已补交新版检测报告",
    "content": "部分课程内容陈旧，与现行教材不一致",
    "fees": "家长群通知须购买会员才能完成作业",
    "conflict_of_interest": "评审专家曾在该应用提供者任职，未申报回避",
    "privacy": "安装后要求读取通讯录和位置信息",
}


def draw_objections(world: World, apps: Apps, submissions: Submissions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``objections`` and ``rechecks`` tables (``objections`` stream)."""
    rng = world.rng("objections")
    unit = world.province if world.scale == "province" else "34"
    sub = submissions.table
    pool = np.unique(sub.loc[sub["province_code"].astype(str).eq(unit), "app_id"].astype(str).to_numpy())
    planted = {str(apps.id[i]) for i in range(len(PLANTED_APPS))}
    pool = np.array([a for a in pool if a not in planted], dtype=object)
    k = min(len(_PLANTED), len(pool))
    chosen = rng.choice(pool, size=k, replace=False) if k else np.array([], dtype=object)
    notice = world.as_of - np.timedelta64(30, "D")
    received = notice + days(rng.integers(1, 6, k))
    kinds = _PLANTED[:k]
    names = person_names(rng, k)
    phones = np.array([f"1{rng.integers(30, 90)}{rng.integers(0, 10**8):08d}" for _ in range(k)], dtype=object)
    objections = pd.DataFrame({
        "objection_id": [f"YY-{unit}-{i + 1:03d}" for i in range(k)],
        "province_code": unit,
        "app_id": chosen,
        "notice_date": notice,
        "received_on": received,
        "from_kind": [f for f, _, _ in kinds],
        "grounds": [g for _, g, _ in kinds],
        "text": [_TEXTS[g] for _, g, _ in kinds],
        "contact": names + " " + phones,
    })
    decided = [i for i, (_, _, outcome) in enumerate(kinds) if outcome]
    rechecks = pd.DataFrame({
        "objection_id": objections["objection_id"].to_numpy()[decided],
        "decided_on": notice + np.timedelta64(12, "D"),
        "outcome": [kinds[i][2] for i in decided],
        "decided_by": f"{N.SHORT[unit]}教育厅复查组",
        "note": "",
    })
    for frame, cols in ((objections, ("notice_date", "received_on")), (rechecks, ("decided_on",))):
        for col in cols:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
    return objections, rechecks
