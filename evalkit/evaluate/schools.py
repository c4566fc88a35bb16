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

from evalkit.data.dataset import flags
from evalkit.data.schema import STAGES, TABLES
from evalkit.evaluate.credit_context import add_working_days, as_bool, working_days
from evalkit.evaluate.reasons import reasons_text
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


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})


def _rules(profile: Any) -> dict[str, Any]:
    spec = profile_value(profile, "schools")
    spec = spec.model_dump() if hasattr(spec, "model_dump") else dict(spec or {})
    from evalkit.rubric.spec import SchoolsSpec  # the defaults of a profile without the section

    return SchoolsSpec.model_validate(spec).model_dump()


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
    rules = _rules(profile)
    tables = getattr(ds, "tables", {})
    schools = tables.get("schools", _empty(list(TABLES["schools"].column_names)))
    schools = schools.loc[schools["province_code"].astype("str").eq(code)].reset_index(drop=True)
    sel = tables.get("selections", _empty(list(TABLES["selections"].column_names)))
    sel = sel.loc[sel["school_id"].isin(schools["school_id"])].reset_index(drop=True)
    sel = _joined(sel, schools, ds.apps, decisions, credit)
    findings = _findings(sel, rules, as_of)
    findings = pd.concat([findings, _caps(sel, schools, rules)], ignore_index=True)
    alerts = _alerts(sel, as_of, rules, decisions, credit_history, previous_decisions, previous_alerts)
    findings = _in_grace(findings, alerts)
    late = alerts.loc[alerts["status"].eq("late"), ["school_id", "app_id"]].assign(finding="alert_late")
    findings = pd.concat([findings, late], ignore_index=True).drop_duplicates(["school_id", "app_id", "finding"])
    findings = _finding_rows(findings, schools, sel)
    table = _school_table(schools, sel, findings, alerts, rules)
    return SchoolResult(table, findings, _alert_rows(alerts), _county_table(table, alerts, rules))


def _joined(sel: pd.DataFrame, schools: pd.DataFrame, apps: pd.DataFrame, decisions: pd.DataFrame,
            credit: pd.DataFrame) -> pd.DataFrame:
    """The selections with their school's stages and county, the app's row (``filed``: the app
    is in ``apps``), its status here and its provider's list."""
    school = schools.set_index("school_id")
    out = sel.assign(school_stages=sel["school_id"].map(school["stages"]).astype("str"),
                     county_code=sel["school_id"].map(school["county_code"]).astype("str"))
    cols = ["app_id", "provider_id", "name", "stages", "features", "has_ads", "has_games", "info_updated_on",
            "last_release_on", "self_developed_by"]
    app = apps[[c for c in cols if c in apps.columns]].drop_duplicates("app_id").rename(
        columns={"name": "app_name", "stages": "app_stages"})
    out = out.merge(app, on="app_id", how="left", indicator="_filed")
    out["filed"] = out.pop("_filed").eq("both").to_numpy()
    status = decisions.drop_duplicates("app_id").set_index("app_id")["status"].astype("str")
    out["status"] = out["app_id"].map(status).fillna("").astype("str")
    lists = credit.drop_duplicates("provider_id").set_index("provider_id")["list"].astype("str")
    out["provider_list"] = out["provider_id"].map(lists).fillna("").astype("str")
    for c in ("app_name", "app_stages", "features", "provider_id", "self_developed_by"):
        out[c] = out[c].fillna("").astype("str") if c in out else ""
    out["in_use"] = out["withdrawn_on"].isna().to_numpy()
    return out


def _has(values: pd.Series, codes: tuple[str, ...] | list[str]) -> np.ndarray:
    """Which ``;``-lists hold one of ``codes``."""
    wrapped = ";" + values.astype("str").fillna("") + ";"
    hit = np.zeros(len(values), dtype=bool)
    for c in codes:  # a few codes
        hit |= wrapped.str.contains(f";{c};", regex=False).to_numpy(bool)
    return hit


