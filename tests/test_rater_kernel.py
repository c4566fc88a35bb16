"""The counted rater-bootstrap kernel equals the gathered reference implementation.

``evalkit.evaluate.raters.rater_draws`` reduces each resample from multinomial rater counts
(``evalkit.mcda.rater_resample.CountedPanels``: a reducer's fast path, or its definition on the
counted built-ins).  The reference below is the implementation it replaced: it gathers every
draw's picked scores into a NaN-padded grid and runs the registered reducer on
``PaddedGroups``.  Same seeds, same random stream: the results must be identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _scoring_factory import AS_OF, make_ds, with_

from evalkit.evaluate import panel, scoring
from evalkit.evaluate.raters import (
    _CHUNK_CELLS,
    _RATER_STREAM,
    RaterBootstrap,
    rater_bootstrap,
    rater_draws,
)
from evalkit.evaluate.scoring import evaluate_arrays
from evalkit.evaluate.selection import DIMENSIONS
from evalkit.mcda.rater_resample import CountedGroups, CountedPanels, pick_counts, reduce_slots
from evalkit.mcda.reducers import REDUCERS, Reducer
from evalkit.rubric import load_profiles, load_rubric


def _referencerater_draws(
    bs: RaterBootstrap, app_ids: np.ndarray, x: np.ndarray, draws: int, seed: int
) -> np.ndarray | None:
    """The implementation before the counted kernel (gathers a NaN-padded grid per chunk and
    reduces it with ``_PaddedGroups``), kept as the reference.  Replicate dimension matrices
    (draws, n, 4) in ``DIMENSIONS`` order: in each draw every
    panel's raters are resampled with replacement, the panel scores re-reduced and rescored,
    and the dimension scores recomputed (:func:`evalkit.evaluate.scoring.evaluate_arrays`, N/A
    redistribution included).  Rows without a resampled cell, and dimensions without a panel
    criterion, repeat ``x``; None when no candidate has a cell to resample.

    Random numbers are drawn per chunk of draws from one generator, for the candidates in
    app-id order: the result depends neither on the chunking nor on the row order.
    """

    rows = pd.Index(bs.app_ids).get_indexer(pd.Index(np.asarray(app_ids, dtype=str)))
    has = rows >= 0
    has[has] = (bs.panel_of[rows[has]] >= 0) & bs.live[rows[has]].any(axis=1)
    tgt = np.flatnonzero(has)
    if tgt.size == 0:
        return None  # nothing to resample: the weight draws alone
    reps = np.repeat(x[None, :, :], draws, axis=0)
    tgt = tgt[np.argsort(rows[tgt], kind="stable")]  # canonical (app id) order
    b = rows[tgt]
    pan = bs.panel_of[b]
    vals, nr = bs.values[pan], bs.n_raters[pan]
    m, r, j_n = vals.shape
    # only the dimensions holding a panel criterion move: score just their criteria
    moved = np.unique(bs.dim_of[bs.columns])
    sub = np.flatnonzero(np.isin(bs.dim_of, moved))
    k = sub.size
    sub_col = np.searchsorted(sub, bs.columns)
    point, live = bs.scores[b][:, sub], bs.live[b]
    out_dims = [i for i, d in enumerate(DIMENSIONS) if bs.dimensions.index(d) in set(moved.tolist())]
    out_pos = [bs.dimensions.index(DIMENSIONS[i]) for i in out_dims]
    # rows (panel, slot) of J scores, plus one all-NaN slot per panel that padding picks use
    padded = np.concatenate([vals, np.full((m, 1, j_n), np.nan)], axis=1).reshape(m * (r + 1), j_n)
    base = np.arange(m, dtype=np.intp) * (r + 1)
    slot_used = np.arange(r)[None, :] < nr[:, None]  # (m, r)
    rng = np.random.default_rng([int(seed), _RATER_STREAM])
    c = max(1, min(draws, _CHUNK_CELLS // max(m * max(j_n * r, k), 1)))
    for start in range(0, draws, c):  # loop over chunks of draws
        stop = min(draws, start + c)
        cc = stop - start
        pick = (rng.random((cc, m, r)) * nr[None, :, None]).astype(np.intp)
        pick = np.where(slot_used[None], pick, r).transpose(2, 0, 1)  # (r, cc, m)
        grid = np.take(padded, pick + base, axis=0)  # (r, cc, m, J): whole rows of J scores
        rating = reduce_slots(grid.reshape(r, -1), REDUCERS[bs.reducer]).reshape(cc, m, j_n)
        s_rep = np.repeat(point[None], cc, axis=0)
        for j in range(j_n):  # loop over panel criteria
            col = sub_col[j]
            new = bs.to_score[j](rating[:, :, j])
            use = live[None, :, j] & ~np.isnan(new)
            s_rep[:, :, col] = np.where(use, new, s_rep[:, :, col])
        dims, _ = evaluate_arrays(s_rep.reshape(cc * m, k), bs.weights[sub], bs.dim_of[sub], bs.dim_weights)
        d = dims[:, out_pos].reshape(cc, m, len(out_pos))
        reps[start:stop, tgt[:, None], np.array(out_dims)[None, :]] = np.where(np.isnan(d), 0.0, d)
    return reps


def _random_panels(seed: int, m: int = 300, r: int = 7, j: int = 5, halves: bool = True):
    rng = np.random.default_rng(seed)
    vals = rng.uniform(0, 10, (m, r, j))
    vals = np.round(vals * 2) / 2 if halves else vals
    nr = rng.integers(1, r + 1, m)
    vals[np.arange(r)[None, :] >= nr[:, None]] = np.nan  # padding
    vals[rng.random((m, r, j)) < 0.15] = np.nan  # a rater without a score for a criterion
    return vals, nr


@pytest.mark.parametrize("name", sorted(REDUCERS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counted_reduction_equals_the_gathered_grid(name: str, seed: int) -> None:
    vals, nr = _random_panels(seed)
    m, r, j = vals.shape
    cc = 40
    rng = np.random.default_rng(seed + 100)
    pick = (rng.random((cc, m, r)) * nr[None, :, None]).astype(np.intp)
    slot_used = np.arange(r)[None, :] < nr[:, None]
    counts = pick_counts(pick.transpose(1, 0, 2), slot_used, r)
    assert counts.sum(axis=2).tolist() == np.broadcast_to(nr[:, None], (m, cc)).tolist()
    got = CountedPanels(vals).reduce(counts, REDUCERS[name]).transpose(1, 0, 2)
    padded = np.concatenate([vals, np.full((m, 1, j), np.nan)], axis=1).reshape(m * (r + 1), j)
    p = np.where(slot_used[None], pick, r).transpose(2, 0, 1)
    grid = np.take(padded, p + (np.arange(m) * (r + 1))[None, None, :], axis=0)
    want = reduce_slots(grid.reshape(r, -1), REDUCERS[name]).reshape(cc, m, j)
    assert np.isnan(want).any() and not np.isnan(want).all()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(REDUCERS))
def test_counted_reduction_on_arbitrary_floats(name: str) -> None:
    """Not float32-exact scores: min, max and median stay exact, sums agree to rounding."""
    vals, nr = _random_panels(7, halves=False)
    m, r, j = vals.shape
    rng = np.random.default_rng(8)
    pick = (rng.random((20, m, r)) * nr[None, :, None]).astype(np.intp)
    slot_used = np.arange(r)[None, :] < nr[:, None]
    got = _counted(vals, pick, slot_used, name)
    padded = np.concatenate([vals, np.full((m, 1, j), np.nan)], axis=1).reshape(m * (r + 1), j)
    p = np.where(slot_used[None], pick, r).transpose(2, 0, 1)
    grid = np.take(padded, p + (np.arange(m) * (r + 1))[None, None, :], axis=0)
    want = reduce_slots(grid.reshape(r, -1), REDUCERS[name]).reshape(20, m, j)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


def _counted(vals, pick, slot_used, name, panels=None):
    """The counted kernel on picks (cc, m, r), in the reference's (cc, m, J) layout."""
    counts = pick_counts(pick.transpose(1, 0, 2), slot_used, vals.shape[1])
    return (panels or CountedPanels(vals)).reduce(counts, REDUCERS[name]).transpose(1, 0, 2)


