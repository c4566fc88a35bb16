"""Reading Excel workbooks (``.xlsx``/``.xlsm``) as the text frames the CSV reader produces.

A dataset may be one workbook with a sheet per table, or a folder with one workbook per table
(docs/dataset.md, "Excel workbooks").  Sheets are read with python-calamine (Rust; about ten
times faster than openpyxl, benchmarks/README.md); the few things calamine does not say
(formulas and whether they hold a calculated value) are read from the sheet's XML, only in
sheets that hold formulas.  Every cell becomes the text a CSV would hold, so that the same
conversion and checks (:mod:`evalkit.data.convert`, :mod:`evalkit.data.checks`) run:

* numbers: ``12`` (not ``12.0``), ``7.5``; booleans ``true``/``false``; dates ``YYYY-MM-DD``
  (a date cell with a time of day keeps it, and the date check reports it); times ``HH:MM:SS``;
  numbers typed as text are text, which the conversion reads as numbers;
* outside free text, a leading apostrophe (``'0011``, pasted from a system that forces text)
  is dropped; surrounding blanks are dropped by the conversion, as for CSV;
* an identifier Excel stored as a number of 16 digits or more has lost its last digits: an
  error; a date cell in ``age_range`` or a Saaty ``value`` (Excel turns ``6-12`` into 12 June
  and ``1/3`` into 3 January): an error;
* an Excel error value (``#N/A``, ``#DIV/0!``, ...): an error;
* a formula: the value Excel last calculated is used (one warning per column says so); a
  formula without a calculated value (a workbook written by a program, never saved by Excel)
  cannot be read: an error naming the formula.  Formulas are never evaluated;
* merged cells (the value sits in the top-left cell only): an error naming the range;
* hidden rows and columns are read all the same, with a warning;
* fully empty rows (trailing rows included) are skipped; data row ``r`` is Excel row
  ``header + r`` so that problems carry the sheet's addresses (:class:`Place`).

The header is the first row naming a column of the table (rows above it, a title, are
ignored with a warning); a header cell may hold the column's name or its Chinese or English
label (:mod:`evalkit.data.descriptions`).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from evalkit.data import descriptions
from evalkit.data.problems import Place, ProblemLog
from evalkit.data.read import dedupe_names
from evalkit.data.schema import Table

__all__ = ["EXCEL_SUFFIXES", "INSTRUCTION_SHEETS", "Workbook", "is_workbook", "open_workbook",
           "read_sheet", "read_table_workbook", "table_sheets"]

EXCEL_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")
#: Sheets of instructions (the template's): never a table, ignored without a warning.
INSTRUCTION_SHEETS: frozenset[str] = frozenset({"说明", "instructions", "readme", "填写说明"})
_ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                           "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                           "#UNKNOWN!", "#CONNECT!", "#BUSY!"})
_HEADER_SEARCH = 20  # rows searched for the header
#: Column kinds whose entries Excel turns into dates when typed into a General cell, with an
#: example of each (``6-12`` becomes 12 June, ``1/3`` 3 January).
_DATE_PRONE: dict[str, str] = {"age_range": "6-12", "saaty": "1/3"}
_EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number
#: Bytes that occur in a sheet's XML only when it holds a formula or an error cell.
#: (A false alarm, e.g. ``<firstFooter``, only costs the parse that finds nothing.)
_SPECIAL_MARKS: tuple[bytes, ...] = (b"<f", b":f>", b":f ", b't="e"', b"hidden=")
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def is_workbook(path: Path) -> bool:
    """Whether ``path`` names an Excel workbook (by its suffix)."""
    return path.suffix.lower() in EXCEL_SUFFIXES


def _column_letter(i: int) -> str:
    """Excel's letter of the 0-based column ``i`` (0 → A, 26 → AA)."""
    letters = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell_ref(ref: str) -> tuple[int, int]:
    """0-based (row, column) of an A1 reference."""
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    if m is None:
        return -1, -1
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


# ---------------------------------------------------------------------------------------------
# The workbook


@dataclass
class Workbook:
    """An open workbook: its name in problems, calamine's reader and its sheets' XML parts."""

    name: str
    path: Path
    book: Any
    sheets: list[tuple[str, bool]]  # (sheet name, visible) of each worksheet, in order
    parts: dict[str, str] = field(default_factory=dict)  # sheet name -> XML part in the zip

    def close(self) -> None:
        self.book.close()


