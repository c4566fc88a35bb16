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

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data.schema import STAGES
from evalkit.evaluate.credit_context import add_working_days
from evalkit.evaluate.reasons import reasons_text
from evalkit.evaluate.school_alerts import STATUSES, Alerts, alerts
from evalkit.evaluate.school_prep import Prepared, per_app, prepare
from evalkit.i18n import VOCABULARIES
from evalkit.rubric import profile_value

__all__ = [
    "ALERTS", "ALERT_EXPORT", "COUNTY_EXPORT", "FINDING_EXPORT", "FINDINGS", "SCHOOL_EXPORT", "SCHOOL_REASONS",
    "SchoolResult", "evaluate_schools", "province_schools", "school_texts",
]  # fmt: skip

#: The findings of one selection or school, in the order they are listed (code → zh, en).
FINDINGS: dict[str, tuple[str, str]] = {
    "not_filed": ("应用未备案，不得使用", "the app is not filed and must not be used"),
    "filing_outdated": (
        "应用备案信息未在最近一次发布前更新",
        "the app's filing was not updated before its latest release",
    ),
    "not_listed": (
        "应用不在本省推荐名单内（本省只允许选用名单内应用）",
        "the app is not on the province's recommended list (only listed apps may be selected)",
    ),
    "provider_blacklisted": ("应用提供者已列入黑名单", "the app's provider is blacklisted"),
    "no_decision": ("选用未经任何决策程序", "chosen without any decision"),
    "unified:no_collective_decision": (
        "要求统一使用但未经集体决策",
        "required for unified use without a collective decision",
    ),
    "unified:no_consultation": (
        "统一使用前未征求教师、学生和家长意见",
        "unified use without consulting teachers, students and parents",
    ),
    "unified:charges": ("统一使用的应用向学生和家长收费", "a unified-use app that charges students or parents"),
    "unified:ads_or_games": ("统一使用的应用含商业广告或游戏", "a unified-use app with commercial ads or games"),
    "unified:tied_to_grades": (
        "统一使用的应用与学分、成绩或评优挂钩",
        "a unified-use app tied to credits, grades or evaluation",
    ),
    "no_dual_review": (
        "中小学选用未经教育部门和学校“双审查”（内容、安全）",
        "a primary or secondary school's selection without the dual review (content, security)",
    ),
    "not_reported": ("选用后未按时向上级主管部门备案", "never reported to the higher department within the time limit"),
    "reported_late": ("超过时限才向上级主管部门备案", "reported to the higher department after the time limit"),
    "exclusive_agreement": (
        "招生、考试、成绩查询类应用签订排他性协议",
        "an exclusive agreement for an admissions, exam or score-query app",
    ),
    "no_responsible_unit": ("未明确责任单位（谁选用谁负责）", "no responsible unit (who selects is responsible)"),
    "over_cap:total": ("学校在用应用总数超过上限", "the school has more apps in use than its cap"),
    **{
        f"over_cap:stage:{s}": (
            f"学校{VOCABULARIES['stage'][s][0]}学段在用应用数超过上限",
            f"the school has more {VOCABULARIES['stage'][s][1]} apps in use than its cap",
        )
        for s in STAGES
    },
    "alert_late": ("未在期限内停用被撤销的应用", "did not stop using a withdrawn app in time"),
}
#: Withdrawal alerts (code → zh, en) and their statuses.
ALERTS: dict[str, tuple[str, str]] = {
    "app_opted_out": ("应用已调出推荐名单", "the app was opted out of the list"),
    "app_excluded": ("应用未通过评审，已被排除", "the app failed the review and was excluded"),
    "provider_grey": ("应用提供者列入灰名单", "the app's provider was put on the grey list"),
    "provider_black": ("应用提供者列入黑名单", "the app's provider was blacklisted"),
    "status:open": ("待停用", "open"),
    "status:resolved": ("已按期停用", "resolved in time"),
    "status:late": ("逾期未停用", "late"),
    "status:lifted": ("已解除：应用已重新列入推荐名单", "lifted: the app is on the list again"),
    "action:interview": ("约谈", "interview"),
    "action:notify": ("通报", "notify"),
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
        return cls(
            np.concatenate([p[0] for p in parts]).astype(np.int64),
            np.concatenate([p[1] for p in parts]).astype(np.int64),
            np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts]),
        )

    def pairs(self, n_keys: int) -> np.ndarray:
        return self.school * (n_keys + 1) + (self.key + 1)


