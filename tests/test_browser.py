"""Real browser checks of published pages: Debian's chromium driven by Playwright.

The browser is the session fixture ``browser`` of tests/conftest.py (skipped when chromium,
playwright or the CJK font is missing; under CI a failure).  Every chart is drawn (each plotly
div holds an ``svg.main-svg``), no request leaves the machine (every non-``file://`` request is
recorded and aborted), no script error, Chinese text renders with a CJK font, the register
search filters rows, hostile provider text shows as text and runs nothing.  Screenshots go to
tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
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
                ".every(d => d.querySelector('svg.main-svg'))",
                timeout=60_000,
            )
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
        text,
    )


def test_helper_page_escapes_hostile_text_and_draws(browser, tmp_path):
    """A page built from the report helpers with hostile text in a table, a chart and the register."""
    import pandas as pd
    from plotly.offline import get_plotlyjs

    from evalkit.publish import report as R
    from evalkit.publish.render import page

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    frame = pd.DataFrame({"app_name": ["学习乐园", HOSTILE], "total_score": [88.5, 61.0]})
    reg = pd.DataFrame(
        {
            "app_id": ["X1", "X2", "X3"],
            "app_name": ["数学天天练", HOSTILE, "英语角"],
            "provider": ["</script><b>bold</b>", "乙", "丙"],
            "status": ["推荐", "未入选", "未申报"],
        }
    )
    body = (
        R.heading("测试页面 " + HOSTILE, 1)
        + R.table(frame, "t1")
        + R.bar(frame["app_name"], frame["total_score"], "hostile-bar", title=HOSTILE)
        + R.heading("公开查询", 2, anchor="reg")
        + R.register(reg, "reg")
    )
    path = tmp_path / "page.html"
    path.write_text(page(body, title="测试", lang="zh", plotly_src="assets/plotly.min.js"), encoding="utf-8")
    p = Page(browser, path)
    try:
        assert p.wait_for_charts() == 1
        _check_clean(p)
        assert p.page.locator("img").count() == 0  # the planted <img> is text, not an element
        assert p.page.locator("#t1 tbody tr").nth(1).inner_text().startswith("<script>window.__pwned=1")
        assert HOSTILE in p.page.locator("h1").inner_text()
        assert p.page.locator("#reg tbody tr.ek-placeholder").count() == 1  # rows come on first use
        p.page.focus("input[data-table=reg]")
        p.page.wait_for_selector("#reg[data-state=ready]")
        assert p.page.locator("#reg tbody tr").count() == 3
        assert "</script><b>bold</b>" in p.page.locator("#reg").inner_text()
        p.page.fill("input[data-table=reg]", "英语")
        assert p.page.locator("#reg tbody tr").count() == 1
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
        assert p.page.evaluate("() => window.__ekData === undefined")  # not loaded at first
        p.page.focus("input[data-table=register]")
        p.page.wait_for_selector("#register[data-state=ready]")
        assert p.page.locator("#register-count").inner_text() == str(len(apps))  # every filed app
        for needle in (planted.HOSTILE["script"], planted.HOSTILE["close_script"]):
            p.page.fill("input[data-table=register]", needle)
            assert 1 <= int(p.page.locator("#register-count").inner_text()) < len(apps)
            assert needle in p.page.locator("#register").inner_text()
        assert p.page.locator("#register img, #register svg, #register iframe").count() == 0
        needle = planted.HOSTILE["svg"]  # planted into one app name (and provider names)
        p.page.fill("input[data-table=register]", needle)
        shown = p.page.locator("#register tbody tr")
        assert 1 <= shown.count() < len(apps)
        assert all(needle in shown.nth(i).inner_text() for i in range(shown.count()))
        _check_clean(p)
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
    return [folder / "index.html", *sorted(folder.glob("*/recommendation.html")), *sorted(folder.glob("*/credit.html"))]


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
    assert (folder / "register.js").is_file()
    p = Page(browser, folder / "index.html")
    try:
        assert p.page.evaluate("() => window.__ekData === undefined")
        assert p.page.locator("#register tbody tr.ek-placeholder").count() == 1
        p.page.focus("input[data-table=register]")
        p.page.wait_for_selector("#register[data-state=ready]")
        total = int(p.page.locator("#register-count").inner_text())
        rows = p.page.locator("#register tbody tr")
        assert total >= 3 and rows.count() == min(total, 50)  # one page of 50
        first_name = rows.first.locator("td").nth(1).inner_text()
        p.page.fill("input[data-table=register]", first_name)
        shown = int(p.page.locator("#register-count").inner_text())
        assert 1 <= shown < total and rows.count() == min(shown, 50)
        assert all(first_name in rows.nth(i).inner_text() for i in range(rows.count()))
        p.page.fill("input[data-table=register]", "")
        assert int(p.page.locator("#register-count").inner_text()) == total
        _check_clean(p)
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
                    th => [th.textContent.trim(), th.getBoundingClientRect().width])"""
            )
            by_name = dict(widths)
            assert by_name["提供者"] >= 150 and by_name["应用名称"] >= 100, widths
            wrap = p.page.evaluate(
                "() => getComputedStyle(document.querySelector('#not-listed').parentElement).overflowX"
            )
            assert wrap == "auto"
        finally:
            p.close()


