"""Objections to a public notice and their re-checks (issue 17, part 3): the contract additions,
the rules applied to the next list, the report's section, and no personal data published.

The scenario runs the real command line on a copy of the committed sample for province 44:
notice on 2026-09-01 (ends 2026-09-08), objections received during it, a list inside the
period refused, a list after it with one objection of each outcome."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from evalkit.data.dataset import load_dataset
from evalkit.errors import DataError
from evalkit.evaluate.objections import apply_to_decisions, mark_candidates, objection_outcomes

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
LISTED_THIRD = "教APP备4400104号"  # rank 1 of the draft: a public objection on ads, upheld
PROVIDER_OWN = "教APP备4400105号"  # excluded in the draft: its provider objects (scoring error), partly upheld
PENDING = "教APP备4400111号"  # on the draft: a parent's privacy objection, not yet re-checked
REJECTED = "教APP备4400101号"  # on the draft: a school's objection, rejected
LATE = "教APP备4400103号"  # a public objection received after the notice ended, never re-checked
NO_NOTICE = "教APP备4400106号"  # an objection to a notice never issued
PERSONAL = ("张三", "13800000000", "lisi@example.com", "王五", "13900000000", "要求读取通讯录", "赵六")

OBJECTIONS = f"""objection_id,province_code,app_id,notice_date,received_on,from_kind,grounds,text,contact
OB-1,44,{LISTED_THIRD},2026-09-01,2026-09-03,public,ads,首页弹出游戏广告 =HYPERLINK("x"),张三 13800000000
OB-2,44,{PROVIDER_OWN},2026-09-01,2026-09-04,provider,scoring_error,补充了检测报告,李四 lisi@example.com
OB-3,44,{PENDING},2026-09-01,2026-09-07,parent,privacy,要求读取通讯录,王五 13900000000
OB-4,44,{REJECTED},2026-09-01,2026-09-05,school,content,内容陈旧,赵六 zhaoliu@example.com
OB-5,44,{LATE},2026-09-01,2026-09-09,public,fees,逾期,
OB-6,44,{NO_NOTICE},2026-08-03,2026-08-05,public,fees,无此公示,
"""
RECHECKS = """objection_id,decided_on,outcome,decided_by,note
OB-1,2026-09-08,upheld,广东省教育厅复查组,经复测确认存在游戏广告
OB-2,2026-09-08,partly_upheld,广东省教育厅复查组,采纳补充检测报告
OB-4,2026-09-08,rejected,广东省教育厅复查组,内容符合要求
"""


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def _decisions(folder: Path, name: str = "decisions.csv") -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index(
        "app_id")


# ----------------------------------------------------------------------------------------
# the rules, on small frames


def _ds(objections: list[dict], rechecks: list[dict]) -> SimpleNamespace:
    cols = ["objection_id", "province_code", "app_id", "notice_date", "received_on", "from_kind", "grounds"]
    obj = pd.DataFrame(objections, columns=cols)
    for c in ("notice_date", "received_on"):
        obj[c] = pd.to_datetime(obj[c])
    rc = pd.DataFrame(rechecks, columns=["objection_id", "decided_on", "outcome"])
    rc["decided_on"] = pd.to_datetime(rc["decided_on"])
    return SimpleNamespace(tables={"objections": obj, "rechecks": rc})


def _o(oid: str, app: str, kind: str = "public", grounds: str = "ads", received: str = "2026-09-03",
       province: str = "44") -> dict:
    return {"objection_id": oid, "province_code": province, "app_id": app, "notice_date": "2026-09-01",
            "received_on": received, "from_kind": kind, "grounds": grounds}


def test_each_outcome_and_its_action():
    ds = _ds([_o("1", "A"), _o("2", "B", "provider", "scoring_error"), _o("3", "C"), _o("4", "D"),
              _o("5", "E", province="11"), _o("6", "F", received="2026-09-20")],
             [{"objection_id": "1", "decided_on": "2026-09-08", "outcome": "upheld"},
              {"objection_id": "2", "decided_on": "2026-09-08", "outcome": "partly_upheld"},
              {"objection_id": "4", "decided_on": "2026-09-08", "outcome": "rejected"},
              {"objection_id": "3", "decided_on": "2026-09-30", "outcome": "rejected"}])  # decided later
    out = objection_outcomes(ds, "44", pd.Timestamp("2026-09-09")).set_index("app_id")
    assert out["outcome"].to_dict() == {"A": "upheld", "B": "partly_upheld", "C": "pending", "D": "rejected"}
    assert out["action"].to_dict() == {"A": "remove", "B": "reevaluate", "C": "hold", "D": "none"}
    assert "text" not in out.columns and "contact" not in out.columns


def test_the_strongest_objection_of_an_app_wins_and_old_decided_ones_lapse():
    ds = _ds([_o("1", "A"), _o("2", "A", grounds="privacy"), _o("3", "B", received="2026-08-01"),
              _o("4", "C", received="2026-08-01")],
             [{"objection_id": "1", "decided_on": "2026-09-08", "outcome": "rejected"},
              {"objection_id": "3", "decided_on": "2026-08-10", "outcome": "upheld"}])
    out = objection_outcomes(ds, "44", pd.Timestamp("2026-09-09"), since="2026-08-20")
    # A: one pending, one rejected -> held; B: decided for the previous list -> lapsed; C: still pending
    assert sorted(out["app_id"]) == ["A", "A", "C"]
    cand = pd.DataFrame({"app_id": ["A", "B", "C"], "reasons": ["", "x", ""]})
    marked = mark_candidates(cand, out)
    assert marked["reasons"].tolist() == ["objection_pending", "x", "objection_pending"]
    dec = apply_to_decisions(pd.DataFrame({"app_id": ["A", "B", "C"], "status": "excluded"}), out)
    assert dec["status"].tolist() == ["on_hold", "excluded", "on_hold"]
    assert dec["objection"].tolist() == ["pending", "none", "pending"]


def test_a_pending_objection_is_not_forgotten_when_its_row_leaves_the_input():
    ds = _ds([_o("9", "Z")], [{"objection_id": "9", "decided_on": "2026-09-08", "outcome": "rejected"}])
    out = objection_outcomes(ds, "44", pd.Timestamp("2026-09-20"), since="2026-09-09",
                             held_before=pd.Series(["A", "Z"]))
    # A was on hold in the register and has no row any more: still held; Z's re-check was decided
    # (received before the last list, rejected): it lapses
    assert out[["objection_id", "app_id", "outcome", "action"]].values.tolist() == [
        ["register", "A", "pending", "hold"]]


# ----------------------------------------------------------------------------------------
# the contract


def test_late_objections_and_objections_to_no_notice_are_not_admitted_unless_re_checked():
    """The notice of 2026-09-01 ran until 2026-09-08 (docs/due-process.md): an objection received
    after it, or naming a notice the register does not hold, does not hold its app; a re-check
    decides it all the same; without the register's notices nothing is judged."""
    ds = _ds([_o("1", "A", received="2026-09-08"), _o("2", "B", received="2026-09-09"),
              {**_o("3", "C"), "notice_date": "2026-08-03"}, _o("4", "D", received="2026-09-10")],
             [{"objection_id": "4", "decided_on": "2026-09-11", "outcome": "upheld"}])
    out = objection_outcomes(ds, "44", pd.Timestamp("2026-09-12"), notices={"2026-09-01": "2026-09-08"})
    got = out.set_index("app_id")[["outcome", "action"]].to_dict("index")
    assert got == {"A": {"outcome": "pending", "action": "hold"}, "B": {"outcome": "not_admitted", "action": "none"},
                   "C": {"outcome": "not_admitted", "action": "none"}, "D": {"outcome": "upheld", "action": "remove"}}
    dec = apply_to_decisions(pd.DataFrame({"app_id": ["A", "B", "C"], "status": "recommended"}), out)
    assert dec["status"].tolist() == ["on_hold", "recommended", "recommended"]
    unchecked = objection_outcomes(ds, "44", pd.Timestamp("2026-09-12"))
    assert unchecked.set_index("app_id")["outcome"].to_dict() == {"A": "pending", "B": "pending", "C": "pending",
                                                                  "D": "upheld"}


