"""Tests for evalkit.mcda.stats: published worked examples, peer cross-checks, kernels and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _ci import dev_import
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from evalkit import stats
from evalkit.errors import EvalkitError
from evalkit.mcda import agreement
from evalkit.mcda import alpha as alpha_kernels

# Shrout & Fleiss (1979), Table 1: 6 targets (rows) x 4 judges (columns).
SF_TABLE1 = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ],
    dtype=float,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers
# (rows) x 12 units (columns), NaN = missing ("*" in the paper).
NAN = np.nan
K2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def _random_panel(seed: int, n: int = 30, k: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    quality = rng.normal(5, 2, size=(n, 1))
    bias = rng.normal(0, 1, size=(1, k))
    return quality + bias + rng.normal(0, 1, size=(n, k))


# ------------------------------------------------------------------------------------------
# ICC
# ------------------------------------------------------------------------------------------


def test_icc_shrout_fleiss_table_2_mean_squares():
    """Shrout & Fleiss (1979), Table 2 (ANOVA of the Table 1 data).

    sum x = 127, sum x^2 = 841, N = 24, C = 127^2 / 24 = 672.0417
    SS targets = (24^2 + 12^2 + 26^2 + 16^2 + 30^2 + 19^2) / 4 - C = 728.25 - C = 56.2083
        -> BMS = 56.2083 / 5 = 11.24
    SS judges  = (46^2 + 15^2 + 26^2 + 40^2) / 6 - C = 769.5 - C = 97.4583 -> JMS = 32.49
    SS within  = SS total - SS targets = 168.9583 - 56.2083 = 112.75 -> WMS = 112.75 / 18 = 6.26
    SS error   = SS within - SS judges = 15.2917 -> EMS = 15.2917 / 15 = 1.02
    """
    msr, msc, mse, msw = stats._icc_anova(SF_TABLE1)
    assert round(msr, 2) == 11.24
    assert round(msc, 2) == 32.49
    assert round(mse, 2) == 1.02
    assert round(msw, 2) == 6.26
    assert msr == pytest.approx(56.208333333333 / 5, rel=1e-12)


@pytest.mark.parametrize(
    ("form", "printed"),
    [
        # ICC(1,1) = (BMS - WMS) / (BMS + 3 WMS) = 4.9778 / 30.0333 = .17
        ("ICC(1,1)", 0.17),
        # ICC(2,1) = (BMS - EMS) / (BMS + 3 EMS + 4 (JMS - EMS) / 6)
        #          = 10.2222 / (11.2417 + 3.0583 + 20.9778) = 10.2222 / 35.2778 = .29
        ("ICC(2,1)", 0.29),
        # ICC(3,1) = (BMS - EMS) / (BMS + 3 EMS) = 10.2222 / 14.3 = .71
        ("ICC(3,1)", 0.71),
        # ICC(1,4) = (BMS - WMS) / BMS = 4.9778 / 11.2417 = .44
        ("ICC(1,k)", 0.44),
        # ICC(2,4) = (BMS - EMS) / (BMS + (JMS - EMS) / 6) = 10.2222 / 16.4861 = .62
        ("ICC(2,k)", 0.62),
        # ICC(3,4) = (BMS - EMS) / BMS = 10.2222 / 11.2417 = .91
        ("ICC(3,k)", 0.91),
    ],
)
def test_icc_shrout_fleiss_table_4(form, printed):
    """Shrout & Fleiss (1979), Table 4: the six ICCs of the Table 1 data, printed to 2 places."""
    res = stats.icc(SF_TABLE1, form=form)
    assert round(res.icc, 2) == printed
    assert res.form == form
    assert (res.n_targets, res.n_raters) == (6, 4)
    assert stats.icc_table(SF_TABLE1)[form].icc == res.icc


def test_icc_default_form_is_2_1():
    assert stats.icc(SF_TABLE1).form == "ICC(2,1)"
    assert float(stats.icc(SF_TABLE1)) == pytest.approx(10.2222222 / 35.2777778, abs=1e-7)


def _pingouin_table(x: np.ndarray) -> pd.DataFrame:
    pg = dev_import("pingouin")
    n, k = x.shape
    long = pd.DataFrame(
        {"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "s": x.ravel()}
    )
    out = pg.intraclass_corr(data=long, targets="t", raters="r", ratings="s")
    return out.assign(Type=out["Type"].replace(PINGOUIN_TYPES)).set_index("Type")


# pingouin's row labels -> Shrout & Fleiss forms, written out from pingouin's own docs (not
# from evalkit.mcda.stats.FORM_ALIASES): pingouin <= 0.6 labels ICC1 ICC2 ICC3 ICC1k ICC2k ICC3k
# ("Single raters absolute", "Single random raters", "Single fixed raters", ...); pingouin
# 0.7 (PR #501) relabels the same rows ICC(1,1) ICC(A,1) ICC(C,1) ICC(1,k) ICC(A,k) ICC(C,k).
PINGOUIN_TYPES = {
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(2,1)",
    "ICC3": "ICC(3,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(2,k)",
    "ICC3k": "ICC(3,k)",
    "ICC(A,1)": "ICC(2,1)",
    "ICC(C,1)": "ICC(3,1)",
    "ICC(A,k)": "ICC(2,k)",
    "ICC(C,k)": "ICC(3,k)",
}


def _ci_reference(form: str, x: np.ndarray) -> tuple[float, float]:
    """McGraw & Wong (1996) Table 7 CIs, written out independently of evalkit.mcda.stats."""
    n, k = x.shape
    gm = x.mean()
    ssr = k * ((x.mean(1) - gm) ** 2).sum()
    ssc = n * ((x.mean(0) - gm) ** 2).sum()
    sst = ((x - gm) ** 2).sum()
    msr, msc = ssr / (n - 1), ssc / (k - 1)
    mse = (sst - ssr - ssc) / ((n - 1) * (k - 1))
    msw = (sst - ssr) / (n * (k - 1))
    q = 0.975
    if form[4] in "13":
        ms, df2 = (msw, n * (k - 1)) if form[4] == "1" else (mse, (n - 1) * (k - 1))
        f = msr / ms
        fl, fu = f / sps.f.ppf(q, n - 1, df2), f * sps.f.ppf(q, df2, n - 1)
        if form.endswith(",1)"):
            return (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)
        return 1 - 1 / fl, 1 - 1 / fu
    # case 2 with Satterthwaite df written in the a, b form of McGraw & Wong
    rho = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    a = k * rho / (n * (1 - rho))
    b = 1 + k * rho * (n - 1) / (n * (1 - rho))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    fs, fss = sps.f.ppf(q, n - 1, v), sps.f.ppf(q, v, n - 1)
    lo = n * (msr - fs * mse) / (fs * (k * msc + (k * n - k - n) * mse) + n * msr)
    hi = n * (fss * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fss * msr)
    if form.endswith(",k)"):
        lo, hi = lo * k / (1 + (k - 1) * lo), hi * k / (1 + (k - 1) * hi)
    return lo, hi


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # inside pingouin
@pytest.mark.filterwarnings("ignore::Warning:pingouin.*")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_icc_matches_pingouin(seed):
    """Point estimates, F, df and p agree with pingouin.intraclass_corr to 1e-9.

    pingouin rounds its CI95 column to 2 decimals, so CIs are compared with pingouin at
    0.005 and, at full precision (1e-12), with an independent re-implementation of the
    McGraw & Wong formulas (``_ci_reference``, which uses the a/b form of the Satterthwaite
    df, not the form used in evalkit.mcda.stats).
    """
    x = _random_panel(seed, n=25, k=4)
    pg = _pingouin_table(x)
    table = stats.icc_table(x)
    for res in table.results:
        row = pg.loc[res.form]
        assert res.icc == pytest.approx(row["ICC"], abs=1e-9)
        assert res.f == pytest.approx(row["F"], abs=1e-9)
        assert res.df1 == row["df1"] and res.df2 == row["df2"]
        assert res.p == pytest.approx(row["pval"], abs=1e-9)
        lo, hi = row["CI95"]
        assert res.ci_low == pytest.approx(lo, abs=0.005 + 1e-12)
        assert res.ci_high == pytest.approx(hi, abs=0.005 + 1e-12)
        ref = _ci_reference(res.form, x)
        assert (res.ci_low, res.ci_high) == pytest.approx(ref, abs=1e-12)
        assert res.ci_low < res.icc < res.ci_high


def test_icc_table_frame_and_html():
    table = stats.icc_table(SF_TABLE1)
    frame = table.to_frame()
    assert list(frame.index) == list(stats.FORMS)
    assert frame.loc["ICC(3,k)", "df2"] == 15 and frame.loc["ICC(1,1)", "df2"] == 18
    html = table._repr_html_()
    assert "<table" in html and "ICC(2,k)" in html
    assert "<table" in stats.icc(SF_TABLE1)._repr_html_()
    with pytest.raises(AttributeError):
        table.ms_rows = 0.0  # frozen


def test_icc_degenerate_data_gives_nan_or_one_not_an_exception():
    flat = stats.icc_table(np.ones((4, 3)))  # no variance at all: every ICC undefined
    assert all(np.isnan(r.icc) for r in flat.results)
    perfect = stats.icc_table(np.tile(np.arange(4.0)[:, None], (1, 3)))  # raters identical
    for r in perfect.results:
        assert (r.icc, r.ci_low, r.ci_high, r.p) == (1.0, 1.0, 1.0, 0.0)


# Every alias, the Shrout & Fleiss form it names, and the printed value of that form in
# Shrout & Fleiss (1979), Table 4 (the Table 1 data; mean squares in Table 2).
ALIASES = [
    # McGraw & Wong (1996), Table 4: one-way random model, single and average measures
    ("ICC(1)", "ICC(1,1)", 0.17),
    ("ICC(k)", "ICC(1,k)", 0.44),
    # two-way, absolute agreement (their cases 2A and 3A share one estimate) = S&F case 2
    ("ICC(A,1)", "ICC(2,1)", 0.29),
    ("ICC(A,k)", "ICC(2,k)", 0.62),
    # two-way, consistency = S&F case 3
    ("ICC(C,1)", "ICC(3,1)", 0.71),
    ("ICC(C,k)", "ICC(3,k)", 0.91),
    # pingouin <= 0.6 / psych::ICC row labels
    ("ICC1", "ICC(1,1)", 0.17),
    ("ICC2", "ICC(2,1)", 0.29),
    ("ICC3", "ICC(3,1)", 0.71),
    ("ICC1k", "ICC(1,k)", 0.44),
    ("ICC2k", "ICC(2,k)", 0.62),
    ("ICC3k", "ICC(3,k)", 0.91),
]


def test_icc_alias_table_is_exactly_the_documented_one():
    assert stats.FORM_ALIASES == {alias: form for alias, form, _ in ALIASES}


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")  # inside pingouin
@pytest.mark.filterwarnings("ignore::Warning:pingouin.*")
@pytest.mark.parametrize(("alias", "form", "printed"), ALIASES)
def test_icc_alias_computes_its_shrout_fleiss_form(alias, form, printed):
    """An alias gives its S&F form's numbers, on Shrout & Fleiss (1979) Table 1 data.

    Checked three ways: bit-identical to the canonical name; the value printed in S&F Table 4
    (arithmetic in ``test_icc_shrout_fleiss_table_4``); and pingouin's row for that form.
    ``.form`` reports the form computed (the canonical name), not the alias.
    """
    res = stats.icc(SF_TABLE1, form=alias)
    assert res.form == form
    assert res == stats.icc(SF_TABLE1, form=form)
    assert round(res.icc, 2) == printed
    assert stats.icc_table(SF_TABLE1)[alias] == res
    row = _pingouin_table(SF_TABLE1).loc[form]
    assert res.icc == pytest.approx(row["ICC"], abs=1e-9)
    assert res.f == pytest.approx(row["F"], abs=1e-9)
    assert (res.df1, res.df2) == (row["df1"], row["df2"])


@pytest.mark.parametrize(
    ("got", "hint"),
    [
        # respellings of an accepted name: the hint names it, and what it computes
        ("ICC(2, 1)", "'ICC(2,1)'"),
        ("icc(a,1)", "'ICC(A,1)' (= ICC(2,1))"),
        ("ICC(C, 1)", "'ICC(C,1)' (= ICC(3,1))"),
        ("ICC_A_k", None),  # no parentheses: not a respelling of 'ICC(A,k)'
        ("ICC3K", "'ICC3k' (= ICC(3,k))"),
        ("icc2", "'ICC2' (= ICC(2,1))"),
        ("ICC(2,4)", "'ICC(2,k)'"),  # Shrout & Fleiss write k out: ICC(2,4) for 4 judges
        ("ICC(A,4)", "'ICC(A,k)' (= ICC(2,k))"),
        # look-alikes of other statistics: no hint at all (difflib would offer ICC(3,1) for
        # 'ICC(B,1)' and 'ICC(4,1)')
        ("ICC(B,1)", None),
        ("ICC(4,1)", None),
        ("ICC(A)", None),
        ("ICC4", None),
        ("kappa", None),
        (None, None),
    ],
)
def test_icc_unknown_form_hints_only_a_respelling(got, hint):
    with pytest.raises(stats.StatsError) as err:
        stats.icc(SF_TABLE1, form=got)
    msg = str(err.value)
    assert isinstance(err.value, EvalkitError)
    assert msg.startswith("The 'form' parameter of icc must be one of ['ICC(1,1)', ")
    assert "aliases: ICC(1) = ICC(1,1), ICC(k) = ICC(1,k), ICC(A,1) = ICC(2,1)" in msg
    if hint is None:
        assert "Did you mean" not in msg
    else:
        assert f"Did you mean {hint}?" in msg
        assert msg.count("Did you mean") == 1


def test_icc_alias_hints_never_name_a_wrong_form():
    """Whatever the hint, it names a form that computes what the respelled name means."""
    for alias, form, _ in ALIASES:
        for respelt in (alias.lower(), alias.replace(",", ", "), f" {alias} "):
            if respelt == alias:
                continue
            with pytest.raises(stats.StatsError) as err:
                stats.icc(SF_TABLE1, form=respelt)
            hinted = str(err.value).split("Did you mean ", 1)[1].split("'")[1]
            assert stats.icc(SF_TABLE1, form=hinted).form == form, respelt


def test_icc_errors():
    with pytest.raises(
        stats.StatsError,
        match=r"The 'form' parameter of icc must be one of .*Did you mean 'ICC\(2,1\)'",
    ):
        stats.icc(SF_TABLE1, form="ICC(2, 1)")
    with pytest.raises(
        EvalkitError,
        match=r"The 'x' parameter of icc must be complete \(no missing values\); got 1 NaN",
    ):
        bad = SF_TABLE1.copy()
        bad[0, 0] = np.nan
        stats.icc(bad)
    with pytest.raises(ValueError, match="must be a 2-D array; got an array of shape"):
        stats.icc([1.0, 2.0, 3.0])
    with pytest.raises(stats.StatsError, match="at least 2 rows and 2 columns"):
        stats.icc([[1.0, 2.0]])
    with pytest.raises(stats.StatsError, match="non-numeric"):
        stats.icc([["a", "b"], ["c", "d"]])


# ------------------------------------------------------------------------------------------
# Kendall's W
# ------------------------------------------------------------------------------------------

# 4 objects x 3 raters, ties in raters A and C (hand-computed below)
W_EXAMPLE = np.array(
    [
        # A  B  C
        [1, 1, 2],
        [2, 3, 2],
        [2, 2, 3],
        [4, 4, 3],
    ],
    dtype=float,
)


def test_kendall_w_hand_computed_with_ties():
    """A small hand-computed example with ties (formula: Siegel & Castellan 1988, eq. 9.16).

    Average ranks per rater:
        A: 1, 2.5, 2.5, 4      ties: one group of t=2 -> t^3 - t = 6
        B: 1, 3,   2,   4      no ties
        C: 1.5, 1.5, 3.5, 3.5  ties: two groups of t=2 -> 12
    Rank sums R = 3.5, 7, 8, 11.5 (total 30 = m n (n+1) / 2 = 3*4*5/2), mean 7.5
    S = (-4)^2 + (-0.5)^2 + 0.5^2 + 4^2 = 32.5;  sum T = 6 + 0 + 12 = 18
    W (corrected)   = 12 S / (m^2 (n^3 - n) - m sum T) = 390 / (540 - 54) = 390 / 486 = 65/81
    W (uncorrected) = 390 / 540 = 13/18
    chi2 = m (n - 1) W = 9 * 65/81 = 65/9 on df = 3
    """
    res = stats.kendall_w(W_EXAMPLE)
    assert res.w == pytest.approx(65 / 81, abs=1e-15)
    assert res.ties_correction == 18
    assert res.chi2 == pytest.approx(65 / 9, abs=1e-12)
    assert res.df == 3
    assert res.p == pytest.approx(sps.chi2.sf(65 / 9, 3), abs=1e-15)
    assert (res.n_objects, res.n_raters) == (4, 3)
    plain = stats.kendall_w(W_EXAMPLE, ties=False)
    assert plain.w == pytest.approx(13 / 18, abs=1e-15)
    assert plain.ties_correction == 0


def test_kendall_w_published_example_with_ties():
    """NAG Library, routine G08DAF (Kendall's coefficient of concordance), example program
    results (https://support.nag.com/numeric/fl/nagdoc_fl26.2/examples/baseresults/g08dafe.r.html):
    3 comparisons of 10 objects, scores already average ranks with ties; printed
    "Kendall's coefficient = 0.828, Significance = 0.008" (W corrected for ties; significance
    from chi-square on n - 1 = 9 df)."""
    scores = np.array([
        [1.0, 4.5, 2.0, 4.5, 3.0, 7.5, 6.0, 9.0, 7.5, 10.0],
        [2.5, 1.0, 2.5, 4.5, 4.5, 8.0, 9.0, 6.5, 10.0, 6.5],
        [2.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0, 10.0],
    ]).T  # objects x raters
    res = stats.kendall_w(scores)
    assert round(res.w, 3) == 0.828
    assert round(res.p, 3) == 0.008
    assert (res.df, res.n_objects, res.n_raters) == (9, 10, 3)
    assert res.ties_correction == 114  # rater 1: 2 pairs (12); rater 2: 3 pairs (18); rater 3: 4 + 3 tied (84)


def _kendall_w_reference(x: np.ndarray) -> float:
    """Textbook formula, independent of evalkit: loops and collections.Counter."""
    from collections import Counter

    n, m = x.shape
    ranks = np.column_stack([sps.rankdata(x[:, j]) for j in range(m)])
    r = ranks.sum(axis=1)
    s = ((r - r.mean()) ** 2).sum()
    t = sum(c**3 - c for j in range(m) for c in Counter(x[:, j].tolist()).values())
    return 12 * s / (m**2 * (n**3 - n) - m * t)


@pytest.mark.parametrize("seed", range(4))
def test_kendall_w_matches_reference_and_friedman(seed):
    """W against an independent implementation; chi2 and p against scipy's Friedman test
    (objects are the treatments, raters the blocks; Friedman's tie-corrected statistic equals
    m (n - 1) W)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, size=(9, 6)).astype(float)
    res = stats.kendall_w(x)
    assert res.w == pytest.approx(_kendall_w_reference(x), abs=1e-12)
    fr = sps.friedmanchisquare(*x)
    assert res.chi2 == pytest.approx(fr.statistic, abs=1e-9)
    assert res.p == pytest.approx(fr.pvalue, abs=1e-9)


def test_kendall_w_perfect_agreement_and_errors():
    x = np.tile(np.arange(5.0)[:, None], (1, 4))
    assert stats.kendall_w(x).w == pytest.approx(1.0)
    assert np.isnan(stats.kendall_w(np.ones((4, 3))).w)  # all tied: W undefined
    with pytest.raises(stats.StatsError, match="The 'ties' parameter of kendall_w must be a bool"):
        stats.kendall_w(x, ties="yes")
    assert "Kendall" in stats.kendall_w(x)._repr_html_()


def test_run_positions_kernel():
    # column [1, 1, 2, 2, 2]: positions 1 2 1 2 3 -> sum(2p - 1) = 1+3+1+3+5 = 13 = 2^2 + 3^2
    pos = stats._run_positions(np.array([[1.0], [1.0], [2.0], [2.0], [2.0]]))
    assert pos.ravel().tolist() == [1, 2, 1, 2, 3]
    assert int((2 * pos - 1).sum()) == 13


# ------------------------------------------------------------------------------------------
# Krippendorff's alpha
# ------------------------------------------------------------------------------------------


def test_alpha_krippendorff_2011_nominal():
    """Krippendorff (2011), section C (4 observers x 12 units, missing data): nominal
    alpha = 0.743.

    Unit 12 has a single value (not pairable): n = 40 pairable values.
    Coincidence margins n_c: 1 -> 9, 2 -> 13, 3 -> 10, 4 -> 5, 5 -> 3 (sum 40).
    D_e numerator: n^2 - sum n_c^2 = 1600 - (81+169+100+25+9) = 1216 ordered pairs
    D_o: units 6 (values 1,2,3,4: 12 pairs / 3 = 4), 2 (2,2,3,2: 6/3 = 2), 8 (1,1,2,1: 2)
         -> sum = 4 + 2 + 2 = 8; alpha = 1 - (n-1) * 8 / 1216 = 1 - 39*8/1216 = 0.7434
    """
    res = stats.krippendorff_alpha(K2011, level="nominal")
    assert round(res.alpha, 3) == 0.743
    assert res.alpha == pytest.approx(1 - 39 * 8 / 1216, abs=1e-14)
    assert res.n_pairable == 40 and res.n_units == 12 and res.n_raters == 4


def test_alpha_krippendorff_2011_interval():
    """Krippendorff (2011), section C: interval alpha = 0.849 (ordinal .815 and ratio .797
    are the values the ``krippendorff`` package prints for the same data)."""
    assert round(stats.krippendorff_alpha(K2011, level="interval").alpha, 3) == 0.849
    assert round(stats.krippendorff_alpha(K2011, level="ordinal").alpha, 3) == 0.815
    assert round(stats.krippendorff_alpha(K2011, level="ratio").alpha, 3) == 0.797


@pytest.mark.parametrize("level", stats.LEVELS)
@pytest.mark.parametrize("seed", [0, 1])
def test_alpha_matches_krippendorff_package(level, seed):
    """All four levels agree with the ``krippendorff`` package to 1e-9 on random data with
    NaN (integer codes, then continuous values with zeros for ratio)."""
    kd = dev_import("krippendorff")
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 7, size=(6, 60)).astype(float)
    codes[rng.random(codes.shape) < 0.3] = np.nan
    cont = np.round(rng.gamma(2.0, 2.0, size=(5, 50)), 2)
    cont[:2, :4] = 0.0
    cont[rng.random(cont.shape) < 0.25] = np.nan
    many = rng.integers(0, 5, size=(60, 30)).astype(float)  # > 48 raters: row-sort path
    many[rng.random(many.shape) < 0.2] = np.nan
    for data in (codes, cont, many):
        ours = stats.krippendorff_alpha(data, level=level).alpha
        theirs = kd.alpha(reliability_data=data, level_of_measurement=level)
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_ratio_quadrature_vs_brute_force():
    """The ratio kernel's integral identity reproduces the O(V^2) pair sum on values spread
    over 8 orders of magnitude."""
    rng = np.random.default_rng(5)
    v = 10.0 ** rng.uniform(-4, 4, size=80)
    v[:3] = 0.0
    unit = np.repeat(np.arange(16), 5).astype(np.int64)
    d = (
        (v[:, None] - v[None, :])
        / np.where(v[:, None] + v[None, :] == 0, 1, v[:, None] + v[None, :])
    ) ** 2
    same = unit[:, None] == unit[None, :]
    p_u, p_tot = alpha_kernels._ratio_pair_sums(unit, v, 16)
    assert p_tot == pytest.approx(d.sum(), rel=1e-12)
    assert p_u == pytest.approx(np.bincount(unit, weights=(d * same).sum(1)), rel=1e-10)


