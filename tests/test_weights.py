"""Tests for evalkit.mcda.weights: AHP, group judgments, entropy weights.

Worked examples come from published sources (named in each docstring); the arithmetic is in
the comments so that a reader can redo it by hand.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import EvalkitError
from evalkit.mcda.ahp import _ahp_kernel, geomean_kernel
from evalkit.mcda.weights import (
    RI_TABLES,
    SCALES,
    WEIGHT_METHODS,
    ReciprocityError,
    ScaleError,
    WeightsError,
    _entropy_kernel,
    ahp,
    combine_judgments,
    combine_weights,
    entropy,
    entropy_with_na,
    individual_cr,
    judgment_matrices,
    screen_judgments,
)
from evalkit.registry import Registry

# Saaty (1990), "How to make a decision: The Analytic Hierarchy Process", European Journal of
# Operational Research 48, 9–26: the house-buying example, pairwise comparison of the eight
# criteria (size of house, transportation, neighbourhood, age of house, yard space, modern
# facilities, general condition, financing).
HOUSE = np.array(
    [
        [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
        [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
        [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
        [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
        [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
        [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
        [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
        [4, 7, 5, 8, 6, 6, 2, 1],
    ]
)
HOUSE_WEIGHTS = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]


def _random_reciprocal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random reciprocal matrix with judgments on Saaty's 1/9…9 scale."""
    scale = np.array([1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 3, 5, 7, 9])
    m = np.ones((n, n))
    iu = np.triu_indices(n, 1)
    m[iu] = rng.choice(scale, size=len(iu[0]))
    m[(iu[1], iu[0])] = 1 / m[iu]
    return m


# --------------------------------------------------------------------------------------------
# AHP: published examples
# --------------------------------------------------------------------------------------------


def test_consistent_matrix_from_known_weights() -> None:
    """A matrix built as m_ij = w_i / w_j is perfectly consistent (Saaty 1980, ch. 1).

    With w = (0.5, 0.25, 0.125, 0.125): m = [[1, 2, 4, 4], [1/2, 1, 2, 2], [1/4, 1/2, 1, 1],
    [1/4, 1/2, 1, 1]].  Then m·w = (0.5+0.5+0.5+0.5, …) = 4·w, so the principal eigenvector is
    w itself, λmax = n = 4, CI = (4 − 4)/3 = 0 and CR = 0.
    """
    w = np.array([0.5, 0.25, 0.125, 0.125])
    m = w[:, None] / w[None, :]
    res = ahp(m)
    np.testing.assert_allclose(res.weights, w, atol=1e-12)
    assert res.lambda_max == pytest.approx(4.0, abs=1e-9)
    assert res.ci == pytest.approx(0.0, abs=1e-9)
    assert res.cr == pytest.approx(0.0, abs=1e-9)
    assert res.consistent is True
    assert res.ri == 0.90  # Saaty 1980, n = 4


