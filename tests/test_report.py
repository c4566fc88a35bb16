"""Display helpers of the report notebooks (evalkit.publish.report)."""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.publish.tables import cell_text


def test_tiny_positive_values_are_not_shown_as_zero():
    """A p-value of 1e-9 rounded to 3 decimals must read "<0.001", not "0.0"."""
    shown = cell_text(pd.DataFrame({"p": [0.0, 1e-9, 0.0004, 0.5, None]}), 3)
    assert shown["p"].tolist() == ["0.0", "<0.001", "<0.001", "0.5", "–"]


def _method(judgments: str, fallback: str = "", how: str = "ahp", refused: list | None = None) -> dict:
    experts = [{"expert_id": "E11001", "cr": 0.012, "excluded": False, "reason": ""},
               {"expert_id": "E11003", "cr": 0.482, "excluded": True, "reason": "inconsistent"}]
    national = [{"expert_id": "E1", "cr": 0.0, "excluded": False, "reason": ""}]
    lv = {"judgments": judgments, "fallback": fallback, "cr": 0.0014 if judgments != "stated" else None,
          "n_experts": 1 if judgments == "province" else (3 if judgments == "national" else 0),
          "experts": experts if judgments == "province" else [],
          "national_experts": national if judgments == "national" else []}
    return {"weights_method": how, "ahp": {"dimensions": lv, "legality": {**lv, "judgments": "stated",
            "fallback": "no_judgments", "cr": None, "n_experts": 0, "experts": [], "national_experts": []}},
            "waivers_refused": refused or []}


def test_weights_section_names_whose_judgments_and_marks_excluded_experts():
    import re

    from evalkit.publish.report import weights_section

    def text(page: str) -> str:
        return re.sub(r"<[^>]+>", " ", page)

    own = text(weights_section(_method("province"), "zh"))
    assert "本省专家判断" in own and "E11003 0.482 ×" in own and "E11001 0.012" in own
    assert "E11001 0.012 ×" not in own and "0.10" in own  # the method itself is named in the method list
    assert "指标体系规定的权重（替代）：本省专家未对该层次作出判断" in own
    fallback = text(weights_section(_method("national", "no_judgments"), "en"))
    assert "the national judgments (fallback): the province's experts did not judge this level" in fallback
    assert "E1 0" in fallback and "no_judgments" not in fallback and "national_experts" not in fallback
    refused = [{"app_id": "教APP备2200102号", "criterion_id": "L06_privacy_policy", "waiver_province": "22",
                "approved_by": "张三", "reason": "<b>误报</b>", "expires_on": "2027-08-01"}]
    page = weights_section(_method("province", how="entropy", refused=refused), "en")
    assert "Waivers not applied" in page and "Jilin (22)" in page and "&lt;b&gt;" in page and "<b>" not in page
    assert "entropy weights of the province&#x27;s candidates" in page and "Hwang &amp; Yoon 1981" in page
    assert "L06_privacy_policy" not in text(page)  # the criterion's name, not its id
    # levels in the rubric's order whatever the order of the (JSON-sorted) method
    m = _method("province")
    m["ahp"] = dict(sorted(m["ahp"].items(), reverse=True))  # legality before dimensions
    order = re.findall(r"<td>(between dimensions|Legality)</td>", weights_section(m, "en"))
    assert order == ["between dimensions", "Legality"]


# ----------------------------------------------------------------------------------------
# chart texts, separators, the inspection-priority legend

QUOTED = '=HYPERLINK("http://x","y")<script>alert(1)</script>'


def figure_json(page: str, div_id: str) -> tuple[list, dict]:
    """(data, layout) of the plotly figure ``div_id`` of a page, as plotly.js receives them."""
    import json

    call = page.index("Plotly.newPlot(")
    rest = page[page.index(f'"{div_id}",', call) + len(div_id) + 3:].lstrip()
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(rest)
    layout, _ = decoder.raw_decode(rest[end:].lstrip(" ,\n"))
    return data, layout