def _pages_text(p: Page, table: str) -> str:
    return p.page.locator(f"#{table}-page").inner_text()


def test_paged_table_and_lazy_register(browser, tmp_path):
    """A national-size table is paged from compact JSON: the first page is HTML, search finds an
    excluded app that sits on page 3, sorting covers every row, hostile text in the JSON cannot
    end its script; the register loads from register.js only when its search box is used."""
    import pandas as pd
    from plotly.offline import get_plotlyjs

    from evalkit.publish import report as R
    from evalkit.publish.render import page

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    n = 130
    ids = pd.Series(range(n)).map("A{:04d}".format)
    hidden = 121  # on page 3 of 50-row pages
    names = ("应用" + pd.Series(range(n)).astype(str)).where(
        pd.Series(range(n)) != hidden, "隐藏应用</script><script>window.__pwned=3</script>"
    )
    reasons = pd.Series(["低于入选分数线", "否决项：思想性；评估结果已过有效期", "低于入选分数线；未按期申报"] * 44)[:n]
    frame = pd.DataFrame(
        {
            "app_id": ids,
            "app_name": names,
            "provider_name": "某某教育科技有限公司",
            "status": pd.Series(["未入选", "排除"] * 65),
            "total_score": pd.Series(range(n), dtype=float) / 2,
            "reasons": reasons,
        }
    )
    reg = pd.DataFrame(
        {
            "app_id": pd.Series(range(2000)).map("R{:05d}".format),
            "app_name": "备案应用",
            "provider": "乙公司",
            "status": "未申报",
        }
    )
    reg.loc[1777, "app_name"] = '寻找我</script><img src=x onerror="window.__pwned=4">'
    body = (
        R.bar(["甲", "乙"], [1.0, 2.0], "b")
        + R.paged_table(frame, "nl", lists={"reasons": "；"})
        + R.register(reg, "reg", script_dir=tmp_path)
    )
    html_text = page(body, title="分页", lang="zh", plotly_src="assets/plotly.min.js")
    assert "</script><script>window.__pwned" not in html_text  # escaped JSON, not a new script
    assert html_text.count("低于入选分数线") <= 50 + 2  # page 1 as HTML; the JSON says it once
    js = (tmp_path / "register.js").read_text(encoding="utf-8")
    assert js.startswith("window.__ekData=") and "</script>" not in js and "\\u003c/script" in js
    path = tmp_path / "paged.html"
    path.write_text(html_text, encoding="utf-8")
    p = Page(browser, path)
    try:
        assert p.wait_for_charts() == 1
        scripts = p.page.evaluate("() => Array.from(document.scripts).map(s => [s.type, s.textContent])")
        assert len(scripts) == 5, scripts  # plotly.js, its zh-CN locale, the chart, the table's JSON, report.js
        assert [t for t, text in scripts if "__pwned" in text] == ["application/json"]
        assert p.page.locator("#nl tbody tr").count() == 50
        assert p.page.locator("#nl-count").inner_text() == str(n) and _pages_text(p, "nl") == "1 / 3"
        assert "隐藏应用" not in p.page.locator("#nl").inner_text()
        assert p.page.evaluate("() => window.__ekData === undefined")  # register not loaded
        # search over every row finds the excluded app of page 3, as text
        p.page.fill("input[data-table=nl]", "隐藏应用")
        p.page.wait_for_selector("#nl[data-state=ready]")
        rows = p.page.locator("#nl tbody tr")
        assert rows.count() == 1 and p.page.locator("#nl-count").inner_text() == "1"
        cells = rows.first.locator("td")
        assert cells.nth(1).inner_text() == names[hidden] and cells.nth(3).inner_text() == "排除"
        assert cells.nth(5).inner_text() == reasons[hidden]  # reasons rebuilt from the lookup table
        p.page.fill("input[data-table=nl]", "")
        assert p.page.locator("#nl-count").inner_text() == str(n)
        # the pager reaches it too
        p.page.click(".ek-pager[data-table=nl] button[data-step='1']")
        p.page.click(".ek-pager[data-table=nl] button[data-step='1']")
        assert _pages_text(p, "nl") == "3 / 3"
        assert p.page.locator(".ek-pager[data-table=nl] button[data-step='1']").is_disabled()
        assert names[hidden] in p.page.locator("#nl").inner_text()
        # sorting covers all rows: descending score puts the last row first
        p.page.click("#nl thead th:nth-child(5)")
        p.page.click("#nl thead th:nth-child(5)")
        assert _pages_text(p, "nl") == "1 / 3"
        assert rows.first.locator("td").first.inner_text() == ids[n - 1]
        # the register: loaded on first focus, then searched offline
        p.page.focus("input[data-table=reg]")
        p.page.wait_for_selector("#reg[data-state=ready]")
        assert p.page.locator("#reg-count").inner_text() == "2000"
        p.page.fill("input[data-table=reg]", "寻找我")
        assert p.page.locator("#reg tbody tr").count() == 1
        assert p.page.locator("#reg tbody tr td").nth(1).inner_text() == reg.loc[1777, "app_name"]
        assert p.page.locator("#reg img").count() == 0
        _check_clean(p)
        p.screenshot("paged-table.png")
    finally:
        p.close()


def test_published_paged_table_finds_an_excluded_app(browser, published_sample):
    """On a real recommendation page, the search of the not-listed table finds an excluded app
    (searching every row of the embedded JSON, wherever its page)."""
    import pandas as pd

    folder, result, _ = published_sample
    found = 0
    for o in result.outcomes:
        dec = pd.read_csv(folder / o.code / "decisions.csv", encoding="utf-8-sig", dtype=str)
        excluded = dec[dec["status"] == "excluded"]
        if excluded.empty:
            continue
        app_id = excluded["app_id"].iloc[-1]
        p = Page(browser, folder / o.code / "recommendation.html")
        try:
            p.page.fill("input[data-table=not-listed]", app_id)
            p.page.wait_for_selector("#not-listed[data-state=ready]")
            rows = p.page.locator("#not-listed tbody tr")
            assert rows.count() >= 1
            assert rows.first.locator("td").first.inner_text() == app_id
            assert rows.first.locator("td").nth(3).inner_text() == "排除"
            _check_clean(p)
            found += 1
        finally:
            p.close()
    assert found >= 1
