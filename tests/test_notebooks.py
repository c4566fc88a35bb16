"""The report notebooks: what nbval cannot check.

nbval runs every notebook with its default parameters in a fresh kernel (``python -m pytest``
collects ``notebooks/`` in lax mode, see the project's conftest.py) and compares the summary
lines of the cells tagged ``nbval-check-output``.  Here: the parameters (papermill
inspection), the notebooks' structure, the published HTML content (words, not codes; key
figures equal to the exports), English output and stable bytes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from evalkit.publish import render
from evalkit.publish.config import NOTEBOOKS, load_reports_config

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
FIVE = ["province", "as_of", "data_dir", "out_dir", "lang"]


def test_five_notebooks_exist():
    assert [p.name for p in ALL] == ["credit.ipynb", "explorer.ipynb", "national.ipynb",
                                     "recommendation.ipynb", "schools.ipynb"]


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
    """Report kernels must not import sklearn (or anything heavy) themselves; the only stored
    outputs are the summary lines nbval compares."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "sklearn" not in code
    for c in nb["cells"]:
        if c["cell_type"] == "code" and "nbval-check-output" not in c["metadata"].get("tags", []):
            assert c.get("outputs", []) == []


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_nbval_checks_a_summary_line_of_every_notebook(path):
    """Each notebook has a cell nbval compares: one printed line of counts for the defaults
    (province 11, or the whole country, on data/sample at 2026-09-01), hidden from the page."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    checked = [c for c in nb["cells"] if "nbval-check-output" in c["metadata"].get("tags", [])]
    assert len(checked) == 1
    outputs = checked[0]["outputs"]
    assert [o["output_type"] for o in outputs] == ["stream"] and checked[0]["execution_count"]
    line = "".join(outputs[0]["text"]).strip()
    assert line.startswith(("11 ", "32 provinces")), line
    assert re.search(r"\d+ (candidates|providers|eligible apps|schools)", line), line
    if path.stem != "explorer":
        assert "remove_cell" in checked[0]["metadata"]["tags"]


def test_pyproject_collects_the_notebooks_with_nbval():
    import tomllib

    ROOT = Path(__file__).resolve().parent.parent
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert cfg["testpaths"] == ["tests", "notebooks"]
    assert "nbval_lax = True" in (ROOT / "conftest.py").read_text(encoding="utf-8")


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
    assert [Path(e["notebook"]).name for e in cfg["province"]] == ["recommendation.ipynb", "credit.ipynb",
                                                                    "schools.ipynb"]
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
        assert shown["未入选"] == str(int((dec["status"] == "not_recommended").sum()))
        assert shown["排除（否决项或不符合条件）"] == str(int((dec["status"] == "excluded").sum()))
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
    assert 'data-script="register.js"' in page and 'id="fig-national"' in page
    assert (folder / "register.js").is_file() and 'id="register-data"' not in page


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
    text = _text(one.html)
    assert "Excluded (veto or not eligible)" in text and "Not selected" in text
    assert "AHP (expert judgments)" in text and "排除" not in text and "未入选" not in text
    assert "推荐目录" not in _text(one.html).split("Method")[1][:2000]
    # the method's lists in English punctuation (they were joined by "；" in every language)
    sources = re.search(r'<th scope="row">Weights source</th><td>(.*?)</td>', one.html).group(1)
    assert "; " in sources and not set("；：、") & set(sources), sources
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert (tmp_path / "a.ipynb").read_bytes() == (tmp_path / "b.ipynb").read_bytes()


# words, not codes


STATUS_CODES = ("recommended", "not_recommended", "excluded")


def _cells(page: str, table_id: str) -> list[list[str]]:
    """The body cells of one table, unescaped text."""
    import html

    body = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', page, flags=re.DOTALL)
    assert body, table_id
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1).split("</thead>")[-1], flags=re.DOTALL)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.DOTALL)] for r in rows]


def test_published_pages_show_words_not_codes(published_sample):
    from evalkit.i18n import VOCABULARIES

    folder, result, _ = published_sample
    status_words = {v[0] for v in VOCABULARIES["status"].values()}
    for o in result.outcomes:
        rec = (folder / o.code / "recommendation.html").read_text(encoding="utf-8")
        text = _text(rec)
        assert "ahp+stated" not in text and "weighted_sum" not in text and "trimmed_mean" not in text
        assert "层次分析法（专家判断）" in text
        for code in ("junior", "primary", "home_school", "not_recommended", "opted_out"):
            assert not re.search(rf"\b{code}\b", text), (o.code, code)
        agreement = _cells(rec, "agreement")
        assert agreement and all(not re.match(r"^[CF]\d\d_", row[1]) for row in agreement)
        assert {row[-1][:3] for row in agreement} <= {"C03", "C04", "C05", "C10", "C12", "C13", "C14",
                                                      "F04", "F07", "F08", "F09", "F10"}
        assert "思想性" in text or "科学性" in text
        not_listed = _cells(rec, "not-listed")
        assert {row[3] for row in not_listed} <= status_words - {"推荐"}
        listed = _cells(rec, "recommended")
        assert all(re.fullmatch(r"[\u4e00-\u9fff、]+", row[5]) for row in listed if row[5])  # stages
        credit = (folder / o.code / "credit.html").read_text(encoding="utf-8")
        ctext = _text(credit)
        assert "province_code" not in ctext
        rows = _cells(credit, "credit")
        assert {row[4] for row in rows} <= {"白名单", "灰名单（负面清单）", "黑名单"}
        assert {row[3] for row in rows} <= {"A 级（守信）", "B 级（基本守信）", "C 级（失信）", "D 级（严重失信）"}
        stats = _cells(credit, "complaint-stats")
        assert {row[0] for row in stats} <= {"全部投诉", "投诉类别", "投诉渠道"}
        assert not {row[1] for row in stats} & {"fees", "forced_use", "privacy", "function", "other", "ads"}
        assert not re.search(r">(white|grey|black|rules|model|False|True)<", credit)
    index = (folder / "index.html").read_text(encoding="utf-8")
    for o in result.outcomes:
        assert (f'<a href="{o.code}/recommendation.html">推荐报告</a> · '
                f'<a href="{o.code}/credit.html">信用报告</a>') in index
    script = (folder / "register.js").read_text(encoding="utf-8")
    register = json.loads(
        re.fullmatch(
            r'window\.__ekData=window\.__ekData\|\|\{\};window\.__ekData\["register"\]=(.*);\n', script, flags=re.DOTALL
        ).group(1)
    )
    status = register["columns"][-1]  # the status column: looked up through a table of texts
    texts = status["dict"] if "dict" in status else status["values"]
    shown = {part.split("：")[1] for text in texts for part in text.split("；") if "：" in part}
    assert shown and shown <= status_words


def test_credit_priority_legend_describes_the_basis_used(published_sample):
    """The legend beside the inspection priorities gives the model's risk bands only when the
    model set them; with the rules (the sample's case) it gives the rules."""
    folder, result, _ = published_sample
    for o in result.outcomes:
        credit = (folder / o.code / "credit.html").read_text(encoding="utf-8")
        basis = re.search(r'<th scope="row">依据</th><td>(.*?)</td>', credit).group(1)
        legend = re.search(r'<p class="ek-note">(检查优先级[^<]*|本期预警模型未被采用[^<]*)</p>', credit).group(1)
        if basis == "预警模型":
            assert legend.startswith("检查优先级按预警模型估计的风险概率划分：A 低于 5%"), o.code
        else:
            assert basis == "规则" and "检查优先级按规则划分" in legend and "A 低于" not in legend, o.code


def test_name_columns_keep_a_minimum_width(published_sample):
    folder, result, _ = published_sample
    page = (folder / result.outcomes[0].code / "recommendation.html").read_text(encoding="utf-8")
    head = re.search(r'<table[^>]*id="not-listed".*?</thead>', page, flags=re.DOTALL).group(0)
    assert re.search(r'<th scope="col" style="min-width: 12em;">提供者</th>', head)
    assert re.search(r'<th scope="col" style="min-width: 8em;">应用名称</th>', head)


def test_cli_summary_uses_the_same_status_words():
    from evalkit.cli.run import RUN_TEXT
    from evalkit.i18n import word

    for lang in ("zh", "en"):
        for code in ("recommended", "not_recommended", "excluded"):
            assert word("status", code, lang) in RUN_TEXT[lang]
    assert "不予推荐" not in RUN_TEXT["zh"]


def test_notebook_on_its_own_computes_into_a_cache(tmp_path, monkeypatch, sample_data):
    """out_dir empty (papermill, JupyterLab, nbval): computed from data_dir, kept in the cache."""
    from evalkit.publish.cache import load_province

    data, as_of, _ = sample_data
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path))
    res = load_province("44", as_of, str(data), "")
    assert res.code == "44" and len(res.decisions)
    assert (tmp_path / as_of / "44" / "cache_key.txt").is_file()
    again = load_province("44", as_of, str(data), "")
    pd.testing.assert_frame_equal(again.decisions, res.decisions)


