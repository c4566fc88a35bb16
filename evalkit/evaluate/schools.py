"""Schools: the rules of sections (8), (10), (11), withdrawal alerts and county supervision (16).

:func:`evaluate_schools` checks one province's schools' selections against the province's
profile (``schools``: docs/schools.md), raises a withdrawal alert for every school still using
an app this cycle opted out or excluded, or whose provider this cycle turned grey or black,
re-marks the previous cycle's alerts (resolved, late or still open), and sums it all up per
school and per county.  Everything is vectorised over the selections (loops run over the
stages and the rules, never over rows).

Every finding is a code of :data:`SCHOOL_REASONS` with its words in Chinese and English
(:func:`evalkit.evaluate.reasons.reasons_text` with ``registry=SCHOOL_REASONS``).  Nothing here
is personal data: schools and units are institutions, and the responsible unit is not
published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data.schema import STAGES
from evalkit.evaluate.credit_context import add_working_days, working_days
from evalkit.evaluate.reasons import reasons_text
from evalkit.evaluate.school_prep import Prepared, prepare
from evalkit.i18n import VOCABULARIES
from evalkit.rubric import profile_value

__all__ = [
    "ALERTS", "ALERT_EXPORT", "COUNTY_EXPORT", "FINDING_EXPORT", "FINDINGS", "SCHOOL_EXPORT", "SCHOOL_REASONS",
    "SchoolResult", "evaluate_schools", "province_schools", "school_texts",
]  # fmt: skip

#: The findings of one selection or school, in the order they are listed (code → zh, en).
FINDINGS: dict[str, tuple[str, str]] = {
    "not_filed": ("应用未备案，不得使用", "the app is not filed and must not be used"),
    "filing_outdated": ("应用备案信息未在最近一次发布前更新",
                        "the app's filing was not updated before its latest release"),
    "not_listed": ("应用不在本省推荐名单内（本省只允许选用名单内应用）",
                   "the app is not on the province's recommended list (only listed apps may be selected)"),
    "provider_blacklisted": ("应用提供者已列入黑名单", "the app's provider is blacklisted"),
    "no_decision": ("选用未经任何决策程序", "chosen without any decision"),
    "unified:no_collective_decision": ("要求统一使用但未经集体决策",
                                       "required for unified use without a collective decision"),
    "unified:no_consultation": ("统一使用前未征求教师、学生和家长意见",
                                "unified use without consulting teachers, students and parents"),
    "unified:charges": ("统一使用的应用向学生和家长收费", "a unified-use app that charges students or parents"),
    "unified:ads_or_games": ("统一使用的应用含商业广告或游戏", "a unified-use app with commercial ads or games"),
    "unified:tied_to_grades": ("统一使用的应用与学分、成绩或评优挂钩",
                               "a unified-use app tied to credits, grades or evaluation"),
    "no_dual_review": ("中小学选用未经教育部门和学校“双审查”（内容、安全）",
                       "a primary or secondary school's selection without the dual review (content, security)"),
    "not_reported": ("选用后未按时向上级主管部门备案", "never reported to the higher department within the time limit"),
    "reported_late": ("超过时限才向上级主管部门备案", "reported to the higher department after the time limit"),
    "exclusive_agreement": ("招生、考试、成绩查询类应用签订排他性协议",
                            "an exclusive agreement for an admissions, exam or score-query app"),
    "no_responsible_unit": ("未明确责任单位（谁选用谁负责）", "no responsible unit (who selects is responsible)"),
    "over_cap:total": ("学校在用应用总数超过上限", "the school has more apps in use than its cap"),
    **{f"over_cap:stage:{s}": (f"学校{VOCABULARIES['stage'][s][0]}学段在用应用数超过上限",
                               f"the school has more {VOCABULARIES['stage'][s][1]} apps in use than its cap")
       for s in STAGES},
    "alert_late": ("未在期限内停用被撤销的应用", "did not stop using a withdrawn app in time"),
}
#: Withdrawal alerts (code → zh, en) and their statuses.
ALERTS: dict[str, tuple[str, str]] = {
    "app_opted_out": ("应用已调出推荐名单", "the app was opted out of the list"),
    "app_excluded": ("应用未通过评审，已被排除", "the app failed the review and was excluded"),
    "provider_grey": ("应用提供者列入灰名单", "the app's provider was put on the grey list"),
    "provider_black": ("应用提供者列入黑名单", "the app's provider was blacklisted"),
    "status:open": ("待停用", "open"), "status:resolved": ("已按期停用", "resolved in time"),
    "status:late": ("逾期未停用", "late"),
    "action:interview": ("约谈", "interview"), "action:notify": ("通报", "notify"),
}
SCHOOL_REASONS: dict[str, tuple[str, str]] = {**FINDINGS, **ALERTS}

SCHOOL_EXPORT = [
    "school_id", "school_name", "county_code", "stages", "kind", "n_selections", "n_in_use", "n_unified",
    "n_findings", "findings", "findings_zh", "findings_en", "n_alerts", "n_alerts_open", "n_alerts_late",
    "compliant", "action", "action_zh", "action_en",
]  # fmt: skip
FINDING_EXPORT = ["school_id", "school_name", "county_code", "app_id", "app_name", "finding", "finding_zh",
                  "finding_en"]  # fmt: skip
ALERT_EXPORT = ["school_id", "app_id", "alert", "since", "withdraw_by", "status", "withdrawn_on", "alert_zh",
                "alert_en", "status_zh", "status_en"]  # fmt: skip
COUNTY_EXPORT = [
    "county_code", "n_schools", "n_compliant", "compliance_share", "n_alerts", "n_alerts_resolved",
    "n_alerts_late", "share_alerts_resolved", "main_findings", "main_findings_zh", "main_findings_en", "action",
    "action_zh", "action_en",
]  # fmt: skip
_ORDER = {code: i for i, code in enumerate(FINDINGS)}


@dataclass(frozen=True)
class SchoolResult:
    """One province's schools: ``schools`` (one row per school), ``findings`` (one row per
    finding: a selection's, or a school's cap with an empty ``app_id``), ``alerts`` (the
    withdrawal alerts of this cycle, new and carried) and ``counties``."""

    schools: pd.DataFrame
    findings: pd.DataFrame
    alerts: pd.DataFrame
    counties: pd.DataFrame


def _rules(profile: Any) -> dict[str, Any]:
    spec = profile_value(profile, "schools")
    spec = spec.model_dump() if hasattr(spec, "model_dump") else dict(spec or {})
    from evalkit.rubric.spec import SchoolsSpec  # the defaults of a profile without the section

    return SchoolsSpec.model_validate(spec).model_dump()


@dataclass(frozen=True)
class _Found:
    """Findings as integer codes: national school code, app key (−1: the school's own), finding."""

    school: np.ndarray
    key: np.ndarray
    code: np.ndarray

    @classmethod
    def of(cls, parts: list[tuple[np.ndarray, np.ndarray, int]]) -> _Found:
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        return cls(np.concatenate([p[0] for p in parts]).astype(np.int64),
                   np.concatenate([p[1] for p in parts]).astype(np.int64),
                   np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts]))

    def pairs(self, n_keys: int) -> np.ndarray:
        return self.school * (n_keys + 1) + (self.key + 1)


