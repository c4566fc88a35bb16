"""Excel workbooks as datasets (docs/dataset.md, "Excel workbooks").

Workbooks are written with openpyxl as Excel users make them: real date cells, numbers,
TRUE/FALSE cells, numbers typed as text, merged cells, formulas, hidden sheets, a title row
above the header.  Each problem class asserts its sheet and cell (``dataset.xlsx!apps!E3``).
A formula's calculated value (which only Excel writes) is put into the package by hand, as
Excel saves it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _mini

from evalkit.data import descriptions, schema
from evalkit.data.dataset import load_by_province, load_dataset
from evalkit.errors import DataError, Problem

_KINDS = {t: {c.name: c.kind for c in table.columns} for t, table in schema.TABLES.items()}


def _value(kind: str | None, v: str) -> object:
    """A cell as an Excel user types it: dates as date cells, numbers as numbers, true/false
    as TRUE/FALSE; other text as text."""
    if v == "":
        return None
    if kind == "date":
        return dt.date.fromisoformat(v)
    if kind in ("int", "float"):
        return float(v) if "." in v else int(v)
    if kind == "bool" and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


def _put(ws, row: int, col: int, value: object) -> None:  # noqa: ANN001
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value[:1] in "=+-@":
        cell.data_type = "s"  # provider text typed as text, never a formula


def write_book(path: Path, tables: dict[str, pd.DataFrame] | None = None, *,
               sheet_names: dict[str, str] | None = None, typed: bool = True) -> Path:
    """``tables`` (default: the mini dataset) as one workbook, a sheet per table."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, frame in (_mini.mini_tables() if tables is None else tables).items():
        ws = wb.create_sheet((sheet_names or {}).get(name, name))
        for j, column in enumerate(frame.columns, start=1):
            ws.cell(row=1, column=j, value=column)
        for i, row in enumerate(frame.itertuples(index=False), start=2):
            for j, (column, v) in enumerate(zip(frame.columns, row, strict=True), start=1):
                _put(ws, i, j, _value(_KINDS[name].get(column), v) if typed else (v or None))
    wb.save(path)
    return path


def problems_of(path: Path, **kw: object) -> list[str]:
    try:
        ds = load_dataset(path, criteria=_mini.CRITERIA, **kw)
    except DataError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in ds.warnings]


def edit(path: Path, change) -> Path:  # noqa: ANN001
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    return write_book(tmp_path / "dataset.xlsx")


def _csv_dataset(tmp_path: Path):  # noqa: ANN202
    return load_dataset(_mini.write_tables(tmp_path / "csv"), criteria=_mini.CRITERIA)


# ---------------------------------------------------------------------------------------------
# Reading


def test_typed_workbook_loads_as_the_csv_does(tmp_path: Path, book: Path) -> None:
    ds = load_dataset(book, criteria=_mini.CRITERIA)
    ref = _csv_dataset(tmp_path)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(ds.tables[name], ref.tables[name], obj=name)
    assert ds.files["apps"] == book and ds.path == book
    assert [str(w) for w in ds.warnings] == [str(w) for w in ref.warnings]


def test_text_cells_and_chinese_sheet_names(tmp_path: Path) -> None:
    path = write_book(tmp_path / "数据.xlsx", typed=False, sheet_names=descriptions.SHEET_NAMES_ZH)
    ds = load_dataset(path, criteria=_mini.CRITERIA)
    ref = _csv_dataset(tmp_path)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(ds.tables[name], ref.tables[name], obj=name)


def test_excel_spellings(tmp_path: Path, book: Path) -> None:
    """Numbers stored as text, a leading apostrophe, trailing blanks, TRUE/FALSE and 是/否,
    a date typed as text next to date cells, empty trailing rows."""
    def change(wb: openpyxl.Workbook) -> None:
        providers, apps = wb["providers"], wb["apps"]
        providers["G2"] = "3"            # mlps_level: a number stored as text
        providers["G3"] = "'2"           # pasted with the apostrophe that forces text
        apps["E2"] = "learning  "       # category with trailing blanks
        apps["H2"], apps["H3"] = True, "是"
        apps["O2"] = "2022-03-01"        # filed_on typed as text; the others are date cells
        for r in range(6, 40):           # empty trailing rows (formatted, no values)
            apps.cell(row=r, column=1).number_format = "@"
        apps["N6"] = "  "

    ds = load_dataset(edit(book, change), criteria=_mini.CRITERIA)
    assert ds.providers["mlps_level"].tolist()[:2] == [3, 2]
    assert ds.apps["category"].iloc[0] == "learning"
    assert ds.apps["minors_primary"].tolist()[:2] == [True, True]
    assert ds.apps["filed_on"].iloc[0] == pd.Timestamp("2022-03-01")
    assert len(ds.apps) == 4


