"""Expert panels' score sheets (issue 19): sheets out, filled with openpyxl, collected; a corpus
of bad sheets each reported by cell; Delphi feedback in round 2; the round summary; and the
panel secretary's whole round trip through the real command line.

Province 44 of the committed sample has 20 candidates and 7 experts; E44001 declared a conflict
with provider 91440100MA9P00014P (2 of the candidates), so its sheet lists 18 apps.  Each test
works on a copy of the sample without province 44's panel scores (a panel that starts afresh).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import evalkit
from evalkit.evaluate import panel_collect, panel_rounds, panel_sheets
from evalkit.evaluate.panel_sheets import PanelSheetError
from tests.conftest import SAMPLE

CONFLICTED_PROVIDER = "91440100MA9P00014P"


@pytest.fixture()
def fresh(tmp_path: Path) -> Path:
    """A copy of the sample whose province 44 has no panel scores yet."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    ps = (data / "panel_scores.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (data / "panel_scores.csv").write_text("".join(line for line in ps if not line.startswith("44,")),
                                           encoding="utf-8")
    return data


def _inputs(data: Path) -> tuple[object, object]:
    return panel_sheets.load_panel_inputs(data)


def _score_for(expert: str, app: str, crit: str, rnd: int) -> float:
    """A deterministic score in half points; round 2 moves toward 7."""
    h = sum(map(ord, expert + app + crit)) % 9
    x = 2.0 + h * 0.5 + (int(expert[-1]) % 3)
    return float(round((x + 7.0) / 2.0 * 2) / 2) if rnd > 1 else x


def _fill(folder: Path, rnd: int) -> dict[tuple[str, str, str], float]:
    """Fill every open score cell of every workbook in ``folder`` (as an expert would, through
    openpyxl); returns what was typed by (expert, app, criterion)."""
    typed = {}
    for path in sorted(folder.glob("*.xlsx")):
        wb = load_workbook(path)
        ws = wb.worksheets[0]
        keys = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=3):
            app = row[0].value
            for j, cell in enumerate(row[1:], 1):
                if keys[j] in ("app_name", "provider_name") or cell.protection.locked:
                    continue
                x = _score_for(path.stem, app, keys[j], rnd)
                cell.value = x
                typed[(path.stem, app, keys[j])] = x
        wb.save(path)
    return typed


