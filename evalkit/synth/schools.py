"""Schools and their selections (issue 18): a few dozen schools per province at the sample
scale (about 200,000 and 2,000,000 selections at the national one), and the planted schools of
docs/generator.md whose selections break one school rule each.

:func:`draw_schools` draws from the ``schools`` stream; it is vectorised (no loop over schools
or selections).  County codes are GB/T 2260-shaped (``<province><prefecture><county>``, never
ending in ``00``; the XPCC's ``6590nn``); school ids are ``3`` + the county code + a 3-digit
serial (a made-up structure: the real one is unverified); the planted schools use serials 9nn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.synth import names as N
from evalkit.synth.apps import Apps
from evalkit.synth.catalogue import CODES
from evalkit.synth.draws import choose, days, int_text, objects
from evalkit.synth.planted import APP_INDEX, PLANTED_APPS
from evalkit.synth.world import World

__all__ = ["PLANTED_SCHOOLS", "SchoolTables", "draw_schools", "planted_county", "planted_province", "planted_school",
           "school_cases"]

#: The stages a school teaches and how often (kindergartens, primary, junior, nine-year,
#: senior, complete secondary, vocational).
_SCHOOL_STAGES = ("preschool", "primary", "junior", "primary;junior", "senior", "junior;senior", "vocational")
_STAGE_P = (0.10, 0.38, 0.17, 0.10, 0.09, 0.10, 0.06)
_SUFFIX = {"preschool": "幼儿园", "primary": "小学", "junior": "初级中学", "primary;junior": "九年一贯制学校",
           "senior": "高级中学", "junior;senior": "中学", "vocational": "职业学校"}
_BODIES = ("school_meeting", "principal_office", "party_committee", "education_department", "none")
_BODY_P = (0.50, 0.20, 0.16, 0.12, 0.02)
_UNITS = ("信息中心", "教务处", "德育处", "办公室")
#: The planted schools (serial → the rule its one selection breaks, see docs/generator.md).
PLANTED_SCHOOLS: dict[int, str] = {
    901: "blacklisted_unified", 902: "over_cap", 903: "unified_charges", 904: "no_decision",
    905: "no_dual_review", 906: "exclusive_score_app", 907: "never_reported", 908: "unfiled_app",
    909: "stale_filing", 910: "no_responsible_unit", 911: "self_developed", 920: "clean", 921: "clean",
}


#: What a correct evaluation finds for each planted school (docs/generator.md).
_EXPECT = {
    "blacklisted_unified": "alerts provider_black and app_excluded (the fraud provider's app, unified use)",
    "over_cap": "over_cap:total (16 apps in use, cap 15)", "unified_charges": "unified:charges",
    "no_decision": "no_decision", "no_dual_review": "no_dual_review", "exclusive_score_app": "exclusive_agreement",
    "never_reported": "not_reported", "unfiled_app": "not_filed (and a load warning)",
    "stale_filing": "filing_outdated", "no_responsible_unit": "no_responsible_unit",
    "self_developed": "nothing: its own app", "clean": "nothing (its county is fully compliant)",
}


def school_cases(scale: str, province: str) -> pd.DataFrame:
    """The planted schools as rows of :func:`evalkit.synth.generate.planted_cases`."""
    p = province if scale == "province" else "11"
    rows = [(case, "selections", planted_school(p, serial), _EXPECT[case]) for serial, case in PLANTED_SCHOOLS.items()]
    return pd.DataFrame(rows, columns=["case", "table", "id", "expect"])


def planted_province(world: World) -> str:
    """The province of the planted schools: Beijing, or the province of the province scale."""
    return world.province if world.scale == "province" else "11"


def planted_county(province: str, clean: bool = False) -> str:
    """The county of the planted schools (the clean ones have their own county)."""
    return _county_code(province, 2 if clean else 1)


def planted_school(province: str, serial: int) -> str:
    """The school_id of a planted school."""
    return f"3{planted_county(province, serial >= 920)}{serial}"


def _county_code(code: str, k: int | np.ndarray) -> str | np.ndarray:
    """The k-th county (1-based) of a unit: ``<code><prefecture 01..><county 02,04,..>``."""
    k = np.asarray(k)
    if code == "66":
        text = np.char.add("6590", np.char.zfill((k % 99 + 1).astype(str), 2))
    else:
        pref = np.char.zfill(((k - 1) // 8 + 1).astype(str), 2)
        cty = np.char.zfill(((k - 1) % 8 * 2 + 2).astype(str), 2)
        text = np.char.add(np.char.add(code, pref), cty)
    return str(text) if text.ndim == 0 else text.astype(object)


@dataclass(frozen=True)
class SchoolTables:
    """The ``schools`` and ``selections`` tables, and the apps' ``self_developed_by``."""

    schools: pd.DataFrame
    selections: pd.DataFrame
    self_developed_by: np.ndarray  # per app ("" for most)


