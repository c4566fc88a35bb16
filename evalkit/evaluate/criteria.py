"""Criterion pass/fail: each criterion's score, evidence status and veto codes per candidate.

:func:`score_criteria` turns the :class:`~evalkit.evaluate.evidence.Evidence` of every
candidate × criterion cell into the criterion score (0–100, NaN where N/A), the evidence status
(:data:`EVIDENCE`) and the reason codes (:data:`REASON_PREFIXES`), one criterion at a time
(vectorised over candidates).  The rules are those of :mod:`evalkit.evaluate.scoring`: missing
or unclear evidence counts against the app, a stale assessment scores 0 and excludes, vetoes are
evaluated apart from the score, a waiver applies only where its criterion may be waived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.data import identifiers
from evalkit.errors import Problem
from evalkit.evaluate.evidence import Evidence, Reports
from evalkit.rubric import Criterion, Profile, Veto, rules

__all__ = [
    "EVIDENCE",
    "NON_BLOCKING",
    "REASON_PREFIXES",
    "REFUSED_COLUMNS",
    "VETO_COLUMNS",
    "CriterionTable",
    "ProvinceSettings",
    "profile_veto",
    "province_settings",
    "refused_warning",
    "score_criteria",
]

#: Reason-code prefixes; all but ``waived`` and ``failed_check`` exclude a candidate.
REASON_PREFIXES = ("veto", "panel_floor", "missing_evidence", "insufficient_panel",
                   "stale_assessment", "waived", "failed_check")
NON_BLOCKING = ("waived", "failed_check")

_MESSAGES: dict[str, tuple[str, str]] = {
    "veto": ("未通过否决项：{zh}", "Failed veto item: {en}"),
    "panel_floor": ("专家评分低于底线：{zh}", "Panel score below the floor: {en}"),
    "missing_evidence": ("否决项缺少证据，按未通过处理：{zh}", "No evidence for a veto item (counts as failed): {en}"),
    "insufficient_panel": ("有效专家评分人数不足：{zh}", "Too few panel scores after conflicts removed: {en}"),
    "stale_assessment": ("评估结果已超过有效期：{zh}", "Assessment older than the profile's validity: {en}"),
    "waived": ("已豁免：{zh}", "Waived: {en}"),
    "failed_check": (
        "未通过登记核查（已扣分，非否决项）：{zh}",
        "Registry check failed (points deducted, not a veto): {en}",
    ),
}

#: Evidence status of a (candidate, criterion) cell.
EVIDENCE = ("ok", "na", "missing", "stale", "insufficient_panel", "waived", "not_applicable")
_EV = {e: i for i, e in enumerate(EVIDENCE)}

VETO_COLUMNS = ("province_code", "app_id", "code", "criterion_id", "message_zh", "message_en", "blocking")
#: A waiver set aside because the rubric does not let its (veto) criterion be waived.
REFUSED_COLUMNS = (
    "province_code",
    "app_id",
    "criterion_id",
    "waiver_province",
    "reason",
    "approved_by",
    "expires_on",
    "row",
)


def profile_veto() -> Veto:
    """The veto a profile's ``extra_vetoes`` adds to a criterion: the rule's worst outcome."""
    return Veto("fails", None, "profile")


# --------------------------------------------------------------------------------------------
# each candidate's profile parameters


def _months_before(as_of: pd.Timestamp, months: int) -> np.datetime64:
    return np.datetime64((as_of - pd.DateOffset(months=int(months))).date(), "D")


@dataclass(frozen=True)
class ProvinceSettings:
    """The profile parameters of every candidate's province.

    Attributes
    ----------
    codes : the provinces (sorted); ``province[i]`` is candidate ``i``'s position in it.
    stale_before : per province, the date before which an assessment is stale.
    validity_months : per province, the months an assessment stays valid.
    checks : the registry checks' per-candidate context (as_of, MLPS minimum and cut-offs).
    extra_veto : (n, k) a profile's ``extra_vetoes`` makes the criterion a veto item.
    """

    codes: list[str]
    province: np.ndarray
    stale_before: np.ndarray
    validity_months: np.ndarray
    checks: rules.CheckContext
    extra_veto: np.ndarray


def province_settings(
    cand: pd.DataFrame, profiles: Mapping[str, Profile], crits: tuple[Criterion, ...], as_of: pd.Timestamp
) -> ProvinceSettings:
    """Each candidate's profile parameters (loop over provinces)."""
    codes = sorted(profiles)
    province = pd.Categorical(cand["province_code"], categories=codes).codes.astype(np.int64)
    n_provinces, k = len(codes), len(crits)
    stale_before = np.array(
        [_months_before(as_of, profiles[c].validity_months) for c in codes] or [np.datetime64("NaT")],
        dtype="datetime64[D]",
    )
    mlps_min = np.array([profiles[c].mlps.min_level for c in codes] or [0], dtype=np.int64)
    mlps_cut = np.full((max(n_provinces, 1), 6), np.datetime64("NaT"), dtype="datetime64[D]")
    for i, c in enumerate(codes):
        for level, months in profiles[c].mlps.validity_months.items():
            mlps_cut[i, int(level)] = _months_before(as_of, months)
    checks = rules.CheckContext(np.datetime64(as_of.date(), "D"), mlps_min[province], mlps_cut[province])
    extra = np.zeros((max(n_provinces, 1), k), dtype=bool)
    position = {c.id: j for j, c in enumerate(crits)}
    for i, c in enumerate(codes):
        for cid in profiles[c].extra_vetoes:
            if cid in position:
                extra[i, position[cid]] = True
    extra_veto = extra[province] if len(cand) else np.zeros((0, k), dtype=bool)
    validity = np.array([profiles[c].validity_months for c in codes] or [0], dtype=np.int64)
    return ProvinceSettings(codes, province, stale_before, validity, checks, extra_veto)