def open_workbook(path: Path, name: str, out: ProblemLog) -> Workbook | None:
    """Open a workbook; None (with a problem naming ``name``) when it cannot be read."""
    import python_calamine as calamine

    if path.suffix.lower() not in EXCEL_SUFFIXES:
        out.add(name, None, None, "is not an .xlsx workbook: save it as 'Excel Workbook (*.xlsx)'",
                code="not_xlsx")
        return None
    with open(path, "rb"):  # an OSError (permission denied) says its own reason to the caller
        pass
    if not zipfile.is_zipfile(path):
        out.add(name, None, None, "is not a readable .xlsx workbook (not a ZIP package: an old "
                ".xls, a password-protected or damaged workbook, or another file renamed?): save it as "
                "'Excel Workbook (*.xlsx)' without a password",
                code="not_xlsx")
        return None
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        sheets = [(m.name, str(m.visible).endswith("Visible")) for m in book.sheets_metadata
                  if str(m.typ).endswith("WorkSheet")]
        parts = _sheet_parts(path)
    except (calamine.CalamineError, zipfile.BadZipFile, ElementTree.ParseError, KeyError,
            ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        out.add(name, None, None, f"is not a readable .xlsx workbook ({reason})", code="not_xlsx")
        return None
    return Workbook(name, path, book, sheets, parts)


def _sheet_parts(path: Path) -> dict[str, str]:
    """``{sheet name: its XML part}`` from the package's workbook part and relationships."""
    with zipfile.ZipFile(path) as z:
        workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL_NS}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(f"{_REL_NS}id"), "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        parts[sheet.get("name", "")] = part
    return parts


def _special_cells(book: Workbook, sheet: str) -> dict[tuple[int, int], tuple[str, str]]:
    """The cells calamine cannot describe, ``{(row, column): (what, text)}`` (0-based), read
    from the sheet's XML only when it holds any: ``("formula", f)`` a formula with a value
    Excel calculated, ``("unvalued", f)`` a formula without one, ``("error", "#N/A")`` an
    Excel error value (calamine reads these as empty cells); hidden rows and columns as
    ``(row, -1)`` and ``(-1, column)``, ``("hidden", "")``."""
    part = book.parts.get(sheet)
    if part is None:
        return {}
    with zipfile.ZipFile(book.path) as z:
        try:
            data = z.read(part)
        except KeyError:
            return {}
    if not any(mark in data for mark in _SPECIAL_MARKS):
        return {}
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for _, elem in ElementTree.iterparse(_Bytes(data)):
        if elem.tag in (f"{_MAIN_NS}row", f"{_MAIN_NS}col"):
            if elem.get("hidden") in ("1", "true"):
                if elem.tag.endswith("row"):
                    found[(int(elem.get("r", "0")) - 1, -1)] = ("hidden", "")
                else:
                    for c in range(int(elem.get("min", "1")), int(elem.get("max", "1")) + 1):
                        found[(-1, c - 1)] = ("hidden", "")
            elem.clear()
            continue
        if elem.tag != f"{_MAIN_NS}c":
            continue
        f, v = elem.find(f"{_MAIN_NS}f"), elem.find(f"{_MAIN_NS}v")
        where = _cell_ref(elem.get("r", ""))
        if elem.get("t") == "e":
            found[where] = ("error", (v.text if v is not None else None) or "#VALUE!")
        elif f is not None:
            valued = (v is not None and bool(v.text)) or elem.get("t") == "str"
            found[where] = ("formula" if valued else "unvalued", f.text or "")
        elem.clear()
    return found


class _Bytes:
    """A file-like view of bytes for iterparse."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.pos + n
        chunk, self.pos = self.data[self.pos:end], min(end, len(self.data))
        return chunk


# ---------------------------------------------------------------------------------------------
# Cells as text


def _number_text(v: float) -> str:
    if v == int(v) and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def _text(v: object) -> str:
    """The text a CSV would hold for one cell's value."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _number_text(float(v))
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


@dataclass
class _Column:
    """One column's cells on their way to text, and what the reader found in them."""

    name: str
    kind: str
    texts: list[str] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # data row -> Excel error value
    long_numbers: dict[int, str] = field(default_factory=dict)
    dates: dict[int, str] = field(default_factory=dict)  # a date cell where text is expected
    unvalued: dict[int, str] = field(default_factory=dict)  # formula without a value
    valued: int = 0  # formulas with a calculated value


