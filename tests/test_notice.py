"""`evalkit notice` (issue 17, part 2): the public notice of a draft list, through the real
command line on the committed sample; the refusal of a list dated inside the notice period; a
killed notice leaves nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from evalkit.evaluate.province import DECISIONS_EXPORT

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "evalkit", *map(str, args)]


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(_cli(*args), capture_output=True, text=True, cwd=ROOT)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def noticed(tmp_path_factory):
    """A notice of province 44 on 2026-09-30 (the National Day holiday falls in its period)."""
    out = tmp_path_factory.mktemp("notice") / "out"
    proc = _run("notice", "--province", "44", "--as-of", "2026-09-30", "--data", SAMPLE, "--out", out)
    return out, proc


def test_notice_publishes_three_files(noticed):
    out, proc = noticed
    assert proc.returncode == 0, proc.stderr
    folder = out / "2026-09-30" / "44" / "notice"
    assert sorted(p.name for p in folder.iterdir()) == ["notice.csv", "notice.html", "notice.json"]
    assert "广东省（44）公示 2026-09-30 至 2026-10-13" in proc.stdout and "Traceback" not in proc.stderr
    # nothing else beside it: the province folder holds only the notice, no staging is left
    assert [p.name for p in (out / "2026-09-30" / "44").iterdir()] == ["notice"]
    assert not list(out.glob(".staging-*"))


def test_notice_json_counts_its_period_in_working_days(noticed):
    out, _ = noticed
    payload = json.loads((out / "2026-09-30" / "44" / "notice" / "notice.json").read_text(encoding="utf-8"))
    assert payload["province_code"] == "44" and payload["as_of"] == "2026-09-30"
    # 5 working days after 30 Sep 2026: 1–7 Oct off, 8, 9, 10 (a make-up Saturday), 12, 13 Oct
    assert payload["notice_working_days"] == 5 and payload["notice_ends_on"] == "2026-10-13"
    ob = payload["objections"]
    assert ob["until"] == "2026-10-13" and "异议" in ob["how_zh"] and "object" in ob["how_en"].lower()
    assert "scoring_error" in ob["grounds"] and "provider" in ob["from_kinds"]


def test_notice_csv_has_the_columns_of_decisions_csv(noticed):
    out, _ = noticed
    csv = pd.read_csv(out / "2026-09-30" / "44" / "notice" / "notice.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    assert list(csv.columns) == DECISIONS_EXPORT
    payload = json.loads((out / "2026-09-30" / "44" / "notice" / "notice.json").read_text(encoding="utf-8"))
    assert csv["status"].value_counts().to_dict() == {k: v for k, v in payload["counts"].items() if v}


def test_notice_html_shows_the_draft_and_the_others_with_reasons(noticed):
    out, _ = noticed
    page = (out / "2026-09-30" / "44" / "notice" / "notice.html").read_text(encoding="utf-8")
    csv = pd.read_csv(out / "2026-09-30" / "44" / "notice" / "notice.csv", dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    assert "拟推荐名单" in page and "排除应用及原因" in page and "2026-10-13" in page
    excluded = csv.loc[csv["status"].eq("excluded")]
    assert len(excluded) > 0
    for _, row in excluded.iterrows():
        assert row["app_id"] in page
        first = row["reasons_zh"].split("；")[0].split(";")[0]
        assert first[:8] in page.replace("&#x27;", "'")
    assert "<script src=" not in page  # an offline page: no external script


def test_notice_is_recorded_and_a_list_inside_the_period_is_refused(noticed):
    out, _ = noticed
    with sqlite3.connect(out / "register.sqlite") as db:
        rows = db.execute("select province, as_of, ends_on, working_days from notices").fetchall()
    assert rows == [("44", "2026-09-30", "2026-10-13", 5)]
    for cmd in (("run", "--province", "44", "--as-of", "2026-10-13"),
                ("publish", "--provinces", "44", "--as-of", "2026-10-09", "--quiet")):
        proc = _run(*cmd, "--data", SAMPLE, "--out", out)
        assert proc.returncode != 0
        assert "public notice of 2026-09-30 runs until 2026-10-13" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    # nothing was written for the refused dates
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith((".", "register"))) == ["2026-09-30"]
    # a folder holding only a notice renders no cycle: the register is intact, nothing to import
    proc = _run("register", "verify", out)
    assert proc.returncode == 0 and "intact: 0 cycle(s)" in proc.stdout and "0 published set(s)" in proc.stdout, (
        proc.stdout + proc.stderr)
    proc = _run("register", "import", out)
    assert proc.returncode == 1 and "no published province folder" in proc.stderr, proc.stderr


def test_same_inputs_same_bytes_and_english(tmp_path, noticed):
    out, _ = noticed
    again = tmp_path / "again"
    proc = _run("notice", "--province", "44", "--as-of", "2026-09-30", "--data", SAMPLE, "--out", again)
    assert proc.returncode == 0, proc.stderr
    assert _files(again / "2026-09-30" / "44" / "notice") == _files(out / "2026-09-30" / "44" / "notice")
    # a second notice of the same date needs --force; with it the English page replaces it
    proc = _run("notice", "--province", "44", "--as-of", "2026-09-30", "--data", SAMPLE, "--out", again)
    assert proc.returncode != 0 and "--force" in proc.stderr
    proc = _run("notice", "--province", "44", "--as-of", "2026-09-30", "--data", SAMPLE, "--out", again,
                "--lang", "en", "--force")
    assert proc.returncode == 0, proc.stderr
    page = (again / "2026-09-30" / "44" / "notice" / "notice.html").read_text(encoding="utf-8")
    assert "public notice of the draft recommended list" in page and "Excluded, with reasons" in page
    with sqlite3.connect(again / "register.sqlite") as db:
        marks = db.execute("select superseded_by is null from notices order by id").fetchall()
    assert marks == [(0,), (1,)]


def test_a_killed_notice_leaves_nothing_half_written(tmp_path):
    out = tmp_path / "out"
    seen = False
    for _ in range(3):  # the staging folder lives a few milliseconds: try again if it was missed
        a = subprocess.Popen(_cli("notice", "--province", "44", "--as-of", "2026-09-01", "--data", SAMPLE,
                                  "--out", out), cwd=ROOT, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while a.poll() is None and not (out.is_dir() and list(out.glob(".staging-*"))):
                time.sleep(0.0005)
            seen = a.poll() is None
            if seen:
                os.kill(a.pid, signal.SIGKILL)
            a.wait()
        finally:
            if a.poll() is None:
                os.killpg(a.pid, signal.SIGKILL)
        notice = out / "2026-09-01" / "44" / "notice"
        if seen:
            # either nothing at all, or (killed after the move) the complete notice
            assert not notice.exists() or sorted(p.name for p in notice.iterdir()) == [
                "notice.csv", "notice.html", "notice.json"]
            if not notice.exists():
                assert not (out / "2026-09-01").exists()
            break
        shutil.rmtree(out)
    assert seen, "the notice ended before it could be killed"
    # running again cleans up the leftover staging and publishes the notice
    proc = _run("notice", "--province", "44", "--as-of", "2026-09-01", "--data", SAMPLE, "--out", out, "--force")
    assert proc.returncode == 0, proc.stderr
    assert not list(out.glob(".staging-*"))
    assert sorted(p.name for p in (out / "2026-09-01" / "44" / "notice").iterdir()) == [
        "notice.csv", "notice.html", "notice.json"]


def test_in_a_workspace_notice_needs_no_flags_and_a_run_that_day_is_refused_for_the_notice(tmp_path):
    """Inside a province workspace (issue 14) `evalkit notice` takes province, date, data and
    output folder from evalkit.toml; a `run` of that day is then refused because of the notice
    period, not as an 'already published' folder (the province's folder holds only the notice)."""
    ws = tmp_path / "ws"
    assert _run("init", ws, "--sample").returncode == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(_cli("notice"), capture_output=True, text=True, cwd=ws, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (ws / "reports" / "2026-09-01" / "11" / "notice" / "notice.json").is_file()
    proc = subprocess.run(_cli("run"), capture_output=True, text=True, cwd=ws, env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "public notice of 2026-09-01 runs until 2026-09-08" in proc.stderr
    assert "already exists" not in proc.stderr
    assert [p.name for p in (ws / "reports" / "2026-09-01" / "11").iterdir()] == ["notice"]


def test_a_date_holding_only_a_notice_is_no_published_set(tmp_path, noticed):
    """Another province's list of the notice's date publishes without --force, and the notice
    stays (the date folder held no published set, only 44's notice)."""
    out = tmp_path / "out"
    shutil.copytree(noticed[0], out)
    before = _files(out / "2026-09-30" / "44" / "notice")
    proc = _run("publish", "--provinces", "11", "--as-of", "2026-09-30", "--data", SAMPLE, "--out", out,
                "--workers", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    day = out / "2026-09-30"
    assert (day / "index.html").is_file() and (day / "11" / "decisions.csv").is_file()
    assert _files(day / "44" / "notice") == before
    # now the date holds a published set: publishing it again needs --force
    proc = _run("publish", "--provinces", "11", "--as-of", "2026-09-30", "--data", SAMPLE, "--out", out,
                "--quiet")
    assert proc.returncode != 0 and "--force" in proc.stderr and "Traceback" not in proc.stderr
    # a notice drafts the next list: not one dated before a list already recorded
    proc = _run("notice", "--province", "11", "--as-of", "2026-09-01", "--data", SAMPLE, "--out", out)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert ("province 11's list of 2026-09-30 is already recorded; a notice drafts the next list, so it is dated "
            "after 2026-09-30, not 2026-09-01.") in proc.stderr, proc.stderr


def test_notice_names_the_grounds_in_the_page_language(noticed):
    """The accepted grounds read as words of the page's language, joined by its punctuation
    (they were the codes of the objections table, joined by ", " in both languages)."""
    import re
    from types import SimpleNamespace

    from evalkit.publish.notice import GROUNDS, notice_html

    out, _ = noticed
    page = (out / "2026-09-30" / "44" / "notice" / "notice.html").read_text(encoding="utf-8")
    zh = "内容问题、个人信息保护、收费、广告、强制使用、评分错误、利益冲突、其他"
    assert f'<th scope="row">异议理由类别</th><td>{zh}</td>' in page
    assert not re.search(r"\b(scoring_error|forced_use|conflict_of_interest)\b", page)
    dec = pd.DataFrame({"rank": [1.0], "app_id": ["教APP备4400001号"], "app_name": ["甲"], "provider_name": ["乙"],
                        "category": ["teaching"], "stages": ["primary;junior"], "total_score": [80.0],
                        "status": ["recommended"], "reasons_zh": [""], "reasons_en": [""]})
    res = SimpleNamespace(name_zh="广东省", name_en="Guangdong", decisions=dec)
    payload = {"as_of": "2026-09-30", "notice_ends_on": "2026-10-13", "notice_working_days": 5,
               "objections": {"how_zh": "书面", "how_en": "in writing", "grounds": list(GROUNDS)}}
    en = notice_html(res, payload, "en")
    shown = re.search(r'<th scope="row">Grounds accepted</th><td>(.*?)</td>', en).group(1)
    assert shown == "content, privacy, fees, ads, forced use, scoring error, conflict of interest, other"
    assert f"<td>{zh}</td>" in notice_html(res, payload, "zh")
    assert "primary, junior secondary" in en  # the other lists of the page: words too
