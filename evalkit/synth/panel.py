"""Experts and panel scores: a pool of experts per unit, raters per candidate, declared
conflicts (most recused, some breached), 0–10 scores per panel criterion in a first round and,
in some units, a second Delphi round.

:func:`draw_panel` draws from the ``panel`` stream it is given, in this order: the experts'
traits, raters (per-app panels), conflicts, first-round scores, scoring days, second-round
scores, expert names.  The AHP judgments continue the same stream
(:func:`evalkit.synth.ahp.draw_ahp`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.data import schema
from evalkit.synth.apps import Apps
from evalkit.synth.catalogue import CODE_INDEX, CODES, NCODE, PANEL, PANEL_LEVEL
from evalkit.synth.draws import choose, days, int_text, objects, person_names
from evalkit.synth.planted import APP_INDEX, PLANTED_PROVIDERS, PROVIDER_INDEX
from evalkit.synth.providers import Providers
from evalkit.synth.submissions import Submissions
from evalkit.synth.world import World

__all__ = ["Experts", "Panel", "draw_panel"]

#: Index of the gaming provider, whose apps the planted conflicted expert scores high.
_GAMING = PROVIDER_INDEX["gaming"]


@dataclass(frozen=True)
class Experts:
    """The experts of every unit's pool, as arrays by expert (units in code order).

    Attributes
    ----------
    id, prov : numpy.ndarray
        ``E<unit><serial>`` and the unit's index.
    start, pool : numpy.ndarray
        By unit: the first expert's index and the pool's size (0 for a unit without candidates).
    role : numpy.ndarray
        Role (:data:`evalkit.data.schema.ROLES`).
    lenient, noise, halves, outlier : numpy.ndarray
        How each one scores: offset, spread, whether in half points, at random (an outlier).
    gaming, gaming_unit : int
        The planted expert with a breached conflict with the gaming provider, and its unit.
    """

    id: np.ndarray
    prov: np.ndarray
    start: np.ndarray
    pool: np.ndarray
    role: np.ndarray
    lenient: np.ndarray
    noise: np.ndarray
    halves: np.ndarray
    outlier: np.ndarray
    gaming: int
    gaming_unit: int


@dataclass(frozen=True)
class Conflicts:
    """Declared conflicts (expert, provider), unique and sorted by ``key``."""

    expert: np.ndarray
    provider: np.ndarray
    key: np.ndarray  # expert * number of providers + provider
    breached: np.ndarray  # scored the provider's apps anyway


@dataclass(frozen=True)
class Panel:
    """What :func:`draw_panel` made: the experts and the ``panel_scores`` and ``experts`` tables."""

    experts: Experts
    scores: pd.DataFrame
    expert_table: pd.DataFrame


@dataclass(frozen=True)
class _Rows:
    """One row per (rater, candidate, criterion) of the first round."""

    rater: np.ndarray
    cand: np.ndarray
    crit: np.ndarray  # index into PANEL
    app: np.ndarray
    inflate: np.ndarray


def draw_panel(world: World, rng: np.random.Generator, providers: Providers, apps: Apps,
               submissions: Submissions) -> Panel:
    """Draw the experts and every panel score of ``world`` from ``rng`` (the ``panel`` stream)."""
    experts = _expert_pool(world, rng, submissions)
    pairs_c, rater = _rater_pairs(world, rng, submissions, experts)
    provider_of_pair = apps.owner[submissions.app[pairs_c]]
    n_prov = len(providers.uscc)
    conflicts = _declared_conflicts(rng, n_prov, experts, rater, provider_of_pair)
    recused, inflate = _recusals(conflicts, n_prov, experts, rater, provider_of_pair)
    pairs_c, rater, inflate = pairs_c[~recused], rater[~recused], inflate[~recused]
    rows = _score_rows(apps, submissions, pairs_c, rater, inflate)
    score1, scored1 = _round_one(world, rng, apps, submissions, experts, rows)
    scores = _with_round_two(world, rng, submissions, experts, rows, score1, scored1)
    table = _score_table(apps, submissions, experts, rows, *scores)
    return Panel(experts, table, _expert_table(rng, experts, providers, conflicts))


def _expert_pool(world: World, rng: np.random.Generator, submissions: Submissions) -> Experts:
    """The pool of every unit with candidates: a panel (sample, province) or a larger pool
    (national, per-app panels); one outlier rater in a few units; the gaming expert."""
    size = world.size
    gaming_prov = world.province if world.scale == "province" else PLANTED_PROVIDERS[_GAMING].province
    provinces = np.unique(submissions.prov)
    cand_per_prov = np.bincount(submissions.prov, minlength=NCODE)
    if size.per_app_panel:
        pool = np.where(cand_per_prov > 0,
                        np.maximum(size.panel + 5, np.ceil(cand_per_prov * size.panel / 110)),
                        0).astype(np.int64)
    else:
        pool = np.where(cand_per_prov > 0, size.panel, 0).astype(np.int64)
    e_prov = np.repeat(np.arange(NCODE), pool)
    n_e = len(e_prov)
    e_start = np.concatenate([[0], np.cumsum(pool)[:-1]])
    e_serial = np.arange(n_e) - e_start[e_prov] + 1
    e_id = "E" + objects(list(CODES))[e_prov] + int_text(e_serial, 3)
    lenient = rng.normal(0, 0.6, n_e)
    noise = np.where(rng.random(n_e) < 0.08, 1.8, rng.uniform(0.45, 0.8, n_e))
    halves = rng.random(n_e) < 0.15
    outlier = np.zeros(n_e, dtype=bool)
    # one outlier rater in a few provinces (in the sample: 5 of them)
    n_out = 5 if world.scale == "sample" else max(1, len(provinces) // 4)
    out_provs = rng.choice(provinces, size=min(n_out, len(provinces)), replace=False)
    outlier[e_start[out_provs] + pool[out_provs] - 1] = True
    gp = CODE_INDEX[gaming_prov]
    gaming_expert = e_start[gp]  # E{gp}001
    outlier[gaming_expert] = False
    noise[gaming_expert] = 0.6
    role = choose(rng, schema.ROLES, n_e, p=(0.15, 0.3, 0.25, 0.15, 0.1, 0.05))
    return Experts(e_id, e_prov, e_start, pool, role, lenient, noise, halves, outlier, gaming_expert, gp)


def _rater_pairs(world: World, rng: np.random.Generator, submissions: Submissions,
                 experts: Experts) -> tuple[np.ndarray, np.ndarray]:
    """(candidate, rater) pairs: the whole panel of the unit, or ``size.panel`` of its pool
    per candidate (the gaming expert always among those of the gaming apps)."""
    cand_app, cand_prov = submissions.app, submissions.prov
    n_c = len(cand_app)
    pool, e_start = experts.pool, experts.start
    if not world.size.per_app_panel:
        pairs_c = np.repeat(np.arange(n_c), pool[cand_prov])
        offsets = np.arange(len(pairs_c)) - np.repeat(
            np.concatenate([[0], np.cumsum(pool[cand_prov])[:-1]]), pool[cand_prov])
        return pairs_c, e_start[cand_prov[pairs_c]] + offsets
    k = world.size.panel
    gp = experts.gaming_unit
    pairs_c = np.repeat(np.arange(n_c), k)
    rater = np.empty(n_c * k, dtype=np.int64)
    gaming_apps = np.isin(cand_app, [APP_INDEX["gaming_1"], APP_INDEX["gaming_2"]])
    for pi in np.unique(cand_prov):  # loop over provinces: draw k of the pool per candidate
        rows = np.flatnonzero(cand_prov == pi)
        keys = rng.random((len(rows), pool[pi]))
        if pi == gp:
            keys[gaming_apps[rows], 0] = -1.0
        chosen = np.argsort(keys, axis=1)[:, :k] + e_start[pi]
        rater[(rows[:, None] * k + np.arange(k)).ravel()] = chosen.ravel()
    return pairs_c, rater


def _declared_conflicts(rng: np.random.Generator, n_prov: int, experts: Experts, rater: np.ndarray,
                        provider_of_pair: np.ndarray) -> Conflicts:
    """For ~15% of experts one (sometimes two) providers they would rate, a quarter of them
    breached; the gaming expert's breached conflict; no other planted provider."""
    gaming_expert = experts.gaming
    perm = rng.permutation(len(rater))
    conflict_e, conflict_p = [], []
    for _round in range(2):
        _, first = np.unique(rater[perm], return_index=True)
        pick = perm[first]
        keep = rng.random(len(pick)) < (0.15 if _round == 0 else 0.05)
        conflict_e.append(rater[pick][keep])
        conflict_p.append(provider_of_pair[pick][keep])
        perm = rng.permutation(len(rater))
    c_e = np.concatenate(conflict_e + [[gaming_expert]]).astype(np.int64)
    c_p = np.concatenate(conflict_p + [[_GAMING]]).astype(np.int64)
    # no planted provider in random conflicts (their cases stay clean) except the gaming one
    ok = (c_p >= len(PLANTED_PROVIDERS)) | ((c_e == gaming_expert) & (c_p == _GAMING))
    c_e, c_p = c_e[ok], c_p[ok]
    c_key = np.unique(c_e * n_prov + c_p)
    c_e, c_p = c_key // n_prov, c_key % n_prov
    breached = rng.random(len(c_key)) < 0.25
    breached[(c_e == gaming_expert) & (c_p == _GAMING)] = True
    return Conflicts(c_e, c_p, c_key, breached)


