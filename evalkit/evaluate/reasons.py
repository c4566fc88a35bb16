"""Reason codes and their words: every status and change of the list says why, in Chinese and English.

A decision's ``reasons`` (and a change's ``reason``) are ``;``-joined machine-readable codes;
:func:`reason_text` and :func:`reasons_text` give them in words.  Three kinds of code:

* **fixed** codes of :data:`REASONS` (``cap:total``, ``not_filed``, ``flag:close_call``,
  ``withdrawn`` …);
* **patterns** ``<prefix>:<x>`` naming a criterion, category, stage or dimension
  (``veto:L16_mandated_no_fees``, ``cap:stage:primary``, ``below_min:security`` …), said
  with the criterion's name (``names``) or the code list's word (:data:`evalkit.i18n.VOCABULARIES`);
* **figures** of a recommended app (``ranked:3/40``, ``margin:min_total:4.5``,
  ``place:total:3/20``, ``place:category:<c>:2/5``).

Other registries of fixed codes (``evalkit.evaluate.credit.REASONS``) are passed as
``registry`` and looked up first; an unknown code shows as itself.

:func:`join_codes` and :func:`has_code_prefix` build and read ``;``-joined code columns.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, param_message
from evalkit.i18n import VOCABULARIES, separator

__all__ = [
    "REASONS", "ReasonError", "has_code_prefix", "join_code_arrays", "join_codes", "reason_details", "reason_text",
    "reasons_text",
]


class ReasonError(EvalkitError, ValueError):
    """An invalid argument of :func:`reason_text` (also a :class:`ValueError`)."""


#: Fixed reason codes with their Chinese and English text.
REASONS: dict[str, tuple[str, str]] = {
    "cap:total": ("推荐名单总数已满", "the list's total size cap was reached"),
    "cap:provider_share": (
        "同一提供者在该类业务中的推荐数已达上限（防止单一应用垄断业务）",
        "the provider already holds its maximum share of this category (no single-app monopoly)",
    ),
    "below_min_total": ("总分低于最低推荐分", "total score below the minimum for the list"),
    "provider_blacklisted": (
        "提供者列入黑名单，禁入期未满",
        "the provider is blacklisted and its ban is in force",
    ),
    "provider_greylisted": ("提供者列入灰名单（负面清单），观察期内不列入推荐名单",
                            "the provider is on the grey (negative) list: not listed while it stays there"),
    "not_filed": ("应用未完成教育移动应用备案", "the app is not filed"),
    "fraudulent_material": ("提交材料弄虚作假：本轮评审不予认可其证据（评审决定，非信用惩戒）",
                            "fraudulent material submitted: its evidence is not accepted in this review (a review "
                            "decision, not a sanction)"),
    "provisional_measure": ("提供者涉嫌提供虚假材料，信用惩戒告知期间暂缓列入（临时措施）",
                            "held off as a provisional measure: the provider's sanction for fraud awaits its "
                            "statement window"),
    "objection_pending": ("公示期异议尚待复查，暂缓列入",
                          "on hold: an objection to the public notice awaits its re-check"),
    "insufficient_panel": ("专家评审人数不足", "too few expert panel scores"),
    "flag:third_party_admissions": (
        "第三方招生、考试、成绩类应用（原则上应由教育部门或学校主办）",
        ("third-party admissions/exam/score app (such apps are run by education departments in "
        "principle)"),
    ),
    "flag:close_call": ("排名稳健性分析显示入选与否接近临界", "close call in the robustness analysis"),
    "flag:overlap": ("与其他候选应用功能重叠，建议整合", "overlaps another candidate: integration candidate"),
    "failed_reevaluation": ("重新评估未通过", "failed re-evaluation"),
    "blacklisted": ("提供者列入黑名单", "provider blacklisted"),
    "greylisted": ("提供者列入灰名单", "provider grey-listed"),
    "assessment_expired": ("评估结果过期", "assessment expired"),
    "withdrawn": ("未再申报", "withdrawn (not submitted any more)"),
    "added": ("新增", "added"),
    "kept": ("保留", "kept"),
    "opted_out": ("退出", "opted out"),
}
_PATTERNS: dict[str, tuple[str, str]] = {
    "veto": ("否决项未达到要求：{x}", "veto requirement not met: {x}"),
    "panel_floor": ("专家评分低于底线：{x}", "expert score below the floor: {x}"),
    "missing_evidence": ("缺少评估证据：{x}", "missing evidence: {x}"),
    "stale_assessment": ("评估结果已过有效期：{x}", "assessment out of date: {x}"),
    "waived": ("已豁免：{x}", "waived: {x}"),
    "failed_check": (
        "未通过登记核查（已扣分，非否决项）：{x}",
        "registry check failed (points deducted, not a veto): {x}",
    ),
    "cap:category": ("该类别推荐数已满：{x}", "category cap reached: {x}"),
    "cap:stage": ("该学段推荐数已满：{x}", "stage cap reached: {x}"),
    "below_min": ("维度得分低于最低要求：{x}", "dimension score below the minimum: {x}"),
    "objection_upheld": ("公示期异议经复查成立，移出名单（异议理由：{x}）",
                         "removed from the list: an objection to the public notice was upheld on re-check "
                         "(grounds: {x})"),
}
#: Words of a pattern code when the criterion says what its failure means (the rubric's
#: ``failed``, passed as ``failed``): "否决项：等级测评报告已过期", never the pass condition.
_FAILED: dict[str, tuple[str, str]] = {
    "veto": ("否决项：{x}", "veto: {x}"),
    "failed_check": ("登记核查未通过（已扣分，非否决项）：{x}",
                     "registry check failed (points deducted, not a veto): {x}"),
}
#: Codes carrying figures (a recommended app's rank, margin and places): ``prefix:a/b`` read
#: with ``{a}`` and ``{b}``, ``place:category:<c>:a/b`` with the category's word as ``{c}``.
_FIGURES: dict[str, tuple[str, str]] = {
    "ranked": ("在{b}个合格候选应用中排名第{a}", "ranked {a} of {b} eligible candidates"),
    "margin:min_total": ("总分高于最低推荐分{a}分", "total score {a} points above the minimum for the list"),
    "place:total": ("占推荐名单第{a}个名额（共{b}个）", "place {a} of {b} on the list"),
    "place:category": ("占{c}类第{a}个名额（共{b}个）", "place {a} of {b} in the category {c}"),
}
#: The pattern prefixes, longest first (``cap:category`` before a shorter one it starts with).
_PREFIXES = sorted(_PATTERNS, key=len, reverse=True)
_LABELS = {
    "cap:category": VOCABULARIES["category"],
    "cap:stage": VOCABULARIES["stage"],
    "below_min": VOCABULARIES["dimension"],
    "objection_upheld": VOCABULARIES["objection_grounds"],
}


def reason_text(
    code: str,
    lang: str = "zh",
    names: Mapping[str, tuple[str, str]] | None = None,
    registry: Mapping[str, tuple[str, str]] | None = None,
    *,
    failed: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """The words for one reason code.

    Parameters
    ----------
    code : str
        A reason code such as ``cap:stage:primary`` or ``veto:L16_mandated_no_fees``.
    lang : {"zh", "en"}
        Language.
    names : mapping, optional
        ``criterion_id -> (name_zh, name_en)`` used for codes naming a criterion.
    registry : mapping, optional
        Extra fixed codes ``code -> (zh, en)`` looked up first (e.g. ``credit.REASONS``).
    failed : mapping, optional
        ``criterion_id -> (zh, en)``: what a failure of the criterion means (the rubric's
        ``failed``); a veto then reads "否决项：统一使用的应用植入了商业广告", not the pass condition.

    Returns
    -------
    str
        The text; an unknown code is returned as is (so a new code still shows).
    """
    if lang not in ("zh", "en"):
        raise ReasonError(param_message("lang", "reason_text", "'zh' or 'en'", repr(lang)))
    i = 0 if lang == "zh" else 1
    if registry and code in registry:
        return registry[code][i]
    if code in REASONS:
        return REASONS[code][i]
    figures = _figure_text(code, i)
    if figures is not None:
        return figures
    for prefix in _PREFIXES:
        if code.startswith(prefix + ":"):
            key, template, label = _pattern_words(prefix, code[len(prefix) + 1 :], names, failed)
            return template[i].format(x=label[i])
    return code


def _pattern_words(
    prefix: str, x: str, names: Mapping[str, tuple[str, str]] | None, failed: Mapping[str, tuple[str, str]] | None
) -> tuple[str, tuple[str, str], tuple[str, str]]:
    """(group key, template, words of ``x``) of a pattern code: the failure's words where the
    criterion has them and the pattern has a form for them (:data:`_FAILED`), else its name."""
    if prefix in _FAILED and failed and x in failed:
        return f"{prefix}!{x}", _FAILED[prefix], failed[x]  # one sentence each: the words hold "、" themselves
    label = _LABELS.get(prefix, names or {}).get(x) or (x, x)
    return prefix, _PATTERNS[prefix], label


def _figure_text(code: str, i: int) -> str | None:
    """The words for a code of :data:`_FIGURES` (None for any other code)."""
    prefix, _, rest = code.rpartition(":")
    c = ""
    if prefix.startswith("place:category:"):
        prefix, c = "place:category", prefix[len("place:category:") :]
        c = VOCABULARIES["category"].get(c, (c, c))[i]
    if prefix not in _FIGURES:
        return None
    a, _, b = rest.partition("/")
    return _FIGURES[prefix][i].format(a=a, b=b, c=c)


def reasons_text(
    codes: pd.Series,
    lang: str = "zh",
    names: Mapping[str, tuple[str, str]] | None = None,
    registry: Mapping[str, tuple[str, str]] | None = None,
    *,
    failed: Mapping[str, tuple[str, str]] | None = None,
    details: pd.Series | None = None,
) -> pd.Series:
    """:func:`reason_text` over ``;``-joined codes, each distinct combination translated once.

    Codes of one pattern are said once: ``stale_assessment:A;stale_assessment:B`` reads
    "评估结果已过有效期：A、B".  ``details`` (aligned with ``codes``; ``None`` or empty for most
    rows) holds a row's own words ``{code: (zh, en)}`` for codes whose words need its figures
    (:func:`reason_details`: a report's expiry date, a dimension's score and minimum).
    """
    s = codes.astype("str").fillna("")
    if details is None:
        text = {combo: _combo_text(combo, lang, names, registry, failed, None) for combo in s.unique()}
        return s.map(text).astype("str")
    out = []
    cache: dict[tuple, str] = {}
    for combo, own in zip(s.tolist(), details.tolist(), strict=True):  # rows; one call per distinct pair
        key = (combo, tuple(sorted(own.items())) if own else ())
        if key not in cache:
            cache[key] = _combo_text(combo, lang, names, registry, failed, own or None)
        out.append(cache[key])
    return pd.Series(out, index=codes.index, dtype="str")


def _combo_text(
    combo: str,
    lang: str,
    names: Mapping[str, tuple[str, str]] | None,
    registry: Mapping[str, tuple[str, str]] | None,
    failed: Mapping[str, tuple[str, str]] | None,
    own: Mapping[str, tuple[str, str]] | None,
) -> str:
    """The words for one ``;``-joined combination of reason codes (see :func:`reasons_text`)."""
    i = 0 if lang == "zh" else 1
    groups: dict[str, tuple[tuple[str, str] | None, list[str]]] = {}  # key -> (template, words), in order
    for code in combo.split(";"):  # the codes of one combination
        if not code:
            continue
        prefix = next((p for p in _PREFIXES if code.startswith(p + ":")), None)
        if own and code in own:
            groups.setdefault(code, (None, []))[1].append(own[code][i])
        elif prefix is None or (registry and code in registry) or code in REASONS or _figure_text(code, i):
            groups.setdefault(code, (None, []))[1].append(reason_text(code, lang, names, registry))
        else:
            key, template, label = _pattern_words(prefix, code[len(prefix) + 1 :], names, failed)
            groups.setdefault(key, (template, []))[1].append(label[i])
    join, sep = separator("item", lang), separator("clause", lang)
    return sep.join(
        join.join(words) if template is None else template[i].format(x=join.join(words))
        for template, words in groups.values()
    )


def reason_details(
    decisions: pd.DataFrame,
    candidates: pd.DataFrame,
    min_dimension_score: Mapping[str, float],
    mlps_validity_months: Mapping[int, int],
    failed: Mapping[str, tuple[str, str]] | None = None,
) -> pd.Series:
    """Each decision's own words for the codes whose words need its figures (``None`` for most).

    * ``below_min:<dimension>``: the score and the minimum ("维度得分低于最低要求：安全 54.7（最低 60.0）");
    * ``veto:L04_mlps_evaluation_current``: when the MLPS evaluation report expired (its date
      plus the profile's ``mlps.validity_months`` of the provider's level), "否决项：等级测评报告已过期
      （2025-03-02 到期）", or that no evaluation is on file.

    ``candidates`` gives ``app_id``, ``mlps_level`` and ``mlps_evaluated_on``.
    """
    from evalkit.i18n import VOCABULARIES as V

    codes = decisions["reasons"].astype("str").fillna("")
    out: list[dict[str, tuple[str, str]] | None] = [None] * len(decisions)
    mlps = candidates.drop_duplicates("app_id").set_index("app_id")
    l04 = "veto:L04_mlps_evaluation_current"
    base = (failed or {}).get(l04[5:], ("等级测评报告已过期", "the MLPS evaluation report has expired"))
    for pos, (app, combo) in enumerate(zip(decisions["app_id"].astype("str"), codes, strict=True)):  # rows
        if "below_min:" not in combo and l04 not in combo:
            continue
        own: dict[str, tuple[str, str]] = {}
        for code in combo.split(";"):
            if code.startswith("below_min:") and code[10:] in min_dimension_score:
                d = code[10:]
                score, low = float(decisions[d].iat[pos]), float(min_dimension_score[d])
                name = V["dimension"].get(d, (d, d))
                own[code] = (f"维度得分低于最低要求：{name[0]} {score:.1f}（最低 {low:.1f}）",
                             f"dimension score below the minimum: {name[1]} {score:.1f} (minimum {low:.1f})")
            elif code == l04 and app in mlps.index:
                own[code] = _mlps_words(mlps.loc[app], base, mlps_validity_months)
        out[pos] = own or None
    return pd.Series(out, index=decisions.index, dtype="object")


def _mlps_words(row: pd.Series, base: tuple[str, str], months: Mapping[int, int]) -> tuple[str, str]:
    """"否决项：等级测评报告已过期（2025-03-02 到期）" from a provider's level and evaluation date."""
    on, level = pd.to_datetime(row.get("mlps_evaluated_on"), errors="coerce"), row.get("mlps_level")
    if pd.isna(on) or pd.isna(level) or int(level) not in months:
        return (f"否决项：{base[0]}（无有效的等级测评记录）", f"veto: {base[1]} (no evaluation on file)")
    end = (on + pd.DateOffset(months=int(months[int(level)]))).strftime("%Y-%m-%d")
    return f"否决项：{base[0]}（{end} 到期）", f"veto: {base[1]} (expired {end})"


