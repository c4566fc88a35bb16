"""Tests of evalkit.data.dataset / evalkit.data.schema: the dataset contract v1 (DESIGN.md §2).

Each bad-input case breaks a copy of the small valid dataset of ``tests/_mini.py`` in one
way and asserts the exact ``file:row:column:`` of the problem (row 1 = first record after the
header).  The "dozen at once" case breaks it in twelve ways and expects all twelve.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import _mini

from evalkit import DataError
from evalkit.data import checks, convert, read, schema
from evalkit.data.dataset import MAX_PER_KIND, Dataset, flags, load_dataset
from evalkit.data.problems import ProblemLog

ROOT = Path(__file__).resolve().parents[1]


def load(folder: Path, **kw: object) -> Dataset:
    kw.setdefault("as_of", _mini.AS_OF)
    kw.setdefault("criteria", _mini.CRITERIA)
    return load_dataset(folder, **kw)  # type: ignore[arg-type]


def problems(folder: Path, **kw: object) -> list[str]:
    """The rendered problems of a dataset that must fail."""
    with pytest.raises(DataError) as info:
        load(folder, **kw)
    return [str(p) for p in info.value.problems]


def broken(tmp_path: Path, change: Callable[[dict[str, pd.DataFrame]], None]) -> Path:
    tables = _mini.mini_tables()
    change(tables)
    return _mini.write_tables(tmp_path / "ds", tables)


def rename_app(tables: dict[str, pd.DataFrame], old: str, new: str) -> None:
    """Change an app id everywhere it occurs."""
    for frame in tables.values():
        if "app_id" in frame:
            frame["app_id"] = frame["app_id"].replace(old, new)


def has(lines: list[str], prefix: str, fragment: str = "") -> bool:
    return any(line.startswith(prefix) and fragment in line for line in lines)


# ---------------------------------------------------------------------------------------------
# The valid dataset and the in-memory form (docs/architecture.md)


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return load(_mini.write_tables(tmp_path_factory.mktemp("mini")))


def test_mini_loads_without_problems(mini: Dataset) -> None:
    assert mini.warnings == ()
    assert set(mini.tables) == set(schema.TABLE_NAMES)
    assert len(mini.apps) == 4 and len(mini.panel_scores) == 12
    assert mini.files["apps"].name == "apps.csv"
    assert mini.as_of == pd.Timestamp("2024-06-30")


def test_dtypes_follow_the_architecture(mini: Dataset) -> None:
    apps, prov = mini.apps, mini.providers
    assert apps["filed_on"].dtype == "datetime64[us]"
    assert apps["minors_primary"].dtype == "boolean"
    assert apps["daily_limit_min"].dtype == "Int64"
    assert apps["age_min"].dtype == "Int64" and apps["age_max"].dtype == "Int64"
    assert prov["mlps_level"].dtype == "Int64"
    assert prov["province_code"].tolist() == ["11", "44", "31"]
    assert mini.panel_scores["score"].dtype == "float64"
    assert mini.panel_scores["round"].dtype == "Int64"
    assert mini.ahp_judgments["value"].dtype == "float64"
    assert apps.index.equals(pd.RangeIndex(4))


def test_booleans_in_the_spellings_people_type(mini: Dataset) -> None:
    # "true", "是", "no", "N" / "false", "yes", "0", "f"
    assert mini.apps["minors_primary"].tolist() == [True, True, False, False]
    assert mini.apps["charges_fees"].tolist() == [False, True, False, False]
    assert mini.complaints["substantiated"].tolist()[0] is True
    assert pd.isna(mini.complaints["substantiated"].iloc[1])  # empty while open


def test_lists_are_canonical(mini: Dataset) -> None:
    # "senior;junior" -> contract order; full-width "；" accepted; duplicates dropped
    assert mini.apps["stages"].tolist() == ["primary;junior", "primary", "junior;senior", ""]
    assert mini.apps["features"].tolist() == ["", "ugc;payments", "training", ""]
    assert mini.experts["conflicts"].tolist() == ["", _mini.P2, _mini.P1, ""]
    assert mini.experts["role"].tolist()[3] == "parent"  # codes are lower-cased


def test_flags_one_hot(mini: Dataset) -> None:
    f = flags(mini.apps, "stages")
    assert list(f.columns) == list(schema.STAGES)
    assert f["primary"].tolist() == [True, True, False, False]
    assert f["senior"].tolist() == [False, False, True, False]
    assert f.dtypes.eq(bool).all()
    with pytest.raises(KeyError, match="'column' parameter of flags"):
        flags(mini.apps, "stagez")


def test_ages_values_and_ahp_fractions(mini: Dataset) -> None:
    assert mini.apps["age_min"].tolist()[:2] == [6, 6]
    assert mini.apps["age_max"].tolist()[:2] == [12, 15]
    assert pd.isna(mini.apps["age_min"].iloc[2])
    a = mini.assessments
    assert a["value"].tolist() == ["true", "partial", "2", "na"]
    np.testing.assert_allclose(a["value_num"].to_numpy(), [1.0, 0.5, 2.0, np.nan])
    assert a["value_na"].tolist() == [False, False, False, True]
    np.testing.assert_allclose(mini.ahp_judgments["value"].to_numpy(), [3, 1 / 3, 0.5, 9])


def test_absent_optional_tables_are_empty_typed_frames_with_a_warning(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path, {k: v for k, v in _mini.mini_tables().items()
                                           if k in ("providers", "apps")})
    ds = load(folder)
    assert len(ds.submissions) == 0
    assert ds.complaints["received_on"].dtype == "datetime64[us]"
    assert ds.assessments["value_num"].dtype == "float64"
    assert list(ds.waivers.columns) == list(schema.TABLES["waivers"].column_names)
    lines = [str(w) for w in ds.warnings]
    assert "submissions.csv: warning: optional file is absent: submissions is empty" in lines
    assert len(lines) == 8


def test_extra_columns_are_kept(tmp_path: Path) -> None:
    folder = broken(tmp_path, lambda t: t["apps"].insert(3, "note", ["a", "b", "c", "d"]))
    assert load(folder).apps["note"].tolist() == ["a", "b", "c", "d"]


# ---------------------------------------------------------------------------------------------
# One case per problem class: (table, row index 0-based, column, new value) -> problem line


def _set(table: str, row: int, column: str, value: str) -> Callable[[dict], None]:
    def change(t: dict[str, pd.DataFrame]) -> None:
        t[table].loc[row, column] = value
    return change


CASES = [
    # types
    ("bad_date", _set("apps", 1, "filed_on", "2022/05/10"), "apps.csv:2:filed_on: ", "not a date"),
    ("impossible_date", _set("apps", 0, "filed_on", "2023-02-30"), "apps.csv:1:filed_on: ",
     "impossible date '2023-02-30'"),
    ("bad_bool", _set("apps", 2, "has_ads", "maybe"), "apps.csv:3:has_ads: ", "not a yes/no"),
    ("bad_int", _set("providers", 0, "mlps_level", "three"), "providers.csv:1:mlps_level: ",
     "not an integer"),
    ("fractional_int", _set("apps", 0, "daily_limit_min", "40.5"), "apps.csv:1:daily_limit_min: ",
     "not an integer"),
    ("bad_float", _set("panel_scores", 4, "score", "good"), "panel_scores.csv:5:score: ",
     "not a number"),
    ("bad_value", _set("assessments", 1, "value", "mostly"), "assessments.csv:2:value: ",
     "is not a number, a yes/no value"),
    ("empty_required", _set("apps", 3, "name", "  "), "apps.csv:4:name: ", "empty but required"),
    ("waiver_without_reason", _set("waivers", 0, "reason", ""), "waivers.csv:1:reason: ",
     "empty but required"),
    # ranges
    ("mlps_range", _set("providers", 1, "mlps_level", "7"), "providers.csv:2:mlps_level: ",
     "out of range (1–5)"),
    ("score_negative", _set("panel_scores", 0, "score", "-1"), "panel_scores.csv:1:score: ",
     "out of range (0–10)"),
    ("score_high", _set("panel_scores", 11, "score", "10.5"), "panel_scores.csv:12:score: ",
     "out of range"),
    ("ahp_high", _set("ahp_judgments", 0, "value", "10"), "ahp_judgments.csv:1:value: ",
     "out of range (1/9 … 9)"),
    ("ahp_low_fraction", _set("ahp_judgments", 1, "value", "1/10"), "ahp_judgments.csv:2:value: ",
     "out of range"),
    ("ahp_not_number", _set("ahp_judgments", 1, "value", "1/x"), "ahp_judgments.csv:2:value: ",
     "fraction"),
    ("daily_limit_zero", _set("apps", 0, "daily_limit_min", "0"), "apps.csv:1:daily_limit_min: ",
     "out of range (> 0)"),
    ("age_reversed", _set("apps", 0, "age_range", "12-6"), "apps.csv:1:age_range: ",
     "out of range"),
    ("age_too_old", _set("apps", 1, "age_range", "3-30"), "apps.csv:2:age_range: ", "out of range"),
    ("age_shape", _set("apps", 1, "age_range", "six to ten"), "apps.csv:2:age_range: ",
     "not of the form a-b"),
    ("round_zero", _set("panel_scores", 2, "round", "0"), "panel_scores.csv:3:round: ",
     "out of range (≥ 1)"),
    # unknown codes
    ("category", _set("apps", 2, "category", "gaming"), "apps.csv:3:category: ", "unknown category"),
    ("stages", _set("apps", 0, "stages", "primary;kindergarten"), "apps.csv:1:stages: ",
     "'kindergarten'"),
    ("users", _set("apps", 0, "primary_users", "pupils"), "apps.csv:1:primary_users: ", "'pupils'"),
    ("features", _set("apps", 3, "features", "ugc;ads"), "apps.csv:4:features: ", "'ads'"),
    ("role", _set("experts", 1, "role", "teacher"), "experts.csv:2:role: ", "unknown role"),
    ("complaint_category", _set("complaints", 1, "category", "spam"), "complaints.csv:2:category: ",
     "unknown category"),
    ("severity", _set("violations", 0, "severity", "grave"), "violations.csv:1:severity: ",
     "unknown severity"),
    ("province", _set("providers", 2, "province_code", "99"), "providers.csv:3:province_code: ",
     "unknown province code '99'"),
    ("province_67", _set("submissions", 0, "province_code", "67"),
     "submissions.csv:1:province_code: ", "unknown province code"),
    ("ahp_level", _set("ahp_judgments", 2, "level", "contents"), "ahp_judgments.csv:3:level: ",
     "did you mean 'content'"),
    ("ahp_dimension", _set("ahp_judgments", 0, "a", "legal"), "ahp_judgments.csv:1:a: ",
     "not a dimension"),
    ("ahp_same_items", _set("ahp_judgments", 0, "b", "legality"), "ahp_judgments.csv:1:b: ",
     "same item"),
    # duplicates
    ("dup_provider", _set("providers", 2, "provider_id", _mini.P1),
     "providers.csv:3:provider_id: ", "duplicate provider_id"),
    ("dup_app", _set("apps", 3, "app_id", _mini.A1), "apps.csv:4:app_id: ", "(first in row 1)"),
    ("dup_complaint", _set("complaints", 1, "complaint_id", "K1"), "complaints.csv:2:complaint_id: ",
     "duplicate"),
    ("dup_expert", _set("experts", 3, "expert_id", "E1"), "experts.csv:4:expert_id: ", "duplicate"),
    ("dup_panel_score", _set("panel_scores", 5, "criterion_id", "C03_ideological_soundness"),
     "panel_scores.csv:6:province_code+round+app_id+expert_id+criterion_id: ", "first in row 5"),
    ("dup_submission", _set("submissions", 4, "province_code", "11"),
     "submissions.csv:5:province_code+app_id: ", "duplicate"),
    # dangling references
    ("apps_provider", _set("apps", 3, "provider_id", _mini.P1[:-1] + "X"), "apps.csv:4:provider_id: ",
     "is not in providers.csv"),
    ("submission_app", _set("submissions", 2, "app_id", "教APP备4409999号"),
     "submissions.csv:3:app_id: ", "not in apps.csv"),
    ("panel_app", _set("panel_scores", 3, "app_id", "教APP备1109999号"), "panel_scores.csv:4:app_id: ",
     "not in apps.csv"),
    ("panel_expert", _set("panel_scores", 7, "expert_id", "E9"), "panel_scores.csv:8:expert_id: ",
     "not in experts.csv"),
    ("panel_criterion", _set("panel_scores", 1, "criterion_id", "F99_fun"),
     "panel_scores.csv:2:criterion_id: ", "unknown criterion_id 'F99_fun'"),
    ("assessment_app", _set("assessments", 0, "app_id", "教APP备1109999号"),
     "assessments.csv:1:app_id: ", "not in apps.csv"),
    ("assessment_criterion", _set("assessments", 2, "criterion_id", "S99"),
     "assessments.csv:3:criterion_id: ", "unknown criterion_id"),
    ("complaint_app", _set("complaints", 0, "app_id", "教APP备1109999号"), "complaints.csv:1:app_id: ",
     "not in apps.csv"),
    ("violation_provider", _set("violations", 0, "provider_id", _mini.P3),
     "violations.csv:1:provider_id: ", "belongs to provider"),  # a warning; see below
    ("violation_app", _set("violations", 0, "app_id", "教APP备4409999号"), "violations.csv:1:app_id: ",
     "not in apps.csv"),
    ("waiver_app", _set("waivers", 0, "app_id", "教APP备4409999号"), "waivers.csv:1:app_id: ",
     "not in apps.csv"),
    ("waiver_criterion", _set("waivers", 0, "criterion_id", "L99"), "waivers.csv:1:criterion_id: ",
     "unknown criterion_id"),
    ("ahp_expert", _set("ahp_judgments", 3, "expert_id", "E7"), "ahp_judgments.csv:4:expert_id: ",
     "not in experts.csv"),
    ("ahp_criterion", _set("ahp_judgments", 2, "a", "C99_x"), "ahp_judgments.csv:3:a: ",
     "unknown criterion_id"),
    # identifiers (via evalkit.data.identifiers)
    ("uscc_check", _set("providers", 0, "provider_id", _mini.P1[:-1] + ("1" if _mini.P1[-1] != "1" else "2")),
     "providers.csv:1:provider_id: ", "check character should be"),
    ("uscc_length", _set("providers", 1, "provider_id", "91440100"), "providers.csv:2:provider_id: ",
     "18 characters"),
    ("icp", _set("providers", 1, "icp_number", "粤ICP20190001"), "providers.csv:2:icp_number: ",
     "malformed ICP number"),
    ("telecom", _set("providers", 0, "telecom_licence", "京B3-2019"),
     "providers.csv:1:telecom_licence: ", "malformed telecom licence"),
    # dates after as_of (event dates only) and date order
    ("future_filed", _set("apps", 2, "filed_on", "2024-07-01"), "apps.csv:3:filed_on: ",
     "is after as_of 2024-06-30"),
    ("future_resolved", _set("complaints", 0, "resolved_on", "2025-01-01"),
     "complaints.csv:1:resolved_on: ", "after as_of"),
    ("future_mlps", _set("providers", 0, "mlps_evaluated_on", "2024-12-01"),
     "providers.csv:1:mlps_evaluated_on: ", "after as_of"),
    ("resolved_before_received", _set("complaints", 0, "resolved_on", "2024-03-01"),
     "complaints.csv:1:resolved_on: ", "is before received_on 2024-04-01"),
    ("rectified_before_found", _set("violations", 0, "rectified_on", "2023-12-01"),
     "violations.csv:1:rectified_on: ", "before found_on"),
    ("waiver_expires_before_approval", _set("waivers", 0, "expires_on", "2024-01-01"),
     "waivers.csv:1:expires_on: ", "before approved_on"),
]


@pytest.mark.parametrize("name,change,prefix,fragment", CASES, ids=[c[0] for c in CASES])
def test_each_problem_class_names_file_row_column(tmp_path: Path, name: str, change: Callable,
                                                  prefix: str, fragment: str) -> None:
    folder = broken(tmp_path, change)
    if name == "violation_provider":  # a consistency warning only: the load succeeds
        lines = [str(w) for w in load(folder).warnings]
        assert has(lines, prefix, "warning: "), lines
        assert has(lines, prefix, fragment), lines
        return
    lines = problems(folder)
    assert has(lines, prefix, fragment), lines


def test_deadlines_and_expiries_may_lie_ahead(tmp_path: Path) -> None:
    def change(t: dict) -> None:
        t["violations"].loc[0, "rectify_by"] = "2030-01-01"
        t["waivers"].loc[0, "expires_on"] = "2030-01-01"
    ds = load(broken(tmp_path, change))
    assert ds.violations["rectify_by"].iloc[0] == pd.Timestamp("2030-01-01")


def test_v2_province_columns_are_optional_and_checked(tmp_path: Path) -> None:
    # a v1 dataset (no province_code in waivers / ahp_judgments) loads with empty columns
    v1 = load(broken(tmp_path / "v1", lambda t: None))
    assert v1.waivers["province_code"].tolist() == [""] and set(v1.ahp_judgments["province_code"]) == {""}

    def v2(t: dict) -> None:
        t["waivers"]["province_code"] = ["44"]
        t["ahp_judgments"]["province_code"] = ""
    assert load(broken(tmp_path / "v2", v2)).waivers["province_code"].tolist() == ["44"]

    def bad(t: dict) -> None:
        t["waivers"]["province_code"] = ["99"]
        t["ahp_judgments"]["province_code"] = "4"
    lines = problems(broken(tmp_path / "bad", bad))
    assert has(lines, "waivers.csv:1:province_code: ", "unknown province code '99'"), lines
    assert has(lines, "ahp_judgments.csv:1:province_code: ", "unknown province code '4'"), lines


def test_two_provinces_may_waive_the_same_check_on_one_day(tmp_path: Path) -> None:
    def two(t: dict) -> None:
        w = pd.concat([t["waivers"], t["waivers"]], ignore_index=True)
        w["province_code"] = ["44", "21"]
        t["waivers"] = w
    assert len(load(broken(tmp_path / "ok", two)).waivers) == 2

    def same(t: dict) -> None:  # the same province twice is a duplicate
        t["waivers"] = pd.concat([t["waivers"], t["waivers"]], ignore_index=True).assign(province_code="44")
    assert has(
        problems(broken(tmp_path / "dup", same)),
        "waivers.csv:2:province_code+app_id+criterion_id+approved_on: ",
        "duplicate",
    )


def test_no_as_of_no_future_check(tmp_path: Path) -> None:
    folder = broken(tmp_path, _set("apps", 2, "filed_on", "2030-07-01"))
    assert load(folder, as_of=None).apps["filed_on"].iloc[2].year == 2030


def test_warnings_are_not_errors(tmp_path: Path) -> None:
    def change(t: dict) -> None:
        t["apps"].loc[0, "info_updated_on"] = "2022-01-01"  # before filed_on: warning
        t["experts"].loc[0, "conflicts"] = "91110108MA0000000X"  # unknown provider: warning
        rename_app(t, _mini.A2, "APP-0002")  # unverified format: warning

    ds = load(broken(tmp_path, change))
    lines = [str(w) for w in ds.warnings]
    assert has(lines, "apps.csv:1:info_updated_on: warning: ", "before filed_on 2022-03-01"), lines
    assert has(lines, "experts.csv:1:conflicts: warning: ", "not in providers.csv"), lines
    assert has(lines, "apps.csv:2:app_id: warning: ", "does not look like"), lines
    assert all(w.severity == "warning" for w in ds.warnings)


def test_app_filing_province_must_match_domicile(tmp_path: Path) -> None:
    def change(t: dict) -> None:
        rename_app(t, _mini.A1, "教APP备4400001号")  # provider P1 is in Beijing (11)

    lines = [str(w) for w in load(broken(tmp_path, change)).warnings]
    assert has(lines, "apps.csv:1:app_id: warning: ", "domicile is 11"), lines


# ---------------------------------------------------------------------------------------------
# Files and columns


def test_missing_required_file(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "apps.csv").rename(folder / "apps.xls")
    lines = problems(folder)
    assert ("apps.csv: required file is missing (found apps.xls: save it as CSV UTF-8, Parquet or an "
            ".xlsx workbook)") in lines
    # references into the missing table are skipped, not reported row by row
    assert not any(":app_id: " in line and "not in apps" in line for line in lines)


def test_missing_required_column_reported_once_and_dependent_checks_skipped(tmp_path: Path) -> None:
    def change(t: dict) -> None:
        t["apps"] = t["apps"].drop(columns=["provider_id", "filed_on"])
        t["providers"] = t["providers"].rename(columns={"icp_number": "icp_no"})

    lines = problems(broken(tmp_path, change))
    assert lines.count("apps.csv:provider_id: required column 'provider_id' is missing") == 1
    assert lines.count("apps.csv:filed_on: required column 'filed_on' is missing") == 1
    assert "providers.csv:icp_number: required column 'icp_number' is missing (did you mean 'icp_no'?)" in lines
    assert len(lines) == 3, lines


def test_semicolon_separated_file_gets_a_hint(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    _mini.mini_tables()["providers"].to_csv(folder / "providers.csv", sep="\t", index=False)
    lines = problems(folder)
    assert has(lines, "providers.csv:provider_id: required column", "tab- or ;-separated"), lines


def test_both_csv_and_parquet_is_an_error(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    _mini.mini_tables()["complaints"].to_parquet(folder / "complaints.parquet")
    lines = problems(folder)
    assert has(lines, "complaints.csv: ", "both complaints.csv and complaints.parquet exist"), lines


def test_parquet_dataset_loads_like_csv(tmp_path: Path, mini: Dataset) -> None:
    folder = _mini.write_tables(tmp_path, fmt="parquet")
    ds = load(folder)
    assert ds.files["apps"].suffix == ".parquet"
    for name in schema.TABLE_NAMES:
        pd.testing.assert_frame_equal(ds.tables[name], mini.tables[name], check_dtype=True)


def test_typed_parquet_columns_are_accepted(tmp_path: Path, mini: Dataset) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "apps.csv").unlink()
    apps = mini.apps.drop(columns=["age_min", "age_max"])
    apps["mlps"] = pd.Series([1.0, np.nan, 3.0, 4.0])  # extra float column
    apps.to_parquet(folder / "apps.parquet")
    (folder / "providers.csv").unlink()
    mini.providers.to_parquet(folder / "providers.parquet")
    ds = load(folder)
    pd.testing.assert_frame_equal(ds.apps.drop(columns=["mlps"]), mini.apps)
    assert ds.providers["mlps_level"].tolist()[:2] == [3, 2]


def test_parquet_with_bad_value_names_row(tmp_path: Path) -> None:
    tables = _mini.mini_tables()
    tables["providers"].loc[1, "mlps_level"] = "9"
    folder = _mini.write_tables(tmp_path, tables, fmt="parquet")
    assert has(problems(folder), "providers.parquet:2:mlps_level: ", "out of range")


def test_bom_is_accepted(tmp_path: Path, mini: Dataset) -> None:
    folder = _mini.write_tables(tmp_path, encoding="utf-8-sig")
    assert (folder / "providers.csv").read_bytes().startswith(b"\xef\xbb\xbfprovider_id")
    ds = load(folder)
    pd.testing.assert_frame_equal(ds.providers, mini.providers)
    assert ds.warnings == ()


def test_gbk_csv_is_read_with_a_warning(tmp_path: Path, mini: Dataset) -> None:
    folder = _mini.write_tables(tmp_path)
    _mini.mini_tables()["apps"].to_csv(folder / "apps.csv", index=False, encoding="gbk")
    ds = load(folder)
    assert ds.apps["name"].tolist() == ["口算练习", "作业帮手", "云课堂", "家校通"]
    pd.testing.assert_frame_equal(ds.apps, mini.apps)
    lines = [str(w) for w in ds.warnings]
    assert lines == [
        (
            "apps.csv: warning: is not UTF-8 but GB18030/GBK (as Excel saves CSV on "
            "Chinese Windows): read as GB18030; prefer 'CSV UTF-8' when saving"
        )
    ]


def test_gbk_csv_with_errors_still_reports_rows(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    t = _mini.mini_tables()["apps"]
    t.loc[2, "category"] = "游戏"
    t.to_csv(folder / "apps.csv", index=False, encoding="gbk")
    assert has(problems(folder), "apps.csv:3:category: ", "unknown category '游戏'")


def test_undecodable_file_is_reported(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "complaints.csv").write_bytes(
        (folder / "complaints.csv").read_bytes().replace("收费".encode(), b"\xff\xfe\xfd")
    )
    lines = problems(folder)
    assert has(lines, "complaints.csv: ", "is not valid UTF-8 (invalid byte 0xff on line 2)"), lines


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "looks like a PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(100), "ZIP archive (an Excel .xlsx workbook is one)"),
        (b"provider_id,name\n\x00\x01\x02garbage\x00", "contains NUL bytes"),
        ("provider_id\tname\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_file_gets_a_clean_message(tmp_path: Path, content: bytes, fragment: str) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "providers.csv").write_bytes(content)
    lines = problems(folder)
    assert has(lines, "providers.csv: ", fragment), lines
    # apps.provider_id cannot be checked against an unreadable providers file: no flood
    assert not any(line.startswith("apps.csv:") for line in lines), lines


def test_not_parquet_gets_a_clean_message(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "waivers.csv").unlink()
    (folder / "waivers.parquet").write_bytes(b"this is not parquet")
    assert has(problems(folder), "waivers.parquet: ", "not a readable Parquet file")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "experts.csv").write_bytes(b"")
    lines = problems(folder)
    assert "experts.csv: is empty: expected a header row naming the columns" in lines
    # panel_scores/ahp_judgments references to an unreadable experts file are not flooded
    assert not any("not in experts" in line for line in lines)


def test_header_only_files(tmp_path: Path) -> None:
    tables = _mini.mini_tables()
    tables["complaints"] = tables["complaints"].iloc[0:0]
    tables["apps"] = tables["apps"].iloc[0:0]
    for name in ("submissions", "assessments", "panel_scores", "complaints", "violations", "waivers"):
        tables[name] = tables[name].iloc[0:0]
    ds = load(_mini.write_tables(tmp_path, tables))
    assert len(ds.complaints) == 0 and ds.complaints["received_on"].dtype == "datetime64[us]"
    assert len(ds.apps) == 0
    assert [str(w) for w in ds.warnings] == ["apps.csv: warning: has a header but no data rows"]


def test_ragged_rows_are_reported_by_row_and_later_rows_keep_their_numbers(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    lines = (folder / "experts.csv").read_text().splitlines()
    lines[2] += ",extra"  # data row 2: too many fields
    lines[3] = ",".join(lines[3].split(",")[:3])  # data row 3: too few fields
    lines[4] = lines[4].replace("parent", "farmer", 1).replace("Parent", "farmer")  # row 4
    (folder / "experts.csv").write_text("\n".join(lines) + "\n")
    found = problems(folder)
    assert "experts.csv:2: too many fields: 6 instead of 5 (row skipped)" in found
    assert "experts.csv:3: too few fields: 3 instead of 5 (row skipped)" in found
    assert has(found, "experts.csv:4:role: ", "unknown role 'farmer'"), found


def test_multiline_text_keeps_row_numbers(tmp_path: Path) -> None:
    # complaints row 2 holds a newline inside a quoted value; a problem in row 2 says row 2
    folder = broken(tmp_path, _set("complaints", 1, "category", "spam"))
    assert has(problems(folder), "complaints.csv:2:category: ")


def test_duplicate_header_column(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    path = folder / "waivers.csv"
    text = path.read_text().splitlines()
    text[0] = text[0].replace("approved_by", "reason")
    path.write_text("\n".join(text) + "\n")
    lines = problems(folder)
    assert has(lines, "waivers.csv:reason: ", "appears more than once"), lines
    assert has(lines, "waivers.csv:approved_by: required column 'approved_by' is missing"), lines


def test_unknown_files_are_warned_about(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "provider.csv").write_text("x\n1\n")
    ds = load(folder)
    assert [str(w) for w in ds.warnings] == ["provider.csv: warning: is not a file of the dataset contract: ignored"]


def test_absent_target_table_is_one_problem(tmp_path: Path) -> None:
    folder = _mini.write_tables(tmp_path)
    (folder / "experts.csv").unlink()
    lines = problems(folder)
    assert "panel_scores.csv:expert_id: expert_id refers to experts, but experts.csv is absent" in lines
    assert not any(line.startswith("panel_scores.csv:1") for line in lines)


def test_problems_are_capped_per_kind(tmp_path: Path) -> None:
    tables = _mini.mini_tables()
    ps = tables["panel_scores"]
    big = pd.concat([ps] * 20, ignore_index=True)  # 240 rows
    big["round"] = (np.arange(len(big)) // len(ps) + 1).astype(str)
    big.loc[:119, "score"] = "11"  # 120 out-of-range scores
    tables["panel_scores"] = big
    with pytest.raises(DataError) as info:
        load(_mini.write_tables(tmp_path, tables))
    probs = [p for p in info.value.problems if p.column == "score"]
    assert len(probs) == MAX_PER_KIND + 1
    assert [p.row for p in probs if p.row is not None] == list(range(1, MAX_PER_KIND + 1))
    summary = [str(p) for p in probs if p.row is None]
    assert summary[0].startswith("panel_scores.csv:score: 120 rows have this kind of problem")


def test_input_checks_raise() -> None:
    with pytest.raises(TypeError, match="'path' parameter of load_dataset"):
        load_dataset(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'as_of' parameter of load_dataset must be a date \\(YYYY-MM-DD\\)"):
        load_dataset(".", as_of="2024-13-01")
    with pytest.raises(TypeError, match="'criteria' parameter of load_dataset"):
        load_dataset(".", criteria="L01_icp_filed")


def test_missing_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_dataset(tmp_path / "nope")
    assert str(info.value.problems[0]).endswith(": the dataset folder does not exist")


# ---------------------------------------------------------------------------------------------
# The dozen at once


def break_a_dozen(folder: Path) -> list[str]:
    """Break a copy of the mini dataset in twelve ways; return the expected line prefixes."""
    t = _mini.mini_tables()
    p = t["providers"]
    p.loc[0, "provider_id"] = _mini.P1[:-1] + ("1" if _mini.P1[-1] != "1" else "2")  # USCC check
    p.loc[1, "mlps_level"] = "6"  # MLPS out of range
    p.loc[2, "icp_number"] = "沪ICP-2020"  # malformed ICP
    a = t["apps"]
    a.loc[1, "provider_id"] = _mini.P2  # keeps app 2 valid (a domicile warning only)
    a.loc[2, "category"] = "games"  # unknown category
    a.loc[3, "filed_on"] = "2023-02-30"  # impossible date
    a.loc[3, "provider_id"] = "91310115MA1K00000X"  # dangling provider
    t["complaints"].loc[1, "complaint_id"] = "K1"  # duplicate id
    t["panel_scores"].loc[6, "score"] = "-2"  # negative score
    t["submissions"] = t["submissions"].drop(columns=["mandated_use"])  # missing column
    t["violations"].loc[0, "severity"] = "catastrophic"  # unknown severity
    t["waivers"].loc[0, "approved_on"] = "2024-09-01"  # after as_of
    _mini.write_tables(folder, t)
    (folder / "experts.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))  # binary file
    # app 1 of P1 now dangles too (P1's id changed): apps.csv row 1
    return [
        "providers.csv:1:provider_id: ",
        "providers.csv:2:mlps_level: ",
        "providers.csv:3:icp_number: ",
        "apps.csv:3:category: ",
        "apps.csv:4:filed_on: ",
        "apps.csv:4:provider_id: ",
        "complaints.csv:2:complaint_id: ",
        "panel_scores.csv:7:score: ",
        "submissions.csv:mandated_use: ",
        "violations.csv:1:severity: ",
        "waivers.csv:1:approved_on: ",
        "experts.csv: ",
    ]


def test_a_dozen_problems_at_once(tmp_path: Path) -> None:
    expected = break_a_dozen(tmp_path / "ds")
    lines = problems(tmp_path / "ds")
    for prefix in expected:
        assert has(lines, prefix), (prefix, lines)
    assert has(lines, "apps.csv:1:provider_id: ", "is not in providers.csv")
    assert has(lines, "apps.csv:4:filed_on: ", "impossible date '2023-02-30'")
    assert has(lines, "experts.csv: ", "PNG image")
    assert has(lines, "apps.csv:2:app_id: warning: ", "domicile is 44")
    assert len(lines) == 14, lines  # the dozen + app 1 dangling + the domicile warning


# ---------------------------------------------------------------------------------------------
# The committed sample


def test_sample_validates() -> None:
    ds = load_dataset(ROOT / "data" / "sample")  # raises DataError listing every problem if the sample is invalid
    assert len(ds.apps) > 0 and len(ds.providers) > 0
    assert all(w.severity == "warning" for w in ds.warnings)
    # the generator plants a few warnings (e.g. an early Fujian pilot USCC), never a missing table
    assert not [w for w in ds.warnings if w.code in ("missing_file", "encoding", "unknown_file")]


# ---------------------------------------------------------------------------------------------
# Work once per distinct value (national scale): the same frames and problems as row by row

#: One column of each kind, with spellings good and bad (padded, cased, empty) that repeat.
KIND_CASES: list[tuple[str, str, list[str]]] = [
    ("apps", "app_id", ["a", " a", "a ", "b", "", "  "]),
    ("apps", "name", ["x", " ", "", "y z", " x"]),
    ("providers", "province_code", ["11", "44", " 44", "99", "", "4 4"]),
    ("apps", "category", ["teaching", "Teaching ", "games", "", "learnin"]),
    ("apps", "stages", ["primary;junior", "junior；primary", "Primary", "kinder", "", ";", "primary;;x"]),
    ("experts", "conflicts", ["b;a", "a ; b;a", "", ";", "c"]),
    ("apps", "filed_on", ["2024-01-31", "2024-02-30", "31/01/2024", "", " 2024-01-31", "2024-1-1"]),
    ("apps", "minors_primary", ["yes", "No", "是", "maybe", "", "1"]),
    ("providers", "mlps_level", ["1", "3", "6", "0", "2.5", "x", "", "3.0", "1e1"]),
    ("apps", "daily_limit_min", ["40", "0", "-5", "", "12.0"]),
    ("panel_scores", "score", ["1.5", "10", "10.5", "-1", "x", "", "nan", "inf", " 7 "]),
    ("ahp_judgments", "value", ["3", "1/3", "1/9", "1/10", "0.11", "x", "1/0", ""]),
    ("apps", "age_range", ["6-12", "6 - 12", "12-6", "3-30", "x", ""]),
    ("assessments", "value", ["meets", "Partial", "n/a", "true", "0.5", "x", "", "NA"]),
]


def _problem_list(out: ProblemLog) -> list[tuple[object, ...]]:
    return [(p.file, p.row, p.column, p.message, p.severity, p.code) for p in out.items]


@pytest.mark.parametrize("table,column,pool", KIND_CASES, ids=[f"{t}.{c}" for t, c, _ in KIND_CASES])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_columns_convert_per_distinct_value_as_row_by_row(
    table: str, column: str, pool: list[str], data: st.DataObject
) -> None:
    """The kernel run on every row (the code before the distinct-value path) and run once per
    distinct text, spread back to the rows, give the same typed columns and problems, from
    CSV text (``str``) and from Parquet's dictionary form (categorical)."""
    texts = data.draw(st.lists(st.sampled_from(pool), max_size=2 * MAX_PER_KIND + 10))
    gaps = data.draw(st.lists(st.integers(1, 3), min_size=len(texts), max_size=len(texts)))
    index = pd.Index(np.cumsum(gaps, dtype="int64"))  # data rows, with gaps (skipped rows)
    col = schema.TABLES[table].column(column)
    raw = pd.Series(texts, index=index, dtype="str")
    ref_out = ProblemLog()
    expected = convert._convert_values(col, raw, "t.csv", ref_out)
    for given_raw in (raw, raw.astype("category")):
        out = ProblemLog()
        converted = convert._convert_column(col, given_raw, "t.csv", out)
        got = {name: d.expand() for name, d in converted.items()}
        assert list(got) == list(expected)
        for name in expected:
            pd.testing.assert_series_equal(got[name], expected[name], check_exact=True)
        assert _problem_list(out) == _problem_list(ref_out)


