"""Providers: home units, unified social credit codes, firm names, ICP filing numbers, MLPS
(graded protection) filings and, once the apps are known, telecom licences.

:func:`draw_providers` draws from the ``providers`` stream, in this order: home units,
organisation codes, names, legal representatives, ICP numbers, MLPS filings, latent quality
and size.  :func:`provider_table` draws the licences from the ``licences`` stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.data import identifiers
from evalkit.synth import names as N
from evalkit.synth.catalogue import CODE_INDEX, CODES, NCODE
from evalkit.synth.draws import days, int_text, objects, person_names
from evalkit.synth.planted import PLANTED_PROVIDERS, PROVIDER_INDEX, spoil_check
from evalkit.synth.world import World

__all__ = ["Providers", "draw_providers", "provider_table"]


@dataclass(frozen=True)
class Providers:
    """Every provider drawn (the planted ones first), as arrays by provider.

    Attributes
    ----------
    code, index : numpy.ndarray
        Home unit: its code and its index in :data:`~evalkit.synth.catalogue.CODES`.
    uscc : numpy.ndarray
        Unified social credit code (``provider_id``).
    icp_chars : numpy.ndarray
        The unit's character of its ICP number (also the prefix of a regional licence).
    quality, size : numpy.ndarray
        Latent quality (apps, complaints, violations) and size (how many apps).
    columns : dict
        The ``providers`` columns drawn here (the licence is added by :func:`provider_table`).
    """

    code: np.ndarray
    index: np.ndarray
    uscc: np.ndarray
    icp_chars: np.ndarray
    quality: np.ndarray
    size: np.ndarray
    columns: dict[str, np.ndarray]


def draw_providers(world: World) -> Providers:
    """Draw every provider of ``world`` (``providers`` stream)."""
    rng = world.rng("providers")
    n_planted = len(PLANTED_PROVIDERS)
    prov_idx = _home_units(world, rng)
    n = len(prov_idx)
    code = objects(list(CODES))[prov_idx]
    org8 = np.concatenate([[p.org8 for p in PLANTED_PROVIDERS], _org_codes(rng, n - n_planted)])
    division = np.array([identifiers.PROVINCES[c].capital_division for c in code])
    uscc = identifiers.make_uscc_array("9", "1", division, org8).astype(object)
    fj = PROVIDER_INDEX["fujian_pilot"]
    uscc[fj] = spoil_check(uscc[fj])
    names = _firm_names(rng, prov_idx)
    legal_rep = person_names(rng, n)
    legal_rep[PROVIDER_INDEX["hostile"]] = '"quoted, comma"'
    icp, chars = _icp_numbers(rng, code)
    mlps = _mlps_filings(world, rng, division)
    quality = rng.normal(0, 1, n)
    quality[:n_planted] = 1.0
    size = rng.lognormal(0, 1.0, n)
    size[:n_planted] = 0.0  # planted providers get only their planted apps
    columns = dict(  # noqa: C408
        provider_id=uscc, name=names, province_code=code, legal_rep=legal_rep, icp_number=icp,
        **mlps,
    )
    return Providers(code, prov_idx, uscc, chars, quality, size, columns)


def _home_units(world: World, rng: np.random.Generator) -> np.ndarray:
    """Home unit index of every provider, the planted ones first."""
    n_rand = world.size.providers - len(PLANTED_PROVIDERS)
    weights = np.array([N.PROVINCE_WEIGHTS[c] for c in CODES])
    if world.scale == "sample":  # flatter: every unit needs its 20 candidates
        weights = np.sqrt(weights)
    if world.scale == "province":
        home = rng.random(n_rand) < 0.7
        other = rng.choice(NCODE, n_rand, p=weights / weights.sum())
        prov_idx = np.where(home, CODE_INDEX[world.province], other)
    else:
        floor = 3 if world.scale == "sample" else min(20, n_rand // (2 * NCODE))
        counts = floor + rng.multinomial(n_rand - floor * NCODE, weights / weights.sum())
        prov_idx = np.repeat(np.arange(NCODE), counts)
    return np.concatenate([[CODE_INDEX[p.province] for p in PLANTED_PROVIDERS],
                           prov_idx]).astype(np.int64)


def _org_codes(rng: np.random.Generator, n_rand: int) -> np.ndarray:
    """Organisation-code bodies of the random providers: unique, new style ``MA`` + 6 or old
    style 8 digits."""
    letters = np.array(list(identifiers.USCC_CHARSET))
    body = np.empty(n_rand, dtype=object)
    todo = np.ones(n_rand, dtype=bool)
    for _ in range(50):  # redraw the (rare) duplicates: a loop over retries, not rows
        k = int(todo.sum())
        tail = letters[rng.integers(0, 31, (k, 6))]
        tail[:, 0] = letters[rng.integers(0, 9, k)]  # never "MA9…" (planted codes)
        new_style = np.char.add("MA", np.ascontiguousarray(tail).view("<U6").ravel())
        old_style = np.char.zfill(rng.integers(10**6, 10**8, k).astype(str), 8)
        body[todo] = np.where(rng.random(k) < 0.7, new_style, old_style).astype(object)
        _, first = np.unique(body.astype(str), return_index=True)
        todo = np.ones(n_rand, dtype=bool)
        todo[first] = False
        if not todo.any():
            break
    return body.astype(str)


def _firm_names(rng: np.random.Generator, prov_idx: np.ndarray) -> np.ndarray:
    """Names: city + A + B + kind + 有限公司, unique within a province."""
    n_planted = len(PLANTED_PROVIDERS)
    names = np.empty(len(prov_idx), dtype=object)
    combos = len(N.FIRM_A) * len(N.FIRM_B) * len(N.FIRM_KIND)
    kind_p = np.tile(np.repeat(np.asarray(N.FIRM_KIND_P), 1), len(N.FIRM_A) * len(N.FIRM_B))
    kind_p = kind_p / kind_p.sum()
    planted_names = {p.name for p in PLANTED_PROVIDERS}
    for i, c in enumerate(CODES):
        rows = np.flatnonzero(prov_idx[n_planted:] == i) + n_planted
        if len(rows) == 0:
            continue
        pick = rng.choice(combos, size=min(len(rows) + 4, combos), replace=False, p=kind_p)
        a, rest = np.divmod(pick, len(N.FIRM_B) * len(N.FIRM_KIND))
        b, k = np.divmod(rest, len(N.FIRM_KIND))
        cand = (N.CITY[c] + objects(N.FIRM_A)[a] + objects(N.FIRM_B)[b] + objects(N.FIRM_KIND)[k]
                + "有限公司")
        cand = cand[~np.isin(cand.astype(str), list(planted_names))][: len(rows)]
        names[rows] = cand
    names[:n_planted] = [p.name for p in PLANTED_PROVIDERS]
    return names


def _icp_numbers(rng: np.random.Generator, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ICP filing numbers in every form, the unit character each uses)."""
    n_planted = len(PLANTED_PROVIDERS)
    n = len(code)
    chars = np.array([identifiers.PROVINCES[c].icp_chars[0] for c in code], dtype=object)
    alt = np.array([identifiers.PROVINCES[c].icp_chars[-1] for c in code], dtype=object)
    chars = np.where(rng.random(n) < 0.2, alt, chars)
    newer = rng.random(n) < 0.6
    digits = np.where(
        newer,
        int_text(2015 + rng.integers(0, 11, n)) + int_text(rng.integers(0, 10**6, n), 6),
        int_text(rng.integers(10**6, 10**8, n), 8),
    )
    form = rng.choice(4, n, p=[0.55, 0.25, 0.15, 0.05])
    site = int_text(rng.integers(1, 6, n))
    suffix = np.select([form == 1, form == 2], ["号-" + site, "号-" + site + "A"], "号")
    icp = np.where(form == 3, chars + "ICP备" + digits + "-" + site + "号",
                   chars + "ICP备" + digits + suffix.astype(object))
    icp[: n_planted] = chars[:n_planted] + "ICP备" + digits[:n_planted] + "号"
    icp[PROVIDER_INDEX["legacy_icp"]] = "滇ICP备09010050-5号"
    icp[PROVIDER_INDEX["mandated"]] = chars[PROVIDER_INDEX["mandated"]] + "ICP备" + digits[
        PROVIDER_INDEX["mandated"]] + "号-2A"
    return icp, chars


