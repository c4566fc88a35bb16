"""Injection and safe configuration (issue 8, parts 2 and 4).

Part 2: hostile text planted in every free-text field of a copy of the sample (provider and
app names, descriptions, waiver reasons and approvers, expert and assessor names, batches,
complaint text; see tests/hostile/planted.py) is carried through one real publish and must come
out escaped in HTML (checked structurally and in a real browser: nothing runs, the text shows
as text), neutralised in CSV and XLSX (no live formula, no formula element in the XML) and
intact, valid JSON.

Part 4: rubric, profile and report-configuration YAML are loaded safely: python/object tags
refused, oversized or deeply nested files and alias bombs rejected with a clear error naming the
file; province codes, dates and output names cannot escape the output folder.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hostile import planted
from typer.testing import CliRunner

from evalkit.data import exports
from evalkit.errors import EvalkitError, PublishError, RubricError

ROOT = Path(__file__).resolve().parent.parent
FORMULA_START = re.compile(r"^[\t\r]|^\s*[=+\-@]")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _published(tmp_path_factory):
    folder, result = planted.planted_publish(tmp_path_factory)
    assert result.ok, (result.failed, [o.error for o in result.outcomes if not o.ok], result.index_error)
    return folder


# ----------------------------------------------------------------------------------------
# HTML: structural check


class _Collector(HTMLParser):
    """Records every element with its attributes and the text of every script element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def html_dangers(text: str) -> list[str]:
    """Every way a planted payload could run: each is a finding."""
    p = _Collector()
    p.feed(text)
    bad = []
    for tag, attrs in p.elements:
        for k, v in attrs.items():
            if k.startswith("on") and "__pwned" in v:
                bad.append(f"<{tag} {k}={v!r}>")
            if k in ("src", "href", "action", "formaction") and v.strip().lower().startswith("javascript:"):
                bad.append(f"<{tag} {k}={v!r}>")
        if tag in ("img", "svg", "iframe") and ("__pwned" in " ".join(attrs.values()) or attrs.get("src") == "x"):
            bad.append(f"<{tag} {attrs}>")
        if tag == "style":
            bad.append("<style> element from data")  # reports put their CSS in one known block
    for body in p.scripts:
        if body.strip().startswith("window.__pwned"):
            bad.append(f"<script>{body[:60]}</script>")
    return bad


def test_html_checker_catches_unescaped_payloads() -> None:
    """The structural check fails on raw payloads (so a pass means something)."""
    for key in ("script", "close_script", "img", "svg", "iframe"):
        assert html_dangers(f"<td>{planted.HOSTILE[key]}</td>"), key
    assert html_dangers(f'<td title="{planted.HOSTILE["attr"]}">x</td>')
    from html import escape

    for value in planted.HOSTILE.values():
        assert html_dangers(f"<td>{escape(value)}</td>") == []


@pytest.mark.slow
def test_published_html_escapes_every_payload(tmp_path_factory) -> None:
    folder = _published(tmp_path_factory)
    pages = sorted(folder.rglob("*.html"))  # the app viewers (issue 15) and sanction notices (issue 17) too
    # index; recommendation, credit, schools per province
    reports = [p for p in pages if p.name != "apps.html" and p.parent.name != "sanction_notices"]
    assert len(reports) == 1 + 3 * len(planted.PROVINCES)
    assert len([p for p in pages if p.name == "apps.html"]) == len(planted.PROVINCES)
    assert any(p.parent.name == "sanction_notices" for p in pages)
    data = sorted(folder.glob("*/apps/*.js"))  # the apps' details: JSON escaped for a script
    assert data and not [str(p) for p in data if "<" in p.read_text(encoding="utf-8")]
    findings = {}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        # style elements: only the report's own stylesheet blocks (none may hold planted text)
        bad = [b for b in html_dangers(text) if not b.startswith("<style>")]
        styles = re.findall(r"<style[^>]*>(.*?)</style>", text, flags=re.S | re.I)
        bad += ["planted <style>" for s in styles if "display:none}" in s.replace(" ", "") and "body{" in s]
        if bad:
            findings[str(page.relative_to(folder))] = bad[:5]
    assert findings == {}


@pytest.mark.slow
def test_hostile_names_are_shown_as_text_in_the_province_report(tmp_path_factory) -> None:
    """The payload is carried through (not silently dropped) and appears as visible text."""
    folder = _published(tmp_path_factory)
    text = (folder / "11" / "recommendation.html").read_text(encoding="utf-8")
    p = _Collector()
    p.feed(text)
    visible = "".join(p.text)
    shown = [k for k in ("script", "img", "svg") if planted.HOSTILE[k] in visible]
    assert shown, "no planted app name is visible as text in 11/recommendation.html"


