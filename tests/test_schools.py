"""Issue 18's "Done when", tried as a new user would: an adversarial copy of the sample with one
Guangdong school per case in a county of their own, published by the real command line (the
real pipeline, register and notebooks); each case's finding or alert is in ``schools.csv``,
``school_alerts.csv`` and ``schools.html`` in words, the county shows the lower compliance share,
and a second cycle marks the alerts resolved, late or open.  The rules' parameters come from the
profile (rubrics/profiles), whose checks are tested at the end."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import evalkit
from evalkit.cli import app
from evalkit.data.register import Register
from evalkit.evaluate import pipeline
from evalkit.evaluate.schools import FINDINGS, evaluate_schools
from evalkit.rubric import load_profile
from evalkit.rubric.spec import Profile

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
AS_OF, LATER = "2026-09-01", "2026-10-30"
BAD, CLEAN = "440305", "440306"  # Shenzhen: the adversarial schools' county and a clean one
HOSTILE_NAME = '深圳<script>window.__pwned=1</script>实验学校'
#: school → (what it does wrong, the finding or alert code it must produce)
CASES = {
    # due process (issue 17): the fraud is notified this cycle (black after the statement window)
    # and the app, fraudulent material, is excluded at once: the school is alerted to withdraw it
    "3440305001": ("unified use of an app excluded for its provider's fraud", "app_excluded"),
    "3440305002": ("over its cap", "over_cap:total"),
    "3440305003": ("a unified-use app that charges students", "unified:charges"),
    "3440305004": ("chosen without a collective decision", "no_decision"),
    "3440305005": ("a K-12 selection without the dual review", "no_dual_review"),
    "3440305006": ("an exclusive agreement for a score-query app", "exclusive_agreement"),
    "3440305007": ("a selection never reported", "not_reported"),
}
CLEAN_SCHOOLS = ("3440306001", "3440306002")


def _row(school: str, app_id: str, **kw: object) -> dict[str, object]:
    """A selection that breaks no rule (decided 200 days before AS_OF), changed by ``kw``."""
    row = {"school_id": school, "app_id": app_id, "decided_on": "2026-02-13", "decision_body": "school_meeting",
           "stakeholders_consulted": "true", "content_review_on": "2026-02-03", "security_review_on": "2026-02-03",
           "unified_use": "false", "charges_students": "false", "exclusive_agreement": "false",
           "reported_on": "2026-02-18", "responsible_unit": "信息中心", "withdrawn_on": "", "tied_to_grades": "false"}
    return {**row, **kw}


def _adversarial(folder: Path) -> dict[str, str]:
    """Copy the sample into ``folder`` and plant the cases; returns the apps used."""
    shutil.copytree(SAMPLE, folder)
    ds = evalkit.load_dataset(SAMPLE, as_of=AS_OF)
    dec = pipeline.evaluate(ds, AS_OF, provinces=["44"]).province("44").decisions
    listed = dec.loc[dec["status"].eq("recommended")].sort_values("app_id")
    # the provider of a listed app turns black: a fraud finding in this cycle (Guangdong bans 24 months)
    victim = listed.iloc[0]
    others = listed.loc[listed["provider_id"].ne(victim["provider_id"]), "app_id"].tolist()
    rest = dec.loc[~dec["app_id"].isin(others) & dec["provider_id"].ne(victim["provider_id"]), "app_id"]
    many = others + sorted(rest)[:16 - len(others)]  # 16 apps: one over the cap of 15
    apps = ds.apps
    score_app = apps.loc[apps["features"].str.contains("admissions_exams"), "app_id"].sort_values().iloc[0]
    violations = pd.read_csv(folder / "violations.csv", dtype=str, keep_default_na=False)
    fraud = {"violation_id": "V9000001", "provider_id": victim["provider_id"], "app_id": victim["app_id"],
             "found_on": "2026-08-20", "type": "false_material", "severity": "serious", "fraud": "true",
             "rectify_by": "", "rectified_on": ""}
    pd.concat([violations, pd.DataFrame([fraud])]).to_csv(folder / "violations.csv", index=False)
    schools = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    mine = [(s, BAD) for s in CASES] + [(s, CLEAN) for s in CLEAN_SCHOOLS]
    new = pd.DataFrame({"school_id": [s for s, _ in mine], "province_code": "44",
                        "name": [HOSTILE_NAME if s == "3440305004" else f"深圳市南山区第{s[-1]}学校" for s, _ in mine],
                        "county_code": [c for _, c in mine], "stages": "primary;junior", "kind": "public"})
    pd.concat([schools, new])[schools.columns].to_csv(folder / "schools.csv", index=False)
    a, b = others[0], others[1]
    rows = [
        _row("3440305001", victim["app_id"], unified_use="true"),
        *[_row("3440305002", x) for x in many],
        _row("3440305003", a, unified_use="true", charges_students="true"),
        _row("3440305004", a, decision_body="none"),
        _row("3440305005", a, security_review_on=""),
        _row("3440305006", score_app, exclusive_agreement="true"),
        _row("3440305007", b, reported_on=""),
        _row("3440306001", victim["app_id"]),  # a clean school of the clean county uses the app too
        _row("3440306002", b),
    ]
    selections = pd.read_csv(folder / "selections.csv", dtype=str, keep_default_na=False)
    pd.concat([selections, pd.DataFrame(rows)])[selections.columns].to_csv(folder / "selections.csv", index=False)
    assert len(set(many)) == 16 and len(others) >= 2 and score_app
    return {"victim": victim["app_id"], "score_app": score_app}


def _publish(data: Path, out: Path, as_of: str) -> None:
    res = CliRunner().invoke(app, ["publish", "--data", str(data), "--as-of", as_of, "--provinces", "44",
                                   "--out", str(out), "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("schools")
    data, out = root / "data", root / "out"
    used = _adversarial(data)
    _publish(data, out, AS_OF)
    return data, out, used


def _csv(out: Path, day: str, name: str) -> pd.DataFrame:
    return pd.read_csv(out / day / "44" / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _page_rows(page: str, table_id: str) -> list[list[str]]:
    """Every row of a paged table of the page (its JSON, decoded as assets/report.js does)."""
    found = re.search(rf'<script id="{table_id}-data" type="application/json">(.*?)</script>', page, re.DOTALL)
    assert found, table_id
    data = json.loads(found.group(1))
    cols = []
    for c in data["columns"]:
        if "offsets" in c:
            o = c["offsets"]
            cols.append([c["sep"].join(c["dict"][k] for k in c["codes"][o[i]: o[i + 1]]) for i in range(data["n"])])
        elif "dict" in c:
            cols.append([c["dict"][k] for k in c["codes"]])
        else:
            cols.append([str(v) for v in c["values"]])
    return [list(r) for r in zip(*cols, strict=False)]


def test_each_case_is_a_finding_or_alert_in_words_in_the_files(published) -> None:
    _, out, used = published
    schools = _csv(out, AS_OF, "schools.csv").set_index("school_id")
    alerts = _csv(out, AS_OF, "school_alerts.csv")
    for school, (what, code) in CASES.items():
        if code in ("app_excluded", "provider_black"):
            mine = alerts.loc[alerts["school_id"].eq(school)]
            assert code in set(mine["alert"]), what
            row = mine.loc[mine["alert"].eq(code) & mine["app_id"].eq(used["victim"])].iloc[0]
            assert row["alert_zh"] == "应用未通过评审，已被排除"
            assert row["since"] == AS_OF and row["withdraw_by"] == "2026-09-15" and row["status"] == "open"
            continue
        codes = schools.loc[school, "findings"].split(";")
        assert code in codes, (what, codes)
        zh, en = FINDINGS[code]
        assert zh in schools.loc[school, "findings_zh"] and en in schools.loc[school, "findings_en"], what
        assert schools.loc[school, "compliant"] == "false"
    # the clean school using the blacklisted provider's app is alerted too, but compliant until the deadline
    assert schools.loc["3440306002", "findings"] == "" and schools.loc["3440306002", "compliant"] == "true"
    assert "3440306001" in set(alerts["school_id"])


def test_the_county_with_such_schools_shows_the_lower_compliance_share(published) -> None:
    _, out, _ = published
    counties = _csv(out, AS_OF, "counties.csv").set_index("county_code")
    bad, clean = float(counties.loc[BAD, "compliance_share"]), float(counties.loc[CLEAN, "compliance_share"])
    assert bad < clean == 1.0
    assert counties.loc[BAD, "action"] == "interview" and counties.loc[BAD, "action_zh"] == "约谈"
    assert counties.loc[CLEAN, "action"] == ""
    # the county's share is the share of its schools without findings, as schools.csv says
    schools = _csv(out, AS_OF, "schools.csv")
    mine = schools.loc[schools["county_code"].eq(BAD)]
    assert bad == pytest.approx(round((mine["compliant"] == "true").mean(), 4))


def test_the_page_shows_every_case_in_words_and_escapes_school_names(published) -> None:
    _, out, _ = published
    page = (out / AS_OF / "44" / "schools.html").read_text(encoding="utf-8")
    rows = {r[0]: r for r in _page_rows(page, "schools")}
    for school, (what, code) in CASES.items():
        if code in ("app_excluded", "provider_black"):  # an alert, not a finding
            continue
        assert FINDINGS[code][0] in " ".join(rows[school]), what
    alert_rows = [r for r in _page_rows(page, "school-alerts") if r[0] == "3440305001"]
    assert any("应用未通过评审，已被排除" in r for r in alert_rows)
    county = [c for c in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL) if f">{BAD}<" in c]
    assert county and any("约谈" in c for c in county)  # its row of the counties table (a chart's data too)
    assert "<script>window.__pwned" not in page and html.escape(HOSTILE_NAME) not in "\n".join(rows)
    for code in ("no_dual_review", "unified:charges"):  # codes never shown as codes
        assert f">{code}<" not in page
    index = (out / AS_OF / "index.html").read_text(encoding="utf-8")
    assert 'href="44/schools.html"' in index


def test_no_personal_data_and_alerts_recorded_in_the_register(published) -> None:
    data, out, _ = published
    selections = pd.read_csv(data / "selections.csv", dtype=str, keep_default_na=False)
    for name in ("schools.csv", "school_findings.csv", "school_alerts.csv", "counties.csv"):
        text = (out / AS_OF / "44" / name).read_text(encoding="utf-8-sig")
        assert "responsible_unit" not in text and "信息中心" not in text, name
    assert "教务处" in set(selections["responsible_unit"])  # the responsible units exist in the input
    with Register.open(out, create=False) as reg:
        cycle = reg.latest("44", "9999-12-31")
        stored = reg.school_alerts(cycle)
        assert reg.verify() == []
    published_alerts = _csv(out, AS_OF, "school_alerts.csv")
    assert len(stored) == len(published_alerts)
    assert set(stored["alert"]) == set(published_alerts["alert"])


def test_a_later_cycle_marks_alerts_resolved_late_or_open(published, tmp_path: Path) -> None:
    data, out, used = published
    later = tmp_path / "data"
    shutil.copytree(data, later)
    out2 = tmp_path / "out"
    shutil.copytree(out, out2)
    sel = pd.read_csv(later / "selections.csv", dtype=str, keep_default_na=False)
    victim = sel["app_id"].eq(used["victim"])
    sel.loc[victim & sel["school_id"].eq("3440305001"), "withdrawn_on"] = "2026-09-10"  # in time
    sel.loc[victim & sel["school_id"].eq("3440306001"), "withdrawn_on"] = "2026-10-20"  # after 2026-09-15
    sel.to_csv(later / "selections.csv", index=False)
    _publish(later, out2, LATER)
    alerts = _csv(out2, LATER, "school_alerts.csv")
    black = alerts.loc[alerts["app_id"].eq(used["victim"]) & alerts["alert"].eq("app_excluded")]
    status = black.set_index("school_id")["status"]
    assert status["3440305001"] == "resolved" and status["3440306001"] == "late"
    assert black.set_index("school_id").loc["3440305001", "status_zh"] == "已按期停用"
    carried = alerts.loc[alerts["since"].eq(AS_OF) & ~alerts["app_id"].eq(used["victim"])]
    assert set(carried["status"]) <= {"late"}  # the other alerts of the first cycle: past their deadline
    counties = _csv(out2, LATER, "counties.csv").set_index("county_code")
    assert int(counties.loc[CLEAN, "n_alerts_late"]) >= 1 and int(counties.loc[BAD, "n_alerts_resolved"]) >= 1
    schools = _csv(out2, LATER, "schools.csv").set_index("school_id")
    assert "alert_late" in schools.loc["3440306001", "findings"] and schools.loc["3440306001", "action"] == "interview"


def test_the_ban_decided_after_the_statement_window_alerts_the_schools_still_using_the_app(
    published, tmp_path: Path
) -> None:
    """Schools under due process over two cycles.  The first cycle notifies the provider of the
    fraud: its colour does not change yet, so no school gets ``provider_black``, but the app
    (fraudulent material) is excluded at once and its schools get ``app_excluded``.  The next
    cycle, after the statement window with no statement, decides the ban: every school still
    using the provider's app gets ``provider_black`` from that day, with its own deadline
    (10 working days: 2026-10-30 is a Friday, so 2026-11-13), and the unresolved
    ``app_excluded`` alert is carried as late."""
    data, out, used = published
    out2 = tmp_path / "out"
    shutil.copytree(out, out2)
    _publish(data, out2, LATER)  # nobody withdrew the app
    provider = _csv(out, AS_OF, "decisions.csv").set_index("app_id").loc[used["victim"], "provider_id"]
    first = _csv(out, AS_OF, "credit.csv").set_index("provider_id").loc[provider]
    second = _csv(out2, LATER, "credit.csv").set_index("provider_id").loc[provider]
    assert (first["list"], first["sanction_stage"], first["proposed_list"]) == ("white", "notified", "black")
    assert (second["list"], second["sanction_stage"], second["decided_on"]) == ("black", "decided", LATER)
    assert not _csv(out, AS_OF, "school_alerts.csv")["alert"].eq("provider_black").any()

    alerts = _csv(out2, LATER, "school_alerts.csv")
    mine = alerts.loc[alerts["app_id"].eq(used["victim"])].set_index(["school_id", "alert"])
    for school in ("3440305001", "3440306001"):  # the planted school and the clean county's one
        black = mine.loc[(school, "provider_black")]
        assert (black["since"], black["withdraw_by"], black["status"]) == (LATER, "2026-11-13", "open")
        assert black["alert_zh"] == "应用提供者列入黑名单" and black["status_zh"] == "待停用"
        excluded = mine.loc[(school, "app_excluded")]
        assert (excluded["since"], excluded["withdraw_by"], excluded["status"]) == (AS_OF, "2026-09-15", "late")
    page = (out2 / LATER / "44" / "schools.html").read_text(encoding="utf-8")
    rows = [r for r in _page_rows(page, "school-alerts") if r[0] == "3440306001"]
    assert any("应用提供者列入黑名单" in cell for r in rows for cell in r), rows
    counties = _csv(out2, LATER, "counties.csv").set_index("county_code")
    assert int(counties.loc[CLEAN, "n_alerts_late"]) >= 1
    # the providers grey-listed that day: their apps leave the list, and their schools are told
    # why (provider_grey), not that the app failed the review (no app_excluded of that day)
    credit = _csv(out2, LATER, "credit.csv")
    grey = set(credit.loc[credit["list"].eq("grey") & credit["decided_on"].eq(LATER), "provider_id"])
    dec = _csv(out2, LATER, "decisions.csv")
    theirs = dec.loc[dec["provider_id"].isin(grey)]
    assert grey and theirs["status"].eq("excluded").all()
    assert theirs["reasons"].str.contains("provider_greylisted").all()
    told = alerts.loc[alerts["app_id"].isin(set(theirs["app_id"])) & alerts["since"].eq(LATER)]
    assert len(told) and set(told["alert"]) == {"provider_grey"}, told[["school_id", "app_id", "alert"]]


def test_an_alert_is_lifted_when_its_app_is_on_the_list_again(published, tmp_path: Path) -> None:
    """The provider's statement is accepted (the sanction dismissed): its app, excluded at once as
    fraudulent material, is decided on its evaluation again and listed.  The schools told to
    withdraw it are not found late for using an app the list recommends: their alert is lifted."""
    soon = "2026-09-22"  # after the statement window, while the app's assessments are current
    data, out, used = published
    later, out2 = tmp_path / "data", tmp_path / "out"
    shutil.copytree(data, later)
    shutil.copytree(out, out2)
    provider = _csv(out, AS_OF, "decisions.csv").set_index("app_id").loc[used["victim"], "provider_id"]
    (later / "sanction_statements.csv").write_text(
        "provider_id,province_code,notified_on,received_on,kind,outcome,decided_on\n"
        f"{provider},44,{AS_OF},2026-09-03,statement,accepted,2026-09-08\n", encoding="utf-8")
    _publish(later, out2, soon)
    assert _csv(out2, soon, "decisions.csv").set_index("app_id").loc[used["victim"], "status"] == "recommended"
    alerts = _csv(out2, soon, "school_alerts.csv")
    mine = alerts.loc[alerts["app_id"].eq(used["victim"])].set_index("school_id")
    assert set(mine["status"]) == {"lifted"} and mine.loc["3440305001", "status_zh"] == "已解除：应用已重新列入推荐名单"
    schools = _csv(out2, soon, "schools.csv").set_index("school_id")
    assert "alert_late" not in schools.loc["3440306001", "findings"]


# ---------------------------------------------------------------------------------------------
# the profile's parameters


def test_profiles_carry_the_school_rules() -> None:
    assert load_profile("44").schools.selection_scope == "listed"
    assert load_profile("11").schools.selection_scope == "filed"  # Beijing 2024: any filed app
    base = load_profile("44").model_dump(mode="json")
    for bad, match in [
        ({"selection_scope": "any"}, "selection_scope"),
        ({"max_apps": 0}, "max_apps"),
        ({"max_apps_per_stage": {"primery": 3}}, "primery"),
        ({"collective_bodies": ["committee"]}, "unknown decision body 'committee'"),
        ({"supervision": {"notify_below": 0.5, "interview_below": 0.8}}, "must not exceed"),
    ]:
        with pytest.raises(ValueError, match=match):
            Profile.model_validate({**base, "schools": {**base["schools"], **bad}})


def test_parameters_change_the_findings(published) -> None:
    data, _, _ = published
    ds = evalkit.load_dataset(data, as_of=AS_OF)
    res = pipeline.evaluate(ds, AS_OF, provinces=["44"]).province("44")
    profile = load_profile("44")

    def codes(**changes: object) -> set[str]:
        p = profile.model_copy(update={"schools": profile.schools.model_copy(update=changes)})
        r = evaluate_schools(ds, "44", res.as_of, p, res.decisions, res.credit, res.credit_history)
        return set(r.findings.loc[r.findings["school_id"].eq("3440305002"), "finding"])

    assert "over_cap:total" in codes() and "over_cap:total" not in codes(max_apps=40)
    assert "over_cap:stage:primary" in codes(max_apps_per_stage={"primary": 3})
    sel = ds.selections.loc[ds.selections["school_id"].eq("3440305007")]
    assert len(sel) == 1
    r = evaluate_schools(ds, "44", res.as_of, profile.model_copy(update={"schools": profile.schools.model_copy(
        update={"report_within_working_days": 200})}), res.decisions, res.credit, res.credit_history)
    assert "not_reported" not in set(r.findings.loc[r.findings["school_id"].eq("3440305007"), "finding"])


def test_english_page_on_request_with_stable_bytes(published, tmp_path: Path) -> None:
    """lang='en': the page's headings, findings and actions in English; the same bytes twice."""
    from evalkit.publish import render

    data, out, _ = published
    params = dict(province="44", as_of=AS_OF, data_dir=str(data), out_dir=str(out / AS_OF / "44"), lang="en")
    with render.NotebookRenderer() as r:
        one = r.render(render_path(), params, plotly_src="x.js", html_path=tmp_path / "a.html",
                       ipynb_path=tmp_path / "a.ipynb")
        r.render(render_path(), params, plotly_src="x.js", html_path=tmp_path / "b.html",
                 ipynb_path=tmp_path / "b.ipynb")
    assert '<html lang="en">' in one.html
    assert "Counties" in one.html and "Withdrawal alerts" in one.html and "Compliance share" in one.html
    rows = {r[0]: r for r in _page_rows(one.html, "schools")}
    assert FINDINGS["unified:charges"][1] in " ".join(rows["3440305003"])
    assert "统一使用的应用向学生和家长收费" not in one.html and "约谈" not in one.html
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def render_path() -> Path:
    from evalkit.publish.config import NOTEBOOKS

    return NOTEBOOKS / "schools.ipynb"