def test_header_in_chinese_and_a_title_row(tmp_path: Path, book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        zh = ["统一社会信用代码", "提供者名称", "住所地省份代码", "法定代表人", "ICP备案号",
              "增值电信业务经营许可证号", "网络安全等级保护级别", "等级保护备案编号", "最近一次等级测评日期"]
        for cell, name in zip(wb["providers"][1], zh, strict=True):
            cell.value = name
        apps = wb["apps"]
        apps.insert_rows(1)
        apps["A1"] = "北京市教育移动应用备案登记表"
        apps.merge_cells("A1:F1")
        apps["E4"] = "edu"  # the third app (data row 2 after the title)

    lines = problems_of(edit(book, change))
    assert "dataset.xlsx!apps: warning: rows 1–1 above the header (row 2) are ignored" in lines
    assert any(line.startswith("dataset.xlsx!apps!E4: unknown category 'edu'") for line in lines)
    assert not any("providers" in line for line in lines), lines


# ---------------------------------------------------------------------------------------------
# Problems, each with its sheet and cell


def test_address_format_and_every_problem_at_once(book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb["apps"]["E3"] = "edu"
        wb["apps"]["O4"] = "2024/06/30"
        wb["submissions"]["B2"] = 99

    with pytest.raises(DataError) as err:
        load_dataset(edit(book, change), criteria=_mini.CRITERIA)
    found = {(p.file, p.sheet, p.cell, p.column, p.row) for p in err.value.errors}
    assert ("dataset.xlsx", "apps", "E3", "category", 2) in found
    assert ("dataset.xlsx", "apps", "O4", "filed_on", 3) in found
    assert ("dataset.xlsx", "submissions", "B2", "province_code", 1) in found
    lines = [str(p) for p in err.value.errors]
    assert lines[0].startswith("dataset.xlsx!apps!E3: unknown category 'edu'")
    p = next(p for p in err.value.errors if p.cell == "E3")
    assert p.to_dict() | {"message": ""} == {"file": "dataset.xlsx", "row": 2, "column": "category",
                                            "severity": "error", "code": "unknown_code",
                                            "message": "", "sheet": "apps", "cell": "E3"}
    # the CSV form is unchanged
    assert str(Problem("apps.csv", 2, "category", "x")) == "apps.csv:2:category: x"


def test_a_blank_row_keeps_the_excel_row_numbers(book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb["apps"].insert_rows(3)   # an empty row between the first and second app
        wb["apps"]["E5"] = "edu"    # now the third app

    lines = problems_of(edit(book, change))
    assert any(line.startswith("dataset.xlsx!apps!E5: unknown category 'edu'") for line in lines)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda wb: wb["apps"].__setitem__("O3", dt.datetime(2022, 5, 10, 14, 30)),
     "dataset.xlsx!apps!O3: "),
    (lambda wb: wb["apps"].__setitem__("M2", dt.date(2024, 6, 12)),
     "dataset.xlsx!apps!M2: Excel turned this value into the date 2024-06-12: format the column as "
     "Text and type it again (e.g. 6-12)"),
    (lambda wb: wb["ahp_judgments"].__setitem__("E3", dt.datetime(2026, 1, 3)),
     "dataset.xlsx!ahp_judgments!E3: Excel turned this value into the date 2026-01-03: format the "
     "column as Text and type it again (e.g. 1/3)"),
    (lambda wb: wb["providers"].__setitem__("A2", 911101081000000161),
     "dataset.xlsx!providers!A2: Excel stored this identifier as the number 9.11101081e+17"),
], ids=["datetime-in-a-date-column", "age-range-as-date", "saaty-as-date", "long-number-id"])
def test_cells_excel_changed(book: Path, change, expected: str) -> None:  # noqa: ANN001
    lines = problems_of(edit(book, change))
    assert any(line.startswith(expected) for line in lines), lines