def test_saaty_1990_house_criteria_inconsistent() -> None:
    """Saaty (1990) EJOR 48:9–26, house example, criteria matrix (8 × 8).

    Printed: priorities 0.173 0.054 0.188 0.018 0.031 0.036 0.167 0.333, λmax = 9.669,
    C.I. = 0.238, C.R. = 0.169 — above 0.10, so Saaty calls for revising the judgments.
    Arithmetic: CI = (9.669 − 8) / 7 = 0.2384; CR = 0.2384 / RI(8) = 0.2384 / 1.41 = 0.1691.
    (Verified against two independent reproductions of this example in public repositories;
    the printed figures are given to three decimals.)
    """
    res = ahp(HOUSE)
    assert res.lambda_max == pytest.approx(9.669, abs=5e-4)
    assert res.ci == pytest.approx(0.238, abs=5e-4)
    assert res.cr == pytest.approx(0.169, abs=5e-4)
    np.testing.assert_allclose(res.weights, HOUSE_WEIGHTS, atol=5e-4)
    assert res.consistent is False
    assert res.ri == 1.41
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_saaty_1990_financing_3x3_consistent() -> None:
    """Saaty (1990), house example: the three houses A, B, C compared on financing.

    m = [[1, 1/7, 1/5], [7, 1, 3], [5, 1/3, 1]].  Printed: 0.072, 0.650, 0.278;
    λmax = 3.065; CI = (3.065 − 3)/2 = 0.032; CR = 0.032 / RI(3) = 0.032 / 0.58 = 0.056 < 0.10.
    The exact eigenvector is (0.0719, 0.6491, 0.2790): the printed 0.650 / 0.278 differ in the
    third decimal (rounding in the paper), hence the 2e-3 tolerance on the weights.
    """
    res = ahp([[1, 1 / 7, 1 / 5], [7, 1, 3], [5, 1 / 3, 1]])
    assert res.lambda_max == pytest.approx(3.065, abs=5e-4)
    assert res.ci == pytest.approx(0.032, abs=5e-4)
    assert res.cr == pytest.approx(0.056, abs=5e-4)
    np.testing.assert_allclose(res.weights, [0.072, 0.650, 0.278], atol=2e-3)
    assert res.consistent is True


def test_ri_tables_values() -> None:
    # Saaty 1980 (n = 3…10) and Tummala & Ling 1998 (as used by pymcdm).
    assert RI_TABLES["saaty1980"][2:10] == (0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)
    assert RI_TABLES["tummala_ling1998"][2:5] == (0.5799, 0.8921, 1.1159)
    res = ahp(HOUSE, ri="tummala_ling1998")
    # Same CI, other RI: CR = 0.23841 / 1.3952 = 0.17088.
    assert res.ri == 1.3952
    assert res.cr == pytest.approx(res.ci / 1.3952, rel=1e-12)
    assert res.cr == pytest.approx(0.1709, abs=1e-4)
    custom = ahp(HOUSE, ri=[0, 0, 0.5, 0.9, 1.1, 1.2, 1.3, 2.0])
    assert custom.ri_table == "custom" and custom.cr == pytest.approx(custom.ci / 2.0)


@pytest.mark.parametrize("n", [3, 4, 5, 7, 9, 12])
def test_ahp_matches_pymcdm_with_tummala_ling(n: int) -> None:
    """pymcdm 1.4 AHP (eigenvector weights, CR with the Tummala & Ling RI table), to 1e-9."""
    from pymcdm.weights.subjective import AHP

    m = _random_reciprocal(n, np.random.default_rng(100 + n))
    ours = ahp(m, ri="tummala_ling1998")
    ref = AHP(matrix=m)
    np.testing.assert_allclose(ours.weights, ref(), atol=1e-9)
    assert ours.cr == pytest.approx(ref.get_cr(), abs=1e-9)


def test_small_matrices() -> None:
    one = ahp([[1.0]])
    assert one.weights.tolist() == [1.0] and one.cr == 0.0 and one.consistent
    two = ahp([[1, 3], [1 / 3, 1]])
    # m·w = λ w with w = (3/4, 1/4): (3/4 + 3/4, 1/4 + 1/4) = 2·w.
    np.testing.assert_allclose(two.weights, [0.75, 0.25])
    assert two.lambda_max == 2.0 and two.ci == 0.0 and two.cr == 0.0


def test_ahp_dataframe_labels_and_html() -> None:
    df = pd.DataFrame(
        [[1, 3], [1 / 3, 1]], index=["<legality>", "security"], columns=["<legality>", "security"]
    )
    res = ahp(df)
    assert res.labels == ("<legality>", "security")
    page = res._repr_html_()
    assert "&lt;legality&gt;" in page and "<legality>" not in page
    assert "0.7500" in page


def test_ahp_kernel_direct() -> None:
    w, lam = _ahp_kernel(HOUSE)
    assert lam == pytest.approx(9.6689, abs=1e-4)
    assert np.all(w > 0) and w.sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------
