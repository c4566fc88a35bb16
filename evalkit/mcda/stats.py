"""Agreement statistics for expert panels: ICC, Kendall's W, Krippendorff's alpha, rater diagnostics.

Every statistic is a *pure kernel* (a private function on plain arrays, no validation) and a
*public wrapper* that checks its input once, calls the kernel and returns a frozen result
object with a readable ``_repr_html_`` for JupyterLab.

Public API (docs/architecture.md, "Public API")::

    icc(x, form="ICC(2,1)")                 # x: (targets, raters), no missing values;
                                            # form: a Shrout & Fleiss name or an alias
    icc_table(x)                            # all six Shrout & Fleiss forms, F, df, p, 95% CI
    kendall_w(x, ties=True)                 # x: (objects, raters)
    krippendorff_alpha(x, level="interval") # x: (raters, units), NaN = missing
    rater_diagnostics(x)                    # x: (targets, raters), NaN = not scored

The kernels of Krippendorff's alpha are in :mod:`evalkit.mcda.alpha`; the kernels on long
panel data (pooled ICC and Kendall's W over complete blocks, rater diagnostics) in
:mod:`evalkit.mcda.agreement`, which :mod:`evalkit.evaluate.panel` calls directly.

References
----------
Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
reliability. *Psychological Bulletin*, 86(2), 420-428.
McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
coefficients. *Psychological Methods*, 1(1), 30-46.
Kendall, M. G., & Babington Smith, B. (1939); Siegel, S., & Castellan, N. J. (1988).
*Nonparametric statistics for the behavioral sciences* (2nd ed.), section 9.4.
Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication, University of Pennsylvania.
Iglewicz, B., & Hoaglin, D. C. (1993). *How to detect and handle outliers*. ASQC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as _sps

from evalkit import checks
from evalkit.errors import EvalkitError, param_message
from evalkit.mcda.agreement import RaterDiagnostics, rater_diagnostics_long
from evalkit.mcda.alpha import alpha_dense, alpha_long
from evalkit.mcda.display import html_table

__all__ = [
    "FORMS",
    "FORM_ALIASES",
    "LEVELS",
    "AlphaResult",
    "ICCResult",
    "ICCTable",
    "KendallWResult",
    "RaterDiagnostics",
    "StatsError",
    "icc",
    "icc_table",
    "kendall_w",
    "krippendorff_alpha",
    "rater_diagnostics",
]

ICCForm = Literal["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"]
Level = Literal["nominal", "ordinal", "interval", "ratio"]

FORMS: tuple[str, ...] = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")

#: Other published names of the six forms -> the Shrout & Fleiss form they compute.
#:
#: McGraw & Wong (1996, Table 4): one-way ``ICC(1)``, ``ICC(k)``; two-way absolute agreement
#: ``ICC(A,1)``, ``ICC(A,k)`` (the same estimate whether raters are random or fixed, i.e.
#: S&F case 2) and consistency ``ICC(C,1)``, ``ICC(C,k)`` (S&F case 3).  pingouin up to
#: 0.6 (and R's ``psych::ICC``) label the rows ``ICC1 ICC2 ICC3 ICC1k ICC2k ICC3k`` =
#: S&F ``(1,1) (2,1) (3,1) (1,k) (2,k) (3,k)``; pingouin 0.7 labels them ``ICC(1,1) ICC(A,1)
#: ICC(C,1) ICC(1,k) ICC(A,k) ICC(C,k)``.
FORM_ALIASES: dict[str, str] = {
    "ICC(1)": "ICC(1,1)",
    "ICC(k)": "ICC(1,k)",
    "ICC(A,1)": "ICC(2,1)",
    "ICC(A,k)": "ICC(2,k)",
    "ICC(C,1)": "ICC(3,1)",
    "ICC(C,k)": "ICC(3,k)",
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(2,1)",
    "ICC3": "ICC(3,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(2,k)",
    "ICC3k": "ICC(3,k)",
}


class StatsError(EvalkitError, ValueError):
    """Invalid input to an :mod:`evalkit.mcda.stats` function (also a :class:`ValueError`)."""


# ------------------------------------------------------------------------------------------
# input checks (shared by the wrappers)
# ------------------------------------------------------------------------------------------


def _form_key(name: str) -> str:
    """Spelling-blind key of an ICC form name: upper case, no blanks, ``_`` or ``-``; a
    number of raters written out (S&F print ``ICC(2,4)`` for k = 4) reads as ``K``."""
    key = re.sub(r"[\s_-]", "", name).upper()
    return re.sub(r",0*([2-9]|[1-9]\d+)\)$", ",K)", key)


#: Every accepted form name (canonical or alias) by its spelling-blind key.
_FORM_KEYS: dict[str, str] = {_form_key(f): f for f in (*FORMS, *FORM_ALIASES)}


def _resolve_form(form: object, func: str) -> str:
    """The Shrout & Fleiss name for ``form`` (a name of :data:`FORMS` or an alias).

    An unknown name gets a "Did you mean" hint only when it is a respelling of an accepted
    name (``"icc(a,1)"``, ``"ICC(2, 1)"``, ``"ICC(2,4)"``): never a merely similar-looking
    name, which could be another statistic (``ICC(A,1)`` looks like ``ICC(3,1)`` but is
    ``ICC(2,1)``).
    """
    if isinstance(form, str) and form in FORMS:
        return form
    if isinstance(form, str) and form in FORM_ALIASES:
        return FORM_ALIASES[form]
    near = _FORM_KEYS.get(_form_key(form)) if isinstance(form, str) else None
    hint = ""
    if near is not None:
        meaning = f" (= {FORM_ALIASES[near]})" if near in FORM_ALIASES else ""
        hint = f" Did you mean {near!r}{meaning}?"
    aliases = ", ".join(f"{a} = {c}" for a, c in FORM_ALIASES.items())
    must = f"one of {list(FORMS)} or an alias of one"
    raise StatsError(
        param_message("form", func, must, repr(form))
        + f"{hint} Available: {', '.join(FORMS)}; aliases: {aliases}."
    )


def _matrix(
    x: npt.ArrayLike, func: str, *, allow_nan: bool, min_rows: int = 2, min_cols: int = 2
) -> npt.NDArray[np.float64]:
    """Return ``x`` as a C-contiguous float64 2-D array (no inf), or raise :class:`StatsError`."""
    arr = checks.numeric_array(x, "x", func, StatsError, min_shape=(min_rows, min_cols),
                               allow_nan=allow_nan)
    return np.ascontiguousarray(arr)


# ------------------------------------------------------------------------------------------
# ICC
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ICCResult:
    """One intraclass correlation with its F test and 95% confidence interval.

    ``form`` is the Shrout & Fleiss name (``"ICC(2,1)"``); ``df2`` may be fractional only in
    the CI computation (Satterthwaite), never here.  Values are full precision (not rounded).
    """

    form: str
    icc: float
    f: float
    df1: float
    df2: float
    p: float
    ci_low: float
    ci_high: float
    n_targets: int
    n_raters: int

    def __float__(self) -> float:
        return float(self.icc)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _repr_html_(self) -> str:
        return html_table(f"Intraclass correlation {self.form}", [self.as_dict()])


@dataclass(frozen=True)
class ICCTable:
    """All six Shrout & Fleiss ICC forms from one two-way ANOVA.

    ``ms_rows`` (targets), ``ms_cols`` (raters), ``ms_error`` and ``ms_within`` are the mean
    squares of the ANOVA; ``results`` holds one :class:`ICCResult` per form in :data:`FORMS`
    order.  ``table["ICC(2,1)"]`` returns one result; :meth:`to_frame` a pandas DataFrame.
    """

    results: tuple[ICCResult, ...]
    ms_rows: float
    ms_cols: float
    ms_error: float
    ms_within: float
    n_targets: int
    n_raters: int

    def __getitem__(self, form: str) -> ICCResult:
        """The result of ``form``: a name of :data:`FORMS` or an alias (``"ICC(A,1)"``)."""
        return self.results[FORMS.index(_resolve_form(form, "ICCTable.__getitem__"))]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([r.as_dict() for r in self.results]).set_index("form")

    def _repr_html_(self) -> str:
        rows = [r.as_dict() for r in self.results]
        for r in rows:
            r.pop("n_targets")
            r.pop("n_raters")
        title = (
            f"Intraclass correlations ({self.n_targets} targets x {self.n_raters} raters; "
            "Shrout & Fleiss 1979, CIs McGraw & Wong 1996)"
        )
        return html_table(title, rows)


def _icc_anova(x: npt.NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Kernel: two-way ANOVA mean squares (rows = targets, columns = raters).

    Returns ``(MSR, MSC, MSE, MSW)``; sums of squares are computed from deviations (not from
    raw sums of squares) to avoid cancellation.
    """
    n, k = x.shape
    row_mean = x.mean(axis=1)
    col_mean = x.mean(axis=0)
    grand = row_mean.mean()
    ss_rows = k * float(np.square(row_mean - grand).sum())
    ss_cols = n * float(np.square(col_mean - grand).sum())
    ss_within = float(np.square(x - row_mean[:, None]).sum())  # SSC + SSE
    ss_error = max(ss_within - ss_cols, 0.0)
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = ss_within / (n * (k - 1))
    return msr, msc, mse, msw