def test_sheet_layout_keys_validation_anchors_and_conflicts(fresh: Path, tmp_path: Path) -> None:
    ds, rb = _inputs(fresh)
    out = tmp_path / "r1"
    paths = panel_sheets.write_sheets(ds, rb, "44", 1, out, "zh")
    assert [p.name for p in paths] == [f"E4400{i}.xlsx" for i in range(1, 8)]
    crits = [c.id for c in rb.criteria if c.source == "panel"]
    wb = load_workbook(out / "E44001.xlsx")
    assert wb.sheetnames == ["评分", "说明", "_evalkit"]
    assert wb["_evalkit"].sheet_state == "veryHidden" and wb.security.lockStructure
    ws = wb["评分"]
    assert [c.value for c in ws[1]] == ["app_id", *crits, "app_name", "provider_name"]
    assert ws.row_dimensions[1].hidden and ws.protection.sheet
    assert ws["B2"].value == "易用性（0–10）"
    apps = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    conflicted = set(ds.apps.loc[ds.apps["provider_id"] == CONFLICTED_PROVIDER, "app_id"])
    candidates = set(ds.submissions.loc[ds.submissions["province_code"] == "44", "app_id"])
    assert len(conflicted & candidates) == 2 and len(apps) == 18
    assert set(apps) == candidates - conflicted and apps == sorted(apps)
    # one data validation per criterion: a decimal 0..10 over the app rows
    dvs = {str(dv.sqref): (dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    assert dvs["B3:B20"] == ("decimal", "0", "10") and len(dvs) == len(crits)
    # C05 applies to apps whose main users are minors only: elsewhere grey and locked
    c05 = 2 + crits.index("C05_age_appropriateness")
    minors = set(ds.apps.loc[ds.apps["minors_primary"].fillna(False).astype(bool), "app_id"])
    for r, app in enumerate(apps, 3):
        assert ws.cell(r, c05).protection.locked == (app not in minors)
        assert not ws.cell(r, 2).protection.locked
    assert ws.cell(3, 1).protection.locked  # ids are locked
    text = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    assert "0：完全不符合——存在严重问题" in text and "0：错误普遍——知识性、科学性错误普遍存在" in text
    assert "第 1 轮" in text and "崔飞磊" in text
    en = load_workbook(panel_sheets.write_sheets(ds, rb, "44", 1, tmp_path / "en", "en")[0])
    assert en.sheetnames == ["Scores", "Instructions", "_evalkit"]
    assert en["Scores"]["B2"].value == "Usability (0–10)"
    assert "Not met at all" in "\n".join(str(c.value) for c in en["Instructions"]["A"] if c.value)
    time.sleep(2.1)  # a zip entry's time has a 2-second resolution: a clock in it would show
    again = panel_sheets.write_sheets(ds, rb, "44", 1, tmp_path / "again", "zh")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]  # same bytes


def test_round_trip_gives_the_typed_scores(fresh: Path, tmp_path: Path) -> None:
    ds, rb = _inputs(fresh)
    out = tmp_path / "r1"
    panel_sheets.write_sheets(ds, rb, "44", 1, out)
    typed = _fill(out, 1)
    before = (fresh / "panel_scores.csv").read_bytes()
    res = panel_collect.collect(out, ds, fresh, 1, rb)
    assert len(res.rows) == len(typed) and res.replaced == 0
    after = (fresh / "panel_scores.csv").read_bytes()
    assert after.startswith(before)  # other provinces' lines kept as they were
    back = evalkit.load_dataset(fresh).panel_scores
    back = back[back["province_code"] == "44"]
    assert set(back["round"]) == {1}
    got = {(r.expert_id, r.app_id, r.criterion_id): r.score for r in back.itertuples()}
    assert got == typed


def _write_and_fill(data: Path, out: Path, rnd: int = 1) -> tuple[object, object]:
    ds, rb = _inputs(data)
    panel_sheets.write_sheets(ds, rb, "44", rnd, out)
    _fill(out, rnd)
    return ds, rb


def test_bad_sheets_each_reported_by_its_cell(fresh: Path, tmp_path: Path) -> None:
    out = tmp_path / "r1"
    ds, rb = _write_and_fill(fresh, out)
    crits = [c.id for c in rb.criteria if c.source == "panel"]
    col = {c: "BCDEFGHIJKLMN"[i] for i, c in enumerate(crits)}
    wb = load_workbook(out / "E44003.xlsx")
    ws = wb["评分"]
    ws["D7"] = 11  # out of range
    ws["E8"] = -1
    ws["B4"] = "八分"  # text in a number cell
    ws["C4"] = "7"  # a number typed as text
    ws["F9"] = None  # missing
    ws["G10"] = "=B3+1"  # a formula
    ws["A12"] = "教APP备0000000号"  # edited id
    ws["C1"] = "usability"  # edited machine key
    minors = set(ds.apps.loc[ds.apps["minors_primary"].fillna(False).astype(bool), "app_id"])
    grey = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value not in minors)
    ws[f"{col['C05_age_appropriateness']}{grey}"] = 5  # a criterion that does not apply
    wb.save(out / "E44003.xlsx")
    # E44004's file holds E44003's sheet: another expert's sheet, and a second one of E44003
    (out / "E44004.xlsx").unlink()
    shutil.copy(out / "E44003.xlsx", out / "E44004.xlsx")
    # E44005 declared a conflict after the sheets went out: its scores of that provider's apps
    experts = pd.read_csv(fresh / "experts.csv", dtype=str, keep_default_na=False)
    experts.loc[experts["expert_id"] == "E44005", "conflicts"] = CONFLICTED_PROVIDER
    experts.to_csv(fresh / "experts.csv", index=False)
    conflicted_rows = [r for r in range(3, 23)
                       if load_workbook(out / "E44005.xlsx")["评分"].cell(r, 1).value
                       in set(ds.apps.loc[ds.apps["provider_id"] == CONFLICTED_PROVIDER, "app_id"])]
    # E44006 returned a sheet of round 2 (made from a round-1 layout by hand)
    wb = load_workbook(out / "E44006.xlsx")
    wb["_evalkit"]["B3"] = 2
    wb.save(out / "E44006.xlsx")
    before = (fresh / "panel_scores.csv").read_bytes()
    ds2, _ = _inputs(fresh)
    with pytest.raises(PanelSheetError) as err:
        panel_collect.collect(out, ds2, fresh, 1, rb)
    msgs = [str(p) for p in err.value.problems]
    text = "\n".join(msgs)

    def one(prefix: str, words: str) -> None:
        hits = [m for m in msgs if m.startswith(prefix + ":") and words in m]
        assert hits, f"no problem {prefix}: …{words}… in\n{text}"

    one("E44003.xlsx!评分!D7", "score 11 is out of range: 0 to 10")
    one("E44003.xlsx!评分!E8", "score -1 is out of range")
    one("E44003.xlsx!评分!B4", "text ('八分') in a score cell")
    one("E44003.xlsx!评分!C4", "text ('7') in a score cell")
    one("E44003.xlsx!评分!F9", "missing score")
    one("E44003.xlsx!评分!G10", "a formula")
    one("E44003.xlsx!评分!A12", "edited app id")
    one("E44003.xlsx!评分!C1", "edited machine key: expected 'F07_stakeholder_satisfaction', found 'usability'")
    one(f"E44003.xlsx!评分!{col['C05_age_appropriateness']}{grey}", "does not apply")
    one("E44004.xlsx", "belongs to expert E44003, not E44004")
    one("E44004.xlsx", "a second workbook of expert E44003")
    one("E44006.xlsx", "from round 2, not round 1")
    assert len(conflicted_rows) == 2
    for r in conflicted_rows:
        one(f"E44005.xlsx!评分!B{r}", f"E44005 declared a conflict of interest with provider {CONFLICTED_PROVIDER}")
    assert (fresh / "panel_scores.csv").read_bytes() == before  # nothing written


