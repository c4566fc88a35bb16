"""The schools contract (issue 18): optional ``schools`` and ``selections`` tables and
``apps.self_developed_by``, checked by file, row and column like every table; the national
school identifier and GB/T 2260 county codes against the province; partitions; the generator."""

from __future__ import annotations

from pathlib import Path

import _mini
import pandas as pd
import pytest

from evalkit import DataError
from evalkit.data import identifiers, partition
from evalkit.data.dataset import load_dataset
from evalkit.synth.generate import generate_tables
from evalkit.synth.schools import PLANTED_SCHOOLS, planted_school

S1, S2 = "3110108001", "3440104002"


def school_tables() -> dict[str, pd.DataFrame]:
    t = _mini.mini_tables()
    t["schools"] = pd.DataFrame({
        "school_id": [S1, S2], "name": ["北京市海淀区第一小学", "广州市越秀区第二中学"],
        "province_code": ["11", "44"], "county_code": ["110108", "440104"],
        "stages": ["primary", "junior；senior"], "kind": ["public", "private"],
    })
    t["selections"] = pd.DataFrame({
        "school_id": [S1, S2], "app_id": [_mini.A1, _mini.A3], "decided_on": ["2024-03-20", "2024-04-01"],
        "decision_body": ["school_meeting", "none"], "stakeholders_consulted": ["true", "否"],
        "content_review_on": ["2024-03-10", ""], "security_review_on": ["2024-03-12", ""],
        "unified_use": ["true", "false"], "charges_students": ["false", "false"],
        "exclusive_agreement": ["false", "true"], "reported_on": ["2024-03-25", ""],
        "responsible_unit": ["信息中心", ""], "withdrawn_on": ["", "2024-06-01"],
    })
    return t


def write(tmp_path: Path, change=None) -> Path:
    t = school_tables()
    if change is not None:
        change(t)
    return _mini.write_tables(tmp_path, t)


def problems(folder: Path) -> list[str]:
    with pytest.raises(DataError) as err:
        load_dataset(folder, as_of=_mini.AS_OF)
    return [str(p) for p in err.value.problems]


def test_a_dataset_without_schools_still_validates_with_empty_typed_tables(tmp_path: Path) -> None:
    ds = load_dataset(_mini.write_tables(tmp_path), as_of=_mini.AS_OF)
    assert len(ds.schools) == 0 and len(ds.selections) == 0
    assert str(ds.selections["decided_on"].dtype) == "datetime64[us]"
    assert ds.apps["self_developed_by"].tolist() == ["", "", "", ""]


def test_schools_and_selections_load_typed(tmp_path: Path) -> None:
    ds = load_dataset(write(tmp_path), as_of=_mini.AS_OF)
    assert ds.schools["stages"].tolist() == ["primary", "junior;senior"]
    assert ds.selections["stakeholders_consulted"].tolist() == [True, False]
    assert pd.isna(ds.selections["reported_on"].iloc[1])
    assert ds.selections["tied_to_grades"].isna().all()  # optional column absent


@pytest.mark.parametrize(("change", "expect"), [
    (lambda t: t["schools"].__setitem__("school_id", ["311010800", S2]),
     "schools.csv:1:school_id: school_id '311010800' is not a 10-digit"),
    (lambda t: t["schools"].__setitem__("county_code", ["440104", "440104"]),
     "schools.csv:1:county_code: county_code '440104' lies outside province 11"),
    (lambda t: t["schools"].__setitem__("county_code", ["11010", "440104"]),
     "schools.csv:1:county_code: county_code '11010' is not a 6-digit GB/T 2260"),
    (lambda t: t["schools"].__setitem__("kind", ["state", "private"]),
     "schools.csv:1:kind:"),
    (lambda t: t["selections"].__setitem__("decision_body", ["meeting", "none"]),
     "selections.csv:1:decision_body:"),
    (lambda t: t["selections"].__setitem__("school_id", ["3110108009", S2]),
     "selections.csv:1:school_id: school_id '3110108009' is not in schools.csv"),
    (lambda t: t["selections"].__setitem__("withdrawn_on", ["2024-03-01", ""]),
     "selections.csv:1:withdrawn_on: withdrawn_on 2024-03-01 is before decided_on"),
    (lambda t: t["selections"].__setitem__("decided_on", ["2030-01-01", "2024-04-01"]),
     "selections.csv:1:decided_on: decided_on 2030-01-01 is after as_of"),
    (lambda t: t["selections"].__setitem__("unified_use", ["maybe", "false"]),
     "selections.csv:1:unified_use:"),
])
def test_each_problem_names_file_row_and_column(tmp_path: Path, change, expect: str) -> None:
    lines = problems(write(tmp_path, change))
    assert any(line.startswith(expect) for line in lines), lines