def test_alpha_kernel_equals_wrapper_and_ordinal_transform():
    # ordinal = interval on mid-cumulative ranks: counts 1 -> 2, 2 -> 1, 5 -> 1
    # r(1) = 0 + 2/2 = 1, r(2) = 2 + 1/2 = 2.5, r(5) = 3 + 1/2 = 3.5
    assert alpha_kernels._ordinal_ranks(np.array([1.0, 2.0, 1.0, 5.0])).tolist() == [1, 2.5, 1, 3.5]
    unit, rater = np.nonzero(~np.isnan(K2011.T))
    a = alpha_kernels.alpha_long(unit.astype(np.int64), K2011[rater, unit], "interval", 12)[0]
    assert a == stats.krippendorff_alpha(K2011).alpha


def test_alpha_degenerate_and_errors():
    assert np.isnan(stats.krippendorff_alpha(np.ones((3, 4))).alpha)  # no variation
    one_each = np.diag([1.0, 2.0, 3.0])
    one_each[one_each == 0] = np.nan
    assert stats.krippendorff_alpha(one_each).n_pairable == 0
    with pytest.raises(stats.StatsError, match=r"Did you mean 'ratio'\? Available: nominal, ordinal"):
        stats.krippendorff_alpha(K2011, level="ratoi")
    with pytest.raises(stats.StatsError, match="non-negative for level='ratio'"):
        stats.krippendorff_alpha(-np.ones((2, 3)), level="ratio")
    with pytest.raises(stats.StatsError, match="free of infinite values"):
        stats.krippendorff_alpha(np.array([[1.0, np.inf], [1.0, 2.0]]))
    assert "interval" in stats.krippendorff_alpha(K2011)._repr_html_()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_alpha_invariant_to_unit_and_rater_order(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(4, 12)).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    y = x[rng.permutation(4)][:, rng.permutation(12)]
    for level in stats.LEVELS:
        a, b = stats.krippendorff_alpha(x, level).alpha, stats.krippendorff_alpha(y, level).alpha
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-12)