_CODES = list(FINDINGS)


def evaluate_schools(ds: Any, code: str, as_of: pd.Timestamp, profile: Any, decisions: pd.DataFrame,
                     credit: pd.DataFrame, credit_history: pd.DataFrame,
                     previous_decisions: pd.DataFrame | None = None,
                     previous_alerts: pd.DataFrame | None = None) -> SchoolResult:
    """Province ``code``'s schools on ``as_of`` (see the module docstring).

    Parameters
    ----------
    ds : the dataset (its ``schools``, ``selections`` and ``apps``; other provinces' schools are
        ignored).
    decisions, credit, credit_history : this cycle's decisions (``app_id``, ``status``,
        ``change``), credit (``provider_id``, ``list``) and status transitions (``provider_id``,
        ``to``, ``recorded_on``) of the province.
    previous_decisions : the previous cycle's decisions (the register's), or None (a first cycle:
        every excluded app is newly excluded).
    previous_alerts : the previous cycle's alerts (the register's ``school_alerts``), or None.
    """
    rules, prep = _rules(profile), prepare(ds)
    rows = prep.rows_of.get(code, np.zeros(0, np.int64))
    sel = {k: v[rows] for k, v in prep.sel.items()}
    found = _findings(prep, sel, rules, as_of, decisions, credit)
    alerts = _alerts(prep, sel, as_of, rules, decisions, credit_history, previous_decisions, previous_alerts)
    found = _settled(prep, found, alerts)
    mine = prep.schools_of.get(code, np.zeros(0, np.int64))
    table = _school_table(prep, mine, sel, found, alerts, rules)
    return SchoolResult(table, _finding_rows(prep, found), _alert_rows(alerts), _county_table(table, alerts, rules))


