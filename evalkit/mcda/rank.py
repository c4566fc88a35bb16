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

Ranking methods live in a named registry (:data:`METHODS`); each entry is a batch kernel
``(x, W, benefit) -> scores`` where ``W`` holds one weight vector per row (a draw).  Public
functions check their input once and call the kernels, which do no checking.

Implementation notes on :func:`robustness` (10,000 draws × 2,000 candidates in about a second):

* every random number is drawn up front from one ``numpy.random.Generator`` (the Dirichlet
  weights, ``draws × criteria``, and the bootstrap counts, ``draws × raters``), so results do
  not depend on the chunking;
* scores are computed per chunk of draws as matrix products (weighted sum: ``W @ xᵀ``;
  TOPSIS: ``sqrt(W² @ ((r − r⁺)²)ᵀ)``, exact because weights are non-negative);
* ``p_listed`` uses top-k selection (``np.argpartition``), never a full sort;
* ranks use one ``argsort`` per draw and tie runs ("min" competition rank: 1 + the number of
  candidates strictly ahead), never argsort-of-argsort; they are folded into a per-candidate
  rank histogram (``n × n`` counts) when that is smaller than keeping ``draws × n`` ranks,
  and the quantiles are read from its cumulative sums (``np.add.at`` fills it without an
  ``n × n`` temporary per chunk).
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from evalkit.errors import EvalkitError, choice_message

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


class RankError(EvalkitError, ValueError):
    """Invalid input to a ranking function (also a ``ValueError``)."""


class TieWarning(UserWarning):
    """Candidates remain tied after the whole tie-break chain."""


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
NORMALISATIONS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "vector": _topsis_kernel,
    "minmax": _topsis_minmax_kernel,
}


#: Ranking methods by name: batch kernels ``(x, W, benefit) -> scores (draws, n)``.
METHODS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "weighted_sum": _ws_batch,
    "topsis": _topsis_batch,
}


