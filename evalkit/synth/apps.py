"""Apps: owners, filing numbers, kinds (category, stages, users, features), minors' limits,
names, descriptions and latent quality.

:func:`draw_apps` draws from the ``apps`` stream, in this order: owners, kinds, minors' age
range and daily limit, names, descriptions, versions, quality and popularity.  The dates of an
app depend on its submissions (:mod:`evalkit.synth.submissions`); :func:`app_table` puts
everything together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.data import schema
from evalkit.synth import names as N
from evalkit.synth.catalogue import CODES, NCODE
from evalkit.synth.draws import choose, group_rows, int_text, objects
from evalkit.synth.planted import (
    APP_INDEX,
    HOSTILE_DESCRIPTION,
    OVERLAP_DESCRIPTION,
    PLANTED_APPS,
    PLANTED_PROVIDERS,
    PROVIDER_INDEX,
)
from evalkit.synth.providers import Providers
from evalkit.synth.world import World

__all__ = ["Apps", "app_table", "draw_apps"]

_STAGE_SETS = ("primary", "primary;junior", "junior", "junior;senior", "senior",
               "primary;junior;senior", "preschool", "preschool;primary", "vocational",
               "higher", "higher;continuing", "continuing")
_STAGE_P = (0.2, 0.14, 0.1, 0.1, 0.1, 0.12, 0.06, 0.04, 0.05, 0.05, 0.02, 0.02)
_USERS_BY_CATEGORY = {
    "teaching": (("teachers", "students;teachers"), (0.55, 0.45)),
    "management": (("teachers", "teachers;parents", "students;teachers"), (0.6, 0.25, 0.15)),
    "learning": (("students", "students;parents"), (0.6, 0.4)),
    "life": (("students", "students;parents"), (0.5, 0.5)),
    "home_school": (("parents", "teachers;parents", "students;teachers;parents"),
                    (0.3, 0.5, 0.2)),
}


@dataclass(frozen=True)
class Apps:
    """Every app drawn (the planted ones first), as arrays by app.

    Attributes
    ----------
    owner, home_idx : numpy.ndarray
        The provider (index into :class:`~evalkit.synth.providers.Providers`) and its home unit.
    id : numpy.ndarray
        Filing number (``app_id``).
    rank : numpy.ndarray
        Position of the app in ``app_id`` order (sort keys of later tables).
    quality, popularity : numpy.ndarray
        Latent quality (assessments, panel scores, complaints) and popularity (complaints).
    category, stages, users, minors, fees, ads, games : numpy.ndarray
        What the app is; ``features`` maps every feature code to a boolean array.
    columns : dict
        The ``apps`` columns drawn here (the dates are added by :func:`app_table`).
    """

    owner: np.ndarray
    home_idx: np.ndarray
    id: np.ndarray
    rank: np.ndarray
    quality: np.ndarray
    popularity: np.ndarray
    category: np.ndarray
    stages: np.ndarray
    users: np.ndarray
    minors: np.ndarray
    features: dict[str, np.ndarray]
    fees: np.ndarray
    ads: np.ndarray
    games: np.ndarray
    columns: dict[str, np.ndarray]


def draw_apps(world: World, providers: Providers) -> Apps:
    """Draw every app of ``world`` (``apps`` stream); each random provider owns at least one."""
    rng = world.rng("apps")
    n_pa = len(PLANTED_APPS)
    owner = _owners(world, rng, providers)
    n = len(owner)
    home_idx = providers.index[owner]
    app_id = _filing_numbers(home_idx)
    category, stages, users, feats, fees, ads, games = _kinds(rng, n)
    features = feats[0].astype(object)
    for f in feats[1:]:
        features = np.where(f == "", features,
                            np.where(features == "", f, features + ";" + f.astype(object)))
    minors = (np.char.find(users.astype(str), "students") >= 0) & np.isin(
        stages.astype(str), [s for s in _STAGE_SETS if any(
            k in s for k in ("preschool", "primary", "junior", "senior"))])
    age_range, limit = _minors_limits(rng, minors, stages)
    names = _app_names(rng, home_idx, category)
    description = _descriptions(rng, names, category, stages, users, feats)
    version = (int_text(rng.integers(1, 7, n)) + "." + int_text(rng.integers(0, 10, n)) + "."
               + int_text(rng.integers(0, 20, n)))
    q = 0.6 * providers.quality[owner] + 0.8 * rng.normal(0, 1, n)
    q[:n_pa] = [a.quality for a in PLANTED_APPS]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(app_id.astype(str), kind="stable")] = np.arange(n)
    popularity = rng.lognormal(0, 0.8, n)
    columns = dict(  # noqa: C408
        app_id=app_id, provider_id=providers.uscc[owner], name=names, version=version,
        category=category, stages=stages, primary_users=users, minors_primary=minors,
        features=features, charges_fees=fees, has_ads=ads, has_games=games,
        age_range=age_range, daily_limit_min=limit, description=description,
    )
    return Apps(owner, home_idx, app_id, rank, q, popularity, category, stages, users, minors,
                {code: feats[j] == code for j, code in enumerate(schema.FEATURES)}, fees, ads, games,
                columns)


def _owners(world: World, rng: np.random.Generator, providers: Providers) -> np.ndarray:
    """The provider of every app: planted apps first, each random provider at least one app,
    the rest by provider size."""
    n_pp = len(PLANTED_PROVIDERS)
    n_prov = len(providers.uscc)
    n_rand = world.size.apps - len(PLANTED_APPS)
    size = providers.size[n_pp:]
    extra = rng.choice(n_prov - n_pp, n_rand - (n_prov - n_pp), p=size / size.sum())
    owner = np.concatenate([np.arange(n_prov - n_pp), extra]) + n_pp
    return np.concatenate([[PROVIDER_INDEX[a.provider] for a in PLANTED_APPS], owner])


def _filing_numbers(home_idx: np.ndarray) -> np.ndarray:
    """``教APP备<unit><serial>号``: planted serials fixed (1–99), random ones from 101 in each
    home unit."""
    n_pa = len(PLANTED_APPS)
    n_rand = len(home_idx) - n_pa
    serial = np.zeros(len(home_idx), dtype=np.int64)
    serial[:n_pa] = [a.serial for a in PLANTED_APPS]
    order, starts, counts = group_rows(home_idx[n_pa:], NCODE)
    rank = np.empty(n_rand, dtype=np.int64)
    rank[order] = np.arange(n_rand) - np.repeat(starts, counts)
    serial[n_pa:] = 101 + rank
    home = objects(list(CODES))[home_idx]
    return "教APP备" + home + int_text(serial, 5) + "号"


def _kinds(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """(category, stages, users, one array per feature code, fees, ads, games); the planted
    apps get their own."""
    category = choose(rng, schema.CATEGORIES, n, p=(0.22, 0.15, 0.38, 0.12, 0.13))
    stages = choose(rng, _STAGE_SETS, n, p=_STAGE_P)
    users = np.empty(n, dtype=object)
    for cat, (opts, p) in _USERS_BY_CATEGORY.items():
        m = category == cat
        users[m] = choose(rng, opts, int(m.sum()), p=p)
    learning = category == "learning"
    feats = [
        np.where(rng.random(n) < np.where(learning | (category == "home_school"), 0.3, 0.12),
                 "ugc", ""),
        np.where(learning & (rng.random(n) < 0.18), "training", ""),
        np.where((category == "management") & (rng.random(n) < 0.2), "admissions_exams", ""),
        np.where(rng.random(n) < 0.3, "payments", ""),
        np.where(rng.random(n) < 0.07, "face_data", ""),
    ]
    fees = (feats[3] == "payments") & (rng.random(n) < 0.85)
    ads = rng.random(n) < 0.10
    games = learning & (rng.random(n) < 0.12)
    for i, a in enumerate(PLANTED_APPS):
        category[i], stages[i], users[i] = a.category, a.stages, a.users
        for j, code in enumerate(schema.FEATURES):
            feats[j][i] = code if code in a.features.split(";") else ""
        fees[i], ads[i], games[i] = a.fees, a.ads, a.games
    return category, stages, users, feats, fees, ads, games


def _minors_limits(rng: np.random.Generator, minors: np.ndarray, stages: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(age range, daily limit in minutes) of minors' apps, a few missing; planted cases."""
    n = len(minors)
    lo = np.select([np.char.find(stages.astype(str), k) >= 0 for k in
                    ("preschool", "primary", "junior", "senior")], [3, 6, 12, 15], 18)
    hi = np.select([np.char.find(stages.astype(str), k) >= 0 for k in
                    ("senior", "junior", "primary", "preschool")], [18, 15, 12, 6], 22)
    age_range = np.where(minors & (rng.random(n) > 0.02),
                         int_text(lo) + "-" + int_text(hi), "").astype(object)
    limit = np.where(minors & (rng.random(n) > 0.03),
                     rng.choice(np.array([30, 40, 45, 60, 90, 120]), n), 0)
    limit = np.where(~minors & (rng.random(n) < 0.1), 120, limit)
    age_range[APP_INDEX["minors_no_age"]] = ""
    limit[APP_INDEX["minors_no_age"]] = 40
    limit[APP_INDEX["minors_no_limit"]] = 0
    age_range[APP_INDEX["minors_no_limit"]] = "6-12"
    return age_range, limit


