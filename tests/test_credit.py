"""Tests of evalkit.evaluate.credit: components, grades, the status machine, complaint statistics.

Every dataset here is hand-made and tiny; the arithmetic is in the comments.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from evalkit.data.dataset import Dataset
from evalkit.errors import DataError, EvalkitError
from evalkit.evaluate import credit, credit_complaints, credit_components, credit_context
from evalkit.registry import Registry, RegistryError
from evalkit.rubric.calendar import weekends_only

AS_OF = "2024-06-30"

_COLUMNS: dict[str, dict[str, str]] = {
    "providers": {"provider_id": "str", "name": "str", "province_code": "str",
                  "legal_rep": "str", "icp_number": "str", "telecom_licence": "str",
                  "mlps_level": "Int64", "mlps_filing_no": "str",
                  "mlps_evaluated_on": "datetime64[us]"},
    "apps": {"app_id": "str", "provider_id": "str", "name": "str", "filed_on": "datetime64[us]",
             "info_updated_on": "datetime64[us]", "last_release_on": "datetime64[us]"},
    "submissions": {"app_id": "str", "province_code": "str", "submitted_on": "datetime64[us]",
                    "mandated_use": "boolean", "batch": "str"},
    "assessments": {"app_id": "str", "criterion_id": "str", "value": "str",
                    "assessed_on": "datetime64[us]", "value_num": "float64"},
    "complaints": {"complaint_id": "str", "app_id": "str", "received_on": "datetime64[us]",
                   "channel": "str", "category": "str", "substantiated": "boolean",
                   "resolved_on": "datetime64[us]", "contact": "str", "text": "str"},
    "violations": {"violation_id": "str", "provider_id": "str", "app_id": "str",
                   "found_on": "datetime64[us]", "type": "str", "severity": "str",
                   "fraud": "boolean", "rectify_by": "datetime64[us]",
                   "rectified_on": "datetime64[us]"},
}


def frame(name: str, rows: list[dict] | None = None) -> pd.DataFrame:
    """A contract-typed frame (architecture page dtypes) from a few dict rows."""
    cols = _COLUMNS[name]
    df = pd.DataFrame(rows or [], columns=list(cols))
    for c, t in cols.items():
        df[c] = pd.to_datetime(df[c]).astype(t) if t.startswith("datetime") else df[c].astype(t)
    return df


def provider(pid: str, **kw) -> dict:
    row = {"provider_id": pid, "name": f"公司{pid}", "province_code": "44",
           "legal_rep": f"法人{pid}", "icp_number": "粤ICP备12345678号", "telecom_licence": "",
           "mlps_level": 3, "mlps_filing_no": "44010012345-00001",
           "mlps_evaluated_on": "2024-01-15"}
    row.update(kw)
    return row


def app(aid: str, pid: str, **kw) -> dict:
    row = {"app_id": aid, "provider_id": pid, "name": f"应用{aid}", "filed_on": "2022-01-01",
           "info_updated_on": "2024-01-01", "last_release_on": "2023-12-01"}
    row.update(kw)
    return row


def complaint(cid: str, aid: str, received: str, resolved: str | None = None,
              substantiated: bool | None = None, **kw) -> dict:
    row = {"complaint_id": cid, "app_id": aid, "received_on": received, "channel": "hotline",
           "category": "fees", "substantiated": substantiated, "resolved_on": resolved,
           "contact": "13812345678", "text": "我叫张三，电话13812345678"}
    row.update(kw)
    return row


def violation(vid: str, pid: str, found: str, severity: str = "minor", fraud: bool = False,
              rectify_by: str | None = None, rectified: str | None = None) -> dict:
    return {"violation_id": vid, "provider_id": pid, "app_id": None, "found_on": found,
            "type": "inspection", "severity": severity, "fraud": fraud,
            "rectify_by": rectify_by, "rectified_on": rectified}


def make_ds(providers=(), apps=(), complaints=(), violations=(), assessments=(),
            submissions=()):
    tables = {
        "providers": frame("providers", list(providers)),
        "apps": frame("apps", list(apps)),
        "complaints": frame("complaints", list(complaints)),
        "violations": frame("violations", list(violations)),
        "assessments": frame("assessments", list(assessments)),
        "submissions": frame("submissions", list(submissions)),
    }
    return Dataset(path=Path("."), tables=tables)


def row(cr: credit.CreditResult, pid: str) -> pd.Series:
    return cr.providers.set_index("provider_id").loc[pid]


# --------------------------------------------------------------------------------------------
# working days
# --------------------------------------------------------------------------------------------


def test_working_days_weekend_and_holidays():
    start = pd.Series(pd.to_datetime(["2024-06-28", "2024-06-28", "2024-09-27", "2024-06-28"]))
    end = pd.Series(pd.to_datetime(["2024-06-28", "2024-07-01", "2024-10-18", None]))
    wd = credit.working_days(start, end)
    # same day 0; Friday -> Monday 1; 27 Sep -> 18 Oct: 29 Sep (a make-up Sunday, 1) + 30 Sep
    # (1) + 8–11 Oct (4) + 12 Oct (a make-up Saturday, 1) + 14–18 Oct (5) = 12, since 1–7 Oct
    # is the National Day holiday (2024 notice); NaT -> NaN.
    assert wd[:3].tolist() == [0.0, 1.0, 12.0]
    assert np.isnan(wd[3])
    # Without the holiday list the same span has 15 working days.
    assert credit.working_days(start[2:3], end[2:3], weekends_only()).tolist() == [15.0]


def test_handling_time_counts_working_days_not_calendar_days():
    # c1: 21 calendar days but 11 working days (National Day) -> in time.
    # c2: 2024-05-06 -> 2024-05-29: 18 working days -> late.
    # c3: open since 2024-06-25: 3 working days at as_of -> not yet due, not counted.
    # c4: open since 2024-05-06: overdue at as_of -> late.
    ds = make_ds(
        [provider("P1")], [app("A1", "P1")],
        [complaint("c1", "A1", "2023-09-27", "2023-10-18", False),
         complaint("c2", "A1", "2024-05-06", "2024-05-29", False),
         complaint("c3", "A1", "2024-06-25"),
         complaint("c4", "A1", "2024-05-06")],
    )
    cr = credit.evaluate(ds, None, AS_OF)
    r = row(cr, "P1")
    # c1: 2023-09-27 -> 2023-10-18 with the 2023 holiday 29 Sep – 6 Oct, counted from the day
    # after receipt: 28 Sep (1), 7–8 Oct (make-up weekend, 2), 9–13 Oct (5), 16–18 Oct (3) = 11.
    assert credit.working_days(pd.Series(pd.to_datetime(["2023-09-27"])),
                               pd.Series(pd.to_datetime(["2023-10-18"]))).tolist() == [11.0]
    assert r["share_handled_in_time"] == pytest.approx(1 / 3, abs=1e-4)
    # 2 late of 3 due -> 10 × 2/3 = 6.67 points deducted (components in 0.01 points).
    assert r["c_handling_time"] == -6.67


# --------------------------------------------------------------------------------------------
# score components and grades
# --------------------------------------------------------------------------------------------


def test_worked_example_of_the_score():
    ds = make_ds(
        [provider("P1", mlps_level=3, mlps_evaluated_on="2023-01-10")],  # expired (12 months)
        [app("A1", "P1"), app("A2", "P1", info_updated_on="2023-01-01",
                             last_release_on="2024-03-01")],
        [complaint("c1", "A1", "2024-03-01", "2024-03-05", True),
         complaint("c2", "A1", "2024-03-02", "2024-03-05", False),
         complaint("c3", "A2", "2024-04-01", "2024-04-03", False),
         complaint("c4", "A2", "2024-04-02", "2024-04-03", False)],
        [violation("v1", "P1", "2024-01-10", "major", rectify_by="2024-02-10",
                   rectified="2024-02-01")],
        [{"app_id": "A1", "criterion_id": "S11_security_certification", "value": "true",
          "assessed_on": "2024-01-01", "value_num": 1.0}],
    )
    r = row(credit.evaluate(ds, None, AS_OF), "P1")
    # Points are signed: a deduction negative, a bonus positive; score = 100 + their sum.
    # complaint rate: 4 complaints / 2 apps = 2 per app; full at 5 -> −10 × 2/5 = −4
    assert r["c_complaint_rate"] == pytest.approx(-4.0)
    # substantiated: 1 of 4 decided -> −15 × 0.25 = −3.75
    assert r["c_substantiated_share"] == pytest.approx(-3.75)
    assert r["c_handling_time"] == 0.0
    # one major violation: −8 points (rectified in time: no unrectified points)
    assert r["c_violations"] == pytest.approx(-8.0)
    assert r["c_unrectified"] == 0.0
    # one of two apps released after its filing was updated: −10 × 1/2
    assert r["c_filing_outdated"] == pytest.approx(-5.0)
    # level 3 evaluated 2023-01-10 + 12 months < as_of
    assert r["c_mlps_expired"] == pytest.approx(-10.0)
    # one of two apps certified: +5 × 1/2; not a clean record (a violation, a substantiated one)
    assert r["c_security_certification"] == pytest.approx(2.5)
    assert r["c_clean_record"] == 0.0
    # 100 − 4 − 3.75 − 8 − 5 − 10 + 2.5 = 71.75 -> B
    assert r["score"] == pytest.approx(71.75)
    assert r["score"] == 100 + sum(r[c] for c in credit.COMPONENT_COLUMNS)
    assert r["grade"] == "B"
    assert (r["threshold_a"], r["threshold_b"], r["threshold_c"]) == (90.0, 70.0, 40.0)
    # No province and no published list: every app is under review, and the reason says so
    # (not "an app on the province's list", which does not exist yet).
    assert r["list"] == "grey" and r["reasons"] == "substantiated_complaint_submitted_app"


def test_component_registry_is_complete_and_documented():
    assert isinstance(credit.COMPONENTS, Registry)
    assert set(credit.COMPONENTS) == set(credit.CreditParams().points)
    assert credit.COMPONENT_COLUMNS == tuple(f"c_{name}" for name in credit.COMPONENTS)
    for comp in credit.COMPONENTS.values():
        assert comp.kind in ("deduction", "bonus") and comp.name_zh and comp.name_en
    with pytest.raises(RegistryError, match="registered twice"):
        credit.COMPONENTS.register("violations", credit.COMPONENTS["violations"])


def test_points_of_an_unregistered_component_are_refused():
    ds = make_ds([provider("P1")], [app("A1", "P1")])
    points = {**credit.CreditParams().points, "violatoins": 5.0}
    with pytest.raises(credit.CreditError, match="'points' parameter of credit.evaluate") as exc:
        credit.evaluate(ds, None, AS_OF, params=credit.CreditParams(points=points))
    assert "violatoins" in str(exc.value)


@pytest.mark.parametrize(
    "score, grade",
    [(100, "A"), (90, "A"), (89.99, "B"), (70, "B"), (69.99, "C"), (40, "C"), (39.99, "D"),
     (0, "D")],
)
def test_grade_thresholds(score, grade):
    assert credit_components.grade_kernel(np.array([score]), (90, 70, 40))[0] == grade


def test_profile_thresholds_change_the_grade():
    # A clean provider has 100 (+5 clean bonus, clipped); a substantiated complaint costs
    # 15 + 2 (rate 1/app) -> 83: B with 90/70/40, A with 80/60/30.
    ds = make_ds([provider("P1")], [app("A1", "P1")],
                 [complaint("c1", "A1", "2024-05-01", "2024-05-02", True)])
    assert row(credit.evaluate(ds, None, AS_OF, listed_apps=[]), "P1")["grade"] == "B"
    prof = SimpleNamespace(code=None, ban_months=6, credit=SimpleNamespace(
        thresholds={"A": 80, "B": 60, "C": 30}), mlps=SimpleNamespace(validity_months={3: 12}))
    r = row(credit.evaluate_for_profile(ds, prof, AS_OF, listed_apps=[]), "P1")
    assert r["score"] == pytest.approx(83.0) and r["grade"] == "A"


def test_direct_downgrade_to_d_within_the_window_only():
    ds = make_ds(
        [provider("P1"), provider("P2"), provider("P3")],
        [app("A1", "P1"), app("A2", "P2"), app("A3", "P3")],
        violations=[
            # serious, rectified in time, 5 months ago: score 80 (B) but direct downgrade.
            violation("v1", "P1", "2024-01-20", "serious", rectify_by="2024-02-20",
                      rectified="2024-02-10"),
            # serious 30 months ago: outside the 24-month window, no downgrade.
            violation("v2", "P2", "2021-12-01", "serious", rectify_by="2022-01-01",
                      rectified="2021-12-20"),
            # minor but fraud.
            violation("v3", "P3", "2024-03-01", "minor", fraud=True, rectify_by="2024-04-01",
                      rectified="2024-03-10"),
        ],
    )
    cr = credit.evaluate(ds, None, AS_OF)
    p1, p2, p3 = (row(cr, p) for p in ("P1", "P2", "P3"))
    assert p1["score"] == pytest.approx(80.0) and p1["grade"] == "D"
    assert p1["downgrade"] == "serious_violation"
    assert p2["grade"] == "A" and p2["downgrade"] == ""
    assert p3["grade"] == "D" and p3["downgrade"] == "fraud"


def test_mlps_validity_by_level():
    ds = make_ds(
        [provider("L3", mlps_level=3, mlps_evaluated_on="2023-05-01"),  # 14 months: expired
         provider("L2", mlps_level=2, mlps_evaluated_on="2023-05-01"),  # 24 months: current
         provider("L1", mlps_level=1, mlps_evaluated_on=None),  # level 1: no evaluation needed
         provider("L5", mlps_level=5, mlps_evaluated_on="2024-02-01"),  # as level 4: 6 months
         provider("NO", mlps_level=None, mlps_evaluated_on=None)],  # no MLPS filing
    )
    cr = credit.evaluate(ds, None, AS_OF)
    got = cr.providers.set_index("provider_id")["c_mlps_expired"].to_dict()
    assert got == {"L1": 0.0, "L2": 0.0, "L3": -10.0, "L5": 0.0, "NO": -10.0}
    later = credit.evaluate(ds, None, "2024-08-02")
    assert row(later, "L5")["c_mlps_expired"] == -10.0


# --------------------------------------------------------------------------------------------
# the status machine
# --------------------------------------------------------------------------------------------


def _prev(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["provider_id", "list", "ban_until", "decided_on"])


def test_white_to_grey_by_substantiated_complaint_on_a_listed_app():
    ds = make_ds([provider("P1"), provider("P2")], [app("A1", "P1"), app("A2", "P2")],
                 [complaint("c1", "A1", "2024-05-01", "2024-05-10", True),
                  complaint("c2", "A2", "2024-05-01", "2024-05-10", True)])
    cr = credit.evaluate(ds, None, AS_OF, listed_apps=["A1"])
    p1, p2 = row(cr, "P1"), row(cr, "P2")
    assert p1["grade"] == "B" and p1["list"] == "grey"
    assert p1["reasons"] == "substantiated_complaint_listed_app"
    assert p1["decided_on"] == pd.Timestamp(AS_OF)
    assert p2["list"] == "white"  # A2 is not on the province's list
    h = cr.history.set_index("provider_id").loc["P1"]
    assert (h["from"], h["to"], h["reason"]) == ("white", "grey",
                                                 "substantiated_complaint_listed_app")


def test_complaint_trigger_never_speaks_of_a_list_that_did_not_exist():
    # The same substantiated complaint: on a first cycle (no published list, listed_apps None)
    # the trigger looks at the apps submitted to the province's review and says so; once a
    # list was published, it looks at that list and names it; an app not on it: no trigger.
    ds = make_ds([provider("P1")], [app("A1", "P1")],
                 [complaint("c1", "A1", "2024-05-01", "2024-05-10", True)],
                 submissions=[{"app_id": "A1", "province_code": "44",
                               "submitted_on": "2024-01-01", "mandated_use": False,
                               "batch": "1"}])
    first = credit.evaluate(ds, None, AS_OF, province="44")
    assert row(first, "P1")["reasons"] == "substantiated_complaint_submitted_app"
    assert first.history["reason"].tolist() == ["substantiated_complaint_submitted_app"]
    zh, en = credit.REASONS["substantiated_complaint_submitted_app"]
    assert "submitted to the province's review" in en and "list" not in en.split("(")[0]
    assert "推荐名单内" not in zh
    listed = credit.evaluate(ds, None, AS_OF, province="44", listed_apps=["A1"])
    assert row(listed, "P1")["reasons"] == "substantiated_complaint_listed_app"
    not_listed = credit.evaluate(ds, None, AS_OF, province="44", listed_apps=[])
    assert row(not_listed, "P1")["list"] == "white"
    # with the dates the apps were listed: the complaint (substantiated 2024-05-10) came before
    # A1 was listed on 2024-06-01, the province's first listing: it speaks of a submitted app,
    # as the first cycle's notice did; one after the listing speaks of the list
    before = credit.evaluate(ds, None, AS_OF, province="44", listed_apps={"A1": "2024-06-01"})
    assert row(before, "P1")["reasons"] == "substantiated_complaint_submitted_app"
    after = credit.evaluate(ds, None, AS_OF, province="44", listed_apps={"A1": "2024-05-02"})
    assert row(after, "P1")["reasons"] == "substantiated_complaint_listed_app"
    # listed later than others: the complaint came while a list existed without A1: no trigger
    later = credit.evaluate(ds, None, AS_OF, province="44", listed_apps={"A1": "2024-06-01", "A9": "2024-01-01"})
    assert row(later, "P1")["list"] == "white"


def test_listed_apps_default_to_the_province_submissions():
    ds = make_ds([provider("P1")], [app("A1", "P1")],
                 [complaint("c1", "A1", "2024-05-01", "2024-05-10", True)],
                 submissions=[{"app_id": "A1", "province_code": "31",
                               "submitted_on": "2024-01-01", "mandated_use": False,
                               "batch": "1"}])
    assert row(credit.evaluate(ds, None, AS_OF, province="31"), "P1")["list"] == "grey"
    # Guangdong (the domicile) has not received A1: P1 stays white there.
    assert row(credit.evaluate(ds, None, AS_OF, province="44"), "P1")["list"] == "white"


def test_white_to_grey_by_grade_c():
    # two major violations (16) + both unrectified past the deadline (20) = 64 -> C.
    ds = make_ds([provider("P1")], [app("A1", "P1")], violations=[
        violation("v1", "P1", "2024-01-10", "major", rectify_by="2024-03-01"),
        violation("v2", "P1", "2024-02-10", "major", rectify_by="2024-04-01")])
    r = row(credit.evaluate(ds, None, AS_OF), "P1")
    assert r["score"] == pytest.approx(64.0) and r["grade"] == "C"
    assert r["list"] == "grey" and r["reasons"] == "grade_c"
    assert pd.isna(r["ban_until"])


def test_grey_to_black_by_a_repeat_violation():
    ds = make_ds([provider("P1"), provider("P2")], [app("A1", "P1"), app("A2", "P2")],
                 violations=[violation("v1", "P1", "2024-03-01", "minor",
                                       rectify_by="2024-04-01", rectified="2024-03-15"),
                             violation("v2", "P2", "2024-03-01", "minor",
                                       rectify_by="2024-04-01", rectified="2024-03-15")])
    prev = _prev([{"provider_id": "P1", "list": "grey", "ban_until": "",
                   "decided_on": "2024-01-01"},
                  {"provider_id": "P2", "list": "white", "ban_until": "",
                   "decided_on": "2024-01-01"}])
    cr = credit.evaluate(ds, None, AS_OF, prev)
    p1, p2 = row(cr, "P1"), row(cr, "P2")
    assert p1["list"] == "black" and p1["reasons"] == "repeat_violation_while_grey"
    assert p1["ban_until"] == pd.Timestamp("2024-12-30")  # as_of + 6 months
    assert p1["decided_on"] == pd.Timestamp(AS_OF)
    assert p2["list"] == "white"  # the same violation while white: grade only
    # A violation found before the grey decision is not a repeat.
    prev.loc[0, "decided_on"] = "2024-03-01"
    assert row(credit.evaluate(ds, None, AS_OF, prev), "P1")["list"] == "grey"


def test_black_by_fraud_with_profile_ban_length():
    ds = make_ds([provider("P1")], [app("A1", "P1")], violations=[
        violation("v1", "P1", "2024-06-01", "minor", fraud=True, rectify_by="2024-07-01")])
    gd = SimpleNamespace(code=None, ban_months=24, credit=None, mlps=None)  # Guangdong: 2 years
    r = row(credit.evaluate(ds, gd, AS_OF), "P1")
    assert r["list"] == "black" and r["grade"] == "D"
    assert r["reasons"] == "fraud"
    assert r["ban_until"] == pd.Timestamp("2026-06-30")
    assert row(credit.evaluate(ds, None, AS_OF), "P1")["ban_until"] == pd.Timestamp("2024-12-30")
    # Explicit parameters without a profile, the date in second place.
    r = row(credit.evaluate(ds, AS_OF, ban_months=24), "P1")
    assert r["ban_until"] == pd.Timestamp("2026-06-30")


def test_grade_d_with_unrectified_serious_violation_is_black_rectified_is_grey():
    ds = make_ds([provider("P1"), provider("P2")], [app("A1", "P1"), app("A2", "P2")],
                 violations=[
                     violation("v1", "P1", "2024-01-10", "serious", rectify_by="2024-03-01"),
                     violation("v2", "P2", "2024-01-10", "serious", rectify_by="2024-03-01",
                               rectified="2024-02-20")])
    cr = credit.evaluate(ds, None, AS_OF)
    p1, p2 = row(cr, "P1"), row(cr, "P2")
    assert p1["grade"] == "D" and p1["list"] == "black"
    assert p1["reasons"] == "serious_violation;grade_d_unrectified_serious"
    assert p2["grade"] == "D" and p2["list"] == "grey"
    assert p2["reasons"] == "serious_violation;grade_d"
    # Not yet past the deadline: not black.
    early = credit.evaluate(ds, None, "2024-02-15")
    assert row(early, "P1")["list"] == "grey"


def test_ban_in_force_is_reported_and_vetoes():
    ds = make_ds([provider("P1"), provider("P2")], [app("A1", "P1"), app("A2", "P2")])
    prev = _prev([{"provider_id": "P1", "list": "black", "ban_until": "2024-12-31",
                   "decided_on": "2024-01-01"}])
    prev["reasons"] = "fraud"
    cr = credit.evaluate(ds, None, AS_OF, prev)
    r = row(cr, "P1")
    assert r["list"] == "black" and r["ban_until"] == pd.Timestamp("2024-12-31")
    assert r["decided_on"] == pd.Timestamp("2024-01-01")
    assert r["reasons"] == "fraud;ban_in_force"
    # its findings have left the input (score 100): the ban still grades it D, never "A (trustworthy)"
    assert (r["score"], r["grade"], r["downgrade"]) == (100, "D", "ban_in_force")
    assert (row(cr, "P2")["grade"], row(cr, "P2")["downgrade"]) == ("A", "")
    assert cr.history.empty
    assert credit.banned_providers(cr, AS_OF) == ["P1"]
    assert credit.banned_providers(cr, "2024-12-30") == ["P1"]
    assert credit.banned_providers(cr, "2024-12-31") == []  # ban_until: first free day
    assert credit.banned_providers(cr.providers, AS_OF) == ["P1"]


def test_a_ban_in_force_is_carried_for_a_provider_absent_from_the_input():
    """P9 (banned, then removed from the input) keeps its row until the ban ends: black, its
    ban, name, legal representative and grade from the previous table, not scored."""
    ds = make_ds([provider("P1")], [app("A1", "P1")])
    prev = pd.DataFrame([
        {"provider_id": "P9", "provider_name": "九号公司", "legal_rep": "张三", "province_code": "44",
         "grade": "D", "list": "black", "ban_until": "2024-12-31", "decided_on": "2024-01-01", "reasons": "fraud"},
        {"provider_id": "P8", "provider_name": "八号公司", "legal_rep": "李四", "province_code": "44",
         "grade": "D", "list": "black", "ban_until": "2024-06-30", "decided_on": "2023-12-30", "reasons": "fraud"},
        {"provider_id": "P7", "provider_name": "七号公司", "list": "grey", "ban_until": "",
         "decided_on": "2024-01-01", "reasons": "grade_c"},
    ])  # fmt: skip
    cr = credit.evaluate(ds, None, AS_OF, prev)
    assert cr.providers["provider_id"].tolist() == ["P1", "P9"]  # P8's ban is over, P7 was never banned
    r = row(cr, "P9")
    assert (r["list"], r["ban_until"], r["decided_on"]) == ("black", pd.Timestamp("2024-12-31"),
                                                             pd.Timestamp("2024-01-01"))
    assert (r["provider_name"], r["legal_rep"], r["province_code"], r["grade"]) == ("九号公司", "张三", "44", "D")
    assert r["reasons"] == "fraud;ban_in_force;not_in_input"
    assert pd.isna(r["score"]) and pd.isna(r["c_violations"]) and r["n_apps"] == 0
    assert r["threshold_a"] == row(cr, "P1")["threshold_a"]
    assert cr.providers.dtypes.equals(credit.evaluate(ds, None, AS_OF).providers.dtypes)
    assert credit.banned_providers(cr, AS_OF) == ["P9"] and cr.history.empty
    assert credit.REASONS["not_in_input"][0] and credit.REASONS["not_in_input"][1]
    # the next cycle continues from this table: still carried until the ban ends, then gone
    assert row(credit.evaluate(ds, None, "2024-12-30", cr.providers), "P9")["list"] == "black"
    assert credit.evaluate(ds, None, "2024-12-31", cr.providers).providers["provider_id"].tolist() == ["P1"]


def test_ban_expiry_returns_to_grey_not_white():
    ds = make_ds([provider("P1")], [app("A1", "P1")])
    prev = _prev([{"provider_id": "P1", "list": "black", "ban_until": "2024-05-01",
                   "decided_on": "2023-11-01"}])
    cr = credit.evaluate(ds, None, AS_OF, prev)
    r = row(cr, "P1")
    assert r["grade"] == "A" and r["list"] == "grey" and r["reasons"] == "ban_expired"
    assert r["decided_on"] == pd.Timestamp("2024-05-01") and pd.isna(r["ban_until"])
    assert credit.banned_providers(cr, AS_OF) == []
    h = cr.history
    assert h[["from", "to", "on", "reason"]].values.tolist() == [
        ["black", "grey", pd.Timestamp("2024-05-01"), "ban_expired"]]
    # After the observation period (12 months from the ban's end) with no new finding: white.
    later = credit.evaluate(ds, None, "2025-05-01", cr.providers)
    assert row(later, "P1")["list"] == "white"
    assert row(later, "P1")["reasons"] == "grade_a;grey_cleared"
    assert later.history["reason"].tolist() == ["grey_cleared"]
    # The next cycle it simply stays white: its grade and no trigger.
    again = credit.evaluate(ds, None, "2025-11-01", later.providers)
    assert row(again, "P1")["reasons"] == "grade_a;no_list_trigger" and again.history.empty


def test_every_provider_has_reasons_white_ones_too():
    # P1 clean (A), P2 two minor violations and an outdated filing (B), P3 grade C (grey),
    # P4 fraud (black): every row says why it is on its list, in words in both languages.
    ds = make_ds([provider(p) for p in ("P1", "P2", "P3", "P4")],
                 [app("A1", "P1"), app("A2", "P2", info_updated_on="2023-01-01",
                                       last_release_on="2024-03-01"),
                  app("A3", "P3"), app("A4", "P4")],
                 violations=[violation("v1", "P2", "2024-01-10", rectify_by="2024-02-01",
                                       rectified="2024-01-20"),
                             violation("v2", "P2", "2024-02-10", rectify_by="2024-03-01",
                                       rectified="2024-02-20"),
                             violation("v3", "P3", "2024-01-10", "major", rectify_by="2024-03-01"),
                             violation("v4", "P3", "2024-02-10", "major", rectify_by="2024-04-01"),
                             violation("v5", "P4", "2024-06-01", fraud=True)])
    got = credit.evaluate(ds, None, AS_OF).providers.set_index("provider_id")
    # P2: 100 − 6 (violations) − 10 (filing: its only app) = 84 -> B
    assert got.loc["P2", "score"] == 84.0 and got.loc["P2", "grade"] == "B"
    assert got["reasons"].to_dict() == {
        "P1": "grade_a;no_list_trigger", "P2": "grade_b;no_list_trigger", "P3": "grade_c",
        "P4": "fraud"}
    assert got["list"].tolist() == ["white", "white", "grey", "black"]
    for code in ("grade_a", "grade_b", "no_list_trigger", "grey_cleared"):
        zh, en = credit.REASONS[code]
        assert zh and en


def test_findings_during_a_ban_count_when_it_ends():
    ds = make_ds([provider("P1")], [app("A1", "P1")], violations=[
        violation("v1", "P1", "2024-03-01", "minor", rectify_by="2024-04-01",
                  rectified="2024-03-10")])
    prev = _prev([{"provider_id": "P1", "list": "black", "ban_until": "2024-05-01",
                   "decided_on": "2023-11-01"}])
    cr = credit.evaluate(ds, None, AS_OF, prev)
    r = row(cr, "P1")
    assert r["list"] == "black" and r["reasons"] == "repeat_violation_while_grey"
    assert cr.history[["from", "to"]].values.tolist() == [["black", "grey"], ["grey", "black"]]


def test_chained_runs_through_published_csv_are_reproducible():
    ds = make_ds(
        [provider("P1"), provider("P2"), provider("P3")],
        [app("A1", "P1"), app("A2", "P2"), app("A3", "P3")],
        [complaint("c1", "A1", "2024-02-01", "2024-02-05", True)],
        [violation("v1", "P2", "2024-03-01", "minor", fraud=True, rectify_by="2024-04-01"),
         violation("v2", "P1", "2024-05-01", "minor", rectify_by="2024-06-01",
                   rectified="2024-05-10")],
    )
    first = credit.evaluate(ds, None, "2024-03-31")
    assert row(first, "P1")["list"] == "grey" and row(first, "P2")["list"] == "black"
    # Round-trip through CSV text as a published credit.csv would be read back.
    buf = io.StringIO()
    first.providers.to_csv(buf, index=False)
    prev = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)
    a = credit.evaluate(ds, None, AS_OF, prev)
    b = credit.evaluate(ds, None, AS_OF, first.providers)
    pd.testing.assert_frame_equal(a.providers, b.providers)
    pd.testing.assert_frame_equal(a.history, b.history)
    assert row(a, "P1")["list"] == "black"  # v2 while grey
    assert row(a, "P2")["list"] == "black" and row(a, "P2")["decided_on"] == pd.Timestamp(
        "2024-03-31")
    assert row(a, "P3")["list"] == "white"


def _as_published(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as a published CSV reads back: text only (dates ISO, empty for missing)."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, date_format="%Y-%m-%d")
    return pd.read_csv(io.StringIO(buf.getvalue()), dtype=str, keep_default_na=False)


def test_history_continues_across_cycles():
    # Cycle 1 (2024-03-31): P2 black for fraud (ban to 2024-09-30). Cycle 2 (2024-10-31): the
    # ban ended on 2024-09-30 (black -> grey that day). The history of cycle 2 is the rows of
    # cycle 1's history, unchanged, then cycle 2's transitions.
    ds = make_ds([provider("P1"), provider("P2")], [app("A1", "P1"), app("A2", "P2")],
                 violations=[violation("v1", "P2", "2024-03-01", fraud=True,
                                       rectify_by="2024-04-01", rectified="2024-03-20")])
    first = credit.evaluate(ds, None, "2024-03-31")
    h1 = credit.continue_history(first)
    assert list(h1.columns) == list(credit.HISTORY_COLUMNS)
    assert h1[["provider_id", "from", "to", "reasons"]].values.tolist() == [
        ["P2", "white", "black", "fraud"]]
    second = credit.evaluate(ds, None, "2024-10-31", _as_published(first.providers))
    h2 = credit.continue_history(second, _as_published(h1))
    pd.testing.assert_frame_equal(h2.iloc[:1], h1)
    new = h2.iloc[1:]
    assert new[["provider_id", "on", "from", "to", "reasons", "recorded_on"]].values.tolist() == [
        ["P2", pd.Timestamp("2024-09-30"), "black", "grey", "ban_expired",
         pd.Timestamp("2024-10-31")]]
    # the same previous history gives the same result (and a first cycle starts empty)
    pd.testing.assert_frame_equal(h2, credit.continue_history(second, _as_published(h1)))
    assert credit.continue_history(credit.evaluate(ds, None, "2023-01-01")).empty


def test_previous_history_errors_name_file_row_and_column():
    ds = make_ds([provider("P1")], [app("A1", "P1")])
    cr = credit.evaluate(ds, None, AS_OF)
    good = {"provider_id": "P1", "on": "2024-01-01", "from": "white", "to": "grey",
            "reasons": "grade_c", "recorded_on": "2024-01-01"}
    with pytest.raises(DataError, match=r"credit_history.csv \(previous\):recorded_on: missing column"):
        credit.continue_history(cr, pd.DataFrame([good]).drop(columns="recorded_on"))
    bad = [good, {**good, "to": "purple"}, {**good, "on": "2024-13-01"},
           {**good, "on": "2024-07-01", "recorded_on": "2024-07-01"}]
    with pytest.raises(DataError) as exc:
        credit.continue_history(cr, pd.DataFrame(bad))
    shown = [str(p) for p in exc.value.problems]
    assert any(x.startswith("credit_history.csv (previous):2:to: must be one of") for x in shown)
    assert any(x.startswith("credit_history.csv (previous):3:on: must be a date") for x in shown)
    assert any(x.startswith("credit_history.csv (previous):4:on:") and "not after 2024-06-30" in x
               for x in shown)
    with pytest.raises(TypeError, match="'previous' parameter of credit.continue_history"):
        credit.continue_history(cr, [good])
    with pytest.raises(TypeError, match="'cr' parameter of credit.continue_history"):
        credit.continue_history(cr.providers)


def test_determinism_and_row_order_invariance():
    ds = make_ds(
        [provider(f"P{i}") for i in range(6)],
        [app(f"A{i}", f"P{i}") for i in range(6)],
        [complaint(f"c{i}", f"A{i % 6}", f"2024-0{1 + i % 5}-0{1 + i % 7}",
                   None if i % 4 == 0 else f"2024-0{1 + i % 5}-2{i % 8}", i % 3 == 0,
                   channel=["hotline", "web", "app"][i % 3])
         for i in range(30)],
        [violation(f"v{i}", f"P{i % 6}", f"2023-1{i % 3}-01", ["minor", "major", "serious"][i % 3],
                   rectify_by="2024-01-01") for i in range(9)],
    )
    a = credit.evaluate(ds, None, AS_OF)
    shuffled = SimpleNamespace(**{k: v.sample(frac=1.0, random_state=1)
                                  for k, v in ds.tables.items()})
    b = credit.evaluate(shuffled, None, AS_OF)
    pd.testing.assert_frame_equal(a.providers, b.providers)
    pd.testing.assert_frame_equal(a.history, b.history)
    pd.testing.assert_frame_equal(a.complaints, b.complaints)
    assert set(a.providers["list"]) >= {"grey"}
    assert (a.providers["reasons"] != "").all()  # white providers say why, too


def test_rows_after_as_of_change_nothing():
    base = {"providers": [provider("P1")], "apps": [app("A1", "P1")]}
    ds = make_ds(**base, complaints=[complaint("c1", "A1", "2024-05-01", "2024-05-03", False)])
    later = make_ds(**base, complaints=[
        complaint("c1", "A1", "2024-05-01", "2024-05-03", False),
        complaint("c2", "A1", "2024-07-01", "2024-07-03", True)],
        violations=[violation("v1", "P1", "2024-07-05", "serious", fraud=True)])
    pd.testing.assert_frame_equal(credit.evaluate(ds, None, AS_OF).providers,
                                  credit.evaluate(later, None, AS_OF).providers)


# --------------------------------------------------------------------------------------------
# complaint statistics and personal data
# --------------------------------------------------------------------------------------------


def test_complaint_stats_aggregates_only():
    ds = make_ds(
        [provider("P1", province_code="44"), provider("P2", province_code="11")],
        [app("A1", "P1"), app("A2", "P2")],
        [complaint("c1", "A1", "2024-05-06", "2024-05-08", True, category="ads"),
         complaint("c2", "A1", "2024-05-06", "2024-05-29", False, channel="web"),
         complaint("c3", "A1", "2024-06-25"),
         complaint("c4", "A2", "2024-05-06", None)],
        submissions=[{"app_id": "A1", "province_code": p, "submitted_on": "2024-01-01",
                      "mandated_use": False, "batch": "1"} for p in ("44", "31")],
    )
    st = credit.complaint_stats(ds, AS_OF)
    gd = st[(st["province_code"] == "44") & (st["dimension"] == "all")].iloc[0]
    # c1 2 working days (in time), c2 18 (late: 11 May 2024 is a make-up Saturday), c3 open
    # and not yet due.
    assert (gd["n_complaints"], gd["n_substantiated"], gd["n_resolved"], gd["n_open"]) == (
        3, 1, 2, 1)
    assert gd["share_within_limit"] == pytest.approx(0.5)
    assert gd["median_working_days"] == pytest.approx(10.0)
    bj = st[(st["province_code"] == "11") & (st["dimension"] == "all")].iloc[0]
    assert bj["n_overdue"] == 1 and bj["share_within_limit"] == 0.0
    cats = st[(st["province_code"] == "44") & (st["dimension"] == "category")]
    assert dict(zip(cats["value"], cats["n_complaints"], strict=False)) == {"ads": 1, "fees": 2}
    by_sub = credit.complaint_stats(ds, AS_OF, by="submissions")
    assert set(by_sub["province_code"]) == {"31", "44"}
    # No contact data or text anywhere in any output.
    cr = credit.evaluate(ds, None, AS_OF)
    for out in (st, by_sub, cr.providers, cr.complaints, cr.history):
        assert not {"contact", "text"} & set(out.columns)
        blob = out.to_csv()
        assert "13812345678" not in blob and "张三" not in blob


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def test_parameter_and_input_errors():
    ds = make_ds([provider("P1")], [app("A1", "P1")])
    with pytest.raises(ValueError, match="'as_of' parameter of credit.evaluate"):
        credit.evaluate(ds, None, "not a date")
    with pytest.raises(ValueError, match="'thresholds' parameter"):
        credit.evaluate(ds, None, AS_OF, thresholds=(70, 90, 40))
    with pytest.raises(ValueError, match="'ban_months' parameter"):
        credit.evaluate(ds, None, AS_OF, ban_months=0)
    with pytest.raises(ValueError, match="'by' parameter"):
        credit.complaint_stats(ds, AS_OF, by="city")
    broken = make_ds([provider("P1")], [app("A1", "P1")])
    broken.tables["violations"] = broken.violations.drop(columns=["severity"])
    with pytest.raises(DataError, match="violations:severity"):
        credit.evaluate(broken, None, AS_OF)
    bad_prev = _prev([{"provider_id": "P1", "list": "purple", "ban_until": "",
                       "decided_on": ""}])
    with pytest.raises(DataError, match="white/grey/black"):
        credit.evaluate(ds, None, AS_OF, bad_prev)
    with pytest.raises(TypeError, match="'cr' parameter"):
        credit.banned_providers(["P1"], AS_OF)
    # every one of them is an EvalkitError (the command line prints it without a traceback)
    with pytest.raises(EvalkitError):
        credit.evaluate(ds, None, AS_OF, ban_months=0)
    with pytest.raises(EvalkitError):
        credit.banned_providers(["P1"], AS_OF)
    with pytest.raises(EvalkitError, match="Did you mean 'domicile'"):
        credit.complaint_stats(ds, AS_OF, by="domicil")


# --------------------------------------------------------------------------------------------
# the province view and the prepared-context cache, pinned to the former implementation
# --------------------------------------------------------------------------------------------


def _day(rng: np.random.Generator, lo: str = "2021-06-01", hi: str = "2024-09-30") -> str:
    a, b = pd.Timestamp(lo).value // 86_400_000_000_000, pd.Timestamp(hi).value // 86_400_000_000_000
    return str(pd.Timestamp(int(rng.integers(a, b)), unit="D").date())


def random_ds(seed: int) -> tuple[Dataset, pd.DataFrame]:
    """Three provinces, dangling references, missing values, rows dated after AS_OF; and a
    previous credit table with bans in force and ended and non-canonical reasons."""
    rng = np.random.default_rng(seed)
    provs = ["11", "31", "44"]
    pids = [f"P{i:02d}" for i in range(14)]

    def maybe(p: float, v):
        return v if rng.random() < p else None

    providers = [provider(p, province_code=str(rng.choice(provs)),
                          mlps_level=maybe(0.9, int(rng.integers(1, 5))),
                          mlps_evaluated_on=maybe(0.8, _day(rng, "2021-01-01", "2024-06-30")))
                 for p in pids]
    aids = [f"A{j:02d}" for j in range(40)]
    apps = [app(a, str(rng.choice(pids + ["PX"])), info_updated_on=_day(rng),
                last_release_on=_day(rng)) for a in aids]
    subs = [{"app_id": a, "province_code": p, "submitted_on": "2024-01-01",
             "mandated_use": False, "batch": "1"}
            for a in aids + ["AZZ"] for p in provs if rng.random() < 0.3]
    complaints = []
    for k in range(400):
        rec = _day(rng)
        res = maybe(0.7, str((pd.Timestamp(rec) + pd.Timedelta(days=int(rng.integers(0, 40))))
                             .date()))
        complaints.append(complaint(
            f"c{k}", str(rng.choice(aids + ["AZZ"])), rec, res,
            maybe(0.7, bool(rng.random() < 0.4)),
            channel=rng.choice(["hotline", "web", "信访", ""]) if rng.random() < 0.9 else None,
            category=str(rng.choice(["fees", "ads", "privacy"])) if rng.random() < 0.95 else None))
    violations = [violation(f"v{k}", str(rng.choice(pids + ["PX"])), _day(rng),
                            str(rng.choice(["minor", "major", "serious"])),
                            fraud=bool(rng.random() < 0.1),
                            rectify_by=maybe(0.7, _day(rng)), rectified=maybe(0.4, _day(rng)))
                  for k in range(30)]
    assessments = [{"app_id": str(rng.choice(aids + ["AZZ"])),
                    "criterion_id": str(rng.choice(["S11_security_certification",
                                                    "S01_masvs_storage"])),
                    "value": (v := str(rng.choice(["true", "false"]))), "assessed_on": _day(rng),
                    "value_num": float(v == "true")} for _ in range(80)]
    ds = make_ds(providers, apps, complaints, violations, assessments, subs)
    codes = ["grade_c", "fraud;grade_c", "unknown_code;grade_d", ""]
    prev = pd.DataFrame({
        "provider_id": pids[::2],
        "list": rng.choice(["white", "grey", "black"], len(pids[::2])),
        "ban_until": [maybe(0.7, _day(rng, "2023-06-01", "2025-06-01")) for _ in pids[::2]],
        "decided_on": [maybe(0.8, _day(rng, "2022-06-01", "2024-06-01")) for _ in pids[::2]],
        "reasons": rng.choice(codes, len(pids[::2])),
    })
    return ds, prev


def _former_province(ds: Dataset, province: str, previous: pd.DataFrame | None,
                     listed: list[str] | None) -> credit.CreditResult:
    """The former province evaluation: the frames of the province's providers (domiciled there
    or with an app submitted there) sliced from the dataset and evaluated as a whole, then
    filtered to the province's rows."""
    pr, apps, subs = ds.providers, ds.apps, ds.submissions
    sub_apps = subs.loc[subs["province_code"] == province, "app_id"]
    owners = apps.loc[apps["app_id"].isin(sub_apps), "provider_id"]
    banned = ([] if previous is None else  # a provider the province banned stays in its table (issue 16)
              previous.loc[previous["list"].astype(str).str.strip().str.lower().eq("black"), "provider_id"].tolist())
    ids = pd.Index(pr.loc[pr["province_code"] == province, "provider_id"]).append(
        pd.Index(owners)).append(pd.Index(banned, dtype=pr["provider_id"].dtype)).unique()
    keep_apps = apps.loc[apps["provider_id"].isin(ids)]
    view = SimpleNamespace(
        providers=pr.loc[pr["provider_id"].isin(ids)], apps=keep_apps,
        complaints=ds.complaints.loc[ds.complaints["app_id"].isin(keep_apps["app_id"])],
        violations=ds.violations.loc[ds.violations["provider_id"].isin(ids)],
        assessments=ds.assessments.loc[ds.assessments["app_id"].isin(keep_apps["app_id"])])
    first_run = listed is None  # no published list: the complaint trigger names submitted apps
    if listed is None:
        listed = sub_apps.unique().tolist()
    cr = credit.evaluate(view, None, AS_OF, previous, listed_apps=listed)
    if first_run:
        code = ("substantiated_complaint_listed_app", "substantiated_complaint_submitted_app")
        cr = replace(cr, providers=cr.providers.assign(reasons=cr.providers["reasons"].str.replace(*code)),
                     history=cr.history.assign(reason=cr.history["reason"].str.replace(*code)))
    out = cr.providers
    in_prov = keep_apps.loc[keep_apps["app_id"].isin(sub_apps), "provider_id"]
    keep = (out["province_code"] == province) | out["provider_id"].isin(in_prov)
    keep |= out["provider_id"].isin(banned)
    out = out.loc[keep].reset_index(drop=True)
    history = cr.history.loc[cr.history["provider_id"].isin(out["provider_id"])]
    return replace(cr, providers=out, history=history.reset_index(drop=True))


