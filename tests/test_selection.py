"""The list procedure (evalkit.evaluate.selection) against a plain, app-by-app reading of the rules.

The reference below is written from the rules as a provincial office states them (docs/
recommendation.md): rank the eligible apps by score, then security, then legality, then the
earlier submission and the smaller app id; an app below a minimum is not listed; walking down
the ranking, an app is listed unless its list, category, stage or provider share is already
full.  :func:`evalkit.evaluate.selection.select` must give the same list in every draw.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.evaluate.selection import DIMENSIONS, Caps, Pool, select

CATEGORIES = ("teaching", "learning", "life")
STAGES = ("primary", "junior", "senior")


def _reference(frame: pd.DataFrame, x: np.ndarray, w: np.ndarray, caps: Caps) -> set[str]:
    """One draw, one app at a time."""
    rows = []
    for i, r in enumerate(frame.itertuples(index=False)):
        present = [not math.isnan(getattr(r, d)) for d in DIMENSIONS]
        total_w = sum(wj for wj, p in zip(w, present, strict=False) if p)
        total = (
            sum(wj * xj for wj, xj, p in zip(w, x[i], present, strict=False) if p) / total_w if total_w else math.nan
        )
        score = float(np.dot(w, x[i]))
        ok = caps.min_total_score is None or not total < caps.min_total_score
        ok &= all(
            not (present[j] and x[i, j] < caps.min_dimension_score.get(d, -math.inf)) for j, d in enumerate(DIMENSIONS)
        )
        rows.append((-round(score, 9), -round(x[i, 2], 9), -round(x[i, 0], 9), r.submitted_on, r.app_id, ok, r))
    rows.sort(key=lambda t: t[:5])
    qualified = [t[6] for t in rows if t[5]]
    total_cap = math.inf if caps.max_total is None else caps.max_total
    places = {}
    for c in CATEGORIES:
        cap = min(caps.max_per_category.get(c, math.inf), total_cap)
        places[c] = cap if not math.isinf(cap) else sum(q.category == c for q in qualified)
    listed: list = []
    for q in qualified:
        if len(listed) >= total_cap:
            continue
        same_cat = [a for a in listed if a.category == q.category]
        if len(same_cat) >= caps.max_per_category.get(q.category, math.inf):
            continue
        if any(
            s in q.stages.split(";") and sum(s in a.stages.split(";") for a in listed) >= cap
            for s, cap in caps.max_per_stage.items()
        ):
            continue
        if caps.provider_share_cap is not None:
            share = max(math.ceil(caps.provider_share_cap * places[q.category] - 1e-9), 1)
            if sum(a.provider_id == q.provider_id for a in same_cat) >= share:
                continue
        listed.append(q)
    return {a.app_id for a in listed}


@st.composite
def _province(draw):
    n = draw(st.integers(0, 25))
    score = st.sampled_from([40.0, 55.0, 60.0, 70.0, 75.0, 80.0, 90.0, 100.0])  # ties on purpose
    frame = pd.DataFrame(
        {
            "app_id": [f"A{i:02d}" for i in range(n)],
            "provider_id": [f"P{draw(st.integers(0, 4))}" for _ in range(n)],
            "category": [draw(st.sampled_from(CATEGORIES)) for _ in range(n)],
            "stages": [";".join(draw(st.sets(st.sampled_from(STAGES), min_size=1))) for _ in range(n)],
            "submitted_on": pd.to_datetime([f"2026-0{draw(st.integers(1, 3))}-01" for _ in range(n)]),
            **{
                d: [draw(st.one_of(score, st.just(math.nan))) if d == "function" else draw(score) for _ in range(n)]
                for d in DIMENSIONS
            },
        }
    )
    caps = Caps(
        max_total=draw(st.one_of(st.none(), st.integers(0, 12))),
        max_per_category={c: draw(st.integers(0, 6)) for c in CATEGORIES if draw(st.booleans())},
        max_per_stage={s: draw(st.integers(0, 6)) for s in STAGES if draw(st.booleans())},
        min_total_score=draw(st.one_of(st.none(), st.sampled_from([50.0, 65.0]))),
        min_dimension_score={d: 60.0 for d in DIMENSIONS if draw(st.booleans())},
        provider_share_cap=draw(st.one_of(st.none(), st.sampled_from([0.2, 0.34, 1.0]))),
        method="weighted_sum",
    )
    return frame, caps


@settings(max_examples=150, deadline=None)
@given(_province(), st.integers(0, 2**32 - 1))
def test_every_draw_selects_as_the_rules_read(province, seed: int) -> None:
    frame, caps = province
    pool = Pool.from_frame(frame, caps)
    rng = np.random.default_rng(seed)
    base = np.nan_to_num(frame[list(DIMENSIONS)].to_numpy(dtype=float))
    draws = 4
    x = np.stack([base] + [np.round(base + rng.normal(0, 5, base.shape) * (base > 0), 1) for _ in range(draws - 1)])
    w = np.vstack([np.full(4, 0.25), rng.dirichlet(np.full(4, 5.0), draws - 1)])
    got = select(x, w, pool, caps, explain=True)
    ids = frame["app_id"].to_numpy()
    for d in range(draws):
        assert set(ids[got.listed[d]]) == _reference(frame, x[d], w[d], caps)
        # every qualified app left out was stopped by a full cap; listed apps by none
        full = got.full_total[d] | got.full_category[d] | got.full_share[d] | got.full_stage[d].any(axis=1)
        assert (full == (got.qualified[d] & ~got.listed[d])).all()
        assert sorted(got.ranks()[d]) == list(range(1, len(frame) + 1))
