"""Display helpers of the report notebooks (evalkit.publish.report)."""

from __future__ import annotations

import pandas as pd

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
