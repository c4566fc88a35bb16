"""The printable sanction notice (信用惩戒告知书) a province serves before a grey or black listing.

One page per provider notified in a cycle (``sanction_notices/<provider_id>.html``, written with
the province's exports): who issues it (the province's education department,
:mod:`evalkit.authority`), the facts (its violations and the substantiated complaints against its
apps, named, with dates, types and severities), the reasons (the trigger codes in words), the
basis (the policy sections, the province's own rules as its profile's ``sources`` name them, and
the measure its credit rules attach to the reasons), the proposed measure and ban length, the rights (a
statement, a hearing request) and the deadline (``statement_ends_on``,
:mod:`evalkit.evaluate.sanctions`).

In the report set's language first, then the other one on the next printed page (the Chinese
text is the one served; an English set carries it after its English reading).  Every value
escaped; no script; same inputs, same bytes.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.authority import issuing_authority
from evalkit.evaluate.credit_params import REASONS
from evalkit.evaluate.reasons import reason_text
from evalkit.i18n import separator, word
from evalkit.rubric.profiles import profile_value

__all__ = ["notice_page", "write_sanction_notices"]

#: The words of a notice, by language.
_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "信用惩戒告知书", "party": "当事人", "uscc": "统一社会信用代码", "paren": "（{}）",
        "issued": "{authority}，告知日期 {day}",
        "facts": "一、事实", "reasons": "二、理由", "basis": "三、依据", "measure": "四、拟采取的措施",
        "rights": "五、权利", "deadline": "六、期限",
        "heads": "类别|编号|应用|日期|类型|严重程度|虚假材料",
        "violation": "违规", "complaint": "投诉（经核实）", "none": "（无）",
        "basis_text": "《教育部等八部门关于引导规范教育移动互联网应用有序健康发展的意见》（教技函〔2019〕55号）"
                      "第（十六）条：建立负面清单、黑名单制度；国务院办公厅《关于进一步完善失信约束制度构建诚信建设长效"
                      "机制的指导意见》（国办发〔2020〕49号）{sources}。{province}的信用评价规则：有第二项所列情形的，"
                      "{rule}。",
        "source": "；《{}》", "rule_black": "列入黑名单", "rule_grey": "列入灰名单（负面清单）",
        "black": "列入黑名单，自决定之日起{months}个月内不得申报", "grey": "列入灰名单（负面清单），观察期{months}个月",
        "rights_text": "你单位有权在收到本告知书后提出陈述、申辩，并可以要求听证。逾期未提出的，视为放弃上述权利。",
        "deadline_text": "请于{day}（含当日，按工作日计算）前以书面形式提出。期满后依法作出决定；"
                         "陈述申辩意见被采纳的，不予列入。",
        "other": "英文译文（English reading）",
    },
    "en": {
        "title": "Notice of a proposed credit sanction", "party": "Party", "uscc": "USCC", "paren": " ({})",
        "issued": "{authority}, notified on {day}",
        "facts": "1. Facts", "reasons": "2. Reasons", "basis": "3. Basis", "measure": "4. Proposed measure",
        "rights": "5. Rights", "deadline": "6. Deadline",
        "heads": "Kind|Id|App|Date|Type|Severity|False material",
        "violation": "violation", "complaint": "complaint (substantiated)", "none": "(none)",
        "basis_text": "Section (16) of the 2019 Opinions on education apps (教技函〔2019〕55号): negative list "
                      "and blacklist; State Council General Office guidance on dishonesty constraints "
                      "(国办发〔2020〕49号){sources}. The credit evaluation rules of {province}: the circumstances "
                      "of section 2 call for {rule}.",
        "source": "; {}", "rule_black": "blacklisting", "rule_grey": "grey listing (the negative list)",
        "black": "blacklisting: no submission for {months} months from the date of the decision",
        "grey": "grey listing (negative list), observed for {months} months",
        "rights_text": "You may state your case and defend yourself, and may request a hearing. Not doing so by the "
                       "deadline waives these rights.",
        "deadline_text": "Submit in writing by {day} (inclusive, counted in working days). A decision is taken after "
                         "that date; if your statement is accepted, you are not listed.",
        "other": "The Chinese text served (中文原文)",
    },
}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _section(row: pd.Series, facts: list[dict[str, Any]], codes: list[str], lang: str, *, authority: str,
             province: str, day: str, months: dict[str, int], sources: list[str], apps: dict[str, str]) -> str:
    w = _TEXT[lang]
    trs = "".join(
        f"<tr><td>{_e(w[f.get('kind', 'violation')])}</td><td>{_e(f['id'])}</td>"
        f"<td>{_e(_app(str(f['app_id']), apps, w))}</td>"
        f"<td>{_e(f['found_on'])}</td>"
        f"<td>{_e(word('violation_type' if f.get('kind') != 'complaint' else 'complaint_category', f['type'], lang))}"
        f"</td><td>{_e(word('severity', f['severity'], lang) if f['severity'] else '')}</td>"
        f"<td>{word('bool', bool(f['fraud']), lang)}</td></tr>" for f in facts)
    heads = "".join(f"<th>{h}</th>" for h in w["heads"].split("|"))
    table = (f"<table><thead><tr>{heads}</tr></thead><tbody>{trs}</tbody></table>" if facts
             else f"<p>{w['none']}</p>")
    why = "".join(f"<li>{_e(reason_text(c, lang, registry=REASONS))}</li>" for c in codes)
    proposed = str(row.get("proposed_list") or "")
    measure = w[proposed].format(months=months[proposed]) if proposed in months else ""
    basis = w["basis_text"].format(province=province, sources="".join(w["source"].format(s) for s in sources),
                                   rule=w.get(f"rule_{proposed}", ""))
    return (
        f"<section lang=\"{'zh-CN' if lang == 'zh' else 'en'}\"><h1>{w['title']}</h1>"
        f"<p>{_e(w['issued'].format(authority=authority, day=day))}</p>"
        f"<p>{w['party']}{separator('colon', lang)}{_e(row.get('provider_name'))}"
        f"{w['paren'].format(w['uscc'] + ' ' + _e(row.get('provider_id')))}</p>"
        f"<h2>{w['facts']}</h2>{table}<h2>{w['reasons']}</h2><ul>{why}</ul>"
        f"<h2>{w['basis']}</h2><p>{_e(basis)}</p>"
        f"<h2>{w['measure']}</h2><p>{_e(measure)}</p><h2>{w['rights']}</h2><p>{w['rights_text']}</p>"
        f"<h2>{w['deadline']}</h2><p>{_e(w['deadline_text'].format(day=row.get('statement_ends_on')))}</p></section>"
    )


def _app(app_id: str, apps: dict[str, str], w: dict[str, str]) -> str:
    """An app of the facts: its name with its filing number, or the number alone."""
    name = apps.get(app_id, "")
    return f"{name}{w['paren'].format(app_id)}" if name else app_id


def notice_page(row: pd.Series, result: Any, ban_months: int, grey_months: int, lang: str = "zh") -> str:
    """The notice of one credit row (``sanction_stage`` notified; ``sanction_facts`` its facts) of
    ``result`` (a :class:`~evalkit.evaluate.province.ProvinceResult`: its code, names, profile and
    as_of), in ``lang`` first, then in the other language."""
    facts = json.loads(row.get("sanction_facts") or "[]")
    codes = [c for c in str(row.get("reasons") or "").split(";") if c and c != "sanction_notified"]
    day = pd.Timestamp(result.as_of).strftime("%Y-%m-%d")
    months = {"black": ban_months, "grey": grey_months}
    sources = [str(s) for s in profile_value(getattr(result, "profile", None), "sources", default=[])]
    dec = getattr(result, "decisions", None)
    apps = dict(zip(dec["app_id"].astype(str), dec["app_name"].astype(str), strict=True)) if dec is not None else {}
    sections = [
        _section(row, facts, codes, one, authority=issuing_authority(result, one), day=day, months=months,
                 province=result.name_zh if one == "zh" else result.name_en, sources=sources, apps=apps)
        for one in (lang, "en" if lang == "zh" else "zh")
    ]
    other = _TEXT[lang]["other"]
    style = ("body{font-family:'Noto Sans CJK SC',sans-serif;max-width:48em;margin:2em auto;line-height:1.6}"
             "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em}"
             "section+section{border-top:1px solid #999;margin-top:2em}@media print{section+section{"
             "page-break-before:always}}")
    return (f"<!DOCTYPE html>\n<html lang=\"{'zh-CN' if lang == 'zh' else 'en'}\"><head><meta charset=\"utf-8\">"
            f"<title>{_TEXT[lang]['title']} {_e(row.get('provider_id'))}</title><style>{style}</style></head><body>"
            f"{sections[0]}<p class=\"other-language\">↓ {other}</p>{sections[1]}</body></html>\n")


def write_sanction_notices(result: Any, folder: Path, ban_months: int, grey_months: int,
                           lang: str = "zh") -> list[Path]:
    """Write the notices of the providers ``result`` notified on its ``as_of`` into
    ``folder/sanction_notices/``."""
    credit = result.credit
    if "sanction_stage" not in credit.columns:
        return []
    day = pd.Timestamp(result.as_of).strftime("%Y-%m-%d")
    new = credit.loc[credit["sanction_stage"].eq("notified") & credit["notified_on"].astype(str).eq(day)]
    out = []
    for _, row in new.sort_values("provider_id").iterrows():  # the providers notified this cycle: a handful
        path = folder / "sanction_notices" / f"{row['provider_id']}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notice_page(row, result, ban_months, grey_months, lang), encoding="utf-8")
        out.append(path)
    return out