def draw_schools(world: World, apps: Apps, submissions: pd.DataFrame, max_apps: int = 15) -> SchoolTables:
    """The drawn and planted schools and selections (``schools`` stream), sorted by key."""
    rng = world.rng("schools")
    units = [world.province] if world.scale == "province" else list(CODES)
    n_per, k_counties = world.size.schools, world.size.counties
    unit = np.repeat(objects(units), n_per)
    n = len(unit)
    county_k = rng.integers(1, k_counties + 1, n) + 2  # counties 1 and 2 hold the planted schools
    county = np.empty(n, dtype=object)
    for code in units:  # 32 units at most
        mine = unit == code
        county[mine] = _county_code(code, county_k[mine])
    serial = np.zeros(n, dtype=np.int64)
    order = np.lexsort((np.arange(n), county))
    first = np.r_[True, county[order][1:] != county[order][:-1]]
    run = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
    serial[order] = run + 1
    stages = choose(rng, _SCHOOL_STAGES, n, _STAGE_P)
    short = objects([N.SHORT[c] for c in CODES])[np.searchsorted(objects(list(CODES)), unit)]
    name = short + "第" + int_text(serial) + pd.Series(stages).map(_SUFFIX).to_numpy(dtype=object)
    schools = pd.DataFrame({
        "school_id": "3" + county + int_text(serial, 3),
        "name": name, "province_code": unit, "county_code": county, "stages": stages,
        "kind": np.where(rng.random(n) < 0.9, "public", "private").astype(object),
    })
    selections = _drawn_selections(world, rng, schools, submissions, apps)
    p_schools, p_sel, self_dev = _planted(world, apps, submissions, max_apps)
    schools = pd.concat([schools, p_schools], ignore_index=True).sort_values("school_id", kind="stable")
    selections = pd.concat([selections, p_sel], ignore_index=True)
    selections = selections.sort_values(["school_id", "app_id", "decided_on"], kind="stable")
    selections = selections.drop_duplicates(["school_id", "app_id", "decided_on"])
    return SchoolTables(schools.reset_index(drop=True), selections.reset_index(drop=True), self_dev)


def _drawn_selections(world: World, rng: np.random.Generator, schools: pd.DataFrame,
                      submissions: pd.DataFrame, apps: Apps) -> pd.DataFrame:
    """Each school's selections: mostly its province's candidates, some any filed app."""
    count = np.clip(rng.poisson(world.size.selections, len(schools)), 1, None)
    school = np.repeat(np.arange(len(schools)), count)
    m = len(school)
    unit = schools["province_code"].to_numpy(dtype=object)[school]
    subs = submissions.sort_values(["province_code", "app_id"], kind="stable")
    codes = subs["province_code"].to_numpy(dtype=object)
    start = np.searchsorted(codes, unit, side="left")
    width = np.searchsorted(codes, unit, side="right") - start
    pick = start + np.floor(rng.random(m) * np.maximum(width, 1)).astype(np.int64)
    cand = subs["app_id"].to_numpy(dtype=object)[np.minimum(pick, len(codes) - 1)]
    anywhere = apps.id[rng.integers(len(PLANTED_APPS), len(apps.id), m)]
    app = np.where((rng.random(m) < 0.04) | (width == 0), anywhere, cand)  # mostly apps reviewed here
    decided = world.as_of - days(rng.integers(20, 900, m))
    k12 = schools["stages"].str.contains("primary|junior|senior").to_numpy(bool)[school]
    reviewed = k12 & (rng.random(m) < 0.96)
    review = decided - days(rng.integers(3, 30, m))
    r = rng.random(m)
    reported = np.where(r < 0.95, decided + days(rng.integers(1, 15, m)),
                        np.where(r < 0.975, decided + days(rng.integers(40, 90, m)), np.datetime64("NaT")))
    reported = np.where(reported > world.as_of, np.datetime64("NaT"), reported)
    withdrawn = np.where(rng.random(m) < 0.07, decided + days(rng.integers(10, 400, m)), np.datetime64("NaT"))
    withdrawn = np.where(withdrawn > world.as_of, np.datetime64("NaT"), withdrawn)
    unified = rng.random(m) < 0.2
    return pd.DataFrame({
        "school_id": schools["school_id"].to_numpy(dtype=object)[school], "app_id": app,
        "decided_on": decided, "decision_body": choose(rng, _BODIES, m, _BODY_P),
        "stakeholders_consulted": rng.random(m) < 0.95,
        "content_review_on": np.where(reviewed, review, np.datetime64("NaT")),
        "security_review_on": np.where(reviewed, review, np.datetime64("NaT")),
        "unified_use": unified, "charges_students": rng.random(m) < 0.02,
        "exclusive_agreement": rng.random(m) < 0.01, "reported_on": reported,
        "responsible_unit": np.where(rng.random(m) < 0.99, choose(rng, _UNITS, m), ""),
        "withdrawn_on": withdrawn, "tied_to_grades": unified & (rng.random(m) < 0.02),
    })


