"""Score sheets out: one XLSX workbook per expert of a province's panel for one Delphi round.

``write_sheets(ds, rubric, province, rnd, out, lang)`` writes ``<expert_id>.xlsx`` for every
expert of the province (docs/panels.md).  A workbook has three sheets:

* the **score sheet** (``评分`` / ``Scores``): row 1 holds the machine keys (``app_id``, then
  each panel ``criterion_id``, then ``app_name`` and ``provider_name``, which are only shown) and
  is hidden; row 2 the visible headers (criterion name and scale); one row per assigned app
  from row 3.  Score cells are the only unlocked cells, with data validation (a decimal
  within the criterion's scale); a criterion that does not apply to an app (``applies`` in the
  rubric) is greyed and locked.  From round 2 each score cell carries a comment with the
  previous round's group median and IQR and the expert's own previous score (Delphi feedback);
* the **instructions** (``说明`` / ``Instructions``): what to do, the expert, the province and
  round, and the anchored level descriptions of every panel criterion from the rubric;
* a very hidden ``_evalkit`` sheet with what the collection checks: the province, round,
  expert, language and the assigned apps and criteria.

The sheets are protected (no password: protection guards against slips, the collection
checks every cell anyway) and so is the workbook's structure.

Assignment: in round 1 every candidate the province received (``submissions``) except the apps
of providers the expert declared a conflict with; from round 2 the (expert, app) pairs that
were scored in the previous round, minus conflicts declared since.  The experts are those of
the province (round 1) or those who scored in the previous round.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data.exports import workbook_bytes
from evalkit.errors import EvalkitError, Problem, ProblemsError
from evalkit.evaluate.panel_rounds import feedback, round_scores
from evalkit.rubric import rules

__all__ = ["META_SHEET", "SHEET_NAMES", "Assignment", "PanelSheetError", "assignments", "conflicted_apps",
           "load_panel_inputs", "panel_criteria", "sheets_command", "write_sheets"]

#: Name of the score sheet and of the instructions, by language.
SHEET_NAMES = {"zh": ("评分", "说明"), "en": ("Scores", "Instructions")}
META_SHEET = "_evalkit"
FIRST_ROW = 3  # the first app's row on the score sheet (1: machine keys, 2: headers)
KIND = "evalkit-panel-sheet-1"


class PanelSheetError(ProblemsError):
    """Score sheets cannot be written or collected; every problem is named by workbook, sheet
    and cell (``E44003.xlsx!评分!D7: …``)."""

    kind = "score sheets"


@dataclass(frozen=True)
class Assignment:
    """What one expert scores in one round: the apps (sorted) and their names."""

    expert_id: str
    expert_name: str
    apps: pd.DataFrame  # app_id, app_name, provider_name, and one bool column per criterion: applies


def panel_criteria(rubric: Any) -> list[Any]:
    """The rubric's panel criteria, in the rubric's order."""
    return [c for c in rubric.criteria if c.source == "panel"]


def conflicted_apps(experts: pd.DataFrame, apps: pd.DataFrame) -> set[tuple[str, str]]:
    """(expert_id, app_id) pairs where the app's provider is among the expert's declared
    ``conflicts`` (``;``-joined provider ids)."""
    decl = experts[["expert_id", "conflicts"]].dropna()
    decl = decl.assign(provider_id=decl["conflicts"].astype(str).str.split(";")).explode("provider_id")
    decl["provider_id"] = decl["provider_id"].astype(str).str.strip()
    decl = decl[decl["provider_id"] != ""]
    pairs = decl.merge(apps[["app_id", "provider_id"]].astype(str), on="provider_id")
    return set(zip(pairs["expert_id"].astype(str), pairs["app_id"].astype(str), strict=True))


def _candidates(ds: Any, province: str) -> pd.DataFrame:
    """The province's candidates with what applicability conditions and the sheet need."""
    subs = ds.submissions[ds.submissions["province_code"].astype(str) == province]
    subs = subs.sort_values("submitted_on", kind="stable").drop_duplicates("app_id", keep="last")
    cand = subs[["app_id", "mandated_use"]].astype({"app_id": str}).merge(
        ds.apps.astype({"app_id": str}), on="app_id", how="inner")
    prov = ds.providers[["provider_id", "name"]].rename(columns={"name": "provider_name"})
    cand = cand.merge(prov.astype({"provider_id": str}), on="provider_id", how="left")
    cand = cand.rename(columns={"name": "app_name"})
    return cand.sort_values("app_id", kind="stable").reset_index(drop=True)


