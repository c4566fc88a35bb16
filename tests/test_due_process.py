"""Issue 17's "Done when", as a new user would try it: the real command line on an adversarial
copy of the committed sample for one province (Beijing, 11, where the sample's fraudulent
provider has an app), one register carried through six steps:

1. ``notice`` on 2026-09-01, then objections against a listed app (a parent, pending) and by a
   provider (upheld) — with hostile text and contacts that must never be published;
2. a ``publish`` inside the notice period is refused;
3. a ``publish`` after it: one objection pending (on hold), one upheld (removed);
4. fraud found → a sanction notice and no black listing yet (the fraudulent app excluded at once,
   as a review decision);
5. the next cycle after the statement window → black from the decision date;
6. a later approved repair for a grey provider → white, the history keeps the trail.

Also: a statement accepted dismisses the sanction; a statement pending holds the decision.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
FRAUD = "91110108MA9P00022M"  # the sample's fraudulent provider (planted), with app 教APP备1100001号
FRAUD_APP = "教APP备1100001号"
SECRETS = ("=cmd|' /C calc'!A0", "<script>alert(1)</script>", "13700001111", "objector@example.com", "孙七")


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = tmp_path_factory.mktemp("due")
    data, out = root / "data", root / "out"
    shutil.copytree(SAMPLE, data)
    s = SimpleNamespace(data=data, out=out, steps={})
    s.steps["notice"] = _run("notice", "--province", "11", "--as-of", "2026-09-01", "--data", data, "--out", out)
    draft = _csv(out / "2026-09-01" / "11" / "notice" / "notice.csv")
    listed = draft.loc[draft["status"].eq("recommended"), ["app_id", "provider_id"]].reset_index(drop=True)
    s.pending_app = listed.loc[0, "app_id"]
    s.provider_app = listed.loc[1, "app_id"]
    (data / "objections.csv").write_text(
        "objection_id,province_code,app_id,notice_date,received_on,from_kind,grounds,text,contact\n"
        f'D-1,11,{s.pending_app},2026-09-01,2026-09-02,parent,privacy,"{SECRETS[1]} {SECRETS[0]}",'
        f"{SECRETS[4]} {SECRETS[2]}\n"
        f"D-2,11,{s.provider_app},2026-09-01,2026-09-03,provider,scoring_error,补交检测报告,{SECRETS[3]}\n",
        encoding="utf-8")
    (data / "rechecks.csv").write_text("objection_id,decided_on,outcome,decided_by,note\n"
                                       "D-2,2026-09-07,upheld,北京市教育委员会复查组,\n", encoding="utf-8")
    s.steps["inside"] = _run("publish", "--provinces", "11", "--as-of", "2026-09-08", "--data", data, "--out", out,
                             "--quiet")
    s.steps["after"] = _run("publish", "--provinces", "11", "--as-of", "2026-09-09", "--data", data, "--out", out,
                            "--quiet", "--workers", "1")
    s.after3 = root / "after3"  # the output as step 3 left it, for the statement cases
    shutil.copytree(out, s.after3, ignore=shutil.ignore_patterns(".lock"))
    s.steps["decided"] = _run("run", "--province", "11", "--as-of", "2026-09-17", "--data", data, "--out", out)
    credit = _csv(out / "2026-09-17" / "11" / "credit.csv")
    s.grey = credit.loc[credit["list"].eq("grey"), "provider_id"].iloc[0]
    (data / "credit_repairs.csv").write_text(
        "provider_id,province_code,applied_on,rectification_ref,decided_on,outcome\n"
        f"{s.grey},11,2026-11-20,整改报告 ZG-2026-07,2026-11-30,approved\n", encoding="utf-8")
    # approved before the 3 months since the grey decision (2026-09-17) have passed: said, not yet white
    s.steps["early"] = _run("run", "--province", "11", "--as-of", "2026-12-01", "--data", data, "--out", out)
    s.steps["repaired"] = _run("publish", "--provinces", "11", "--as-of", "2026-12-21", "--data", data, "--out", out,
                               "--quiet", "--workers", "1")
    return s


def test_1_notice_then_objections(story):
    assert story.steps["notice"].returncode == 0, story.steps["notice"].stderr
    payload = json.loads((story.out / "2026-09-01" / "11" / "notice" / "notice.json").read_text(encoding="utf-8"))
    assert payload["notice_ends_on"] == "2026-09-08"


def test_2_publish_inside_the_notice_is_refused(story):
    proc = story.steps["inside"]
    assert proc.returncode == 1
    assert "the public notice of 2026-09-01 runs until 2026-09-08" in proc.stderr
    assert "Traceback" not in proc.stderr and not (story.out / "2026-09-08").exists()


def test_3_after_the_notice_pending_on_hold_and_the_providers_objection_upheld(story):
    assert story.steps["after"].returncode == 0, story.steps["after"].stderr
    dec = _csv(story.out / "2026-09-09" / "11" / "decisions.csv").set_index("app_id")
    assert dec.loc[story.pending_app, ["status", "objection"]].tolist() == ["on_hold", "pending"]
    assert dec.loc[story.provider_app, "objection"] == "upheld"
    page = (story.out / "2026-09-09" / "11" / "recommendation.html").read_text(encoding="utf-8")
    assert "公示异议与复查" in page and "尚待复查：暂缓列入名单" in page and "提供者异议成立" in page


def test_4_fraud_found_a_sanction_notice_and_no_black_listing_yet(story):
    folder = story.out / "2026-09-01" / "11" / "notice"
    draft = _csv(folder / "notice.csv").set_index("app_id")
    # the notice's draft already excludes the fraudulent app: a review decision about its evidence
    assert draft.loc[FRAUD_APP, "status"] == "excluded"
    assert "fraudulent_material" in draft.loc[FRAUD_APP, "reasons"]
    # the first list (2026-09-09) is the cycle that first finds grounds: notice, no black listing
    credit = _csv(story.out / "2026-09-09" / "11" / "credit.csv").set_index("provider_id")
    row = credit.loc[FRAUD]
    assert (row["list"], row["sanction_stage"], row["proposed_list"]) == ("white", "notified", "black")
    assert row["notified_on"] == "2026-09-09" and row["statement_ends_on"] == "2026-09-16"
    assert "sanction_notified" in row["reasons"] and "告知书" in row["reasons_zh"]
    notice = story.out / "2026-09-09" / "11" / "sanction_notices" / f"{FRAUD}.html"
    text = notice.read_text(encoding="utf-8")
    for words in ("信用惩戒告知书", "一、事实", "V0000001", "虚假材料", "三、依据", "国办发〔2020〕49号",
                  "拟采取的措施", "6个月", "陈述、申辩", "听证", "2026-09-16"):
        assert words in text, words
    # every notice states its facts: the violations, or the substantiated complaints behind a grey listing
    pages = sorted((story.out / "2026-09-09" / "11" / "sanction_notices").glob("*.html"))
    assert len(pages) > 1
    for page in pages:
        assert "一、事实</h2><table>" in page.read_text(encoding="utf-8"), page.name
    assert any("投诉（经核实）" in page.read_text(encoding="utf-8") for page in pages)
    # the credit report lists the providers served, each name linking to its notice
    report = (story.out / "2026-09-09" / "11" / "credit.html").read_text(encoding="utf-8")
    assert 'id="sec-sanction-notices"' in report and "信用惩戒告知（陈述申辩中）" in report
    for page in pages:
        assert f'href="sanction_notices/{page.name}"' in report, page.name
    blacklist = json.loads((story.out / "2026-09-09" / "11" / "blacklist.json").read_text(encoding="utf-8"))
    assert FRAUD not in [e["uscc"] for e in blacklist["entries"]]
    dec = _csv(story.out / "2026-09-09" / "11" / "decisions.csv").set_index("app_id")
    assert "fraudulent_material" in dec.loc[FRAUD_APP, "reasons"]


def test_5_next_cycle_after_the_window_black_from_the_decision_date(story):
    assert story.steps["decided"].returncode == 0, story.steps["decided"].stderr
    row = _csv(story.out / "2026-09-17" / "11" / "credit.csv").set_index("provider_id").loc[FRAUD]
    assert (row["list"], row["sanction_stage"], row["decided_on"]) == ("black", "decided", "2026-09-17")
    assert row["ban_until"] == "2027-03-17"  # 6 months (national ban_months) from the decision
    hist = _csv(story.out / "2026-09-17" / "11" / "credit_history.csv")
    mine = hist.loc[hist["provider_id"].eq(FRAUD)]
    assert mine[["on", "from", "to"]].values.tolist() == [["2026-09-17", "white", "black"]]
    assert not (story.out / "2026-09-17" / "11" / "sanction_notices").exists()  # served once, not again


def test_6_a_later_repair_for_a_grey_provider_makes_it_white(story):
    assert story.steps["early"].returncode == 0, story.steps["early"].stderr
    early = _csv(story.out / "2026-12-01" / "11" / "credit.csv").set_index("provider_id").loc[story.grey]
    assert early["list"] == "grey" and "repair_awaits_period" in early["reasons"].split(";")
    assert "信用修复申请已获批准，列入满最短期限后移出名单" in early["reasons_zh"]
    assert story.steps["repaired"].returncode == 0, story.steps["repaired"].stderr
    folder = story.out / "2026-12-21" / "11"
    row = _csv(folder / "credit.csv").set_index("provider_id").loc[story.grey]
    assert (row["list"], row["sanction_stage"], row["reasons"]) == ("white", "repaired", "credit_repaired")
    assert story.grey not in set(_csv(folder / "negative_list.csv")["provider_id"])
    hist = _csv(folder / "credit_history.csv")
    trail = hist.loc[hist["provider_id"].eq(story.grey), ["from", "to", "reasons"]].values.tolist()
    assert trail[-1] == ["grey", "white", "credit_repaired"] and ["white", "grey"] == trail[-2][:2]
    page = (folder / "credit.html").read_text(encoding="utf-8")
    assert "信用修复申请获批准" in page


def test_no_personal_data_of_objections_in_any_published_file(story):
    for path in story.out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".json", ".js", ".ipynb", ".xlsx"):
            body = path.read_bytes().decode("utf-8", errors="replace")
            for secret in SECRETS:
                assert secret not in body, (path, secret)


def test_a_statement_accepted_dismisses_and_a_pending_one_waits(story, tmp_path):
    """From the register of step 4 (notified on 2026-09-09): a pending statement holds the
    decision past the window; once accepted, the sanction is dismissed and the list stays, also
    in the next cycle: the fraud finding and the standing conditions it left (grade D, an overdue
    serious violation) serve no new notice on the facts the statement answered."""
    out = tmp_path / "out"
    shutil.copytree(story.after3, out)
    data = tmp_path / "data"
    shutil.copytree(story.data, data)
    (data / "credit_repairs.csv").unlink()
    st = data / "sanction_statements.csv"
    st.write_text("provider_id,province_code,notified_on,received_on,kind,outcome,decided_on\n"
                  f"{FRAUD},11,2026-09-09,2026-09-14,statement,pending,\n", encoding="utf-8")
    assert _run("run", "--province", "11", "--as-of", "2026-09-18", "--data", data, "--out", out).returncode == 0
    row = _csv(out / "2026-09-18" / "11" / "credit.csv").set_index("provider_id").loc[FRAUD]
    assert (row["list"], row["sanction_stage"]) == ("white", "notified")
    assert row["reasons"].startswith("sanction_notified;statement_pending")
    st.write_text("provider_id,province_code,notified_on,received_on,kind,outcome,decided_on\n"
                  f"{FRAUD},11,2026-09-09,2026-09-14,statement,accepted,2026-09-21\n", encoding="utf-8")
    assert _run("run", "--province", "11", "--as-of", "2026-09-22", "--data", data, "--out", out).returncode == 0
    row = _csv(out / "2026-09-22" / "11" / "credit.csv").set_index("provider_id").loc[FRAUD]
    assert (row["list"], row["sanction_stage"]) == ("white", "dismissed")
    assert "sanction_dismissed" in row["reasons"] and row["decided_on"] == "2026-09-22"  # the dismissal
    # the next cycle does not serve a new notice on the same finding the statement answered
    assert _run("run", "--province", "11", "--as-of", "2026-10-20", "--data", data, "--out", out).returncode == 0
    row = _csv(out / "2026-10-20" / "11" / "credit.csv").set_index("provider_id").loc[FRAUD]
    assert (row["list"], row["sanction_stage"], row["decided_on"]) == ("white", "dismissed", "2026-09-22")
    assert "sanction_notified" not in row["reasons"] and "sanction_dismissed" in row["reasons"]


def test_a_notice_whose_grounds_no_longer_hold_lapses(story, tmp_path):
    """From the register of step 4 (notified on 2026-09-09, window open until 2026-09-16): the
    fraud finding withdrawn from the input, nothing is left to decide, even with a statement
    pending: the notice lapses (dismissed, reason sanction_lapsed) and the list stays white."""
    data = tmp_path / "data"
    shutil.copytree(story.data, data)
    (data / "credit_repairs.csv").unlink()
    vio = data / "violations.csv"
    vio.write_text("".join(line for line in vio.read_text(encoding="utf-8").splitlines(keepends=True)
                           if FRAUD not in line), encoding="utf-8")
    (data / "sanction_statements.csv").write_text(
        "provider_id,province_code,notified_on,received_on,kind,outcome,decided_on\n"
        f"{FRAUD},11,2026-09-09,2026-09-14,statement,pending,\n", encoding="utf-8")
    for day in ("2026-09-14", "2026-09-18"):  # inside the window, or past it
        out = tmp_path / day
        shutil.copytree(story.after3, out)
        proc = _run("run", "--province", "11", "--as-of", day, "--data", data, "--out", out)
        assert proc.returncode == 0, proc.stderr
        row = _csv(out / day / "11" / "credit.csv").set_index("provider_id").loc[FRAUD]
        assert (row["list"], row["sanction_stage"]) == ("white", "dismissed"), (day, row.to_dict())
        assert row["reasons"].startswith("sanction_lapsed")


def test_a_sanction_notice_in_english_names_the_authority_and_states_the_facts_in_words():
    """The notice of an English set: English first (its page language and title), the issuing
    department by name, the facts' types in words, no configuration key, English punctuation;
    the Chinese text served follows."""
    from evalkit.evaluate.sanction_notice import notice_page

    facts = [{"kind": "complaint", "id": "C1", "app_id": "A1", "found_on": "2026-05-01", "type": "forced_use",
              "severity": "", "fraud": False},
             {"kind": "violation", "id": "V1", "app_id": "A1", "found_on": "2026-06-01", "type": "false_material",
              "severity": "serious", "fraud": True}]
    row = pd.Series({"provider_id": "91110108MA9P00022M", "provider_name": "<b>某公司</b>", "proposed_list": "black",
                     "reasons": "sanction_notified;fraud", "statement_ends_on": "2026-09-08",
                     "sanction_facts": json.dumps(facts)})
    result = SimpleNamespace(code="11", name_zh="北京市", name_en="Beijing",
                             profile={"sources": ["北京市中小学教育移动互联网应用管理办法（2024）"]},
                             decisions=pd.DataFrame({"app_id": ["A1"], "app_name": ["<i>学习</i>宝"]}),
                             as_of=pd.Timestamp("2026-09-01"))
    page = notice_page(row, result, 6, 12, "en")
    english, chinese = page.split('<section lang="zh-CN">')
    assert english.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>Notice of a proposed credit sanction" in english
    for words in ("Beijing Municipal Education Commission, notified on 2026-09-01",
                  "Party: &lt;b&gt;某公司&lt;/b&gt; (USCC",
                  "complaint (substantiated)", "forced use", "false material", "serious", "fraud (false material",
                  "no submission for 6 months from the date of the decision", "The credit evaluation rules of Beijing",
                  "(国办发〔2020〕49号); 北京市中小学教育移动互联网应用管理办法（2024）.",
                  "rules of Beijing: the circumstances of section 2 call for blacklisting.",
                  "<td>&lt;i&gt;学习&lt;/i&gt;宝 (A1)</td>", "Submit in writing by 2026-09-08"):
        assert words in english, words
    assert "ban_months" not in page and "：" not in english and "false_material" not in page
    assert "北京市教育委员会，告知日期 2026-09-01" in chinese
    assert "当事人：&lt;b&gt;某公司&lt;/b&gt;（统一社会信用代码" in chinese
    assert "强制使用" in chinese and "提供虚假材料" in chinese and "6个月" in chinese
    assert ("；《北京市中小学教育移动互联网应用管理办法（2024）》。北京市的信用评价规则：有第二项所列情形的，"
            "列入黑名单。") in chinese
    assert "<td>&lt;i&gt;学习&lt;/i&gt;宝（A1）</td>" in chinese
    assert notice_page(row, result, 6, 12, "zh").startswith('<!DOCTYPE html>\n<html lang="zh-CN">')


def test_a_notice_served_by_an_earlier_set_is_linked_there():
    """While its statement window is open the notice stays in the folder of the cycle that served
    it: a later report links ``../../<notified_on>/<code>/sanction_notices/<USCC>.html``."""
    from evalkit.publish.report import sanction_notices

    credit = pd.DataFrame({"provider_id": ["P2", "P1", "P3"], "provider_name": ["乙", "甲", "丙"],
                           "sanction_stage": ["notified", "notified", "decided"],
                           "notified_on": ["2026-09-09", "2026-09-01", "2026-08-01"],
                           "statement_ends_on": ["2026-09-16", "2026-09-08", "2026-08-08"],
                           "proposed_list": ["grey", "black", ""]})
    html = sanction_notices(credit, "11", "2026-09-09", "en")
    assert 'href="../../2026-09-01/11/sanction_notices/P1.html"' in html
    assert 'href="sanction_notices/P2.html"' in html and "P3" not in html
    assert "Proposed list" in html and "<td>blacklist</td>" in html  # the proposed list in words
    none = sanction_notices(credit.iloc[2:], "11", "2026-09-09", "zh")
    assert 'id="sec-sanction-notices"' in none and "<table" not in none and "无" in none