def test_contract_checks_report_every_problem_by_row(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    (data / "objections.csv").write_text(
        "objection_id,province_code,app_id,notice_date,received_on,from_kind,grounds,text,contact\n"
        f"OB-1,44,{LISTED_THIRD},2026-09-01,2026-08-30,neighbour,ads,,\n"
        "OB-1,99,教APP备4499999号,2026-09-01,2026-09-01,public,looks,,\n", encoding="utf-8")
    (data / "rechecks.csv").write_text("objection_id,decided_on,outcome,decided_by,note\n"
                                       "OB-7,2026-09-01,maybe,someone,\n"
                                       "OB-1,2026-08-29,upheld,someone,\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_dataset(data, as_of="2026-09-01")
    text = "\n".join(map(str, err.value.problems))
    for needle in ("objections.csv:1:from_kind", "objections.csv:1:received_on", "objections.csv:2:province_code",
                   "objections.csv:2:grounds", "objections.csv:2:app_id", "objections.csv:2:objection_id",
                   "rechecks.csv:1:outcome", "rechecks.csv:1:objection_id",
                   "rechecks.csv:2:decided_on: decided_on 2026-08-29 is before the objection's received_on 2026-08-30"):
        assert needle in text, text


# ----------------------------------------------------------------------------------------
# the scenario through the command line


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("objections")
    data, out = root / "data", root / "out"
    shutil.copytree(SAMPLE, data)
    steps = {"notice": _run("notice", "--province", "44", "--as-of", "2026-09-01", "--data", data, "--out", out)}
    (data / "objections.csv").write_text(OBJECTIONS, encoding="utf-8")
    (data / "rechecks.csv").write_text(RECHECKS, encoding="utf-8")
    steps["inside"] = _run("publish", "--provinces", "44", "--as-of", "2026-09-08", "--data", data, "--out", out,
                           "--quiet")
    steps["after"] = _run("publish", "--provinces", "44", "--as-of", "2026-09-09", "--data", data, "--out", out,
                          "--quiet", "--workers", "1")
    return SimpleNamespace(data=data, out=out, steps=steps)


def test_scenario_notice_and_refusal_inside_the_period(scenario):
    assert scenario.steps["notice"].returncode == 0, scenario.steps["notice"].stderr
    draft = _decisions(scenario.out / "2026-09-01" / "44" / "notice", "notice.csv")
    assert draft.loc[[LISTED_THIRD, PENDING, REJECTED], "status"].eq("recommended").all()
    inside = scenario.steps["inside"]
    assert inside.returncode != 0 and "runs until 2026-09-08" in inside.stderr
    assert not (scenario.out / "2026-09-08").exists()


def test_scenario_list_after_the_period_applies_each_outcome(scenario):
    after = scenario.steps["after"]
    assert after.returncode == 0, after.stderr
    dec = _decisions(scenario.out / "2026-09-09" / "44")
    assert dec.loc[PENDING, "status"] == "on_hold" and dec.loc[PENDING, "objection"] == "pending"
    assert dec.loc[PENDING, "reasons"] == "objection_pending" and dec.loc[PENDING, "rank"] == ""
    assert dec.loc[LISTED_THIRD, "status"] == "excluded" and dec.loc[LISTED_THIRD, "objection"] == "upheld"
    assert "objection_upheld:ads" in dec.loc[LISTED_THIRD, "reasons"]
    assert "广告" in dec.loc[LISTED_THIRD, "reasons_zh"]
    assert dec.loc[REJECTED, "status"] == "recommended" and dec.loc[REJECTED, "objection"] == "rejected"
    assert dec.loc[PROVIDER_OWN, "objection"] == "partly_upheld"  # re-evaluated: the evaluation decides
    for app, oid, day in ((LATE, "OB-5", "2026-09-09"), (NO_NOTICE, "OB-6", "2026-08-05")):
        assert dec.loc[app, "objection"] == "not_admitted" and dec.loc[app, "status"] != "on_hold"
        assert (f"warning: province 44: objection {oid} (app {app}) received on {day} is not admitted") in after.stderr
    assert "is not admitted: it came after the public notice of 2026-09-01 had ended, or the register" in after.stderr
    others = dec.drop(index=[PENDING, LISTED_THIRD, REJECTED, PROVIDER_OWN, LATE, NO_NOTICE])
    assert others["objection"].eq("none").all()
    rec = pd.read_csv(scenario.out / "2026-09-09" / "44" / "recommended_list.csv", dtype=str, encoding="utf-8-sig")
    assert PENDING not in set(rec["app_id"]) and LISTED_THIRD not in set(rec["app_id"])


def test_scenario_report_shows_the_objections_in_words(scenario):
    page = (scenario.out / "2026-09-09" / "44" / "recommendation.html").read_text(encoding="utf-8")
    # the key figures add up: the app on hold has its own box
    figures = dict((label, int(value)) for value, label in re.findall(
        r'<div class="ek-value">(\d+)</div><div class="ek-label">([^<]+)</div>', page))
    dec = _decisions(scenario.out / "2026-09-09" / "44")
    assert figures["暂缓（异议待复查）"] == 1 and figures["申报应用"] == len(dec) == sum(
        figures[k] for k in ("推荐应用", "未入选", "排除（否决项或不符合条件）", "暂缓（异议待复查）")), figures
    assert "公示异议与复查" in page
    for words in ("尚待复查：暂缓列入名单", "异议成立：移出名单", "提供者异议成立", "异议不成立：维持原评估结论",
                  "不予受理（逾期或无对应公示）", "不予受理：不影响名单", "按异议理由", "广告", "家长"):
        assert words in page, words


def test_scenario_no_personal_data_in_any_published_file(scenario):
    for folder in (scenario.out / "2026-09-01", scenario.out / "2026-09-09"):
        for path in folder.rglob("*"):
            if path.is_file():
                body = path.read_bytes().decode("utf-8", errors="replace")
                for secret in PERSONAL:
                    assert secret not in body, (path, secret)


def test_scenario_a_pending_objection_survives_its_row_leaving_the_input(scenario, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(scenario.data, data)
    objections = pd.read_csv(data / "objections.csv", dtype=str, keep_default_na=False)
    objections.loc[objections["objection_id"].ne("OB-3")].to_csv(data / "objections.csv", index=False)
    out = tmp_path / "out"
    shutil.copytree(scenario.out, out, ignore=shutil.ignore_patterns(".lock"))
    proc = _run("run", "--province", "44", "--as-of", "2026-09-20", "--data", data, "--out", out)
    assert proc.returncode == 0, proc.stderr
    dec = _decisions(out / "2026-09-20" / "44")
    assert dec.loc[PENDING, "status"] == "on_hold" and dec.loc[PENDING, "objection"] == "pending"
    # the decided objections of the previous list lapse: the apps are decided on their evaluation
    assert dec.loc[LISTED_THIRD, "objection"] == "none" and dec.loc[LISTED_THIRD, "status"] == "recommended"
    # once its re-check is decided (rejected), the objection holds it no more: it is decided on its
    # evaluation and its provider's credit (grey-listed by then in the sample: off the list)
    with (data / "objections.csv").open("a", encoding="utf-8") as f:
        f.write(f"OB-3,44,{PENDING},2026-09-01,2026-09-07,parent,privacy,,\n")
    with (data / "rechecks.csv").open("a", encoding="utf-8") as f:
        f.write("OB-3,2026-09-25,rejected,广东省教育厅复查组,\n")
    proc = _run("run", "--province", "44", "--as-of", "2026-09-28", "--data", data, "--out", out)
    assert proc.returncode == 0, proc.stderr
    back = _decisions(out / "2026-09-28" / "44").loc[PENDING]
    assert back["objection"] == "none" and (back["status"], back["reasons"]) == ("excluded", "provider_greylisted")