# AHP: input checks
# --------------------------------------------------------------------------------------------


def test_reciprocity_error_names_the_pair() -> None:
    m = np.array([[1, 2, 3], [0.5, 1, 4], [1 / 3, 4, 1]])  # m[2,1] should be 1/4
    with pytest.raises(ReciprocityError) as err:
        ahp(m)
    msg = str(err.value)
    assert msg.startswith("The 'm' parameter of ahp must be reciprocal")
    assert "m[1, 2] = 4" in msg and "m[2, 1] = 4" in msg
    assert isinstance(err.value, EvalkitError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("m", "needle"),
    [
        ([[2, 1], [1, 1]], "ones on its diagonal"),
        ([[1, -2], [-0.5, 1]], "finite positive"),
        ([[1, np.nan], [1, 1]], "finite positive"),
    ],
)
def test_reciprocity_error_cases(m: list, needle: str) -> None:
    with pytest.raises(ReciprocityError, match=needle):
        ahp(m)


def test_rounded_judgments_need_a_looser_tolerance() -> None:
    m = [[1, 3, 5], [0.333, 1, 2], [0.2, 0.5, 1]]  # 3 × 0.333 = 0.999
    with pytest.raises(ReciprocityError):
        ahp(m)
    assert ahp(m, rtol=1e-2).weights.shape == (3,)


def test_shape_and_table_errors() -> None:
    with pytest.raises(WeightsError, match="square"):
        ahp([[1, 2, 3], [0.5, 1, 1]])
    with pytest.raises(WeightsError, match="at most 15 rows"):
        ahp(np.ones((16, 16)))
    with pytest.raises(WeightsError, match="Did you mean 'saaty1980'"):
        ahp(HOUSE, ri="saaty1908")
    with pytest.raises(WeightsError, match="threshold"):
        ahp(HOUSE, threshold=2)


# --------------------------------------------------------------------------------------------
# AHP: Saaty's 1/9…9 scale
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_every_saaty_scale_value_is_accepted(value: float) -> None:
    """Saaty (1980), *The Analytic Hierarchy Process*, the fundamental scale: 1 equal, 3
    moderate, 5 strong, 7 very strong, 9 extreme importance, 2/4/6/8 in between, and the
    reciprocals 1/2 … 1/9 for the inverse comparison.  Every value of it passes."""
    # m = [[1, v], [1/v, 1]] → weights (v / (1 + v), 1 / (1 + v)).
    res = ahp([[1, value], [1 / value, 1]])
    np.testing.assert_allclose(res.weights, [value / (1 + value), 1 / (1 + value)])


@pytest.mark.parametrize("typed", [0.11, 0.111, 0.1111])
def test_scale_tolerates_one_ninth_typed_as_a_decimal(typed: float) -> None:
    # 1/9 typed as 0.11 is 1 % off (0.11 · 9 = 0.99), within SCALE_RTOL = 2 %; only the
    # reciprocity check needs a looser rtol for it (9 · 0.11 = 0.99, not 1).
    assert ahp([[1, 9], [typed, 1]], rtol=2e-2).n == 2
    assert ahp([[1, 1 / typed], [typed, 1]]).n == 2  # 1/0.11 = 9.09: also within 2 %


def test_judgment_off_the_saaty_scale_is_refused_and_named() -> None:
    """Saaty (1980) bounds a judgment to 1/9…9; the random index RI(n) is the mean CI of
    random matrices on that scale, so a CR of a matrix off it means nothing.

    Here 12 (> 9) and 1/10 (< 1/9) are refused; the message names each pair once (upper
    triangle: m[0, 1] = 12 for 12 and its reciprocal 1/12; m[1, 2] = 0.1 for 1/10 and 10).
    """
    m = np.array([[1, 12, 3], [1 / 12, 1, 1 / 10], [1 / 3, 10, 1]])
    with pytest.raises(ScaleError) as err:
        ahp(m)
    msg = str(err.value)
    assert msg == (
        "The 'm' parameter of ahp must be a matrix of judgments on Saaty's 1/9…9 scale "
        "(scale='free' allows any positive ratio); got m[0, 1] = 12, m[1, 2] = 0.1 instead."
    )
    assert isinstance(err.value, WeightsError) and isinstance(err.value, EvalkitError)
    assert isinstance(err.value, ValueError)
    # The switch: any positive ratio is accepted (and the result is the usual eigenvector).
    free = ahp(m, scale="free")
    np.testing.assert_allclose(free.weights, _ahp_kernel(m)[0])


