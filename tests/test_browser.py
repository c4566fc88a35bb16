"""Real browser checks of published pages: Debian's chromium driven by Playwright.

The browser is the session fixture ``browser`` of tests/conftest.py (skipped when chromium,
playwright or the CJK font is missing; under CI a failure).  Every chart is drawn (each plotly
div holds an ``svg.main-svg``), no request leaves the machine (every non-``file://`` request is
recorded and aborted), no script error, Chinese text renders with a CJK font, the register
search filters rows, hostile provider text shows as text and runs nothing.  Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"
FAILING = "44"  # tests/hostile/boom.ipynb fails for this province only


class Page:
    """A page opened with outside requests blocked and every error recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.ctx.new_page()
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.errors.append(f"console: {msg.text}")

    def wait_for_charts(self) -> int:
        n = self.page.locator("div.plotly-graph-div").count()
        if n:
            self.page.wait_for_function(
                "() => Array.from(document.querySelectorAll('div.plotly-graph-div'))"
                ".every(d => d.querySelector('svg.main-svg'))", timeout=60_000)
        return n

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def close(self) -> None:
        self.ctx.close()


def _check_clean(p: Page) -> None:
    assert p.outside == [], f"requests left the machine: {p.outside}"
    assert p.errors == [], f"script errors: {p.errors}"
    assert p.page.evaluate("() => window.__pwned === undefined")


def _cjk_width(p: Page, text: str) -> float:
    return p.page.evaluate(
        """(text) => { const s = document.createElement('span'); s.textContent = text;
        s.style.fontFamily = '"Noto Sans CJK SC"'; s.style.fontSize = '20px';
        document.body.appendChild(s); const w = s.getBoundingClientRect().width; s.remove(); return w; }""",
        text)


def test_helper_page_escapes_hostile_text_and_draws(browser, tmp_path):
    """A page built from the report helpers with hostile text in a table, a chart and the register."""
    import pandas as pd
    from plotly.offline import get_plotlyjs

    from evalkit import report as R
    from evalkit.render import page

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    frame = pd.DataFrame({"app_name": ["学习乐园", HOSTILE], "total_score": [88.5, 61.0]})
    reg = pd.DataFrame({"app_id": ["X1", "X2", "X3"], "app_name": ["数学天天练", HOSTILE, "英语角"],
                        "provider": ["</script><b>bold</b>", "乙", "丙"], "status": ["推荐", "未入选", "未申报"]})
    body = (R.heading("测试页面 " + HOSTILE, 1) + R.table(frame, "t1")
            + R.bar(frame["app_name"], frame["total_score"], "hostile-bar", title=HOSTILE)
            + R.heading("公开查询", 2, anchor="reg") + R.register(reg, "reg"))
    path = tmp_path / "page.html"
    path.write_text(page(body, title="测试", lang="zh", plotly_src="assets/plotly.min.js"), encoding="utf-8")
    p = Page(browser, path)
    try:
        assert p.wait_for_charts() == 1
        _check_clean(p)
        assert p.page.locator("img").count() == 0  # the planted <img> is text, not an element
        assert p.page.locator("#t1 tbody tr").nth(1).inner_text().startswith("<script>window.__pwned=1")
        assert HOSTILE in p.page.locator("h1").inner_text()
        assert p.page.locator("#reg tbody tr").count() == 3
        assert "</script><b>bold</b>" in p.page.locator("#reg").inner_text()
        p.page.fill("input[data-table=reg]", "英语")
        assert p.page.locator("#reg tbody tr:not(.ek-hidden)").count() == 1
        assert p.page.locator("#reg-count").inner_text() == "1"
        # sorting: click the score header twice -> descending
        p.page.click("#t1 thead th:nth-child(2)")
        p.page.click("#t1 thead th:nth-child(2)")
        assert p.page.locator("#t1 tbody tr").first.inner_text().startswith("学习乐园")
        p.screenshot("helper-page.png")
    finally:
        p.close()