def _mlps_filings(world: World, rng: np.random.Generator, division: np.ndarray) -> dict[str, np.ndarray]:
    """MLPS level, filing number and evaluation day: mostly level 2–3, level-3 evaluations yearly."""
    n_planted = len(PLANTED_PROVIDERS)
    n = len(division)
    level = rng.choice(np.array([1, 2, 3, 4, 0]), n, p=[0.015, 0.46, 0.51, 0.01, 0.005])
    level[:n_planted] = 3
    age = np.where(level >= 3, rng.integers(10, 330, n), rng.integers(30, 700, n))
    expired = rng.random(n) < 0.025
    age = np.where(expired & (level >= 3), rng.integers(380, 700, n), age)
    age = np.where(expired & (level < 3), rng.integers(760, 1100, n), age)
    age[:n_planted] = 100 + np.arange(n_planted)
    age[PROVIDER_INDEX["mlps_expired"]] = 520
    evaluated = world.as_of - days(age)
    filing_no = (division.astype(object) + int_text(rng.integers(0, 10**5, n), 5) + "-"
                 + int_text(rng.integers(19, 26, n)) + int_text(rng.integers(0, 1000, n), 3))
    return {"mlps_level": level, "mlps_filing_no": filing_no, "mlps_evaluated_on": evaluated}