@pytest.mark.slow
@pytest.mark.browser
def test_nothing_runs_in_a_real_browser(browser, tmp_path_factory) -> None:
    from evalkit.publish.app_pages import app_href

    folder = _published(tmp_path_factory)
    results, dialogs = {}, []
    urls = [(str(p.relative_to(folder)), p.resolve().as_uri()) for p in sorted(folder.rglob("*.html"))]
    for code in planted.PROVINCES:  # every app's details in its province's viewer
        rows = csv.DictReader(io.StringIO((folder / code / "decisions.csv").read_text(encoding="utf-8-sig")))
        urls += [(f"{code}/{app_href(r['app_id'])}", (folder / code).resolve().as_uri() + "/" + app_href(r["app_id"]))
                 for r in rows]
    for rel, url in urls:
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
            page.goto(url, wait_until="load")
            if "#app=" in url:
                page.wait_for_selector("#ek-app[data-state=ready]", state="attached")
            page.wait_for_timeout(300)  # let chart scripts finish (not a test time limit)
            pwned = page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)")
            body = page.evaluate("() => document.body ? document.body.innerText : ''")
            hidden = page.evaluate("() => getComputedStyle(document.body).display")
            results[rel] = (pwned, hidden, body)
        finally:
            ctx.close()
    assert {k: v[0] for k, v in results.items() if v[0] is not None} == {}
    assert {k: v[1] for k, v in results.items() if v[1] == "none"} == {}
    assert dialogs == []
    body = results["11/recommendation.html"][2]
    assert any(planted.HOSTILE[k] in body for k in ("script", "img", "svg")), "payload not shown as text"
    details = [v[2] for k, v in results.items() if "#app=" in k]
    assert details and any(planted.HOSTILE[k] in b for b in details for k in ("script", "img", "svg"))


@pytest.mark.browser
def test_chart_labels_show_quotes_as_typed_and_run_nothing_in_a_real_browser(browser, tmp_path) -> None:
    """A name with quotes, a script, a tag and entities in the robustness charts of a report
    (``fig-rank-intervals``, ``fig-p-listed``), drawn by the plotly.js a publish ships: every
    label reads exactly as typed (a quote, not ``&quot;``), nothing runs, no element is made."""
    import pandas as pd

    from evalkit import resources
    from evalkit.publish import report as R
    from evalkit.publish.render import page as page_html

    name = '=HYPERLINK("http://x","y")<script>window.__pwned=1</script><b>b</b> &amp; &quot;'
    near = pd.DataFrame({"app_name": [name, "学习乐园"], "rank": [1.0, 2.0], "rank_lo": [1.0, 1.0],
                         "rank_hi": [2.0, 3.0], "p_listed": [0.9, 0.4]})
    body = (R.scatter_interval(near, "app_name", "rank", "rank_lo", "rank_hi", "rank-intervals", title=name,
                               lang="en")
            + R.bar(near["app_name"], near["p_listed"], "p-listed", horizontal=True, lang="en"))
    shutil.copy(resources.assets_dir() / "plotly-basic.min.js", tmp_path / "plotly.min.js")
    path = tmp_path / "charts.html"
    path.write_text(page_html(body, title="charts", lang="en", plotly_src="plotly.min.js"), encoding="utf-8")
    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
        pg.goto(path.resolve().as_uri(), wait_until="load")
        pg.wait_for_function("() => Array.from(document.querySelectorAll('div.plotly-graph-div'))"
                             ".every(d => d.querySelector('svg.main-svg'))", timeout=60_000)
        for fig in ("fig-rank-intervals", "fig-p-listed"):
            ticks = pg.evaluate("(id) => Array.from(document.querySelectorAll(`#${id} .ytick text`))"
                                ".map(t => t.textContent)", fig)
            assert name in ticks, (fig, ticks)
        assert pg.evaluate("() => document.querySelector('#fig-rank-intervals .gtitle').textContent") == name
        made = pg.evaluate("() => document.querySelectorAll('.plotly-graph-div script, .plotly-graph-div b, "
                           ".plotly-graph-div svg a').length")
        assert made == 0 and errors == []
        assert pg.evaluate("() => window.__pwned === undefined")
    finally:
        ctx.close()


# ----------------------------------------------------------------------------------------
# CSV, XLSX, JSON


def _cells_csv(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]


def _live_formula(cell: str) -> bool:
    return bool(FORMULA_START.match(cell)) and not PLAIN_NUMBER.match(cell)


@pytest.mark.slow
def test_csv_exports_have_no_live_formula(tmp_path_factory) -> None:
    folder = _published(tmp_path_factory)
    files = sorted(folder.rglob("*.csv"))
    assert files
    live = {str(f.relative_to(folder)): [c for c in _cells_csv(f) if _live_formula(c)][:3] for f in files}
    assert {k: v for k, v in live.items() if v} == {}
    decisions = _cells_csv(folder / "11" / "decisions.csv")
    # carried through and neutralised, not dropped
    assert any(c.startswith("'=HYPERLINK(") or c.startswith("'+cmd|") for c in decisions) or any(
        planted.HOSTILE["script"] in c for c in decisions)


