"""Saaty's analytic hierarchy process: one matrix's weights and consistency, a panel's matrices combined.

* :func:`ahp` — Saaty's analytic hierarchy process on one reciprocal pairwise-comparison
  matrix: principal (Perron) eigenvector as weights, λmax, the consistency index
  ``CI = (λmax − n) / (n − 1)`` and the consistency ratio ``CR = CI / RI(n)``.  The random
  index table is selectable (:data:`RI_TABLES`): Saaty (1980) by default, Tummala & Ling (1998)
  — the table pymcdm uses — or any sequence of your own.  Judgments must lie on Saaty's
  1/9…9 scale (:data:`SCALES`; ``scale="free"`` allows any positive ratio).
* :func:`combine_judgments` — a panel's matrices combined element-wise by (weighted) geometric
  mean, the aggregation that keeps the result reciprocal (Aczél & Saaty 1983);
  :func:`geomean_kernel` is its kernel (NaN-aware: a pair an expert left out is skipped).

Each public function checks its input once and calls a pure kernel (``_ahp_kernel``,
:func:`geomean_kernel`) that does the arithmetic only.  Long judgment rows become matrices in
:mod:`evalkit.mcda.judgments`; everything here is also reachable as
:mod:`evalkit.mcda.weights` ``.ahp`` etc.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit import checks
from evalkit.errors import EvalkitError, param_message

__all__ = [
    "RI_TABLES",
    "SCALES",
    "SCALE_MAX",
    "SCALE_MIN",
    "SCALE_RTOL",
    "AHPResult",
    "ReciprocityError",
    "ScaleError",
    "WeightsError",
    "ahp",
    "combine_judgments",
    "geomean_kernel",
]

#: Random consistency indices RI(n) for n = 1, 2, … (index 0 is n = 1).
#:
#: ``saaty1980``: Saaty, *The Analytic Hierarchy Process* (McGraw-Hill, 1980), n = 1…15
#: (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59) — the
#: table most Chinese index-system papers cite.
#: ``tummala_ling1998``: Tummala & Ling, "A note on the computation of the mean random
#: consistency index of the AHP", *Theory and Decision* 44 (1998) 221–230, n = 1…15; the
#: table pymcdm's ``AHP.get_cr`` uses.
RI_TABLES: dict[str, tuple[float, ...]] = {
    "saaty1980": (
        0.0,
        0.0,
        0.58,
        0.90,
        1.12,
        1.24,
        1.32,
        1.41,
        1.45,
        1.49,
        1.51,
        1.48,
        1.56,
        1.57,
        1.59,
    ),
    "tummala_ling1998": (
        0.0,
        0.0,
        0.5799,
        0.8921,
        1.1159,
        1.2358,
        1.3322,
        1.3952,
        1.4537,
        1.4882,
        1.5117,
        1.5356,
        1.5571,
        1.5714,
        1.5831,
    ),
}

#: Saaty's 1–9 scale bounds for one judgment.
SCALE_MIN, SCALE_MAX = 1.0 / 9.0, 9.0

#: Relative slack of the 1/9…9 scale check, for judgments typed as decimals: 1/9 typed
#: as 0.11, 0.111 or 0.1111 passes (0.11 is 1 % off), 1/10 = 0.1 and 10 do not.
SCALE_RTOL = 0.02

#: Judgment scales of :func:`ahp` and :func:`combine_judgments`: ``"saaty"`` = every entry in
#: [1/9, 9] (Saaty 1980, the fundamental 1–9 scale), ``"free"`` = any positive ratio.
SCALES: tuple[str, ...] = ("saaty", "free")


class WeightsError(EvalkitError, ValueError):
    """Invalid input to a weighting function (also a ``ValueError``)."""


class ReciprocityError(WeightsError):
    """A pairwise-comparison matrix is not reciprocal (``a_ji ≠ 1 / a_ij`` or ``a_ii ≠ 1``)."""


class ScaleError(WeightsError):
    """A pairwise-comparison matrix holds a judgment outside Saaty's 1/9…9 scale."""