# --------------------------------------------------------------------------------------------
# one criterion


@dataclass(frozen=True)
class _Found:
    """One criterion's evidence per candidate."""

    value: np.ndarray  # the value scored (NaN when none)
    missing: np.ndarray  # no usable evidence (counts against the app)
    na: np.ndarray  # the assessment says the criterion does not apply
    stale: np.ndarray  # the assessment is older than the province's validity


def _found(j: int, c: Criterion, cand: pd.DataFrame, evidence: Evidence, settings: ProvinceSettings) -> _Found:
    """Criterion ``c``'s (position ``j``) evidence per candidate, by its source."""
    n = len(cand)
    none = np.zeros(n, dtype=bool)
    if c.source == "assessment":
        a = evidence.assessed
        value = a.value[a.app_of, j]
        found = a.found[a.app_of, j]
        na = a.na[a.app_of, j] & found
        on = a.assessed_on[a.app_of, j]
        stale = found & ~na & (np.isnat(on) | (on < settings.stale_before[settings.province]))
        return _Found(value, ~na & (~found | np.isnan(value)), na, stale)
    if c.source == "panel":
        return _Found(evidence.panel_score[:, j], ~evidence.panel_usable[:, j], none, none)
    value = rules.get_check(c.check).fn(cand, settings.checks)  # type: ignore[arg-type]
    return _Found(value, np.isnan(value), none, none)


def _evidence_status(c: Criterion, found: _Found, applicable: np.ndarray, waived: np.ndarray) -> np.ndarray:
    """Codes into :data:`EVIDENCE` (the later rules win)."""
    status = np.zeros(applicable.size, dtype=np.int8)
    status[found.missing] = _EV["insufficient_panel" if c.source == "panel" else "missing"]
    status[found.stale] = _EV["stale"]
    status[found.na] = _EV["na"]
    status[waived] = _EV["waived"]
    status[~applicable] = _EV["not_applicable"]
    return status


