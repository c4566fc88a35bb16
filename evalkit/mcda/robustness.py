"""Robustness of a ranking: Monte Carlo over the weights and the raters.

* :func:`robustness` — Monte Carlo over the weights (Dirichlet with ``α = κ·w``) and over the
  raters (bootstrap of rater-level score matrices): each candidate's probability of making the
  top-k list and its 5–95 % rank interval, seeded and reproducible (:class:`RobustnessResult`).
* :func:`close_call` — candidates whose listing is a coin toss (0.2 ≤ p ≤ 0.8).
* :func:`weight_draws` and :func:`rank_quantiles` — the weight draws and the rank quantiles of
  the analysis, also used by the list procedure's own robustness
  (:mod:`evalkit.evaluate.recommend`).

Implementation notes on :func:`robustness` (10,000 draws × 2,000 candidates in about a second):

* every random number is drawn up front from one ``numpy.random.Generator`` (the Dirichlet
  weights, ``draws × criteria``, and the bootstrap counts, ``draws × raters``), so results do
  not depend on the chunking;
* scores are computed per chunk of draws by a :data:`evalkit.mcda.methods.METHODS` batch
  kernel (matrix products);
* ``p_listed`` uses top-k selection (``np.argpartition``), never a full sort;
* ranks use one ``argsort`` per draw and tie runs ("min" competition rank: 1 + the number of
  candidates strictly ahead), never argsort-of-argsort; they are folded into a per-candidate
  rank histogram (``n × n`` counts) when that is smaller than keeping ``draws × n`` ranks,
  and the quantiles are read from its cumulative sums (``np.add.at`` fills it without an
  ``n × n`` temporary per chunk).

Everything here is also reachable as :mod:`evalkit.mcda.rank` ``.robustness`` etc.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit import checks
from evalkit.errors import param_message
from evalkit.mcda.methods import (
    BatchKernel,
    RankError,
    benefit_mask,
    decision_matrix,
    method_kernel,
    normalised_weights,
)

__all__ = [
    "ROBUSTNESS_QUANTILES",
    "RobustnessResult",
    "close_call",
    "rank_quantiles",
    "robustness",
    "weight_draws",
]


# --------------------------------------------------------------------------------------------
# Ranks over draws (kernels, no checks)
# --------------------------------------------------------------------------------------------


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
# Results
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
            for name, r in zip(lab, head.itertuples(index=False), strict=True)
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
        got = f"lo={lo!r}, hi={hi!r}"
        raise RankError(param_message("lo", "close_call", "a bound with 0 ≤ lo ≤ hi ≤ 1", got))
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
    arr = decision_matrix(x, func)
    n, m = arr.shape
    wn = normalised_weights(w, m, func)
    b = benefit_mask(benefit, m, func)
    kernel = method_kernel(method, func)
    k, draws, kappa, (q_lo, q_hi) = _check_settings(
        method, benefit, b, k, draws, concentration, quantiles, rank_store, labels, n, func
    )
    raters = None if x_draws is None else _rater_scores(x_draws, n, m, draws, resample, func)

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    # All randomness up front (small arrays), so chunking never changes the result.
    wd = weight_draws(wn, draws, kappa, rng)
    drawn = None if raters is None else _DrawnScores.draw(arr, raters, resample, draws, rng)

    point = kernel(arr, wn[None, :], b)[0]
    point_rank = _competition_ranks(point[None, :])[0]
    tally = _monte_carlo(arr, wd, b, kernel, k, drawn, chunk_size, rank_store)
    qs = tally.quantiles((q_lo, 0.5, q_hi))
    return RobustnessResult(
        p_listed=tally.listed / draws,
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


def _check_settings(
    method: str,
    benefit: Any,
    b: np.ndarray,
    k: Any,
    draws: Any,
    concentration: Any,
    quantiles: Any,
    rank_store: Any,
    labels: Any,
    n: int,
    func: str,
) -> tuple[int, int, float, tuple[float, float]]:
    """The checked scalar settings of :func:`robustness`: ``k``, ``draws``, κ (∞ for fixed
    weights) and the rank interval's quantiles."""
    if method == "weighted_sum" and not b.all():
        must = ("None (or all True) with method='weighted_sum', which expects scores oriented "
                "'higher is better'")
        raise RankError(param_message("benefit", func, must, repr(np.asarray(benefit).tolist())))
    k = checks.int_in(k, 1, n, "k", func, RankError)
    draws = checks.positive_int(draws, "draws", func, RankError)
    try:
        kappa = math.inf if concentration is None else float(concentration)
    except (TypeError, ValueError):
        kappa = math.nan
    if not kappa > 0:
        must = "a positive number or None"
        raise RankError(param_message("concentration", func, must, repr(concentration)))
    try:
        q_lo, q_hi = (float(q) for q in quantiles)
    except (TypeError, ValueError):
        q_lo = q_hi = math.nan
    if not 0.0 < q_lo <= 0.5 <= q_hi < 1.0:
        must = "(lo, hi) with 0 < lo ≤ 0.5 ≤ hi < 1"
        raise RankError(param_message("quantiles", func, must, repr(quantiles)))
    checks.one_of(rank_store, ("auto", "histogram", "ranks"), "rank_store", func, RankError)
    if labels is not None:
        checks.sized(labels, n, "labels", func, RankError)
    return k, draws, kappa, (q_lo, q_hi)