def test_same_round_twice_is_refused_unless_replace(fresh: Path, tmp_path: Path) -> None:
    out = tmp_path / "r1"
    ds, rb = _write_and_fill(fresh, out)
    first = panel_collect.collect(out, ds, fresh, 1, rb)
    n = len(pd.read_csv(fresh / "panel_scores.csv"))
    with pytest.raises(PanelSheetError, match="round 1 of province 44 is already collected"):
        panel_collect.collect(out, ds, fresh, 1, rb)
    again = panel_collect.collect(out, ds, fresh, 1, rb, replace=True)
    assert again.replaced == len(first.rows) and len(pd.read_csv(fresh / "panel_scores.csv")) == n


def test_round_two_sheets_show_round_one_feedback(fresh: Path, tmp_path: Path) -> None:
    ds, rb = _write_and_fill(fresh, tmp_path / "r1")
    panel_collect.collect(tmp_path / "r1", ds, fresh, 1, rb)
    ds, rb = _inputs(fresh)
    panel_sheets.write_sheets(ds, rb, "44", 2, tmp_path / "r2")
    ws = load_workbook(tmp_path / "r2" / "E44002.xlsx")["评分"]
    app, crit = ws["A5"].value, ws["B1"].value
    r1 = ds.panel_scores[(ds.panel_scores["province_code"] == "44") & (ds.panel_scores["app_id"] == app)
                         & (ds.panel_scores["criterion_id"] == crit)]["score"].to_numpy()
    q1, med, q3 = np.percentile(r1, [25, 50, 75])
    own = _score_for("E44002", app, crit, 1)
    assert ws["B5"].comment.text == (f"第 1 轮：专家组中位数 {med:g}，四分位距 {q3 - q1:g}（{q1:g}–{q3:g}，"
                                     f"{len(r1)} 人）；您的评分：{own:g}")
    # E44001 scored only its 18 apps in round 1: round 2 keeps that assignment
    assert load_workbook(tmp_path / "r2" / "E44001.xlsx")["评分"].max_row == 20


def _cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8")


