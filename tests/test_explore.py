"""The explorer on the real list rules (issue 19): the what-if module against the pipeline's
published list, its what-if controls, and the page Voilà serves in real Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from evalkit.evaluate import explore, pipeline
from evalkit.publish import report as R
from tests.conftest import SAMPLE

AS_OF = "2026-09-01"


@pytest.fixture(scope="module")
def baselines() -> dict[str, explore.Baseline]:
    return {}


def _baseline(cache: dict, code: str) -> explore.Baseline:
    if code not in cache:
        cache[code] = explore.load_baseline(SAMPLE, code, AS_OF)
    return cache[code]


@pytest.mark.parametrize("code", ["11", "31", "34", "44", "63"])
def test_profile_settings_give_exactly_the_published_list(baselines, code):
    """Beijing and Guangdong rank by weighted sum, Shanghai by TOPSIS (its profile); Qinghai has
    two Delphi rounds; Anhui holds objections (one pending: the app is on hold) and Beijing a
    provider notified of a fraud sanction (its apps held: issue 17's review decisions).  At the
    profile's settings the explorer's list is the pipeline's, app for
    app and rank for rank, and every candidate keeps its published status."""
    b = _baseline(baselines, code)
    assert b.method == ("topsis" if code == "31" else "weighted_sum")
    w = explore.what_if(b)
    assert list(w.listed["app_id"]) == list(b.published_list["app_id"])
    assert list(w.listed["rank"]) == list(b.published_list["rank"])
    assert w.entered == () and w.left == ()
    assert (w.decisions["status"] == w.decisions["published_status"]).all()
    same = explore.what_if(b, weights=b.weights, criterion_weights=b.criterion_weights, waivers=b.waivers)
    assert list(same.listed["app_id"]) == list(b.published_list["app_id"])


def test_equals_the_published_recommended_list_csv(baselines, tmp_path):
    """The exports of ``evalkit run`` for province 44 (``recommended_list.csv``)."""
    b = _baseline(baselines, "44")
    res = pipeline.province_result(SAMPLE, "44", AS_OF)
    res.write_exports(tmp_path)
    published = pd.read_csv(tmp_path / "recommended_list.csv", dtype=str)
    assert list(explore.what_if(b).listed["app_id"]) == list(published["app_id"])


def test_content_weight_alone_keeps_the_security_minimum(baselines):
    """The old explorer listed 趣体育星球 (教APP备1500102号) in Beijing at content weight 1 although
    its security score is below the profile's minimum; the real rules keep it out."""
    b = _baseline(baselines, "11")
    w = explore.what_if(b, weights={"legality": 0, "function": 0, "security": 0, "content": 1})
    row = w.decisions.set_index("app_id").loc["教APP备1500102号"]
    assert row["status"] == "not_recommended" and row["reasons"] == "below_min:security"
    assert "教APP备1500102号" not in set(w.listed["app_id"])


def test_weights_reorder_and_caps_move_apps_out(baselines):
    b = _baseline(baselines, "44")
    w = dict(b.weights)
    w["content"] += 0.4
    moved = explore.what_if(b, weights=w)
    assert list(moved.listed["app_id"])[:3] == ["教APP备4400104号", "教APP备3100103号", "教APP备4400111号"]
    assert list(b.published_list["app_id"])[:3] == ["教APP备4400104号", "教APP备4400111号", "教APP备3100103号"]
    capped = explore.what_if(b, max_total=3)
    assert list(capped.listed["app_id"]) == list(b.published_list["app_id"])[:3]
    assert set(capped.left) == set(b.published_list["app_id"][3:]) and capped.entered == ()
    gone = capped.decisions.set_index("app_id").loc[list(capped.left)]
    assert (gone["change"] == "leaves").all() and gone["reasons"].str.contains("cap:total").all()


def test_rater_and_waiver_what_ifs_score_the_province_again(baselines):
    b = _baseline(baselines, "44")
    assert b.raters == tuple(f"E4400{i}" for i in range(1, 8))
    assert b.waivers == {("教APP备4400109号", "F06_accessibility")}
    no_waiver = explore.what_if(b, waivers=set())
    row = no_waiver.decisions.set_index("app_id").loc["教APP备4400109号"]
    assert "waived:F06_accessibility" not in row["reasons"]
    published = b.published.set_index("app_id").loc["教APP备4400109号"]
    assert row["total_score"] != published["total_score"]
    without = explore.what_if(b, exclude_raters=["E44003", "E44004", "E44005", "E44006", "E44007"])
    # two raters left: below the profile's minimum panel, every app is excluded
    assert without.listed.empty and set(without.left) == set(b.published_list["app_id"])
    assert without.decisions["reasons"].str.contains("insufficient_panel").all()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    """TCP-connect until the server listens (a GET would start a kernel)."""
    for _ in range(600):
        if proc.poll() is not None:
            pytest.fail(f"evalkit explore exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"evalkit explore never listened:\n{log.read_text(errors='replace')}")


def _list_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        "#explorer-list tbody tr", "rows => rows.map(r => r.querySelectorAll('td')[2].innerText.trim())")


def test_voila_serves_the_explorer_without_code_and_with_the_published_list(browser, baselines, tmp_path):
    """``evalkit explore --province 44`` in real Chromium: no code on the page, the default list is
    the published one, a weight slider moved with the keyboard reorders it."""
    b = _baseline(baselines, "44")
    port, log = _free_port(), tmp_path / "voila.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "evalkit", "explore", "--province", "44", "--port", str(port),
                                 "--no-browser"], stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        _wait_for_port(port, proc, log)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/", timeout=600_000, wait_until="commit")  # Voilà streams the page
        try:  # a kernel error leaves Voilà's page spinning: bounded, with the server's log
            page.wait_for_selector("#explorer-list tbody tr", timeout=600_000)
        except Exception:
            pytest.fail(f"the explorer's list never appeared:\n{log.read_text(errors='replace')[-4000:]}")
        text = page.inner_text("body")
        assert "load_baseline" not in text and "import os" not in text and "def show" not in text
        assert page.query_selector_all(".jp-InputArea-editor, .CodeMirror, .cm-editor") == []
        assert "\x1b[" not in page.content()  # no terminal escape codes
        assert _list_ids(page) == list(b.published_list["app_id"])
        assert "与已公布名单相同。" in text
        handle = page.query_selector_all(".widget-slider .noUi-handle")[3]  # content (dimension order)
        handle.focus()
        for _ in range(40):
            handle.press("ArrowRight")
        # every press is a move the kernel answers in turn: the list shown is the last move's
        # once the weights it states are the sliders' (an earlier answer may still be on screen)
        weights = dict(b.weights, content=float(page.query_selector_all(".widget-slider .widget-readout")[3]
                                                .inner_text()))
        assert weights["content"] >= b.weights["content"] + 0.3
        in_use = "、".join(f"{R.t(d, 'zh')} {v / sum(weights.values()):.1%}" for d, v in weights.items())
        page.wait_for_function("text => document.querySelector('.explorer-weights')?.innerText.trim() === text",
                               arg=f"维度权重：{in_use}", timeout=600_000)
        expected = list(explore.what_if(b, weights=weights).listed["app_id"])
        assert _list_ids(page) == expected and expected != list(b.published_list["app_id"])
        # every candidate's table is drawn when its panel is opened (not on every move)
        assert page.query_selector("#explorer-all") is None
        page.get_by_text("全部候选应用", exact=True).click()
        page.wait_for_selector("#explorer-all tbody tr", timeout=600_000)
        assert len(page.query_selector_all("#explorer-all tbody tr")) == len(b.candidates)
        for handle in page.query_selector_all(".widget-slider .noUi-handle")[:4]:  # every dimension to 0
            handle.focus()
            handle.press("Home")
        page.wait_for_function("text => document.querySelector('.explorer-weights')?.innerText.trim() === text",
                               arg="请至少为一个维度设置大于零的权重。", timeout=600_000)
        assert page.query_selector("#explorer-list") is None
        page.close()
    finally:
        proc.terminate()
        proc.wait()
    assert proc.returncode in (0, -15), log.read_text(errors="replace")