def test_all_problems_at_once_and_warnings_do_not_block(tmp_path: Path) -> None:
    def change(t):
        t["schools"]["county_code"] = ["110000", "999999"]
        t["selections"]["app_id"] = ["教APP备1199999号", _mini.A3]  # not filed: a warning (a school finding)
        t["selections"].loc[1, "decision_body"] = "vote"
    lines = problems(write(tmp_path, change))
    assert any(x.startswith("schools.csv:2:county_code: ") for x in lines), lines
    assert any(x.startswith("selections.csv:2:decision_body: ") for x in lines), lines
    ok = write(tmp_path / "ok", lambda t: t["selections"].__setitem__("app_id", ["教APP备1199999号", _mini.A3]))
    ds = load_dataset(ok, as_of=_mini.AS_OF)
    assert any("selections.csv:1:app_id: warning" in str(w) for w in ds.warnings)


def test_county_and_school_identifier_rules() -> None:
    s = pd.Series(["110108", "110100", "650102", "659001", "440104", ""], dtype="str")
    prov = pd.Series(["11", "11", "66", "66", "11", "11"], dtype="str")
    found = identifiers.county_problems(s, prov).tolist()
    assert found[0] is None and found[3] is None and found[5] is None
    assert found[1][0] == "warning" and "prefecture" in found[1][1]
    assert found[2][0] == "error" and "6590" in found[2][1]
    assert found[4][0] == "error"
    ids = pd.Series(["4111010001", "4111010001", "3110108001", "12345678901"], dtype="str")
    found = identifiers.school_id_problems(ids, pd.Series(["11", "44", "44", "11"], dtype="str")).tolist()
    assert found[0] is None and found[2] is None  # non-university codes: length and digits only
    assert found[1][0] == "warning" and found[3][0] == "error"


def test_selections_follow_their_school_into_its_partition(tmp_path: Path) -> None:
    ds = load_dataset(write(tmp_path), as_of=_mini.AS_OF)
    member = partition.memberships(ds.tables)
    sel = member["selections"]
    assert sel.loc[sel["row"].eq(0), "province"].tolist() == ["11"]
    assert sel.loc[sel["row"].eq(1), "province"].tolist() == ["44"]
    # an app a school selects is needed (with its provider) by the school's province
    apps = member["apps"]
    a1 = ds.apps.index[ds.apps["app_id"].eq(_mini.A1)][0]
    assert "11" in set(apps.loc[apps["row"].eq(a1), "province"])
    only44 = load_dataset(write(tmp_path / "p"), as_of=_mini.AS_OF, provinces=["44"])
    assert only44.schools["school_id"].tolist() == [S2] and only44.selections["school_id"].tolist() == [S2]


def test_generator_plants_every_school_case_deterministically() -> None:
    a = generate_tables("sample")
    b = generate_tables("sample")
    pd.testing.assert_frame_equal(a["selections"], b["selections"])
    assert 20 <= len(a["schools"]) / 32 <= 60
    ids = set(a["schools"]["school_id"])
    assert {planted_school("11", s) for s in PLANTED_SCHOOLS} <= ids
    assert (a["apps"]["self_developed_by"] == planted_school("11", 911)).sum() == 1
    # every generated school and county passes the identifier checks
    sch = a["schools"]
    assert identifiers.county_problems(sch["county_code"], sch["province_code"]).isna().all()
    assert identifiers.school_id_problems(sch["school_id"], sch["province_code"]).isna().all()


def test_the_samples_planted_schools_show_their_cases() -> None:
    """docs/generator.md "Planted schools": each planted school of the committed sample shows its
    one case in Beijing's result (the real pipeline)."""
    import evalkit
    from evalkit.evaluate import pipeline

    ds = evalkit.load_dataset(Path(__file__).resolve().parent.parent / "data" / "sample", as_of="2026-09-01")
    res = pipeline.evaluate(ds, "2026-09-01", provinces=["11"]).province("11")
    found = res.schools.set_index("school_id")["findings"].str.split(";")
    expect = {902: "over_cap:total", 903: "unified:charges", 904: "no_decision", 905: "no_dual_review",
              906: "exclusive_agreement", 907: "not_reported", 908: "not_filed", 909: "filing_outdated",
              910: "no_responsible_unit"}
    for serial, code in expect.items():
        assert code in found[planted_school("11", serial)], (serial, found[planted_school("11", serial)])
    for serial in (911, 920, 921):  # its own app; the clean county
        assert found[planted_school("11", serial)] == [""], serial
    alerts = res.school_alerts
    mine = alerts.loc[alerts["school_id"].eq(planted_school("11", 901)), "alert"]
    # the provider's fraud is notified first (issue 17: black only after the statement window), so
    # this cycle its app, excluded at once as fraudulent material, is what the school is alerted to
    assert "app_excluded" in set(mine)
    counties = res.counties.set_index("county_code")["compliance_share"]
    assert counties["110104"] == 1.0 > counties["110102"]