def _register(monkeypatch, name: str, reducer: Reducer) -> None:
    """Register ``reducer`` as ``name`` for one test (the registry refuses a second name)."""
    monkeypatch.setitem(REDUCERS._entries, name, reducer)


@pytest.mark.parametrize("name", sorted(REDUCERS))
def test_a_reducer_without_a_fast_path_takes_the_generic_path(name: str, monkeypatch) -> None:
    """The same definition registered without its fast path: the counted kernel runs the
    definition on the counted groups' built-ins (and not the fast path), with the same values."""
    seen = []

    def definition(g):
        seen.append(type(g))
        return REDUCERS[name].reduce(g)

    _register(monkeypatch, "plain", Reducer(definition))
    assert REDUCERS["plain"].counted is None and REDUCERS[name].counted is not None
    vals, nr = _random_panels(6, m=120, r=6)
    pick = (np.random.default_rng(2).random((25, 120, 6)) * nr[None, :, None]).astype(np.intp)
    slot_used = np.arange(6)[None, :] < nr[:, None]
    got = _counted(vals, pick, slot_used, "plain")
    assert seen == [CountedGroups]
    np.testing.assert_allclose(got, _counted(vals, pick, slot_used, name), rtol=1e-13, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(got, _gathered(vals, nr, pick, name), rtol=1e-13, atol=1e-12, equal_nan=True)


@pytest.fixture(scope="module")
def rubric():
    return load_rubric()


@pytest.mark.parametrize("name", sorted(REDUCERS))
def test_rater_draws_equal_the_reference(rubric, name: str) -> None:
    ds = make_ds(rubric, n_apps=30, raters=7)
    rng = np.random.default_rng(3)
    ps = ds.panel_scores.copy()
    ps["score"] = rng.integers(0, 11, len(ps)).astype(float)
    ps = ps.loc[rng.random(len(ps)) > 0.1].reset_index(drop=True)  # some raters skip a criterion
    ds = with_(ds, panel_scores=ps)
    ev = scoring.evaluate(ds, rubric, load_profiles(["11"], rubric=rubric), AS_OF)
    boot = rater_bootstrap(ev, "11", panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps), reducer=name)
    cand = ev.candidates.loc[ev.candidates["province_code"].eq("11")]
    ids = cand["app_id"].astype("str").to_numpy()
    x = np.nan_to_num(cand[list(DIMENSIONS)].to_numpy(dtype=float))
    got = rater_draws(boot, ids, x, 250, 11).x
    want = _referencerater_draws(boot, ids, x, 250, 11)
    assert got is not None and boot.n_panels > 0
    assert not np.array_equal(got[0], got[1])  # the draws do move
    # the reduced panel scores are identical (tests above); the dimension scores add the
    # panel criteria's share to sums kept over the other criteria: equal up to rounding
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-12)