def _planted(world: World, apps: Apps, submissions: pd.DataFrame,
             max_apps: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The planted schools (each breaking one rule with one selection, or none) and the app one
    of them developed itself."""
    p = planted_province(world)
    ids = {s: planted_school(p, s) for s in PLANTED_SCHOOLS}
    schools = pd.DataFrame({
        "school_id": list(ids.values()),
        "name": [f"{N.SHORT[p]}实验学校（{s}）" for s in ids], "province_code": p,
        "county_code": [planted_county(p, s >= 920) for s in ids], "stages": "primary;junior",
        "kind": "public",
    })
    mine = submissions.loc[submissions["province_code"].eq(p), "app_id"].sort_values().to_numpy(dtype=object)
    planted_ids = set(apps.id[: len(PLANTED_APPS)])
    ordinary = [a for a in mine if a not in planted_ids]
    exams = set(apps.id[apps.features["admissions_exams"]]) - planted_ids
    score_app = next((a for a in mine if a in exams), min(exams) if exams else ordinary[0])  # a score-query app
    self_dev = np.full(len(apps.id), "", dtype=object)
    own_app = ordinary[-1]
    self_dev[np.flatnonzero(apps.id == own_app)] = ids[911]
    app = {901: apps.id[APP_INDEX["fraud"]], 903: ordinary[1], 904: ordinary[2], 905: ordinary[3],
           906: score_app, 907: ordinary[4], 908: f"教APP备{p}99999号", 909: apps.id[APP_INDEX["stale_filing"]],
           910: ordinary[5], 911: own_app, 920: ordinary[6], 921: ordinary[7]}
    spare = sorted(set(apps.id) - planted_ids - set(app.values()))
    over = list(dict.fromkeys(ordinary[8:] + spare))[: max_apps + 1]  # one more than the cap
    rows = [(s, a) for s, a in app.items()] + [(902, a) for a in over]
    frame = pd.DataFrame(rows, columns=["serial", "app_id"])
    k = len(frame)
    s = frame["serial"].to_numpy()
    decided = np.full(k, world.as_of - np.timedelta64(200, "D"))
    frame = pd.DataFrame({
        "school_id": frame["serial"].map(ids), "app_id": frame["app_id"], "decided_on": decided,
        "decision_body": np.where(s == 904, "none", "school_meeting").astype(object),
        "stakeholders_consulted": True,
        "content_review_on": decided - np.timedelta64(10, "D"),
        "security_review_on": np.where(s == 905, np.datetime64("NaT"), decided - np.timedelta64(10, "D")),
        "unified_use": np.isin(s, (901, 903)), "charges_students": s == 903,
        "exclusive_agreement": s == 906,
        "reported_on": np.where(s == 907, np.datetime64("NaT"), decided + np.timedelta64(5, "D")),
        "responsible_unit": np.where(s == 910, "", "信息中心").astype(object),
        "withdrawn_on": np.datetime64("NaT"), "tied_to_grades": False,
    })
    return schools, frame, self_dev
