"""Tests for evalkit.mcda.rank: weighted sum, TOPSIS, tie-break chain, robustness Monte Carlo.

Worked examples come from published sources (named in each docstring); the arithmetic is in
the comments.  Peer libraries (pymcdm, scikit-criteria) are used as cross-checks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from evalkit.errors import EvalkitError
from evalkit.mcda.methods import _minmax_normalise, _topsis_batch, _vector_normalise, _ws_batch
from evalkit.mcda.rank import (
    METHODS,
    NORMALISATIONS,
    RankError,
    RobustnessResult,
    TieWarning,
    close_call,
    rank_with_ties,
    robustness,
    topsis,
    weighted_sum,
)
from evalkit.mcda.robustness import _competition_ranks
from evalkit.registry import Registry

# Hwang & Yoon (1981), *Multiple Attribute Decision Making: Methods and Applications*,
# Springer LNEMS 186, fighter-aircraft example (pp. 133–134 for TOPSIS).  Columns: maximum
# speed (Mach), ferry range (NM), maximum payload (lb), purchasing cost ($10⁶, a cost),
# reliability, maneuverability (qualitative, on the interval scale low 3 / average 5 / high 7 /
# very high 9).
AIRCRAFT = np.array(
    [
        [2.0, 1500, 20000, 5.5, 5, 9],
        [2.5, 2700, 18000, 6.5, 3, 5],
        [1.8, 2000, 21000, 4.5, 7, 7],
        [2.2, 1800, 20000, 5.0, 5, 5],
    ]
)
AIRCRAFT_W = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.3])
AIRCRAFT_BENEFIT = np.array([True, True, True, False, True, True])


# --------------------------------------------------------------------------------------------
# TOPSIS and weighted sum
# --------------------------------------------------------------------------------------------


def test_topsis_hwang_yoon_fighter_aircraft() -> None:
    """Hwang & Yoon (1981), fighter-aircraft example, TOPSIS closeness.

    Printed (pp. 133–134): C* = 0.643, 0.268, 0.613, 0.312 → A1 > A3 > A4 > A2.
    Verified: the decision matrix, weights and printed results as reproduced, with the book's
    page numbers, in a public TypeScript example (mcdajs, "Fighter aircraft selection
    problem"); the book itself was not available.  Arithmetic for A1:
    r_11 = 2.0 / sqrt(2.0² + 2.5² + 1.8² + 2.2²) = 2.0 / 4.2817 = 0.4671, …;
    D⁺_1 = 0.0546, D⁻_1 = 0.0984 → C_1 = 0.0984 / (0.0546 + 0.0984) = 0.6433.
    A3 comes out 0.6135 (printed 0.613: the book rounds intermediate steps — its normalised
    cost column reads 0.5063 where 5.5 / sqrt(117.75) = 0.5069), hence abs 1e-3.
    """
    c = topsis(AIRCRAFT, AIRCRAFT_W, AIRCRAFT_BENEFIT)
    np.testing.assert_allclose(c, [0.643, 0.268, 0.613, 0.312], atol=1e-3)
    assert np.argsort(-c).tolist() == [0, 2, 3, 1]  # A1 > A3 > A4 > A2
    # The book's intermediate tables: normalised matrix (first row) and distances.
    r = _vector_normalise(AIRCRAFT)
    np.testing.assert_allclose(r[0], [0.4671, 0.3662, 0.5056, 0.5063, 0.4811, 0.6708], atol=1e-3)
    assert r[0, 3] == pytest.approx(5.5 / np.sqrt(117.75), abs=1e-12)


def test_topsis_matches_pymcdm_vector_normalisation() -> None:
    """pymcdm 1.4 TOPSIS with *vector* normalisation passed explicitly (its default is
    min–max), to 1e-9 — cost columns included (pymcdm uses 1 − r for them, which leaves the
    distances, hence the closeness, unchanged)."""
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization

    rng = np.random.default_rng(11)
    x = rng.random((300, 8)) * [1, 10, 100, 5, 1, 1, 50, 2] + 0.01
    w = rng.random(8)
    types = np.array([1, -1, 1, 1, -1, 1, 1, -1])
    ref = TOPSIS(normalization_function=vector_normalization)(x, w / w.sum(), types)
    np.testing.assert_allclose(topsis(x, w, types > 0), ref, atol=1e-9)
    np.testing.assert_allclose(topsis(x, w, types), ref, atol=1e-9)  # 1/-1 accepted too
    ref_air = TOPSIS(normalization_function=vector_normalization)(
        AIRCRAFT, AIRCRAFT_W, np.where(AIRCRAFT_BENEFIT, 1, -1)
    )
    np.testing.assert_allclose(topsis(AIRCRAFT, AIRCRAFT_W, AIRCRAFT_BENEFIT), ref_air, atol=1e-9)


def test_topsis_matches_scikit_criteria() -> None:
    """scikit-criteria 0.10: VectorScaler on the matrix, then TOPSIS, to 1e-9."""
    import skcriteria as skc
    from skcriteria.agg.topsis import TOPSIS
    from skcriteria.pipelines import mkpipe
    from skcriteria.preprocessing.scalers import VectorScaler

    rng = np.random.default_rng(12)
    x = rng.random((200, 6)) * 100 + 1
    w = rng.random(6)
    benefit = np.array([True, False, True, True, False, True])
    dm = skc.mkdm(x, [max if b else min for b in benefit], weights=w / w.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skcriteria warns about minimisation objectives
        res = mkpipe(VectorScaler(target="matrix"), TOPSIS()).evaluate(dm)
    np.testing.assert_allclose(topsis(x, w, benefit), res.e_.similarity, atol=1e-9)


def test_topsis_minmax_pymcdm_documented_example() -> None:
    """pymcdm 1.4, ``TOPSIS`` docstring example (its default min–max normalisation).

    x = [[1, 3000], [2, 3750], [5, 4500]], types (cost, benefit), w = (0.5, 0.5); printed
    preferences 0.500, 0.617, 0.500.  Arithmetic:
    cost column:    (max − x) / (max − min) = (5 − [1, 2, 5]) / 4 = [1, 0.75, 0];
    benefit column: (x − min) / (max − min) = ([3000, 3750, 4500] − 3000) / 1500 = [0, 0.5, 1];
    v = 0.5 · r = [[0.5, 0], [0.375, 0.25], [0, 0.5]]; ideal (0.5, 0.5), anti-ideal (0, 0);
    A1: D⁺ = 0.5, D⁻ = 0.5 → 0.5;  A3 likewise 0.5;
    A2: D⁺ = sqrt(0.125² + 0.25²) = 0.27951, D⁻ = sqrt(0.375² + 0.25²) = 0.45069
        → 0.45069 / 0.73020 = 0.61722.
    """
    x = [[1, 3000], [2, 3750], [5, 4500]]
    r = _minmax_normalise(np.asarray(x, float), np.array([False, True]))
    np.testing.assert_allclose(r, [[1, 0], [0.75, 0.5], [0, 1]])
    c = topsis(x, [0.5, 0.5], [False, True], normalisation="minmax")
    np.testing.assert_allclose(c, [0.5, 0.61722, 0.5], atol=5e-6)
    np.testing.assert_allclose(np.round(c, 3), [0.500, 0.617, 0.500])


def test_topsis_minmax_matches_pymcdm() -> None:
    """pymcdm 1.4 TOPSIS with ``minmax_normalization`` (its default), cost columns, to 1e-9."""
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import minmax_normalization

    rng = np.random.default_rng(13)
    x = rng.random((300, 8)) * [1, 10, 100, 5, 1, 1, 50, 2] - 0.5  # negative values too
    w = rng.random(8)
    types = np.array([1, -1, 1, 1, -1, 1, 1, -1])
    ref = TOPSIS(normalization_function=minmax_normalization)(x, w / w.sum(), types)
    np.testing.assert_allclose(topsis(x, w, types, normalisation="minmax"), ref, atol=1e-9)
    np.testing.assert_allclose(TOPSIS()(x, w / w.sum(), types), ref, atol=0)  # its default
    ref_air = TOPSIS()(AIRCRAFT, AIRCRAFT_W, np.where(AIRCRAFT_BENEFIT, 1, -1))
    ours = topsis(AIRCRAFT, AIRCRAFT_W, AIRCRAFT_BENEFIT, normalisation="minmax")
    np.testing.assert_allclose(ours, ref_air, atol=1e-9)


def test_topsis_minmax_matches_scikit_criteria() -> None:
    """scikit-criteria 0.10: MinMaxScaler on the matrix, then TOPSIS, to 1e-9.

    skcriteria scales a cost column as (x − min) / (max − min) and keeps it a cost (ideal =
    min); evalkit reverses it to (max − x) / (max − min), a benefit: the same distances.
    """
    import skcriteria as skc
    from skcriteria.agg.topsis import TOPSIS
    from skcriteria.pipelines import mkpipe
    from skcriteria.preprocessing.scalers import MinMaxScaler

    rng = np.random.default_rng(14)
    x = rng.random((200, 6)) * 100 + 1
    w = rng.random(6)
    benefit = np.array([True, False, True, True, False, True])
    dm = skc.mkdm(x, [max if b else min for b in benefit], weights=w / w.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skcriteria warns about minimisation objectives
        res = mkpipe(MinMaxScaler(target="matrix"), TOPSIS()).evaluate(dm)
    ours = topsis(x, w, benefit, normalisation="minmax")
    np.testing.assert_allclose(ours, res.e_.similarity, atol=1e-9)


def test_topsis_minmax_constant_column_adds_nothing() -> None:
    rng = np.random.default_rng(15)
    x = rng.random((30, 4))
    x[:, 2] = 7.0  # every candidate alike on criterion 2 (max = min: no 0/0)
    w = np.array([0.1, 0.4, 0.3, 0.2])
    b = np.array([True, False, False, True])
    with np.errstate(all="raise"):
        c = topsis(x, w, b, normalisation="minmax")
    np.testing.assert_array_equal(_minmax_normalise(x, b)[:, 2], np.ones(30))
    # Dropping the constant column (and its weight) leaves the closeness unchanged: it adds 0
    # to both distances, and closeness is invariant to a common factor on the weights.
    keep = [0, 1, 3]
    np.testing.assert_allclose(c, topsis(x[:, keep], w[keep], b[keep], normalisation="minmax"))
    from pymcdm.methods import TOPSIS

    np.testing.assert_allclose(c, TOPSIS()(x, w, np.where(b, 1, -1)), atol=1e-12)
    # Every column constant: all candidates alike → 0.5, as with vector normalisation.
    np.testing.assert_allclose(topsis(np.ones((3, 2)), [1, 1], normalisation="minmax"), 0.5)


def test_topsis_minmax_is_shift_and_scale_invariant() -> None:
    rng = np.random.default_rng(16)
    x = rng.random((25, 3))
    w, b = [2, 1, 1], [True, False, True]
    c = topsis(x, w, b, normalisation="minmax")
    shifted = x * [10, 0.5, 3] + [-100, 4, 1e3]  # positive rescaling plus any shift
    np.testing.assert_allclose(topsis(shifted, w, b, normalisation="minmax"), c, atol=1e-12)


def test_topsis_default_normalisation_is_vector_and_unchanged() -> None:
    """The default keeps the vector normalisation, bit for bit (published reports use it)."""
    assert list(NORMALISATIONS) == ["vector", "minmax"]
    rng = np.random.default_rng(17)
    x = rng.random((60, 4)) * [1, 10, 100, 1000]
    w = np.array([0.4, 0.3, 0.2, 0.1])
    b = np.array([True, False, True, True])
    default = topsis(x, w, b)
    np.testing.assert_array_equal(default, topsis(x, w, b, normalisation="vector"))
    # Hwang & Yoon written out: v = x · w / ‖x‖, ideal/anti-ideal per direction.
    v = x * (w / np.sqrt((x * x).sum(axis=0)))
    best = np.where(b, v.max(axis=0), v.min(axis=0))
    worst = np.where(b, v.min(axis=0), v.max(axis=0))
    dp = np.sqrt(((v - best) ** 2).sum(axis=1))
    dn = np.sqrt(((v - worst) ** 2).sum(axis=1))
    np.testing.assert_allclose(default, dn / (dp + dn), rtol=1e-12)
    # robustness' batch kernel (vector only) still agrees with it.
    np.testing.assert_allclose(_topsis_batch(x, w[None, :], b)[0], default, rtol=1e-12)


def test_topsis_bounds_and_degenerate_cases() -> None:
    rng = np.random.default_rng(5)
    x = rng.random((50, 4))
    c = topsis(x, [1, 1, 1, 1])
    assert np.all((c >= 0) & (c <= 1))
    # A candidate best on every benefit criterion is the ideal: closeness exactly 1;
    # one worst on all is the anti-ideal: 0.
    x[0] = 2.0
    x[1] = -0.0
    c = topsis(x, [1, 2, 3, 4])
    assert c[0] == 1.0 and c[1] == 0.0
    # All alike: no distance either way → 0.5 by convention.
    np.testing.assert_allclose(topsis(np.ones((3, 2)), [1, 1]), [0.5, 0.5, 0.5])


def test_weighted_sum_normalises_weights() -> None:
    # (80·2 + 60·1 + 70·1) / 4 = (160 + 60 + 70) / 4 = 72.5; (50·2 + 90 + 90) / 4 = 70.
    s = weighted_sum([[80, 60, 70], [50, 90, 90]], [2, 1, 1])
    np.testing.assert_allclose(s, [72.5, 70.0])
    np.testing.assert_allclose(weighted_sum([1, 2, 3], [5]), [1, 2, 3])  # 1-D: one criterion


def test_batch_kernels_agree_with_single_calls() -> None:
    rng = np.random.default_rng(8)
    x = rng.random((40, 3))
    wd = rng.dirichlet([2, 3, 4], size=6)
    b = np.array([True, False, True])
    batch = _topsis_batch(x, wd, b)
    for i in range(6):
        np.testing.assert_allclose(batch[i], topsis(x, wd[i], b), rtol=1e-12)
    # Per-draw matrices (c, n, m) give the same as one shared matrix.
    xs = np.broadcast_to(x, (6, 40, 3))
    np.testing.assert_allclose(_topsis_batch(xs, wd, b), batch, rtol=1e-12)
    np.testing.assert_allclose(_ws_batch(xs, wd, b), _ws_batch(x, wd, b), rtol=1e-12)
    assert set(METHODS) == {"weighted_sum", "topsis"}


@pytest.mark.parametrize("method", list(METHODS))
def test_every_ranking_method_honours_the_kernel_contract(method: str) -> None:
    """Contract of a :data:`METHODS` entry: ``(x, W, benefit, mask=None) -> (draws, n)``, one
    draw is the method's single call, per-draw matrices equal a shared one, higher is better,
    and a mask leaves the masked candidates' scores out of the others'."""
    assert isinstance(METHODS, Registry) and method in METHODS
    kernel = METHODS[method]
    rng = np.random.default_rng(11)
    x = rng.random((25, 3)) + 0.1
    wd = rng.dirichlet([2, 3, 4], size=5)
    b = np.ones(3, dtype=bool)
    scores = kernel(x, wd, b)
    assert scores.shape == (5, 25)
    single = {"weighted_sum": weighted_sum, "topsis": topsis}[method]
    np.testing.assert_allclose(scores[0], single(x, wd[0]), rtol=1e-12)
    np.testing.assert_allclose(kernel(np.broadcast_to(x, (5, 25, 3)), wd, b), scores, rtol=1e-12)
    best = np.argmax(x.sum(axis=1))
    x_up = x.copy()
    x_up[best] += 1.0  # better on every criterion: the top of every draw
    assert (np.argmax(kernel(x_up, wd, b), axis=1) == best).all()
    mask = np.ones((5, 25), dtype=bool)
    mask[:, 0] = False
    np.testing.assert_allclose(kernel(x, wd, b, mask=mask)[:, 1:], kernel(x[1:], wd, b), rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: topsis([[1, np.nan]], [1, 1]), "no missing values"),
        (lambda: topsis([[1, 2]], [1, -1]), "'w' parameter of topsis"),
        (lambda: topsis([[1, 2]], [1, 2, 3]), "2 non-negative numbers"),
        (lambda: topsis([[1, 2]], [1, 1], ["yes", "no"]), "'benefit' parameter"),
        (
            lambda: topsis([[1, 2]], [1, 1], normalisation="min-max"),
            (
                r"'normalisation' parameter of topsis must be one of \['vector', 'minmax'\]; "
                r"got 'min-max' instead. Did you mean 'minmax'\?"
            ),
        ),
        (lambda: topsis([[1, 2]], [1, 1], normalisation=None), "'normalisation' parameter"),
        (lambda: weighted_sum(np.ones((2, 2, 2)), [1, 1]), "2-D"),
    ],
)
def test_score_input_errors(call, needle: str) -> None:
    with pytest.raises(RankError, match=needle) as err:
        call()
    assert isinstance(err.value, EvalkitError)
    assert str(err.value).startswith("The '")


# --------------------------------------------------------------------------------------------
# Tie-break chain
# --------------------------------------------------------------------------------------------


def test_tie_break_chain_security_legality_date_app_id() -> None:
    score = [88.0, 90.0, 88.0, 88.0, 88.0, 70.0]
    security = [80, 60, 85, 80, 80, 99]
    legality = [70, 50, 10, 70, 70, 99]
    submitted = pd.to_datetime(
        ["2024-03-02", "2024-01-01", "2024-01-01", "2024-03-01", "2024-03-02", "2024-01-01"]
    )
    app_id = ["APP-9", "APP-1", "APP-2", "APP-3", "APP-4", "APP-5"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every tie is broken: no TieWarning
        ranks = rank_with_ties(
            score, security, legality, submitted, app_id, ascending=[False, False, True, True]
        )
    # 90 first (rank 1).  Among the four 88s, security 85 wins (rank 2); the three left tie
    # on security 80 and legality 70, so the earlier submission 03-01 (APP-3) is rank 3 and
    # the two submitted 03-02 go by app_id: APP-4 (rank 4) before APP-9 (rank 5).  70 last.
    assert ranks.tolist() == [5, 1, 2, 3, 4, 6]


def test_tie_warning_when_ties_remain_and_dense_ranks() -> None:
    with pytest.warns(TieWarning, match="2 candidates in 1 group"):
        ranks = rank_with_ties([5.0, 7.0, 5.0, 1.0], [1, 2, 1, 3])
    assert ranks.tolist() == [2, 1, 2, 3]  # dense: 1, 2, 2, 3 (no gap)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rank_with_ties([5.0, 5.0], warn=False).tolist() == [1, 1]


def test_tie_break_missing_key_sorts_last() -> None:
    # Higher security wins; a missing security score loses the tie whatever the direction.
    assert rank_with_ties([1, 1, 1], [np.nan, 3, 2]).tolist() == [3, 1, 2]
    assert rank_with_ties([1, 1, 1], [np.nan, 3, 2], ascending=[True]).tolist() == [3, 2, 1]


def test_tie_break_errors() -> None:
    with pytest.raises(RankError, match="one entry per tie-break key"):
        rank_with_ties([1, 2], [1, 2], ascending=[True, False])
    with pytest.raises(RankError, match="no missing values"):
        rank_with_ties([1, np.nan])
    with pytest.raises(RankError, match="2 values"):
        rank_with_ties([1, 2], [1, 2, 3])


def test_competition_ranks_match_scipy_min_method() -> None:
    rng = np.random.default_rng(2)
    s = rng.integers(0, 6, size=(50, 30)).astype(float)  # many ties
    expected = np.vstack([rankdata(-row, method="min") for row in s])
    np.testing.assert_array_equal(_competition_ranks(s), expected)


# --------------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------------


@pytest.fixture
def panel_scores() -> np.ndarray:
    """30 candidates × 4 dimension scores (0–100), seeded; candidate 0 dominates every other
    candidate on every dimension and candidate 1 is dominated by every other."""
    rng = np.random.default_rng(2024)
    x = rng.uniform(40, 90, size=(30, 4))
    x[0] = 99.0
    x[1] = 10.0
    return x


W4 = np.array([0.4, 0.2, 0.2, 0.2])


def test_robustness_is_reproducible_with_a_seed(panel_scores: np.ndarray) -> None:
    a = robustness(panel_scores, W4, 10, draws=400, seed=7)
    b = robustness(panel_scores, W4, 10, draws=400, seed=7)
    c = robustness(panel_scores, W4, 10, draws=400, seed=8)
    for name in ("p_listed", "rank_lo", "rank_median", "rank_hi"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.p_listed, c.p_listed)


def test_robustness_dominating_and_dominated(panel_scores: np.ndarray) -> None:
    for method in METHODS:
        res = robustness(panel_scores, W4, 5, draws=300, method=method, concentration=5.0)
        assert res.p_listed[0] == 1.0 and res.rank_lo[0] == res.rank_hi[0] == 1
        assert res.p_listed[1] == 0.0 and res.rank_lo[1] == res.rank_hi[1] == 30
        assert res.p_listed.sum() == pytest.approx(5.0)  # exactly k listed per draw


def test_robustness_matches_brute_force(panel_scores: np.ndarray) -> None:
    """Same Dirichlet draws, scored and ranked one by one with full sorts (scipy rankdata)."""
    k, draws, kappa = 8, 500, 50.0
    res = robustness(panel_scores, W4, k, draws=draws, concentration=kappa, seed=3)
    wd = np.random.default_rng(3).dirichlet(kappa * W4, size=draws)
    scores = wd @ panel_scores.T
    ranks = np.vstack([rankdata(-row, method="min") for row in scores])
    np.testing.assert_allclose(res.p_listed, (ranks <= k).mean(axis=0))
    for q, got in ((0.05, res.rank_lo), (0.5, res.rank_median), (0.95, res.rank_hi)):
        want = np.quantile(ranks, q, axis=0, method="inverted_cdf")
        np.testing.assert_array_equal(got, want)


def test_robustness_monotonic_and_intervals_contain_point_rank() -> None:
    # A ladder: candidate i beats candidate i+1 on every dimension by a small step, so
    # p_listed must not increase down the ladder and rank intervals must be ordered.
    base = np.linspace(90, 60, 20)[:, None] + np.array([0.0, 3.0, -2.0, 1.0])
    res = robustness(base, W4, 6, draws=500, concentration=20.0, seed=1)
    assert np.all(np.diff(res.p_listed) <= 0)
    assert np.all(np.diff(res.rank_median) >= 0)
    assert np.all((res.rank_lo <= res.point_rank) & (res.point_rank <= res.rank_hi))
    np.testing.assert_array_equal(res.point_rank, np.arange(1, 21))


def test_robustness_tighter_weights_give_narrower_intervals(panel_scores: np.ndarray) -> None:
    loose = robustness(panel_scores, W4, 10, draws=600, concentration=5.0, seed=0)
    tight = robustness(panel_scores, W4, 10, draws=600, concentration=5000.0, seed=0)
    assert (tight.rank_hi - tight.rank_lo).sum() < (loose.rank_hi - loose.rank_lo).sum()
    fixed = robustness(panel_scores, W4, 10, draws=50, concentration=None)
    # No noise at all: listed exactly when in the point top 10, intervals collapse.
    np.testing.assert_array_equal(fixed.p_listed, (fixed.point_rank <= 10).astype(float))
    np.testing.assert_array_equal(fixed.rank_lo, fixed.point_rank)
    np.testing.assert_array_equal(fixed.rank_hi, fixed.point_rank)
    assert np.all((loose.rank_lo <= loose.point_rank) & (loose.point_rank <= loose.rank_hi))


def test_robustness_chunking_and_rank_store_do_not_change_results(
    panel_scores: np.ndarray,
) -> None:
    ref = robustness(panel_scores, W4, 7, draws=333, seed=5, method="topsis")
    for kwargs in (
        {"chunk_size": 1},
        {"chunk_size": 50, "rank_store": "histogram"},
        {"rank_store": "ranks"},
    ):
        other = robustness(panel_scores, W4, 7, draws=333, seed=5, method="topsis", **kwargs)
        for name in ("p_listed", "rank_lo", "rank_median", "rank_hi"):
            np.testing.assert_array_equal(getattr(ref, name), getattr(other, name))


def test_robustness_rater_bootstrap(panel_scores: np.ndarray) -> None:
    rng = np.random.default_rng(9)
    # Nine raters = the point scores plus independent noise; 10 % of cells unscored.
    raters = panel_scores[None] + rng.normal(0, 8, size=(9, 30, 4))
    raters[rng.random(raters.shape) < 0.1] = np.nan
    x = np.nanmean(raters, axis=0)
    res = robustness(x, W4, 10, draws=400, concentration=None, x_draws=raters, seed=4)
    # Rater noise alone moves the borderline candidates, not the clear ones.
    assert res.p_listed[0] == 1.0 and res.p_listed[1] == 0.0
    assert 0 < close_call(res).sum() < 30
    # Identical raters: resampling them changes nothing.
    same = np.broadcast_to(x, (5, 30, 4))
    res_same = robustness(x, W4, 10, draws=50, concentration=None, x_draws=same)
    np.testing.assert_array_equal(res_same.p_listed, (res_same.point_rank <= 10).astype(float))
    # Replicates used as given (resample=False): one matrix per draw.
    reps = x[None] + rng.normal(0, 1, size=(60, 30, 4))
    res_rep = robustness(x, W4, 10, draws=60, x_draws=reps, resample=False, method="topsis")
    assert res_rep.p_listed.sum() == pytest.approx(10.0)


def test_robustness_result_face(panel_scores: np.ndarray) -> None:
    labels = [f"<app {i}>" for i in range(30)]
    res = robustness(panel_scores, W4, 10, draws=200, labels=labels)
    assert isinstance(res, RobustnessResult)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "point_score",
        "point_rank",
        "p_listed",
        "rank_lo",
        "rank_median",
        "rank_hi",
        "close_call",
    ]
    assert frame.index[0] == "<app 0>"
    page = res._repr_html_()
    assert "&lt;app 0&gt;" in page and "<app 0>" not in page
    assert "p_listed" in page


def test_close_call_bounds() -> None:
    p = np.array([0.0, 0.19, 0.2, 0.5, 0.8, 0.81, 1.0])
    assert close_call(p).tolist() == [False, False, True, True, True, False, False]
    with pytest.raises(RankError, match="lo ≤ hi"):
        close_call(p, 0.9, 0.1)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"k": 0}, "'k' parameter of robustness must be an integer in \\[1, 30\\]"),
        ({"k": 31}, "integer in \\[1, 30\\]"),
        ({"draws": 0}, "'draws' parameter"),
        ({"concentration": -1.0}, "'concentration' parameter"),
        ({"method": "topsys"}, "Did you mean 'topsis'\\?"),
        ({"x_draws": np.ones((3, 30, 5))}, "shape \\(R, 30, 4\\)"),
        ({"x_draws": np.ones((3, 30, 4)), "resample": False}, "exactly draws=1000"),
        ({"quantiles": (0.6, 0.9)}, "'quantiles' parameter"),
        ({"benefit": [True, False, True, True]}, "method='weighted_sum'"),
    ],
)
def test_robustness_input_errors(panel_scores: np.ndarray, kwargs: dict, needle: str) -> None:
    args = {"k": 5, **kwargs}
    k = args.pop("k")
    with pytest.raises(RankError, match=needle):
        robustness(panel_scores, W4, k, **args)
