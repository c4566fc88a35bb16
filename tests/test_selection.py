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
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.evaluate import selection
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


def test_a_long_ranking_selects_as_the_rules_read_across_windows() -> None:
    """More apps than one window of the greedy walk (``selection._WINDOW``): the lists fill in
    the second window, and the caps read off at once after that still say why each later app
    was left out."""
    rng = np.random.default_rng(5)
    n = 3 * selection._WINDOW + 17
    frame = pd.DataFrame({
        "app_id": [f"A{i:03d}" for i in range(n)],
        "provider_id": [f"P{i}" for i in rng.integers(0, 30, n)],
        "category": rng.choice(CATEGORIES, n),
        "stages": [";".join(sorted(set(rng.choice(STAGES, rng.integers(1, 3))))) for _ in range(n)],
        "submitted_on": pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
        **{d: np.round(rng.uniform(40, 100, n), 1) for d in DIMENSIONS},
    })  # fmt: skip
    caps = Caps(max_total=150, max_per_category={"life": 40}, max_per_stage={"senior": 70}, min_total_score=55.0,
                min_dimension_score={"security": 50.0}, provider_share_cap=0.2, method="weighted_sum")
    pool = Pool.from_frame(frame, caps)
    base = frame[list(DIMENSIONS)].to_numpy(dtype=float)
    x = np.stack([base, np.round(base + rng.normal(0, 3, base.shape), 1)])
    w = np.vstack([np.full(4, 0.25), rng.dirichlet(np.full(4, 5.0))])
    got = select(x, w, pool, caps, explain=True)
    order_listed = np.take_along_axis(got.listed, got.order, axis=1)
    last = max(np.flatnonzero(row).max() for row in order_listed)
    assert selection._WINDOW < last < n - 1 and got.listed.sum(axis=1).tolist() == [150, 150]
    for d in range(2):
        assert set(frame["app_id"].to_numpy()[got.listed[d]]) == _reference(frame, x[d], w[d], caps)
        full = got.full_total[d] | got.full_category[d] | got.full_share[d] | got.full_stage[d].any(axis=1)
        assert (full == (got.qualified[d] & ~got.listed[d])).all()


@pytest.mark.parametrize("case", ["ties", "not eligible", "nan", "inf", "huge", "negative"])
def test_the_integer_keyed_sort_orders_as_a_stable_argsort(case: str) -> None:
    """``selection._descending`` sorts integer keys where the scores allow it and falls back to
    the stable argsort otherwise: either way the order of the plain reading, the highest score
    rounded to 9 decimals first and ties in the chain's order."""
    rng = np.random.default_rng(len(case))
    score = np.round(rng.uniform(0, 100, (6, 500)), 1) + rng.normal(0, 1e-12, (6, 500))  # ties up to noise
    score[:, ::7] = score[:, 1::7][:, : score[:, ::7].shape[1]]
    if case == "not eligible":
        score[rng.random(score.shape) < 0.3] = -np.inf
    elif case == "nan":
        score[0, 3] = np.nan
    elif case == "inf":
        score[1, 4] = np.inf
    elif case == "huge":
        score[2, 5] = 1e7
    elif case == "negative":
        score -= 50.0
    chain = rng.permutation(500)
    want = chain[np.argsort(-np.round(score, 9)[:, chain], axis=1, kind="stable")]
    np.testing.assert_array_equal(selection._descending(score, chain), want)