def _findings(sel: pd.DataFrame, rules: dict[str, Any], as_of: pd.Timestamp) -> pd.DataFrame:
    """(school_id, app_id, finding) of every rule a selection in use breaks."""
    use = sel["in_use"].to_numpy(bool)
    unified = as_bool(sel["unified_use"])
    body = sel["decision_body"].astype("str")
    own = sel["self_developed_by"].ne("") & (sel["self_developed_by"].eq(sel["school_id"])
                                            | ~sel["self_developed_by"].str.fullmatch(r"[0-9]{10}"))
    due = add_working_days(sel["decided_on"], rules["report_within_working_days"])
    reported = sel["reported_on"].to_numpy("datetime64[us]").astype("datetime64[D]")
    overdue = np.isnat(reported) & (due < np.datetime64(as_of.date(), "D"))
    late = ~np.isnat(reported) & (working_days(sel["decided_on"], sel["reported_on"])
                                  > rules["report_within_working_days"])
    listed = sel["status"].eq("recommended").to_numpy(bool)
    k12 = _has(sel["school_stages"], rules["dual_review_stages"])
    exempt = listed & rules["dual_review_listed_exempt"]
    filed = sel["filed"].to_numpy(bool)
    updated = pd.to_datetime(sel.get("info_updated_on")) if "info_updated_on" in sel else None
    stale = (filed & (updated < pd.to_datetime(sel["last_release_on"])).fillna(False).to_numpy(bool)
             if updated is not None else np.zeros(len(sel), dtype=bool))
    checks = {
        "not_filed": ~filed,
        "filing_outdated": stale,
        "not_listed": filed & ~listed & ~own.to_numpy(bool) & (rules["selection_scope"] == "listed"),
        "provider_blacklisted": sel["provider_list"].eq("black").to_numpy(bool),
        "no_decision": ~unified & body.eq("none").to_numpy(bool),
        "unified:no_collective_decision": unified & ~body.isin(rules["collective_bodies"]).to_numpy(bool),
        "unified:no_consultation": unified & ~as_bool(sel["stakeholders_consulted"]),
        "unified:charges": unified & as_bool(sel["charges_students"]),
        "unified:ads_or_games": unified & (as_bool(sel["has_ads"]) | as_bool(sel["has_games"])),
        "unified:tied_to_grades": unified & as_bool(sel["tied_to_grades"]),
        "no_dual_review": k12 & ~exempt & (sel["content_review_on"].isna() | sel["security_review_on"].isna())
        .to_numpy(bool),
        "not_reported": overdue,
        "reported_late": late,
        "exclusive_agreement": as_bool(sel["exclusive_agreement"]) & _has(sel["features"],
                                                                          rules["exclusive_features"]),
        "no_responsible_unit": sel["responsible_unit"].fillna("").astype("str").str.strip().eq("").to_numpy(bool),
    }
    parts = [sel.loc[use & hit, ["school_id", "app_id"]].assign(finding=name) for name, hit in checks.items()]
    return pd.concat(parts, ignore_index=True)


#: Findings an open withdrawal alert stands for while its deadline runs (the school is not at fault yet).
_ALERTED = ("not_listed", "provider_blacklisted")