# --------------------------------------------------------------------------------------------
# AHP
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AHPResult:
    """Result of :func:`ahp`.

    Attributes
    ----------
    weights : ndarray of shape (n,)
        Principal right eigenvector, positive, normalised to sum to 1.
    lambda_max : float
        Principal eigenvalue λmax (``= n`` for a perfectly consistent matrix).
    ci : float
        Consistency index ``(λmax − n) / (n − 1)``; 0 for n ≤ 2.
    cr : float
        Consistency ratio ``CI / RI(n)``; 0 for n ≤ 2 (such matrices are always consistent).
    ri : float
        The random index used.
    ri_table : str
        Name of the RI table (``"custom"`` for a user sequence).
    threshold : float
        The CR acceptance threshold (Saaty: 0.10).
    consistent : bool
        ``cr < threshold`` (Saaty's rule "accept when CR < 0.10").
    """

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    ri: float
    ri_table: str
    threshold: float
    consistent: bool
    labels: tuple[str, ...] | None = None

    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    def _repr_html_(self) -> str:
        labels = self.labels or tuple(str(i + 1) for i in range(self.n))
        rows = "".join(
            f"<tr><td>{html.escape(str(lab))}</td><td>{w:.4f}</td></tr>"
            for lab, w in zip(labels, self.weights, strict=True)
        )
        verdict = "consistent" if self.consistent else "NOT consistent"
        return (
            "<table><thead><tr><th>item</th><th>weight</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p>λmax = {self.lambda_max:.4f}, CI = {self.ci:.4f}, CR = {self.cr:.4f} "
            f"(RI = {self.ri:.4f}, {html.escape(self.ri_table)}): {verdict} at "
            f"CR &lt; {self.threshold:g}</p>"
        )


def _ahp_kernel(m: np.ndarray) -> tuple[np.ndarray, float]:
    """Principal eigenvector (normalised to sum 1) and eigenvalue of a positive matrix.

    No checks.  By Perron–Frobenius the principal eigenvalue of a positive matrix is real,
    simple and the largest in modulus; its eigenvector can be chosen positive.
    """
    n = m.shape[0]
    if n == 1:
        return np.ones(1), 1.0
    vals, vecs = np.linalg.eig(m)
    i = int(np.argmax(vals.real))
    vec = np.abs(vecs[:, i].real)
    return vec / vec.sum(), float(vals[i].real)


def _resolve_ri(ri: str | Sequence[float], n: int, func: str) -> tuple[float, str]:
    """The random index RI(n) and the table's name (a key of :data:`RI_TABLES` or "custom")."""
    if isinstance(ri, str):
        name = checks.one_of(ri, RI_TABLES, "ri", func, WeightsError)
        table = RI_TABLES[name]
    else:
        try:
            table = tuple(float(v) for v in ri)
        except (TypeError, ValueError):
            must = f"a name of {list(RI_TABLES)} or a sequence of numbers"
            raise WeightsError(param_message("ri", func, must, repr(ri))) from None
        name = "custom"
    if n > len(table):
        must = f"a matrix of at most {len(table)} rows for the {name!r} RI table"
        raise WeightsError(param_message("m", func, must, f"{n} rows"))
    value = float(table[n - 1])
    if n > 2 and not value > 0:
        raise WeightsError(param_message("ri", func, f"a table with a positive RI for n = {n}", repr(value)))
    return value, name


def _check_reciprocal(m: np.ndarray, func: str, rtol: float, name: str = "m") -> None:
    """Raise :class:`ReciprocityError` unless ``m`` is positive, with a unit diagonal and
    ``m[j, i] = 1 / m[i, j]`` (relative tolerance ``rtol``); the message names a cell."""
    invalid = ~np.isfinite(m) | (m <= 0)
    if invalid.any():
        got = f"a matrix with {int(invalid.sum())} invalid entries"
        raise ReciprocityError(param_message(name, func, "a matrix of finite positive judgments", got))
    diag = np.diagonal(m)
    bad_diag = np.flatnonzero(~np.isclose(diag, 1.0, rtol=rtol, atol=0.0))
    if bad_diag.size:
        i = int(bad_diag[0])
        got = f"{name}[{i}, {i}] = {diag[i]:g}"
        raise ReciprocityError(param_message(name, func, "a matrix with ones on its diagonal", got))
    prod = m * m.T
    bad = np.argwhere(np.triu(~np.isclose(prod, 1.0, rtol=rtol, atol=0.0), 1))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        must = f"reciprocal ({name}[j, i] = 1 / {name}[i, j])"
        got = (f"{name}[{i}, {j}] = {m[i, j]:g} and {name}[{j}, {i}] = {m[j, i]:g} "
               f"(product {prod[i, j]:g}; {len(bad)} pair(s) break it)")
        raise ReciprocityError(param_message(name, func, must, got))