def _sorted_ranks(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Row-wise ranks in *sorted space*: ``order`` (ascending argsort of each row) and the
    "min" competition rank (1 + #strictly higher) of the candidate at each sorted position.

    The rank array is None when a chunk has no ties: position p (0-based, ascending) then has
    rank ``n − p``.  One argsort and one value sort per row; no argsort of argsort.
    """
    order = np.argsort(scores, axis=1)
    srt = np.sort(scores, axis=1)  # cheaper than gathering scores[order]
    same = srt[:, 1:] == srt[:, :-1]
    if not same.any():
        return order, None
    c, n = scores.shape
    # Last position of each run of equal values: rank = n − last_pos (0-based).
    is_end = np.ones((c, n), dtype=bool)
    np.logical_not(same, out=is_end[:, :-1])
    pos = np.arange(n, dtype=np.int32)
    last = np.where(is_end, pos, n)
    last = np.minimum.accumulate(last[:, ::-1], axis=1)[:, ::-1]
    return order, (n - last).astype(np.int32)


def _competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Row-wise "min" competition ranks, higher score first: 1 + #(strictly higher).

    ``scores``: (c, n).  Returns int32 (c, n) in candidate order.
    """
    c, n = scores.shape
    order, rank_sorted = _sorted_ranks(scores)
    if rank_sorted is None:
        rank_sorted = np.broadcast_to(np.arange(n, 0, -1, dtype=np.int32), (c, n))
    ranks = np.empty((c, n), dtype=np.int32)
    np.put_along_axis(ranks, order, rank_sorted, axis=1)
    return ranks


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _matrix(x: Any, func: str, name: str = "x") -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise RankError(
            f"The '{name}' parameter of {func} must be a numeric (candidates, criteria) "
            f"matrix; got {type(x).__name__} instead."
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise RankError(
            f"The '{name}' parameter of {func} must be a 2-D (candidates, criteria) matrix; "
            f"got shape {arr.shape} instead."
        )
    if not np.all(np.isfinite(arr)):
        raise RankError(
            f"The '{name}' parameter of {func} must hold finite values (no NaN); got "
            f"{int(np.sum(~np.isfinite(arr)))} non-finite values instead."
        )
    return arr


def _weights(w: Any, m: int, func: str) -> np.ndarray:
    try:
        arr = np.asarray(w, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise RankError(
            f"The 'w' parameter of {func} must be {m} non-negative numbers; "
            f"got {type(w).__name__} instead."
        ) from None
    if arr.shape != (m,) or not np.all(np.isfinite(arr)) or np.any(arr < 0) or not arr.sum() > 0:
        raise RankError(
            f"The 'w' parameter of {func} must be {m} non-negative numbers with a positive "
            f"sum; got {np.asarray(w).tolist()!r} instead."
        )
    return arr / arr.sum()


def _benefit(benefit: Any, m: int, func: str) -> np.ndarray:
    if benefit is None:
        return np.ones(m, dtype=bool)
    arr = np.asarray(benefit)
    if arr.dtype != bool:
        if arr.dtype.kind in "iuf" and np.all(np.isin(arr, (-1, 0, 1))) and arr.size == m:
            arr = arr > 0  # pymcdm-style 1 / -1 criteria types
        else:
            raise RankError(
                f"The 'benefit' parameter of {func} must be {m} booleans (True = benefit, "
                f"False = cost); got {benefit!r} instead."
            )
    if arr.shape != (m,):
        raise RankError(
            f"The 'benefit' parameter of {func} must be {m} booleans; got shape "
            f"{arr.shape} instead."
        )
    return arr.astype(bool)


def _normaliser(
    normalisation: str, func: str
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    try:
        return NORMALISATIONS[normalisation]
    except (KeyError, TypeError):
        raise RankError(
            choice_message("normalisation", func, normalisation, NORMALISATIONS)
        ) from None


def _method(method: str, func: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise RankError(choice_message("method", func, method, METHODS)) from None


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
    arr = _matrix(x, func)
    wn = _weights(w, arr.shape[1], func)
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
    kernel = _normaliser(normalisation, func)
    arr = _matrix(x, func)
    m = arr.shape[1]
    wn = _weights(w, m, func)
    b = _benefit(benefit, m, func)
    return kernel(arr, wn, b)


# --------------------------------------------------------------------------------------------
# Tie-break chain
# --------------------------------------------------------------------------------------------


def _key_codes(values: Any, ascending: bool, n: int, func: str, name: str) -> np.ndarray:
    """Integer codes that sort a key in the wanted direction, missing values last."""
    try:
        arr = pd.array(values) if not isinstance(values, (pd.Series, pd.Index)) else values
        codes, uniques = pd.factorize(arr, sort=True)
    except (TypeError, ValueError) as exc:
        raise RankError(
            f"The '{name}' parameter of {func} must be a sortable 1-D array; got "
            f"{type(values).__name__} ({exc}) instead."
        ) from None
    codes = np.asarray(codes, dtype=np.int64)
    if codes.shape != (n,):
        raise RankError(
            f"The '{name}' parameter of {func} must have {n} values (one per candidate); "
            f"got {codes.shape[0] if codes.ndim else 'a scalar'} instead."
        )
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
    try:
        s = np.asarray(score, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise RankError(
            f"The 'score' parameter of {func} must be numeric; got {type(score).__name__} instead."
        ) from None
    if np.isnan(s).any():
        raise RankError(
            f"The 'score' parameter of {func} must have no NaN; got {int(np.isnan(s).sum())} "
            f"instead."
        )
    n = s.shape[0]
    if ascending is None:
        asc = [False] * len(tiebreak_keys)
    else:
        asc = [bool(a) for a in ascending]
        if len(asc) != len(tiebreak_keys):
            raise RankError(
                f"The 'ascending' parameter of {func} must have one entry per tie-break key "
                f"({len(tiebreak_keys)}); got {len(asc)} instead."
            )
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    codes = [_key_codes(s, False, n, func, "score")]
    codes += [
        _key_codes(key, a, n, func, f"tiebreak_keys[{i}]")
        for i, (key, a) in enumerate(zip(tiebreak_keys, asc))
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


# --------------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RobustnessResult:
    """Result of :func:`robustness`, one entry per candidate (in input order).

    Attributes
    ----------
    p_listed : ndarray of float
        Share of draws in which the candidate is in the top ``k``.
    rank_lo, rank_median, rank_hi : ndarray of int
        5 %, 50 % and 95 % quantiles of its rank over the draws (lower empirical quantile:
        the smallest rank r with at least a share q of the draws at rank ≤ r); ranks are
        "min" competition ranks, 1 = best.
    point_score, point_rank : ndarray
        Score and rank with the unperturbed weights and scores.
    """

    p_listed: np.ndarray
    rank_lo: np.ndarray
    rank_median: np.ndarray
    rank_hi: np.ndarray
    point_score: np.ndarray
    point_rank: np.ndarray
    k: int
    draws: int
    concentration: float
    method: str
    seed: Any
    quantiles: tuple[float, float] = (0.05, 0.95)
    labels: tuple[str, ...] | None = None

    def close_call(self, lo: float = 0.2, hi: float = 0.8) -> np.ndarray:
        """Boolean mask of candidates with ``lo ≤ p_listed ≤ hi``."""
        return close_call(self.p_listed, lo, hi)

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate, in input order."""
        idx = pd.Index(self.labels, name="candidate") if self.labels is not None else None
        return pd.DataFrame(
            {
                "point_score": self.point_score,
                "point_rank": self.point_rank,
                "p_listed": self.p_listed,
                "rank_lo": self.rank_lo,
                "rank_median": self.rank_median,
                "rank_hi": self.rank_hi,
                "close_call": self.close_call(),
            },
            index=idx,
        )

    def _repr_html_(self, max_rows: int = 60) -> str:
        frame = self.to_frame().sort_values(
            ["point_rank", "p_listed"], ascending=[True, False], kind="stable"
        )
        head = frame.head(max_rows)
        lab = head.index if self.labels is not None else (head.index + 1)
        body = "".join(
            "<tr>"
            f"<td>{html.escape(str(name))}</td><td>{r.point_rank}</td>"
            f"<td>{r.point_score:.4f}</td><td>{r.p_listed:.3f}</td>"
            f"<td>{r.rank_lo}–{r.rank_hi}</td><td>{r.rank_median}</td>"
            f"<td>{'⚠' if r.close_call else ''}</td>"
            "</tr>"
            for name, r in zip(lab, head.itertuples(index=False))
        )
        more = len(frame) - len(head)
        tail = f"<p>… {more} more candidates</p>" if more > 0 else ""
        q0, q1 = (round(q * 100) for q in self.quantiles)
        kappa = "fixed weights" if math.isinf(self.concentration) else f"κ = {self.concentration:g}"
        return (
            f"<p>Robustness of the top {self.k} ({html.escape(self.method)}): "
            f"{self.draws} draws, {kappa}, seed {html.escape(str(self.seed))}</p>"
            "<table><thead><tr><th>candidate</th><th>rank</th><th>score</th>"
            f"<th>p_listed</th><th>rank {q0}–{q1} %</th><th>median rank</th>"
            f"<th>close call</th></tr></thead><tbody>{body}</tbody></table>{tail}"
        )


def close_call(p: Any, lo: float = 0.2, hi: float = 0.8) -> np.ndarray:
    """Flag close calls: candidates whose probability of being listed is in ``[lo, hi]``.

    Parameters
    ----------
    p : array_like of float, or RobustnessResult
        ``p_listed`` values.
    lo, hi : float, default 0.2 and 0.8
        Inclusive bounds.

    Returns
    -------
    ndarray of bool
    """
    if isinstance(p, RobustnessResult):
        p = p.p_listed
    arr = np.asarray(p, dtype=float)
    if not (0.0 <= lo <= hi <= 1.0):
        raise RankError(
            f"The 'lo' and 'hi' parameters of close_call must satisfy 0 ≤ lo ≤ hi ≤ 1; "
            f"got lo={lo!r}, hi={hi!r} instead."
        )
    return (arr >= lo) & (arr <= hi)


def _quantile_threshold(q: float, draws: int) -> int:
    """How many draws must lie at or below the q-quantile (at least 1)."""
    return min(draws, max(1, math.ceil(q * draws - 1e-9)))


#: The rank interval of the robustness analysis: 5 % and 95 % quantiles over the draws.
ROBUSTNESS_QUANTILES = (0.05, 0.95)


def rank_quantiles(ranks: np.ndarray, quantiles: Sequence[float] = ROBUSTNESS_QUANTILES,
                   mask: np.ndarray | None = None) -> list[np.ndarray]:
    """Lower empirical quantiles of each candidate's rank over the draws.

    ``ranks``: (draws, n).  For each q, the smallest rank r with at least a share q of the
    draws at rank ≤ r (as :class:`RobustnessResult`).  ``mask`` (draws, n): the draws in which
    a candidate was ranked at all (default: every draw); a candidate never ranked gets −1.
    Returns one int64 array (n,) per q.
    """
    if mask is None:
        thresholds = [_quantile_threshold(float(q), ranks.shape[0]) for q in quantiles]
        part = np.partition(ranks, sorted({t - 1 for t in thresholds}), axis=0)
        return [part[t - 1].astype(np.int64) for t in thresholds]
    counted = mask.sum(axis=0)
    srt = np.sort(np.where(mask, ranks, np.iinfo(np.int32).max), axis=0)
    out = []
    for q in quantiles:  # loop over the two or three quantiles
        t = np.clip(np.ceil(float(q) * counted - 1e-9), 1, None).astype(np.int64)
        at = np.take_along_axis(srt, np.minimum(t, srt.shape[0])[None, :] - 1, axis=0)[0]
        out.append(np.where(counted > 0, at, -1).astype(np.int64))
    return out


def weight_draws(w: np.ndarray, draws: int, concentration: float | None,
                 rng: np.random.Generator) -> np.ndarray:
    """Weight vectors of the robustness draws (draws, m): ``Dirichlet(κ·w)`` over the positive
    weights (mean ``w``; a zero weight stays zero), or ``w`` itself when κ is None or ∞.

    ``w`` is normalised (sums to 1); the draws consume ``rng`` as :func:`robustness` does.
    """
    kappa = math.inf if concentration is None else float(concentration)
    m = w.size
    if math.isinf(kappa):
        return np.broadcast_to(w, (draws, m))
    pos = w > 0
    wd = np.zeros((draws, m))
    if pos.sum() == 1:
        wd[:, pos] = 1.0
    else:
        wd[:, pos] = rng.dirichlet(kappa * w[pos], size=draws)
    return wd


def batch_scores(x: np.ndarray, wd: np.ndarray, method: str = "weighted_sum",
                 benefit: Any = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Scores of every candidate under each weight vector, with a :data:`METHODS` kernel.

    ``x``: (n, m), or (draws, n, m) one matrix per draw; ``wd``: (draws, m).  Returns
    (draws, n).  ``mask`` (draws, n): the candidates compared in each draw (TOPSIS's ideal
    points are taken over them); None = all.  No checks beyond the method's name (callers
    hold validated arrays).
    """
    kernel = _method(method, "batch_scores")
    if x.shape[-2] == 0:
        return np.zeros((wd.shape[0], 0))
    m = x.shape[-1]
    b = np.ones(m, dtype=bool) if benefit is None else _benefit(benefit, m, "batch_scores")
    return kernel(x, wd, b) if mask is None else kernel(x, wd, b, mask=mask)


def robustness(
    x: Any,
    w: Any,
    k: int,
    *,
    draws: int = 1000,
    concentration: float | None = 100.0,
    seed: int | np.random.SeedSequence | np.random.Generator | None = 0,
    method: str = "weighted_sum",
    benefit: Any = None,
    x_draws: Any = None,
    resample: bool = True,
    quantiles: tuple[float, float] = (0.05, 0.95),
    labels: Sequence[Any] | None = None,
    chunk_size: int | None = None,
    rank_store: str = "auto",
) -> RobustnessResult:
    """Probability of making the top-k list and rank intervals under weight and rater noise.

    Each draw perturbs the weights — ``w* ~ Dirichlet(κ·w)``, mean ``w``, larger κ = tighter
    — and, when ``x_draws`` is given, the scores (a bootstrap over raters), then scores and
    ranks every candidate.

    Parameters
    ----------
    x : array_like of shape (n, m)
        Point scores (candidates × criteria); gives ``point_score`` / ``point_rank``.
    w : array_like of shape (m,)
        Rubric weights (non-negative; normalised to sum 1).  A zero weight stays zero.
    k : int
        List size: a candidate is "listed" in a draw when it is among the ``k`` best.
    draws : int, default 1000
        Monte Carlo draws.
    concentration : float or None, default 100.0
        Dirichlet concentration κ (``α = κ·w``).  ``None`` or ``inf``: weights fixed.
    seed : int, SeedSequence or Generator, default 0
        Seed of the ``numpy.random.Generator`` (same seed → same result).
    method : {"weighted_sum", "topsis"}, default "weighted_sum"
        Ranking method (see :data:`METHODS`).
    benefit : array_like of bool, optional
        TOPSIS criterion directions (default all benefit).
    x_draws : array_like of shape (R, n, m), optional
        Rater-level (or replicate) score matrices, NaN where a rater gave no score.  With
        ``resample=True`` each draw resamples the R raters with replacement and averages
        them (cells no resampled rater scored fall back to ``x``).  With ``resample=False``
        ``R`` must equal ``draws`` and draw *d* uses ``x_draws[d]`` as is (replicates made
        elsewhere, e.g. with a trimmed-mean panel reducer).
    resample : bool, default True
        See ``x_draws``.
    quantiles : (float, float), default (0.05, 0.95)
        Rank interval bounds.
    labels : sequence, optional
        Candidate names (for the table and ``to_frame``).
    chunk_size : int, optional
        Draws per chunk (memory ∝ chunk_size × n); chosen automatically by default.  Does not
        change the result.
    rank_store : {"auto", "histogram", "ranks"}, default "auto"
        Keep an ``n × n`` rank histogram or the ``draws × n`` ranks (whichever is smaller by
        default).  Does not change the result.

    Returns
    -------
    RobustnessResult
        ``.p_listed .rank_lo .rank_hi .rank_median .point_rank``; ``.close_call()``,
        ``.to_frame()`` and an HTML table in Jupyter.
    """
    func = "robustness"
    arr = _matrix(x, func)
    n, m = arr.shape
    wn = _weights(w, m, func)
    b = _benefit(benefit, m, func)
    kernel = _method(method, func)
    if method == "weighted_sum" and not b.all():
        raise RankError(
            f"The 'benefit' parameter of {func} must be None (or all True) with "
            f"method='weighted_sum', which expects scores oriented 'higher is better'; "
            f"got {np.asarray(benefit).tolist()!r} instead."
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise RankError(
            f"The 'k' parameter of {func} must be an integer in [1, {n}]; got {k!r} instead."
        )
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise RankError(
            f"The 'draws' parameter of {func} must be a positive integer; got {draws!r} instead."
        )
    kappa = math.inf if concentration is None else float(concentration)
    if not kappa > 0:
        raise RankError(
            f"The 'concentration' parameter of {func} must be a positive number or None; "
            f"got {concentration!r} instead."
        )
    q_lo, q_hi = (float(q) for q in quantiles)
    if not 0.0 < q_lo <= 0.5 <= q_hi < 1.0:
        raise RankError(
            f"The 'quantiles' parameter of {func} must be (lo, hi) with 0 < lo ≤ 0.5 ≤ hi < 1; "
            f"got {quantiles!r} instead."
        )
    if rank_store not in ("auto", "histogram", "ranks"):
        raise RankError(
            f"The 'rank_store' parameter of {func} must be one of ['auto', 'histogram', "
            f"'ranks']; got {rank_store!r} instead."
        )
    if labels is not None and len(labels) != n:
        raise RankError(
            f"The 'labels' parameter of {func} must have {n} names; got {len(labels)} instead."
        )
    raters: np.ndarray | None = None
    if x_draws is not None:
        try:
            raters = np.asarray(x_draws, dtype=float)
        except (TypeError, ValueError):
            raise RankError(
                f"The 'x_draws' parameter of {func} must be a numeric (R, {n}, {m}) array; "
                f"got {type(x_draws).__name__} instead."
            ) from None
        if raters.ndim == 2 and m == 1:
            raters = raters[:, :, None]
        if raters.ndim != 3 or raters.shape[1:] != (n, m) or raters.shape[0] < 1:
            raise RankError(
                f"The 'x_draws' parameter of {func} must have shape (R, {n}, {m}); got "
                f"{raters.shape} instead."
            )
        if np.isinf(raters).any():
            raise RankError(
                f"The 'x_draws' parameter of {func} must hold finite values or NaN; got "
                f"{int(np.isinf(raters).sum())} infinite values instead."
            )
        if not resample and raters.shape[0] != draws:
            raise RankError(
                f"The 'x_draws' parameter of {func} must hold exactly draws={draws} matrices "
                f"when resample=False; got {raters.shape[0]} instead."
            )

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    # All randomness up front (small arrays), so chunking never changes the result.
    wd = weight_draws(wn, draws, kappa, rng)
    counts: np.ndarray | None = None
    if raters is not None and resample:
        n_r = raters.shape[0]
        counts = rng.multinomial(n_r, np.full(n_r, 1.0 / n_r), size=draws).astype(float)
        missing = np.isnan(raters)
        flat_vals = np.where(missing, 0.0, raters).reshape(n_r, n * m)
        flat_have = (~missing).reshape(n_r, n * m).astype(float)
        any_missing = bool(missing.any())

    point = kernel(arr, wn[None, :], b)[0]
    point_rank = _competition_ranks(point[None, :])[0]

    per_draw = n * (m if raters is not None else 1)
    c = int(chunk_size) if chunk_size else max(1, min(draws, (1 << 20) // max(per_draw, 1)))
    use_hist = rank_store == "histogram" or (rank_store == "auto" and n <= draws)
    listed = np.zeros(n, dtype=np.int64)
    hist = np.zeros(n * n, dtype=np.int64) if use_hist else None  # int64: add.at fast path
    all_ranks = None if use_hist else np.empty((draws, n), dtype=np.int32)
    desc_pos = np.arange(n - 1, -1, -1, dtype=np.int64)  # rank − 1 at ascending position p

    for start in range(0, draws, c):
        stop = min(draws, start + c)
        w_chunk = wd[start:stop]
        if raters is None:
            x_chunk: np.ndarray = arr
        elif counts is None:
            x_chunk = np.where(np.isnan(raters[start:stop]), arr, raters[start:stop])
        else:
            cnt = counts[start:stop]
            num = cnt @ flat_vals
            if any_missing:
                den = cnt @ flat_have
                x_chunk = np.where(
                    den > 0, num / np.where(den > 0, den, 1.0), arr.reshape(1, -1)
                ).reshape(-1, n, m)
            else:
                x_chunk = (num / raters.shape[0]).reshape(-1, n, m)
        scores = kernel(x_chunk, w_chunk, b)
        if k < n:
            top = np.argpartition(scores, n - k, axis=1)[:, n - k :]
            listed += np.bincount(top.ravel(), minlength=n)
        else:
            listed += stop - start
        if hist is not None:
            # Histogram cell (candidate, rank − 1), counted straight from sorted space.
            order, rank_sorted = _sorted_ranks(scores)
            cell = order * n
            cell += desc_pos if rank_sorted is None else (rank_sorted - 1)
            np.add.at(hist, cell.ravel(), 1)  # no n × n temporary per chunk
        else:
            all_ranks[start:stop] = _competition_ranks(scores)

    thresholds = [_quantile_threshold(q, draws) for q in (q_lo, 0.5, q_hi)]
    if hist is not None:
        cum = np.cumsum(hist.reshape(n, n), axis=1)
        qs = [np.argmax(cum >= t, axis=1) + 1 for t in thresholds]
    else:
        qs = rank_quantiles(all_ranks, (q_lo, 0.5, q_hi))
    return RobustnessResult(
        p_listed=listed / draws,
        rank_lo=qs[0].astype(np.int64),
        rank_median=qs[1].astype(np.int64),
        rank_hi=qs[2].astype(np.int64),
        point_score=point,
        point_rank=point_rank.astype(np.int64),
        k=int(k),
        draws=int(draws),
        concentration=kappa,
        method=method,
        seed=seed if not isinstance(seed, np.random.Generator) else "Generator",
        quantiles=(q_lo, q_hi),
        labels=None if labels is None else tuple(str(v) for v in labels),
    )