def assignments(ds: Any, rubric: Any, province: str, rnd: int) -> list[Assignment]:
    """Each expert's apps for round ``rnd`` of ``province`` (see the module's "Assignment")."""
    cand = _candidates(ds, province)
    crits = panel_criteria(rubric)
    for c in crits:
        cand[c.id] = rules.condition_mask(cand, c.applies)
    conflicted = conflicted_apps(ds.experts, ds.apps)
    experts = ds.experts[ds.experts["province_code"].astype(str) == province].astype({"expert_id": str})
    names = dict(zip(experts["expert_id"], experts["name"].astype(str), strict=True))
    if rnd > 1:
        prev = round_scores(ds.panel_scores, ds.experts, ds.apps, province, rnd - 1)
        if prev.empty:
            raise PanelSheetError([Problem("panel_scores", None, None,
                                           f"round {rnd - 1} of province {province} has no scores: collect it "
                                           f"before writing the sheets of round {rnd}")])
        pairs = prev[["expert_id", "app_id"]].drop_duplicates()
        names |= {e: e for e in pairs["expert_id"] if e not in names}
    else:
        pairs = pd.DataFrame([(e, a) for e in names for a in cand["app_id"]], columns=["expert_id", "app_id"])
    out = []
    for e in sorted(names):
        mine = set(pairs.loc[pairs["expert_id"] == e, "app_id"]) - {a for x, a in conflicted if x == e}
        rows = cand[cand["app_id"].isin(mine)]
        if len(rows):
            out.append(Assignment(e, names[e], rows[["app_id", "app_name", "provider_name", *[c.id for c in crits]]]
                                  .reset_index(drop=True)))
    return out


# ------------------------------------------------------------------------------------------
# words
# ------------------------------------------------------------------------------------------

_TEXT = {
    "zh": {
        "title": "专家评分表",
        "who": "专家：{name}（{eid}）　省份：{province}　第 {rnd} 轮",
        "steps": [
            "请在“评分”工作表中，为分配给您的每个应用、每项指标填写 0–{top:g} 分（可填小数，如 7.5）。",
            "评分标准见下方各指标的分级描述；灰色单元格表示该指标不适用于该应用，无需填写。",
            "请勿修改应用编号、表头或隐藏行，也不要增删行列；与您有利益冲突的应用已排除在外。"
            "如发现仍有利益冲突，请不要评分并告知秘书处。",
            "第 2 轮起，每个评分单元格的批注显示上一轮的专家组中位数、四分位距和您本人上一轮的评分，供参考；"
            "您可以坚持或修改原评分。",
            "填写完毕后保存文件（保持文件名不变），交回秘书处。",
        ],
        "levels": "分级描述（分数：含义）",
        "app_id": "应用编号", "app_name": "应用名称", "provider_name": "提供者",
        "scale": "（0–{top:g}）",
        "validation": "请填写 0 到 {top:g} 之间的数字。",
        "feedback": "第 {r} 轮：专家组中位数 {med:g}，四分位距 {iqr:g}（{q1:g}–{q3:g}，{n} 人）；您的评分：{own}",
        "none": "无",
    },
    "en": {
        "title": "Expert score sheet",
        "who": "Expert: {name} ({eid})   Province: {province}   Round {rnd}",
        "steps": [
            "On the 'Scores' sheet, give every app assigned to you a score of 0–{top:g} on each criterion "
            "(decimals allowed, e.g. 7.5).",
            "The level descriptions of each criterion are below; a grey cell means the criterion does not "
            "apply to that app: leave it empty.",
            "Do not change the app ids, the headers or hidden rows, and do not add or delete rows or columns; "
            "apps you have a conflict of interest with are left out. If you find one anyway, do not score it "
            "and tell the secretariat.",
            "From round 2, the comment of each score cell shows the previous round's panel median, "
            "interquartile range and your own previous score; keep or change your score.",
            "Save the file under the same name and return it to the secretariat.",
        ],
        "levels": "Level descriptions (score: meaning)",
        "app_id": "App id", "app_name": "App name", "provider_name": "Provider",
        "scale": " (0–{top:g})",
        "validation": "Enter a number from 0 to {top:g}.",
        "feedback": "Round {r}: panel median {med:g}, IQR {iqr:g} ({q1:g}–{q3:g}, {n} raters); your score: {own}",
        "none": "none",
    },
}