def test_scale_error_lists_at_most_five_pairs() -> None:
    w = 2.0 ** np.arange(8)  # m_ij = w_i / w_j: 2^7 = 128 at the corners, off the scale
    m = w[:, None] / w[None, :]
    with pytest.raises(ScaleError, match=r"m\[0, 4\] = 0.0625, .* and \d+ more pair\(s\)"):
        ahp(m)
    assert ahp(m, scale="free").weights == pytest.approx(w / w.sum())


def test_scale_parameter_is_checked() -> None:
    assert SCALES == ("saaty", "free")
    with pytest.raises(WeightsError, match=r"'scale' parameter of ahp .* Did you mean 'saaty'"):
        ahp(HOUSE, scale="Saaty")
    with pytest.raises(WeightsError, match=r"'scale' parameter of ahp must be one of"):
        ahp(HOUSE, scale=None)


def test_scale_check_follows_the_reciprocity_check() -> None:
    # A non-reciprocal matrix off the scale reports the reciprocity problem first, as before.
    with pytest.raises(ReciprocityError):
        ahp([[1, 12], [12, 1]])


# --------------------------------------------------------------------------------------------
# Group judgments
# --------------------------------------------------------------------------------------------


def test_combine_judgments_geometric_mean() -> None:
    """Element-wise geometric mean (Aczél & Saaty 1983).

    Experts say a/b = 2 and a/b = 8: the group judgment is sqrt(2·8) = 4 and b/a = 1/4 —
    reciprocal, unlike the arithmetic mean (5 vs (1/2 + 1/8)/2 = 0.3125 ≠ 1/5).
    """
    m1 = [[1, 2], [1 / 2, 1]]
    m2 = [[1, 8], [1 / 8, 1]]
    g = combine_judgments([m1, m2])
    np.testing.assert_allclose(g, [[1, 4], [1 / 4, 1]])
    # Weighted (3:1): exp((3 ln 2 + ln 8)/4) = exp(6 ln 2 / 4) = 2^1.5 = 2.8284.
    gw = combine_judgments(np.array([m1, m2]), weights=[3, 1])
    assert gw[0, 1] == pytest.approx(2**1.5)
    assert gw[1, 0] == pytest.approx(2**-1.5)


def test_combine_judgments_of_house_panel_stays_reciprocal() -> None:
    rng = np.random.default_rng(7)
    mats = [_random_reciprocal(6, rng) for _ in range(5)]
    g = combine_judgments(mats)
    np.testing.assert_allclose(g * g.T, np.ones((6, 6)), rtol=1e-12)
    assert ahp(g).weights.shape == (6,)


def test_combine_judgments_checks_the_scale_of_each_expert() -> None:
    good = [[1, 2], [0.5, 1]]
    off = [[1, 20], [0.05, 1]]
    with pytest.raises(
        ScaleError, match=r"'matrices\[1\]' parameter .* matrices\[1\]\[0, 1\] = 20"
    ):
        combine_judgments([good, off])
    # sqrt(2 · 20) = 6.32: back on the scale, but the expert's 20 was not.
    g = combine_judgments([good, off], scale="free")
    assert g[0, 1] == pytest.approx(math.sqrt(40))
    assert ahp(g).n == 2  # the group matrix itself is on the scale