def test_rater_draws_the_same_in_blocks_and_on_any_number_of_cores(rubric, monkeypatch) -> None:
    """The chunks of draws run in threads and the draws come a block at a time
    (``rater_chunks``); neither changes a single number: each chunk's random numbers are drawn
    in order before its work is handed to a thread."""
    from evalkit import parallel
    from evalkit.evaluate import raters

    ds = make_ds(rubric, n_apps=40, raters=7)
    ev = scoring.evaluate(ds, rubric, load_profiles(["11"], rubric=rubric), AS_OF)
    boot = rater_bootstrap(ev, "11", panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps))
    cand = ev.candidates.loc[ev.candidates["province_code"].eq("11")]
    ids = cand["app_id"].astype("str").to_numpy()
    x = np.nan_to_num(cand[list(DIMENSIONS)].to_numpy(dtype=float))
    monkeypatch.setattr(raters, "_CHUNK_CELLS", 1 << 12)  # many chunks per block
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    one = rater_draws(boot, ids, x, 300, 4)
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    two = rater_draws(boot, ids, x, 300, 4)
    blocks = list(raters.rater_chunks(boot, ids, x, 300, 4, block=70))
    assert [len(b.x) for b in blocks] == [70, 70, 70, 70, 20]
    for got in (two.x, np.concatenate([b.x for b in blocks])):
        np.testing.assert_array_equal(got, one.x)
    np.testing.assert_array_equal(np.concatenate([b.gate_fail for b in blocks]), one.gate_fail)


def _gathered(vals, nr, pick, name):
    m, r, j = vals.shape
    slot_used = np.arange(r)[None, :] < nr[:, None]
    padded = np.concatenate([vals, np.full((m, 1, j), np.nan)], axis=1).reshape(m * (r + 1), j)
    p = np.where(slot_used[None], pick, r).transpose(2, 0, 1)
    grid = np.take(padded, p + (np.arange(m) * (r + 1))[None, None, :], axis=0)
    return reduce_slots(grid.reshape(r, -1), REDUCERS[name]).reshape(pick.shape[0], m, j)