def _icc_forms(
    msr: float, msc: float, mse: float, msw: float, n: int, k: int, forms: tuple[str, ...] = FORMS
) -> list[ICCResult]:
    """Kernel: ICC point estimates (Shrout & Fleiss), F tests and McGraw & Wong 95% CIs."""
    q = 0.975  # 1 - alpha/2 with alpha = 0.05
    # numpy scalars: degenerate data (no variance) gives NaN/inf, never ZeroDivisionError
    msr, msc, mse, msw = (np.float64(v) for v in (msr, msc, mse, msw))
    df_r, df_w, df_e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    out: list[ICCResult] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        cache: dict[str, tuple[float, float]] = {}
        for form in forms:
            case = form[4]
            single = form.endswith(",1)")
            if case in ("1", "3"):  # one-way (within-target error) or two-way mixed (residual)
                ms, df2 = (msw, df_w) if case == "1" else (mse, df_e)
                icc = (msr - ms) / (msr + (k - 1) * ms) if single else (msr - ms) / msr
                f = msr / ms
                if case not in cache:  # the F bounds, shared by the single and average forms
                    cache[case] = (f / _sps.f.ppf(q, df_r, df2), f * _sps.f.ppf(q, df2, df_r))
                lo, hi = _case13_ci(*cache[case], k, single)
            else:
                icc21 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
                icc = icc21 if single else (msr - mse) / (msr + (msc - mse) / n)
                f, df2 = msr / mse, df_e
                lo, hi = _case2_ci(icc21, msr, msc, mse, n, k, q)
                if not single:  # Spearman-Brown step-up of the single-rater bounds
                    lo = lo * k / (1 + lo * (k - 1))
                    hi = hi * k / (1 + hi * (k - 1))
            if np.isposinf(f):  # no error variance: perfect reliability, degenerate CI at 1
                lo = hi = 1.0
            p = float(_sps.f.sf(f, df_r, df2))
            out.append(
                ICCResult(
                    form=form,
                    icc=float(icc),
                    f=float(f),
                    df1=float(df_r),
                    df2=float(df2),
                    p=p,
                    ci_low=float(lo),
                    ci_high=float(hi),
                    n_targets=int(n),
                    n_raters=int(k),
                )
            )
    return out


