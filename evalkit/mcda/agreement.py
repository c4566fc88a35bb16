"""Agreement kernels on long panel data: pooled ICC and Kendall's W, rater diagnostics.

A panel's scores arrive long — one ``(target, rater, value)`` per score, the raters differing
from target to target — and :mod:`evalkit.evaluate.panel` computes its agreement table from
them in one pass per criterion, without a wide array.  These kernels do no checking (the
caller holds validated codes); the checking wrappers on wide arrays are in
:mod:`evalkit.mcda.stats`.

* :func:`complete_blocks` — the complete blocks of long data: targets sharing one set of raters;
* :func:`icc2_pooled` — ICC(2,1) and ICC(2,k) pooled over the complete blocks;
* :func:`kendall_w_pooled` — Kendall's W pooled over the complete blocks (tie-corrected);
* :func:`rater_diagnostics_long` — leniency/severity offsets, leave-one-out agreement and
  robust-z outlier flags per rater (:class:`RaterDiagnostics`).

References
----------
Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
reliability. *Psychological Bulletin*, 86(2), 420-428.
Siegel, S., & Castellan, N. J. (1988). *Nonparametric statistics for the behavioral
sciences* (2nd ed.), section 9.4.
Iglewicz, B., & Hoaglin, D. C. (1993). *How to detect and handle outliers*. ASQC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats as _sps

from evalkit.mcda.display import html_table

__all__ = [
    "RaterDiagnostics",
    "complete_blocks",
    "icc2_pooled",
    "kendall_w_pooled",
    "rater_diagnostics_long",
]

#: 0.6745 = Phi^-1(0.75): makes the MAD a consistent estimate of sigma (Iglewicz & Hoaglin).
_MAD_Z = 0.6744897501960817


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
        return html_table(title, rows)


def _robust_z(v: npt.NDArray[np.float64], floor: float = 0.0) -> npt.NDArray[np.float64]:
    """Kernel: modified z-score ``0.6745 (v - median) / MAD`` (Iglewicz & Hoaglin 1993).

    When the MAD is 0 (over half the values equal), the mean absolute deviation scaled by
    1.2533 (= sqrt(pi/2)) stands in; when both are 0 every finite z is 0.  NaN stays NaN.

    ``floor`` (> 0) is a materiality floor on the scale: the deviation is divided by
    ``max(MAD / 0.6745, floor)``, the robust standard deviation never taken below the standard
    deviation for proficiency assessment ``sigma_pt`` fixed by fitness for purpose (ISO
    13528:2015, sections 8.2 and 9.4, z = (x - x_pt) / sigma_pt).  A tight group then does not
    turn a small, immaterial deviation into a large z.
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
        sigma = mad / _MAD_Z
    else:
        sigma = 1.2533141373155001 * np.mean(np.abs(dev))
    sigma = max(sigma, float(floor))
    z[ok] = dev / sigma if sigma > 0 else 0.0
    return z


def rater_diagnostics_long(
    item: npt.NDArray[np.int64],
    rater: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    n_items: int,
    n_raters: int,
    threshold: float = 3.5,
    offset_floor: float = 0.0,
    corr_floor: float = 0.0,
) -> RaterDiagnostics:
    """Kernel: rater diagnostics from long data (one value per (item, rater), no NaN).

    ``offset_floor`` (score units) and ``corr_floor`` (correlation units) are the materiality
    floors of the robust z of the offsets and of the leave-one-out correlations
    (:func:`_robust_z`): with floors a rater is flagged only when the deviation is both
    unusual for the group and larger than ``threshold`` times the floor.

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
    oz, lz = _robust_z(offset, offset_floor), _robust_z(loo, corr_floor)
    outlier = (np.abs(np.nan_to_num(oz)) > threshold) | (np.nan_to_num(lz) < -threshold)
    n_scores = np.bincount(rater, minlength=n_raters).astype(np.int64)
    return RaterDiagnostics(offset, loo, oz, lz, outlier, n_scores, float(threshold))



# ------------------------------------------------------------------------------------------
# pooled statistics over complete blocks
# ------------------------------------------------------------------------------------------


def complete_blocks(
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


def _usable_blocks(
    target: npt.NDArray[np.int64],
    rater: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    n_targets: int,
    n_raters: int,
    block_of_t: npt.NDArray[np.int64] | None,
) -> tuple[npt.NDArray, ...] | None:
    """The complete blocks of the pooled kernels and the long data restricted to the usable ones
    (at least two targets and two raters): ``(block_of_t, raters per target, targets per
    block, raters per block, usable block mask, target, rater, value, block)``, or None when
    no block is usable."""
    if block_of_t is None:
        block_of_t = complete_blocks(target, rater, n_targets, n_raters)
    b = block_of_t[target]
    n_b = np.bincount(block_of_t).astype(np.float64)
    k_t = np.bincount(target, minlength=n_targets).astype(np.float64)
    k_b = np.zeros(n_b.size)
    k_b[block_of_t] = k_t
    use_b = (n_b >= 2) & (k_b >= 2)
    sel = use_b[b]
    if not sel.any():
        return None
    return block_of_t, k_t, n_b, k_b, use_b, target[sel], rater[sel], value[sel], b[sel]


def icc2_pooled(
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
    block this is exactly :func:`evalkit.mcda.stats.icc`.  Returns ``(icc21, icc2k,
    n_targets_used)``.
    """
    blocks = _usable_blocks(target, rater, value, n_targets, n_raters, block_of_t)
    if blocks is None:
        return np.nan, np.nan, 0
    block_of_t, k_t, n_b, k_b, use_b, target, rater, value, b = blocks
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


def kendall_w_pooled(
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
    ``chi2 / sum m_b (n_b - 1)``.  With one block this is exactly
    :func:`evalkit.mcda.stats.kendall_w`.  Returns ``(w, chi2, df, p)``.
    """
    blocks = _usable_blocks(target, rater, value, n_targets, n_raters, block_of_t)
    if blocks is None:
        return np.nan, np.nan, 0, np.nan
    block_of_t, _, n_b, m_b, use_b, target, rater, value, b = blocks
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