@pytest.mark.parametrize("seed", range(4))
def test_province_view_equals_the_former_slicing(seed):
    ds, prev = random_ds(seed)
    national = credit.complaint_stats(ds, AS_OF)
    for province in ("11", "31", "44"):
        for previous, listed in ((None, None), (prev, None), (prev, ["A01", "A02", "A03"])):
            got = credit.evaluate(ds, None, AS_OF, previous, listed_apps=listed,
                                  province=province)
            ref = _former_province(ds, province, previous, listed)
            pd.testing.assert_frame_equal(got.providers, ref.providers, check_exact=True)
            pd.testing.assert_frame_equal(got.history, ref.history, check_exact=True)
            stats = national.loc[national["province_code"] == province].reset_index(drop=True)
            pd.testing.assert_frame_equal(got.complaints, stats, check_exact=True)
    assert (ref.providers["list"] != "white").any()


def _former_stats(ctx, by: str, subs: pd.DataFrame) -> pd.DataFrame:
    """The former complaint statistics: one pandas groupby-aggregate per dimension."""
    c = ctx.complaints
    due, late = ctx.due_and_late()
    base = pd.DataFrame({
        "app_id": c["app_id"].astype(str).to_numpy(),
        "category": c["category"].astype(object).to_numpy(),
        "channel": c["channel"].astype(object).fillna("").replace("", "unknown").to_numpy(),
        "subst": credit_context.as_bool(c["substantiated"]), "resolved": c["resolved_on"].notna().to_numpy(),
        "wd": c["wd"].to_numpy(), "due": due, "in_time": due & ~late,
        "overdue": ~c["resolved_on"].notna().to_numpy() & late,
    })
    if by == "domicile":
        code = c["code"].to_numpy()
        prov = ctx.providers["province_code"].astype(str).to_numpy()
        base["province_code"] = np.where(code >= 0, prov[np.maximum(code, 0)], "")
    else:
        pairs = subs[["app_id", "province_code"]].astype(str).drop_duplicates()
        base = base.merge(pairs, on="app_id", how="inner")
    base = base.loc[base["province_code"] != ""]
    parts = []
    for dim in ("all", "category", "channel"):
        key = base[dim] if dim != "all" else pd.Series("all", index=base.index)
        agg = base.assign(value=key.to_numpy()).groupby(["province_code", "value"]).agg(
            n_complaints=("subst", "size"), n_substantiated=("subst", "sum"),
            n_resolved=("resolved", "sum"), n_overdue=("overdue", "sum"), n_due=("due", "sum"),
            n_in_time=("in_time", "sum"), mean_working_days=("wd", "mean"),
            median_working_days=("wd", "median")).reset_index()
        agg.insert(1, "dimension", dim)
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    out["n_open"] = out["n_complaints"] - out["n_resolved"]
    out["share_within_limit"] = (out["n_in_time"] / out["n_due"].where(out["n_due"] > 0)).round(4)
    out["mean_working_days"] = out["mean_working_days"].round(2)
    for col in ("n_complaints", "n_substantiated", "n_resolved", "n_open", "n_overdue"):
        out[col] = out[col].astype("int64")
    return out[credit_complaints.STATS_COLUMNS].sort_values(["province_code", "dimension", "value"],
                                                  kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("by", ["domicile", "submissions"])
def test_complaint_stats_equal_the_former_groupby(seed, by):
    ds, _ = random_ds(seed)
    ctx = credit_context.prepare(ds, pd.Timestamp(AS_OF), credit.CreditParams(), "test")
    got = credit_complaints.province_stats(ctx, by=by, subs=ds.submissions)
    ref = _former_stats(ctx, by, ds.submissions)
    pd.testing.assert_frame_equal(got, ref, check_exact=True, check_dtype=False)
    assert list(got.dtypes.astype(str)) == list(ref.dtypes.astype(str))
    assert {"unknown", "信访"} <= set(got.loc[got["dimension"] == "channel", "value"])


def test_group_mean_median_kernel():
    rng = np.random.default_rng(0)
    g = rng.integers(0, 7, 500)
    x = np.where(rng.random(500) < 0.2, np.nan, rng.integers(-3, 30, 500).astype(float))
    mean, median = credit_complaints.group_mean_median(g, x, 9)  # groups 7, 8 empty
    ref = pd.Series(x).groupby(g).agg(["mean", "median"]).reindex(range(9))
    np.testing.assert_array_equal(mean, ref["mean"].to_numpy())
    np.testing.assert_array_equal(median, ref["median"].to_numpy())
    # Worked example: [1, 4, 2, NaN] -> mean 7/3, median (1, 2, 4) = 2; [5, 9] -> 7.
    mean, median = credit_complaints.group_mean_median(np.array([0, 0, 0, 0, 1, 1]),
                                             np.array([1.0, 4.0, 2.0, np.nan, 5.0, 9.0]), 2)
    assert mean.tolist() == [7 / 3, 7.0] and median.tolist() == [2.0, 7.0]


def test_prepared_context_is_cached_per_dataset_and_never_shared():
    ds, _ = random_ds(0)
    when, p = pd.Timestamp(AS_OF), credit.CreditParams()
    a = credit_context.prepare(ds, when, p, "test")
    assert credit_context.prepare(ds, when, p, "test").complaints is a.complaints  # cached
    assert credit_context.prepare(ds, when + pd.Timedelta(days=1), p, "test").complaints is not (
        a.complaints)
    # Another dataset, or a table of this one replaced, never reads the cached rows.
    other, _ = random_ds(1)
    b = credit_context.prepare(other, when, p, "test")
    assert b.complaints is not a.complaints and len(b.ids) == len(other.providers)
    ds.tables["complaints"] = ds.complaints.iloc[:10]
    c = credit_context.prepare(ds, when, p, "test")
    assert c.complaints is not a.complaints and len(c.complaints) <= 10
    # The province results do not depend on what was evaluated before.
    fresh, _ = random_ds(1)
    pd.testing.assert_frame_equal(credit.evaluate(other, None, AS_OF, province="44").providers,
                                  credit.evaluate(fresh, None, AS_OF, province="44").providers)
    # An entry lives only as long as its frames.
    import gc
    import weakref
    ref = weakref.ref(other.complaints)
    del other, b
    gc.collect()
    assert ref() is None
    credit_context.prepare(fresh, when - pd.Timedelta(days=1), p, "test")  # a miss prunes dead entries
    assert all(r() is not None for refs, _, _ in credit_context._PREPARED.values() for r in refs)