def _rater_scores(
    x_draws: Any, n: int, m: int, draws: int, resample: bool, func: str
) -> np.ndarray:
    """``x_draws`` as a float (R, n, m) array, NaN where a rater gave no score (a (R, n)
    array reads as (R, n, 1) when m = 1)."""
    raters = checks.numeric_array(x_draws, "x_draws", func, RankError, ndim=None,
                                  allow_nan=True, allow_inf=True)
    if raters.ndim == 2 and m == 1:
        raters = raters[:, :, None]
    if raters.ndim != 3 or raters.shape[1:] != (n, m) or raters.shape[0] < 1:
        must = f"an array of shape (R, {n}, {m})"
        raise RankError(param_message("x_draws", func, must, f"an array of shape {raters.shape}"))
    checks.numeric_array(raters, "x_draws", func, RankError, ndim=3, allow_nan=True)  # no inf
    if not resample and raters.shape[0] != draws:
        must = f"exactly draws={draws} matrices when resample=False"
        raise RankError(param_message("x_draws", func, must, str(raters.shape[0])))
    return raters


# --------------------------------------------------------------------------------------------
# The Monte Carlo kernel (no checks)
# --------------------------------------------------------------------------------------------


class _DrawnScores:
    """The score matrices of the draws: each rater-level matrix as is (``counts`` None) or the
    mean of the raters resampled in the draw (``counts``: draws × raters); a cell that no
    drawn rater scored falls back to the point score."""

    def __init__(self, point: np.ndarray, raters: np.ndarray, counts: np.ndarray | None) -> None:
        self.point, self.raters, self.counts = point, raters, counts
        if counts is not None:
            n_r, n, m = raters.shape
            missing = np.isnan(raters)
            self.flat_vals = np.where(missing, 0.0, raters).reshape(n_r, n * m)
            self.flat_have = (~missing).reshape(n_r, n * m).astype(float)
            self.any_missing = bool(missing.any())

    @classmethod
    def draw(cls, point: np.ndarray, raters: np.ndarray, resample: bool, draws: int,
             rng: np.random.Generator) -> _DrawnScores:
        """The draws' score matrices: with ``resample``, each draw's bootstrap counts of the
        raters drawn from ``rng`` now; without, the rater-level matrices as they are."""
        counts = None
        if resample:
            n_r = raters.shape[0]
            counts = rng.multinomial(n_r, np.full(n_r, 1.0 / n_r), size=draws).astype(float)
        return cls(point, raters, counts)

    def chunk(self, start: int, stop: int) -> np.ndarray:
        """The score matrices of draws ``start:stop`` (draws, n, m)."""
        raters, point = self.raters, self.point
        if self.counts is None:
            return np.where(np.isnan(raters[start:stop]), point, raters[start:stop])
        n, m = point.shape
        cnt = self.counts[start:stop]
        num = cnt @ self.flat_vals
        if not self.any_missing:
            return (num / raters.shape[0]).reshape(-1, n, m)
        den = cnt @ self.flat_have
        return np.where(
            den > 0, num / np.where(den > 0, den, 1.0), point.reshape(1, -1)
        ).reshape(-1, n, m)


class _RankTally:
    """What the draws leave per candidate: how often it made the top ``k`` (``listed``) and its
    ranks, as an ``n × n`` rank histogram or as the ``draws × n`` ranks."""

    def __init__(self, n: int, draws: int, k: int, use_hist: bool) -> None:
        self.n, self.draws, self.k = n, draws, k
        self.listed = np.zeros(n, dtype=np.int64)
        # int64: the np.add.at fast path
        self.hist = np.zeros(n * n, dtype=np.int64) if use_hist else None
        self.ranks = None if use_hist else np.empty((draws, n), dtype=np.int32)
        self._desc_pos = np.arange(n - 1, -1, -1, dtype=np.int64)  # rank − 1 at position p

    def add(self, scores: np.ndarray, start: int, stop: int) -> None:
        """Count the draws ``start:stop`` (their scores, draws × n)."""
        n, k = self.n, self.k
        if k < n:
            top = np.argpartition(scores, n - k, axis=1)[:, n - k :]
            self.listed += np.bincount(top.ravel(), minlength=n)
        else:
            self.listed += stop - start
        if self.hist is not None:
            # Histogram cell (candidate, rank − 1), counted straight from sorted space.
            order, rank_sorted = _sorted_ranks(scores)
            cell = order * n
            cell += self._desc_pos if rank_sorted is None else (rank_sorted - 1)
            np.add.at(self.hist, cell.ravel(), 1)  # no n × n temporary per chunk
        else:
            self.ranks[start:stop] = _competition_ranks(scores)

    def quantiles(self, qs: Sequence[float]) -> list[np.ndarray]:
        """Each candidate's lower empirical q-quantile rank, for each q of ``qs``."""
        if self.hist is None:
            return rank_quantiles(self.ranks, qs)
        thresholds = [_quantile_threshold(q, self.draws) for q in qs]
        cum = np.cumsum(self.hist.reshape(self.n, self.n), axis=1)
        return [np.argmax(cum >= t, axis=1) + 1 for t in thresholds]


def _monte_carlo(
    point: np.ndarray,
    wd: np.ndarray,
    benefit: np.ndarray,
    kernel: BatchKernel,
    k: int,
    drawn: _DrawnScores | None,
    chunk_size: int | None,
    rank_store: str,
) -> _RankTally:
    """Kernel: score and rank the candidates in every draw, chunk by chunk of draws (memory ∝
    chunk × n; the chunking never changes the result)."""
    n, m = point.shape
    draws = wd.shape[0]
    per_draw = n * (m if drawn is not None else 1)
    c = int(chunk_size) if chunk_size else max(1, min(draws, (1 << 20) // max(per_draw, 1)))
    use_hist = rank_store == "histogram" or (rank_store == "auto" and n <= draws)
    tally = _RankTally(n, draws, k, use_hist)
    for start in range(0, draws, c):
        stop = min(draws, start + c)
        x_chunk = point if drawn is None else drawn.chunk(start, stop)
        tally.add(kernel(x_chunk, wd[start:stop], benefit), start, stop)
    return tally
