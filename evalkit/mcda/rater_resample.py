"""Panel reductions of resampled raters, arrays in and arrays out (the rater bootstrap's kernels).

The rater bootstrap (:mod:`evalkit.evaluate.raters`) resamples every panel's raters with
replacement in every robustness draw and re-reduces the panel's scores with the profile's
reducer (:data:`evalkit.mcda.reducers.REDUCERS`).  Two layouts of a resample:

* **rater counts** (:func:`pick_counts`, :class:`CountedPanels`): how often each rater slot
  was drawn, (panels, draws, slots).  The built-ins of every (panel, draw, criterion) multiset
  come from whole-array operations on the panel's scores; a reducer with a fast path
  (``Reducer.counted``) runs its formula on them, any other one runs its groupby definition on
  :class:`CountedGroups` (the generic path).
* **padded slots** (:func:`reduce_slots`, :class:`PaddedGroups`): the picked scores gathered
  into a NaN-padded (slots, groups) array, for a reducer needing a built-in the counts do not
  offer.

A rater drawn twice counts twice, so both layouts give what the reducer gives on the gathered
scores; with scores whose sums are exact in float64 (integers, halves) the results are
identical.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd

from evalkit.mcda.reducers import Reducer

__all__ = [
    "SUBSET_SLOTS",
    "CountedGroups",
    "CountedPanels",
    "PaddedGroups",
    "drawn_mask",
    "pick_counts",
    "reduce_slots",
]

#: Most rater slots for which min and max come from a table over the subsets of raters drawn.
SUBSET_SLOTS = 10


# --- padded slots -------------------------------------------------------------------------


class PaddedGroups:
    """Stand-in for a ``SeriesGroupBy`` whose groups are the columns of a NaN-padded (R, G)
    array (R rater slots, G groups), so the registered reducers run unchanged as array
    reductions.  Offers the groupby built-ins they use (``count, sum, min, max, mean,
    median``), NaN-skipping like pandas.  Slots on the first axis: a reduction is R − 1
    elementwise passes over contiguous rows, not G short reductions."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a
        self._have = ~np.isnan(a)
        self._n = self._have.sum(axis=0)

    def count(self) -> pd.Series:
        return pd.Series(self._n)

    def _sum(self) -> np.ndarray:
        return np.where(self._have, self._a, 0.0).sum(axis=0)

    def sum(self) -> pd.Series:
        return pd.Series(self._sum())

    def min(self) -> pd.Series:
        return pd.Series(np.fmin.reduce(self._a, axis=0))

    def max(self) -> pd.Series:
        return pd.Series(np.fmax.reduce(self._a, axis=0))

    def mean(self) -> pd.Series:
        s = self._sum()
        return pd.Series(np.divide(s, self._n, out=np.full(s.shape, np.nan), where=self._n > 0))

    def median(self) -> pd.Series:
        srt = np.sort(self._a, axis=0)  # NaN last
        n, last = self._n, max(self._a.shape[0] - 1, 0)
        lo = np.take_along_axis(srt, np.clip((n - 1) // 2, 0, last)[None, :], axis=0)[0]
        hi = np.take_along_axis(srt, np.clip(n // 2, 0, last)[None, :], axis=0)[0]
        return pd.Series(np.where(n > 0, (lo + hi) / 2.0, np.nan))


def reduce_slots(a: np.ndarray, reducer: Reducer) -> np.ndarray:
    """Reduce each column of a NaN-padded (R, G) array with ``reducer`` (its definition)."""
    try:
        out = reducer(PaddedGroups(a))
    except (AttributeError, TypeError):  # a reducer needing another built-in: a real groupby
        r, g = a.shape
        grouped = pd.Series(a.T.reshape(-1)).groupby(np.repeat(np.arange(g), r), sort=True)
        out = reducer(grouped).reindex(range(g))
    return np.asarray(out, dtype=float)


# --- rater counts -------------------------------------------------------------------------


def pick_counts(pick: np.ndarray, slot_used: np.ndarray, r: int) -> np.ndarray:
    """Rater counts (m, cc, r) of picks (m, cc, r): how often each rater slot was drawn in each
    panel and draw (padding slots of ``slot_used`` (m, r) are not picks)."""
    m, cc, _ = pick.shape
    cells = m * cc * r
    flat = np.arange(m * cc, dtype=np.intp)[:, None] * r + pick.reshape(m * cc, r)
    if not slot_used.all():  # a padding pick counts in one cell past the end, dropped
        flat = np.where(np.broadcast_to(slot_used[:, None, :], pick.shape).reshape(m * cc, r), flat, cells)
    return np.bincount(flat.reshape(-1), minlength=cells + 1)[:cells].astype(np.uint8).reshape(m, cc, r)


def drawn_mask(counts: np.ndarray) -> np.ndarray:
    """Bit mask (m, cc) of the rater slots drawn at least once (bit s = slot s)."""
    return (counts > 0) @ (np.intp(1) << np.arange(counts.shape[2], dtype=np.intp))


class CountedPanels:
    """The panels' rater scores (m, R, J) (NaN = not scored / padding), reduced per resample
    given as rater counts (m, draws, R) — multinomial counts of a draw with replacement.

    The built-ins of every (panel, draw, criterion) multiset: sum and count in one batched
    matmul ``counts @ [scores, has_score]``; min and max over the raters drawn at least once,
    looked up in a per-panel table over the subsets of raters (built on first use by doubling,
    ±inf sentinels); the median from the scores sorted once per panel and criterion and the
    drawn counts accumulated in that order (:meth:`median`).  The trimmed mean looks up
    ``min + max`` of the subset in one table.
    """

    def __init__(self, vals: np.ndarray) -> None:
        has = ~np.isnan(vals)
        self._shape = vals.shape
        self._has = has
        self._v0 = np.where(has, vals, 0.0)  # (m, R, J)
        self._both = np.stack([self._v0, has.astype(float)])  # (2, m, R, J): sums and counts, each contiguous
        self._lo = np.where(has, vals, np.inf)
        self._hi = np.where(has, vals, -np.inf)
        self._memo: dict[str, Any] = {}
        self._lock = threading.Lock()  # chunks of draws may be reduced in threads: each memo built once

    def tables(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Min and max of every subset of raters, (m, 2**R, J) each (bit s of the subset index
        = slot s); None beyond :data:`SUBSET_SLOTS` slots."""
        with self._lock:
            return self._tables()

    def _tables(self) -> tuple[np.ndarray, np.ndarray] | None:
        if "tables" not in self._memo:
            m, r, j = self._shape
            lo, hi = np.full((m, 1, j), np.inf), np.full((m, 1, j), -np.inf)
            if r <= SUBSET_SLOTS:
                for s in range(r):  # loop over rater slots: the subsets with slot s appended
                    lo = np.concatenate([lo, np.minimum(lo, self._lo[:, s : s + 1])], axis=1)
                    hi = np.concatenate([hi, np.maximum(hi, self._hi[:, s : s + 1])], axis=1)
            self._memo["tables"] = (lo, hi) if r <= SUBSET_SLOTS else None
        return self._memo["tables"]

    def reduce(self, counts: np.ndarray, reducer: Reducer) -> np.ndarray:
        """Reduce every (panel, draw, criterion) with ``reducer``; (m, cc, J) float64.

        A reducer with a fast path (``reducer.counted``) runs it; any other one runs its
        definition on :class:`CountedGroups` (AttributeError or TypeError when it needs a
        built-in the counts do not offer).
        """
        g = CountedGroups(self, counts)
        if reducer.counted is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                return reducer.counted(g)
        shape = (*counts.shape[:2], self._shape[2])
        return np.asarray(reducer(g), dtype=float).reshape(shape)

    def sums_counts(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sum and count (as floats) of the scores drawn, (m, cc, J) each."""
        both = np.matmul(counts.astype(float), self._both)  # (2, m, cc, J)
        return both[0], both[1]

    def extremes(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Min and max over the raters drawn at least once, ±inf when none scored."""
        tables = self.tables()
        if tables is not None:  # one lookup of the subset drawn
            return self._lookup(tables[0], counts), self._lookup(tables[1], counts)
        lo = np.full((*counts.shape[:2], self._shape[2]), np.inf)
        hi = np.full(lo.shape, -np.inf)
        for s in range(self._shape[1]):  # loop over rater slots
            drawn = (counts[:, :, s] > 0)[:, :, None]
            np.minimum(lo, self._lo[:, s][:, None, :], out=lo, where=drawn)
            np.maximum(hi, self._hi[:, s][:, None, :], out=hi, where=drawn)
        return lo, hi

    @staticmethod
    def _lookup(table: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rows (m, cc, J) of a subset table (m, 2**R, J) for the subsets drawn."""
        m, n_sub, j = table.shape
        at = np.arange(m)[:, None] * n_sub + drawn_mask(counts)
        return np.take(table.reshape(m * n_sub, j), at, axis=0)  # row gather: faster than t[i, k]

    def edges(self, counts: np.ndarray) -> np.ndarray:
        """``min + max`` of the scores drawn (0 when none scored), (m, cc, J)."""
        tables = self.tables()
        if tables is not None:
            with self._lock:
                if "edges" not in self._memo:
                    with np.errstate(invalid="ignore"):
                        both = tables[0] + tables[1]
                    self._memo["edges"] = np.where(np.isnan(both), 0.0, both)
            return self._lookup(self._memo["edges"], counts)
        lo, hi = self.extremes(counts)
        return np.where(np.isinf(lo), 0.0, lo + np.where(np.isinf(hi), 0.0, hi))

    def median(self, counts: np.ndarray) -> np.ndarray:
        """Median of the scores drawn (NaN when none scored), (m, cc, J).

        Per panel and criterion the raters are sorted once by score (unscored last); the
        drawn count up to each sorted position is one small matmul of the counts per position
        (``counts @ below[k]``, exact in float32 for counts of a few raters), and the median's
        two middle positions are how many positions hold no more than ``(n - 1) // 2`` and
        ``n // 2`` of the n scores drawn.
        """
        with self._lock:
            if "below" not in self._memo:
                m, r, j = self._shape
                order = np.argsort(self._lo, axis=1, kind="stable")  # (m, R, J), unscored last
                rank = np.empty_like(order)
                np.put_along_axis(rank, order, np.arange(r)[None, :, None], axis=1)
                # below[k, panel, s, j]: rater s scored criterion j and sorts at position ≤ k
                below = self._has[None] & (rank[None] <= np.arange(r)[:, None, None, None])
                self._memo["below"] = (below.astype(np.float32),
                                       np.take_along_axis(self._v0, order, axis=1).reshape(-1))
        below, srt = self._memo["below"]
        m, r, j = self._shape
        cc = counts.shape[1]
        drawn = counts.astype(np.float32)
        n = np.matmul(drawn, below[r - 1])  # (m, cc, J) scores drawn
        t_lo, t_hi = np.floor((n - 1) / 2), np.floor(n / 2)
        lo_at = np.zeros((m, cc, j), dtype=np.intp)
        hi_at = np.zeros((m, cc, j), dtype=np.intp)
        for k in range(r - 1):  # loop over sorted positions (position r - 1 holds all n)
            upto = np.matmul(drawn, below[k])
            lo_at += upto <= t_lo
            hi_at += upto <= t_hi
        at = (np.arange(m, dtype=np.intp) * (r * j))[:, None, None] + np.arange(j, dtype=np.intp)
        lo, hi = np.take(srt, at + lo_at * j), np.take(srt, at + hi_at * j)
        with np.errstate(invalid="ignore"):
            return np.where(n > 0, (lo + hi) / 2.0, np.nan)


class CountedGroups:
    """Stand-in for a ``SeriesGroupBy`` over resampled panels given as rater counts (see
    :class:`CountedPanels`).

    Two faces: the groupby built-ins ``count, sum, min, max, mean, median`` of every (panel,
    draw, criterion) multiset, flattened and NaN-skipping like pandas (what a reducer's
    definition calls: the generic path), and their array forms (m, cc, J) ``sums, counts,
    edges, means, medians`` (what a reducer's fast path calls).  Each is computed once."""

    def __init__(self, panels: CountedPanels, counts: np.ndarray) -> None:
        self._p = panels
        self._c = counts
        self._memo: dict[str, np.ndarray] = {}

    def _sums_counts(self) -> None:
        if "sum" not in self._memo:
            self._memo["sum"], self._memo["count"] = self._p.sums_counts(self._c)

    def sums(self) -> np.ndarray:
        self._sums_counts()
        return self._memo["sum"]

    def counts(self) -> np.ndarray:
        self._sums_counts()
        return self._memo["count"]

    def edges(self) -> np.ndarray:
        """``min + max`` of the scores drawn (0 when none scored)."""
        return self._p.edges(self._c)

    def extreme(self, low: bool) -> np.ndarray:
        if "min" not in self._memo:
            lo, hi = self._p.extremes(self._c)
            none = np.isinf(lo)  # nothing scored in the resample
            self._memo["min"] = np.where(none, np.nan, lo)
            self._memo["max"] = np.where(none, np.nan, hi)
        return self._memo["min" if low else "max"]

    def means(self) -> np.ndarray:
        s, n = self.sums(), self.counts()
        return np.divide(s, n, out=np.full(s.shape, np.nan), where=n > 0)

    def medians(self) -> np.ndarray:
        return self._p.median(self._c)

    def count(self) -> pd.Series:
        return pd.Series(self.counts().reshape(-1).astype(np.int64))

    def sum(self) -> pd.Series:
        return pd.Series(self.sums().reshape(-1))

    def min(self) -> pd.Series:
        return pd.Series(self.extreme(True).reshape(-1))

    def max(self) -> pd.Series:
        return pd.Series(self.extreme(False).reshape(-1))

    def mean(self) -> pd.Series:
        return pd.Series(self.means().reshape(-1))

    def median(self) -> pd.Series:
        return pd.Series(self.medians().reshape(-1))