def _app_names(rng: np.random.Generator, home_idx: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Names unique within (home unit, category); the planted apps keep theirs."""
    n_pa = len(PLANTED_APPS)
    planted = np.zeros(len(home_idx), dtype=bool)
    planted[:n_pa] = True
    names = np.empty(len(home_idx), dtype=object)
    for cat in schema.CATEGORIES:
        cores = N.APP_CORE[cat]
        combos = len(N.APP_PREFIX) * len(cores) * len(N.APP_SUFFIX)
        for pi in range(NCODE):
            rows = np.flatnonzero((home_idx == pi) & (category == cat) & ~planted)
            if len(rows) == 0:
                continue
            pick = rng.choice(combos, size=min(len(rows), combos),
                              replace=len(rows) > combos)
            a_, rest = np.divmod(pick, len(cores) * len(N.APP_SUFFIX))
            c_, s_ = np.divmod(rest, len(N.APP_SUFFIX))
            names[rows] = objects(N.APP_PREFIX)[a_] + objects(cores)[c_] + objects(N.APP_SUFFIX)[s_]
    names[:n_pa] = [a.name for a in PLANTED_APPS]
    return names


def _descriptions(rng: np.random.Generator, names: np.ndarray, category: np.ndarray,
                  stages: np.ndarray, users: np.ndarray, feats: list[np.ndarray]) -> np.ndarray:
    """Who it is for, three function phrases, feature sentences, a closing; planted texts."""
    n = len(names)
    stage_zh = stages.copy()
    for code, zh in N.STAGE_ZH.items():
        stage_zh = np.char.replace(stage_zh.astype(str), code, zh).astype(object)
    stage_zh = np.char.replace(stage_zh.astype(str), ";", "、").astype(object)
    users_zh = users.copy()
    for code, zh in N.USER_ZH.items():
        users_zh = np.char.replace(users_zh.astype(str), code, zh).astype(object)
    users_zh = np.char.replace(users_zh.astype(str), ";", "和").astype(object)
    funcs = np.empty(n, dtype=object)
    for cat in schema.CATEGORIES:
        m = np.flatnonzero(category == cat)
        pool = objects(N.FUNCTIONS[cat])
        keys = rng.random((len(m), len(pool)))
        top = np.argsort(keys, axis=1)[:, :3]
        funcs[m] = pool[top[:, 0]] + "，" + pool[top[:, 1]] + "，" + pool[top[:, 2]] + "。"
    cat_zh = np.array([N.CATEGORY_ZH[c] for c in category], dtype=object)
    feature_text = np.full(n, "", dtype=object)
    for j, code in enumerate(schema.FEATURES):
        feature_text = np.where(feats[j] == code, feature_text + N.FEATURE_SENTENCE[code],
                                feature_text)
    description = (names + "是一款面向" + stage_zh + users_zh + "的" + cat_zh + "应用。" + funcs
                   + feature_text + choose(rng, N.CLOSINGS, n))
    for key, text in HOSTILE_DESCRIPTION.items():
        description[APP_INDEX[key]] = text
    description[APP_INDEX["overlap_a"]] = "智汇作业本" + OVERLAP_DESCRIPTION
    description[APP_INDEX["overlap_b"]] = (
        "学而作业本" + OVERLAP_DESCRIPTION.replace("同步练习", "同步习题").replace(
            "自动归入", "自动整理到"))
    return description


def app_table(apps: Apps, dates: dict[str, np.ndarray]) -> pd.DataFrame:
    """The ``apps`` table in ``app_id`` order; ``dates``: ``filed_on``, ``info_updated_on`` and
    ``last_release_on`` by app (:class:`~evalkit.synth.submissions.Submissions`)."""
    a = apps.columns
    limit = a["daily_limit_min"]
    table = pd.DataFrame({
        **{k: a[k] for k in ("app_id", "provider_id", "name", "version", "category", "stages",
                             "primary_users", "minors_primary", "features", "charges_fees",
                             "has_ads", "has_games", "age_range")},
        "daily_limit_min": pd.array(np.where(limit > 0, limit, None), dtype="Int64"),
        "filed_on": dates["filed_on"], "info_updated_on": dates["info_updated_on"],
        "last_release_on": dates["last_release_on"], "description": a["description"],
    })
    order = np.lexsort((apps.id.astype(str),))
    return table.iloc[order].reset_index(drop=True)
