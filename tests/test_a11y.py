"""Issue 15, accessibility basics: one walk over every page of the published sample (the index,
each province's recommendation and credit reports; zh and en) in real Chromium.

Every page: ``lang``; heading levels in order (an h1 first, never a skipped level); every table
header with ``scope``; every search box named; muted text at least 4.5:1 against what is behind
it (WCAG 2.1, 1.4.3); every chart with axis titles, its data as a table after it and a toolbar
that offers nothing sending data out, in the page's language. The register search works by
keyboard alone: Tab to it, type, Enter reaches the first result, Enter opens it.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.test_transparency import published_en_twice  # noqa: F401  (a fixture: province 11 in English)

CSS = Path(__file__).resolve().parents[1] / "evalkit" / "assets" / "report.css"
_CJK = re.compile(r"[\u4e00-\u9fff]")

_PAGE = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const behind = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const ratio = el => { const a = lum(rgb(getComputedStyle(el).color)), b = lum(behind(el));
                        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const muted = Array.from(document.querySelectorAll(
      '.ek-muted, .ek-note, .ek-count, .ek-pager, .ek-figure .ek-label, .ek-issue dt'))
    .filter(e => e.textContent.trim() && !e.closest('[disabled]'));
  return {
    lang: document.documentElement.lang,
    heads: Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6')).map(h => +h.tagName[1]),
    noscope: Array.from(document.querySelectorAll('th')).filter(th => !['col', 'row', 'colgroup', 'rowgroup']
                .includes(th.getAttribute('scope'))).map(th => th.textContent).slice(0, 5),
    unnamed: Array.from(document.querySelectorAll('input, select, textarea'))
      .filter(i => !i.getAttribute('aria-label') && !(i.id && document.querySelector('label[for="' + i.id + '"]'))
                   && !i.closest('label')).length,
    low: muted.map(e => [e.textContent.trim().slice(0, 30), ratio(e)]).filter(x => x[1] < 4.5),
    nmuted: muted.length,
    charts: Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => {
      const box = g.closest('div:not(.js-plotly-plot):not(.plotly-graph-div)') || g.parentElement;
      const next = box.nextElementSibling;
      const title = sel => (g.querySelector(sel) || {}).textContent || '';
      return {id: g.id, x: title('.xtitle'), y: title('.ytitle'),
              table: !!(next && next.matches('details.ek-chart-data') && next.querySelector('tbody tr'))};
    }),
    tools: Array.from(new Set(Array.from(document.querySelectorAll('.modebar-btn'))
                              .map(b => b.getAttribute('data-title')))),
  };
}"""


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours."""
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_contrast_formula_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic "just fails" grey


def test_muted_text_in_the_css_has_contrast():
    css = CSS.read_text(encoding="utf-8")
    muted = re.search(r"--ek-muted:\s*(#[0-9a-fA-F]{6})", css).group(1)
    backgrounds = {"#ffffff", *re.findall(r"background:\s*(#[0-9a-fA-F]{6})", css)}
    light = [bg for bg in backgrounds if _luminance(bg) > 0.7]  # every light background the CSS paints
    assert "#f3f5f7" in light
    for bg in light:
        assert contrast(muted, bg) >= 4.5, (muted, bg)


def _pages(folder: Path) -> list[Path]:
    codes = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    return [folder / "index.html"] + [folder / c / f"{r}.html" for c in codes for r in ("recommendation", "credit")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_published_page_meets_the_basics(browser, published_sample, published_en_twice, lang):  # noqa: F811
    folder = published_sample[0] if lang == "zh" else published_en_twice[0]
    pages = _pages(folder)
    assert len(pages) >= 3
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    charts = 0
    try:
        for path in pages:
            page.goto(path.as_uri())
            page.wait_for_timeout(100)
            r = page.evaluate(_PAGE)
            where = path.relative_to(folder)
            assert r["lang"] == ("zh-CN" if lang == "zh" else "en"), where
            assert r["heads"] and r["heads"][0] == 1, where
            assert all(b <= a + 1 for a, b in zip(r["heads"], r["heads"][1:], strict=False)), (where, r["heads"])
            assert r["noscope"] == [], where
            assert r["unnamed"] == 0, where
            assert r["nmuted"] > 0 and r["low"] == [], (where, r["low"])
            for c in r["charts"]:
                assert c["x"].strip() and c["y"].strip() and c["table"], (where, c)
            charts += len(r["charts"])
            if r["charts"]:
                assert r["tools"], where
                assert not any(re.search(r"chart studio|cloud|share", t, re.I) for t in r["tools"]), r["tools"]
                if lang == "zh":
                    assert all(_CJK.search(t) for t in r["tools"]), (where, r["tools"])
    finally:
        page.close()
    assert charts >= 4


def test_the_register_search_works_by_keyboard(browser, published_sample):
    folder = published_sample[0]
    dec = list(csv.DictReader(io.StringIO((folder / "11" / "decisions.csv").read_text(encoding="utf-8-sig"))))
    name = dec[0]["app_name"]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto((folder / "index.html").as_uri())
        for _ in range(80):  # Tab until the register's search box has the focus
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.matches('input.ek-search')"):
                break
        else:
            pytest.fail("Tab never reaches the register's search box")
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none")  # the focus is visible
        page.keyboard.type(name)
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.tagName === 'A'")
        assert name in page.evaluate("() => document.activeElement.textContent")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/apps\.html#app=[^/]+$"))
        page.wait_for_selector("#ek-app[data-state=ready]", state="attached")
        assert name in page.inner_text("h1")
    finally:
        page.close()
