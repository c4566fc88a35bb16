"""Issue 15: a page for every app, a linked report set, words for every code.

On the real published sample (``published_sample`` of tests/conftest.py, the real notebooks)
and on its own small publishes: reasons in words, one page per candidate with its evidence,
every local link resolving (tests/_links.py), the same bytes twice, and the issue's "Done when"
by clicks only in headless Chromium.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from evalkit.publish.app_pages import APP_VIEWER, app_href, app_shard, app_slug, provider_anchor
from tests._links import app_data, broken_links, count_links


def _decisions(folder: Path, code: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / code / "decisions.csv").read_text(encoding="utf-8-sig"))))


def _register_rows(folder: Path) -> list[list[str]]:
    """The rows of the index's register.js (decoded like assets/report.js does)."""
    text = (folder / "register.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("]=") + 2 : text.rindex(";")])
    cols = []
    for c in data["columns"]:
        cols.append([c["dict"][k] for k in c["codes"]] if "dict" in c else c["values"])
    return [list(r) for r in zip(*cols, strict=True)]


def test_vetoes_say_what_failed_in_the_published_decisions(published_sample):
    folder, result, _ = published_sample
    assert result.ok
    texts = [r["reasons_zh"] for code in ("11", "44") for r in _decisions(folder, code)]
    vetoes = [t for t in texts if "否决项" in t]
    assert vetoes
    assert not any("否决项未通过" in t for t in texts)  # the old, backwards form
    assert not any("否决项：等级测评报告在有效期内" in t for t in texts)
    for r in _decisions(folder, "11"):  # a dimension minimum gives its score and the minimum
        if "below_min:" in r["reasons"]:
            assert re.search(r"维度得分低于最低要求：\S+ \d+\.\d（最低 \d+\.\d）", r["reasons_zh"]), r["reasons_zh"]


def _details(folder: Path, code: str, app_id: str) -> dict:
    """One app's details as its province's viewer renders them: its row of the data file the
    viewer loads and its rows of every other table (``{table: [{column: text}]}``)."""
    viewer = folder / code / APP_VIEWER
    page = viewer.read_text(encoding="utf-8")
    shards = int(re.search(r'data-app-shards="(\d+)"', page).group(1))
    slug = app_slug(app_id)
    data = app_data(viewer, app_shard(slug, shards), "apps")
    out = {name: [r for r in rows if r.get("slug") == slug] for name, rows in data.items() if name != "providers"}
    (app,) = out["apps"]
    out["providers"] = [r for r in data["providers"] if r["provider_id"] == app["provider_id"]]
    return out


def _open(page, folder: Path, rel: str) -> None:
    """Open ``rel`` (a path with an optional #fragment) of a published set and wait for an app
    viewer to render."""
    path, _, fragment = rel.partition("#")
    page.goto((folder / path).as_uri() + (f"#{fragment}" if fragment else ""))
    page.wait_for_load_state()
    if path.endswith(APP_VIEWER):
        page.wait_for_selector("#ek-app[data-state=ready]", state="attached")


def test_every_candidate_has_details_with_its_evidence(published_sample):
    folder, _, _ = published_sample
    for code in ("11", "44"):
        rows = _decisions(folder, code)
        viewer = (folder / code / APP_VIEWER).read_text(encoding="utf-8")
        assert "../index.html" in viewer and "plotly" not in viewer and "apps.js" in viewer
        assert not list((folder / code / "apps").glob("*.html"))  # no page per app
        for r in rows:
            d = _details(folder, code, r["app_id"])
            assert d["apps"][0]["app_id"] == r["app_id"] and d["apps"][0]["app_name"] == r["app_name"]
            assert d["apps"][0]["href_credit"] == f"credit.html#{provider_anchor(r['provider_id'])}"
            assert d["criteria"]
    # an excluded app with expired reports: its report reference and date, "not assessed", its reasons
    stale = next(r for r in _decisions(folder, "11") if "stale_assessment:" in r["reasons"])
    d = _details(folder, "11", stale["app_id"])
    ref = stale["reasons"].split("stale_assessment:")[1].split(";")[0]
    assert any(c["report_ref"] == ref and c["assessed_on"] for c in d["criteria"])
    assert any(c["score"] == "未评估" for c in d["criteria"]) and d["apps"][0]["excluded"] == "1"
    viewer = (folder / "11" / APP_VIEWER).read_text(encoding="utf-8")
    assert "否决项优先于得分" in viewer and "如何提出异议" in viewer and "专家评分中位数" in viewer
    assert not any("MASVS" in c["criterion"] for c in d["criteria"])  # Chinese criterion names in the Chinese set
    assert app_slug("教APP备1100112号") != app_slug("教APP备1100112")