def test_judgment_matrices_group_matrix_passes_the_scale_check() -> None:
    """Judgments are refused off 1/9…9 when read; a geometric mean of values in [1/9, 9] is
    in [1/9, 9], so JudgmentMatrices.ahp never trips the default scale check."""
    rows = [("e1", "d", "a", "b", 9.0), ("e2", "d", "a", "b", 9.0), ("e1", "d", "a", "c", 1 / 9)]
    rows += [("e1", "d", "b", "c", 1 / 9), ("e2", "d", "b", "c", 1 / 9)]
    jm = judgment_matrices(pd.DataFrame(rows, columns=["expert_id", "level", "a", "b", "value"]))
    assert jm.problems == ()
    res = jm.ahp("d")
    assert res.labels == ("a", "b", "c") and res.weights.sum() == pytest.approx(1.0)
    assert jm.ahp("d", scale="free").weights.tolist() == res.weights.tolist()


def test_combine_judgments_errors() -> None:
    good = [[1, 2], [0.5, 1]]
    with pytest.raises(ReciprocityError, match="'matrices\\[1\\]' parameter"):
        combine_judgments([good, [[1, 2], [2, 1]]])
    with pytest.raises(WeightsError, match="one shape"):
        combine_judgments([good, np.ones((3, 3))])
    with pytest.raises(WeightsError, match="at least one"):
        combine_judgments([])
    with pytest.raises(WeightsError, match="'weights' parameter"):
        combine_judgments([good, good], weights=[1, -1])


def test_geomean_kernel_ignores_nan() -> None:
    stack = np.array([[[1, 2], [0.5, 1]], [[1, np.nan], [np.nan, 1]]])
    out = geomean_kernel(stack, np.ones(2))
    np.testing.assert_allclose(out, [[1, 2], [0.5, 1]])


def _judgments() -> pd.DataFrame:
    # Two experts at level "dimensions" (items F, L, S), one at level "security" (S01, S02).
    rows = [
        ("e1", "dimensions", "L", "F", 3.0),
        ("e1", "dimensions", "L", "S", 5.0),
        ("e1", "dimensions", "F", "S", 2.0),
        ("e2", "dimensions", "F", "L", 1 / 2),  # reversed orientation: L/F = 2
        ("e2", "dimensions", "L", "S", 7.0),
        # e2 left out the pair (F, S)
        ("e3", "security", "S01", "S02", 4.0),
    ]
    return pd.DataFrame(rows, columns=["expert_id", "level", "a", "b", "value"])


def test_judgment_matrices_builds_levels_and_reports_missing() -> None:
    jm = judgment_matrices(_judgments())
    assert jm.items == {"dimensions": ("F", "L", "S"), "security": ("S01", "S02")}
    assert jm.experts["dimensions"] == ("e1", "e2")
    ind = jm.individual["dimensions"]
    # e1: m[L, F] = 3 → m[F, L] = 1/3; e2: m[F, L] = 1/2.
    assert ind[0, 0, 1] == pytest.approx(1 / 3)
    assert ind[1, 0, 1] == pytest.approx(1 / 2)
    assert np.isnan(ind[1, 0, 2])  # e2 never compared F with S
    g = jm.matrices["dimensions"]
    # Group: m[F, L] = sqrt(1/3 · 1/2) = 0.4082; m[L, S] = sqrt(5 · 7) = 5.9161;
    # m[F, S] = 2 (only e1 judged it).
    assert g[0, 1] == pytest.approx(math.sqrt(1 / 6))
    assert g[1, 2] == pytest.approx(math.sqrt(35))
    assert g[0, 2] == pytest.approx(2.0)
    np.testing.assert_allclose(g * g.T, np.ones((3, 3)))
    assert jm.missing.to_dict("records") == [
        {"level": "dimensions", "expert_id": "e2", "a": "F", "b": "S"}
    ]
    assert jm.complete("dimensions") and jm.complete("security")
    assert jm.ahp("security").weights.tolist() == pytest.approx([0.8, 0.2])
    assert jm.problems == ()