_CODES = list(FINDINGS)


def evaluate_schools(
    ds: Any,
    code: str,
    as_of: pd.Timestamp,
    profile: Any,
    decisions: pd.DataFrame,
    credit: pd.DataFrame,
    credit_history: pd.DataFrame,
    previous_decisions: pd.DataFrame | None = None,
    previous_alerts: pd.DataFrame | None = None,
) -> SchoolResult:
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
    mine = prep.schools_of.get(code, np.zeros(0, np.int64))
    decided = per_app(prep, decisions, ("status", "change", "reasons"))
    found = _findings(prep, sel, mine, rules, as_of, decided["status"], credit)
    alerts = _alerts(prep, sel, as_of, rules, decided, credit_history, previous_decisions, previous_alerts)
    found = _settled(prep, found, alerts)
    table, masks = _school_table(prep, mine, found, alerts, rules)
    return SchoolResult(
        table,
        _finding_rows(prep, found),
        _alert_rows(alerts.frame),
        _county_table(prep, mine, table, masks, alerts, rules),
    )


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


def _findings(
    prep: Prepared,
    sel: dict[str, np.ndarray],
    mine: np.ndarray,
    rules: dict[str, Any],
    as_of: pd.Timestamp,
    status: np.ndarray,
    credit: pd.DataFrame,
) -> _Found:
    """Every rule a selection in use breaks, and every school of ``mine`` over a cap (integer codes);
    ``status``: each app's decision (:func:`~evalkit.evaluate.school_prep.per_app`)."""
    app = prep.key_app[sel["key"]]
    filed, a = app >= 0, np.maximum(app, 0)
    listed = filed & (status[a] == "recommended") if len(prep.apps) else np.zeros(len(app), dtype=bool)
    self_by = prep.app_self[a] if len(prep.apps) else np.full(len(app), "", dtype=object)
    own = filed & (self_by != "")  # its own app, or a department's
    if own.any():
        by_itself = sel["school"][own] == prep.app_self_code[a[own]]
        own[np.flatnonzero(own)] = by_itself | ~prep.app_self_school[a[own]]
    unified, body = sel["unified"], sel["body"]
    collective = np.isin(body, [i for i, b in enumerate(prep.bodies) if b in rules["collective_bodies"]])
    none = np.isin(body, [i for i, b in enumerate(prep.bodies) if b == "none"])
    due = add_working_days(prep.days, rules["report_within_working_days"])[sel["decided_day"]]  # per distinct day
    reported = sel["reported"]
    day = np.datetime64(pd.Timestamp(as_of).date(), "D")
    late = ~np.isnat(reported) & (sel["report_days"] > rules["report_within_working_days"])
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
    return _Found.of(parts + _caps(prep, mine, rules))


