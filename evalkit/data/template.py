"""Blank dataset templates: header-only CSV files with a README, or one Excel workbook.

Everything written comes from the contract (:mod:`evalkit.data.schema`) and its words
(:mod:`evalkit.data.descriptions`): a column added to the schema appears in every template.

* ``fmt="csv"``: ``<table>.csv`` for every contract table (the header row only, UTF-8) and
  ``README.md`` explaining each column, code list and the date rules (Chinese, or English with
  ``lang="en"``).
* ``fmt="xlsx"``: ``dataset.xlsx``, an instructions sheet first, then one sheet per table (named
  in Chinese with ``lang="zh"``, by the table name with ``lang="en"``; both are accepted on
  read).  Row 1 holds the column names (each with a comment saying what it holds); coded
  columns carry drop-down lists (categories, stages, users, features, roles, levels,
  severities, province codes, and booleans as 是/否 or Yes/No); date columns are formatted as
  dates and identifier and text columns as text, so that Excel keeps ``0011`` or ``6-12`` as
  typed.

Existing files are never overwritten (:class:`TemplateError` names them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit import i18n
from evalkit.data import descriptions, schema
from evalkit.data.exports import workbook_bytes
from evalkit.data.identifiers import PROVINCE_CODES
from evalkit.data.problems import DatasetArgumentError
from evalkit.errors import EvalkitError, choice_message

__all__ = ["FORMATS", "WORKBOOK_NAME", "TemplateError", "column_rows", "write_templates"]

FORMATS: tuple[str, ...] = ("csv", "xlsx")
#: The workbook written by ``fmt="xlsx"``.
WORKBOOK_NAME = "dataset.xlsx"
#: Sheet names of the instructions sheet (ignored when a workbook is read).
INSTRUCTION_SHEETS: tuple[str, ...] = ("说明", "Instructions", "README")

_WORDS: dict[str, tuple[str, str]] = {
    "title": ("evalkit 数据模板", "evalkit dataset template"),
    "intro": (
        "每个表一个文件（CSV 文件须为 UTF-8 编码），第一行为列名，请勿修改列名。providers 和 apps 必填，"
        "其他表可选（缺少时视为空表并给出警告）。",
        "One file per table (CSV files in UTF-8); row 1 holds the column names: keep them as they "
        "are. providers and apps are required; the other tables are optional (an absent one is "
        "empty, with a warning).",
    ),
    "intro_xlsx": (
        "本工作簿每个工作表对应一个表，第一行为列名（鼠标悬停可见说明），请勿修改列名或工作表名称。"
        "providers（提供者）和 apps（应用）必填，其他工作表可以留空。"
        "带下拉列表的列只能填写列表中的代码；可多选的列用 ; 分隔多个代码。",
        "Each sheet of this workbook is one table; row 1 holds the column names (hover for what "
        "each holds): keep them and the sheet names as they are. providers and apps are required; "
        "the other sheets may stay empty. Columns with a drop-down take its codes; list columns "
        "take several codes separated by ;.",
    ),
    "check": (
        "填写完成后运行 `evalkit validate {where}` 检查：所有问题会一次列出，并指明位置。",
        "When filled in, run `evalkit validate {where}`: every problem is listed at once, with "
        "where it is.",
    ),
    "table": ("表", "table"),
    "sheet": ("工作表", "sheet"),
    "column": ("列名", "column"),
    "meaning": ("含义", "meaning"),
    "type": ("类型", "type"),
    "empty": ("可空", "empty ok"),
    "codes": ("代码或规则", "codes or rule"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "required_table": ("必填", "required"),
    "optional_table": ("可选", "optional"),
    "optional_column": ("（v2 可选列，可整列省略）", " (v2 optional column: may be left out)"),
    "code_lists": ("代码表", "Code lists"),
    "provinces": ("省份代码", "Province codes"),
    "booleans": ("是/否", "Booleans"),
    "booleans_text": (
        "是/否列填写 是 或 否；也接受 true/false、yes/no、y/n、1/0、t/f、真/假、有/无（不区分大小写）。",
        "Yes/no columns take Yes or No; true/false, 是/否, y/n, 1/0, t/f, 真/假, 有/无 are accepted too "
        "(any case).",
    ),
    "dates": ("日期规则", "Date rules"),
    "lists": ("多选列用 ; 或全角 ； 分隔，如 primary;junior。",
              "List columns separate codes by ; (or the full-width ；), e.g. primary;junior."),
    "see_docs": ("完整的数据规范见 docs/dataset.md。", "The full contract is in docs/dataset.md."),
}


class TemplateError(EvalkitError, FileExistsError):
    """A template would overwrite an existing file (also a :class:`FileExistsError`)."""


def _w(key: str, lang: str, **fields: object) -> str:
    text = _WORDS[key][i18n.LANGS.index(lang)]
    return text.format(**fields) if fields else text


@dataclass(frozen=True)
class ColumnRow:
    """One column of the contract as the templates explain it."""

    table: str
    column: str
    meaning: str
    kind: str
    nullable: bool
    codes: dict[str, str]
    rule: str


def _rule(col: schema.Column, lang: str) -> str:
    """The range or format rule of a column beyond its kind, in words."""
    parts = []
    if col.kind in ("int", "float") and (col.low is not None or col.high is not None):
        low = "" if col.low is None else f"{'>' if col.low_open else '≥'} {col.low:g}"
        high = "" if col.high is None else f"≤ {col.high:g}"
        parts.append(", ".join(p for p in (low, high) if p))
    if col.event:
        parts.append("不晚于评价基准日" if lang == "zh" else "not after the evaluation date")
    return "; ".join(parts)


def column_rows(lang: str = "zh") -> list[ColumnRow]:
    """Every column of every contract table, explained in ``lang`` (the templates' content)."""
    rows = []
    for name, table in schema.TABLES.items():
        for col in table.columns:
            meaning = descriptions.column_text(name, col.name, lang)
            if col.optional:
                meaning += _w("optional_column", lang)
            codes = {} if col.kind == "province" else descriptions.code_words(name, col.name, lang)
            rows.append(ColumnRow(name, col.name, meaning, descriptions.kind_text(col.kind, lang),
                                  col.nullable, codes, _rule(col, lang)))
    return rows


def _check_args(fmt: object, lang: object) -> None:
    if fmt not in FORMATS:
        raise DatasetArgumentError(choice_message("fmt", "write_templates", fmt, FORMATS))
    if lang not in i18n.LANGS:
        raise DatasetArgumentError(choice_message("lang", "write_templates", lang, i18n.LANGS))


def write_templates(folder: Path, *, fmt: str = "csv", lang: str = "zh") -> list[Path]:
    """Write a blank dataset template into ``folder`` (created if needed).

    Parameters
    ----------
    folder : where the files go.
    fmt : ``"csv"``: one header-only ``<table>.csv`` per contract table and ``README.md``;
        ``"xlsx"``: one workbook, :data:`WORKBOOK_NAME`.
    lang : ``"zh"`` (default) or ``"en"``: the language of the README, the instructions sheet,
        the header comments, the sheet names and the boolean drop-down (是/否 or Yes/No).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    TemplateError
        When one of the files already exists (nothing is written).
    DatasetArgumentError
        For an unknown ``fmt`` or ``lang``.
    """
    _check_args(fmt, lang)
    folder = Path(folder)
    names = ([f"{t}.csv" for t in schema.TABLES] + ["README.md"]) if fmt == "csv" else [WORKBOOK_NAME]
    existing = [n for n in names if (folder / n).exists()]
    if existing:
        raise TemplateError(f"{folder}: {', '.join(existing)} already exist(s): the template "
                            "never overwrites a file (choose an empty folder)")
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        path = folder / WORKBOOK_NAME
        _write_workbook(path, column_rows(lang), lang, instructions(lang, "xlsx"))
        return [path]
    written = []
    for name, table in schema.TABLES.items():
        path = folder / f"{name}.csv"
        path.write_text(",".join(table.column_names) + "\n", encoding="utf-8")
        written.append(path)
    readme = folder / "README.md"
    readme.write_text(readme_text(lang), encoding="utf-8")
    return [*written, readme]


def instructions(lang: str, fmt: str) -> list[str]:
    """The general paragraphs (intro, lists, booleans, dates) of a template, in ``lang``."""
    where = WORKBOOK_NAME if fmt == "xlsx" else "."
    lines = [_w("intro_xlsx" if fmt == "xlsx" else "intro", lang), _w("check", lang, where=where)]
    lines += [_w("lists", lang), _w("booleans_text", lang)]
    lines += [pair[i18n.LANGS.index(lang)] for pair in descriptions.DATE_RULES]
    lines.append(_w("see_docs", lang))
    return lines


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme_text(lang: str = "zh") -> str:
    """The README of the CSV template: every table and column, the code lists, the dates."""
    rows = column_rows(lang)
    yes, no = _w("yes", lang), _w("no", lang)
    out = [f"# {_w('title', lang)}", ""]
    out += [line for text in instructions(lang, "csv")[:3] for line in (text, "")]
    for name, table in schema.TABLES.items():
        need = _w("required_table" if table.required else "optional_table", lang)
        out += [f"## {name}.csv ({descriptions.SHEET_NAMES_ZH[name]}, {need})", "",
                descriptions.table_text(name, lang), "",
                f"| {_w('column', lang)} | {_w('meaning', lang)} | {_w('type', lang)} | "
                f"{_w('empty', lang)} | {_w('codes', lang)} |", "|---|---|---|---|---|"]
        for r in (r for r in rows if r.table == name):
            rule = " ".join(f"`{c}`" for c in r.codes) or r.rule
            out.append(f"| `{r.column}` | {_md_cell(r.meaning)} | {_md_cell(r.kind)} | "
                       f"{yes if r.nullable else no} | {_md_cell(rule)} |")
        out.append("")
    out += [f"## {_w('code_lists', lang)}", ""]
    for (table, column) in descriptions.CODE_VOCABULARIES:
        words = descriptions.code_words(table, column, lang)
        out.append(f"* `{table}.{column}`: " + ", ".join(f"`{c}` {w}" for c, w in words.items()))
    out += ["", f"## {_w('provinces', lang)}", "", f"| code | {_w('meaning', lang)} |", "|---|---|"]
    for code, word in descriptions.code_words("providers", "province_code", lang).items():
        out.append(f"| `{code}` | {word} |")
    out += ["", f"## {_w('booleans', lang)}", "", _w("booleans_text", lang), "",
            f"## {_w('dates', lang)}", ""]
    out += [f"* {pair[i18n.LANGS.index(lang)]}" for pair in descriptions.DATE_RULES]
    out += ["", _w("see_docs", lang), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The workbook

#: The rows a validation covers (Excel's last row).
_LAST_ROW = 1048576
_TEXT_KINDS = ("id", "text", "code", "list", "idlist", "age_range", "province", "saaty", "value")
_HEAD = ("table", "sheet", "column", "meaning", "type", "empty", "codes")


def _choices(col: schema.Column, codes: dict[str, str]) -> list[str] | None:
    """The drop-down values of a column, or None."""
    if col.kind == "province":
        return list(PROVINCE_CODES)
    if col.kind == "bool":
        return list(codes)
    if col.kind in ("code", "list"):
        return list(col.codes)
    return None


def _validation(col: schema.Column, choices: list[str], lang: str):  # noqa: ANN202
    from openpyxl.worksheet.datavalidation import DataValidation

    several = col.kind == "list"
    prompt = ("可多选：用 ; 分隔多个代码" if lang == "zh" else "several codes: separate them by ;") \
        if several else ("请从下拉列表中选择" if lang == "zh" else "pick one from the list")
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"',
                        allow_blank=True, showDropDown=False)
    dv.prompt, dv.showInputMessage = prompt, True
    # a list column holds several codes: the drop-down helps, a typed list must stay possible
    dv.showErrorMessage = not several
    dv.error = ("不是列表中的代码" if lang == "zh" else "not a code of the list")
    return dv


def _table_sheet(wb, name: str, rows: Sequence[ColumnRow], lang: str) -> None:  # noqa: ANN001
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    table = schema.TABLES[name]
    ws = wb.create_sheet(descriptions.sheet_name(name, lang))
    explained = {r.column: r for r in rows if r.table == name}
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for i, col in enumerate(table.columns, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=col.name)
        cell.font, cell.fill = bold, fill
        row = explained[col.name]
        note = f"{row.meaning}\n{row.kind}" + (f"\n{row.rule}" if row.rule else "")
        cell.comment = Comment(note, "evalkit", width=260, height=110)
        ws.column_dimensions[letter].width = max(12, min(40, len(col.name) + 6))
        if col.kind == "date":
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
        elif col.kind in _TEXT_KINDS:
            ws.column_dimensions[letter].number_format = "@"
        choices = _choices(col, row.codes)
        if choices:
            dv = _validation(col, choices, lang)
            dv.add(f"{letter}2:{letter}{_LAST_ROW}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"


def _instructions_sheet(wb, rows: Sequence[ColumnRow], lang: str,  # noqa: ANN001
                        paragraphs: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font

    ws = wb.active
    ws.title = "说明" if lang == "zh" else "Instructions"
    bold = Font(bold=True)
    r = 1
    for text in paragraphs:
        ws.cell(row=r, column=1, value=text).alignment = Alignment(wrap_text=False)
        r += 1
    r += 1
    for i, head in enumerate(_HEAD, start=1):
        head = _w(head, lang)
        ws.cell(row=r, column=i, value=head).font = bold
    r += 1
    for row in rows:
        codes = "; ".join(f"{c} = {w}" if c.lower() != w.lower() else c for c, w in row.codes.items())
        if schema.TABLES[row.table].column(row.column).kind == "province":
            codes = "; ".join(f"{c} = {w}" for c, w in
                              descriptions.code_words(row.table, row.column, lang).items())
        values = (row.table, descriptions.sheet_name(row.table, lang), row.column, row.meaning,
                  row.kind, _w("yes" if row.nullable else "no", lang), codes or row.rule)
        for i, value in enumerate(values, start=1):
            ws.cell(row=r, column=i, value=value)
        r += 1
    for letter, width in zip("ABCDEFG", (16, 16, 20, 44, 34, 8, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(row=len(paragraphs) + 3, column=1)


def _write_workbook(path: Path, rows: Sequence[ColumnRow], lang: str,
                   paragraphs: Sequence[str]) -> None:
    """Write the workbook template to ``path`` (through a temporary file in its folder)."""
    from openpyxl import Workbook

    wb = Workbook()
    _instructions_sheet(wb, rows, lang, paragraphs)
    for name in schema.TABLES:
        _table_sheet(wb, name, rows, lang)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(workbook_bytes(wb))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