@pytest.mark.slow
def test_xlsx_exports_have_no_formula_and_no_external_links(tmp_path_factory) -> None:
    from openpyxl import load_workbook

    folder = _published(tmp_path_factory)
    books = sorted(folder.rglob("*.xlsx"))
    assert len(books) == len(planted.PROVINCES)
    for book in books:
        with zipfile.ZipFile(book) as zf:
            names = zf.namelist()
            assert not [n for n in names if "externalLink" in n or n.endswith(".bin")], names
            for n in names:
                body = zf.read(n).decode("utf-8", errors="replace")
                assert not re.search(r"<(\w+:)?f[ >]", body), f"{book.name}!{n} holds a formula element"
                assert "TargetMode=\"External\"" not in body, f"{book.name}!{n} links outside"
        wb = load_workbook(book)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not _live_formula(cell.value), (book.name, cell.coordinate, cell.value)


def test_exports_neutralise_every_planted_payload(tmp_path: Path) -> None:
    """Unit level: each hostile string through each writer (no publish needed)."""
    import pandas as pd
    from openpyxl import load_workbook

    values = list(planted.HOSTILE.values())
    frame = pd.DataFrame({"app_id": [f"A{i:02d}" for i in range(len(values))], "app_name": values})
    exports.write_csv(frame, tmp_path / "x.csv")
    exports.write_xlsx(frame, tmp_path / "x.xlsx")
    exports.write_json({"apps": frame}, tmp_path / "x.json")
    csv_cells = _cells_csv(tmp_path / "x.csv")
    assert not [c for c in csv_cells if _live_formula(c)]
    for v in values:  # every value is still there, as text (neutralised where needed)
        assert v in csv_cells or ("'" + v) in csv_cells, v
    ws = load_workbook(tmp_path / "x.xlsx").active
    xl = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert not [c for c in xl if isinstance(c, str) and _live_formula(c)]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    back = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert [r["app_name"] for r in back["apps"]] == [
        v for _, v in sorted(zip(frame["app_id"], values, strict=False))]


@pytest.mark.slow
def test_json_exports_are_valid_and_carry_text_exactly(tmp_path_factory) -> None:
    folder = _published(tmp_path_factory)
    data, info = planted.planted_data(tmp_path_factory)
    import pandas as pd

    names = pd.read_csv(data / "apps.csv", dtype=str, keep_default_na=False).set_index("app_id")["name"]
    seen = 0
    for f in sorted(folder.rglob("*.json")):
        doc = json.loads(f.read_text(encoding="utf-8"))  # valid JSON, no NaN
        if f.name == "recommended_list.json":
            for app in doc["apps"]:
                if app["app_id"] in info["apps"]:
                    assert app["app_name"] == names[app["app_id"]]
                    seen += 1
    raw = (folder / "11" / "recommended_list.json").read_text(encoding="utf-8")
    assert "NaN" not in raw and "Infinity" not in raw


# ----------------------------------------------------------------------------------------
# Part 4: safe configuration


def _rubric_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "rubrics"
    shutil.copytree(ROOT / "rubrics", dst)
    return dst


def _problems_text(exc: EvalkitError) -> str:
    return "\n".join(str(p) for p in getattr(exc, "problems", [])) or str(exc)


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.check_output [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/module:os",
])
def test_python_tags_are_refused_in_rubric_and_profile(tmp_path: Path, tag: str) -> None:
    from evalkit import rubric as R

    marker = tmp_path / "ran"
    root = _rubric_copy(tmp_path)
    v1 = root / "v1" / "security.yaml"
    v1.write_text(v1.read_text(encoding="utf-8") + f"\nevil: {tag.format(marker=marker)}\n", encoding="utf-8")
    with pytest.raises(RubricError) as err:
        R.load_rubric(root / "v1")
    assert "security.yaml" in _problems_text(err.value)
    prof = root / "profiles" / "44.yaml"
    prof.write_text(prof.read_text(encoding="utf-8") + f"\nevil: {tag.format(marker=marker)}\n", encoding="utf-8")
    with pytest.raises(RubricError) as err:
        R.load_profile("44", root, rubric=R.load_rubric())
    assert "44.yaml" in _problems_text(err.value)
    assert not marker.exists(), "a YAML tag ran code"