def _caps(prep: Prepared, schools: np.ndarray, rules: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(school codes, −1, over_cap:…) of every one of ``schools`` over its total or a stage cap (the
    distinct apps in use each school counts, prepared nationally)."""

    def over(n: np.ndarray, cap: int, name: str) -> tuple[np.ndarray, np.ndarray, int]:
        hit = schools[n[schools] > cap]
        return hit, np.full(len(hit), -1), _CODES.index(name)

    out = [over(prep.school_counts["n_in_use"], rules["max_apps"], "over_cap:total")]
    for j, stage in enumerate(STAGES):  # a loop over the stages
        cap = rules["max_apps_per_stage"].get(stage)
        if cap is not None:
            out.append(over(prep.school_stage_in_use[:, j], cap, f"over_cap:stage:{stage}"))
    return out


def _alerts(
    prep: Prepared,
    sel: dict[str, np.ndarray],
    as_of: pd.Timestamp,
    rules: dict[str, Any],
    decided: dict[str, np.ndarray],
    history: pd.DataFrame,
    previous_decisions: pd.DataFrame | None,
    previous_alerts: pd.DataFrame | None,
) -> Alerts:
    """The province's alerts (:func:`evalkit.evaluate.school_alerts.alerts`) over the selections
    of the apps this cycle withdrew or whose provider it turned grey or black, and of the apps of
    the previous cycle's alerts (a small share of the rows)."""
    app = prep.key_app[sel["key"]]
    changed = (decided["status"] == "excluded") | (decided["change"] != "")
    if history is not None and len(history) and {"provider_id", "to", "recorded_on"} <= set(history.columns):
        now = pd.to_datetime(history["recorded_on"].replace("", None), errors="coerce").eq(pd.Timestamp(as_of))
        turned = history.loc[now.to_numpy(bool) & history["to"].isin(["grey", "black"]).to_numpy(bool)]
        changed |= _provider_in(prep, turned["provider_id"].astype("str"))
    before = (set(previous_alerts["app_id"].astype("str")) if previous_alerts is not None
              and len(previous_alerts) else set())  # fmt: skip
    keep = ((app >= 0) & changed[np.maximum(app, 0)]) if len(prep.apps) else np.zeros(len(app), dtype=bool)
    known = prep.keys.get_indexer(sorted(before))
    keep |= np.isin(sel["key"], known[known >= 0])
    rows = {
        "school": sel["school"][keep],
        "key": sel["key"][keep],
        "app": app[keep],
        "in_use": sel["in_use"][keep],
        "withdrawn": sel["withdrawn"][keep].astype("datetime64[us]"),
        "n_keys": len(prep.keys),
    }
    return alerts(
        prep,
        rows,
        as_of,
        rules["withdraw_within_working_days"],
        decided,
        history,
        previous_decisions,
        previous_alerts,
    )


#: Findings an open withdrawal alert stands for while its deadline runs (the school is not at fault yet).
_ALERTED = ("not_listed", "provider_blacklisted")


def _settled(prep: Prepared, found: _Found, alerts: Alerts) -> _Found:
    """The findings without those an open alert stands for, with ``alert_late`` for late alerts;
    each (school, app, finding) once, ordered by school, finding and app."""
    n = len(prep.keys)
    school, key = alerts.school, alerts.key
    pair = school.astype(np.int64) * (n + 1) + (key + 1)
    open_, late = alerts.status == STATUSES.index("open"), alerts.status == STATUSES.index("late")
    grace = np.isin(found.code, [_CODES.index(c) for c in _ALERTED])
    grace[grace] = pd.Index(found.pairs(n)[grace]).isin(pair[open_])  # hashed
    merged = _Found(
        np.r_[found.school[~grace], school[late]].astype(np.int64),
        np.r_[found.key[~grace], key[late]].astype(np.int64),
        np.r_[found.code[~grace], np.full(int(late.sum()), _CODES.index("alert_late"))].astype(np.int64),
    )
    width = len(_CODES) * (n + 1)  # one integer per (school, finding, app), in that order: one sort
    combo = np.sort(merged.school * width + merged.code * (n + 1) + merged.key + 1)
    combo = combo[np.r_[True, combo[1:] != combo[:-1]]] if len(combo) else combo  # each once
    school, rest = np.divmod(combo, width)
    code, key = np.divmod(rest, n + 1)
    return _Found(school, key - 1, code)


def school_texts(codes: pd.Series, lang: str) -> pd.Series:
    """The words of ``;``-joined school codes (findings, alerts, statuses, actions)."""
    return reasons_text(codes, lang, registry=SCHOOL_REASONS)


#: How the words of a combination's codes are joined (as :func:`school_texts` joins them).
_SEP = (";", "；", "; ")


@functools.lru_cache(maxsize=4096)
def _combo_texts(combo: tuple[str, ...]) -> tuple[str, str, str]:
    """The ``;``-joined codes of one combination and their words in Chinese and English, from
    :data:`SCHOOL_REASONS` (cached: the provinces share most combinations)."""
    return tuple(sep.join(code if i == 0 else SCHOOL_REASONS[code][i - 1] for code in combo)
                 for i, sep in enumerate(_SEP))  # fmt: skip


def _texts(combos: list[tuple[str, ...]], at: np.ndarray) -> dict[str, pd.api.extensions.ExtensionArray]:
    """The ``;``-joined codes and their words (keys ``""``, ``"zh"``, ``"en"``) of row ``i`` =
    ``combos[at[i]]``: each distinct combination worded once (a loop over the combinations, not
    the rows), then taken."""
    texts = [_combo_texts(combo) for combo in combos]
    return {lang: pd.array([t[i] for t in texts], dtype="str").take(at) for i, lang in enumerate(("", "zh", "en"))}


def _finding_rows(prep: Prepared, found: _Found) -> pd.DataFrame:
    """The findings with school and app names and words, ordered by school, finding and app."""
    text = prep.school_text
    app = np.where(found.key >= 0, prep.key_app[np.maximum(found.key, 0)] if len(prep.keys) else -1, -1)
    none = pd.array([""], dtype="str")
    words = _texts([(c,) for c in _CODES], found.code)
    out = pd.DataFrame({
        "school_id": text["school_id"].take(found.school), "school_name": text["name"].take(found.school),
        "county_code": text["county_code"].take(found.school),
        "app_id": none._concat_same_type([none, prep.key_text]).take(found.key + 1),
        "app_name": none._concat_same_type([none, prep.app_text["name"]]).take(app + 1),
        "finding": words[""], "finding_zh": words["zh"], "finding_en": words["en"],
    })  # fmt: skip
    return out[FINDING_EXPORT].astype("str")


def _masks(found: _Found, local: np.ndarray, n: int) -> np.ndarray:
    """Per school of a province (``local``: each finding's school's position among them, −1:
    another's): its findings as the bits of one integer (bit ``i``: ``_CODES[i]``), an OR over
    the runs of the sorted findings."""
    out = np.zeros(n, dtype=np.int64)
    ok = local >= 0
    at, bits = local[ok], np.left_shift(1, found.code[ok]).astype(np.int64)
    if len(at):
        starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]])
        out[at[starts]] = np.bitwise_or.reduceat(bits, starts)
    return out


