"""Ranking methods: weighted sum and TOPSIS, for one weight vector or a batch of them.

* :func:`weighted_sum` — ``x @ w`` with the weights normalised to sum 1.
* :func:`topsis` — Hwang & Yoon (1981) TOPSIS with *vector* normalisation
  ``r_ij = x_ij / sqrt(Σ_i x_ij²)`` (default) or *min–max* normalisation
  (``normalisation="minmax"``): closeness ``C_i = D_i⁻ / (D_i⁺ + D_i⁻)`` in [0, 1].
* :func:`batch_scores` — every candidate's score under each of a batch of weight vectors (the
  robustness draws), with a :data:`METHODS` kernel.

Ranking methods live in a named registry (:data:`METHODS`); each entry is a batch kernel
``(x, W, benefit) -> scores`` where ``W`` holds one weight vector per row (a draw), computed
as matrix products (weighted sum: ``W @ xᵀ``; TOPSIS: ``sqrt(W² @ ((r − r⁺)²)ᵀ)``, exact
because weights are non-negative).  TOPSIS's normalisations are a registry too
(:data:`NORMALISATIONS`).  Public functions check their input once (:func:`decision_matrix`,
:func:`normalised_weights`, :func:`benefit_mask`, :func:`method_kernel`) and call the kernels,
which do no checking.  Everything here is also reachable as :mod:`evalkit.mcda.rank`
``.topsis`` etc.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from evalkit import checks
from evalkit.errors import EvalkitError, param_message
from evalkit.registry import Registry

__all__ = [
    "METHODS",
    "NORMALISATIONS",
    "RankError",
    "batch_scores",
    "benefit_mask",
    "decision_matrix",
    "method_kernel",
    "normalised_weights",
    "topsis",
    "weighted_sum",
]

#: A batch kernel ``(x, W, benefit, mask=None) -> scores (draws, n)``.
BatchKernel = Callable[..., np.ndarray]
#: A one-vector TOPSIS kernel ``(x, w, benefit) -> closeness (n,)``.
Normaliser = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class RankError(EvalkitError, ValueError):
    """Invalid input to a ranking function (also a ``ValueError``)."""


# --------------------------------------------------------------------------------------------
# Kernels (no checks)
# --------------------------------------------------------------------------------------------


def _ws_batch(x: np.ndarray, wd: np.ndarray, benefit: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Weighted sums for a batch of weight vectors.

    ``x``: (n, m) or (c, n, m) (one matrix per draw); ``wd``: (c, m).  Returns (c, n).
    ``benefit`` is ignored (a weighted sum expects scores oriented "higher is better"), and so
    is ``mask``: a candidate's weighted sum does not depend on the others.
    """
    if x.ndim == 2:
        return wd @ x.T
    return np.einsum("cnm,cm->cn", x, wd, optimize=False)


def _vector_normalise(x: np.ndarray) -> np.ndarray:
    """Hwang & Yoon vector normalisation along the alternatives axis (-2); zero columns → 0."""
    norm = np.sqrt(np.einsum("...nm,...nm->...m", x, x))
    inv = np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 0)
    return x * inv[..., None, :]


