"""Krippendorff's alpha kernels: long data and dense (raters, units) arrays, no checks.

The public, checking function is :func:`evalkit.mcda.stats.krippendorff_alpha`;
:func:`alpha_long` is also what :mod:`evalkit.evaluate.panel` computes per criterion on the
panel's long scores.  Both kernels compute the same sums in closed form from per-unit sums,
never from a V x V coincidence matrix (V distinct values), so time and memory do not grow
with the square of V: interval = within-unit vs total sums of squares; ordinal = interval on
mid-cumulative frequency ranks; nominal = per-unit value counts from one sort; ratio = an
exact integral identity evaluated by a spectrally accurate quadrature (``_ratio_pair_sums``).

References
----------
Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication, University of Pennsylvania.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["alpha_dense", "alpha_long"]


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


def alpha_long(
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


def alpha_dense(x: npt.NDArray[np.float64], level: str) -> tuple[float, float, float, int]:
    """Kernel: alpha from a dense (raters, units) array with NaN (interval, ordinal, nominal).

    Same sums as :func:`alpha_long`, computed on the rectangular array with reductions over
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