def test_the_published_set_has_no_broken_link(published_sample):
    """Every local href/src and #anchor of every page resolves, every app link names an app of
    its viewer's data; the register links to the apps' details."""
    folder, _, _ = published_sample
    assert broken_links(folder) == []
    assert count_links(folder) > 100
    rows = _register_rows(folder)
    linked = [r[0] for r in rows if r[0]]  # the href column travels first
    assert linked and all("/apps.html#app=" in href for href in linked)
    assert all((folder / href.partition("#")[0]).is_file() for href in linked)


def test_the_link_checker_finds_an_app_missing_from_the_data(published_sample, tmp_path):
    """A link to an app the viewer's data does not hold, and a provider anchor of the data that the
    credit report lacks, are both broken links."""
    import shutil

    folder, _, _ = published_sample
    copy = tmp_path / "set"
    shutil.copytree(folder, copy)
    (copy / "gone.html").write_text('<a href="11/apps.html#app=APP-0000000-00000000">x</a>', encoding="utf-8")
    credit = copy / "11" / "credit.html"
    anchor = provider_anchor(_decisions(copy, "11")[0]["provider_id"])
    credit.write_text(credit.read_text(encoding="utf-8").replace(f'id="{anchor}"', 'id="elsewhere"'), encoding="utf-8")
    found = broken_links(copy)
    assert any(f.startswith("gone.html:") and "no app" in f for f in found), found
    assert any(f.startswith("11/apps.html: credit.html#" + anchor) for f in found), found


def test_no_chart_offers_to_send_data_out(published_sample):
    folder, _, _ = published_sample
    pages = [p for p in folder.rglob("*.html") if "Plotly.newPlot" in p.read_text(encoding="utf-8")]
    assert pages
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert '"showSendToCloud": false' in text or '"showSendToCloud":false' in text, p


def test_the_link_checker_finds_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "a.html").write_text('<p id="x"><a href="b.html#nope">b</a> <a href="#x">x</a> '
                                     '<a href="missing.csv">m</a> <a href="https://example.org/">o</a></p>',
                                     encoding="utf-8")
    (tmp_path / "b.html").write_text('<h1 id="top">b</h1>', encoding="utf-8")
    found = broken_links(tmp_path)
    assert len(found) == 3 and any("#nope" in f for f in found) and any("missing.csv" in f for f in found)


def _hostile_result():
    """A province result of one app whose provider-supplied texts try to break out of HTML."""
    import pandas as pd

    from evalkit.evaluate.province import ProvinceResult

    empty = pd.DataFrame()
    dec = pd.DataFrame({"app_id": ["X1"], "app_name": ["<script>alert(1)</script>"], "provider_id": ["P1"],
                        "provider_name": ['"><img src=x onerror=alert(1)>'], "category": ["learning"],
                        "stages": ["primary"], "status": ["excluded"], "rank": [float("nan")],
                        "total_score": [50.0], "legality": [50.0], "function": [50.0], "security": [50.0],
                        "content": [50.0], "p_listed": [0.0], "rank_lo": [float("nan")], "rank_hi": [float("nan")],
                        "close_call": [False], "flags": [""], "change": [""], "reasons": ["veto:L17"],
                        "reasons_zh": ["否决项：<b>x</b></script><script>alert(2)</script>"],
                        "reasons_en": ["veto: <b>x</b>"]})
    return ProvinceResult(code="11", name_zh="北京市", name_en="Beijing", as_of=pd.Timestamp("2026-09-01"),
                          profile={}, rubric_version="1", decisions=dec, recommended=empty, changes=empty,
                          overlaps=empty, credit=empty, credit_history=empty, negative_list=empty, blacklist=empty,
                          blacklist_apps=empty, complaint_stats=empty, risk=empty, risk_quality={}, agreement=empty,
                          raters=empty, conflicts=empty, weights=empty, method={})