def test_judgment_matrices_problems_and_incomplete_level() -> None:
    df = pd.concat(
        [
            _judgments(),
            pd.DataFrame(
                [
                    ("e1", "dimensions", "L", "F", 12.0),  # row 7: off the 1/9…9 scale
                    ("e1", "dimensions", "F", "L", 3.0),  # row 8: contradicts row 1 (L/F = 3)
                    ("e3", "security", "S01", "S01", 1.0),  # row 9: self-comparison
                    ("e3", "content", "C01", "C02", 2.0),  # row 10: C03 never compared
                    ("e3", "security", "S01", "S09", 2.0),  # row 11: S09 not in the fixed list
                ],
                columns=["expert_id", "level", "a", "b", "value"],
            ),
        ],
        ignore_index=True,
    )
    jm = judgment_matrices(df, items={"content": ["C01", "C02", "C03"], "security": ["S01", "S02"]})
    text = [str(p) for p in jm.problems]
    assert "ahp_judgments:7:value: must be a judgment on Saaty's scale 1/9…9" in text
    assert any(t.startswith("ahp_judgments:1:value: contradicts") for t in text)
    assert any(t.startswith("ahp_judgments:8:value: contradicts") for t in text)
    assert any(t.startswith("ahp_judgments:9:b: must differ") for t in text)
    assert any(t.startswith("ahp_judgments:11:b: is not an item of level 'security'") for t in text)
    # The contradicting pair (L, F) of e1 is dropped: only e2's judgment is left.
    assert np.isnan(jm.individual["dimensions"][0, 0, 1])
    assert jm.matrices["dimensions"][0, 1] == pytest.approx(0.5)
    assert not jm.complete("content")
    assert jm.missing_pairs("content") == [("C01", "C03"), ("C02", "C03")]
    with pytest.raises(WeightsError, match="no expert judged"):
        jm.ahp("content")
    with pytest.raises(WeightsError, match="Did you mean 'content'"):
        jm.ahp("contnet")


def test_judgment_matrices_agreeing_repeats_are_fine() -> None:
    df = pd.DataFrame(
        [("e1", "d", "a", "b", 7.0), ("e1", "d", "b", "a", 0.14)],  # 7 × 0.14 = 0.98
        columns=["expert_id", "level", "a", "b", "value"],
    )
    jm = judgment_matrices(df)
    assert jm.problems == ()
    # Geometric mean of 7 and 1/0.14 = 7.1429: sqrt(7 · 7.1429) = 7.0711.
    assert jm.matrices["d"][0, 1] == pytest.approx(math.sqrt(7 / 0.14))
    # 9 against 1/8 (a neighbouring scale value) is a contradiction, not a typo.
    clash = judgment_matrices(
        pd.DataFrame(
            [("e1", "d", "a", "b", 9.0), ("e1", "d", "b", "a", 1 / 8)],
            columns=["expert_id", "level", "a", "b", "value"],
        )
    )
    assert [p.row for p in clash.problems] == [1, 2]


def test_judgment_matrices_missing_column() -> None:
    with pytest.raises(WeightsError, match="must have the columns"):
        judgment_matrices(pd.DataFrame({"expert_id": ["e1"]}))


# --------------------------------------------------------------------------------------------
# Entropy weights
# --------------------------------------------------------------------------------------------


def test_entropy_hand_example() -> None:
    """Shannon entropy weights, worked by hand (Hwang & Yoon 1981, §4.1.2 formulas).

    x = [[1, 1, 0], [1, 3, 2]] (2 alternatives, 3 criteria), ln m = ln 2.
    column 1: p = (1/2, 1/2) → e = −2·(1/2)ln(1/2)/ln 2 = 1 → d = 0.
    column 2: p = (1/4, 3/4) → e = −(0.25 ln 0.25 + 0.75 ln 0.75)/ln 2 = 0.811278 → d = 0.188722.
    column 3: p = (0, 1) → e = −(0·ln 0 + 1·ln 1)/ln 2 = 0 (0·ln 0 = 0) → d = 1.
    w = d / Σd = (0, 0.188722, 1) / 1.188722 = (0, 0.158760, 0.841240).
    """
    w = entropy([[1, 1, 0], [1, 3, 2]])
    np.testing.assert_allclose(w, [0.0, 0.158760, 0.841240], atol=1e-6)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


