"""Issue 15, Deliver 4: the recommendation report discloses its method in words: whose AHP
judgments set the weights (source per level, experts used, each CR and the combined CR), the
conflicts of interest removed as a count per panel, the waivers in force, the ranking method and
the robustness design (draws, what is resampled)."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pandas as pd

from evalkit.publish.report import disclosure_section


def _text(path) -> str:
    s = path.read_text(encoding="utf-8")
    s = re.sub(r"<script.*?</script>", " ", s, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", s)))


def test_the_recommendation_report_discloses_its_method(published_sample):
    folder, _, _ = published_sample
    for code in ("11", "44"):
        text = _text(folder / code / "recommendation.html")
        assert "各层次权重的判断来源" in text  # whose judgments, per level: the province's panel or the fallback
        assert re.search(r"维度之间 (本省专家判断|全国判断（替代）：本省专家未对该层次作出判断) \d+ E\w+ [\d.]+", text)
        assert re.search(r"各专家一致性比率 CR（× 为已剔除） 合并判断矩阵 CR", text)  # each CR and the combined
        assert "排序方法 加权求和" in text  # the ranking method
        assert re.search(r"在 \d+ 次重新抽样中（每次按 Dirichlet 分布扰动维度权重，"
                         r"并对每个应用的评审专家有放回重抽样）", text)
        assert "利益冲突回避" in text and "有效的豁免" in text
    assert "本省评审专家组本期没有需要回避的评分" in _text(folder / "11" / "recommendation.html")
    text44 = _text(folder / "44" / "recommendation.html")
    assert re.search(r"第 1 轮 \d+ 项评分（\d+ 位专家，涉及 \d+ 个应用）", text44)
    assert re.search(r"以下 \d+ 项豁免本期有效", text44)


def _result(conflicts: pd.DataFrame, waivers: pd.DataFrame) -> SimpleNamespace:
    return SimpleNamespace(
        conflicts=conflicts, waivers=waivers,
        decisions=pd.DataFrame({"app_id": ["A1", "A2"], "app_name": ["<b>甲</b>", "乙"]}))


def test_conflicts_are_counted_per_round_and_waivers_listed():
    conflicts = pd.DataFrame({
        "province_code": "44", "round": [1, 1, 1, 2], "app_id": ["A1", "A1", "A2", "A1"],
        "expert_id": ["E1", "E1", "E2", "E1"], "criterion_id": ["C1", "C2", "C1", "C1"], "provider_id": "P",
    })  # fmt: skip
    waivers = pd.DataFrame({"app_id": ["A1"], "criterion_id": ["C1"], "reason": ["<script>x</script>"],
                            "approved_by": ["某处"], "approved_on": [pd.Timestamp("2026-07-24")],
                            "expires_on": [pd.Timestamp("2027-02-20")]})
    zh = disclosure_section(_result(conflicts, waivers), "zh")
    assert "第 1 轮 3 项评分（2 位专家，涉及 2 个应用）；第 2 轮 1 项评分（1 位专家，涉及 1 个应用）" in zh
    assert "以下 1 项豁免本期有效" in zh and "2027-02-20" in zh
    assert "<script>" not in zh and "<b>甲</b>" not in zh and "&lt;b&gt;甲&lt;/b&gt;" in zh  # escaped
    assert "E1" not in zh  # counts, never who
    en = disclosure_section(_result(conflicts.iloc[:0], waivers.iloc[:0]), "en")
    assert "No score of the province&#x27;s scoring panel was removed" in en and "No waiver is in force" in en