def test_app_data_escape_provider_text(tmp_path):
    """Provider-supplied names travel escaped for a script: nothing in a data file can end it."""
    from evalkit.publish.app_pages import write_app_pages

    viewer, data = write_app_pages(_hostile_result(), tmp_path, "zh")
    assert viewer.name == APP_VIEWER and data.parent.name == "apps"
    text = data.read_text(encoding="utf-8")
    assert "<" not in text and ">" not in text
    assert app_data(viewer, 0, "apps")["apps"][0]["app_name"] == "<script>alert(1)</script>"


def test_the_viewer_shows_provider_text_as_text(browser, tmp_path):
    """In Chromium the viewer puts provider text on the page as text: no element, no script runs."""
    from evalkit.publish.app_pages import write_app_pages
    from evalkit.publish.assets import write_assets

    write_assets(tmp_path)
    write_app_pages(_hostile_result(), tmp_path / "11", "zh")
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        _open(page, tmp_path, f"11/{app_href('X1')}")
        assert page.locator("h1").inner_text().startswith("<script>alert(1)</script>")
        assert page.locator("td[data-k=provider]").inner_text() == '"><img src=x onerror=alert(1)>'
        assert "<b>x</b></script>" in page.locator("td[data-k=reasons]").inner_text()
        assert page.locator("#ek-app img, #ek-app b, #ek-app script").count() == 0
        page.wait_for_timeout(100)
        assert dialogs == []
        assert page.locator("[data-show=excluded]").is_visible()  # the veto note of an excluded app
        _open(page, tmp_path, "11/apps.html#app=APP-0000000-00000000")  # no such app: said so
        assert page.locator("#ek-app-msg").is_visible() and not page.locator("#ek-app").is_visible()
    finally:
        page.close()


@pytest.fixture(scope="module")
def published_en_twice(tmp_path_factory, sample_data):
    """Province 11 published twice in English into two folders: (day folder of the first,
    {file: sha256} of each)."""
    from evalkit import publish as pub

    data, as_of, _ = sample_data
    root = tmp_path_factory.mktemp("en_twice")
    digests = []
    for run in ("a", "b"):
        out = root / run
        assert pub.publish(data, as_of, provinces="11", workers=1, out_dir=out, lang="en", progress=False).ok
        day = out / as_of
        digests.append({str(p.relative_to(day)): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(day.rglob("*")) if p.is_file()})
    return root / "a" / as_of, digests


def test_same_inputs_give_the_same_app_pages(published_en_twice):
    """Two publishes of one province: every app page (and every other file) has the same bytes."""
    folder, digests = published_en_twice
    assert "11/apps.html" in digests[0] and any(k.startswith("11/apps/") for k in digests[0])
    assert digests[0] == digests[1]
    assert broken_links(folder) == []


def test_an_english_set_has_english_chart_captions(published_en_twice):
    """Every chart's folded data table of an English set (schools.html included) is captioned
    and headed in English."""
    folder, _ = published_en_twice
    # the sanction notices carry the Chinese text served after their English reading (by design)
    pages = sorted(p for p in folder.rglob("*.html") if p.parent.name != "sanction_notices")
    assert folder / "11" / "schools.html" in pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "图表数据" not in text and "<th>类别</th>" not in text and "<th>值</th>" not in text, page
    assert "data as a table" in (folder / "11" / "schools.html").read_text(encoding="utf-8")


