"""Dataset templates (`evalkit template`, `evalkit.data.template.write_templates`).

The templates are read back as a user's tools read them: CSV headers with the csv module, the
workbook with openpyxl (sheet names, header rows, data-validation lists, number formats).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from evalkit.data import descriptions, schema
from evalkit.data.identifiers import PROVINCE_CODES
from evalkit.data.problems import DatasetArgumentError
from evalkit.data.template import WORKBOOK_NAME, TemplateError, write_templates


def test_every_table_and_column_is_described_in_both_languages() -> None:
    assert set(descriptions.TABLE_TEXT) == set(schema.TABLES) == set(descriptions.COLUMN_TEXT)
    assert set(descriptions.SHEET_NAMES_ZH) == set(schema.TABLES)
    for name, table in schema.TABLES.items():
        assert set(descriptions.COLUMN_TEXT[name]) == set(table.column_names), name
        for zh, en in descriptions.COLUMN_TEXT[name].values():
            assert zh and en and zh != en
        for col in table.columns:
            assert col.kind in descriptions.KIND_TEXT
            if col.kind in ("code", "list"):  # every coded column has words for its codes
                assert (name, col.name) in descriptions.CODE_VOCABULARIES
                words = descriptions.code_words(name, col.name, "zh")
                assert list(words) == list(col.codes)
                assert all(w != c for c, w in words.items()), (name, col.name)


def test_sheet_names_map_back_to_tables() -> None:
    for name in schema.TABLES:
        assert descriptions.table_for_sheet(name) == name
        assert descriptions.table_for_sheet(f" {name.upper()} ") == name
        assert descriptions.table_for_sheet(descriptions.SHEET_NAMES_ZH[name]) == name
    assert descriptions.table_for_sheet("Sheet1") is None


def test_csv_template_headers_and_readme(tmp_path: Path) -> None:
    written = write_templates(tmp_path / "t")
    assert [p.name for p in written] == [f"{n}.csv" for n in schema.TABLES] + ["README.md"]
    for name, table in schema.TABLES.items():
        with open(tmp_path / "t" / f"{name}.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows == [list(table.column_names)]
    readme = (tmp_path / "t" / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# evalkit 数据模板")
    for name, table in schema.TABLES.items():
        assert f"## {name}.csv" in readme
        for col in table.columns:
            assert f"`{col.name}`" in readme
            assert descriptions.column_text(name, col.name, "zh") in readme
            for code in col.codes:
                assert f"`{code}`" in readme
    for code in PROVINCE_CODES:
        assert f"| `{code}` |" in readme
    assert "新疆生产建设兵团" in readme and "YYYY-MM-DD" in readme and "是/否" in readme
    en = write_templates(tmp_path / "en", lang="en")[-1].read_text(encoding="utf-8")
    assert en.startswith("# evalkit dataset template") and "Date rules" in en
    assert "Xinjiang Production and Construction Corps" in en and "统一社会信用代码" not in en


def test_empty_csv_template_is_a_valid_empty_dataset(tmp_path: Path) -> None:
    from evalkit.data.dataset import load_dataset

    write_templates(tmp_path)
    ds = load_dataset(tmp_path)
    assert all(len(frame) == 0 for frame in ds.tables.values())
    assert {p.code for p in ds.warnings} == {"no_rows"}


def _validations(ws) -> dict[str, str]:  # noqa: ANN001
    found = {}
    for dv in ws.data_validations.dataValidation:
        for ref in str(dv.sqref).split():
            found[ws.cell(row=1, column=openpyxl.utils.column_index_from_string(
                ref.split(":")[0].rstrip("0123456789"))).value] = dv.formula1
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_template(tmp_path: Path, lang: str) -> None:
    (path,) = write_templates(tmp_path, fmt="xlsx", lang=lang)
    assert path.name == WORKBOOK_NAME
    wb = openpyxl.load_workbook(path)
    sheets = [descriptions.sheet_name(n, lang) for n in schema.TABLES]
    assert wb.sheetnames == ["说明" if lang == "zh" else "Instructions", *sheets]
    yes_no = '"是,否"' if lang == "zh" else '"Yes,No"'
    for name, table in schema.TABLES.items():
        ws = wb[descriptions.sheet_name(name, lang)]
        assert [c.value for c in ws[1]] == list(table.column_names)
        assert ws.max_row == 1
        assert all(c.comment is not None for c in ws[1])
        lists = _validations(ws)
        for col in table.columns:
            letter = openpyxl.utils.get_column_letter(table.column_names.index(col.name) + 1)
            fmt = ws.column_dimensions[letter].number_format
            if col.kind in ("code", "list"):
                assert lists[col.name] == '"' + ",".join(col.codes) + '"'
            elif col.kind == "bool":
                assert lists[col.name] == yes_no
            elif col.kind == "province":
                assert lists[col.name] == '"' + ",".join(PROVINCE_CODES) + '"'
            else:
                assert col.name not in lists
            if col.kind == "date":
                assert fmt == "yyyy-mm-dd"
            elif col.kind in ("id", "text", "age_range"):
                assert fmt == "@"
    intro = wb.worksheets[0]
    texts = [v for row in intro.iter_rows(values_only=True) for v in row if v]
    assert f"evalkit validate {WORKBOOK_NAME}" in " ".join(texts)
    assert ("category" in texts) and ("apps" in texts)
    time.sleep(2.1)  # a zip entry's time has a 2-second resolution: a clock in it would show
    (again,) = write_templates(tmp_path / "again", fmt="xlsx", lang=lang)
    assert again.read_bytes() == path.read_bytes()  # same inputs, same bytes


def test_templates_never_overwrite(tmp_path: Path) -> None:
    (tmp_path / "apps.csv").write_text("mine\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="apps.csv"):
        write_templates(tmp_path)
    assert (tmp_path / "apps.csv").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "providers.csv").exists()
    with pytest.raises(DatasetArgumentError, match="'fmt' parameter of write_templates"):
        write_templates(tmp_path, fmt="xls")
    with pytest.raises(DatasetArgumentError, match="'lang' parameter"):
        write_templates(tmp_path, lang="fr")


def test_template_command(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "evalkit", "template", *args], check=False,
                              capture_output=True, text=True, encoding="utf-8")

    res = run(str(tmp_path / "t"), "--format", "xlsx", "--lang", "en")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(tmp_path / "t" / WORKBOOK_NAME)
    assert "evalkit validate" in res.stderr
    again = run(str(tmp_path / "t"), "--format", "xlsx")
    assert again.returncode == 1 and "never overwrites" in again.stderr
    assert "Traceback" not in again.stderr
    bad = run(str(tmp_path / "u"), "--format", "xls")
    assert bad.returncode == 2 and "--format must be one of csv, xlsx" in bad.stderr
    csv_res = run(str(tmp_path / "c"), "--format", "csv")
    assert csv_res.returncode == 0 and (tmp_path / "c" / "README.md").exists()