def test_explore_refuses_a_busy_port_and_bad_data_without_a_traceback(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "evalkit", "explore", "--port", str(port), "--no-browser"],
                              capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"the explorer cannot listen on 127.0.0.1:{port}" in done.stderr and "choose another --port" in done.stderr
    bad = subprocess.run([sys.executable, "-m", "evalkit", "explore", "--data", str(tmp_path / "none"), "--as-of",
                          AS_OF, "--no-browser"], capture_output=True, text=True)
    assert bad.returncode == 1 and "the dataset folder does not exist" in bad.stderr
    assert "Traceback" not in bad.stderr
    need = subprocess.run([sys.executable, "-m", "evalkit", "explore", "--data", str(tmp_path)], capture_output=True,
                          text=True)
    assert need.returncode == 2 and "--as-of is required" in need.stderr


def _same_decisions(fast: explore.WhatIf, full: explore.WhatIf) -> None:
    cols = list(fast.decisions.columns)
    pd.testing.assert_frame_equal(fast.decisions, full.decisions[cols], check_dtype=False)
    assert list(fast.listed["app_id"]) == list(full.listed["app_id"])
    assert (fast.entered, fast.left) == (full.entered, full.left)


@pytest.mark.parametrize("code", ["11", "31", "44", "63"])
@pytest.mark.parametrize("seed", range(4))
def test_fast_path_equals_recommend_for_random_settings(baselines, code, seed):
    """A slider move decides with the province's ListState (eligibility and pool kept); for random
    dimension weights, criterion weights, methods and caps its decisions (status, rank, score,
    totals, reason codes, order) are those of the full ``recommend`` path, column for column."""
    import numpy as np

    b = _baseline(baselines, code)
    rng = np.random.default_rng(seed)
    w = dict(zip(explore.DIMENSIONS, rng.dirichlet(np.ones(4)), strict=True))
    cw = {cid: float(v) for cid, v in zip(b.criterion_weights, rng.uniform(0, 1, len(b.criterion_weights)),
                                          strict=True)}
    kwargs = [dict(weights=w), dict(weights=w, method="topsis" if b.method == "weighted_sum" else "weighted_sum"),
              dict(criterion_weights=cw, max_total=int(rng.integers(1, 8))),
              dict(weights=w, provider_share_cap=float(rng.uniform(0.1, 1)),
                   min_total_score=float(rng.uniform(40, 80))),
              dict(weights=w, exclude_raters=[b.raters[seed % len(b.raters)]]),
              # every criterion of one dimension at 0: the dimension is not applicable anywhere
              dict(criterion_weights={c.id: 0.0 for c in b.province_rubric.criteria
                                      if c.dimension == explore.DIMENSIONS[seed]})]
    for kw in kwargs:
        _same_decisions(explore.what_if(b, **kw), explore.what_if(b, full=True, **kw))


def test_changed_reasons_are_the_full_reasons_of_the_apps_that_change(baselines):
    """``reasons="changed"`` (a slider move on the page) writes the reason codes of the apps whose
    status differs from the published one, exactly as the full list, and nothing else differs."""
    b = _baseline(baselines, "44")
    w = dict(b.weights)
    w["content"] += 0.4
    for kw in (dict(weights=w), dict(max_total=3)):
        full, quick = explore.what_if(b, **kw), explore.what_if(b, reasons="changed", **kw)
        moved = full.decisions["status"].ne(full.decisions["published_status"])
        assert moved.any() == ("max_total" in kw)  # the weights reorder the list, the cap cuts it
        assert list(quick.decisions.loc[moved, "reasons"]) == list(full.decisions.loc[moved, "reasons"])
        assert (quick.decisions.loc[~moved, "reasons"] == "").all()
        pd.testing.assert_frame_equal(quick.decisions.drop(columns="reasons"), full.decisions.drop(columns="reasons"))
    with pytest.raises(ValueError, match="reasons must be"):
        explore.what_if(b, reasons="some")