# ------------------------------------------------------------------------------------------
# rater diagnostics
# ------------------------------------------------------------------------------------------


def test_rater_diagnostics_by_hand():
    """3 targets x 3 raters.  Rater 2 scores every target 3 points higher.

    target 0: 5 5 8 -> others' means: r0 (5+8)/2 = 6.5, r1 6.5, r2 (5+5)/2 = 5
    target 1: 6 6 9 -> r0 7.5, r1 7.5, r2 6
    target 2: 7 7 10 -> r0 8.5, r1 8.5, r2 7
    offsets: r0 = mean(5-6.5, 6-7.5, 7-8.5) = -1.5, r1 = -1.5, r2 = mean(3, 3, 3) = 3
    loo_corr: every rater's scores rise by 1 with the others' mean -> 1.0
    """
    x = np.array([[5, 5, 8], [6, 6, 9], [7, 7, 10]], dtype=float)
    d = stats.rater_diagnostics(x)
    assert d.offset.tolist() == [-1.5, -1.5, 3.0]
    assert d.loo_corr == pytest.approx([1.0, 1.0, 1.0])
    assert d.n_scores.tolist() == [3, 3, 3]


def test_rater_diagnostics_flags_lenient_and_erratic_raters():
    rng = np.random.default_rng(11)
    quality = rng.uniform(2, 9, size=(40, 1))
    x = quality + rng.normal(0, 0.5, size=(40, 9))
    x[:, 3] += 3.0  # lenient by 3 points
    x[:, 7] = rng.uniform(0, 10, size=40)  # unrelated to the targets
    x[rng.random(x.shape) < 0.15] = np.nan  # incomplete design is allowed
    d = stats.rater_diagnostics(x)
    assert np.flatnonzero(d.outlier).tolist() == [3, 7]
    # the consensus leaves rater 3 out, so its offset is ~ the planted 3 points (the erratic
    # rater 7 in the consensus moves it a little)
    assert d.offset[3] == pytest.approx(3.0, abs=0.3)
    assert np.abs(np.delete(d.offset, [3, 7])).max() < 0.8
    assert d.offset_z[3] > 3.5 and d.loo_z[7] < -3.5
    frame = d.to_frame()
    assert list(frame.columns) == ["offset", "loo_corr", "offset_z", "loo_z", "outlier", "n_scores"]
    assert "robust z" in d._repr_html_()


