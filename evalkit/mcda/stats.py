"""Agreement statistics for expert panels: ICC, Kendall's W, Krippendorff's alpha, rater diagnostics.

Every statistic is a *pure kernel* (a private function on plain arrays, no validation) and a
*public wrapper* that checks its input once, calls the kernel and returns a frozen result
object with a readable ``_repr_html_`` for JupyterLab.

Public API (DESIGN.md section 7)::

    icc(x, form="ICC(2,1)")                 # x: (targets, raters), no missing values;
                                            # form: a Shrout & Fleiss name or an alias
    icc_table(x)                            # all six Shrout & Fleiss forms, F, df, p, 95% CI
    kendall_w(x, ties=True)                 # x: (objects, raters)
    krippendorff_alpha(x, level="interval") # x: (raters, units), NaN = missing
    rater_diagnostics(x)                    # x: (targets, raters), NaN = not scored

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

import html
import re
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as _sps

from evalkit.errors import EvalkitError, choice_message

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

#: 0.6745 = Phi^-1(0.75): makes the MAD a consistent estimate of sigma (Iglewicz & Hoaglin).
_MAD_Z = 0.6744897501960817


class StatsError(EvalkitError, ValueError):
    """Invalid input to an :mod:`evalkit.mcda.stats` function (also a :class:`ValueError`)."""


# ------------------------------------------------------------------------------------------
# input checks (shared by the wrappers)
# ------------------------------------------------------------------------------------------


def _param_error(param: str, func: str, must: str, got: str) -> StatsError:
    return StatsError(f"The '{param}' parameter of {func} must be {must}; got {got} instead.")


def _choice(value: object, options: tuple[str, ...], param: str, func: str) -> str:
    if isinstance(value, str) and value in options:
        return value
    raise StatsError(choice_message(param, func, value, options))


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
    raise StatsError(
        f"The 'form' parameter of {func} must be one of {list(FORMS)} or an alias of one; "
        f"got {form!r} instead.{hint} Available: {', '.join(FORMS)}; aliases: {aliases}."
    )


def _matrix(
    x: npt.ArrayLike, func: str, *, allow_nan: bool, min_rows: int = 2, min_cols: int = 2
) -> npt.NDArray[np.float64]:
    """Return ``x`` as a C-contiguous float64 2-D array, or raise :class:`StatsError`."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        kind = type(x).__name__
        raise _param_error("x", func, "a 2-D array of numbers", f"a {kind} with non-numeric values")
    if arr.ndim != 2:
        raise _param_error("x", func, "a 2-D array", f"an array of shape {arr.shape}")
    if arr.shape[0] < min_rows or arr.shape[1] < min_cols:
        raise _param_error(
            "x", func, f"at least {min_rows} rows and {min_cols} columns", f"shape {arr.shape}"
        )
    if np.isinf(arr).any():
        raise _param_error("x", func, "free of infinite values", "an array with inf")
    if not allow_nan and np.isnan(arr).any():
        n = int(np.isnan(arr).sum())
        raise _param_error("x", func, "complete (no missing values)", f"{n} NaN value(s)")
    return np.ascontiguousarray(arr)


def _fmt(v: object) -> str:
    if isinstance(v, (float, np.floating)):
        return "NaN" if np.isnan(v) else f"{float(v):.6g}"
    return html.escape(str(v))