# ----------------------------------------------------------------------------------------
# light pages at national scale: compact JSON of paged tables, charts around the cut-off


def _decode(data: dict) -> list[list[str]]:
    """The decoding of assets/report.js, in Python."""
    cols = []
    for c in data["columns"]:
        if "offsets" in c:
            o = c["offsets"]
            cols.append([c["sep"].join(c["dict"][k] for k in c["codes"][o[i] : o[i + 1]]) for i in range(data["n"])])
        elif "dict" in c:
            cols.append([c["dict"][k] for k in c["codes"]])
        else:
            cols.append(list(c["values"]))
    return [list(r) for r in zip(*cols, strict=False)]


def test_compact_rows_round_trip_through_lookup_tables():
    from evalkit.publish import report as R

    n = 300
    reasons = pd.Series(["低于入选分数线", "否决项：思想性；评估结果已过有效期", "", "低于入选分数线；未按期申报"] * 75)
    frame = pd.DataFrame(
        {
            "app_id": [f"A{i:04d}" for i in range(n)],
            "status": ["未入选", "排除", "排除"] * 100,
            "reasons": reasons,
            "name": ["</script><b>x</b>\u2028"] + ["乙"] * (n - 1),
        }
    )
    data = R.compact_rows(frame, lists={"reasons": "；"})
    assert _decode(data) == frame.to_numpy().tolist()
    shuffled = frame.sample(frac=1.0, random_state=3)  # a sorted or filtered slice: any index
    assert _decode(R.compact_rows(shuffled, lists={"reasons": "；"})) == shuffled.to_numpy().tolist()
    ids, status, why, name = data["columns"]
    assert name["dict"] == ["</script><b>x</b>\u2028", "乙"]
    assert "values" in ids and status["dict"] == ["排除", "未入选"]
    assert sorted(why["dict"]) == sorted({"低于入选分数线", "否决项：思想性", "评估结果已过有效期", "未按期申报"})
    assert len(why["offsets"]) == n + 1 and why["offsets"][3] == why["offsets"][2]  # the empty reason
    text = R.json_for_script(data)
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == data
    with pytest.raises(ValueError, match="'lists' parameter of compact_rows"):
        R.compact_rows(frame, lists={"nope": ";"})
    assert R.reason_counts(frame["reasons"]).to_numpy().tolist()[0] == ["低于入选分数线", 150]
    # a reason's kind is cut at its colon, never inside a bracket
    upheld = "公示期异议经复查成立，移出名单（异议理由：广告）"
    bracket = pd.Series([f"否决项：思想性；{upheld}", "否决项：安全"])
    assert R.reason_counts(bracket).to_numpy().tolist() == [["否决项", 2], [upheld, 1]]