def test_robust_z_kernel():
    # median 2, |dev| = 1 1 0 1 98 -> MAD 1; z = 0.6745 * dev
    z = agreement._robust_z(np.array([1.0, 3.0, 2.0, 1.0, 100.0]))
    assert z == pytest.approx(0.6744897501960817 * np.array([-1, 1, 0, -1, 98]))
    # MAD 0: mean absolute deviation (x 1.2533) stands in
    z0 = agreement._robust_z(np.array([0.0, 0.0, 0.0, 4.0]))
    assert z0[3] == pytest.approx(4.0 / (1.2533141373155001 * 1.0))
    with pytest.raises(stats.StatsError, match="The 'threshold' parameter of rater_diagnostics"):
        stats.rater_diagnostics(SF_TABLE1, threshold=-1)


# ------------------------------------------------------------------------------------------
# pooled block kernels (used by evalkit.evaluate.panel)
# ------------------------------------------------------------------------------------------


def test_pooled_kernels_reduce_to_single_block_statistics():
    x = _random_panel(3, n=15, k=5).round()
    t, r = np.nonzero(np.ones(x.shape, dtype=bool))
    icc21, icc2k, n_used = agreement.icc2_pooled(t, r, x[t, r], 15, 5)
    assert icc21 == pytest.approx(stats.icc(x, "ICC(2,1)").icc, abs=1e-12)
    assert icc2k == pytest.approx(stats.icc(x, "ICC(2,k)").icc, abs=1e-12)
    assert n_used == 15
    w, chi2, df, p = agreement.kendall_w_pooled(t, r, x[t, r], 15, 5)
    ref = stats.kendall_w(x)
    assert (w, chi2, df, p) == pytest.approx((ref.w, ref.chi2, ref.df, ref.p), abs=1e-12)


