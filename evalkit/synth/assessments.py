"""Assessments: one row per (app, assessed criterion) of its current test report, and of an
earlier report for some apps; values follow the app's latent quality.

:func:`draw_assessments` draws from the ``assessments`` stream, in this order: report days and
assessors, then the values criterion by criterion (current report, then the earlier one).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from evalkit.data import schema
from evalkit.synth import names as N
from evalkit.synth.apps import Apps
from evalkit.synth.catalogue import ASSESSED, Crit
from evalkit.synth.draws import days, int_text, num_text, objects
from evalkit.synth.planted import APP_INDEX, PLANTED_APPS
from evalkit.synth.submissions import Submissions
from evalkit.synth.world import World

__all__ = ["Assessments", "assessment_values", "draw_assessments"]


@dataclass(frozen=True)
class Assessments:
    """Every assessment row, unsorted, as arrays (waivers are drawn from them) and the table.

    Attributes
    ----------
    app, crit : numpy.ndarray
        The app (index into :class:`~evalkit.synth.apps.Apps`) and the criterion (index into
        ``crit_ids``) of every row.
    value, day : numpy.ndarray
        The value as text and the day it was assessed.
    crit_ids : list of str
        The assessed criteria, sorted.
    table : pandas.DataFrame
        The ``assessments`` table, sorted by app, criterion and day.
    """

    app: np.ndarray
    crit: np.ndarray
    value: np.ndarray
    day: np.ndarray
    crit_ids: list[str]
    table: pd.DataFrame


def draw_assessments(world: World, apps: Apps, submissions: Submissions) -> Assessments:
    """Draw every assessment of ``world`` (``assessments`` stream)."""
    rng = world.rng("assessments")
    n = len(apps.id)
    n_pa = len(PLANTED_APPS)
    current, older, history, assessor_i, assessor_o = _reports(world, rng, submissions.first)
    q = apps.quality.copy()
    q[:n_pa] = 2.5  # planted apps pass every assessment unless their case says otherwise
    applies = _applies(apps, n)
    parts_app, parts_crit, parts_val, parts_old = [], [], [], []
    crit_ids = sorted(c.id for c in ASSESSED)
    for crit in ASSESSED:
        rows = np.flatnonzero(applies[crit.applies])
        for old in (False, True):
            r = rows[history[rows]] if old else rows
            qq = q[r] - (0.3 if old else 0.0)
            val = assessment_values(rng, crit, qq)
            parts_app.append(r)
            parts_crit.append(np.full(len(r), crit_ids.index(crit.id), dtype=np.int16))
            parts_val.append(val)
            parts_old.append(np.full(len(r), old))
    app = np.concatenate(parts_app)
    crit = np.concatenate(parts_crit)
    value = np.concatenate(parts_val)
    old = np.concatenate(parts_old)
    for key, cid, v in (("ugc_no_review", "C07_ugc_review_system", "false"),
                        ("waiver_active", "S09_no_cleartext_personal_data", "false"),
                        ("waiver_expired", "S10_high_risk_vulnerabilities", "3")):
        value[(app == APP_INDEX[key]) & (crit == crit_ids.index(cid))] = v
    day = np.where(old, older[app], current[app])
    who = np.where(old, assessor_o[app], assessor_i[app])
    table = _table(apps, app, crit, value, old, day, who, crit_ids)
    return Assessments(app, crit, value, day, crit_ids, table)


def _reports(world: World, rng: np.random.Generator, first: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per app: (current report day, earlier report day, whether it has one, assessor of each)."""
    n = len(first)
    n_pa = len(PLANTED_APPS)
    current = np.minimum(first + days(rng.integers(10, 60, n)),
                         world.as_of - np.timedelta64(1, "D"))
    stale = rng.random(n) < 0.04
    current = np.where(stale, world.as_of - days(rng.integers(400, 600, n)), current)
    current[:n_pa] = world.as_of - days(30 + np.arange(n_pa))
    history = rng.random(n) < world.size.history_rate
    history[:n_pa] = False
    older = current - days(rng.integers(300, 500, n))
    assessor_i = rng.integers(0, len(N.ASSESSORS), n)
    assessor_o = rng.integers(0, len(N.ASSESSORS), n)
    return current, older, history, assessor_i, assessor_o


def _applies(apps: Apps, n: int) -> dict[str, np.ndarray]:
    """Per ``Crit.applies`` value: the apps it applies to."""
    k12 = np.zeros(n, dtype=bool)
    for s in schema.K12_STAGES:
        k12 |= np.char.find(apps.stages.astype(str), s) >= 0
    students = np.char.find(apps.users.astype(str), "students") >= 0
    return {
        "all": np.ones(n, dtype=bool), "minors": apps.minors,
        "training": apps.features["training"], "face": apps.features["face_data"],
        "k12": k12, "k12_students": k12 & students, "ads": apps.ads,
        "ugc": apps.features["ugc"],
    }


def _table(apps: Apps, app: np.ndarray, crit: np.ndarray, value: np.ndarray, old: np.ndarray,
           day: np.ndarray, who: np.ndarray, crit_ids: list[str]) -> pd.DataFrame:
    """The ``assessments`` table: report references ``<prefix>-<year>-<number>``, rows sorted."""
    prefix = objects([p for _, p in N.ASSESSORS])[who]
    year = np.datetime_as_string(day, unit="Y").astype(object)
    ref_no = int_text(zlib.crc32(b"ref") % 1000 + 1 + app * 2 + old, 6)
    order = np.lexsort((day, crit, apps.rank[app]))
    return pd.DataFrame({
        "app_id": apps.id[app][order],
        "criterion_id": objects(crit_ids)[crit][order],
        "value": value[order],
        "assessed_on": day[order],
        "assessor": objects([a for a, _ in N.ASSESSORS])[who][order],
        "report_ref": (prefix + "-" + year + "-" + ref_no)[order],
    })


def assessment_values(rng: np.random.Generator, crit: Crit, q: np.ndarray) -> np.ndarray:
    """Values of ``crit`` (as text) for apps of latent quality ``q``.

    Raises
    ------
    ValueError
        For an unknown ``crit.kind`` (a bug of the catalogue, never a user's input).
    """
    m = len(q)
    z = 0.7 * q + math.sqrt(1 - 0.49) * rng.normal(0, 1, m)
    if crit.kind == "bool":
        return np.where(z < ndtri(crit.fail), "false", "true").astype(object)
    if crit.kind == "mpf":
        u = rng.random(m)
        word = np.select([z < ndtri(crit.fail), z < ndtri(crit.fail + crit.partial)],
                         ["fails", "partial"], "meets").astype(object)
        return np.where(u < crit.na, "na", word).astype(object)
    if crit.kind == "days":
        return int_text(np.clip(np.round(rng.lognormal(math.log(7) - 0.35 * q, 0.45)), 1, 60))
    if crit.kind == "percent":
        return num_text(np.round(np.clip(95 + 5 * q + rng.normal(0, 5, m), 40, 100), 1))
    if crit.kind == "count":
        return int_text(rng.poisson(0.25 * np.exp(-0.8 * q)))
    if crit.kind == "crash":
        return num_text(np.round(rng.lognormal(math.log(0.25) - 0.4 * q, 0.7), 2))
    if crit.kind == "seconds":
        return num_text(np.round(rng.lognormal(math.log(1.8) - 0.15 * q, 0.35), 1))
    raise ValueError(crit.kind)  # pragma: no cover