def test_entropy_properties() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((30, 5)) + 0.1
    w = entropy(x)
    assert w.sum() == pytest.approx(1.0) and np.all(w >= 0)
    # Scale invariance per column: p_ij does not change when a column is multiplied.
    np.testing.assert_allclose(entropy(x * [1, 10, 100, 0.5, 3]), w, rtol=1e-12)
    # No discriminating criterion → equal weights.
    np.testing.assert_allclose(entropy(np.ones((4, 3))), [1 / 3] * 3)
    np.testing.assert_allclose(_entropy_kernel(x), w)


@pytest.mark.parametrize(
    ("x", "needle"),
    [
        ([[1, 2, 3]], "at least 2 rows"),
        ([[1, -1], [2, 2]], "non-negative"),
        ([[0, 1], [0, 2]], "column\\(s\\) \\[0\\]"),
        ([[np.nan, 1], [1, 1]], "no missing values"),
    ],
)
def test_entropy_errors(x: list, needle: str) -> None:
    with pytest.raises(WeightsError, match=needle):
        entropy(x)


def test_no_warnings_on_clean_input() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entropy([[1, 1, 0], [1, 3, 2]])
        ahp(HOUSE)


# --------------------------------------------------------------------------------------------
# Entropy weights over present values, combination with AHP weights, consistency screening
# --------------------------------------------------------------------------------------------