def _combos(codes: np.ndarray) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """(distinct combinations of findings, position of each row's): ``codes`` is a matrix of
    positions in ``_CODES`` (−1: none), one row per school or county, in the order listed."""
    distinct, at = np.unique(codes, axis=0, return_inverse=True)
    return [tuple(_CODES[c] for c in row if c >= 0) for row in distinct.tolist()], at.reshape(-1)


def _bits(masks: np.ndarray) -> np.ndarray:
    """The findings of bit masks as a matrix of code positions (−1: none), in their order."""
    has = (masks[:, None] >> np.arange(len(_CODES))) & 1 == 1
    return np.where(has, np.arange(len(_CODES)), -1)


def _action(action: np.ndarray) -> dict[str, pd.api.extensions.ExtensionArray]:
    """``action`` (positions in ``("", "notify", "interview")``) and its words."""
    texts = _texts([(), ("action:notify",), ("action:interview",)], action)
    return {
        "action": pd.array(["", "notify", "interview"], dtype="str").take(action),
        "action_zh": texts["zh"],
        "action_en": texts["en"],
    }


def _local(prep: Prepared, mine: np.ndarray, schools: np.ndarray) -> np.ndarray:
    """The position among ``mine`` of each of ``schools`` (national codes; −1: not one of them)."""
    local = np.full(len(prep.schools) + 1, -1, dtype=np.int64)  # the last: code −1
    local[mine] = np.arange(len(mine))
    return local[schools]