def _recusals(conflicts: Conflicts, n_prov: int, experts: Experts, rater: np.ndarray,
              provider_of_pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pairs recused, score inflation of each pair): a declared conflict is recused unless
    breached; a breached one inflates the scores (the gaming expert's by 3.5)."""
    c_key, breached = conflicts.key, conflicts.breached
    pair_key = rater * n_prov + provider_of_pair
    pos = np.searchsorted(c_key, pair_key)
    pos = np.minimum(pos, max(len(c_key) - 1, 0))
    conflicted = (c_key[pos] == pair_key) if len(c_key) else np.zeros(len(pair_key), bool)
    recused = conflicted & ~breached[pos]
    inflate = np.where(conflicted & breached[pos], 1.2, 0.0)
    inflate = np.where(conflicted & (rater == experts.gaming)
                       & (provider_of_pair == _GAMING), 3.5, inflate)
    return recused, inflate


def _score_rows(apps: Apps, submissions: Submissions, pairs_c: np.ndarray, rater: np.ndarray,
                inflate: np.ndarray) -> _Rows:
    """The pairs expanded to panel criteria (C05 only for minors' apps)."""
    n_k = len(PANEL)
    app_of_pair = submissions.app[pairs_c]
    mask = np.ones((len(pairs_c), n_k), dtype=bool)
    mask[:, PANEL.index("C05_age_appropriateness")] = apps.minors[app_of_pair]
    row_pair = np.repeat(np.arange(len(pairs_c)), n_k)[mask.ravel()]
    row_crit = np.tile(np.arange(n_k), len(pairs_c))[mask.ravel()]
    return _Rows(rater[row_pair], pairs_c[row_pair], row_crit, app_of_pair[row_pair], inflate[row_pair])


def _round_one(world: World, rng: np.random.Generator, apps: Apps, submissions: Submissions,
               experts: Experts, rows: _Rows) -> tuple[np.ndarray, np.ndarray]:
    """(score, day) of every row: level + spread · (app quality per criterion) + the rater's
    offset and noise + inflation; outliers at random; whole or half points in 0–10."""
    n_k = len(PANEL)
    q_ac = (apps.quality[:, None] + 0.55 * rng.normal(0, 1, (len(apps.id), n_k))).astype(np.float32)
    e, row_crit = rows.rater, rows.crit
    base = np.array([PANEL_LEVEL.get(c, (7.0, 1.25))[0] for c in PANEL])
    slope = np.array([PANEL_LEVEL.get(c, (7.0, 1.25))[1] for c in PANEL])
    raw = (base[row_crit] + slope[row_crit] * q_ac[rows.app, row_crit] + experts.lenient[e]
           + experts.noise[e] * rng.normal(0, 1, len(e)).astype(np.float32) + rows.inflate)
    raw = np.where(experts.outlier[e], rng.uniform(1.0, 10.0, len(e)), raw)
    score1 = np.clip(np.where(experts.halves[e], np.round(raw * 2) / 2, np.round(raw)), 0, 10) + 0.0
    day_off = rng.integers(0, 3, len(experts.id))
    batch_day = np.where(submissions.latest[rows.cand], world.latest.panel_on, world.previous.panel_on)
    return score1, batch_day + days(day_off[e])


def _with_round_two(world: World, rng: np.random.Generator, submissions: Submissions, experts: Experts,
                    rows: _Rows, score1: np.ndarray, scored1: np.ndarray) -> tuple[np.ndarray, ...]:
    """(round, row of round one, score, day) of every score: round one, then round two of the
    latest batch in the Delphi units, each score moved towards the round-one panel mean of its
    (candidate, criterion); the gaming expert does not budge."""
    n_k = len(PANEL)
    e, cand = rows.rater, rows.cand
    delphi = (world.province,) if world.size.delphi == ("*",) else world.size.delphi
    delphi_prov = np.isin(submissions.prov[cand], [CODE_INDEX[c] for c in delphi])
    second = delphi_prov & submissions.latest[cand]
    group = cand * n_k + rows.crit
    n_cells = len(submissions.app) * n_k
    sums = np.bincount(group, weights=score1, minlength=n_cells)
    cnts = np.bincount(group, minlength=n_cells)
    mean1 = sums[group] / np.maximum(cnts[group], 1)
    raw2 = score1 + 0.6 * (mean1 - score1) + 0.3 * rng.normal(0, 1, len(e))
    raw2 = np.where(rows.inflate > 3, score1, raw2)  # the gaming expert does not budge
    score2 = np.clip(np.where(experts.halves[e], np.round(raw2 * 2) / 2, np.round(raw2)), 0, 10) + 0.0
    idx2 = np.flatnonzero(second)
    rnd = np.concatenate([np.ones(len(e), np.int8), np.full(len(idx2), 2, np.int8)])
    sel = np.concatenate([np.arange(len(e)), idx2])
    scores = np.concatenate([score1, score2[idx2]])
    scored = np.concatenate([scored1, scored1[idx2] + np.timedelta64(21, "D")])
    return rnd, sel, scores, scored


def _score_table(apps: Apps, submissions: Submissions, experts: Experts, rows: _Rows,
                 rnd: np.ndarray, sel: np.ndarray, scores: np.ndarray, scored: np.ndarray) -> pd.DataFrame:
    """The ``panel_scores`` table (id columns categorical), sorted by unit, round, app, expert
    and criterion."""
    crit_sorted = sorted(PANEL)
    crit_rank = np.array([crit_sorted.index(c) for c in PANEL])
    prov_of = submissions.prov[rows.cand][sel]
    app_of = rows.app[sel]
    e_of = rows.rater[sel]
    crit_of = crit_rank[rows.crit][sel]
    rank_of = apps.rank[app_of]
    order = np.lexsort((crit_of, e_of, rank_of, rnd, prov_of))
    return pd.DataFrame({
        "province_code": pd.Categorical.from_codes(prov_of[order], list(CODES)),
        "round": rnd[order],
        "app_id": pd.Categorical.from_codes(rank_of[order], np.sort(apps.id.astype(str))),
        "expert_id": pd.Categorical.from_codes(e_of[order], experts.id.astype(str)),
        "criterion_id": pd.Categorical.from_codes(crit_of[order], crit_sorted),
        "score": scores[order].astype(np.float64),
        "scored_on": scored[order],
    })


def _expert_table(rng: np.random.Generator, experts: Experts, providers: Providers,
                  conflicts: Conflicts) -> pd.DataFrame:
    """The ``experts`` table (conflicts as ``;``-lists of provider ids); names drawn here."""
    n_e = len(experts.id)
    listed = np.full(n_e, "", dtype=object)
    if len(conflicts.key):
        frame = pd.DataFrame({"e": conflicts.expert, "p": providers.uscc[conflicts.provider].astype(str)})
        joined = frame.sort_values(["e", "p"]).groupby("e")["p"].agg(";".join)
        listed[joined.index.to_numpy()] = joined.to_numpy()
    return pd.DataFrame({
        "expert_id": experts.id, "name": person_names(rng, n_e), "role": experts.role,
        "province_code": objects(list(CODES))[experts.prov], "conflicts": listed,
    })