def test_entropy_with_na_hand_example() -> None:
    """Entropy weights when a criterion does not apply to every alternative (NaN), by hand.

    x = [[1, 3], [1, NaN], [2, 1]].
    column 1: m = 3, p = (1/4, 1/4, 1/2), −Σ p ln p = 2·0.25·ln 4 + 0.5·ln 2 = 1.039721;
              e = 1.039721 / ln 3 = 0.946395 → d = 0.053605.
    column 2: m = 2 (row 2 absent), p = (3/4, 1/4), −Σ p ln p = 0.562335;
              e = 0.562335 / ln 2 = 0.811278 → d = 0.188722.
    w = (0.053605, 0.188722) / 0.242327 = (0.221211, 0.778789).
    """
    w = entropy_with_na([[1, 3], [1, np.nan], [2, 1]])
    np.testing.assert_allclose(w, [0.221211, 0.778789], atol=1e-6)
    # without NaN it is the entropy method itself
    x = np.random.default_rng(5).random((12, 4))
    np.testing.assert_allclose(entropy_with_na(x), entropy(x), rtol=1e-12)
    # a criterion present once, or zero everywhere, carries no information; none at all: equal
    np.testing.assert_allclose(entropy_with_na([[1, 5, 0], [3, np.nan, 0]]), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(entropy_with_na([[np.nan, 2], [np.nan, 2]]), [0.5, 0.5])
    with pytest.raises(WeightsError, match="must be non-negative; got 1 negative"):
        entropy_with_na([[1, -2], [1, 1]])


def test_combine_weights_multiplicative_hand_example() -> None:
    """Hwang & Yoon (1981) §4.1.2: a priori weights λ adapt the entropy weights w to
    λ_j w_j / Σ λ_k w_k.  λ = (0.5, 0.3, 0.2), w = (0.2, 0.3, 0.5): products (0.10, 0.09,
    0.10), sum 0.29 → (0.344828, 0.310345, 0.344828)."""
    np.testing.assert_allclose(combine_weights([0.5, 0.3, 0.2], [0.2, 0.3, 0.5]),
                               [0.10 / 0.29, 0.09 / 0.29, 0.10 / 0.29], rtol=1e-12)
    # every product 0: the subjective weights, normalised
    np.testing.assert_allclose(combine_weights([2, 2], [0, 0]), [0.5, 0.5])
    with pytest.raises(WeightsError, match="shape"):
        combine_weights([1, 2], [1, 2, 3])


def test_screen_judgments_excludes_inconsistent_and_incomplete_experts() -> None:
    """Saaty (1980): CR ≤ 0.10 is acceptable.  Four experts judge three items.

    A: weights (4, 2, 1), perfectly consistent (CR 0).  B: weights (3, 2, 1), consistent.
    C: a 9-cycle (a ≫ b ≫ c ≫ a), circulant: λmax = 1 + 9 + 1/9 = 10.1111,
       CI = (10.1111 − 3)/2 = 3.5556, CR = 3.5556 / 0.58 = 6.1303 → excluded.
    D: leaves the pair (b, c) out → no CR → excluded.
    The group matrix is the geometric mean of A and B: m_ab = √(2·1.5) = 1.7321,
    m_ac = √(4·3) = 3.4641, m_bc = √(2·2) = 2 (= m_ac / m_ab: consistent, CR 0).
    """
    A = [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]
    B = [[1, 1.5, 3], [1 / 1.5, 1, 2], [1 / 3, 1 / 2, 1]]
    C = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    D = [[1, 2, 4], [1 / 2, 1, np.nan], [1 / 4, np.nan, 1]]
    crs = individual_cr(np.array([A, B, C, D]))
    np.testing.assert_allclose(crs[:3], [0, 0, 6.130268], atol=1e-6)
    assert np.isnan(crs[3])
    sj = screen_judgments(np.array([A, B, C, D]))
    assert sj.kept.tolist() == [True, True, False, False] and sj.complete
    np.testing.assert_allclose(sj.matrix[0], [1, math.sqrt(3), math.sqrt(12)], rtol=1e-12)
    assert sj.matrix[1, 2] == pytest.approx(2.0) and ahp(sj.matrix).cr == pytest.approx(0.0, abs=1e-9)
    # nobody acceptable: an all-NaN matrix
    none = screen_judgments(np.array([C]))
    assert not none.kept.any() and not none.complete
    with pytest.raises(WeightsError, match="max_cr"):
        screen_judgments(np.array([A]), max_cr=0)


# --------------------------------------------------------------------------------------------
# Weight methods (a profile's weights.method)
# --------------------------------------------------------------------------------------------


def test_weight_methods_are_the_profile_names() -> None:
    assert isinstance(WEIGHT_METHODS, Registry)
    assert list(WEIGHT_METHODS) == ["ahp", "entropy", "combined"]
    assert [m.uses_scores for m in WEIGHT_METHODS.values()] == [False, True, True]
    with pytest.raises(EvalkitError, match="Did you mean 'entropy'"):
        WEIGHT_METHODS.lookup("entropie", param="method", func="profile")


@pytest.mark.parametrize("name", list(WEIGHT_METHODS))
def test_every_weight_method_gives_weights(name: str) -> None:
    """Contract of a :data:`WEIGHT_METHODS` entry: from the stated weights and (when it uses
    them) the criterion scores, non-negative weights summing to 1; ``ahp`` keeps the stated
    ones, ``entropy`` the entropy weights, ``combined`` their renormalised product."""
    method = WEIGHT_METHODS[name]
    assert method.name == name
    stated = [0.5, 0.3, 0.2]
    scores = np.array([[90, 50, np.nan], [80, 95, 60], [85, 40, 70], [70, 90, 65]], dtype=float)
    objective = method.objective(scores) if method.uses_scores else None
    w = method.combine(stated, objective)
    assert w.shape == (3,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    expected = {"ahp": np.array(stated), "entropy": entropy_with_na(scores),
                "combined": combine_weights(stated, entropy_with_na(scores))}[name]
    np.testing.assert_allclose(w, expected, rtol=1e-12)