def _per_app(prep: Prepared, frame: pd.DataFrame | None, column: str) -> np.ndarray:
    """``frame[column]`` per app of ``prep.apps`` (by ``app_id``; ``""`` where absent)."""
    out = np.full(len(prep.apps), "", dtype=object)
    if frame is None or column not in frame.columns or not len(frame):
        return out
    frame = frame.drop_duplicates("app_id")
    at = prep.app_ids.get_indexer(frame["app_id"].astype("str"))
    out[at[at >= 0]] = frame[column].astype("str").to_numpy(dtype=object)[at >= 0]
    return out


def _app_black(prep: Prepared, credit: pd.DataFrame) -> np.ndarray:
    """Whether each app's provider is on the province's blacklist."""
    black = credit.loc[credit["list"].astype("str").eq("black"), "provider_id"].astype("str")
    return _provider_in(prep, black)


def _provider_in(prep: Prepared, providers: pd.Series) -> np.ndarray:
    """Whether each app's provider is one of ``providers`` (integer codes, no string compare per app)."""
    hit = np.zeros(len(prep.provider_ids), dtype=bool)
    at = prep.provider_ids.get_indexer(pd.unique(providers.to_numpy(dtype=object)))
    hit[at[at >= 0]] = True
    return hit[prep.app_provider]


def _findings(prep: Prepared, sel: dict[str, np.ndarray], rules: dict[str, Any], as_of: pd.Timestamp,
              decisions: pd.DataFrame, credit: pd.DataFrame) -> _Found:
    """Every rule a selection in use breaks, and every school over a cap (integer codes)."""
    app = prep.key_app[sel["key"]]
    filed, a = app >= 0, np.maximum(app, 0)
    status = _per_app(prep, decisions, "status")
    listed = filed & (status[a] == "recommended") if len(prep.apps) else np.zeros(len(app), dtype=bool)
    self_by = prep.app_self[a] if len(prep.apps) else np.full(len(app), "", dtype=object)
    own = filed & (self_by != "")  # its own app, or a department's
    if own.any():
        mine = prep.school_text["school_id"][np.maximum(sel["school"][own], 0)] == self_by[own]
        own[np.flatnonzero(own)] = mine | ~prep.app_self_school[a[own]]
    unified, body = sel["unified"], sel["body"]
    collective = np.isin(body, [i for i, b in enumerate(prep.bodies) if b in rules["collective_bodies"]])
    none = np.isin(body, [i for i, b in enumerate(prep.bodies) if b == "none"])
    due = add_working_days(sel["decided"], rules["report_within_working_days"])
    reported = sel["reported"]
    day = np.datetime64(pd.Timestamp(as_of).date(), "D")
    late = ~np.isnat(reported) & (working_days(sel["decided"], reported) > rules["report_within_working_days"])
    stage_cols = [STAGES.index(x) for x in rules["dual_review_stages"]]
    k12 = prep.school_stage[np.maximum(sel["school"], 0)][:, stage_cols].any(axis=1)
    exclusive_app = np.zeros(len(prep.apps), dtype=bool)
    for f in rules["exclusive_features"]:  # a few features
        exclusive_app |= prep.app_feature[f]
    app_of = (lambda arr: filed & arr[a]) if len(prep.apps) else (lambda arr: np.zeros(len(app), dtype=bool))
    checks = {
        "not_filed": ~filed,
        "filing_outdated": app_of(prep.app_stale),
        "not_listed": filed & ~listed & ~own & (rules["selection_scope"] == "listed"),
        "provider_blacklisted": app_of(_app_black(prep, credit)),
        "no_decision": ~unified & none,
        "unified:no_collective_decision": unified & ~collective,
        "unified:no_consultation": unified & ~sel["consulted"],
        "unified:charges": unified & sel["charges"],
        "unified:ads_or_games": unified & app_of(prep.app_ads_games),
        "unified:tied_to_grades": unified & sel["tied"],
        "no_dual_review": k12 & ~(listed & rules["dual_review_listed_exempt"]) & ~sel["reviewed"],
        "not_reported": np.isnat(reported) & (due < day),
        "reported_late": late,
        "exclusive_agreement": sel["exclusive"] & app_of(exclusive_app),
        "no_responsible_unit": sel["no_unit"],
    }
    use = sel["in_use"]
    parts = [(sel["school"][use & hit], sel["key"][use & hit], _CODES.index(name)) for name, hit in checks.items()]
    return _Found.of(parts + _caps(prep, sel, app, rules))


