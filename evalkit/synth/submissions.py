"""Submissions (candidates): every app in its home unit, some also in one to three others, thin
units topped up; batch, day and mandated use of each; and the app dates that depend on them
(filed before the first submission, releases mostly recent).

:func:`draw_submissions` draws from the ``submissions`` stream, in this order: the candidates,
their batch, day and mandated use, then the app dates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.synth.apps import Apps
from evalkit.synth.catalogue import CODE_INDEX, CODES, NCODE
from evalkit.synth.draws import days, objects
from evalkit.synth.planted import APP_INDEX, PLANTED_APPS
from evalkit.synth.providers import Providers
from evalkit.synth.world import World

__all__ = ["Submissions", "draw_submissions"]


@dataclass(frozen=True)
class Submissions:
    """The candidates (one per submission) and the app dates they imply.

    Attributes
    ----------
    app, prov : numpy.ndarray
        Per candidate: the app (index into :class:`~evalkit.synth.apps.Apps`) and the unit
        (index into :data:`~evalkit.synth.catalogue.CODES`).
    latest : numpy.ndarray
        Per candidate: whether it is of the latest batch (else the previous one).
    table : pandas.DataFrame
        The ``submissions`` table (sorted by :meth:`sorted_table`).
    first : numpy.ndarray
        Per app: its first submission day.
    app_dates : dict
        Per app: ``filed_on``, ``info_updated_on`` and ``last_release_on``.
    """

    app: np.ndarray
    prov: np.ndarray
    latest: np.ndarray
    table: pd.DataFrame
    first: np.ndarray
    app_dates: dict[str, np.ndarray]

    def sorted_table(self) -> pd.DataFrame:
        """The ``submissions`` table by unit and app."""
        return self.table.sort_values(["province_code", "app_id"], kind="stable").reset_index(drop=True)


def draw_submissions(world: World, providers: Providers, apps: Apps) -> Submissions:
    """Draw every submission of ``world`` and the app dates (``submissions`` stream)."""
    rng = world.rng("submissions")
    n_pa = len(PLANTED_APPS)
    app, prov = _candidates(world, rng, providers, apps)
    m = len(app)
    latest = rng.random(m) < 0.7
    batch = np.where(latest, world.latest.label, world.previous.label).astype(object)
    open_on = np.where(latest, world.latest.open_on, world.previous.open_on)
    span = (world.latest.close_on - world.latest.open_on).astype(int)
    submitted = open_on + days(rng.integers(0, span + 1, m))
    mandated = (rng.random(m) < np.where(np.isin(apps.category[app],
                                                 ["management", "home_school", "teaching"]),
                                         0.08, 0.015))
    dirty = apps.fees[app] | apps.ads[app] | apps.games[app]
    mandated &= ~dirty | (rng.random(m) < 0.03)
    planted = app < n_pa
    mandated[planted] = np.array([PLANTED_APPS[a].mandated for a in app[planted]], dtype=bool)
    if world.scale == "province":
        batch[planted] = world.latest.label
        submitted[planted] = world.latest.open_on + np.timedelta64(20, "D")
    table = pd.DataFrame({
        "app_id": apps.id[app], "province_code": objects(list(CODES))[prov],
        "submitted_on": submitted, "mandated_use": mandated, "batch": batch,
    })
    first, app_dates = _app_dates(world, rng, len(apps.id), app, submitted)
    return Submissions(app, prov, batch == world.latest.label, table, first, app_dates)


def _candidates(world: World, rng: np.random.Generator, providers: Providers, apps: Apps
                ) -> tuple[np.ndarray, np.ndarray]:
    """(app, unit) of every submission: home first, then cross-submissions and top-ups."""
    n = len(apps.id)
    if world.scale == "province":
        return np.arange(n), np.full(n, CODE_INDEX[world.province])
    k = np.where(rng.random(n) < world.size.cross_rate * np.minimum(
        2.0, 0.5 + providers.size[apps.owner] / 2), rng.integers(1, 4, n), 0)
    k[:len(PLANTED_APPS)] = 0
    keys = rng.random((n, NCODE))
    keys[np.arange(n), apps.home_idx] = 2.0  # never the home province again
    ranked = np.argsort(keys, axis=1)
    slot = np.arange(3)
    take = slot[None, :] < k[:, None]
    app = np.concatenate([np.arange(n), np.repeat(np.arange(n), 3)[take.ravel()]])
    prov = np.concatenate([apps.home_idx, ranked[:, :3].ravel()[take.ravel()]])
    if world.size.min_candidates:  # top up thin provinces with cross-submissions
        app, prov = _top_up(rng, world.size.min_candidates, n, app, prov)
    return app, prov


def _top_up(rng: np.random.Generator, min_candidates: int, n: int, app: np.ndarray,
            prov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cross-submissions of random (non-planted) apps into units under ``min_candidates``."""
    extra_a, extra_p = [], []
    counts = np.bincount(prov, minlength=NCODE)
    for pi in range(NCODE):  # a loop over provinces
        need = min_candidates - counts[pi]
        if need <= 0:
            continue
        taken = np.zeros(n, dtype=bool)
        taken[app[prov == pi]] = True
        taken[:len(PLANTED_APPS)] = True  # planted apps stay in their home unit
        chosen = rng.choice(np.flatnonzero(~taken), size=need, replace=False)
        extra_a.append(chosen)
        extra_p.append(np.full(need, pi))
    if extra_a:
        app = np.concatenate([app, *extra_a])
        prov = np.concatenate([prov, *extra_p])
    return app, prov


def _app_dates(world: World, rng: np.random.Generator, n: int, app: np.ndarray,
               submitted: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(first submission day, app dates) by app: filed before the first submission; releases
    mostly recent; a few filings not updated since; planted cases."""
    as_of = world.as_of
    first = np.full(n, as_of)
    np.minimum.at(first, app, submitted)
    filed = first - days(rng.integers(15, 1800, n))
    filed = np.maximum(filed, np.datetime64("2019-11-01"))
    age = np.select([rng.random(n) < 0.7, rng.random(n) < 0.67],
                    [rng.integers(5, 180, n), rng.integers(181, 365, n)],
                    rng.integers(366, 900, n))
    release = np.maximum(as_of - days(age), filed)
    updated = np.minimum(release + days(rng.integers(0, 8, n)), as_of)
    stale = rng.random(n) < 0.03
    updated = np.where(stale, np.maximum(release - days(rng.integers(20, 200, n)), filed),
                       updated)
    sf = APP_INDEX["stale_filing"]
    release[sf] = as_of - np.timedelta64(40, "D")
    updated[sf] = as_of - np.timedelta64(300, "D")
    filed[sf] = min(filed[sf], as_of - np.timedelta64(700, "D"))
    for i in range(len(PLANTED_APPS)):
        if i != sf:
            release[i] = max(filed[i], as_of - np.timedelta64(60 + i, "D"))
            updated[i] = release[i] + np.timedelta64(2, "D")
    return first, {"filed_on": filed, "info_updated_on": updated, "last_release_on": release}