def _in_grace(findings: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """``findings`` without the :data:`_ALERTED` ones of a (school, app) with an open alert."""
    key = ["school_id", "app_id"]
    open_pairs = alerts.loc[alerts["status"].eq("open"), key].drop_duplicates()
    hit = findings[key].merge(open_pairs, on=key, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    return findings.loc[~(hit & findings["finding"].isin(_ALERTED).to_numpy(bool))].reset_index(drop=True)


def _caps(sel: pd.DataFrame, schools: pd.DataFrame, rules: dict[str, Any]) -> pd.DataFrame:
    """(school_id, "", over_cap:…) of every school over its total or a stage cap."""
    use = sel.loc[sel["in_use"].to_numpy(bool)]
    counts = use.groupby("school_id")["app_id"].nunique()
    over = [pd.DataFrame({"school_id": counts.index[counts.to_numpy() > rules["max_apps"]]})
            .assign(finding="over_cap:total")]
    app_flags = flags(use, "app_stages", STAGES).to_numpy()
    school_flags = flags(use, "school_stages", STAGES).to_numpy()
    for j, stage in enumerate(STAGES):  # a loop over the stages
        cap = rules["max_apps_per_stage"].get(stage)
        if cap is None:
            continue
        mine = use.loc[app_flags[:, j] & school_flags[:, j]]
        n = mine.groupby("school_id")["app_id"].nunique()
        over.append(pd.DataFrame({"school_id": n.index[n.to_numpy() > cap]}).assign(finding=f"over_cap:stage:{stage}"))
    out = pd.concat(over, ignore_index=True).assign(app_id="")
    return out[["school_id", "app_id", "finding"]]


def _alerts(sel: pd.DataFrame, as_of: pd.Timestamp, rules: dict[str, Any], decisions: pd.DataFrame,
            history: pd.DataFrame, previous_decisions: pd.DataFrame | None,
            previous_alerts: pd.DataFrame | None) -> pd.DataFrame:
    from evalkit.evaluate.school_alerts import alerts

    return alerts(sel, as_of, rules["withdraw_within_working_days"], decisions, history, previous_decisions,
                  previous_alerts)


def school_texts(codes: pd.Series, lang: str) -> pd.Series:
    """The words of ``;``-joined school codes (findings, alerts, statuses, actions)."""
    return reasons_text(codes, lang, registry=SCHOOL_REASONS)


def _finding_rows(findings: pd.DataFrame, schools: pd.DataFrame, sel: pd.DataFrame) -> pd.DataFrame:
    """The findings with school and app names and words, in the order of :data:`FINDINGS`."""
    names = schools.set_index("school_id")
    app_names = sel.drop_duplicates("app_id").set_index("app_id")["app_name"]
    out = findings.assign(
        school_name=findings["school_id"].map(names["name"]).astype("str"),
        county_code=findings["school_id"].map(names["county_code"]).astype("str"),
        app_name=findings["app_id"].map(app_names).fillna("").astype("str"),
        _order=findings["finding"].map(_ORDER).fillna(len(_ORDER)).to_numpy(),
    )
    out = out.sort_values(["school_id", "_order", "app_id"], kind="stable").drop(columns="_order")
    out["finding_zh"] = school_texts(out["finding"], "zh")
    out["finding_en"] = school_texts(out["finding"], "en")
    return out[FINDING_EXPORT].reset_index(drop=True)


def _school_table(schools: pd.DataFrame, sel: pd.DataFrame, findings: pd.DataFrame, alerts: pd.DataFrame,
                  rules: dict[str, Any]) -> pd.DataFrame:
    """One row per school: counts, distinct findings in words, alerts, compliance and action."""
    ids = schools["school_id"]

    def per_school(values: pd.Series) -> np.ndarray:
        return values.reindex(ids).fillna(0).to_numpy(dtype=np.int64)

    use = sel.loc[sel["in_use"].to_numpy(bool)]
    codes = (findings.drop_duplicates(["school_id", "finding"]).groupby("school_id", sort=False)["finding"]
             .agg(";".join))  # already in the order of FINDINGS
    out = pd.DataFrame({
        "school_id": ids, "school_name": schools["name"], "county_code": schools["county_code"],
        "stages": schools["stages"], "kind": schools["kind"],
        "n_selections": per_school(sel.groupby("school_id").size()),
        "n_in_use": per_school(use.groupby("school_id")["app_id"].nunique()),
        "n_unified": per_school(use.loc[as_bool(use["unified_use"])].groupby("school_id")["app_id"].nunique()),
        "n_findings": per_school(findings.groupby("school_id").size()),
        "findings": ids.map(codes).fillna("").astype("str"),
        "n_alerts": per_school(alerts.groupby("school_id").size()),
        "n_alerts_open": per_school(alerts.loc[alerts["status"].eq("open")].groupby("school_id").size()),
        "n_alerts_late": per_school(alerts.loc[alerts["status"].eq("late")].groupby("school_id").size()),
    })
    out["compliant"] = out["n_findings"].eq(0).to_numpy()
    serious = (out["n_findings"] >= rules["supervision"]["interview_min_findings"]) | out["n_alerts_late"].gt(0)
    out["action"] = np.where(serious, "interview", np.where(out["compliant"], "", "notify"))
    return _worded(out.sort_values("school_id", kind="stable").reset_index(drop=True), "findings")


def _worded(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` and ``action`` in words (``<column>_zh``/``_en``, ``action_zh``/``_en``)."""
    action = ("action:" + frame["action"].astype("str")).where(frame["action"].ne(""), "")
    for lang in ("zh", "en"):
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