def _caps(prep: Prepared, sel: dict[str, np.ndarray], app: np.ndarray,
          rules: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(school codes, −1, over_cap:…) of every school over its total or a stage cap: distinct apps
    in use counted per school with ``np.bincount``."""
    n_keys, n_schools = len(prep.keys), len(prep.schools)
    use = sel["in_use"] & (sel["school"] >= 0)

    def over(mask: np.ndarray, cap: int, name: str) -> tuple[np.ndarray, np.ndarray, int]:
        pairs = np.unique(sel["school"][mask].astype(np.int64) * n_keys + sel["key"][mask])
        n = np.bincount(pairs // max(n_keys, 1), minlength=n_schools)
        hit = np.flatnonzero(n > cap)
        return hit, np.full(len(hit), -1), _CODES.index(name)

    out = [over(use, rules["max_apps"], "over_cap:total")]
    filed, a = app >= 0, np.maximum(app, 0)
    school_stage = prep.school_stage[np.maximum(sel["school"], 0)]
    app_stage = prep.app_stage[a] if len(prep.apps) else np.zeros_like(school_stage)
    for j, stage in enumerate(STAGES):  # a loop over the stages
        cap = rules["max_apps_per_stage"].get(stage)
        if cap is not None:
            out.append(over(use & filed & app_stage[:, j] & school_stage[:, j], cap, f"over_cap:stage:{stage}"))
    return out


def _alerts(prep: Prepared, sel: dict[str, np.ndarray], as_of: pd.Timestamp, rules: dict[str, Any],
            decisions: pd.DataFrame, history: pd.DataFrame, previous_decisions: pd.DataFrame | None,
            previous_alerts: pd.DataFrame | None) -> pd.DataFrame:
    """The province's alerts (:func:`evalkit.evaluate.school_alerts.alerts`) over the selections
    of the apps this cycle withdrew or whose provider it turned grey or black, and of the apps of
    the previous cycle's alerts (a small share of the rows)."""
    from evalkit.evaluate.school_alerts import alerts

    app = prep.key_app[sel["key"]]
    changed = (_per_app(prep, decisions, "status") == "excluded") | (_per_app(prep, decisions, "change") != "")
    if history is not None and len(history) and {"provider_id", "to", "recorded_on"} <= set(history.columns):
        now = pd.to_datetime(history["recorded_on"].replace("", None), errors="coerce").eq(pd.Timestamp(as_of))
        turned = history.loc[now.to_numpy(bool) & history["to"].isin(["grey", "black"]).to_numpy(bool)]
        changed |= _provider_in(prep, turned["provider_id"].astype("str"))
    before = (set(previous_alerts["app_id"].astype("str")) if previous_alerts is not None
              and len(previous_alerts) else set())  # fmt: skip
    keep = ((app >= 0) & changed[np.maximum(app, 0)]) if len(prep.apps) else np.zeros(len(app), dtype=bool)
    known = prep.keys.get_indexer(sorted(before))
    keep |= np.isin(sel["key"], known[known >= 0])
    rows = np.flatnonzero(keep)
    a = app[rows]
    provider = np.where(a >= 0, prep.app_text["provider_id"][np.maximum(a, 0)], "") if len(a) else np.zeros(0, object)
    frame = pd.DataFrame({
        "school_id": prep.school_text["school_id"][sel["school"][rows]],
        "app_id": prep.key_text[sel["key"][rows]], "provider_id": provider,
        "in_use": sel["in_use"][rows], "withdrawn_on": sel["withdrawn"][rows].astype("datetime64[us]"),
    })
    return alerts(frame, as_of, rules["withdraw_within_working_days"], decisions, history, previous_decisions,
                  previous_alerts)


#: Findings an open withdrawal alert stands for while its deadline runs (the school is not at fault yet).
_ALERTED = ("not_listed", "provider_blacklisted")


def _settled(prep: Prepared, found: _Found, alerts: pd.DataFrame) -> _Found:
    """The findings without those an open alert stands for, with ``alert_late`` for late alerts;
    each (school, app, finding) once, ordered by school, finding and app."""
    n = len(prep.keys)
    school = prep.school_ids.get_indexer(alerts["school_id"].astype("str"))
    key = prep.keys.get_indexer(alerts["app_id"].astype("str"))
    pair = school.astype(np.int64) * (n + 1) + (key + 1)
    status = alerts["status"].to_numpy(dtype=object)
    grace = np.isin(found.pairs(n), pair[status == "open"]) & np.isin(found.code, [_CODES.index(c) for c in _ALERTED])
    late = status == "late"
    merged = _Found.of([(found.school[~grace], found.key[~grace], 0)])
    merged = _Found(np.r_[merged.school, school[late]], np.r_[merged.key, key[late]],
                    np.r_[found.code[~grace], np.full(int(late.sum()), _CODES.index("alert_late"))])
    order = np.lexsort((merged.key, merged.code, merged.school))
    combo = np.stack([merged.school[order], merged.code[order], merged.key[order]])
    keep = np.r_[True, (np.diff(combo, axis=1) != 0).any(axis=0)] if combo.shape[1] else np.zeros(0, dtype=bool)
    return _Found(combo[0][keep], combo[2][keep], combo[1][keep])


def school_texts(codes: pd.Series, lang: str) -> pd.Series:
    """The words of ``;``-joined school codes (findings, alerts, statuses, actions)."""
    return reasons_text(codes, lang, registry=SCHOOL_REASONS)


def _finding_rows(prep: Prepared, found: _Found) -> pd.DataFrame:
    """The findings with school and app names and words, ordered by school, finding and app."""
    text = prep.school_text
    app = np.where(found.key >= 0, prep.key_app[np.maximum(found.key, 0)] if len(prep.keys) else -1, -1)
    names = prep.app_text["name"]
    codes = np.array(_CODES, dtype=object)[found.code]
    out = pd.DataFrame({
        "school_id": text["school_id"][found.school], "school_name": text["name"][found.school],
        "county_code": text["county_code"][found.school],
        "app_id": np.where(found.key >= 0, prep.key_text[np.maximum(found.key, 0)] if len(prep.keys) else "", ""),
        "app_name": np.where(app >= 0, names[np.maximum(app, 0)] if len(names) else "", ""),
        "finding": codes,
        "finding_zh": np.array([FINDINGS[c][0] for c in _CODES], dtype=object)[found.code],
        "finding_en": np.array([FINDINGS[c][1] for c in _CODES], dtype=object)[found.code],
    })
    return out[FINDING_EXPORT].astype("str")


def _school_table(prep: Prepared, mine: np.ndarray, sel: dict[str, np.ndarray], found: _Found,
                  alerts: pd.DataFrame, rules: dict[str, Any]) -> pd.DataFrame:
    """One row per school: counts, distinct findings in words, alerts, compliance and action."""
    n = len(mine)
    local = np.full(len(prep.schools), -1, dtype=np.int64)
    local[mine] = np.arange(n)

    def count(schools: np.ndarray) -> np.ndarray:
        at = local[schools]
        return np.bincount(at[at >= 0], minlength=n).astype(np.int64)

    def distinct(mask: np.ndarray) -> np.ndarray:
        pairs = np.unique(sel["school"][mask].astype(np.int64) * len(prep.keys) + sel["key"][mask])
        return count(pairs // max(len(prep.keys), 1))

    codes, zh, en = (np.full(n, "", dtype=object) for _ in range(3))
    for i, name in enumerate(_CODES):  # a loop over the finding codes, in their order
        has = np.flatnonzero(count(found.school[found.code == i]))
        if not len(has):
            continue
        first = codes[has] == ""
        for arr, word, sep in ((codes, name, ";"), (zh, FINDINGS[name][0], "；"), (en, FINDINGS[name][1], "; ")):
            arr[has] = np.where(first, word, arr[has] + sep + word)
    school = prep.schools.iloc[mine]
    at = pd.Series(np.arange(n), index=school["school_id"].astype("str").to_numpy())
    where = at.reindex(alerts["school_id"].astype("str")).to_numpy()
    status = alerts["status"].to_numpy(dtype=object)

    def alerts_of(mask: np.ndarray) -> np.ndarray:
        hit = where[mask]
        return np.bincount(hit[~np.isnan(hit)].astype(np.int64), minlength=n).astype(np.int64)

    out = pd.DataFrame({
        "school_id": school["school_id"].astype("str").to_numpy(), "school_name": school["name"].to_numpy(),
        "county_code": school["county_code"].to_numpy(), "stages": school["stages"].to_numpy(),
        "kind": school["kind"].to_numpy(), "n_selections": count(sel["school"]),
        "n_in_use": distinct(sel["in_use"]), "n_unified": distinct(sel["in_use"] & sel["unified"]),
        "n_findings": count(found.school), "findings": codes, "findings_zh": zh, "findings_en": en,
        "n_alerts": alerts_of(np.ones(len(status), dtype=bool)), "n_alerts_open": alerts_of(status == "open"),
        "n_alerts_late": alerts_of(status == "late"),
    })
    out["compliant"] = out["n_findings"].eq(0).to_numpy()
    serious = (out["n_findings"] >= rules["supervision"]["interview_min_findings"]) | out["n_alerts_late"].gt(0)
    out["action"] = np.where(serious, "interview", np.where(out["compliant"], "", "notify"))
    return _worded(out.sort_values("school_id", kind="stable").reset_index(drop=True), "findings")


def _worded(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` (unless already in words) and ``action`` in words (``<column>_zh``/``_en``,
    ``action_zh``/``_en``)."""
    action = ("action:" + frame["action"].astype("str")).where(frame["action"].ne(""), "")
    for lang in ("zh", "en"):
        if f"{column}_{lang}" not in frame:
            frame[f"{column}_{lang}"] = school_texts(frame[column], lang)
        frame[f"action_{lang}"] = school_texts(action, lang)
    return frame


def _alert_rows(alerts: pd.DataFrame) -> pd.DataFrame:
    out = alerts.copy()
    for lang in ("zh", "en"):
        out[f"alert_{lang}"] = school_texts(out["alert"], lang)
        out[f"status_{lang}"] = school_texts("status:" + out["status"].astype("str"), lang)
    return out[ALERT_EXPORT]


def _county_table(schools: pd.DataFrame, alerts: pd.DataFrame, rules: dict[str, Any]) -> pd.DataFrame:
    """One row per county: the share of compliant schools, alerts resolved in time, the three most
    common findings (by schools) and the supervision action of the profile's thresholds."""
    g = schools.groupby("county_code", sort=True)
    out = pd.DataFrame({"n_schools": g.size(), "n_compliant": g["compliant"].sum().astype(np.int64)})
    out["compliance_share"] = (out["n_compliant"] / out["n_schools"]).round(4)
    county = alerts["school_id"].map(schools.set_index("school_id")["county_code"])
    for name, status in (("n_alerts", None), ("n_alerts_resolved", "resolved"), ("n_alerts_late", "late")):
        mine = county if status is None else county[alerts["status"].eq(status).to_numpy(bool)]
        out[name] = mine.value_counts().reindex(out.index).fillna(0).astype(np.int64)
    closed = out["n_alerts_resolved"] + out["n_alerts_late"]
    out["share_alerts_resolved"] = (out["n_alerts_resolved"] / closed.where(closed > 0)).round(4)
    codes = schools.loc[schools["findings"].ne(""), ["county_code", "findings"]]
    codes = codes.assign(finding=codes["findings"].str.split(";")).explode("finding")
    top = (codes.groupby(["county_code", "finding"]).size().rename("n").reset_index()
           .assign(_order=lambda f: f["finding"].map(_ORDER))
           .sort_values(["county_code", "n", "_order"], ascending=[True, False, True], kind="stable"))
    main = top.groupby("county_code").head(3).groupby("county_code")["finding"].agg(";".join)
    out["main_findings"] = main.reindex(out.index).fillna("").astype("str")
    sup = rules["supervision"]
    share = out["compliance_share"].to_numpy()
    out["action"] = np.where(share < sup["interview_below"], "interview",
                             np.where(share < sup["notify_below"], "notify", ""))
    out = _worded(out.reset_index(), "main_findings")
    return out[COUNTY_EXPORT]


def province_schools(ds: Any, code: str, as_of: pd.Timestamp, profile: Any, decisions: pd.DataFrame,
                     credit: pd.DataFrame, credit_history: pd.DataFrame, previous: Any) -> dict[str, pd.DataFrame]:
    """The frames of a :class:`~evalkit.evaluate.province.ProvinceResult` (``schools``,
    ``school_findings``, ``school_alerts``, ``counties``); ``previous``: the province's
    :class:`~evalkit.evaluate.provenance.PreviousCycle`."""
    res = evaluate_schools(ds, code, as_of, profile, decisions, credit, credit_history,
                           getattr(previous, "decisions", None), getattr(previous, "school_alerts", None))
    return {"schools": res.schools, "school_findings": res.findings, "school_alerts": res.alerts,
            "counties": res.counties}