def test_alias_bomb_is_rejected_without_expanding(tmp_path: Path) -> None:
    from evalkit import rubric as R

    root = _rubric_copy(tmp_path)
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):  # 10**12 nodes if expanded
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    prof = root / "profiles" / "31.yaml"
    prof.write_text(prof.read_text(encoding="utf-8") + "\nbomb:\n" + "".join(f"  {x}\n" for x in lines),
                    encoding="utf-8")
    with pytest.raises(RubricError) as err:
        R.load_profile("31", root, rubric=R.load_rubric())
    text = _problems_text(err.value)
    assert "31.yaml" in text and re.search(r"alias|expands|nodes", text, re.I), text


def test_deep_nesting_and_oversized_files_are_rejected(tmp_path: Path) -> None:
    from evalkit import rubric as R
    from evalkit.rubric.loader import MAX_BYTES

    root = _rubric_copy(tmp_path)
    prof = root / "profiles" / "31.yaml"
    original = prof.read_text(encoding="utf-8")
    prof.write_text(original + "\ndeep: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(RubricError) as err:
        R.load_profile("31", root, rubric=R.load_rubric())
    assert "31.yaml" in _problems_text(err.value) and re.search(r"nest", _problems_text(err.value), re.I)
    prof.write_text(original + "\n# " + "x" * (MAX_BYTES + 10) + "\n", encoding="utf-8")
    with pytest.raises(RubricError) as err:
        R.load_profile("31", root, rubric=R.load_rubric())
    assert "31.yaml" in _problems_text(err.value) and "larger than" in _problems_text(err.value)


@pytest.mark.parametrize("code", ["../../etc/passwd", "/etc/passwd", "..", "44/../../x", "４４", "44\x00"])
def test_profile_codes_cannot_reach_other_files(code: str) -> None:
    from evalkit import rubric as R

    with pytest.raises((RubricError, ValueError, KeyError)):
        R.load_profile(code)


def test_reports_config_is_loaded_safely(tmp_path: Path) -> None:
    from evalkit import publish as pub

    marker = tmp_path / "ran"
    cfg = tmp_path / "reports.yaml"
    cfg.write_text(f"version: 1\nprovince: !!python/object/apply:os.system ['touch {marker}']\n",
                   encoding="utf-8")
    with pytest.raises(PublishError):
        pub.load_reports_config(cfg)
    assert not marker.exists()


@pytest.mark.parametrize("html_name", ["../../escaped-{code}.html", "/tmp/escaped-{code}.html",
                                       "{code}/../../escaped.html"])
def test_reports_config_output_names_cannot_escape_the_output_folder(tmp_path: Path, html_name: str) -> None:
    """Output names in reports.yaml are relative to reports/<as_of>/ and must stay inside it."""
    from evalkit import publish as pub

    nb = tmp_path / "p.ipynb"
    shutil.copy(ROOT / "notebooks" / "recommendation.ipynb", nb)
    cfg = tmp_path / "reports.yaml"
    cfg.write_text(
        "version: 1\nprovince:\n  - name: p\n    notebook: p.ipynb\n"
        f"    html: \"{html_name}\"\n    ipynb: \"{{code}}/p.ipynb\"\nnational: []\n",
        encoding="utf-8",
    )
    with pytest.raises(PublishError, match="html"):
        pub.load_reports_config(cfg)


@pytest.mark.parametrize("province", ["../../etc", "/etc", "11/../..", "..", "1", "011"])
def test_cli_run_province_cannot_escape(tmp_path: Path, province: str) -> None:
    from evalkit.cli import app

    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", "--province", province, "--as-of", planted.AS_OF,
                                   "--out", str(out)])
    assert res.exit_code != 0
    assert "--province" in res.output
    assert not out.exists() or not any(out.rglob("*"))


@pytest.mark.parametrize("args", [
    ["--provinces", "../../etc"], ["--provinces", "11,/etc"], ["--as-of", "../../etc"],
    ["--as-of", "2026-09-01/../../x"], ["--lang", "../zh"],
])
def test_cli_publish_names_cannot_escape(tmp_path: Path, args: list[str]) -> None:
    from evalkit.cli import app

    out = tmp_path / "out"
    base = {"--provinces": "11", "--as-of": planted.AS_OF, "--lang": "zh"}
    base.update(dict(zip(args[::2], args[1::2], strict=False)))
    argv = ["publish", "--out", str(out), "--quiet"] + [x for kv in base.items() for x in kv]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 1, res.output
    assert re.search(r"provinces|as_of|lang", res.output), res.output
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name != ".lock"]
    assert not (tmp_path.parent / "etc").exists()


@pytest.mark.slow
def test_every_published_path_stays_inside_the_output_folder(tmp_path_factory) -> None:
    folder = _published(tmp_path_factory)
    root = folder.resolve()
    for p in folder.rglob("*"):
        assert not p.is_symlink(), p
        assert root in p.resolve().parents, p
    names = {p.name for p in folder.parent.iterdir()}
    assert names <= {planted.AS_OF, ".lock", "register.sqlite"}, names