def test_paged_table_page_is_small_and_keeps_every_row():
    from evalkit.publish import report as R

    n = 5000
    frame = pd.DataFrame(
        {
            "app_id": [f"A{i:05d}" for i in range(n)],
            "app_name": [f"应用{i}" for i in range(n)],
            "status": "未入选",
            "total_score": [i / 7 for i in range(n)],
            "reasons": "低于入选分数线；某个相当长的原因说明文字，在每一行都重复出现",
        }
    )
    fragment = R.paged_table(frame, "not-listed", lists={"reasons": "；"}, page_size=50)
    plain = R.table(frame, "not-listed")
    # a plain table is written without pandas' indentation since issue 15 (about a third lighter)
    assert len(fragment) < len(plain) / 2.5
    assert fragment.count("<tr>") == 50  # the first page as HTML
    data = json.loads(re.search(r'id="not-listed-data">(.*?)</script>', fragment, flags=re.DOTALL).group(1))
    rows = _decode(data)
    assert len(rows) == n and rows[-1][:3] == [f"A{n - 1:05d}", f"应用{n - 1}", "未入选"]
    assert "1 / 100" in fragment


def test_near_cutoff_keeps_listed_close_calls_and_the_next():
    from evalkit.publish import report as R

    ranked = pd.DataFrame(
        {
            "rank": range(1, 101),
            "listed": [True] * 10 + [False] * 90,
            "close": [False] * 8 + [True] * 4 + [False] * 80 + [True] + [False] * 7,
        }
    )
    near = R.near_cutoff(ranked, listed=ranked["listed"], close_call=ranked["close"], after=20)
    # ranks 1-10 listed, 11-12 close calls, the 20 below the last listed (11-30) and the far close call 93
    assert near["rank"].tolist() == [*range(1, 31), 93]
    assert R.near_cutoff(ranked, listed=ranked["listed"], after=0)["rank"].tolist() == list(range(1, 11))