def _safe(text: Any) -> str:
    """Provider-supplied text made inert in a spreadsheet (no formula: a leading = + - @ gets a quote)."""
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


# ------------------------------------------------------------------------------------------
# writing
# ------------------------------------------------------------------------------------------


def _feedback_notes(ds: Any, province: str, rnd: int, lang: str) -> tuple[dict, dict]:
    """(group feedback by (app, criterion), own previous score by (expert, app, criterion))."""
    if rnd <= 1:
        return {}, {}
    prev = round_scores(ds.panel_scores, ds.experts, ds.apps, province, rnd - 1)
    fb = feedback(prev)
    group = {(r.app_id, r.criterion_id): r for r in fb.itertuples()}
    own = {(r.expert_id, r.app_id, r.criterion_id): r.score for r in prev.itertuples()}
    return group, own


def _instructions(ws: Any, a: Assignment, crits: Sequence[Any], province: str, rnd: int, lang: str) -> None:
    from openpyxl.styles import Alignment, Font

    t = _TEXT[lang]
    top = max(getattr(c.params, "scale_max", 10.0) for c in crits)
    ws.append([t["title"]])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([t["who"].format(name=_safe(a.expert_name), eid=a.expert_id, province=province, rnd=rnd)])
    ws.append([])
    for i, step in enumerate(t["steps"], 1):
        ws.append([f"{i}. {step.format(top=top)}"])
    ws.append([])
    ws.append([t["levels"]])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    for c in crits:
        ws.append([f"{c.name_zh}（{c.id}）" if lang == "zh" else f"{c.name_en} ({c.id})"])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        for lv in c.levels:
            name, text = (lv.name_zh, lv.text_zh) if lang == "zh" else (lv.name_en, lv.text_en)
            ws.append([f"  {lv.score:g}：{name}——{text}" if lang == "zh" else f"  {lv.score:g}: {name}: {text}"])
    ws.column_dimensions["A"].width = 120
    for row in ws.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.protection.sheet = True


def _score_sheet(ws: Any, a: Assignment, crits: Sequence[Any], notes: tuple[dict, dict], rnd: int,
                 lang: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    t = _TEXT[lang]
    group, own = notes
    keys = ["app_id", *[c.id for c in crits], "app_name", "provider_name"]
    ws.append(keys)
    heads = [t["app_id"]]
    for c in crits:
        top = getattr(c.params, "scale_max", 10.0)
        heads.append((c.name_zh if lang == "zh" else c.name_en) + t["scale"].format(top=top))
    ws.append([*heads, t["app_name"], t["provider_name"]])
    ws.row_dimensions[1].hidden = True
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    grey = PatternFill("solid", fgColor="D9D9D9")
    open_cell = Protection(locked=False)
    for i, row in enumerate(a.apps.itertuples(index=False)):
        r = FIRST_ROW + i
        ws.cell(r, 1, row.app_id)
        ws.cell(r, len(keys) - 1, _safe(row.app_name))
        ws.cell(r, len(keys), _safe(row.provider_name))
        for j, c in enumerate(crits):
            cell = ws.cell(r, 2 + j)
            if not getattr(row, c.id):
                cell.fill = grey
                continue
            cell.protection = open_cell
            fb = group.get((row.app_id, c.id))
            if fb is not None:
                mine = own.get((a.expert_id, row.app_id, c.id))
                text = t["feedback"].format(r=rnd - 1, med=fb.median, iqr=fb.iqr, q1=fb.q1, q3=fb.q3, n=fb.n,
                                            own=t["none"] if mine is None else f"{mine:g}")
                cell.comment = Comment(text, "evalkit", width=320, height=80)
    last = FIRST_ROW + len(a.apps) - 1
    for j, c in enumerate(crits):
        top = getattr(c.params, "scale_max", 10.0)
        col = get_column_letter(2 + j)
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2=f"{top:g}",
                            allow_blank=True, showErrorMessage=True, error=t["validation"].format(top=top))
        dv.add(f"{col}{FIRST_ROW}:{col}{last}")
        ws.add_data_validation(dv)
        ws.column_dimensions[col].width = 14
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions[get_column_letter(len(keys) - 1)].width = 30
    ws.column_dimensions[get_column_letter(len(keys))].width = 30
    ws.row_dimensions[2].height = 48
    ws.freeze_panes = f"B{FIRST_ROW}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # widths may still be changed