def _veto_codes(
    c: Criterion, found: _Found, raw: np.ndarray, veto_here: np.ndarray, live: np.ndarray, waived: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """The reason-code prefixes of criterion ``c`` and the candidates each applies to."""
    veto = c.veto or profile_veto()
    scored = live & ~found.missing & ~found.stale
    codes: list[tuple[str, np.ndarray]] = []
    if veto_here.any():
        failed = scored & veto_here & veto.triggered(np.where(scored, raw, np.nan), c.scoring_rule, c.params)
        codes.append(("panel_floor" if veto.when == "below" else "veto", failed))
        no_evidence = "insufficient_panel" if c.source == "panel" else "missing_evidence"
        codes.append((no_evidence, live & found.missing & veto_here))
    codes.append(("stale_assessment", live & found.stale))
    codes.append(("waived", waived))
    if c.source == "registry":  # a failed registry check costs points: say so
        codes.append(("failed_check", scored & ~veto_here & (raw == 0)))
    return codes


@dataclass
class CriterionTable:
    """The criteria of every candidate: (n, k) arrays and the veto-table parts.

    ``evidence`` holds codes into :data:`EVIDENCE`; ``stale`` marks scored cells whose
    assessment is stale; ``reasons`` and ``refused`` are the rows of the veto table and of
    the refused waivers, criterion by criterion.
    """

    scores: np.ndarray
    values: np.ndarray
    applicable: np.ndarray
    waived: np.ndarray
    stale: np.ndarray
    evidence: np.ndarray
    reasons: list[pd.DataFrame]
    refused: list[pd.DataFrame]

    @classmethod
    def empty(cls, n: int, k: int) -> CriterionTable:
        return cls(
            np.full((n, k), np.nan),
            np.full((n, k), np.nan),
            np.zeros((n, k), dtype=bool),
            np.zeros((n, k), dtype=bool),
            np.zeros((n, k), dtype=bool),
            np.zeros((n, k), dtype=np.int8),
            [],
            [],
        )


def _score_criterion(
    table: CriterionTable, j: int, c: Criterion, cand: pd.DataFrame, evidence: Evidence, settings: ProvinceSettings
) -> None:
    """Fill column ``j`` of ``table`` and its reason rows: criterion ``c`` for every candidate."""
    applicable = rules.condition_mask(cand, c.applies)
    veto_here = np.full(len(cand), c.veto is not None) | settings.extra_veto[:, j]
    waivable = np.where(veto_here, c.waivable_where(True), c.waivable_where(False))
    refused = np.flatnonzero(evidence.waived[:, j] & ~waivable)
    if refused.size:
        table.refused.append(_refused_rows(cand, refused, c, evidence.waivers_at(refused, j)))
    waived = evidence.waived[:, j] & waivable & applicable
    found = _found(j, c, cand, evidence, settings)
    raw = c.score(found.value)
    live = applicable & ~waived & ~found.na
    table.scores[:, j] = np.where(live, np.where(found.missing | found.stale, 0.0, raw), np.nan)
    table.values[:, j] = found.value
    table.applicable[:, j] = applicable
    table.waived[:, j] = waived
    table.stale[:, j] = found.stale & live
    table.evidence[:, j] = _evidence_status(c, found, applicable, waived)
    for prefix, mask in _veto_codes(c, found, raw, veto_here, live, waived):
        rows = np.flatnonzero(mask)
        if not rows.size:
            continue
        if prefix == "stale_assessment":
            a = evidence.assessed
            table.reasons.append(
                _stale_rows(
                    cand,
                    rows,
                    c,
                    evidence.reports,
                    a.row[a.app_of[rows], j],
                    settings.validity_months[settings.province[rows]],
                )
            )
        else:
            info = evidence.waivers_at(rows, j) if prefix == "waived" else None
            table.reasons.append(_reason_rows(cand, rows, prefix, c, info))


def score_criteria(
    cand: pd.DataFrame, crits: tuple[Criterion, ...], evidence: Evidence, settings: ProvinceSettings
) -> CriterionTable:
    """Every criterion's score, evidence status and reason rows (loop over criteria)."""
    table = CriterionTable.empty(len(cand), len(crits))
    for j, c in enumerate(crits):
        _score_criterion(table, j, c, cand, evidence, settings)
    return table


# --------------------------------------------------------------------------------------------
# rows of the veto table and of the refused waivers


def _province_label(codes: pd.Series, lang: str) -> pd.Series:
    """``广东省（44）`` / ``Guangdong (44)``; ``全国`` / ``national`` for an empty code."""

    def one(code: str) -> str:
        if not code:
            return "全国" if lang == "zh" else "national"
        prov = identifiers.PROVINCES.get(code)
        name = (prov.name_zh if lang == "zh" else prov.name_en) if prov else code
        return f"{name}（{code}）" if lang == "zh" else f"{name} ({code})"

    labels = {c: one(c) for c in codes.unique()}  # a handful of provinces
    return codes.map(labels).astype("str")


def refused_warning(r: pd.Series) -> Problem:
    """The warning about one refused waiver (a row of the refused-waivers table)."""
    return Problem(
        "waivers",
        int(r["row"]),
        "criterion_id",
        f"the waiver of {r['criterion_id']} for {r['app_id']} (approved by {r['approved_by']}) is not "
        f"applied in province {r['province_code']}: {r['criterion_id']} is a veto item there and the rubric "
        "does not mark it waivable",
        "warning",
        "waiver_not_applied",
    )


def _reason_rows(
    cand: pd.DataFrame, rows: np.ndarray, prefix: str, c: Criterion, waivers: pd.DataFrame | None
) -> pd.DataFrame:
    zh, en = _MESSAGES[prefix]
    code = "insufficient_panel" if prefix == "insufficient_panel" else f"{prefix}:{c.id}"
    m_zh = pd.Series([zh.format(zh=c.name_zh)] * rows.size, dtype="str")
    m_en = pd.Series([en.format(en=c.name_en)] * rows.size, dtype="str")
    if prefix == "panel_floor" and c.veto is not None and c.veto.score is not None:
        m_zh = m_zh + f"（底线 {c.veto.score / 10:g}/10）"
        m_en = m_en + f" (floor {c.veto.score / 10:g}/10)"
    app_ids = cand["app_id"].iloc[rows].astype("str").reset_index(drop=True)  # only these rows' ids
    if waivers is not None and len(waivers):  # aligned with rows
        info, by, exp = (
            waivers[col].astype("str").reset_index(drop=True) for col in ("reason", "approved_by", "expires_on")
        )
        where = waivers["province_code"].astype("str").reset_index(drop=True)
        zh_where, en_where = _province_label(where, "zh"), _province_label(where, "en")
        m_zh = m_zh + "（理由：" + info + "；批准：" + by + "，" + zh_where + "；有效期至 " + exp + "）"
        m_en = m_en + " (reason: " + info + "; approved by " + by + ", " + en_where + "; expires " + exp + ")"
    return pd.DataFrame(
        {
            "province_code": cand["province_code"].iloc[rows].astype("str").reset_index(drop=True),
            "app_id": app_ids,
            "code": pd.Series([code] * rows.size, dtype="str"),
            "criterion_id": pd.Series([c.id] * rows.size, dtype="str"),
            "message_zh": m_zh,
            "message_en": m_en,
            "blocking": np.full(rows.size, prefix not in NON_BLOCKING),
        }
    )


def _stale_rows(
    cand: pd.DataFrame, rows: np.ndarray, c: Criterion, reports: Reports, found: np.ndarray, months: np.ndarray
) -> pd.DataFrame:
    """Veto-table rows of stale findings, one code per expired assessment report:
    ``stale_assessment:<report_ref>`` (the assessment date when the report has no reference),
    with the date the report was issued and the date it expired in the message."""
    out = _reason_rows(cand, rows, "stale_assessment", c, None)
    on = pd.Series(reports.assessed_on[found])
    expired = pd.Series("", index=on.index, dtype="str")
    for m in np.unique(months):  # loop over the provinces' validity periods (a few)
        at = months == m
        expired[at] = (on[at] + pd.DateOffset(months=int(m))).dt.strftime("%Y-%m-%d").to_numpy()
    issued = on.dt.strftime("%Y-%m-%d").astype("str")
    ref_s = pd.Series(reports.ref[found], dtype="str")
    key = ref_s.str.replace(r"[;\s]+", "_", regex=True).where(ref_s.ne(""), issued)
    out["code"] = "stale_assessment:" + key
    out["message_zh"] = out["message_zh"] + "（评估报告 " + ref_s + "，" + issued + " 出具，" + expired + " 到期）"
    out["message_en"] = (
        out["message_en"] + " (assessment report " + ref_s + ", issued " + issued + ", expired " + expired + ")"
    )
    out["report_ref"], out["assessed_on"], out["expired_on"] = ref_s, issued, expired
    return out


def _refused_rows(cand: pd.DataFrame, rows: np.ndarray, c: Criterion, waivers: pd.DataFrame) -> pd.DataFrame:
    """Refused waivers of criterion ``c`` at candidate ``rows`` (``waivers`` aligned with them)."""
    return pd.DataFrame(
        {
            "province_code": cand["province_code"].iloc[rows].astype("str").to_numpy(),
            "app_id": cand["app_id"].iloc[rows].astype("str").to_numpy(),
            "criterion_id": pd.Series([c.id] * rows.size, dtype="str").to_numpy(),
            "waiver_province": waivers["province_code"].astype("str").to_numpy(),
            "reason": waivers["reason"].astype("str").to_numpy(),
            "approved_by": waivers["approved_by"].astype("str").to_numpy(),
            "expires_on": waivers["expires_on"].astype("str").to_numpy(),
            "row": waivers["row"].to_numpy(dtype=np.int64),
        }
    ).astype({k: "str" for k in REFUSED_COLUMNS if k != "row"})