_WORDS = {"zh": ("各指标得分及依据", "评估结果已过有效期"), "en": ("Criterion scores and their evidence",
                                                          "assessment out of date")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_done_when_by_clicks_only(browser, published_sample, published_en_twice, lang):
    """From index.html by clicks only: search an app by name, open its detail (criterion scores
    with report references, reasons in words), follow its provider to the credit report (and
    from the provider's entry back to its apps' details), download the province's decisions.csv."""
    folder = published_sample[0] if lang == "zh" else published_en_twice[0]
    heading_words, stale_words = _WORDS[lang]
    stale = next(r for r in _decisions(folder, "11") if "stale_assessment:" in r["reasons"])
    name = stale["app_name"]
    ctx = browser.new_context(accept_downloads=True)
    page = ctx.new_page()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    try:
        page.goto((folder / "index.html").as_uri())
        page.click("input[data-table=register]")
        page.wait_for_selector("#register[data-state=ready]")
        page.fill("input[data-table=register]", name)
        page.locator("#register tbody tr td a", has_text=name).first.click()  # 1. found by name
        page.wait_for_load_state()
        page.wait_for_selector("#ek-app[data-state=ready]", state="attached")
        assert f"/11/apps.html#app={app_slug(stale['app_id'])}" in page.url
        body = page.locator("body").inner_text()
        assert name in body and heading_words in body  # 2. criterion scores with their evidence
        ref = stale["reasons"].split("stale_assessment:")[1].split(";")[0]
        assert page.locator("table#criteria", has_text=ref).count() == 1
        assert stale_words in body and "stale_assessment" not in body  # reasons in words
        page.click(f"a[href$='#{provider_anchor(stale['provider_id'])}']")  # 3. the provider's entry
        page.wait_for_load_state()
        assert page.url.endswith(f"credit.html#{provider_anchor(stale['provider_id'])}")
        row = page.locator(f"tr#{provider_anchor(stale['provider_id'])}")
        assert row.is_visible()
        row.locator("a[href^='#apps-of-']").click()  # and back from the provider to its apps' details
        apps_row = page.locator(f"tr#apps-of-{stale['provider_id']}")
        assert apps_row.is_visible()
        page.locator("#provider-apps a", has_text=name).first.click()
        page.wait_for_selector("#ek-app[data-state=ready]", state="attached")
        assert f"/11/apps.html#app={app_slug(stale['app_id'])}" in page.url
        page.go_back()  # the credit report again
        page.wait_for_load_state()
        page.click("a[href='../index.html']")
        page.click("a[href='11/recommendation.html']")
        with page.expect_download() as info:  # 4. the province's decisions.csv
            page.click("a[href='decisions.csv']")
        got = Path(info.value.path()).read_bytes()
        assert got == (folder / "11" / "decisions.csv").read_bytes()
        assert got.decode("utf-8-sig").startswith("app_id,app_name,provider_id")
        assert outside == []
    finally:
        ctx.close()


_CLIPPED = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.namespaceURI !== 'http://www.w3.org/1999/xhtml') { continue; }  /* chart SVG text: not a box */
    const ox = getComputedStyle(el).overflowX;
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && ox !== 'auto' && ox !== 'scroll') {
      out.push(el.tagName + '#' + el.id + '.' + el.className);
    }
  }
  return {clipped: out, width: document.documentElement.scrollWidth};
}"""


def test_a_phone_sees_every_column(browser, published_sample):
    """At 390 px no element clips its content without a scroll box, nothing runs off the page,
    and the reason of a not-listed app is on screen (tables become labelled cards)."""
    folder, _, _ = published_sample
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        app = _decisions(folder, "11")[0]["app_id"]
        for rel in ("index.html", "11/recommendation.html", "11/credit.html", f"11/{app_href(app)}"):
            _open(page, folder, rel)
            found = page.evaluate(_CLIPPED)
            assert found["clipped"] == [] and found["width"] <= 390, (rel, found)
        page.goto((folder / "11" / "recommendation.html").as_uri())
        cell = page.locator("table#not-listed tbody tr").first.locator("td[data-label='原因']")
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert cell.inner_text().strip()
    finally:
        page.close()


def test_an_app_page_shows_earlier_cycles_from_the_register(published_en_twice, sample_data, browser):
    """A second cycle into the same output: each app's history lists the first cycle's decision
    (read from the register) and this one, in that order."""
    from evalkit import publish as pub

    first, _ = published_en_twice
    data, _, _ = sample_data
    out = first.parent
    assert pub.publish(data, "2026-09-02", provinces="11", workers=1, out_dir=out, lang="en", progress=False).ok
    rows = _decisions(first, "11")
    for r in rows[:3]:
        assert [h["as_of"] for h in _details(out / "2026-09-02", "11", r["app_id"])["history"]] == ["2026-09-01"]
    page = browser.new_page()
    try:
        _open(page, out / "2026-09-02", f"11/{app_href(rows[0]['app_id'])}")
        history = page.locator("table#history").inner_text()
        assert "2026-09-01" in history and "2026-09-02 (this cycle)" in history, history
        assert history.index("2026-09-01") < history.index("2026-09-02")
    finally:
        page.close()