def _meta(ws: Any, a: Assignment, crits: Sequence[Any], province: str, rnd: int, lang: str) -> None:
    ws.append(["kind", KIND])
    ws.append(["province_code", province])
    ws.append(["round", rnd])
    ws.append(["expert_id", a.expert_id])
    ws.append(["lang", lang])
    ws.append(["criteria", ";".join(c.id for c in crits)])
    ws.append(["apps", ";".join(a.apps["app_id"])])
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


def _workbook(a: Assignment, crits: Sequence[Any], notes: tuple[dict, dict], province: str, rnd: int,
              lang: str) -> Any:
    from openpyxl import Workbook

    wb = Workbook()
    scores_name, help_name = SHEET_NAMES[lang]
    ws = wb.active
    ws.title = scores_name
    _score_sheet(ws, a, crits, notes, rnd, lang)
    _instructions(wb.create_sheet(help_name), a, crits, province, rnd, lang)
    _meta(wb.create_sheet(META_SHEET), a, crits, province, rnd, lang)
    wb.security.lockStructure = True
    return wb


def write_sheets(ds: Any, rubric: Any, province: str, rnd: int, out: str | Path, lang: str = "zh") -> list[Path]:
    """Write one ``<expert_id>.xlsx`` per assigned expert into ``out``; returns the paths.

    Raises :class:`PanelSheetError` (round ``rnd - 1`` not collected, no panel criteria, no
    candidates or experts) before anything is written; the files are written to a temporary
    name and renamed, so a failed run leaves no half-written workbook.
    """
    province = str(province)
    if lang not in SHEET_NAMES:
        raise EvalkitError(f"The 'lang' parameter of write_sheets must be 'zh' or 'en'; got {lang!r} instead.")
    crits = panel_criteria(rubric)
    plan = assignments(ds, rubric, province, int(rnd))
    where = f"province {province}"
    if not crits:
        raise PanelSheetError([Problem("rubric", None, None, "the rubric has no panel criteria")])
    if not plan:
        raise PanelSheetError([Problem(where, None, None, "no expert has an app to score (no experts or no "
                                       "candidates in this province)")])
    notes = _feedback_notes(ds, province, int(rnd), lang)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for a in plan:
        wb = _workbook(a, crits, notes, province, int(rnd), lang)
        path = folder / f"{a.expert_id}.xlsx"
        fd, tmp = tempfile.mkstemp(prefix=f".{a.expert_id}.", suffix=".xlsx", dir=folder)
        os.close(fd)
        try:
            Path(tmp).write_bytes(workbook_bytes(wb))  # same inputs, same bytes
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        paths.append(path)
    return paths


def load_panel_inputs(data_dir: str | Path, provinces: Sequence[str] | None = None,
                      rubric_dir: str | Path | None = None) -> tuple[Any, Any]:
    """(dataset, rubric) for the panel commands: the dataset checked against the rubric's
    criterion ids (only the rows ``provinces`` need, when given)."""
    from evalkit.data.dataset import load_dataset
    from evalkit.rubric import load_rubric

    rb = load_rubric(rubric_dir)
    ds = load_dataset(data_dir, criteria=rb.criterion_ids, provinces=list(provinces) if provinces else None)
    return ds, rb


def sheets_command(data_dir: str | Path, province: str, rnd: int, out: str | Path, lang: str = "zh",
                   rubric_dir: str | Path | None = None) -> list[Path]:
    """``evalkit panel sheets``: load the dataset and rubric, write the round's workbooks."""
    ds, rb = load_panel_inputs(data_dir, [province], rubric_dir)
    return write_sheets(ds, rb, province, rnd, out, lang)
