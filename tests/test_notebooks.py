"""The report notebooks: parameters (papermill inspection), execution, content of the output.

Executes the real notebooks (through the session's published sample set and one reused
kernel) and asserts content in the cells instead of comparing volatile outputs; nbval can
additionally be run on the notebooks with ``pytest --nbval-lax notebooks/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from evalkit import render
from evalkit.publish import NOTEBOOKS, load_reports_config

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
FIVE = ["province", "as_of", "data_dir", "out_dir", "lang"]


def test_four_notebooks_exist():
    assert [p.name for p in ALL] == ["credit.ipynb", "explorer.ipynb", "national.ipynb",
                                     "recommendation.ipynb"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_notebook_declares_exactly_the_five_parameters(path):
    from papermill import inspect_notebook

    params = inspect_notebook(str(path))
    assert list(params) == FIVE
    for name, p in params.items():
        assert p["inferred_type_name"] == "str", name
        assert p["help"].strip(), f"{name} has no comment"
    nb = json.loads(path.read_text(encoding="utf-8"))
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1


@pytest.mark.parametrize("path", [p for p in ALL if p.stem != "explorer"], ids=lambda p: p.stem)
def test_report_notebooks_stay_light(path):
    """Report kernels must not import sklearn (or anything heavy) themselves; no outputs stored."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "sklearn" not in code
    assert all(c.get("outputs", []) == [] for c in nb["cells"] if c["cell_type"] == "code")


def test_unknown_or_missing_parameters_are_errors():
    path = NOTEBOOKS / "recommendation.ipynb"
    good = dict(province="11", as_of="2026-09-01", data_dir="d", out_dir="o", lang="zh")
    assert list(render.check_parameters(path, good)) == FIVE
    with pytest.raises(render.RenderError, match=r"unknown parameter\(s\) \['colour'\]"):
        render.check_parameters(path, {**good, "colour": "red"})
    with pytest.raises(render.RenderError, match=r"missing parameter\(s\) \['lang'\]"):
        render.check_parameters(path, {k: v for k, v in good.items() if k != "lang"})


def test_reports_config_covers_the_published_notebooks():
    cfg = load_reports_config()
    assert [Path(e["notebook"]).name for e in cfg["province"]] == ["recommendation.ipynb", "credit.ipynb"]
    assert [e["html"] for e in cfg["national"]] == ["index.html"]
    assert len(cfg["province"][0]["provinces"]) == 32


def test_strip_volatile_renumbers_and_drops_timings():
    import nbformat

    nb = nbformat.v4.new_notebook()
    a, b = nbformat.v4.new_code_cell("1"), nbformat.v4.new_code_cell("2")
    a.execution_count, b.execution_count = 41, 42
    a.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}
    b.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=42)]
    nb.cells = [a, b]
    nb.metadata["papermill"] = {"duration": 1.5}
    out = render.strip_volatile(nb)
    assert [c.execution_count for c in out.cells] == [1, 2]
    assert out.cells[1].outputs[0]["execution_count"] == 2
    assert "execution" not in out.cells[0].metadata and "papermill" not in out.metadata


def _text(html_text: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", html_text))


def _unneutralise(name: str) -> str:
    """CSV exports prefix formula-like text with an apostrophe; the page shows the raw text."""
    return name[1:] if len(name) > 1 and name[0] == "'" and name[1] in "=+-@\t\r" else name


def test_published_recommendation_matches_decisions(published_sample):
    folder, result, _ = published_sample
    assert result.ok, [o.error for o in result.outcomes if not o.ok] + [result.index_error]
    for o in result.outcomes:
        code = o.code
        dec = pd.read_csv(folder / code / "decisions.csv", encoding="utf-8-sig", dtype=str)
        page = (folder / code / "recommendation.html").read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
        assert "推荐目录报告" in page and "评价方法" in page and "未列入目录的应用及原因" in page
        # key figures are the counts of decisions.csv
        figures = re.findall(r'<div class="ek-value">([^<]*)</div><div class="ek-label">([^<]*)</div>', page)
        shown = {label: value for value, label in figures}
        assert shown["申报应用"] == str(len(dec))
        assert shown["推荐应用"] == str(int((dec["status"] == "recommended").sum()))
        assert shown["不予推荐（否决）"] == str(int((dec["status"] == "excluded").sum()))
        # every recommended app is in the list table, with no code cell in the page
        text = _text(page)
        for name in dec.loc[dec["status"] == "recommended", "app_name"]:
            assert _unneutralise(name) in text
        assert "R.show(" not in page and "import " not in _text(page)
        credit = (folder / code / "credit.html").read_text(encoding="utf-8")
        assert "信用等级分布" in credit and 'id="fig-grades"' in credit
        nb = json.loads((folder / code / "credit.ipynb").read_text(encoding="utf-8"))
        assert all("execution" not in c["metadata"] for c in nb["cells"])
        assert nb["cells"][2]["metadata"]["tags"] == ["injected-parameters"]


def test_published_index_lists_every_province(published_sample):
    folder, result, _ = published_sample
    page = (folder / "index.html").read_text(encoding="utf-8")
    for o in result.outcomes:
        assert f'href="{o.code}/recommendation.html"' in page
        assert f'href="{o.code}/credit.html"' in page
    assert 'id="register-data"' in page and 'id="fig-national"' in page


def test_english_report_and_stable_bytes(published_sample, tmp_path):
    """lang='en' gives an English page; rendering twice in a reused kernel gives the same bytes."""
    folder, result, data = published_sample
    code = result.outcomes[0].code
    params = dict(province=code, as_of=folder.name, data_dir=str(data), out_dir=str(tmp_path / code),
                  lang="en")
    with render.NotebookRenderer() as r:
        one = r.render(NOTEBOOKS / "recommendation.ipynb", params, plotly_src="x.js",
                       html_path=tmp_path / "a.html", ipynb_path=tmp_path / "a.ipynb")
        r.render(NOTEBOOKS / "recommendation.ipynb", params, plotly_src="x.js",
                       html_path=tmp_path / "b.html", ipynb_path=tmp_path / "b.ipynb")
    assert '<html lang="en">' in one.html
    assert "Recommended list" in one.html and "Method" in one.html
    assert "推荐目录" not in _text(one.html).split("Method")[1][:2000]
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert (tmp_path / "a.ipynb").read_bytes() == (tmp_path / "b.ipynb").read_bytes()


def test_explorer_executes(published_sample, tmp_path):
    folder, result, data = published_sample
    code = result.outcomes[0].code
    params = dict(province=code, as_of=folder.name, data_dir=str(data), out_dir=str(tmp_path), lang="zh")
    with render.NotebookRenderer() as r:
        out = r.render(NOTEBOOKS / "explorer.ipynb", params)
    mimes = [m for c in out.notebook.cells if c.cell_type == "code"
             for o in c.outputs for m in o.get("data", {})]
    assert "application/vnd.jupyter.widget-view+json" in mimes
    printed = "".join(o.get("text", "") for c in out.notebook.cells if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "stream")
    assert printed.startswith(code)