_ARROW_VALUES = {
    "int": (pa.int64(), st.one_of(st.none(), st.integers(-3, 3), st.just(2**62))),
    "float": (
        pa.float64(),
        st.one_of(
            st.none(), st.sampled_from([0.0, -0.0, 1.0, 2.5, float("nan"), float("inf"), 1e20, 0.1, 2.0**53 + 2])
        ),
    ),
    "bool": (pa.bool_(), st.one_of(st.none(), st.booleans())),
    "date": (pa.date32(), st.one_of(st.none(), st.integers(19000, 19003))),
    "timestamp": (pa.timestamp("ms"), st.one_of(st.none(), st.sampled_from([0, 1, 86_400_000, 86_400_001]))),
    "dictionary": (pa.dictionary(pa.int32(), pa.string()), st.one_of(st.none(), st.sampled_from(["a", " a", "", "b"]))),
}


@pytest.mark.parametrize("kind", list(_ARROW_VALUES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_arrow_columns_read_as_distinct_texts(kind: str, data: st.DataObject) -> None:
    """Parquet columns whose values repeat become categorical text with exactly the texts the
    plain Arrow cast gives (``_column_text``): null and NaN → empty, 1.0 → "1", a day per
    timestamp, several chunks and unused dictionary entries included."""
    typ, values = _ARROW_VALUES[kind]
    chunks = data.draw(st.lists(st.lists(values, max_size=8), min_size=1, max_size=3))
    if kind == "dictionary":
        arr = pa.chunked_array(
            [
                pa.DictionaryArray.from_arrays(
                    pa.array([None if v is None else ["a", " a", "", "b", "unused"].index(v) for v in c], pa.int32()),
                    pa.array(["a", " a", "", "b", "unused"]),
                )
                for c in chunks
            ],
            typ,
        )
    else:
        arr = pa.chunked_array([pa.array(c, typ) for c in chunks], typ)
    index = pd.RangeIndex(1, len(arr) + 1)
    got = read._column_series(arr, index)
    expected = read._str_series(read._column_text(arr), index)
    assert isinstance(got.dtype, pd.CategoricalDtype) or len(arr) == 0
    pd.testing.assert_series_equal(got.astype("str"), expected)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-1, 2)), max_size=40), st.booleans())