def _case13_ci(fl: float, fu: float, k: int, single: bool) -> tuple[float, float]:
    """McGraw & Wong (1996) Table 7, cases 1 and 3: exact F-based bounds."""
    if single:
        return (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)
    return 1 - 1 / fl, 1 - 1 / fu


def _case2_ci(
    rho: float, msr: float, msc: float, mse: float, n: int, k: int, q: float
) -> tuple[float, float]:
    """McGraw & Wong (1996) Table 7, case 2A (ICC(A,1)): Satterthwaite-approximated df ``v``."""
    fj = msc / mse
    a = k * rho * fj + n * (1 + (k - 1) * rho) - k * rho
    v = (
        (n - 1)
        * (k - 1)
        * a**2
        / ((n - 1) * (k * rho * fj) ** 2 + (n * (1 + (k - 1) * rho) - k * rho) ** 2)
    )
    f_star = _sps.f.ppf(q, n - 1, v)
    f_2star = _sps.f.ppf(q, v, n - 1)
    c = k * msc + (k * n - k - n) * mse
    lo = n * (msr - f_star * mse) / (f_star * c + n * msr)
    hi = n * (f_2star * msr - mse) / (c + n * f_2star * msr)
    return lo, hi


def icc(x: npt.ArrayLike, form: ICCForm | str = "ICC(2,1)") -> ICCResult:
    """Intraclass correlation coefficient in one of the six Shrout & Fleiss (1979) forms.

    Parameters
    ----------
    x : array_like, shape (targets, raters)
        Complete scores (no NaN): each target is rated by every rater.
    form : {"ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"} or an alias
        Case 1: one-way random (raters differ per target); case 2: two-way random, absolute
        agreement (McGraw & Wong's ICC(A,1)); case 3: two-way mixed, consistency
        (ICC(C,1)).  ``,1`` is the reliability of one rater, ``,k`` of the mean of k raters.
        The names of McGraw & Wong (``ICC(1)``, ``ICC(k)``, ``ICC(A,1)``, ``ICC(C,1)``,
        ``ICC(A,k)``, ``ICC(C,k)``) and of pingouin (``ICC1`` … ``ICC3k``) are accepted as
        aliases (:data:`FORM_ALIASES`).

    Returns
    -------
    ICCResult
        ``.icc``, ``.f``, ``.df1``, ``.df2``, ``.p`` and the 95% CI ``.ci_low``/``.ci_high``
        (McGraw & Wong 1996 formulas), in full precision.  ``.form`` is the Shrout & Fleiss
        name of the form computed, whatever alias was passed.

    Raises
    ------
    StatsError
        On an unknown ``form`` (the message lists the accepted names and aliases) or an
        invalid ``x``.

    Examples
    --------
    >>> x = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(icc(x, "ICC(2,1)").icc, 2)   # Shrout & Fleiss (1979), Table 4
    0.29
    >>> icc(x, "ICC(A,1)").form            # McGraw & Wong's name of the same form
    'ICC(2,1)'
    """
    form = _resolve_form(form, "icc")
    arr = _matrix(x, "icc", allow_nan=False)
    n, k = arr.shape
    return _icc_forms(*_icc_anova(arr), n, k, forms=(form,))[0]