def test_kendall_pooled_adds_chi_squares_over_blocks():
    """Two complete blocks with different raters: chi2 and df add; W is their df-weighted
    mean."""
    rng = np.random.default_rng(4)
    a = rng.integers(0, 6, size=(6, 3)).astype(float)  # targets 0-5, raters 0-2
    b = rng.integers(0, 6, size=(5, 4)).astype(float)  # targets 6-10, raters 3-6
    ta, ra = np.nonzero(np.ones(a.shape, bool))
    tb, rb = np.nonzero(np.ones(b.shape, bool))
    t = np.concatenate([ta, tb + 6])
    r = np.concatenate([ra, rb + 3])
    v = np.concatenate([a[ta, ra], b[tb, rb]])
    w, chi2, df, p = agreement.kendall_w_pooled(t, r, v, 11, 7)
    wa, wb = stats.kendall_w(a), stats.kendall_w(b)
    assert chi2 == pytest.approx(wa.chi2 + wb.chi2, abs=1e-12)
    assert df == 5 + 4
    assert w == pytest.approx((wa.chi2 + wb.chi2) / (3 * 5 + 4 * 4), abs=1e-12)
    assert p == pytest.approx(sps.chi2.sf(chi2, 9), abs=1e-12)
    ranks, tie_col, tie = agreement._grouped_ranks(
        np.array([0, 0, 0, 1, 1]), np.array([2.0, 1.0, 2.0, 5.0, 5.0])
    )
    assert ranks.tolist() == [2.5, 1.0, 2.5, 1.5, 1.5]
    # runs in sorted order: group 0 -> value 1 (x1), value 2 (x2); group 1 -> value 5 (x2)
    assert tie_col.tolist() == [0, 0, 1] and tie.tolist() == [1.0, 2.0, 2.0]


