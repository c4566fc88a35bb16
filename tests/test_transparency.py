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

from evalkit.publish.app_pages import app_href, app_slug, provider_anchor
from tests._links import broken_links, count_links


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


def test_every_candidate_has_a_page_with_its_evidence(published_sample):
    folder, _, _ = published_sample
    for code in ("11", "44"):
        rows = _decisions(folder, code)
        pages = sorted((folder / code / "apps").glob("*.html"))
        assert len(pages) == len(rows) > 0
        for r in rows:
            page = (folder / code / app_href(r["app_id"])).read_text(encoding="utf-8")
            assert r["app_id"] in page and f"../credit.html#{provider_anchor(r['provider_id'])}" in page
            assert "../../index.html" in page and "plotly" not in page
    # an excluded app with expired reports: its report reference and date, "not assessed", its reasons
    stale = next(r for r in _decisions(folder, "11") if "stale_assessment:" in r["reasons"])
    page = (folder / "11" / app_href(stale["app_id"])).read_text(encoding="utf-8")
    ref = stale["reasons"].split("stale_assessment:")[1].split(";")[0]
    assert ref in page and "未评估" in page and "否决项优先于得分" in page
    assert "如何提出异议" in page and "专家评分中位数" in page
    assert "MASVS" not in page  # Chinese criterion names in the Chinese set
    assert app_slug("教APP备1100112号") != app_slug("教APP备1100112")


def test_the_published_set_has_no_broken_link(published_sample):
    """Every local href/src and #anchor of every page resolves; the register links to app pages."""
    folder, _, _ = published_sample
    assert broken_links(folder) == []
    assert count_links(folder) > 100
    rows = _register_rows(folder)
    linked = [r[0] for r in rows if r[0]]  # the href column travels first
    assert linked and all((folder / href).is_file() for href in linked)


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


def test_app_pages_escape_provider_text(tmp_path):
    """Provider-supplied names are escaped on an app page."""
    import pandas as pd

    from evalkit.evaluate.province import ProvinceResult
    from evalkit.publish.app_pages import write_app_pages

    empty = pd.DataFrame()
    dec = pd.DataFrame({"app_id": ["X1"], "app_name": ["<script>alert(1)</script>"], "provider_id": ["P1"],
                        "provider_name": ['"><img src=x onerror=alert(1)>'], "category": ["learning"],
                        "stages": ["primary"], "status": ["excluded"], "rank": [float("nan")],
                        "total_score": [50.0], "legality": [50.0], "function": [50.0], "security": [50.0],
                        "content": [50.0], "p_listed": [0.0], "rank_lo": [float("nan")], "rank_hi": [float("nan")],
                        "close_call": [False], "flags": [""], "change": [""], "reasons": ["veto:L17"],
                        "reasons_zh": ["否决项：<b>x</b>"], "reasons_en": ["veto: <b>x</b>"]})
    res = ProvinceResult(code="11", name_zh="北京市", name_en="Beijing", as_of=pd.Timestamp("2026-09-01"),
                         profile={}, rubric_version="1", decisions=dec, recommended=empty, changes=empty,
                         overlaps=empty, credit=empty, credit_history=empty, negative_list=empty, blacklist=empty,
                         blacklist_apps=empty, complaint_stats=empty, risk=empty, risk_quality={}, agreement=empty,
                         raters=empty, conflicts=empty, weights=empty, method={})
    (path,) = write_app_pages(res, tmp_path, "zh")
    text = path.read_text(encoding="utf-8")
    assert "<script>alert" not in text and "<img src=x" not in text and "<b>x</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


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
    assert any(k.startswith("11/apps/") for k in digests[0])
    assert digests[0] == digests[1]
    assert broken_links(folder) == []


_WORDS = {"zh": ("各指标得分及依据", "评估结果已过有效期"), "en": ("Criterion scores and their evidence",
                                                          "assessment out of date")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_done_when_by_clicks_only(browser, published_sample, published_en_twice, lang):
    """From index.html by clicks only: search an app by name, open its detail (criterion scores
    with report references, reasons in words), follow its provider to the credit report,
    download the province's decisions.csv."""
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
        assert "/apps/" in page.url
        body = page.locator("body").inner_text()
        assert name in body and heading_words in body  # 2. criterion scores with their evidence
        ref = stale["reasons"].split("stale_assessment:")[1].split(";")[0]
        assert page.locator("table#criteria", has_text=ref).count() == 1
        assert stale_words in body and "stale_assessment" not in body  # reasons in words
        page.click(f"a[href$='#{provider_anchor(stale['provider_id'])}']")  # 3. the provider's entry
        page.wait_for_load_state()
        assert page.url.endswith(f"credit.html#{provider_anchor(stale['provider_id'])}")
        assert page.locator(f"tr#{provider_anchor(stale['provider_id'])}").is_visible()
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
            page.goto((folder / rel).as_uri())
            page.wait_for_load_state()
            found = page.evaluate(_CLIPPED)
            assert found["clipped"] == [] and found["width"] <= 390, (rel, found)
        page.goto((folder / "11" / "recommendation.html").as_uri())
        cell = page.locator("table#not-listed tbody tr").first.locator("td[data-label='原因']")
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert cell.inner_text().strip()
    finally:
        page.close()


def test_an_app_page_shows_earlier_cycles_from_the_register(published_en_twice, sample_data):
    """A second cycle into the same output: each app page's history lists the first cycle's
    decision (read from the register) and this one."""
    from evalkit import publish as pub

    first, _ = published_en_twice
    data, _, _ = sample_data
    out = first.parent
    assert pub.publish(data, "2026-09-02", provinces="11", workers=1, out_dir=out, lang="en", progress=False).ok
    rows = _decisions(first, "11")
    for r in rows[:3]:
        page = (out / "2026-09-02" / "11" / app_href(r["app_id"])).read_text(encoding="utf-8")
        history = page[page.index('id="history"'):]
        history = history[: history.index("</table>")]
        assert "2026-09-01" in history and "2026-09-02" in history, history
        assert history.index("2026-09-01") < history.index("2026-09-02")
