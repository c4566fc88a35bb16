"""Panel reducers: how a panel's scores of one item become one score.

:data:`REDUCERS` is the one registry of reducers (an :class:`evalkit.registry.Registry`): the
panel aggregation (:mod:`evalkit.evaluate.panel`) reduces the scores of every item with it,
the rater bootstrap (:mod:`evalkit.evaluate.raters`) re-reduces every resampled panel with it,
and the profile model checks a profile's ``panel.reducer`` against it.

An entry is a :class:`Reducer`, which holds the two forms of one reducer:

``reduce``
    The definition: the scores grouped by item (a pandas ``SeriesGroupBy``, or a stand-in
    offering the same built-ins) -> one value per group, from the groupby built-ins ``count,
    sum, min, max, mean, median`` only.
``counted``
    Its fast path over resamples held as rater counts (a
    :class:`evalkit.mcda.rater_resample.CountedGroups`): the same formula on whole arrays,
    (panels, draws, criteria).  ``None``: the resamples are reduced by ``reduce`` on the
    counted groups' built-ins (the generic path), which gives the same values, slower.

Registered: ``mean``, ``median`` and ``trimmed_mean`` (the mean without the highest and the
lowest score from :data:`TRIM_MIN_RATERS` scores up).  A new reducer is registered with
``REDUCERS.register(name, Reducer(reduce, counted))``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from evalkit.registry import Registry

__all__ = ["REDUCERS", "TRIM_MIN_RATERS", "CountedBuiltins", "Reducer"]

TRIM_MIN_RATERS = 5
"""Trimmed mean drops the highest and the lowest score only from this many raters up."""


class CountedBuiltins(Protocol):
    """What a fast path reads: the built-ins of every (panel, draw, criterion) resample as
    arrays (panels, draws, criteria) (:class:`evalkit.mcda.rater_resample.CountedGroups`)."""

    def sums(self) -> np.ndarray: ...
    def counts(self) -> np.ndarray: ...
    def edges(self) -> np.ndarray: ...  # min + max of the scores drawn (0 when none)
    def means(self) -> np.ndarray: ...
    def medians(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Reducer:
    """A registered panel reducer: its groupby definition and its fast path over rater counts.

    Attributes
    ----------
    reduce : callable
        ``reduce(grouped) -> Series``: one value per group of a ``SeriesGroupBy`` (or a
        stand-in with the same built-ins), from groupby built-ins only.
    counted : callable or None
        ``counted(groups) -> ndarray``: the same reduction of every (panel, draw, criterion)
        from the array built-ins of :class:`CountedBuiltins`, shape (panels, draws,
        criteria); None = no fast path (the resamples are reduced by ``reduce``).

    Calling the entry calls ``reduce``.
    """

    reduce: Callable[[Any], pd.Series]
    counted: Callable[[CountedBuiltins], np.ndarray] | None = None

    def __call__(self, grouped: Any) -> pd.Series:
        return self.reduce(grouped)


# --- the definitions (groupby built-ins only) ----------------------------------------------


def _mean(g: Any) -> pd.Series:
    """Arithmetic mean of the panel's scores."""
    return g.mean()


def _median(g: Any) -> pd.Series:
    """Median of the panel's scores."""
    return g.median()


def _trimmed_mean(g: Any) -> pd.Series:
    """Mean after dropping the highest and the lowest score (one each) when there are at
    least :data:`TRIM_MIN_RATERS` scores; the plain mean otherwise.

    Vectorised: ``(sum - min - max) / (count - 2)`` from groupby built-ins, no per-group
    Python function.
    """
    s, c, lo, hi = g.sum(), g.count(), g.min(), g.max()
    trimmed = (s - lo - hi) / (c - 2)
    return trimmed.where(c >= TRIM_MIN_RATERS, s / c)


# --- their fast paths over rater counts (same formulas on arrays) --------------------------


def _counted_mean(g: CountedBuiltins) -> np.ndarray:
    return g.means()


def _counted_median(g: CountedBuiltins) -> np.ndarray:
    return g.medians()


def _counted_trimmed_mean(g: CountedBuiltins) -> np.ndarray:
    s, c = g.sums(), g.counts()
    trim = c >= TRIM_MIN_RATERS  # drop min and max: (s - lo - hi) / (c - 2)
    return (s - np.where(trim, g.edges(), 0.0)) / (c - 2.0 * trim)


REDUCERS: Registry[Reducer] = Registry("panel reducer")
"""Panel reducers by name (registration order: the order of messages)."""

REDUCERS.register("mean", Reducer(_mean, _counted_mean))
REDUCERS.register("median", Reducer(_median, _counted_median))
REDUCERS.register("trimmed_mean", Reducer(_trimmed_mean, _counted_trimmed_mean))