# --- ;-joined code columns ----------------------------------------------------------------


def join_codes(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    """Join code Series (``""`` = none) with ``;`` skipping empties, vectorised."""
    if not parts:
        return pd.Series("", index=index, dtype="str")
    out = parts[0].astype("str").fillna("")
    for p in parts[1:]:
        out = out + ";" + p.astype("str").fillna("")
    return out.str.replace(r";{2,}", ";", regex=True).str.strip(";")


def join_code_arrays(parts: list[np.ndarray], n: int) -> np.ndarray:
    """:func:`join_codes` of object arrays of ``n`` strings (``""`` = none), row by row: the
    same result (every ``;``-separated non-empty piece, in order), faster than the pandas string
    operations below a few thousand rows (a list's reason codes, an explorer move)."""
    if not parts:
        return np.full(n, "", dtype=object)
    return np.array([";".join([c for c in ";".join(row).split(";") if c]) for row in zip(*parts, strict=True)]
                    if n else [], dtype=object)


def has_code_prefix(reasons: pd.Series, prefixes: Collection[str]) -> pd.Series:
    """Rows holding a code that is one of ``prefixes`` or starts with one and ``:``."""
    alt = "|".join(re.escape(p) for p in sorted(prefixes))
    return reasons.astype("str").fillna("").str.contains(rf"(?:^|;)(?:{alt})(?::|;|$)", regex=True)