def _check_scale(m: np.ndarray, func: str, name: str = "m") -> None:
    """Raise :class:`ScaleError` naming the pairs ``(i, j)``, ``i < j``, off the 1/9…9 scale.

    Bounds widen by :data:`SCALE_RTOL` both ways (``1/9 / (1 + tol)``, ``9 (1 + tol)``), so a
    judgment and its reciprocal are on or off the scale together.
    """
    slack = 1.0 + SCALE_RTOL
    off = (m < SCALE_MIN / slack) | (m > SCALE_MAX * slack)
    bad = np.argwhere(np.triu(off | off.T, 1))
    if not bad.size:
        return
    cells = ", ".join(f"{name}[{i}, {j}] = {m[i, j]:g}" for i, j in bad[:5].tolist())
    more = f" and {len(bad) - 5} more pair(s)" if len(bad) > 5 else ""
    must = "a matrix of judgments on Saaty's 1/9…9 scale (scale='free' allows any positive ratio)"
    raise ScaleError(param_message(name, func, must, f"{cells}{more}"))


def _as_square(m: Any, func: str, name: str = "m") -> np.ndarray:
    """``m`` as a non-empty square float matrix (NaN and inf are left to the reciprocity check)."""
    return checks.numeric_array(m, name, func, WeightsError, what="matrix", square=True,
                                min_shape=(1, 1), allow_nan=True, allow_inf=True)


def ahp(
    m: Any,
    *,
    ri: str | Sequence[float] = "saaty1980",
    threshold: float = 0.10,
    rtol: float = 1e-6,
    labels: Sequence[str] | None = None,
    scale: str = "saaty",
) -> AHPResult:
    """Weights and consistency of a reciprocal pairwise-comparison matrix (Saaty's AHP).

    Parameters
    ----------
    m : array_like of shape (n, n)
        ``m[i, j]`` = how many times more important item *i* is than item *j* (Saaty 1/9…9).
        Must be positive with ``m[i, i] = 1`` and ``m[j, i] = 1 / m[i, j]``.  A pandas
        DataFrame's index is used as labels.
    ri : str or sequence of float, default "saaty1980"
        Random index table: a key of :data:`RI_TABLES` (``"saaty1980"``,
        ``"tummala_ling1998"``) or a sequence ``RI(1), RI(2), …``.
    threshold : float, default 0.10
        The matrix is ``consistent`` when ``CR < threshold``.
    rtol : float, default 1e-6
        Relative tolerance of the reciprocity check (judgments typed as 0.333 for 1/3 need a
        looser one, e.g. ``1e-2``).
    labels : sequence of str, optional
        Item names, shown by the HTML representation.
    scale : {"saaty", "free"}, default "saaty"
        ``"saaty"``: every judgment must lie on Saaty's 1/9…9 scale (Saaty 1980), up to a
        relative :data:`SCALE_RTOL` of 2 % for judgments typed as decimals (0.11 for 1/9).
        The RI tables are the mean CI of random matrices drawn from that scale, so a CR is
        only meaningful for judgments on it.  ``"free"``: any positive ratio (e.g. a matrix
        of measured ratios ``w_i / w_j``).

    Returns
    -------
    AHPResult
        ``.weights .lambda_max .ci .cr .consistent`` (and ``.ri``, ``.ri_table``).

    Raises
    ------
    ReciprocityError
        If the matrix is not positive, has a diagonal entry ≠ 1 or is not reciprocal.
    ScaleError
        If ``scale="saaty"`` and a judgment lies outside 1/9…9 (the message names each
        offending cell ``m[i, j]`` and its value).
    WeightsError
        If the matrix is not square or is larger than the RI table, or ``scale`` is unknown.

    Examples
    --------
    >>> res = ahp([[1, 3], [1 / 3, 1]])
    >>> res.weights.round(3).tolist(), res.cr
    ([0.75, 0.25], 0.0)
    """
    func = "ahp"
    checks.one_of(scale, SCALES, "scale", func, WeightsError)
    if labels is None and isinstance(m, pd.DataFrame):
        labels = [str(v) for v in m.index]
    arr = _as_square(m, func)
    n = arr.shape[0]
    _check_reciprocal(arr, func, rtol)
    if scale == "saaty":
        _check_scale(arr, func)
    checks.number_between(threshold, 0, 1, "threshold", func, WeightsError)
    if labels is not None:
        checks.sized(labels, n, "labels", func, WeightsError)
    ri_value, ri_name = _resolve_ri(ri, n, func)
    w, lam = _ahp_kernel(arr)
    if n <= 2:
        ci = cr = 0.0
        lam = float(n)  # exact: every 1×1 and 2×2 reciprocal matrix is consistent
    else:
        ci = max((lam - n) / (n - 1), 0.0)  # λmax ≥ n in exact arithmetic
        cr = ci / ri_value
    return AHPResult(
        weights=w,
        lambda_max=lam,
        ci=ci,
        cr=cr,
        ri=ri_value,
        ri_table=ri_name,
        threshold=float(threshold),
        consistent=bool(cr < threshold),
        labels=None if labels is None else tuple(str(v) for v in labels),
    )