def provider_table(world: World, providers: Providers, owner: np.ndarray, charging: np.ndarray) -> pd.DataFrame:
    """The ``providers`` table: the providers owning an app (``owner``: each app's provider),
    with telecom licences drawn from the ``licences`` stream (most providers of apps that
    ``charging`` flags hold one), sorted by ``provider_id``."""
    rng = world.rng("licences")
    n_prov = len(providers.uscc)
    charges = np.zeros(n_prov, dtype=bool)
    charges[owner[charging]] = True
    has = np.where(charges, rng.random(n_prov) < 0.95, rng.random(n_prov) < 0.15)
    for key in ("mandated", "fraud", "repeat", "overlap_a", "overlap_b"):
        has[PROVIDER_INDEX[key]] = True
    nationwide = rng.random(n_prov) < 0.35
    kind = np.where(rng.random(n_prov) < 0.9, "B2-", "B1-").astype(object)
    number = int_text(2015 + rng.integers(0, 11, n_prov)) + int_text(
        rng.integers(1, 10**4, n_prov), 4)
    licence = np.where(nationwide, kind + number, providers.icp_chars + kind + number)
    licence = np.where(has, licence, "").astype(object)
    p = providers.columns
    level = p["mlps_level"]
    table = pd.DataFrame({
        "provider_id": p["provider_id"], "name": p["name"],
        "province_code": p["province_code"], "legal_rep": p["legal_rep"],
        "icp_number": p["icp_number"], "telecom_licence": licence,
        "mlps_level": pd.array(np.where(level > 0, level, None), dtype="Int64"),
        "mlps_filing_no": np.where(level > 0, p["mlps_filing_no"], "").astype(object),
        "mlps_evaluated_on": np.where(level > 0, p["mlps_evaluated_on"], np.datetime64("NaT")),
    })
    used = np.zeros(n_prov, dtype=bool)
    used[owner] = True  # province scale: only providers of candidates
    return table[used].sort_values("provider_id").reset_index(drop=True)
