"""The robustness draws of a province's list: the list procedure in every draw.

:func:`robustness` decides the point decision's pool again in every seeded draw, with the
dimension weights resampled (Dirichlet around the province's weights,
:func:`evalkit.mcda.robustness.weight_draws`) and, with a rater bootstrap, every panel's raters
resampled (:func:`evalkit.evaluate.raters.rater_chunks`), through the same
:func:`evalkit.evaluate.selection.select` as the decision: ``p_listed`` counts what the decision
counts.  :func:`evalkit.evaluate.recommend.recommend_later` runs it in a thread of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.evaluate.raters import RaterBootstrap, rater_chunks
from evalkit.evaluate.selection import select
from evalkit.mcda.methods import batch_scores
from evalkit.mcda.robustness import ROBUSTNESS_QUANTILES, rank_quantiles, weight_draws
from evalkit.parallel import single_threaded_blas

__all__ = ["robustness"]

#: Draws × candidates decided at once in the robustness analysis: a block's (draws, n, 4)
#: matrices stay within a few dozen MiB (never the whole (1000, n, 4)), and fewer, larger blocks
#: keep the list procedure's loop over rank positions short (measured: 2**18 to 2**22).
_BLOCK_CELLS = 1 << 20


def robustness(
    app_ids: np.ndarray, rules: Any, boot: RaterBootstrap | None, point: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p_listed`` and the rank interval (−1: none) of every candidate (``app_ids``) over the
    draws: the list procedure of the point decision (``point``, recommend's ``_PointDecision``)
    under ``rules`` (a ``ListRules``) with the weights (and raters, ``boot``) resampled.

    The draws are decided a block at a time (:data:`_BLOCK_CELLS`): each draw's decision is
    its own, so only the counts of listings, the ranks and the eligibility of every draw are
    kept, never every draw's (n, 4) matrices and selection at once.
    """
    p_listed = np.zeros(len(app_ids))
    rank_lo = np.full(len(app_ids), -1, dtype=np.int64)
    rank_hi = np.full(len(app_ids), -1, dtype=np.int64)
    in_pool, x_pool = point.in_pool, point.x
    if not in_pool.size:
        return p_listed, rank_lo, rank_hi
    draws, n = rules.draws, in_pool.size
    block = max(1, min(draws, _BLOCK_CELLS // n))
    listed = np.zeros(n, dtype=np.int64)
    ranks = np.empty((draws, n), dtype=np.int32)
    eligible = np.empty((draws, n), dtype=bool)
    # many small matrix products: BLAS threads cost more than they give (2x the CPU time
    # measured on 2 cores)
    with single_threaded_blas():
        drawn_raters = None
        if boot is not None:
            drawn_raters = rater_chunks(boot, app_ids[in_pool], x_pool,
                                        draws, rules.seed, point_fail=~point.eligible[0], block=block)
        wd = weight_draws(point.weights, draws, rules.concentration, np.random.default_rng(rules.seed))
        for first in range(0, draws, block):  # loop over blocks of draws
            last = min(draws, first + block)
            if drawn_raters is None:
                x_d = np.broadcast_to(x_pool, (last - first, *x_pool.shape))
                ok = np.broadcast_to(point.eligible, x_d.shape[:2])
            else:
                chunk = next(drawn_raters)
                x_d, ok = chunk.x, ~chunk.gate_fail
            s_d = batch_scores(x_d, wd[first:last], rules.method, mask=None if ok.all() else ok)
            drawn = select(x_d, wd[first:last], point.pool, point.caps, eligible=ok, score=s_d)
            listed += drawn.listed.sum(axis=0)
            ranks[first:last], eligible[first:last] = drawn.ranks(), drawn.eligible
    p_listed[in_pool] = listed / draws
    rank_lo[in_pool], rank_hi[in_pool] = rank_quantiles(ranks, ROBUSTNESS_QUANTILES, mask=eligible)
    return p_listed, rank_lo, rank_hi