def icc_table(x: npt.ArrayLike) -> ICCTable:
    """All six ICC forms with F, df1, df2, p and 95% CI (see :func:`icc`).

    Parameters
    ----------
    x : array_like, shape (targets, raters)
        Complete scores (no NaN).

    Returns
    -------
    ICCTable
        ``table["ICC(3,k)"]`` gives one :class:`ICCResult`; ``table.to_frame()`` a DataFrame.
    """
    arr = _matrix(x, "icc_table", allow_nan=False)
    n, k = arr.shape
    msr, msc, mse, msw = _icc_anova(arr)
    res = tuple(_icc_forms(msr, msc, mse, msw, n, k))
    return ICCTable(res, msr, msc, mse, msw, n, k)


# ------------------------------------------------------------------------------------------
# Kendall's W
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KendallWResult:
    """Kendall's coefficient of concordance with its chi-square test.

    ``w`` in [0, 1]; ``chi2 = m (n - 1) W`` with ``df = n - 1`` (Friedman's statistic);
    ``ties_correction`` is ``sum_j sum (t^3 - t)`` over the raters' tie groups (0 without ties
    or when ``ties=False``).
    """

    w: float
    chi2: float
    df: int
    p: float
    n_objects: int
    n_raters: int
    ties_correction: float

    def __float__(self) -> float:
        return float(self.w)

    def _repr_html_(self) -> str:
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        return html_table("Kendall's W (coefficient of concordance)", [row])