def _add_cell(col: _Column, row: int, v: object) -> None:
    """Append one cell's text to ``col``, noting what cannot be taken as typed."""
    if isinstance(v, str):
        if v in _ERROR_VALUES:
            col.errors[row] = v
            v = ""
        elif col.kind != "text" and v.startswith("'"):
            v = v[1:]
        col.texts.append(v)
        return
    if col.kind in ("id", "idlist") and isinstance(v, float) and abs(v) >= 10**_EXACT_DIGITS:
        col.long_numbers[row] = f"{v:.15g}"
        v = None
    if col.kind in _DATE_PRONE and isinstance(v, (dt.date, dt.datetime)):
        col.dates[row] = _text(v)
        v = ""
    col.texts.append(_text(v))


# ---------------------------------------------------------------------------------------------
# One sheet


def _aliases(table: Table) -> dict[str, str]:
    """Header spellings of the table's columns (lower case): the name, and the head of its
    Chinese and English descriptions (``统一社会信用代码``, ``app name``); ambiguous ones dropped."""
    found: dict[str, set[str]] = {}
    for col in table.columns:
        found.setdefault(col.name.lower(), set()).add(col.name)
        for lang in ("zh", "en"):
            text = descriptions.column_text(table.name, col.name, lang)
            head = re.split(r"[（(，,：:]", text, maxsplit=1)[0].strip().lower()
            if head:
                found.setdefault(head, set()).add(col.name)
    return {alias: next(iter(names)) for alias, names in found.items() if len(names) == 1}


def _is_empty(v: object) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _header_row(rows: Sequence[Sequence[object]], aliases: dict[str, str]) -> int | None:
    """The 0-based row of the header: the first naming a column, else the first not empty."""
    first = None
    for i, row in enumerate(rows[:_HEADER_SEARCH]):
        if all(_is_empty(v) for v in row):
            continue
        if first is None:
            first = i
        if any(isinstance(v, str) and v.strip().lower() in aliases for v in row):
            return i
    return first


def read_sheet(book: Workbook, sheet: str, table: Table, label: str,
               out: ProblemLog) -> pd.DataFrame | None:
    """One sheet as the text frame of ``table`` (index = data row), or None (with a problem).

    ``label`` is the name problems use for the table until they get their Excel address
    (a :class:`Place` is registered in ``out.places``)."""
    import python_calamine as calamine

    out.places[label] = Place(book.name, sheet)
    try:
        ws = book.book.get_sheet_by_name(sheet)
        rows = ws.to_python(skip_empty_area=False)
        merged = ws.merged_cell_ranges or []
        special = _special_cells(book, sheet)
    except (calamine.CalamineError, ElementTree.ParseError, zipfile.BadZipFile) as exc:
        out.add(label, None, None, f"the sheet cannot be read ({exc})", code="unreadable")
        return None
    aliases = _aliases(table)
    h = _header_row(rows, aliases)
    if h is None:
        out.add(label, None, None, "the sheet is empty: row 1 must be the header row naming "
                "the columns", code="empty_file")
        return None
    if h > 0:
        out.add(label, None, None, f"rows 1–{h} above the header (row {h + 1}) are ignored",
                severity="warning", code="above_header")
    full = max(map(len, rows[h:]))
    if any(len(r) < full for r in rows[h:]):  # calamine's rows are rectangular; be sure
        rows = [*rows[:h], *(list(r) + [""] * (full - len(r)) for r in rows[h:])]
    cells = list(zip(*rows[h:], strict=True))  # columns of the header and data rows
    width = max((j + 1 for j, c in enumerate(cells) if c.count("") + c.count(None) < len(c)),
                default=0)
    names = dedupe_names([aliases.get(v.lower(), v) for v in
                          (_text(c[0]).strip() for c in cells[:width])], label, out)
    place = Place(book.name, sheet, h + 1, {n: _column_letter(j) for j, n in enumerate(names)})
    out.places[label] = place
    keep = [i for i, row in enumerate(rows[h + 1:], start=1)
            if row[:width].count("") + row[:width].count(None) < width]
    while keep and all(_is_empty(v) for v in rows[h + keep[-1]][:width]):
        keep.pop()  # trailing rows of blanks only
    index = pd.Index(keep, dtype="int64")  # data row = Excel row - header row
    kinds = {c.name: c.kind for c in table.columns}
    columns = [_Column(n, kinds.get(n, "text")) for n in names]
    every = len(keep) == len(rows) - h - 1  # no empty row: the columns are taken whole
    for j, col in enumerate(columns):
        values = list(cells[j][1:]) if every else [cells[j][i] for i in keep]
        _fill(col, keep, values, {i - h: s for (i, jj), s in special.items() if jj == j})
    _report(columns, label, out)
    _report_merged(merged, h, names, label, out)
    _report_hidden(special, h, set(keep), names, label, out)
    return pd.DataFrame({c.name: pd.Series(c.texts, index=index, dtype="str") for c in columns},
                        index=index)