def test_chart_texts_keep_quotes_and_never_carry_markup():
    """plotly.js decodes &amp; &lt; &gt; but not &quot;: a name's quote reaches it as a quote,
    its <script> as &lt;script&gt; (shown as text, no tag to interpret)."""
    from evalkit.publish import report as R

    shown = '=HYPERLINK("http://x","y")&lt;script&gt;alert(1)&lt;/script&gt;'  # what plotly.js receives
    near = pd.DataFrame({"app_name": [QUOTED, "甲"], "rank": [1.0, 2.0], "rank_lo": [1.0, 1.0],
                         "rank_hi": [2.0, 3.0], "p_listed": [0.9, 0.4]})
    pages = {"fig-rank-intervals": R.scatter_interval(near, "app_name", "rank", "rank_lo", "rank_hi",
                                                      "rank-intervals", title='"Rank" <b>', lang="en"),
             "fig-p-listed": R.bar(near["app_name"], near["p_listed"], "p-listed", horizontal=True, lang="en",
                                   title='"P" <b>'),
             "fig-radar": R.radar(near, ["rank", "p_listed"], "radar", names="app_name", lang="en"),
             "fig-stack": R.stacked_bar(near.set_index("app_name")[["rank"]], "stack", lang="en")}
    for div_id, page in pages.items():
        data, layout = figure_json(page, div_id)
        texts = [str(v) for tr in data for k in ("x", "y", "name", "theta") for v in
                 (tr.get(k) if isinstance(tr.get(k), list) else [tr.get(k)])]
        assert shown in texts, div_id
        assert not [s for s in texts if "&quot;" in s or "&#" in s or "<" in s], div_id
        title = (layout.get("title") or {}).get("text")
        assert title in (None, '"Rank" &lt;b&gt;', '"P" &lt;b&gt;'), div_id
    assert "<script>alert" not in "".join(pages.values())
    assert R.plotly_text(QUOTED) == shown and R.plotly_text("a &amp; b") == "a &amp;amp; b"  # shown as typed


def test_lists_in_words_use_the_punctuation_of_the_language():
    from evalkit.i18n import I18nError, separator, words
    from evalkit.publish.report import weights_sources

    method = {"weights_source": {"dimensions": "ahp", "function": "stated", "legality": "ahp+stated"}}
    en, zh = weights_sources(method, "en"), weights_sources(method, "zh")
    assert en == ("between dimensions: AHP (expert judgments); Function: the rubric's stated weights; "
                  "Legality: AHP (expert judgments) combined with the rubric's stated weights")
    assert not set("；：、，") & set(en)
    assert zh.count("；") == 2 and zh.startswith("维度之间：层次分析法（专家判断）；")
    assert [separator(k, "en") for k in ("item", "clause", "colon")] == [", ", "; ", ": "]
    assert [separator(k, "zh") for k in ("item", "clause", "colon")] == ["、", "；", "："]
    assert words(pd.Series(["primary;junior"]), "stage", "en").tolist() == ["primary, junior secondary"]
    with pytest.raises(I18nError, match="'kind' parameter"):
        separator("dash", "en")


def test_priority_legend_describes_the_basis_actually_used():
    """With the rules basis the priority is the rules' class, not a band of the risk shown beside it
    (17.6 % can be C or D): the legend says so instead of giving the model's bands."""
    from evalkit.publish.report import priority_legend

    model = {"basis": "model", "priority_cuts": [0.05, 0.15, 0.3], "horizon_days": 90}
    assert "A below 5% (routine sampling), B 5%–15%, C 15%–30%, D 30% or more" in priority_legend(model, "en")
    assert "A 低于 5%" in priority_legend(model, "zh") and "D 30% 及以上" in priority_legend(model, "zh")
    assert "B 10%–20%" in priority_legend({**model, "priority_cuts": [0.1, 0.2, 0.4]}, "en")
    rules = {"basis": "rules", "priority_cuts": [0.05, 0.15, 0.3], "horizon_days": 90}
    en, zh = priority_legend(rules, "en"), priority_legend(rules, "zh")
    assert "below 5%" not in en and "30% or more" not in en and "comes from rules" in en
    assert "D: a serious violation in the last 12 months" in en and "C: any violation or substantiated" in en
    assert "does not set the priority" in en and "next 90 days" in en
    assert "风险概率划分" not in zh and "按规则划分" in zh and "不决定检查优先级" in zh
    assert priority_legend({}, "en") == en  # no quality recorded: no model was used
