"""Plain words for the statistics and abbreviations the published reports show (ICC, W, α, AHP,
CR, AUC, Brier): the method's glossary, in Simplified Chinese and English.

Display only; :func:`glossary` gives ``(term, explanation)`` pairs in one language.
"""

from __future__ import annotations

__all__ = ["GLOSSARY", "glossary"]

#: Plain words for the statistics the reports show (the method's glossary).
GLOSSARY: dict[str, tuple[str, str]] = {
    "ICC": ("组内相关系数：专家评分的一致程度，0 为无一致，1 为完全一致；0.75 以上为良好。",
            "intraclass correlation: how far the experts agree, 0 none, 1 complete; above 0.75 is good."),
    "W": ("肯德尔协调系数：专家对应用排序的一致程度（0–1），p 值小表示一致并非偶然。",
          "Kendall's W: how far the experts rank the apps alike (0–1); a small p means the agreement is not chance."),
    "α": ("克里彭多夫 α：允许缺评的一致性系数，0.667 以上可用于初步结论，0.8 以上较可靠。",
          "Krippendorff's alpha: agreement allowing missing scores; above 0.667 for tentative, 0.8 for firm use."),
    "AHP": ("层次分析法：专家两两比较各维度、各指标的重要性，据此计算权重。",
            "analytic hierarchy process: experts compare dimensions and criteria pairwise; the weights follow."),
    "CR": ("一致性比率：专家两两比较是否自相矛盾，低于 0.10 视为可接受。",
           "consistency ratio: whether an expert's pairwise comparisons contradict each other; below 0.10 is fine."),
    "AUC": ("预警模型区分高风险与低风险提供者的能力，0.5 相当于随机，1 为完全区分。",
            "how well the warning model separates risky from safe providers: 0.5 is chance, 1 perfect."),
    "Brier": ("预警概率与实际结果的平均平方误差，越小越好。",
              "mean squared error of the warning probabilities against what happened; lower is better."),
}


def glossary(lang: str = "zh", terms: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """``(term, explanation)`` in ``lang`` for ``terms`` (default: all, in :data:`GLOSSARY`'s order)."""
    i = 0 if lang == "zh" else 1
    return [(k, GLOSSARY[k][i]) for k in (terms or tuple(GLOSSARY)) if k in GLOSSARY]