def test_rater_diagnostics_materiality_floor_spares_close_agreement():
    """Seven raters who agree within a few tenths: without a floor the MAD of the offsets is
    tiny and a 0.3-point offset gets a robust z far beyond 3.5; with the ISO 13528-style floor
    of 0.5 points (sigma_pt) that rater needs 3.5 * 0.5 = 1.75 points to be flagged.

    Offsets by hand: raters 0-5 score the target's quality exactly except tiny +-0.01
    alternations, rater 6 adds 0.3 -> its offset is 0.3 + 0.3/6 = 0.35 (the others' consensus
    includes it at 1/6), the others' about -0.05; MAD about 0.01 -> z about 27 without a floor,
    (0.35 - (-0.05)) / 0.5 = 0.8 with it.
    """
    q = np.linspace(3, 9, 12)[:, None]
    x = np.repeat(q, 7, axis=1)
    x[:, :6] += np.where(np.arange(12)[:, None] % 2 == 0, 0.01, -0.01) * np.array([1, -1, 1, -1, 1, -1])
    x[:, 6] += 0.3
    bare = stats.rater_diagnostics(x)
    assert bare.outlier[6] and abs(bare.offset_z[6]) > 10
    floored = stats.rater_diagnostics(x, offset_floor=0.5, corr_floor=0.1)
    assert not floored.outlier.any()
    assert floored.offset_z[6] == pytest.approx((bare.offset[6] - np.median(bare.offset)) / 0.5)
    # a material 2-point offset is still flagged with the floor
    x[:, 6] += 1.7
    assert stats.rater_diagnostics(x, offset_floor=0.5, corr_floor=0.1).outlier.tolist() == [False] * 6 + [True]
    with pytest.raises(stats.StatsError, match="offset_floor"):
        stats.rater_diagnostics(x, offset_floor=-1)