@pytest.mark.parametrize("r", [3, 12])  # 12 slots: min and max without the subset tables
def test_other_registered_reducers_and_many_raters(r: int, monkeypatch) -> None:
    _register(monkeypatch, "range", Reducer(lambda g: g.max() - g.min()))
    _register(monkeypatch, "half_sum", Reducer(lambda g: g.sum() / 2 + g.count() * 0))
    vals, nr = _random_panels(4, m=200, r=r)
    rng = np.random.default_rng(9)
    pick = (rng.random((30, 200, r)) * nr[None, :, None]).astype(np.intp)
    panels = CountedPanels(vals)
    assert (panels.tables() is None) == (r > 10)
    for name in ["range", "half_sum", *sorted(set(REDUCERS) - {"range", "half_sum"})]:
        got = _counted(vals, pick, np.arange(r)[None, :] < nr[:, None], name, panels)
        np.testing.assert_array_equal(got, _gathered(vals, nr, pick, name))


def test_a_reducer_needing_another_builtin_falls_back_to_the_gathered_grid(rubric, monkeypatch) -> None:
    _register(monkeypatch, "std", Reducer(lambda g: g.std()))
    vals, nr = _random_panels(5, m=50, r=4)
    counts = pick_counts(np.zeros((50, 2, 4), dtype=np.intp), np.arange(4)[None, :] < nr[:, None], 4)
    with pytest.raises(AttributeError):
        CountedPanels(vals).reduce(counts, REDUCERS["std"])
    ds = make_ds(rubric, n_apps=8, raters=5)
    ps = ds.panel_scores.copy()
    ps["score"] = np.random.default_rng(1).integers(0, 11, len(ps)).astype(float)
    ds = with_(ds, panel_scores=ps)
    ev = scoring.evaluate(ds, rubric, load_profiles(["11"], rubric=rubric), AS_OF)
    boot = rater_bootstrap(ev, "11", panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps), reducer="std")
    cand = ev.candidates.loc[ev.candidates["province_code"].eq("11")]
    ids = cand["app_id"].astype("str").to_numpy()
    x = np.nan_to_num(cand[list(DIMENSIONS)].to_numpy(dtype=float))
    np.testing.assert_allclose(
        rater_draws(boot, ids, x, 50, 2).x, _referencerater_draws(boot, ids, x, 50, 2), rtol=1e-13, atol=1e-12
    )


def test_each_draw_re_decides_the_panel_floor(rubric) -> None:
    """A draw decides the floor of C04 (60/100, i.e. 6/10) on its resampled raters, as scoring
    decides it on the point panel.  One app's three raters give C04 0, 10 and 10 (mean 6.67:
    it passes); a resample fails when it picks the 0 at least twice of three:
    P = 3·(1/3)²·(2/3) + (1/3)³ = 7/27 ≈ 0.259.  The other app is unanimous (never fails)."""
    ds = make_ds(rubric, n_apps=2, raters=3)
    ps = ds.panel_scores.copy()
    app0 = ds.apps["app_id"].iloc[0]
    hit = ps["app_id"].eq(app0) & ps["criterion_id"].eq("C04_scientific_accuracy")
    ps.loc[hit, "score"] = [0.0, 10.0, 10.0]
    ds = with_(ds, panel_scores=ps)
    ev = scoring.evaluate(ds, rubric, load_profiles(["11"], rubric=rubric), AS_OF)
    boot = rater_bootstrap(ev, "11", panel.rater_matrix(ds.panel_scores, ds.experts, ds.apps), reducer="mean")
    assert boot.floor_codes >= {"panel_floor:C04_scientific_accuracy"}
    cand = ev.candidates.loc[ev.candidates["province_code"].eq("11")]
    assert cand["reasons"].eq("").all()  # both pass at the point
    ids = cand["app_id"].astype("str").to_numpy()
    x = np.nan_to_num(cand[list(DIMENSIONS)].to_numpy(dtype=float))
    fail = rater_draws(boot, ids, x, 4000, 5).gate_fail
    share = fail.mean(axis=0)
    assert abs(share[list(ids).index(app0)] - 7 / 27) < 0.02
    assert share[1 - list(ids).index(app0)] == 0.0