def _school_table(
    prep: Prepared, mine: np.ndarray, found: _Found, alerts: Alerts, rules: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per school (``mine``, in the order of their ids): counts, distinct findings in words,
    alerts, compliance and action; and each school's findings as a bit mask (:func:`_masks`)."""
    n, text = len(mine), prep.school_text
    local = _local(prep, mine, found.school)
    masks = _masks(found, local, n)
    distinct, at = np.unique(masks, return_inverse=True)
    combos, of = _combos(_bits(distinct))
    words = _texts(combos, of[at.reshape(-1)])
    where = _local(prep, mine, alerts.school)

    def alerts_of(mask: np.ndarray) -> np.ndarray:
        hit = where[mask]
        return np.bincount(hit[hit >= 0], minlength=n).astype(np.int64)

    n_findings = np.bincount(local[local >= 0], minlength=n).astype(np.int64)
    late = alerts_of(alerts.status == STATUSES.index("late"))
    compliant = n_findings == 0
    serious = (n_findings >= rules["supervision"]["interview_min_findings"]) | (late > 0)
    out = pd.DataFrame({
        "school_id": text["school_id"].take(mine), "school_name": text["name"].take(mine),
        "county_code": text["county_code"].take(mine), "stages": text["stages"].take(mine),
        "kind": text["kind"].take(mine),
        **{c: prep.school_counts[c][mine] for c in ("n_selections", "n_in_use", "n_unified")},
        "n_findings": n_findings, "findings": words[""], "findings_zh": words["zh"], "findings_en": words["en"],
        "n_alerts": alerts_of(np.ones(len(alerts.status), dtype=bool)),
        "n_alerts_open": alerts_of(alerts.status == STATUSES.index("open")), "n_alerts_late": late,
        "compliant": compliant, **_action(np.where(serious, 2, np.where(compliant, 0, 1))),
    })  # fmt: skip
    return out, masks


def _alert_rows(alerts: pd.DataFrame) -> pd.DataFrame:
    """The alerts with their kind's and status's words (each distinct code worded once)."""
    words = {}
    for column, prefix in (("alert", ""), ("status", "status:")):  # the two coded columns
        at, codes = pd.factorize(alerts[column], sort=True)
        texts = _texts([(prefix + str(c),) for c in codes], at)
        words.update({f"{column}_zh": texts["zh"], f"{column}_en": texts["en"]})
    return pd.DataFrame({**{c: alerts[c] for c in ALERT_EXPORT if c in alerts}, **words})[ALERT_EXPORT]


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` rounded to 4 places (NaN where ``whole`` is 0)."""
    return np.round(part / np.where(whole > 0, whole, np.nan), 4)


def _county_table(
    prep: Prepared, mine: np.ndarray, schools: pd.DataFrame, masks: np.ndarray, alerts: Alerts, rules: dict[str, Any]
) -> pd.DataFrame:
    """One row per county: the share of compliant schools, alerts resolved in time, the three most
    common findings (by schools) and the supervision action of the profile's thresholds."""
    county = prep.school_county[mine]
    codes, at = np.unique(county[county >= 0], return_inverse=True)
    of = np.full(len(mine), -1, dtype=np.int64)
    of[county >= 0] = at.reshape(-1)
    where = _local(prep, mine, alerts.school)
    alert_of = np.where(where >= 0, of[np.maximum(where, 0)] if len(of) else -1, -1)

    def count(which: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        hit = which[(which >= 0) if mask is None else mask & (which >= 0)]
        return np.bincount(hit, minlength=len(codes)).astype(np.int64)

    n_schools, n_compliant = count(of), count(of, schools["compliant"].to_numpy(bool))
    resolved, late = (count(alert_of, alerts.status == STATUSES.index(s)) for s in ("resolved", "late"))
    share = _share(n_compliant, n_schools)
    sup = rules["supervision"]
    action = np.where(share < sup["interview_below"], 2, np.where(share < sup["notify_below"], 1, 0))
    by_code = np.zeros((len(codes), len(_CODES)), dtype=np.int64)
    for i in range(len(_CODES)):  # schools per county and finding: a loop over the codes
        by_code[:, i] = count(of, (masks >> i) & 1 == 1)
    top = np.argsort(-by_code, axis=1, kind="stable")[:, :3]
    top = np.where(np.take_along_axis(by_code, top, axis=1) > 0, top, -1)
    combos, at = _combos(top) if len(codes) else ([], np.zeros(0, dtype=np.int64))
    words = _texts(combos, at)
    return pd.DataFrame({
        "county_code": prep.counties.take(codes), "n_schools": n_schools, "n_compliant": n_compliant,
        "compliance_share": share, "n_alerts": count(alert_of), "n_alerts_resolved": resolved, "n_alerts_late": late,
        "share_alerts_resolved": _share(resolved, resolved + late), "main_findings": words[""],
        "main_findings_zh": words["zh"], "main_findings_en": words["en"], **_action(action),
    })[COUNTY_EXPORT]  # fmt: skip


def province_schools(
    ds: Any,
    code: str,
    as_of: pd.Timestamp,
    profile: Any,
    decisions: pd.DataFrame,
    credit: pd.DataFrame,
    credit_history: pd.DataFrame,
    previous: Any,
) -> dict[str, pd.DataFrame]:
    """The frames of a :class:`~evalkit.evaluate.province.ProvinceResult` (``schools``,
    ``school_findings``, ``school_alerts``, ``counties``); ``previous``: the province's
    :class:`~evalkit.evaluate.provenance.PreviousCycle`."""
    res = evaluate_schools(
        ds,
        code,
        as_of,
        profile,
        decisions,
        credit,
        credit_history,
        getattr(previous, "decisions", None),
        getattr(previous, "school_alerts", None),
    )
    return {
        "schools": res.schools,
        "school_findings": res.findings,
        "school_alerts": res.alerts,
        "counties": res.counties,
    }