def test_panel_secretary_two_rounds_through_the_command_line(fresh: Path, tmp_path: Path) -> None:
    """Done-when of issue 19, tried as a panel secretary would: round 1 out, back with errors
    (each reported by cell, nothing written), corrected and collected; round 2 sheets with the
    round-1 feedback, collected; the summary shows consensus and the stopping rule."""
    r1, r2 = tmp_path / "round1", tmp_path / "round2"
    done = _cli("panel", "sheets", "--province", "44", "--round", "1", "--data", fresh, "--out", r1)
    assert done.returncode == 0, done.stderr
    assert "wrote 7 score sheet(s) of round 1" in done.stdout
    _fill(r1, 1)
    wb = load_workbook(r1 / "E44002.xlsx")
    wb["评分"]["D7"], wb["评分"]["E5"] = 12, "good"
    wb.save(r1 / "E44002.xlsx")
    bad = _cli("panel", "collect", r1, "--data", fresh, "--round", "1")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "E44002.xlsx!评分!D7: score 12 is out of range: 0 to 10" in bad.stderr
    assert "E44002.xlsx!评分!E5: text ('good') in a score cell" in bad.stderr
    assert "2 problem(s) found; nothing was written." in bad.stderr
    wb["评分"]["D7"], wb["评分"]["E5"] = 8, 7.5
    wb.save(r1 / "E44002.xlsx")
    ok = _cli("panel", "collect", r1, "--data", fresh, "--round", "1")
    assert ok.returncode == 0, ok.stderr
    assert "collected round 1 of province 44" in ok.stdout
    assert _cli("panel", "collect", r1, "--data", fresh, "--round", "1").returncode == 1
    done = _cli("panel", "sheets", "--province", "44", "--round", "2", "--data", fresh, "--out", r2, "--lang", "en")
    assert done.returncode == 0, done.stderr
    comment = load_workbook(r2 / "E44003.xlsx")["Scores"]["B3"].comment.text
    assert comment.startswith("Round 1: panel median ") and "your score: " in comment
    _fill(r2, 2)
    ok = _cli("panel", "collect", r2, "--data", fresh, "--round", "2")
    assert ok.returncode == 0, ok.stderr
    summary = _cli("panel", "summary", "--province", "44", "--data", fresh, "--lang", "en")
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.startswith("Province 44, round 2:")
    assert "Kendall" in summary.stdout and "net change from the previous round" in summary.stdout
    assert "Dajani et al. 1979" in summary.stdout
    ds = evalkit.load_dataset(fresh)
    s = panel_rounds.summary(ds.panel_scores, ds.experts, ds.apps, "44", 2, "en")
    assert s.criteria["consensus"].all() and s.stop  # round 2 moved every score toward 7
    assert "consensus reached: stop" in summary.stdout


def _long(rnd: int, table: dict[str, list[float]], crit: str = "F04_usability") -> pd.DataFrame:
    """panel_scores rows of province 44: ``{app: [score of E1, E2, …]}``."""
    rows = [("44", rnd, app, f"E{j + 1}", crit, x) for app, xs in table.items() for j, x in enumerate(xs)]
    df = pd.DataFrame(rows, columns=["province_code", "round", "app_id", "expert_id", "criterion_id", "score"])
    return df.astype({"round": "Int64", "score": "float64"}).assign(scored_on=pd.Timestamp("2026-06-01"))


