"""The printable sanction notice (信用惩戒告知书) a province serves before a grey or black listing.

One page per provider notified in a cycle (``sanction_notices/<provider_id>.html``, written with
the province's exports): the facts (its findings with dates, types and severities), the reasons
(the trigger codes in words), the basis (policy section and profile rule), the proposed measure
and ban length, the rights (a statement, a hearing request) and the deadline
(``statement_ends_on``, :mod:`evalkit.evaluate.sanctions`).  Chinese first, then English; every
value escaped; no script; same inputs, same bytes.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.evaluate.credit_params import REASONS
from evalkit.evaluate.reasons import reason_text

__all__ = ["notice_page", "write_sanction_notices"]

_BASIS = (
    "《教育部等八部门关于引导规范教育移动互联网应用有序健康发展的意见》（教技函〔2019〕55号）第（十六）条：建立负面清单、"
    "黑名单制度；国务院办公厅《关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》（国办发〔2020〕49号）。",
    "Section (16) of the 2019 Opinions on education apps (教技函〔2019〕55号): negative list and blacklist; "
    "State Council General Office guidance on dishonesty constraints (国办发〔2020〕49号).",
)
_RULE = {
    "black": ("列入黑名单，{months}个月内不得申报（省级方案 ban_months）",
              "blacklisting, no submission for {months} months (the province's ban_months)"),
    "grey": ("列入灰名单（负面清单），观察期{grey}个月", "grey listing (negative list), observed for {grey} months"),
}
_SEVERITY = {"minor": ("一般", "minor"), "major": ("较重", "major"), "serious": ("严重", "serious")}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def notice_page(row: pd.Series, province: str, as_of: str, ban_months: int, grey_months: int) -> str:
    """The notice of one credit row (``sanction_stage`` notified; ``sanction_facts`` its findings)."""
    facts = json.loads(row.get("sanction_facts") or "[]")
    codes = [c for c in str(row.get("reasons") or "").split(";") if c and c != "sanction_notified"]
    proposed = str(row.get("proposed_list") or "")
    lines = []
    for i, lang in enumerate(("zh", "en")):
        why = "".join(f"<li>{_e(reason_text(c, lang, registry=REASONS))}</li>" for c in codes)
        trs = "".join(
            f"<tr><td>{_e(f['found_on'])}</td><td>{_e(f['violation_id'])}</td><td>{_e(f['app_id'])}</td>"
            f"<td>{_e(f['type'])}</td><td>{_e(_SEVERITY.get(f['severity'], (f['severity'],) * 2)[i])}</td>"
            f"<td>{'是' if f['fraud'] and i == 0 else 'yes' if f['fraud'] else '否' if i == 0 else 'no'}</td></tr>"
            for f in facts)
        heads = (("发现日期", "编号", "应用", "类型", "严重程度", "虚假材料") if i == 0 else
                 ("Found on", "Id", "App", "Type", "Severity", "False material"))
        measure = _RULE.get(proposed, ("", ""))[i].format(months=ban_months, grey=grey_months)
        t = (("信用惩戒告知书", "当事人", "统一社会信用代码", "一、事实", "二、理由", "三、依据", "四、拟采取的措施",
              "五、权利", "六、期限",
              "你单位有权在收到本告知书后提出陈述、申辩，并可以要求听证。逾期未提出的，视为放弃上述权利。",
              f"请于{_e(row.get('statement_ends_on'))}（含当日，按工作日计算）前以书面形式提出。期满后依法作出决定；"
              "陈述申辩意见被采纳的，不予列入。", f"省份 {_e(province)}，告知日期 {_e(as_of)}")
             if i == 0 else
             ("Notice of a proposed credit sanction", "Party", "USCC", "1. Facts", "2. Reasons", "3. Basis",
              "4. Proposed measure", "5. Rights", "6. Deadline",
              "You may state your case and defend yourself, and may request a hearing. Not doing so by the "
              "deadline waives these rights.",
              f"Submit in writing by {_e(row.get('statement_ends_on'))} (inclusive, counted in working days). "
              "A decision is taken after that date; if your statement is accepted, you are not listed.",
              f"Province {_e(province)}, notified on {_e(as_of)}"))
        lines.append(
            f"<section lang=\"{'zh-CN' if i == 0 else 'en'}\"><h1>{t[0]}</h1><p>{t[11]}</p>"
            f"<p>{t[1]}：{_e(row.get('provider_name'))}（{t[2]} {_e(row.get('provider_id'))}）</p>"
            f"<h2>{t[3]}</h2><table><thead><tr>{''.join(f'<th>{h}</th>' for h in heads)}</tr></thead>"
            f"<tbody>{trs}</tbody></table><h2>{t[4]}</h2><ul>{why}</ul><h2>{t[5]}</h2><p>{_e(_BASIS[i])}</p>"
            f"<h2>{t[6]}</h2><p>{_e(measure)}</p><h2>{t[7]}</h2><p>{t[9]}</p><h2>{t[8]}</h2><p>{t[10]}</p></section>")
    style = ("body{font-family:'Noto Sans CJK SC',sans-serif;max-width:48em;margin:2em auto;line-height:1.6}"
             "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em}"
             "section+section{border-top:1px solid #999;margin-top:2em}@media print{section+section{"
             "page-break-before:always}}")
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>信用惩戒告知书 "
            f"{_e(row.get('provider_id'))}</title><style>{style}</style></head><body>{''.join(lines)}</body></html>\n")


def write_sanction_notices(credit: pd.DataFrame, folder: Path, province: str, as_of: pd.Timestamp,
                           ban_months: int, grey_months: int) -> list[Path]:
    """Write the notices of the providers notified on ``as_of`` into ``folder/sanction_notices/``."""
    day = as_of.strftime("%Y-%m-%d")
    if "sanction_stage" not in credit.columns:
        return []
    new = credit.loc[credit["sanction_stage"].eq("notified") & credit["notified_on"].astype(str).eq(day)]
    out = []
    for _, row in new.sort_values("provider_id").iterrows():  # the providers notified this cycle: a handful
        path = folder / "sanction_notices" / f"{row['provider_id']}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notice_page(row, province, day, ban_months, grey_months), encoding="utf-8")
        out.append(path)
    return out