def _html_table(title: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"<p><b>{html.escape(title)}</b>: (empty)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r.values()) + "</tr>" for r in rows
    )
    return (
        f"<div><b>{html.escape(title)}</b><table class='evalkit-stats'>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


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
        return _html_table(f"Intraclass correlation {self.form}", [self.as_dict()])


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
        return _html_table(title, rows)


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
        return _html_table("Kendall's W (coefficient of concordance)", [row])


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
    if not isinstance(ties, (bool, np.bool_)):
        raise _param_error("ties", "kendall_w", "a bool", repr(ties))
    arr = _matrix(x, "kendall_w", allow_nan=False)
    return _kendall_w(arr, bool(ties))


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
        return _html_table(f"Krippendorff's alpha ({self.level})", [row])


def _interval_pair_sums(
    unit: npt.NDArray[np.int64], v: npt.NDArray[np.float64], n_units: int
) -> tuple[npt.NDArray[np.float64], float]:
    """Kernel: ``P_u = sum_{i != j in u} (v_i - v_j)^2 = 2 m_u SS_u`` per unit and in total."""
    m = np.bincount(unit, minlength=n_units).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_u = np.bincount(unit, weights=v, minlength=n_units) / m
    dev = v - mean_u[unit]
    ss_u = np.bincount(unit, weights=dev * dev, minlength=n_units)
    n = v.size
    ss = float(np.square(v - v.mean()).sum())
    return 2.0 * m * ss_u, 2.0 * n * ss


def _nominal_pair_sums(
    unit: npt.NDArray[np.int64], v: npt.NDArray[np.float64], n_units: int
) -> tuple[npt.NDArray[np.float64], float]:
    """Kernel: ``P_u = m_u^2 - sum_c n_uc^2`` (pairs with different values), sort-based.

    No V x V coincidence matrix: per-unit value counts come from one sort of (unit, value).
    """
    _, code, counts = np.unique(v, return_inverse=True, return_counts=True)
    n = v.size
    total = float(n) * n - float(np.square(counts.astype(np.float64)).sum())
    key = unit.astype(np.int64) * np.int64(counts.size) + code.astype(np.int64)
    key.sort()
    bounds = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate(([0], bounds))
    run = np.diff(np.concatenate((starts, [key.size]))).astype(np.float64)
    run_unit = key[starts] // np.int64(counts.size)
    same = np.bincount(run_unit, weights=run * run, minlength=n_units)
    m = np.bincount(unit, minlength=n_units).astype(np.float64)
    return m * m - same, total


def _ratio_pair_sums(
    unit: npt.NDArray[np.int64], v: npt.NDArray[np.float64], n_units: int
) -> tuple[npt.NDArray[np.float64], float]:
    """Kernel: ``P_u = sum_{i != j in u} ((v_i - v_j) / (v_i + v_j))^2`` without a V x V matrix.

    ``delta = 1 - 4 ab / (a + b)^2`` and, for a, b > 0, ``1 / (a + b)^2 = int_0^inf t e^{-(a+b)t} dt``,
    so ``sum_{i,j} a_i a_j / (a_i + a_j)^2 = int_0^inf t F(t)^2 dt`` with
    ``F(t) = sum_i a_i e^{-a_i t}``.  With ``t = e^s`` the integrand is smooth and decays
    double-exponentially, so the trapezoidal rule with step 0.25 is exact to machine precision
    (error ~ exp(-2 pi d / h), d ~ 1.2).  Cost O(N Q) with Q ~ 200 nodes, memory O(N) per node
    chunk.  Pairs of two zeros have distance 0 (as in the ``krippendorff`` package), a zero
    with a positive value distance 1.
    """
    m = np.bincount(unit, minlength=n_units).astype(np.float64)
    pos = v > 0
    z_u = m - np.bincount(unit[pos], minlength=n_units)
    p_u = np.bincount(unit[pos], minlength=n_units).astype(np.float64)
    g_u = np.zeros(n_units)
    g_tot = 0.0
    if pos.any():
        a = v[pos]
        a = a / a.max()
        u_pos = unit[pos]
        order = np.argsort(u_pos, kind="stable")
        a, u_pos = a[order], u_pos[order]
        starts = np.flatnonzero(np.concatenate(([True], u_pos[1:] != u_pos[:-1])))
        h = 0.25
        s = np.arange(-20.0, np.log(22.5 / a.min()) + h, h)
        t = np.exp(s)
        w = h * np.exp(2.0 * s)
        chunk = max(1, min(s.size, 4_000_000 // max(a.size, 1)))
        for c0 in range(0, s.size, chunk):
            tc = t[c0 : c0 + chunk]
            e = a[:, None] * np.exp(-a[:, None] * tc[None, :])
            f_u = np.add.reduceat(e, starts, axis=0)  # (units with positives, nodes)
            g_u[u_pos[starts]] += (f_u * f_u) @ w[c0 : c0 + chunk]
            f = f_u.sum(axis=0)
            g_tot += float((f * f) @ w[c0 : c0 + chunk])
        g_u -= p_u / 4.0  # remove the i == j terms (a a / (2a)^2 = 1/4)
        g_tot -= float(p_u.sum()) / 4.0
    n = float(v.size)
    z = float(z_u.sum())
    p_units = m * (m - 1) - z_u * (z_u - 1) - 4.0 * g_u
    total = n * (n - 1) - z * (z - 1) - 4.0 * g_tot
    return np.maximum(p_units, 0.0), max(total, 0.0)


def _ordinal_ranks(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Kernel: Krippendorff's ordinal metric as an interval metric on mid-cumulative ranks.

    ``delta(c, k) = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 = (r_k - r_c)^2`` with
    ``r_c = sum_{g<c} n_g + n_c / 2`` (n_g: frequency of value g among pairable values).
    """
    _, code, counts = np.unique(v, return_inverse=True, return_counts=True)
    counts = counts.astype(np.float64)
    r = np.cumsum(counts) - counts / 2.0
    return r[code]


def _alpha_long(
    unit: npt.NDArray[np.int64], v: npt.NDArray[np.float64], level: str, n_units: int
) -> tuple[float, float, float, int]:
    """Kernel: alpha from long data (unit code, value) with no missing values.

    ``alpha = 1 - (n - 1) sum_u P_u / (m_u - 1) / P`` where ``P_u`` is the sum of distances over
    ordered pairs of values within unit u, ``P`` the same over all pairable values and n their
    number (Krippendorff 2011, eqs. for D_o and D_e).  Returns ``(alpha, D_o, D_e, n)``.
    """
    m_all = np.bincount(unit, minlength=n_units)
    keep = m_all[unit] >= 2
    unit, v = unit[keep], v[keep]
    n = v.size
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    if level == "ordinal":
        v = _ordinal_ranks(v)
        level = "interval"
    kernel = {
        "interval": _interval_pair_sums,
        "nominal": _nominal_pair_sums,
        "ratio": _ratio_pair_sums,
    }[level]
    p_u, p_tot = kernel(unit, v, n_units)
    m = np.bincount(unit, minlength=n_units).astype(np.float64)
    ok = m >= 2
    d_o = float((p_u[ok] / (m[ok] - 1)).sum()) / n
    d_e = p_tot / (n * (n - 1.0))
    if d_e <= 0:
        return np.nan, d_o, d_e, n
    return 1.0 - d_o / d_e, d_o, d_e, n


def _alpha_dense(x: npt.NDArray[np.float64], level: str) -> tuple[float, float, float, int]:
    """Kernel: alpha from a dense (raters, units) array with NaN (interval, ordinal, nominal).

    Same sums as :func:`_alpha_long`, computed on the rectangular array with reductions over
    the (few) raters, which numpy does as whole-row vector operations.  Interval: within-unit
    sums of squares, total SS by the ANOVA identity ``SS_tot = sum SS_u + sum m_u (mean_u -
    mean)^2``.  Nominal: ``sum_c n_uc^2 = m_u + 2 #{i < j: x_iu == x_ju}`` from rater-pair
    comparisons (a row-wise sort when there are many raters).  Ratio goes through the long
    kernel.  Returns ``(alpha, D_o, D_e, n)``.
    """
    r = x.shape[0]
    mask = ~np.isnan(x)
    m = mask.sum(axis=0)
    pair = m >= 2
    mf = np.where(pair, m, 0).astype(np.float64)  # non-pairable units weigh nothing
    n = int(mf.sum())
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    vmask = mask if pair.all() else mask & pair
    if level == "ordinal":
        uniq, counts = np.unique(x[vmask], return_counts=True)
        cf = counts.astype(np.float64)
        ranks = np.cumsum(cf) - cf / 2.0
        x = np.where(mask, ranks[np.searchsorted(uniq, np.where(mask, x, uniq[0]))], np.nan)
        level = "interval"
    if level == "interval":
        mean_u = np.divide(
            np.where(mask, x, 0.0).sum(axis=0), mf, out=np.zeros_like(mf), where=pair
        )
        dev = np.where(vmask, x - mean_u, 0.0)
        ss_u = np.einsum("ij,ij->j", dev, dev)
        grand = float((mean_u * mf).sum()) / n
        ss_tot = float(ss_u.sum() + (mf * np.square(mean_u - grand)).sum())
        p_u = 2.0 * mf * ss_u
        p_tot = 2.0 * n * ss_tot
    else:  # nominal: ordered pairs with different values = m^2 - sum_c n_uc^2
        if r <= 48:
            eq = np.zeros(x.shape[1], dtype=np.int64)
            for i in range(r - 1):  # loop over rater pairs (a handful), vectorised over units
                for j in range(i + 1, r):
                    eq += x[i] == x[j]  # NaN != NaN
            same = m + 2.0 * eq
        else:
            srt = np.sort(x.T, axis=1)  # NaN last
            start = np.ones(srt.shape, dtype=bool)
            start[:, 1:] = srt[:, 1:] != srt[:, :-1]
            idx = np.arange(r, dtype=np.int64)[None, :]
            pos = idx - np.maximum.accumulate(np.where(start, idx, 0), axis=1) + 1
            same = np.where(idx < m[:, None], 2 * pos - 1, 0).sum(axis=1).astype(np.float64)
        p_u = np.where(pair, mf * mf - same, 0.0)
        counts = np.unique_counts(x[vmask]).counts.astype(np.float64)
        p_tot = float(n) * n - float(np.square(counts).sum())
    d_o = float(np.divide(p_u, mf - 1, out=np.zeros_like(mf), where=pair).sum()) / n
    d_e = p_tot / (n * (n - 1.0))
    if d_e <= 0:
        return np.nan, d_o, d_e, n
    return 1.0 - d_o / d_e, d_o, d_e, n


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
    identity evaluated by a spectrally accurate quadrature (see ``_ratio_pair_sums``).
    """
    level = _choice(level, LEVELS, "level", "krippendorff_alpha")
    arr = _matrix(x, "krippendorff_alpha", allow_nan=True, min_rows=1, min_cols=1)
    if level == "ratio" and (arr < 0).any():
        raise _param_error(
            "x", "krippendorff_alpha", "non-negative for level='ratio'", "negative values"
        )
    r, n_units = arr.shape
    if level == "ratio":
        unit, rater = np.nonzero(~np.isnan(arr.T))
        a, d_o, d_e, n = _alpha_long(unit.astype(np.int64), arr[rater, unit], level, n_units)
    else:
        a, d_o, d_e, n = _alpha_dense(arr, level)
    return AlphaResult(float(a), level, float(d_o), float(d_e), int(n), int(n_units), int(r))


# ------------------------------------------------------------------------------------------
# rater diagnostics
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaterDiagnostics:
    """Per-rater leniency/severity, leave-one-out agreement and outlier flags.

    Arrays are aligned with the raters (columns of the input).  ``offset`` > 0 is a lenient
    rater, < 0 a severe one (score units); ``loo_corr`` the Pearson correlation of the rater's
    scores with the mean of the *other* raters on the same targets; ``offset_z`` / ``loo_z``
    robust z-scores; ``outlier`` is ``|offset_z| > threshold or loo_z < -threshold``.
    """

    offset: npt.NDArray[np.float64]
    loo_corr: npt.NDArray[np.float64]
    offset_z: npt.NDArray[np.float64]
    loo_z: npt.NDArray[np.float64]
    outlier: npt.NDArray[np.bool_]
    n_scores: npt.NDArray[np.int64]
    threshold: float

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {
                "offset": self.offset,
                "loo_corr": self.loo_corr,
                "offset_z": self.offset_z,
                "loo_z": self.loo_z,
                "outlier": self.outlier,
                "n_scores": self.n_scores,
            }
        ).rename_axis("rater")

    def _repr_html_(self) -> str:
        rows = [{"rater": i, **r} for i, r in enumerate(self.to_frame().to_dict("records"))]
        title = (
            f"Rater diagnostics (robust z = 0.6745 (v - median) / MAD; flag at {self.threshold})"
        )
        return _html_table(title, rows)


def _robust_z(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Kernel: modified z-score ``0.6745 (v - median) / MAD`` (Iglewicz & Hoaglin 1993).

    When the MAD is 0 (over half the values equal), the mean absolute deviation scaled by
    1.2533 (= sqrt(pi/2)) stands in; when both are 0 every finite z is 0.  NaN stays NaN.
    """
    z = np.full(v.shape, np.nan)
    ok = np.isfinite(v)
    if ok.sum() < 3:
        z[ok] = 0.0
        return z
    med = np.median(v[ok])
    dev = v[ok] - med
    mad = np.median(np.abs(dev))
    if mad > 0:
        z[ok] = _MAD_Z * dev / mad
    else:
        meanad = np.mean(np.abs(dev))
        z[ok] = dev / (1.2533141373155001 * meanad) if meanad > 0 else 0.0
    return z


def _rater_diagnostics_long(
    item: npt.NDArray[np.int64],
    rater: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    n_items: int,
    n_raters: int,
    threshold: float = 3.5,
) -> RaterDiagnostics:
    """Kernel: rater diagnostics from long data (one value per (item, rater), no NaN).

    For each score ``x_ij`` the leave-one-out consensus is ``c_ij = (S_i - x_ij) / (n_i - 1)``
    (mean of the other raters of item i, from per-item sums: no loop).  ``offset_j`` is the
    mean of ``x_ij - c_ij``; ``loo_corr_j`` is corr(x_.j, c_.j) over j's items with another
    rater.
    """
    s_i = np.bincount(item, weights=value, minlength=n_items)
    n_i = np.bincount(item, minlength=n_items)
    others = n_i[item] - 1
    ok = others >= 1
    it, rt, x = item[ok], rater[ok], value[ok]
    c = (s_i[it] - x) / others[ok]
    cnt = np.bincount(rt, minlength=n_raters).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = np.bincount(rt, weights=x - c, minlength=n_raters) / cnt
        mx = np.bincount(rt, weights=x, minlength=n_raters) / cnt
        mc = np.bincount(rt, weights=c, minlength=n_raters) / cnt
        dx, dc = x - mx[rt], c - mc[rt]
        sxy = np.bincount(rt, weights=dx * dc, minlength=n_raters)
        sxx = np.bincount(rt, weights=dx * dx, minlength=n_raters)
        scc = np.bincount(rt, weights=dc * dc, minlength=n_raters)
        loo = sxy / np.sqrt(sxx * scc)
    loo = np.where(np.isfinite(loo), loo, np.nan)
    offset = np.where(cnt > 0, offset, np.nan)
    oz, lz = _robust_z(offset), _robust_z(loo)
    outlier = (np.abs(np.nan_to_num(oz)) > threshold) | (np.nan_to_num(lz) < -threshold)
    n_scores = np.bincount(rater, minlength=n_raters).astype(np.int64)
    return RaterDiagnostics(offset, loo, oz, lz, outlier, n_scores, float(threshold))


def rater_diagnostics(x: npt.ArrayLike, threshold: float = 3.5) -> RaterDiagnostics:
    """Leniency/severity offsets, leave-one-out agreement and outlier raters.

    Parameters
    ----------
    x : array_like, shape (targets, raters)
        Scores; NaN where a rater did not score a target.
    threshold : float, default 3.5
        Flag a rater whose robust z of the offset exceeds ``threshold`` in absolute value, or
        whose robust z of the leave-one-out correlation is below ``-threshold`` (only low
        agreement is suspicious).  3.5 is Iglewicz & Hoaglin's (1993) recommended cut-off.

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
    if not (isinstance(threshold, (int, float)) and np.isfinite(threshold) and threshold > 0):
        raise _param_error("threshold", "rater_diagnostics", "a positive number", repr(threshold))
    n_t, n_r = arr.shape
    item, rater = np.nonzero(~np.isnan(arr))
    return _rater_diagnostics_long(
        item.astype(np.int64), rater.astype(np.int64), arr[item, rater], n_t, n_r, float(threshold)
    )


# ------------------------------------------------------------------------------------------
# pooled statistics over complete blocks (used by evalkit.evaluate.panel)
# ------------------------------------------------------------------------------------------


def _blocks_long(
    target: npt.NDArray[np.int64], rater: npt.NDArray[np.int64], n_targets: int, n_raters: int
) -> npt.NDArray[np.int64]:
    """Kernel: block id per target = id of its exact set of raters (complete blocks).

    Each target's rater set is packed into bits (8 raters a byte, 64 a word) and the words
    are factorised: hashing, no row-wise sort.
    """
    import pandas as pd

    mask = np.zeros((n_targets, n_raters), dtype=bool)
    mask[target, rater] = True
    packed = np.packbits(mask, axis=1)
    width = -(-packed.shape[1] // 8) * 8
    if width != packed.shape[1]:
        packed = np.pad(packed, ((0, 0), (0, width - packed.shape[1])))
    words = np.ascontiguousarray(packed).view(np.uint64)
    if words.shape[1] == 1:
        block = pd.factorize(words[:, 0])[0]
    else:
        block = np.unique(words, axis=0, return_inverse=True)[1]
    return np.asarray(block).reshape(-1).astype(np.int64)


def _grouped_ranks(
    col: npt.NDArray[np.int64], value: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Kernel: average ranks of ``value`` within each ``col`` group, plus the tie groups.

    Returns ``(ranks, tie_col, tie_size)``: ranks aligned with the input; one entry per run of
    equal values inside a group (its group and length).  One lexsort, no per-group call.
    """
    order = np.lexsort((value, col))
    c, v = col[order], value[order]
    n = c.size
    idx = np.arange(n, dtype=np.int64)
    new_col = np.ones(n, dtype=bool)
    new_col[1:] = c[1:] != c[:-1]
    new_run = new_col.copy()
    new_run[1:] |= v[1:] != v[:-1]
    col_start = np.maximum.accumulate(np.where(new_col, idx, 0))
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.concatenate((run_start, [n])))
    run_id = np.cumsum(new_run) - 1
    # average of 1-based positions first..last inside the group
    first = run_start - col_start[run_start]
    avg = first + (run_len + 1) / 2.0
    ranks = np.empty(n)
    ranks[order] = avg[run_id]
    return ranks, c[run_start], run_len.astype(np.float64)


def _icc2_pooled(
    target: npt.NDArray[np.int64],
    rater: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    n_targets: int,
    n_raters: int,
    block_of_t: npt.NDArray[np.int64] | None = None,
) -> tuple[float, float, int]:
    """Kernel: ICC(2,1) and ICC(2,k) pooled over complete blocks of long data.

    Targets with the same set of raters form a complete block.  The two-way ANOVA sums of
    squares are computed within each block (its own target and rater effects) and pooled
    with their degrees of freedom; k is the mean number of raters per target.  With a single
    block this is exactly :func:`icc`.  Returns ``(icc21, icc2k, n_targets_used)``.
    """
    if block_of_t is None:
        block_of_t = _blocks_long(target, rater, n_targets, n_raters)
    b = block_of_t[target]
    n_b = np.bincount(block_of_t).astype(np.float64)
    k_t = np.bincount(target, minlength=n_targets).astype(np.float64)
    k_b = np.zeros(n_b.size)
    k_b[block_of_t] = k_t
    use_b = (n_b >= 2) & (k_b >= 2)
    sel = use_b[b]
    if not sel.any():
        return np.nan, np.nan, 0
    target, rater, value, b = target[sel], rater[sel], value[sel], b[sel]
    nb = int(n_b.size)
    grand = np.bincount(b, weights=value, minlength=nb) / np.bincount(b, minlength=nb).clip(1)
    row_mean = np.bincount(target, weights=value, minlength=n_targets) / k_t.clip(1)
    cell = b * np.int64(n_raters) + rater
    col_n = np.bincount(cell, minlength=nb * n_raters)
    col_mean = np.bincount(cell, weights=value, minlength=nb * n_raters) / col_n.clip(1)
    t_used = np.unique(target)
    ss_r = float((k_t[t_used] * np.square(row_mean[t_used] - grand[block_of_t[t_used]])).sum())
    c_used = np.flatnonzero(col_n)
    ss_c = float((col_n[c_used] * np.square(col_mean[c_used] - grand[c_used // n_raters])).sum())
    ss_w = float(np.square(value - row_mean[target]).sum())
    ss_e = max(ss_w - ss_c, 0.0)
    nn, kk = n_b[use_b], k_b[use_b]
    df_r, df_c, df_e = (nn - 1).sum(), (kk - 1).sum(), ((nn - 1) * (kk - 1)).sum()
    msr, msc, mse = ss_r / df_r, ss_c / df_c, ss_e / df_e
    n = float(nn.sum())
    k = float((nn * kk).sum() / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        icc21 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        icc2k = (msr - mse) / (msr + (msc - mse) / n)
    return float(icc21), float(icc2k), int(n)


def _kendall_w_pooled(
    target: npt.NDArray[np.int64],
    rater: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    n_targets: int,
    n_raters: int,
    block_of_t: npt.NDArray[np.int64] | None = None,
) -> tuple[float, float, int, float]:
    """Kernel: Kendall's W pooled over complete blocks (tie-corrected).

    Each block b (targets sharing the same raters) gives ``W_b`` and ``chi2_b = m_b (n_b - 1)
    W_b`` with ``n_b - 1`` df; independent chi-squares add, so the pooled test is
    ``chi2 = sum chi2_b`` on ``sum (n_b - 1)`` df and the pooled W is the df-weighted mean
    ``chi2 / sum m_b (n_b - 1)``.  With one block this is exactly :func:`kendall_w`.
    Returns ``(w, chi2, df, p)``.
    """
    if block_of_t is None:
        block_of_t = _blocks_long(target, rater, n_targets, n_raters)
    b = block_of_t[target]
    n_b = np.bincount(block_of_t).astype(np.float64)
    m_t = np.bincount(target, minlength=n_targets).astype(np.float64)
    m_b = np.zeros(n_b.size)
    m_b[block_of_t] = m_t
    use_b = (n_b >= 2) & (m_b >= 2)
    sel = use_b[b]
    if not sel.any():
        return np.nan, np.nan, 0, np.nan
    target, rater, value, b = target[sel], rater[sel], value[sel], b[sel]
    nb = int(n_b.size)
    col = b * np.int64(n_raters) + rater
    ranks, tie_col, tie = _grouped_ranks(col, value)
    r_t = np.bincount(target, weights=ranks, minlength=n_targets)
    t_used = np.unique(target)
    bt = block_of_t[t_used]
    dev = r_t[t_used] - m_b[bt] * (n_b[bt] + 1) / 2.0
    s_b = np.bincount(bt, weights=dev * dev, minlength=nb)
    t_b = np.bincount(tie_col // n_raters, weights=tie**3 - tie, minlength=nb)
    denom = m_b**2 * (n_b**3 - n_b) - m_b * t_b
    ok = use_b & (denom > 0)
    if not ok.any():
        return np.nan, np.nan, 0, np.nan
    w_b = 12.0 * s_b[ok] / denom[ok]
    chi2_b = m_b[ok] * (n_b[ok] - 1) * w_b
    chi2 = float(chi2_b.sum())
    df = int((n_b[ok] - 1).sum())
    w = chi2 / float((m_b[ok] * (n_b[ok] - 1)).sum())
    return w, chi2, df, float(_sps.chi2.sf(chi2, df))