def test_round_summary_worked_example() -> None:
    """Four raters, three apps, by hand.

    Round 1: A = 2, 4, 6, 8 (quartiles by linear interpolation: Q1 = 2 + 0.75·2 = 3.5, Q3 = 6.5,
    IQR 3); B = 5, 5, 6, 6 (Q1 = 5, Q3 = 6, IQR 1); C = 9, 8, 9, 9 (Q1 = 8.75, Q3 =
    9, IQR 0.25).  Apps with IQR ≤ 2: B and C, 2 of 3 = 67 % < 75 %: no consensus, round 1 has no
    stability: another round.
    Round 2: A = 5, 5, 6, 6 (IQR 1), B, C unchanged: 100 % agree → consensus.  Net change
    (Scheibe et al.): A's classes move from {2, 4, 6, 8} to {5, 5, 6, 6}: shares ¼ each →
    5: ½, 6: ½; |Δ| over classes 2, 4, 5, 6, 8 = ¼ + ¼ + ½ + ¼ + ¼ = 1.5 → half: 0.75; B, C: 0; mean
    0.25 ≥ 0.15: not stable (but consensus stops it).
    Kendall's W of round 2 (apps ranked within each rater, ties averaged): ranks by rater
    A, B, C = (1.5, 1.5, 3), (1.5, 1.5, 3), (1.5, 1.5, 3), (1.5, 1.5, 3) → R = 6, 6, 12, mean 8,
    S = 4 + 4 + 16 = 24; ties: each rater one pair, T = 2³ − 2 = 6 per rater, ΣT = 24;
    W = 12·24 / (16·(27 − 3) − 4·24) = 288 / 288 = 1.
    """
    apps = pd.DataFrame({"app_id": ["A", "B", "C"], "provider_id": ["P1", "P2", "P3"]})
    experts = pd.DataFrame({"expert_id": ["E1", "E2", "E3", "E4"], "conflicts": ["", "", "", ""]})
    r1 = _long(1, {"A": [2, 4, 6, 8], "B": [5, 5, 6, 6], "C": [9, 8, 9, 9]})
    r2 = _long(2, {"A": [5, 5, 6, 6], "B": [5, 5, 6, 6], "C": [9, 8, 9, 9]})
    fb = panel_rounds.feedback(panel_rounds.round_scores(r1, experts, apps, "44", 1)).set_index("app_id")
    assert fb.loc["A", ["median", "q1", "q3", "iqr"]].tolist() == [5.0, 3.5, 6.5, 3.0]
    assert fb.loc["C", ["q1", "q3", "iqr"]].tolist() == [8.75, 9.0, 0.25]
    s1 = panel_rounds.summary(r1, experts, apps, "44", 1, "en").criteria.iloc[0]
    assert s1["share_agreed"] == pytest.approx(2 / 3) and not s1["consensus"]
    assert s1["decision"] == "another_round" and pd.isna(s1["net_change"])
    both = pd.concat([r1, r2], ignore_index=True)
    s2 = panel_rounds.summary(both, experts, apps, "44", 2, "en")
    row = s2.criteria.iloc[0]
    assert row["net_change"] == pytest.approx(0.25) and not row["stable"]
    assert row["consensus"] and row["decision"] == "consensus" and s2.stop
    assert row["kendall_w"] == pytest.approx(1.0) and row["agreement"] == "strong"
    # the same disagreement twice: stable without consensus stops too (Dajani et al. 1979)
    again = pd.concat([r1, _long(2, {"A": [2, 4, 6, 8], "B": [5, 5, 6, 6], "C": [9, 8, 9, 9]})], ignore_index=True)
    s3 = panel_rounds.summary(again, experts, apps, "44", 2, "zh")
    assert s3.criteria.iloc[0]["net_change"] == 0 and s3.criteria.iloc[0]["decision"] == "stable" and s3.stop
    assert "未达成共识但意见已稳定" in s3.text("zh")


def test_a_workbook_that_did_not_come_back_is_a_warning(fresh: Path, tmp_path: Path) -> None:
    out = tmp_path / "r1"
    ds, rb = _write_and_fill(fresh, out)
    (out / "E44007.xlsx").unlink()
    res = panel_collect.collect(out, ds, fresh, 1, rb)
    assert [str(w) for w in res.warnings] == [
        "E44007.xlsx: warning: expert E44007's workbook did not come back: this round's items are aggregated "
        "without their score (the latest round of an item counts)"]
    assert set(res.rows["expert_id"]) == {f"E4400{i}" for i in range(1, 7)}


def test_collect_needs_sheets_and_a_csv_dataset_folder(fresh: Path, tmp_path: Path) -> None:
    ds, rb = _inputs(fresh)
    book = tmp_path / "dataset.xlsx"
    book.write_bytes(b"PK")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PanelSheetError) as err:
        panel_collect.collect(tmp_path / "empty", ds, book, 1, rb)
    shown = [str(p) for p in err.value.problems]
    assert f"{tmp_path / 'empty'}: no returned score sheets (*.xlsx) in this folder" in shown
    assert any(s.startswith(f"{book}: ") and "not to a workbook" in s for s in shown)


def test_panel_commands_take_the_workspace_defaults(tmp_path: Path) -> None:
    """Inside a workspace (`evalkit init --province 44 --sample`) the panel commands need no
    --province or --data: evalkit.toml gives them."""
    ws = tmp_path / "ws"
    made = _cli("init", ws, "--province", "44", "--sample")
    assert made.returncode == 0, made.stderr

    paths = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}  # relative entries would move with cwd

    def cli_in_ws(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], capture_output=True, text=True,
                              encoding="utf-8", cwd=ws, env=env)

    done = cli_in_ws("panel", "sheets", "--round", "2", "--out", tmp_path / "r2")
    assert done.returncode == 0, done.stderr
    assert "round 2 for province 44" in done.stdout and (tmp_path / "r2" / "E44007.xlsx").is_file()
    summary = cli_in_ws("panel", "summary")
    assert summary.returncode == 0 and summary.stdout.startswith("省份 44 第 1 轮"), summary.stderr
    outside = _cli("panel", "summary")
    assert outside.returncode == 2 and "--province is required" in outside.stderr