@pytest.mark.slow
def test_failing_index_register_search_and_failed_province(browser, failing_published, planted_data):
    """The real index of the hostile copy with province 44 failed: hostile names are text,
    the register search filters, the failure shows; a province page draws and uses CJK."""
    import pandas as pd
    from hostile import planted

    folder = failing_published.folder
    data, _ = planted_data
    apps = pd.read_csv(data / "apps.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    p = Page(browser, folder / "index.html")
    try:
        _check_clean(p)
        rows = p.page.locator("#register tbody tr")
        assert rows.count() == len(apps)  # every filed app, one row each
        register = p.page.locator("#register").inner_text()
        assert planted.HOSTILE["script"] in register and planted.HOSTILE["close_script"] in register
        assert p.page.locator("#register img, #register svg, #register iframe").count() == 0
        needle = planted.HOSTILE["svg"]  # planted into one app name (and provider names)
        p.page.fill("input[data-table=register]", needle)
        shown = p.page.locator("#register tbody tr:not(.ek-hidden)")
        assert 1 <= shown.count() < len(apps)
        assert all(needle in shown.nth(i).inner_text() for i in range(shown.count()))
        assert f"planted render failure for {FAILING}" in p.page.inner_text("body")
        p.screenshot("failing-index.png")
    finally:
        p.close()
    p = Page(browser, folder / "11" / "recommendation.html")
    try:
        assert p.wait_for_charts() >= 1
        _check_clean(p)
        assert _cjk_width(p, "省份推荐目录") > 60
    finally:
        p.close()


def _sample_pages(folder: Path) -> list[Path]:
    return [folder / "index.html", *sorted(folder.glob("*/recommendation.html")),
            *sorted(folder.glob("*/credit.html"))]


def test_sample_reports_render_offline(browser, published_sample):
    folder, result, _ = published_sample
    assert result.ok, (result.failed, [o.error for o in result.outcomes if not o.ok], result.index_error)
    pages = _sample_pages(folder)
    assert len(pages) == 1 + 2 * 3
    for path in pages:
        p = Page(browser, path)
        try:
            n = p.wait_for_charts()
            assert n >= 1, f"{path}: no chart"
            _check_clean(p)
            assert p.page.evaluate("() => document.documentElement.lang") == "zh-CN"
            assert p.page.evaluate("() => document.fonts.check('20px \"Noto Sans CJK SC\"', '推荐目录')")
            assert _cjk_width(p, "推荐目录") > 40
            p.screenshot(f"sample-{path.parent.name}-{path.stem}.png")
        finally:
            p.close()


def test_sample_register_search(browser, published_sample):
    folder, _, _ = published_sample
    p = Page(browser, folder / "index.html")
    try:
        rows = p.page.locator("#register tbody tr")
        total = rows.count()
        assert total >= 3
        first_name = rows.first.locator("td").nth(1).inner_text()
        p.page.fill("input[data-table=register]", first_name)
        shown = p.page.locator("#register tbody tr:not(.ek-hidden)").count()
        assert 1 <= shown < total
        p.page.fill("input[data-table=register]", "")
        assert p.page.locator("#register tbody tr:not(.ek-hidden)").count() == total
    finally:
        p.close()


def test_name_columns_are_not_squeezed(browser, published_sample):
    """Provider and app names keep a readable width; a wide table scrolls instead."""
    folder, result, _ = published_sample
    for o in result.outcomes:
        p = Page(browser, folder / o.code / "recommendation.html")
        try:
            widths = p.page.evaluate(
                """() => Array.from(document.querySelectorAll('#not-listed thead th')).map(
                    th => [th.textContent.trim(), th.getBoundingClientRect().width])""")
            by_name = dict(widths)
            assert by_name["提供者"] >= 150 and by_name["应用名称"] >= 100, widths
            wrap = p.page.evaluate(
                "() => getComputedStyle(document.querySelector('#not-listed').parentElement).overflowX")
            assert wrap == "auto"
        finally:
            p.close()
