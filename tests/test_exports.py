"""Tests of evalkit.data.exports: deterministic bytes, formula neutralisation, no personal data."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from evalkit.data import exports
from evalkit.errors import PublishError

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\tTAB",
    "\rCR",
    "  =1+1",
    " +1",
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "app_id": pd.Series(["b", "a", "c"], dtype="str"),
            "app_name": pd.Series(["智慧课堂", '=HYPERLINK("http://x","y")', '"quoted, comma"\nline'], dtype="str"),
            "total_score": [81.234567, -2.5, np.nan],
            "rank": pd.array([2, 1, None], dtype="Int64"),
            "ok": pd.array([True, False, None], dtype="boolean"),
            "on": pd.to_datetime(["2026-01-02", None, "2025-12-31"]),
        }
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_cells_are_neutralised(text: str) -> None:
    assert exports.is_formula(text)
    assert exports.neutralise(text) == "'" + text
    s = exports.neutralise_series(pd.Series([text, "plain"], dtype="str"))
    assert s.tolist() == ["'" + text, "plain"]


@pytest.mark.parametrize("text", ["智慧课堂", "a=b", "-3.5", "-12", "email@x.cn", ""])
def test_safe_cells_untouched(text: str) -> None:
    assert exports.neutralise(text) == text


def test_csv_bytes_bom_lf_sorted_fixed_floats(tmp_path) -> None:
    p = exports.write_csv(_frame(), tmp_path / "x.csv", sort_by=["app_id"])
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw.replace(b'\n"', b"")  # only LF line endings
    back = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back["app_id"].tolist() == ["a", "b", "c"]
    # the formula is neutralised, real negative numbers stay numbers
    assert back.loc[0, "app_name"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert back.loc[0, "total_score"] == "-2.5000"
    assert back.loc[1, "total_score"] == "81.2346"
    assert back.loc[2, "total_score"] == ""
    assert back["rank"].tolist() == ["1", "2", ""]
    assert back["ok"].tolist() == ["false", "true", ""]
    assert back["on"].tolist() == ["", "2026-01-02", "2025-12-31"]
    assert back.loc[2, "app_name"] == '"quoted, comma"\nline'


def test_csv_is_independent_of_row_order(tmp_path) -> None:
    f = _frame()
    a = exports.write_csv(f, tmp_path / "a.csv", sort_by=["app_id"]).read_bytes()
    b = exports.write_csv(f.iloc[::-1], tmp_path / "b.csv", sort_by=["app_id"]).read_bytes()
    assert a == b


def test_xlsx_identical_bytes_and_neutralised(tmp_path) -> None:
    from openpyxl import load_workbook

    a = exports.write_xlsx(_frame(), tmp_path / "a.xlsx", sort_by=["app_id"]).read_bytes()
    b = exports.write_xlsx(_frame().iloc[::-1], tmp_path / "b.xlsx", sort_by=["app_id"]).read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
        assert "2000-01-01T00:00:00Z" in core
    ws = load_workbook(tmp_path / "a.xlsx").active
    rows = list(ws.values)
    assert rows[0] == ("app_id", "app_name", "total_score", "rank", "ok", "on")
    assert rows[1][1].startswith("'=")
    assert rows[1][2] == -2.5 and isinstance(rows[1][2], float)  # numeric, not text
    assert rows[2][2] == pytest.approx(81.2346)


def test_json_sorted_utf8_fixed_floats(tmp_path) -> None:
    p = exports.write_json({"z": 1.23456789, "a": "北京", "rows": _frame(), "nan": float("nan")}, tmp_path / "x.json")
    text = p.read_text(encoding="utf-8")
    assert "北京" in text  # ensure_ascii=False
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["z"] == 1.2346 and data["nan"] is None
    assert [r["app_id"] for r in data["rows"]] == ["a", "b", "c"]
    assert data["rows"][1]["rank"] == 2 and data["rows"][0]["on"] is None


@pytest.mark.parametrize("column", ["contact", "text"])
def test_personal_data_columns_refused(tmp_path, column: str) -> None:
    f = _frame().assign(**{column: "13800138000"})
    with pytest.raises(PublishError, match="personal data"):
        exports.write_csv(f, tmp_path / "x.csv")
    with pytest.raises(PublishError, match="personal data"):
        exports.write_xlsx(f, tmp_path / "x.xlsx")
    with pytest.raises(PublishError, match="personal data"):
        exports.write_json({"rows": [{column: "x"}]}, tmp_path / "x.json")


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="'frame' parameter of format_frame"):
        exports.format_frame([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'columns' parameter"):
        exports.format_frame(_frame(), columns=["nope"])


def test_sha256(tmp_path) -> None:
    p = tmp_path / "a.bin"
    p.write_bytes(b"abc")
    assert exports.file_sha256(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
