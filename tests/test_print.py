"""Issue 15: a report prints whole on A4 with who issues it, draft or final, its date and the data
fingerprint (the officer who signs the list prints it).

Real Chromium (``browser`` of tests/conftest.py) under print-media emulation, then ``page.pdf()``
on A4: every row of a paged table, folded details opened, no search box, pager or chart toolbar,
no table clipped at A4 width, the issue block present and right.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.data.exports import json_bytes
from evalkit.publish import report as R
from evalkit.publish.issue import data_fingerprint, default_authority, issue_block, issuing_authority
from evalkit.publish.render import page

#: A4 (210 mm) less the 12 mm margins of report.css's @page, at 96 px per inch.
A4_CONTENT_PX = round((210 - 2 * 12) / 25.4 * 96)

_PAGED = "table.ek-table[data-paged]"
_STATE = """() => ({
  rows: Object.fromEntries(Array.from(document.querySelectorAll('table.ek-table[id]'))
                           .map(t => [t.id, t.tBodies[0].rows.length])),
  shown: Array.from(document.querySelectorAll('.ek-search, .ek-pager, .ek-nav, .modebar-container'))
              .filter(e => getComputedStyle(e).display !== 'none').length,
  clipped: Array.from(document.querySelectorAll('.ek-table-wrap'))
                .filter(w => w.scrollWidth > w.clientWidth + 1).length,
  closed: document.querySelectorAll('details:not([open])').length,
  header: Array.from(document.querySelectorAll('header.ek-issue'))
               .filter(e => getComputedStyle(e).display !== 'none').map(e => e.innerText),
  widest: Math.max(...Array.from(document.querySelectorAll('table.ek-table'))
                   .map(t => t.getBoundingClientRect().right)),
})"""


def _printed(browser, url: str) -> tuple[dict, dict, bytes]:
    """(screen state, print state, A4 PDF) of a page."""
    pg = browser.new_page(viewport={"width": A4_CONTENT_PX, "height": 1100})
    try:
        pg.goto(url)
        screen = pg.evaluate(_STATE)
        pg.emulate_media(media="print")  # the page's script hears the change of media, then renders
        pg.wait_for_function(f"() => Array.from(document.querySelectorAll('{_PAGED}')).every(t => t.dataset.print)")
        printed = pg.evaluate(_STATE)
        pdf = pg.pdf(format="A4")
        pg.emulate_media(media="screen")
        pg.wait_for_function(f"() => !Array.from(document.querySelectorAll('{_PAGED}')).some(t => t.dataset.print)")
        back = pg.evaluate(_STATE)
    finally:
        pg.close()
    assert back["rows"] == screen["rows"]  # the screen's pages again after printing
    return screen, printed, pdf


def test_a_long_paged_table_prints_every_row(browser, tmp_path):
    frame = pd.DataFrame({"app_name": [f"应用{i:02d}" for i in range(37)],
                          "reasons": ["否决项：" + "很长的原因" * 20] * 37})
    body = (R.paged_table(frame, "long", page_size=5) + "<details><summary>方法</summary><p>折叠的说明</p></details>")
    path = tmp_path / "long.html"
    path.write_text(page(body, title="t", lang="zh", plotly_src=""), encoding="utf-8")
    screen, printed, pdf = _printed(browser, path.as_uri())
    assert screen["rows"]["long"] == 5 and screen["shown"] >= 2 and screen["closed"] == 1
    assert printed["rows"]["long"] == 37  # every row, not the first page
    assert printed["shown"] == 0 and printed["closed"] == 0 and printed["clipped"] == 0
    assert printed["widest"] <= A4_CONTENT_PX + 1
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize("report", ["recommendation", "credit"])
def test_a_published_report_prints_whole_with_its_issue_block(browser, published_sample, report):
    folder, _, _ = published_sample
    screen, printed, pdf = _printed(browser, (folder / "11" / f"{report}.html").as_uri())
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert screen["header"] == []  # the top block is printed only; the footer is on screen too
    assert printed["shown"] == 0 and printed["clipped"] == 0 and printed["closed"] == 0
    assert printed["widest"] <= A4_CONTENT_PX + 1
    # provenance.json as the report saw it: without the register cycle recorded after rendering
    prov = json.loads((folder / "11" / "provenance.json").read_text(encoding="utf-8"))
    assert prov.pop("register_cycle")["seq"] >= 1
    fingerprint = hashlib.sha256(json_bytes(prov)).hexdigest()
    [block] = printed["header"]
    for text in ("北京市教育委员会", "正式发布", "2026-09-01", fingerprint):
        assert text in block, text
    html = (folder / "11" / f"{report}.html").read_text(encoding="utf-8")
    assert html.count(fingerprint) == 2  # the printed header and the footer
    if report == "recommendation":
        dec = list(csv.DictReader(io.StringIO((folder / "11" / "decisions.csv").read_text(encoding="utf-8-sig"))))
        assert printed["rows"]["not-listed"] == sum(r["status"] != "recommended" for r in dec)
        assert printed["rows"]["recommended"] == sum(r["status"] == "recommended" for r in dec)


class _Result:
    def __init__(self, code: str, profile: object) -> None:
        self.code, self.name_zh, self.name_en = code, "广东省", "Guangdong"
        self.profile, self.as_of = profile, pd.Timestamp("2026-09-01")
        self.provenance = {"format": "evalkit-provenance/1", "inputs": {"apps.csv": "ab" * 32}}


def test_the_issue_block_says_draft_or_final_and_who_issues(tmp_path):
    from evalkit.data.exports import write_json

    res = _Result("44", {})
    draft, final = issue_block(res, "zh", final=False), issue_block(res, "en", final=True)
    assert 'data-status="draft"' in draft and "草稿" in draft and "广东省教育厅" in draft
    assert 'data-status="final"' in final and "Department of Education of Guangdong" in final
    write_json(res.provenance, tmp_path / "provenance.json")
    digest = hashlib.sha256(Path(tmp_path / "provenance.json").read_bytes()).hexdigest()
    assert data_fingerprint(res.provenance) == digest and digest in draft
    assert default_authority("31", "上海市", "Shanghai") == "上海市教育委员会"
    assert default_authority("66", "新疆生产建设兵团", "XPCC", "zh") == "新疆生产建设兵团教育局"
    named = _Result("44", {"authority": {"zh": "广东省教育厅（<审定>）", "en": "GD Education"}})
    assert issuing_authority(named, "en") == "GD Education"
    assert "&lt;审定&gt;" in issue_block(named, "zh", final=True)  # escaped


def test_a_profile_may_name_its_authority():
    from evalkit.rubric import load_profile
    from evalkit.rubric.spec import Names, Profile

    prof = load_profile("44")
    assert prof.authority is None
    named = {"zh": "广东省教育厅", "en": "Department of Education of Guangdong"}
    data = prof.model_dump(mode="json") | {"authority": named}
    assert Profile.model_validate(data).authority == Names(**named)
