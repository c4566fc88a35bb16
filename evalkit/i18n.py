"""Display strings of the published reports in Simplified Chinese (default) and English.

Display only: the words for labels, headings, statuses and reason codes.  A key without a
translation falls back to the key itself, so a new reason code still shows (as its code).
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = ("zh", "en")

_STRINGS: dict[str, tuple[str, str]] = {
    # titles
    "recommendation_title": ("{name}教育移动互联网应用推荐目录报告", "{name}: recommended education apps"),
    "credit_title": ("{name}教育移动应用提供者信用评价报告", "{name}: provider credit evaluation"),
    "national_title": ("全国教育移动互联网应用备案与推荐概览", "National overview of education app filings and lists"),
    "as_of": ("评价基准日", "Evaluation date"),
    "rubric_version": ("评价指标版本", "Rubric version"),
    # sections
    "key_figures": ("主要数据", "Key figures"),
    "method": ("评价方法", "Method"),
    "recommended_list": ("推荐目录", "Recommended list"),
    "not_listed": ("未列入目录的应用及原因", "Apps not listed and why"),
    "changes": ("与上一期目录相比的变化", "Changes since the previous list"),
    "robustness": ("稳健性分析", "Robustness"),
    "dimension_scores": ("各维度得分", "Dimension scores"),
    "grade_distribution": ("信用等级分布", "Credit grades"),
    "negative_list": ("重点关注名单", "Negative list"),
    "blacklist": ("黑名单", "Blacklist"),
    "complaints": ("投诉处理情况", "Complaint handling"),
    "early_warning": ("风险预警", "Early warning"),
    "model_quality": ("预警模型质量", "Quality of the warning model"),
    "inspection_priorities": ("检查优先级", "Inspection priorities"),
    "provinces": ("各省份概况", "Provinces"),
    "register": ("备案应用公开查询", "Public register of filed apps"),
    "national_chart": ("各省份推荐情况", "Lists by province"),
    "search": ("搜索…", "Search…"),
    "rows_shown": ("条显示", "rows shown"),
    "no_rows": ("无", "None"),
    "report_failed": ("生成失败", "failed"),
    # key figures
    "n_candidates": ("申报应用", "Candidate apps"),
    "n_recommended": ("推荐应用", "Recommended"),
    "n_not_recommended": ("未推荐", "Not recommended"),
    "n_excluded": ("不予推荐（否决）", "Excluded (veto)"),
    "n_providers": ("提供者", "Providers"),
    "n_blacklisted": ("黑名单", "Blacklisted"),
    "n_negative": ("重点关注", "Negative list"),
    "n_close_calls": ("临界应用", "Close calls"),
    # method
    "weights_source": ("权重来源", "Weights source"),
    "ahp_cr": ("AHP 一致性比率 CR", "AHP consistency ratio (CR)"),
    "panel_size": ("评审专家人数", "Panel size"),
    "ranking_method": ("排序方法", "Ranking method"),
    "agreement": ("评审一致性", "Rater agreement"),
    "weight": ("权重", "Weight"),
    # columns
    "rank": ("排名", "Rank"),
    "app_id": ("备案号", "Filing number"),
    "app_name": ("应用名称", "App"),
    "provider": ("提供者", "Provider"),
    "provider_id": ("统一社会信用代码", "USCC"),
    "category": ("类别", "Category"),
    "stages": ("学段", "Stages"),
    "total_score": ("总分", "Total"),
    "legality": ("合法性", "Legality"),
    "function": ("功能性", "Function"),
    "security": ("安全性", "Security"),
    "content": ("内容", "Content"),
    "p_listed": ("入选概率", "P(listed)"),
    "rank_interval": ("排名区间", "Rank interval"),
    "status": ("状态", "Status"),
    "reasons": ("原因", "Reasons"),
    "change": ("变化", "Change"),
    "score": ("得分", "Score"),
    "grade": ("等级", "Grade"),
    "list": ("名单", "List"),
    "ban_until": ("禁入截止日期", "Banned until"),
    "decided_on": ("认定日期", "Decided on"),
    "risk": ("风险概率", "Risk"),
    "priority": ("检查优先级", "Priority"),
    "basis": ("依据", "Basis"),
    "province": ("省份", "Province"),
    "count": ("数量", "Count"),
    "criterion": ("指标", "Criterion"),
    "value": ("值", "Value"),
    "similarity": ("相似度", "Similarity"),
    "panel_reducer": ("评审分数汇总方法", "Panel reducer"),
    "robustness_draws": ("稳健性抽样次数", "Robustness draws"),
    "dimension_weights": ("维度权重", "Dimension weights"),
    "weighted_sum": ("加权求和", "weighted sum"),
    "topsis": ("TOPSIS 逼近理想解排序", "TOPSIS"),
    "mean": ("平均值", "mean"),
    "median": ("中位数", "median"),
    "trimmed_mean": ("去掉最高最低分后平均", "trimmed mean"),
    "ahp": ("层次分析法（专家判断）", "AHP (expert judgments)"),
    "stated": ("指标体系规定", "stated in the rubric"),
    "entropy": ("熵权法", "entropy"),
    "auc": ("AUC", "AUC"),
    "brier": ("Brier 分数", "Brier score"),
    "baseline_auc": ("基线 AUC", "Baseline AUC"),
    "baseline_brier": ("基线 Brier 分数", "Baseline Brier score"),
    "beats_baseline": ("优于基线", "Beats baseline"),
    "n_train": ("训练样本数", "Training rows"),
    "n_test": ("测试样本数", "Test rows"),
    "horizon_days": ("预警期（天）", "Horizon (days)"),
    "reason": ("说明", "Note"),
    "logistic": ("逻辑回归", "logistic regression"),
    "dimension": ("维度", "Dimension"),
    "dimensions": ("维度", "dimensions"),
    "n_complaints": ("投诉数", "Complaints"),
    "n_substantiated": ("查实数", "Substantiated"),
    "n_resolved": ("已办结", "Resolved"),
    "n_open": ("未办结", "Open"),
    "n_overdue": ("超期", "Overdue"),
    "mean_working_days": ("平均办理工作日", "Mean working days"),
    "median_working_days": ("办理工作日中位数", "Median working days"),
    "share_within_limit": ("按期办结比例", "Share within limit"),
    "all": ("全部", "all"),
    "channel": ("渠道", "channel"),
    "fees": ("收费", "fees"),
    "ads": ("广告", "ads"),
    "forced_use": ("强制使用", "forced use"),
    "privacy": ("隐私", "privacy"),
    "harmful_content": ("有害信息", "harmful content"),
    "other": ("其他", "other"),
    "round": ("轮次", "Round"),
    "criterion_id": ("指标", "Criterion"),
    "icc": ("ICC", "ICC"),
    "kendall_w": ("肯德尔 W", "Kendall's W"),
    "kendall_p": ("W 的 p 值", "p (W)"),
    "alpha": ("克里彭多夫 α", "Krippendorff's α"),
    "n_apps": ("应用数", "Apps"),
    "n_raters": ("专家数", "Raters"),
    "provider_name": ("提供者", "Provider"),
    "explorer_rank": ("调整后排名", "Explorer rank"),
    "explorer_score": ("调整后得分", "Explorer score"),
    "in_list": ("入选", "Listed"),
    "teaching": ("教学", "teaching"),
    "management": ("管理", "management"),
    "learning": ("学习", "learning"),
    "life": ("生活", "life"),
    "home_school": ("家校互动", "home-school"),
    # statuses
    "recommended": ("推荐", "recommended"),
    "not_recommended": ("未推荐", "not recommended"),
    "excluded": ("不予推荐", "excluded"),
    "not_submitted": ("未申报", "not submitted"),
    "added": ("新增", "added"),
    "kept": ("保留", "kept"),
    "opted_out": ("调出", "opted out"),
    "white": ("正常", "white"),
    "grey": ("重点关注", "grey"),
    "black": ("黑名单", "black"),
    "model": ("模型", "model"),
    "rules": ("规则", "rules"),
}


def t(key: str, lang: str = "zh", **fields: object) -> str:
    """Return the display string for ``key`` in ``lang`` (the key itself if unknown).

    Parameters
    ----------
    key : str
        String key, status or reason code.
    lang : {"zh", "en"}
        Language.
    **fields
        Values for ``{name}`` placeholders.
    """
    if lang not in LANGS:
        raise ValueError(f"The 'lang' parameter of t must be one of {LANGS}; got {lang!r} instead.")
    pair = _STRINGS.get(key)
    text = key if pair is None else pair[LANGS.index(lang)]
    return text.format(**fields) if fields else text


def known(key: str) -> bool:
    """Whether ``key`` has a translation."""
    return key in _STRINGS