def test_a_duplicate_names_the_first_copy_by_its_excel_row(book: Path) -> None:
    """Excel rows throughout: the duplicate in row 5 names the first copy's row 2 (data row 1)."""
    def change(wb: openpyxl.Workbook) -> None:
        wb["apps"]["A5"] = wb["apps"]["A2"].value

    lines = problems_of(edit(book, change))
    assert any(line.startswith("dataset.xlsx!apps!A5: duplicate app_id") and line.endswith("(first in row 2)")
               for line in lines), lines


def test_merged_cells(book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb["apps"].merge_cells("E2:E3")  # category of two apps typed once

    lines = problems_of(edit(book, change))
    assert ("dataset.xlsx!apps!E2: cells E2:E3 are merged: only E2 holds the value; unmerge them "
            "and fill every cell") in lines
    assert not any(line.startswith("dataset.xlsx!apps!E3") for line in lines), lines


def test_merged_header_cells(book: Path) -> None:
    lines = problems_of(edit(book, lambda wb: wb["submissions"].merge_cells("D1:E1")))
    assert "dataset.xlsx!submissions!D:D: header cells D1:E1 are merged: give each column its own header cell" \
        in lines


def _cache_values(path: Path, sheet_part: str, values: dict[str, str]) -> None:
    """Give formula cells the calculated value Excel would have saved with them."""
    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    xml = items[sheet_part].decode("utf-8")
    for ref, value in values.items():
        xml, n = re.subn(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>', rf"\g<1><v>{value}</v>", xml)
        assert n == 1, ref
    items[sheet_part] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in items.items():
            z.writestr(n, data)


def test_formulas(book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb["apps"]["N2"] = "=30+10"                         # daily_limit_min
        wb["apps"]["N3"] = "=N2+20"
        wb["apps"]["C4"] = '=CONCATENATE("云","课堂")'      # name, required

    edit(book, change)
    lines = problems_of(book)
    assert ("dataset.xlsx!apps!N2: the formula =30+10 has no calculated value (the workbook was not "
            "saved by Excel): type the value, or open and save the workbook in Excel") in lines
    assert any(line.startswith("dataset.xlsx!apps!C4: the formula =CONCATENATE(") for line in lines)
    assert not any("name is empty" in line for line in lines), lines  # reported once, as a formula
    # once Excel has saved the values, they are used (with a warning); formulas are never evaluated
    edit(book, lambda wb: wb["apps"].__setitem__("C4", "云课堂"))
    _cache_values(book, "xl/worksheets/sheet2.xml", {"N2": "40", "N3": "60"})
    ds = load_dataset(book, criteria=_mini.CRITERIA)
    assert ds.apps["daily_limit_min"].tolist()[:2] == [40, 60]
    assert ("dataset.xlsx!apps!N:N: warning: 2 cell(s) of daily_limit_min hold formulas: the values "
            "Excel last calculated are used") in [str(w) for w in ds.warnings]


def test_hidden_rows_and_columns_are_read_with_a_warning(book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb["apps"].row_dimensions[3].hidden = True
        wb["apps"].column_dimensions["D"].hidden = True

    ds = load_dataset(edit(book, change), criteria=_mini.CRITERIA)
    assert len(ds.apps) == 4
    lines = [str(w) for w in ds.warnings]
    assert ("dataset.xlsx!apps: warning: row 3 is hidden: it is read all the same (delete it if it is "
            "not part of the table)") in lines
    assert "dataset.xlsx!apps!D:D: warning: the column is hidden: it is read all the same" in lines


def test_error_values(book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        cell = wb["apps"]["B3"]
        cell.value, cell.data_type = "#N/A", "e"  # a failed VLOOKUP of the provider

    lines = problems_of(edit(book, change))
    assert "dataset.xlsx!apps!B3: the cell shows the Excel error #N/A: correct it or type the value" in lines
    assert not any(line.startswith("dataset.xlsx!apps!B3: provider_id is empty") for line in lines)


def test_sheets_hidden_missing_unknown_and_doubled(book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb["experts"].sheet_state = "hidden"
        del wb["violations"]
        wb.create_sheet("Sheet1")["A1"] = "notes"
        wb.create_sheet("说明")["A1"] = "instructions"

    lines = problems_of(edit(book, change))
    assert ("dataset.xlsx!experts: warning: the sheet is hidden: it is read all the same as experts "
            "(unhide it, or delete it if it is not the table)") in lines
    assert any(line.startswith("dataset.xlsx!violations: warning: optional sheet is absent: violations "
                               "is empty (it is the source of sanctions") for line in lines)
    assert any(line.startswith("dataset.xlsx!Sheet1: warning: the sheet is not a table") for line in lines)
    assert not any("说明" in line for line in lines)
    lines = problems_of(edit(book, lambda wb: wb.copy_worksheet(wb["apps"]).__setattr__("title", "应用")))
    assert "dataset.xlsx!apps: the sheets apps and 应用 both hold apps: keep only one" in lines
    edit(book, lambda wb: wb.remove(wb["apps"]))
    lines = problems_of(edit(book, lambda wb: wb.remove(wb["应用"])))
    assert any(line.startswith("dataset.xlsx!apps: required sheet is missing (name it apps or 应用; the "
                               "sheets are: providers, submissions") for line in lines), lines


def test_empty_sheet_and_unreadable_workbooks(tmp_path: Path, book: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        ws = wb["complaints"]
        ws.delete_rows(1, ws.max_row)

    lines = problems_of(edit(book, change))
    assert ("dataset.xlsx!complaints: the sheet is empty: row 1 must be the header row naming the "
            "columns") in lines
    fake = tmp_path / "fake.xlsx"
    fake.write_text("app_id,name\n", encoding="utf-8")
    assert problems_of(fake) == [
        "fake.xlsx: is not a readable .xlsx workbook (not a ZIP package: an old .xls, a password-protected "
        "or damaged workbook, or another file renamed?): save it as 'Excel Workbook (*.xlsx)' without a password"]
    damaged = write_book(tmp_path / "damaged.xlsx")
    with zipfile.ZipFile(damaged) as z:
        items = {n: z.read(n) for n in z.namelist()}
    items["xl/worksheets/sheet2.xml"] = b"<worksheet><sheetData><row r='1'><c r='A1'"  # apps, cut
    with zipfile.ZipFile(damaged, "w") as z:
        for n, data in items.items():
            z.writestr(n, data)
    lines = problems_of(damaged)
    assert any(line.startswith("damaged.xlsx!apps: the sheet cannot be read (") for line in lines), lines
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    assert problems_of(old)[0].endswith("the dataset folder is neither a folder nor an .xlsx workbook")


def test_a_workbook_per_table_in_a_folder(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path / "ds")
    tables = _mini.mini_tables()
    (folder / "apps.csv").unlink()
    write_book(folder / "apps.xlsx", {"apps": tables["apps"]}, sheet_names={"apps": "Sheet1"})
    ds = load_dataset(folder, criteria=_mini.CRITERIA)
    pd.testing.assert_frame_equal(ds.apps, _csv_dataset(tmp_path).apps)
    edit(folder / "apps.xlsx", lambda wb: wb["Sheet1"].__setitem__("E2", "edu"))
    lines = problems_of(folder)
    assert any(line.startswith("apps.xlsx!Sheet1!E2: unknown category 'edu'") for line in lines)
    write_book(folder / "dataset.xlsx")  # a whole-dataset workbook dropped into a folder
    _mini.write_tables(folder, {"apps": tables["apps"]})
    lines = problems_of(folder)
    assert "apps.csv: both apps.csv and apps.xlsx exist: keep only one" in lines
    assert (f"dataset.xlsx: warning: is not a file of the dataset contract: ignored: a workbook holding "
            f"every table is itself the dataset (evalkit validate {folder / 'dataset.xlsx'})") in lines


def test_errors_are_attributed_to_provinces(book: Path) -> None:
    # the Guangdong app's category: only province 44 needs that row
    check = load_by_province(edit(book, lambda wb: wb["apps"].__setitem__("E4", "edu")),
                             criteria=_mini.CRITERIA)
    assert set(check.blocked) == {"44"}
    (p,) = check.blocked["44"]
    assert (p.file, p.sheet, p.cell) == ("dataset.xlsx", "apps", "E4")
    assert check.dataset is not None and "教APP备4400003号" not in set(check.dataset.apps["app_id"])


def test_provider_text_is_data_never_a_formula(book: Path) -> None:
    payloads = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "=HYPERLINK(\"http://x\",\"y\")"]

    def change(wb: openpyxl.Workbook) -> None:
        for r, text in enumerate(payloads[:4], start=2):
            _put(wb["apps"], r, 18, text)  # description
        _put(wb["apps"], 2, 3, payloads[4])  # name

    ds = load_dataset(edit(book, change), criteria=_mini.CRITERIA)
    assert ds.apps["description"].tolist() == payloads[:4]
    assert ds.apps["name"].iloc[0] == payloads[4]
    assert not any(w.code == "formula" for w in ds.warnings)


# ---------------------------------------------------------------------------------------------
# The command line, and a round trip through the template


def _evalkit(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], check=False,
                          capture_output=True, text=True, encoding="utf-8", cwd=cwd)


def test_validate_command_on_a_workbook(book: Path) -> None:
    edit(book, lambda wb: wb["apps"].__setitem__("E3", "edu"))
    res = _evalkit("validate", book, "--format", "json")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    listed = json.loads(res.stdout)
    assert {"file": "dataset.xlsx", "sheet": "apps", "cell": "E3", "row": 2,
            "column": "category"}.items() <= next(p for p in listed if p["code"] == "unknown_code").items()
    text = _evalkit("validate", book)
    assert text.stdout.splitlines()[0].startswith("dataset.xlsx!apps!E3: unknown category 'edu'")
    assert f"{book}: invalid: 1 error(s)" in text.stderr


SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
PROVINCE = "31"  # holds the sample's app named =HYPERLINK(...): injection is covered too


def _fill_template(template: Path) -> None:
    """Fill the blank workbook template with the whole sample, typed as an Excel user types."""
    wb = openpyxl.load_workbook(template)
    for name in schema.TABLES:
        ws = wb[descriptions.sheet_name(name, "zh")]
        frame = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        header = [c.value for c in ws[1]]
        assert set(frame.columns) <= set(header)  # the sample leaves some v2 columns out
        kinds = _KINDS[name]
        for i, row in enumerate(frame.itertuples(index=False), start=2):
            for column, v in zip(frame.columns, row, strict=True):
                value = _value(kinds.get(column), v)
                if kinds.get(column) == "bool" and isinstance(value, bool):
                    value = "是" if value else "否"  # as the template's drop-down offers
                _put(ws, i, header.index(column) + 1, value)
    wb.save(template)


@pytest.mark.slow
def test_round_trip_template_to_run(tmp_path: Path) -> None:
    res = _evalkit("template", tmp_path / "t", "--format", "xlsx")
    assert res.returncode == 0, res.stderr
    book = tmp_path / "t" / "dataset.xlsx"
    _fill_template(book)
    check = _evalkit("validate", book)
    assert check.returncode == 0, check.stdout + check.stderr
    outs = {}
    for label, data in (("xlsx", book), ("csv", SAMPLE)):
        outs[label] = tmp_path / label
        run = _evalkit("run", "--data", data, "--province", PROVINCE, "--as-of", "2026-09-01",
                       "--out", outs[label])
        assert run.returncode == 0, run.stderr
    a, b = (outs[k] / "2026-09-01" / PROVINCE for k in ("xlsx", "csv"))
    # every file, the sanction notices (issue 17) included
    files = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file() and p.name != "provenance.json")
    assert "decisions.csv" in files and "recommended_list.xlsx" in files
    assert sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file() and p.name != "provenance.json") \
        == files
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    decisions = (a / "decisions.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in decisions  # provider text neutralised in the published files
    inputs = json.loads((a / "provenance.json").read_text(encoding="utf-8"))
    assert "dataset.xlsx" in json.dumps(inputs, ensure_ascii=False)
    # publish reads the workbook too: the same decisions as run's
    pub = _evalkit("publish", "--data", book, "--provinces", PROVINCE, "--as-of", "2026-09-01",
                   "--out", tmp_path / "pub", "--workers", "1", "--quiet")
    assert pub.returncode == 0, pub.stderr
    published = tmp_path / "pub" / "2026-09-01"
    assert (published / "index.html").is_file()
    for name in ("decisions.csv", "recommended_list.csv", "credit.csv"):
        assert (published / PROVINCE / name).read_bytes() == (a / name).read_bytes(), name
