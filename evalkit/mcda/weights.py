"""Criterion weights: AHP (eigenvector, λmax, CI, CR), group judgments, entropy weights.

* :func:`ahp` — Saaty's analytic hierarchy process on one reciprocal pairwise-comparison
  matrix: principal (Perron) eigenvector as weights, λmax, the consistency index
  ``CI = (λmax − n) / (n − 1)`` and the consistency ratio ``CR = CI / RI(n)``.  The random
  index table is selectable (:data:`RI_TABLES`): Saaty (1980) by default, Tummala & Ling (1998)
  — the table pymcdm uses — or any sequence of your own.  Judgments must lie on Saaty's
  1/9…9 scale (:data:`SCALES`; ``scale="free"`` allows any positive ratio).
* :func:`combine_judgments` — a panel's matrices combined element-wise by (weighted) geometric
  mean, the aggregation that keeps the result reciprocal (Aczél & Saaty 1983).
* :func:`judgment_matrices` — long ``ahp_judgments`` rows ``(expert_id, level, a, b, value)``
  → one matrix per expert and level, the group matrix per level, and every missing or
  conflicting pair reported.
* :func:`entropy` — Shannon entropy weights of a decision matrix (0·ln 0 = 0);
  :func:`entropy_with_na` the same over each criterion's present (non-NaN) values.
* :func:`screen_judgments` — each expert's CR at one level, the experts excluded for an
  unacceptable CR (> 0.10, Saaty 1980) and the geometric mean of the others.
* :func:`combine_weights` — subjective (AHP) and objective (entropy) weights multiplied and
  renormalised (Hwang & Yoon 1981).
* :data:`WEIGHT_METHODS` — the weight methods a profile names (``weights.method``: ``ahp``,
  ``entropy``, ``combined``), each with what it needs.

AHP and the group geometric mean are implemented in :mod:`evalkit.mcda.ahp`, the judgment
rows and the consistency screening in :mod:`evalkit.mcda.judgments`; this module holds the
entropy weights and the weight methods, and is the public face of all three.  Each public
function checks its input once and calls a pure kernel (``_ahp_kernel``, ``geomean_kernel``,
``_entropy_kernel``) that does the arithmetic only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from evalkit import checks
from evalkit.errors import param_message
from evalkit.mcda.ahp import (
    RI_TABLES,
    SCALE_MAX,
    SCALE_MIN,
    SCALE_RTOL,
    SCALES,
    AHPResult,
    ReciprocityError,
    ScaleError,
    WeightsError,
    ahp,
    combine_judgments,
)
from evalkit.mcda.judgments import (
    JudgmentMatrices,
    ScreenedJudgments,
    individual_cr,
    judgment_matrices,
    screen_judgments,
)
from evalkit.registry import Registry

__all__ = [
    "RI_TABLES",
    "SCALE_MAX",
    "SCALE_MIN",
    "SCALE_RTOL",
    "SCALES",
    "WEIGHT_METHODS",
    "AHPResult",
    "JudgmentMatrices",
    "ReciprocityError",
    "ScaleError",
    "ScreenedJudgments",
    "WeightMethod",
    "WeightsError",
    "ahp",
    "combine_judgments",
    "combine_weights",
    "entropy",
    "entropy_with_na",
    "individual_cr",
    "judgment_matrices",
    "screen_judgments",
]


# --------------------------------------------------------------------------------------------
# Entropy weights
# --------------------------------------------------------------------------------------------


def _entropy_kernel(x: np.ndarray) -> np.ndarray:
    """Shannon entropy weights of a non-negative (m, k) matrix with positive column sums.

    ``p_ij = x_ij / Σ_i x_ij``; ``e_j = −Σ_i p_ij ln p_ij / ln m`` with 0·ln 0 = 0;
    ``d_j = 1 − e_j``; ``w_j = d_j / Σ d_j`` (equal weights when every d_j = 0).
    """
    m = x.shape[0]
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / math.log(m)
    d = np.clip(1.0 - e, 0.0, None)  # rounding can give e = 1 + 1e-16
    total = d.sum()
    if total <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return d / total


def entropy(x: Any) -> np.ndarray:
    """Entropy weights of a decision matrix (Shannon; Hwang & Yoon 1981, §4.1.2).

    A criterion whose values are spread evenly over the alternatives carries little
    information and gets a small weight; one concentrated on few alternatives gets a large one.

    Parameters
    ----------
    x : array_like of shape (alternatives, criteria)
        Non-negative values, at least 2 alternatives, each column with a positive sum.

    Returns
    -------
    ndarray of shape (criteria,)
        Weights ``w_j = (1 − e_j) / Σ_k (1 − e_k)`` summing to 1; equal weights when no
        criterion discriminates (every column constant).

    Raises
    ------
    WeightsError
        On a non-2-D input, fewer than 2 alternatives, negative or non-finite values, or a
        column of zeros.
    """
    func = "entropy"
    arr = checks.numeric_array(x, "x", func, WeightsError, what="(alternatives, criteria) matrix",
                               min_shape=(2, 1), nonnegative=True)
    zero_cols = np.flatnonzero(arr.sum(axis=0) <= 0)
    if zero_cols.size:
        got = f"all zeros in column(s) {zero_cols.tolist()}"
        raise WeightsError(param_message("x", func, "a matrix with a positive sum in every column", got))
    return _entropy_kernel(arr)


def _entropy_na_kernel(x: np.ndarray) -> np.ndarray:
    """:func:`_entropy_kernel` over each column's present values (NaN = absent), no checks.

    ``m_j`` is the number of present values of column *j*: ``e_j = −Σ p ln p / ln m_j``.  A
    column with fewer than two present values or a zero sum carries no information (d_j = 0).
    """
    present = ~np.isnan(x)
    m = present.sum(axis=0)
    vals = np.where(present, x, 0.0)
    total = vals.sum(axis=0)
    informative = (m >= 2) & (total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = vals / np.where(total > 0, total, 1.0)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        e = -plogp.sum(axis=0) / np.log(np.where(informative, m, 2))
    d = np.where(informative, np.clip(1.0 - e, 0.0, None), 0.0)
    if d.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return d / d.sum()


def entropy_with_na(x: Any) -> np.ndarray:
    """Entropy weights of a decision matrix whose cells may be absent (NaN).

    The Shannon entropy weight method (Hwang & Yoon 1981, §4.1.2; Zeleny 1982, ch. 7) applied
    to each criterion over the alternatives where it has a value: with ``m_j`` present values
    ``p_ij = x_ij / Σ_i x_ij``, ``e_j = −Σ_i p_ij ln p_ij / ln m_j`` (0·ln 0 = 0),
    ``d_j = 1 − e_j`` and ``w_j = d_j / Σ_k d_k``.  Without NaN this is :func:`entropy`.  A
    criterion present for fewer than two alternatives, or zero everywhere, carries no
    information (``d_j = 0``); equal weights when no criterion carries any.

    Parameters
    ----------
    x : array_like of shape (alternatives, criteria)
        Non-negative values (benefit scale), NaN where a criterion does not apply.

    Returns
    -------
    ndarray of shape (criteria,)
        Weights summing to 1.

    Raises
    ------
    WeightsError
        On a non-2-D input, infinite or negative values.
    """
    arr = checks.numeric_array(x, "x", "entropy_with_na", WeightsError,
                               what="(alternatives, criteria) matrix", min_shape=(0, 1),
                               allow_nan=True, nonnegative=True)
    return _entropy_na_kernel(arr)


def combine_weights(subjective: Any, objective: Any) -> np.ndarray:
    """Subjective and objective weights combined by multiplication: ``w_j = a_j e_j / Σ_k a_k e_k``.

    Hwang & Yoon (1981), *Multiple Attribute Decision Making*, §4.1.2 (entropy method): when
    the decision maker holds a priori weights ``λ_j``, the entropy weights ``w_j`` are adapted
    to ``w°_j = λ_j w_j / Σ_k λ_k w_k``.  Here ``λ`` are the AHP weights of the experts.

    Parameters
    ----------
    subjective, objective : array_like of shape (n,)
        Non-negative weights (any scale).

    Returns
    -------
    ndarray of shape (n,)
        Weights summing to 1 (the normalised subjective weights when every product is 0).

    Raises
    ------
    WeightsError
        On shapes that differ, negative or non-finite values, or a subjective sum of 0.
    """
    func = "combine_weights"
    a = checks.numeric_array(subjective, "subjective", func, WeightsError, ndim=1, what="vector of weights",
                             min_shape=(1,), nonnegative=True)
    e = checks.numeric_array(objective, "objective", func, WeightsError, ndim=None, nonnegative=True)
    if e.shape != a.shape:
        must = f"weights of the shape of 'subjective' {a.shape}"
        raise WeightsError(param_message("objective", func, must, f"shape {e.shape}"))
    if not a.sum() > 0:
        raise WeightsError(param_message("subjective", func, "weights with a positive sum", a.tolist()))
    prod = a * e
    return prod / prod.sum() if prod.sum() > 0 else a / a.sum()


# --------------------------------------------------------------------------------------------
# Weight methods (a profile's ``weights.method``)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightMethod:
    """How a profile's ``weights.method`` weighs the criteria inside each dimension.

    The dimension weights are the AHP ones whatever the method; the method decides the
    criterion weights inside a dimension.

    Attributes
    ----------
    name : str
        The name a profile gives.
    objective : callable or None
        The objective weights of a dimension's criteria from the candidates' criterion scores
        (candidates × criteria, NaN where N/A): what the method needs besides the AHP
        judgments; None when it needs no scores.
    combine : callable
        ``combine(subjective, objective) -> weights``: the criterion weights from the
        subjective (AHP or stated) weights and the objective ones (None without scores).
    """

    name: str
    objective: Callable[[np.ndarray], np.ndarray] | None
    combine: Callable[[Any, Any], np.ndarray]

    @property
    def uses_scores(self) -> bool:
        """Whether the method needs the candidates' criterion scores."""
        return self.objective is not None


def _subjective_only(subjective: Any, objective: Any) -> np.ndarray:
    a = np.asarray(subjective, dtype=float)
    return a / a.sum()


def _objective_only(subjective: Any, objective: Any) -> np.ndarray:
    return objective


#: The weight methods by name: ``ahp`` (the AHP judgments, or the stated weights, alone),
#: ``entropy`` (the entropy weights of the province's criterion scores replace them inside
#: each dimension) and ``combined`` (both, multiplied and renormalised: :func:`combine_weights`).
WEIGHT_METHODS: Registry[WeightMethod] = Registry("weight method")
WEIGHT_METHODS.register("ahp", WeightMethod("ahp", None, _subjective_only))
WEIGHT_METHODS.register("entropy", WeightMethod("entropy", entropy_with_na, _objective_only))
WEIGHT_METHODS.register("combined", WeightMethod("combined", entropy_with_na, combine_weights))