def _fill(col: _Column, rows: list[int], values: list[object],
          special: dict[int, tuple[str, str]]) -> None:
    """The texts of one column's cells (``values`` of data ``rows``), noting what cannot be
    taken as typed; a column of plain text (the common case) is taken whole."""
    plain = (set(map(type, values)) <= {str} and _ERROR_VALUES.isdisjoint(values)
             and (col.kind == "text" or "\n'" not in "\n" + "\n".join(values)))  # type: ignore[arg-type]
    if special:
        at = {r: k for k, r in enumerate(rows)}
        for row, (what, text) in special.items():
            if row not in at:
                continue
            if what == "formula":
                col.valued += 1
                continue
            (col.unvalued if what == "unvalued" else col.errors)[row] = text
            values[at[row]] = None
            plain = False
    if plain:
        col.texts = values  # type: ignore[assignment]
        return
    if col.kind in ("id", "idlist", *_DATE_PRONE):
        for row, v in zip(rows, values, strict=True):
            _add_cell(col, row, v)
        return
    memo: dict[tuple[type, object], str] = {}  # numbers and dates repeat: each turned once
    strip = col.kind != "text"
    for row, v in zip(rows, values, strict=True):
        if type(v) is str:
            if v in _ERROR_VALUES:
                col.errors[row], v = v, ""
            elif strip and v[:1] == "'":
                v = v[1:]
            col.texts.append(v)
            continue
        key = (type(v), v)
        text = memo.get(key)
        if text is None:
            text = memo[key] = _text(v)
        col.texts.append(text)


def _report(columns: list[_Column], label: str, out: ProblemLog) -> None:
    """Report what the cells of each column hold that cannot be taken as typed."""
    for col in columns:
        def rows(found: dict[int, str]) -> pd.Series:
            return pd.Series(list(found.values()), index=list(found), dtype="str")

        out.rows(label, col.name, rows(col.errors),
                 lambda v: f"the cell shows the Excel error {v}: correct it or type the value",
                 code="excel_error")
        out.rows(label, col.name, rows(col.unvalued),
                 lambda f: f"the formula ={f} has no calculated value (the workbook was not saved "
                           "by Excel): type the value, or open and save the workbook in Excel",
                 code="formula")
        out.rows(label, col.name, rows(col.long_numbers),
                 lambda v: f"Excel stored this identifier as the number {v} and kept only "
                           f"{_EXACT_DIGITS} digits: format the column as Text and type it again",
                 code="excel_number")
        example = _DATE_PRONE.get(col.kind, "")
        out.rows(label, col.name, rows(col.dates),
                 lambda v, e=example: f"Excel turned this value into the date {v}: format the "
                                      f"column as Text and type it again (e.g. {e})",
                 code="excel_date")
        for found in (col.errors, col.unvalued, col.dates, col.long_numbers):
            out.excuse(label, col.name, found)
        if col.valued:
            out.add(label, None, col.name, f"{col.valued} cell(s) of {col.name} hold formulas: the "
                    "values Excel last calculated are used", severity="warning", code="formula")