def _run_positions(sorted_cols: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Kernel: 1-based position of each element inside its run of equal values, per column.

    ``sorted_cols`` is sorted along axis 0 (NaN last).  Sums of simple functions of the
    positions give tie statistics without a Python loop: a run of length t has
    ``sum(2p - 1) = t^2`` and ``sum(3p^2 - 3p + 1) = t^3``.
    """
    r = sorted_cols.shape[0]
    idx = np.arange(r, dtype=np.int64)[:, None]
    start = np.ones(sorted_cols.shape, dtype=bool)
    start[1:] = sorted_cols[1:] != sorted_cols[:-1]
    first = np.maximum.accumulate(np.where(start, idx, 0), axis=0)
    return idx - first + 1


def _kendall_w(x: npt.NDArray[np.float64], ties: bool = True) -> KendallWResult:
    """Kernel: Kendall's W of a complete (objects, raters) array.

    ``W = 12 S / (m^2 (n^3 - n) - m T)`` with ``S = sum_i (R_i - m (n + 1) / 2)^2``, ``R_i`` the
    rank sum of object i (average ranks for ties) and ``T = sum_j sum (t^3 - t)`` (Siegel &
    Castellan 1988, eq. 9.16).
    """
    n, m = x.shape
    ranks = _sps.rankdata(x, axis=0)  # average ranks within each rater
    r = ranks.sum(axis=1)
    s = float(np.square(r - m * (n + 1) / 2.0).sum())
    t = 0.0
    if ties:
        pos = _run_positions(np.sort(x, axis=0)).astype(np.float64)
        # sum over tie groups of t^3 - t == sum over elements of (3p^2 - 3p + 1) - 1
        t = float((3 * pos * pos - 3 * pos).sum())
    denom = m * m * (n**3 - n) - m * t
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 12.0 * s / denom if denom > 0 else np.nan
    chi2 = m * (n - 1) * w
    p = float(_sps.chi2.sf(chi2, n - 1)) if np.isfinite(chi2) else np.nan
    return KendallWResult(float(w), float(chi2), int(n - 1), p, int(n), int(m), t)


def kendall_w(x: npt.ArrayLike, ties: bool = True) -> KendallWResult:
    """Kendall's coefficient of concordance W with the tie correction and chi-square test.

    Parameters
    ----------
    x : array_like, shape (objects, raters)
        Scores or ranks (no NaN); each rater's column is converted to average ranks.
    ties : bool, default True
        Apply the tie correction ``- m sum (t^3 - t)`` in the denominator.  Always use it with
        scores on a short scale (Likert, 0-10), where ties are the rule.

    Returns
    -------
    KendallWResult
        ``.w``, ``.chi2 = m (n - 1) W``, ``.df = n - 1``, ``.p`` (chi-square upper tail).
        W is NaN when every rater ties all objects (zero denominator).
    """
    ties = checks.boolean(ties, "ties", "kendall_w", StatsError)
    arr = _matrix(x, "kendall_w", allow_nan=False)
    return _kendall_w(arr, ties)


# ------------------------------------------------------------------------------------------
# Krippendorff's alpha
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha with its observed and expected disagreement.

    ``alpha = 1 - d_observed / d_expected``; ``n_pairable`` counts values in units coded by
    at least two raters (the only values alpha uses).  NaN when there is no pairable value or
    no variation among the pairable values (``d_expected == 0``).
    """

    alpha: float
    level: str
    d_observed: float
    d_expected: float
    n_pairable: int
    n_units: int
    n_raters: int

    def __float__(self) -> float:
        return float(self.alpha)

    def _repr_html_(self) -> str:
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        return html_table(f"Krippendorff's alpha ({self.level})", [row])


def krippendorff_alpha(x: npt.ArrayLike, level: Level | str = "interval") -> AlphaResult:
    """Krippendorff's alpha for any number of raters, with missing values.

    Parameters
    ----------
    x : array_like, shape (raters, units)
        Numeric codes; NaN marks a missing value.  Units coded by fewer than two raters are
        not pairable and are ignored.
    level : {"nominal", "ordinal", "interval", "ratio"}, default "interval"
        Metric.  Ratio needs non-negative values.

    Returns
    -------
    AlphaResult
        ``.alpha`` plus observed/expected disagreement and counts.

    Notes
    -----
    Computed in closed form from per-unit sums, never from a V x V coincidence matrix, so time
    and memory do not grow with the square of the number of distinct values V:
    interval = within-unit vs total sums of squares; ordinal = interval on mid-cumulative
    frequency ranks; nominal = per-unit value counts from one sort; ratio = an exact integral
    identity evaluated by a spectrally accurate quadrature (:mod:`evalkit.mcda.alpha`).
    """
    level = checks.one_of(level, LEVELS, "level", "krippendorff_alpha", StatsError)
    arr = _matrix(x, "krippendorff_alpha", allow_nan=True, min_rows=1, min_cols=1)
    if level == "ratio" and (arr < 0).any():
        must = "non-negative for level='ratio'"
        raise StatsError(param_message("x", "krippendorff_alpha", must, "negative values"))
    r, n_units = arr.shape
    if level == "ratio":
        unit, rater = np.nonzero(~np.isnan(arr.T))
        a, d_o, d_e, n = alpha_long(unit.astype(np.int64), arr[rater, unit], level, n_units)
    else:
        a, d_o, d_e, n = alpha_dense(arr, level)
    return AlphaResult(float(a), level, float(d_o), float(d_e), int(n), int(n_units), int(r))


# ------------------------------------------------------------------------------------------
# rater diagnostics
# ------------------------------------------------------------------------------------------


def rater_diagnostics(
    x: npt.ArrayLike, threshold: float = 3.5, *, offset_floor: float = 0.0, corr_floor: float = 0.0
) -> RaterDiagnostics:
    """Leniency/severity offsets, leave-one-out agreement and outlier raters.

    Parameters
    ----------
    x : array_like, shape (targets, raters)
        Scores; NaN where a rater did not score a target.
    threshold : float, default 3.5
        Flag a rater whose robust z of the offset exceeds ``threshold`` in absolute value, or
        whose robust z of the leave-one-out correlation is below ``-threshold`` (only low
        agreement is suspicious).  3.5 is Iglewicz & Hoaglin's (1993) recommended cut-off.
    offset_floor, corr_floor : float, default 0
        Materiality floors (score units, correlation units): the robust standard deviation
        of the offsets (of the correlations) is never taken below them, like the fitness-for-
        purpose ``sigma_pt`` of ISO 13528:2015 (z = (x - x_pt) / sigma_pt).  With 7 raters who
        agree closely the MAD is tiny and an offset of 0.3 points would otherwise exceed the
        cut-off; with ``offset_floor=0.5`` a rater needs ``3.5 * 0.5 = 1.75`` points.

    Returns
    -------
    RaterDiagnostics

    Notes
    -----
    Outliers are found with the median/MAD robust z-score, not an IsolationForest: a panel
    has 5-30 raters, too few for a forest to learn a density; the forest needs a contamination
    rate chosen in advance and a random seed; and a panel chair must be able to read *why* a
    rater was flagged ("offset 2.1 points, robust z 4.2").  The median and MAD are not pulled
    by the outlier itself (breakdown point 50%), unlike a mean/SD z-score, which on 7 raters
    can never exceed (7 - 1) / sqrt(7) = 2.27.
    """
    arr = _matrix(x, "rater_diagnostics", allow_nan=True)
    cut = checks.positive_number(threshold, "threshold", "rater_diagnostics", StatsError)
    floors = [checks.non_negative_number(f, name, "rater_diagnostics", StatsError)
              for f, name in ((offset_floor, "offset_floor"), (corr_floor, "corr_floor"))]
    n_t, n_r = arr.shape
    item, rater = np.nonzero(~np.isnan(arr))
    return rater_diagnostics_long(
        item.astype(np.int64), rater.astype(np.int64), arr[item, rater], n_t, n_r, cut, *floors
    )