def _topsis_batch(x: np.ndarray, wd: np.ndarray, benefit: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """TOPSIS closeness for a batch of weight vectors (Hwang & Yoon, vector normalisation).

    With ``v_ij = w_j r_ij`` and ``w_j ≥ 0`` the ideal ``v⁺_j = w_j r⁺_j``, so
    ``(D⁺_i)² = Σ_j w_j² (r_ij − r⁺_j)²``: one matrix product per batch.  ``x``: (n, m) or
    (c, n, m); ``wd``: (c, m).  Returns (c, n); 0.5 where ``D⁺ + D⁻ = 0`` (all alike).
    ``mask`` (c, n): the candidates of each draw's decision set; the norms and the ideal
    points are taken over them only (the others' closeness is returned but meaningless).
    """
    if mask is not None:
        x = np.where(mask[..., None], x, 0.0)  # the others add nothing to the norms
    r = _vector_normalise(x)
    if mask is None:
        hi, lo = r.max(axis=-2, keepdims=True), r.min(axis=-2, keepdims=True)
    else:
        hi = np.where(mask[..., None], r, -np.inf).max(axis=-2, keepdims=True)
        lo = np.where(mask[..., None], r, np.inf).min(axis=-2, keepdims=True)
        hi, lo = np.where(np.isfinite(hi), hi, 0.0), np.where(np.isfinite(lo), lo, 0.0)
    best = np.where(benefit, hi, lo)
    worst = np.where(benefit, lo, hi)
    w2 = wd * wd
    if x.ndim == 2:
        dp = np.sqrt(w2 @ ((r - best) ** 2).T)
        dn = np.sqrt(w2 @ ((r - worst) ** 2).T)
    else:
        dp = np.sqrt(np.einsum("cnm,cm->cn", (r - best) ** 2, w2, optimize=False))
        dn = np.sqrt(np.einsum("cnm,cm->cn", (r - worst) ** 2, w2, optimize=False))
    tot = dp + dn
    return np.divide(dn, tot, out=np.full_like(tot, 0.5), where=tot > 0)


def _minmax_normalise(x: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """Min–max normalisation along the alternatives axis (-2), oriented "more is better".

    Benefit ``(x − min) / (max − min)``, cost ``(max − x) / (max − min)``, both in [0, 1].  A
    constant column (``max = min``) becomes all ones, as in pymcdm: no division by zero, and
    since every candidate then has the same value it adds nothing to either distance.
    """
    hi, lo = x.max(axis=-2, keepdims=True), x.min(axis=-2, keepdims=True)
    span = hi - lo
    gain = np.where(benefit, x - lo, hi - x)
    return np.divide(gain, span, out=np.ones_like(gain), where=span > 0)


def _closeness(v: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """TOPSIS closeness of the rows of a weighted normalised matrix ``v`` (no checks).

    Ideal = column max for a benefit criterion, min for a cost one, anti-ideal the reverse;
    the two distances are taken by ``scipy.spatial.distance.cdist`` (one pass each, no
    temporaries); 0.5 where ``D⁺ + D⁻ = 0`` (all alike).
    """
    hi, lo = v.max(axis=0), v.min(axis=0)
    dp = cdist(v, np.where(benefit, hi, lo)[None, :]).ravel()
    dn = cdist(v, np.where(benefit, lo, hi)[None, :]).ravel()
    tot = dp + dn
    return np.divide(dn, tot, out=np.full_like(tot, 0.5), where=tot > 0)


def _topsis_kernel(x: np.ndarray, w: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """TOPSIS closeness for one weight vector (no checks): Hwang & Yoon's steps with the
    weights folded into the vector normalisation (``v = x · w / ‖x‖``).
    """
    norm = np.sqrt(np.einsum("ij,ij->j", x, x))
    scale = np.divide(w, norm, out=np.zeros_like(norm), where=norm > 0)
    return _closeness(x * scale, benefit)


def _topsis_minmax_kernel(x: np.ndarray, w: np.ndarray, benefit: np.ndarray) -> np.ndarray:
    """TOPSIS closeness with min–max normalisation (no checks).

    The normalised columns are all oriented "more is better", so every criterion is then a
    benefit one: ideal ``w_j`` and anti-ideal 0 on each non-constant column.
    """
    v = _minmax_normalise(x, benefit) * w
    return _closeness(v, np.ones(benefit.shape, dtype=bool))


#: TOPSIS normalisations by name (see :func:`topsis`): one-vector kernels ``(x, w, benefit)``.
NORMALISATIONS: Registry[Normaliser] = Registry("TOPSIS normalisation")
NORMALISATIONS.register("vector", _topsis_kernel)
NORMALISATIONS.register("minmax", _topsis_minmax_kernel)

#: Ranking methods by name: batch kernels ``(x, W, benefit) -> scores (draws, n)``.
METHODS: Registry[BatchKernel] = Registry("ranking method")
METHODS.register("weighted_sum", _ws_batch)
METHODS.register("topsis", _topsis_batch)


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def decision_matrix(x: Any, func: str, name: str = "x") -> np.ndarray:
    """``x`` as a finite float (candidates, criteria) matrix (a 1-D ``x`` is one criterion),
    or :class:`RankError`."""
    return checks.numeric_array(x, name, func, RankError, what="(candidates, criteria) matrix",
                                column=True, min_shape=(1, 1))


def normalised_weights(w: Any, m: int, func: str) -> np.ndarray:
    """``w`` as ``m`` non-negative weights normalised to sum 1, or :class:`RankError`."""
    arr = checks.weight_vector(w, m, "w", func, RankError)
    return arr / arr.sum()


def benefit_mask(benefit: Any, m: int, func: str) -> np.ndarray:
    """The criteria directions as ``m`` booleans (True = benefit; None = all benefit).

    pymcdm-style criteria types ``1`` / ``-1`` are accepted too.
    """
    if benefit is None:
        return np.ones(m, dtype=bool)
    arr = np.asarray(benefit)
    if arr.dtype != bool:
        if arr.dtype.kind in "iuf" and np.all(np.isin(arr, (-1, 0, 1))) and arr.size == m:
            arr = arr > 0  # pymcdm-style 1 / -1 criteria types
        else:
            must = f"{m} booleans (True = benefit, False = cost)"
            raise RankError(param_message("benefit", func, must, repr(benefit)))
    if arr.shape != (m,):
        raise RankError(param_message("benefit", func, f"{m} booleans", f"shape {arr.shape}"))
    return arr.astype(bool)


def method_kernel(method: Any, func: str) -> BatchKernel:
    """The :data:`METHODS` kernel named ``method``, or :class:`RankError` naming the choices."""
    return METHODS[checks.one_of(method, METHODS, "method", func, RankError)]


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------


def weighted_sum(x: Any, w: Any) -> np.ndarray:
    """Weighted sum of criterion scores.

    Parameters
    ----------
    x : array_like of shape (candidates, criteria)
        Scores oriented "higher is better" on a common scale (e.g. the 0–100 dimension
        scores).
    w : array_like of shape (criteria,)
        Non-negative weights; normalised to sum 1.

    Returns
    -------
    ndarray of shape (candidates,)
        ``x @ (w / Σw)``.
    """
    func = "weighted_sum"
    arr = decision_matrix(x, func)
    wn = normalised_weights(w, arr.shape[1], func)
    return arr @ wn


def topsis(x: Any, w: Any, benefit: Any = None, *, normalisation: str = "vector") -> np.ndarray:
    """TOPSIS closeness with Hwang & Yoon's vector normalisation (or min–max).

    Steps (Hwang & Yoon 1981, pp. 130–134): ``r_ij = x_ij / sqrt(Σ_i x_ij²)``;
    ``v_ij = w_j r_ij``; ideal ``v⁺_j`` = column max for a benefit criterion, min for a cost
    one, anti-ideal ``v⁻_j`` the reverse; ``D⁺_i``, ``D⁻_i`` Euclidean distances;
    ``C_i = D⁻_i / (D⁺_i + D⁻_i)``.  With ``normalisation="minmax"`` the first step is
    ``r_ij = (x_ij − min_i x_ij) / (max_i x_ij − min_i x_ij)`` for a benefit criterion and
    ``(max_i x_ij − x_ij) / (max_i x_ij − min_i x_ij)`` for a cost one, so that every
    normalised column reads "more is better".

    Parameters
    ----------
    x : array_like of shape (candidates, criteria)
        Raw decision matrix (non-negative values are the textbook case).
    w : array_like of shape (criteria,)
        Non-negative weights; normalised to sum 1.
    benefit : array_like of bool, shape (criteria,), optional
        True for a benefit criterion (more is better), False for a cost one.  Default: all
        benefit.  ``1`` / ``-1`` criteria types (pymcdm style) are accepted too.
    normalisation : {"vector", "minmax"}, default "vector"
        ``"vector"``: Hwang & Yoon's ``x / ‖x‖`` (the textbook TOPSIS, for non-negative
        values).  ``"minmax"``: ``(x − min) / (max − min)``, cost criteria reversed; it does
        not depend on where a criterion's zero lies, so negative values are fine.  A constant
        column (``max = min``) normalises to all ones: it separates no candidate and adds
        nothing to either distance (no division by zero).

    Returns
    -------
    ndarray of shape (candidates,)
        Relative closeness in [0, 1] (1 = the ideal); 0.5 when all candidates are alike.

    Notes
    -----
    pymcdm's ``TOPSIS()`` defaults to min–max normalisation (``normalisation="minmax"`` gives
    its values); pass ``normalization_function=vector_normalization`` to reproduce the
    default here.  The two normalisations can rank candidates differently.
    """
    func = "topsis"
    kernel = NORMALISATIONS[checks.one_of(normalisation, NORMALISATIONS, "normalisation", func,
                                          RankError)]
    arr = decision_matrix(x, func)
    m = arr.shape[1]
    wn = normalised_weights(w, m, func)
    b = benefit_mask(benefit, m, func)
    return kernel(arr, wn, b)



def batch_scores(x: np.ndarray, wd: np.ndarray, method: str = "weighted_sum",
                 benefit: Any = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Scores of every candidate under each weight vector, with a :data:`METHODS` kernel.

    ``x``: (n, m), or (draws, n, m) one matrix per draw; ``wd``: (draws, m).  Returns
    (draws, n).  ``mask`` (draws, n): the candidates compared in each draw (TOPSIS's ideal
    points are taken over them); None = all.  No checks beyond the method's name (callers
    hold validated arrays).
    """
    kernel = method_kernel(method, "batch_scores")
    if x.shape[-2] == 0:
        return np.zeros((wd.shape[0], 0))
    m = x.shape[-1]
    b = np.ones(m, dtype=bool) if benefit is None else benefit_mask(benefit, m, "batch_scores")
    return kernel(x, wd, b) if mask is None else kernel(x, wd, b, mask=mask)

