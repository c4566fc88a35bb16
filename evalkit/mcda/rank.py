"""Ranking: weighted sum, TOPSIS, a deterministic tie-break chain and robustness Monte Carlo.

* :func:`weighted_sum` — ``x @ w`` with the weights normalised to sum 1.
* :func:`topsis` — Hwang & Yoon (1981) TOPSIS with *vector* normalisation
  ``r_ij = x_ij / sqrt(Σ_i x_ij²)`` (default) or *min–max* normalisation
  (``normalisation="minmax"``): closeness ``C_i = D_i⁻ / (D_i⁺ + D_i⁻)`` in [0, 1].
* :func:`rank_with_ties` — dense 1-based ranks by score, ties broken by an explicit chain of
  keys (e.g. security score, legality score, earlier submission, app_id); a
  :class:`TieWarning` when ties remain.
* :func:`robustness` — Monte Carlo over the weights (Dirichlet with ``α = κ·w``) and over the
  raters (bootstrap of rater-level score matrices): each candidate's probability of making the
  top-k list and its 5–95 % rank interval, seeded and reproducible.
* :func:`close_call` — candidates whose listing is a coin toss (0.2 ≤ p ≤ 0.8).

Ranking methods live in a named registry (:data:`METHODS`, an
:class:`evalkit.registry.Registry`); each entry is a batch kernel ``(x, W, benefit) -> scores``
where ``W`` holds one weight vector per row (a draw).  Public functions check their input once
and call the kernels, which do no checking.

The scores are implemented in :mod:`evalkit.mcda.methods` and the Monte Carlo in
:mod:`evalkit.mcda.robustness`; this module holds the tie-break chain and is the public face
of all three.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalkit import checks
from evalkit.errors import param_message
from evalkit.mcda.methods import (
    METHODS,
    NORMALISATIONS,
    RankError,
    batch_scores,
    topsis,
    weighted_sum,
)
from evalkit.mcda.robustness import (
    ROBUSTNESS_QUANTILES,
    RobustnessResult,
    close_call,
    rank_quantiles,
    robustness,
    weight_draws,
)

__all__ = [
    "METHODS",
    "NORMALISATIONS",
    "RankError",
    "ROBUSTNESS_QUANTILES",
    "RobustnessResult",
    "TieWarning",
    "batch_scores",
    "close_call",
    "rank_quantiles",
    "rank_with_ties",
    "robustness",
    "topsis",
    "weight_draws",
    "weighted_sum",
]


class TieWarning(UserWarning):
    """Candidates remain tied after the whole tie-break chain."""


# --------------------------------------------------------------------------------------------
# Tie-break chain
# --------------------------------------------------------------------------------------------


def _key_codes(values: Any, ascending: bool, n: int, func: str, name: str) -> np.ndarray:
    """Integer codes that sort a key in the wanted direction, missing values last."""
    try:
        arr = pd.array(values) if not isinstance(values, (pd.Series, pd.Index)) else values
        codes, uniques = pd.factorize(arr, sort=True)
    except (TypeError, ValueError) as exc:
        got = f"{type(values).__name__} ({exc})"
        raise RankError(param_message(name, func, "a sortable 1-D array", got)) from None
    codes = np.asarray(codes, dtype=np.int64)
    if codes.shape != (n,):
        got = str(codes.shape[0]) if codes.ndim else "a scalar"
        raise RankError(param_message(name, func, f"{n} values (one per candidate)", got))
    k = len(uniques)
    out = codes if ascending else (k - 1 - codes)
    return np.where(codes < 0, k, out)  # missing last


def rank_with_ties(
    score: Any,
    *tiebreak_keys: Any,
    ascending: Sequence[bool] | None = None,
    warn: bool = True,
) -> np.ndarray:
    """Dense 1-based ranks by score (higher first), ties broken by a chain of keys.

    Parameters
    ----------
    score : array_like of shape (n,)
        The ranking score, higher is better; no NaN.
    *tiebreak_keys : array_like of shape (n,)
        Keys applied in order to candidates tied on everything before, e.g. security score,
        legality score, submission date, app_id.  Numbers, strings or dates; a missing value
        sorts last.
    ascending : sequence of bool, optional
        One per key: False = higher value wins (a score), True = lower value wins (an earlier
        date, the smaller id).  Default: False for every key.
    warn : bool, default True
        Emit a :class:`TieWarning` when candidates remain tied after the whole chain.

    Returns
    -------
    ndarray of int64, shape (n,)
        Dense ranks 1, 2, …; candidates still tied share a rank and the next rank follows
        directly (1, 1, 2).

    Examples
    --------
    >>> rank_with_ties([90, 95, 90], [70, 80, 75]).tolist()
    [3, 1, 2]
    >>> rank_with_ties([90, 90], ["2024-03-01", "2024-02-01"], ascending=[True]).tolist()
    [2, 1]
    """
    func = "rank_with_ties"
    s = checks.numeric_array(score, "score", func, RankError, ndim=None, allow_inf=True).reshape(-1)
    n = s.shape[0]
    if ascending is None:
        asc = [False] * len(tiebreak_keys)
    else:
        asc = [bool(a) for a in ascending]
        if len(asc) != len(tiebreak_keys):
            must = f"one entry per tie-break key ({len(tiebreak_keys)})"
            raise RankError(param_message("ascending", func, must, str(len(asc))))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    codes = [_key_codes(s, False, n, func, "score")]
    codes += [
        _key_codes(key, a, n, func, f"tiebreak_keys[{i}]")
        for i, (key, a) in enumerate(zip(tiebreak_keys, asc, strict=True))
    ]
    mat = np.vstack(codes)
    order = np.lexsort(mat[::-1])  # lexsort: last row is the primary key
    srt = mat[:, order]
    new = np.any(srt[:, 1:] != srt[:, :-1], axis=0)
    dense = np.concatenate(([1], 1 + np.cumsum(new)))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = dense
    if warn and dense[-1] < n:
        sizes = np.bincount(dense)[1:]
        tied = sizes[sizes > 1]
        shared = np.flatnonzero(sizes > 1)[:5] + 1
        warnings.warn(
            TieWarning(
                f"{int(tied.sum())} candidates in {tied.size} group(s) remain tied after the "
                f"tie-break chain of {len(tiebreak_keys)} key(s); tied ranks include "
                f"{shared.tolist()}."
            ),
            stacklevel=2,
        )
    return ranks