def _report_hidden(special: dict[tuple[int, int], tuple[str, str]], h: int, kept: set[int],
                   names: list[str], label: str, out: ProblemLog) -> None:
    """A warning for the hidden data rows and the hidden columns of the table: read all the
    same (hiding a row does not take it out of the table)."""
    rows = sorted(i + 1 for (i, j), (what, _) in special.items()
                  if what == "hidden" and j == -1 and i - h in kept)
    if len(rows) == 1:
        out.add(label, None, None, f"row {rows[0]} is hidden: it is read all the same (delete it "
                "if it is not part of the table)", severity="warning", code="hidden_rows")
    elif rows:
        shown = ", ".join(map(str, rows[:10])) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
        out.add(label, None, None, f"rows {shown} are hidden: they are read all the same (delete "
                "those that are not part of the table)", severity="warning", code="hidden_rows")
    for j in sorted(j for (i, j), (what, _) in special.items() if what == "hidden" and i == -1):
        if j < len(names):
            out.add(label, None, names[j], "the column is hidden: it is read all the same",
                    severity="warning", code="hidden_column")


def _report_merged(ranges: list, h: int, names: list[str], label: str, out: ProblemLog) -> None:
    """One error per merged range at or below the header (its value is in one cell only)."""
    for (r0, c0), (r1, c1) in sorted(ranges):
        if r1 < h or c0 >= len(names):
            continue
        span = f"{_column_letter(c0)}{r0 + 1}:{_column_letter(c1)}{r1 + 1}"
        if r0 <= h:
            out.add(label, None, names[c0], f"header cells {span} are merged: give each column "
                    "its own header cell", code="merged")
            continue
        out.add(label, r0 - h, names[c0], f"cells {span} are merged: only "
                f"{_column_letter(c0)}{r0 + 1} holds the value; unmerge them and fill every cell",
                code="merged")
        for c in range(c0, min(c1, len(names) - 1) + 1):
            out.excuse(label, names[c], [r - h for r in range(r0, r1 + 1)
                                         if (r, c) != (r0, c0)])


# ---------------------------------------------------------------------------------------------
# A workbook of tables, a workbook per table


def table_sheets(book: Workbook, out: ProblemLog) -> dict[str, str | None]:
    """``{table: its sheet}`` of a workbook holding the dataset (``None``: two sheets hold
    it, an error).  Unknown sheets are ignored with a warning, a hidden table sheet is read
    with one; instruction sheets are ignored silently.  Absent tables are not listed."""
    found: dict[str, list[str]] = {}
    for sheet, visible in book.sheets:
        if sheet.strip().lower() in INSTRUCTION_SHEETS:
            continue
        table = descriptions.table_for_sheet(sheet)
        label = f"{book.name}!{sheet}"
        out.places[label] = Place(book.name, sheet)
        hidden = "" if visible else "hidden "
        if table is None:
            out.add(label, None, None, f"the {hidden}sheet is not a table of the dataset contract: "
                    "ignored (a table's sheet is named after it, e.g. apps, or as in the template, "
                    "e.g. 应用)", severity="warning", code="unknown_sheet")
            continue
        if not visible:
            out.add(label, None, None, f"the sheet is hidden: it is read all the same as {table} "
                    "(unhide it, or delete it if it is not the table)", severity="warning",
                    code="hidden_sheet")
        found.setdefault(table, []).append(sheet)
    tables: dict[str, str | None] = {}
    for table, sheets in found.items():
        tables[table] = sheets[0] if len(sheets) == 1 else None
        if len(sheets) > 1:
            out.add(f"{book.name}!{sheets[0]}", None, None, f"the sheets {' and '.join(sheets)} "
                    f"both hold {table}: keep only one", code="both_formats")
    return tables



def read_table_workbook(path: Path, file: str, table: Table, out: ProblemLog) -> pd.DataFrame | None:
    """The table held by a one-table workbook (``apps.xlsx`` in a dataset folder): its sheet
    named after the table (or its Chinese name), else its only sheet."""
    book = open_workbook(path, file, out)
    if book is None:
        return None
    try:
        sheets = [s for s, _ in book.sheets if s.strip().lower() not in INSTRUCTION_SHEETS]
        named = [s for s in sheets if descriptions.table_for_sheet(s) == table.name]
        if len(named) == 1 or len(sheets) == 1:
            return read_sheet(book, named[0] if named else sheets[0], table, file, out)
        zh = descriptions.SHEET_NAMES_ZH[table.name]
        out.add(file, None, None, f"holds {len(sheets)} sheets ({', '.join(sheets)}) and not one "
                f"named {table.name} or {zh}: name the sheet that holds {table.name}",
                code="missing_sheet")
        return None
    finally:
        book.close()