# --------------------------------------------------------------------------------------------
# Group judgments
# --------------------------------------------------------------------------------------------


def geomean_kernel(stack: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Kernel: weighted element-wise geometric mean over axis 0, ignoring NaN (no checks).

    A cell that is NaN in every matrix stays NaN.
    """
    logs = np.log(stack)
    ok = ~np.isnan(logs)
    wb = np.where(ok, weights[:, None, None], 0.0)
    tot = wb.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_log = (np.where(ok, logs, 0.0) * wb).sum(axis=0) / tot
    return np.exp(np.where(tot > 0, mean_log, np.nan))


def combine_judgments(
    matrices: Sequence[Any] | np.ndarray,
    *,
    weights: Sequence[float] | None = None,
    rtol: float = 1e-6,
    scale: str = "saaty",
) -> np.ndarray:
    """Combine a panel's pairwise-comparison matrices by element-wise geometric mean.

    The geometric mean of reciprocal matrices is reciprocal, which the arithmetic mean is not
    (Aczél & Saaty 1983); it is the aggregation of individual judgments (AIJ) that AHP group
    studies use.

    Parameters
    ----------
    matrices : sequence of array_like (n, n), or ndarray (k, n, n)
        One reciprocal matrix per expert.
    weights : sequence of float, optional
        Non-negative expert weights (e.g. expert authority Cr); equal by default.  The result
        is ``exp(Σ_e w_e ln m_e / Σ_e w_e)``.
    rtol : float, default 1e-6
        Tolerance of each matrix's reciprocity check.
    scale : {"saaty", "free"}, default "saaty"
        As in :func:`ahp`, checked on each expert's matrix.  The geometric mean of judgments
        on the 1/9…9 scale is on it, so the group matrix passes :func:`ahp`'s check.

    Returns
    -------
    ndarray of shape (n, n)
        The group matrix (reciprocal, unit diagonal).

    Raises
    ------
    ReciprocityError
        If one of the matrices is not reciprocal (the message names which).
    ScaleError
        If ``scale="saaty"`` and a judgment lies outside 1/9…9 (the message names the matrix
        and the cells).
    WeightsError
        If the matrices are empty, not square or of different sizes.
    """
    func = "combine_judgments"
    checks.one_of(scale, SCALES, "scale", func, WeightsError)
    try:
        mats = [np.asarray(mx, dtype=float) for mx in matrices]
    except (TypeError, ValueError):
        got = f"a {type(matrices).__name__} with non-numeric values"
        raise WeightsError(param_message("matrices", func, "a sequence of square numeric matrices", got)) from None
    if not mats:
        raise WeightsError(param_message("matrices", func, "a sequence of at least one matrix", "none"))
    shapes = {mx.shape for mx in mats}
    if len(shapes) != 1:
        got = f"shapes {sorted(shapes)}"
        raise WeightsError(param_message("matrices", func, "a sequence of matrices of one shape", got))
    for e, mx in enumerate(mats):
        _as_square(mx, func, name=f"matrices[{e}]")
        _check_reciprocal(mx, func, rtol, name=f"matrices[{e}]")
        if scale == "saaty":
            _check_scale(mx, func, name=f"matrices[{e}]")
    stack = np.stack(mats)
    if weights is None:
        wts = np.ones(len(mats))
    else:
        wts = checks.weight_vector(weights, len(mats), "weights", func, WeightsError)
    out = geomean_kernel(stack, wts)
    np.fill_diagonal(out, 1.0)
    return out