def test_duplicated_rows_as_pandas_finds_them(rows: list[tuple[int, int]], ordered: bool) -> None:
    if ordered:  # sorted by the key: the one-pass answer
        rows = sorted(rows)
    codes = [np.array([r[i] for r in rows], dtype=np.intp) for i in range(2)]
    expected = pd.DataFrame({"a": codes[0], "b": codes[1]}).duplicated(keep=False).to_numpy()
    assert checks._duplicated(codes).tolist() == expected.tolist()


@given(
    st.lists(st.sampled_from(["a", "b", "", " a", "教APP"]), max_size=20),
    st.lists(st.sampled_from(["a", "", "c", "教APP"]), max_size=5),
)
def test_isin_as_pandas(values: list[str], known: list[str]) -> None:
    s, k = pd.Series(values, dtype="str"), pd.Series(known, dtype="str")
    pd.testing.assert_series_equal(checks._isin(s, k), s.isin(k))


def test_parquet_reports_the_problems_csv_does(tmp_path: Path) -> None:
    """Repeated ids, codes and dates read dictionary-encoded from Parquet: the same problems at
    the same rows as from CSV (bad values repeated, a duplicate key out of order)."""
    t = _mini.mini_tables()
    ps = t["panel_scores"]
    ps.loc[[1, 4], "criterion_id"] = "X99_unknown"
    ps.loc[[2, 5], "score"] = "11"
    ps.loc[3, "expert_id"] = " " + ps.loc[3, "expert_id"] + " "  # padded: the same expert
    ps.loc[len(ps)] = ps.loc[0]  # a duplicate key after other rows
    t["complaints"].loc[[0, 1], "received_on"] = "2024-02-30"
    lines = {
        fmt: [line.replace(f".{fmt}", ".X") for line in problems(_mini.write_tables(tmp_path / fmt, t, fmt=fmt))]
        for fmt in ("csv", "parquet")
    }
    assert lines["csv"] == lines["parquet"]
    assert has(lines["csv"], "panel_scores.X:2:criterion_id: ", "'X99_unknown'")
    assert has(lines["csv"], "panel_scores.X:5:criterion_id: ")
    key = "+".join(schema.TABLES["panel_scores"].natural_keys[0])
    assert has(lines["csv"], f"panel_scores.X:{len(ps)}:{key}: ", "first in row 1")
    assert has(lines["csv"], "complaints.X:2:received_on: ", "impossible date")
