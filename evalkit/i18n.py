"""Display strings of the published reports in Simplified Chinese (default) and English.

Display only: the words for labels, headings, statuses and codes.  This module is THE registry
of words for codes shown to readers (statuses, changes, categories, stages, primary users,
features, credit lists and grades, complaint categories and channels, weight sources, ...):
the command line, the index, the reports and the public register all take them from here, so
a status reads the same everywhere.  Reason codes are not here: their words live with the
rules that produce them (``evalkit.evaluate.reasons.REASONS``, ``evalkit.evaluate.credit.REASONS``).

* :func:`t` - a label, heading or code (flat keys; unknown keys fall back to the key itself,
  so a new code still shows, as its code).
* :func:`word` / :func:`words` - the word for a code of one vocabulary (:data:`VOCABULARIES`),
  ``words`` vectorised over a Series, ``;``-lists included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from evalkit.errors import EvalkitError, param_message

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

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
    "negative_list": ("灰名单（负面清单）", "Grey list (negative list)"),
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
    "previous_page": ("上一页", "Previous page"),
    "next_page": ("下一页", "Next page"),
    "loading": ("加载中…", "loading…"),
    "register_hint": (
        "共 {n} 个备案应用：在搜索框中输入应用名称、备案号或提供者即可查询。",
        "{n} filed apps: type an app name, filing number or provider in the search box.",
    ),
    "p_listed_note": (
        "入选概率：在 {draws} 次重新抽样中（每次按 Dirichlet 分布扰动维度权重{raters}），按与正式决定完全相同的规则"
        "（资格与否决项、最低总分和维度分、排名及并列处理规则、总数、类别、学段和同一提供者份额上限）重新生成推荐目录，"
        "该应用入选的次数占比。入选概率在 0.2 至 0.8 之间，"
        "或与决定相反（推荐应用低于 0.5、未推荐应用高于 0.5）的，标记为临界。",
        "P(listed): in {draws} resamples ({raters}the dimension weights perturbed by a Dirichlet draw), the share "
        "in which the app makes the list under exactly the rules of the decision (eligibility and vetoes, minimum "
        "total and dimension scores, the ranking and its tie-break chain, the total, category, stage and "
        "provider-share caps). Apps between 0.2 and 0.8, or against their decision (recommended below 0.5, not "
        "recommended above 0.5), are flagged as close calls.",
    ),
    "p_listed_raters": (
        "，并对每个应用的评审专家有放回重抽样",
        "each app's panel raters resampled with replacement and ",
    ),
    "near_cutoff_note": (
        "图中为推荐应用、临界应用及其后 {after} 名，共 {shown} 个"
        "（全部 {total} 个候选应用的名次见上表及 decisions.csv）。",
        "Shown: the listed apps, the close calls and the next {after}, {shown} of {total} candidates "
        "(every rank is in the table above and in decisions.csv).",
    ),
    "reason_counts": ("未列入原因统计", "Reasons for not being listed"),
    "no_rows": ("无", "None"),
    "report_failed": ("生成失败", "failed"),
    "data_blocked": (
        "未发布：本省所需数据有 {n} 处错误，待更正后发布",
        "not published: {n} error(s) in the data it needs, to be corrected first",
    ),
    "code": ("代码", "Code"),
    "n_provinces": ("省份", "Provinces"),
    "reports": ("报告", "Reports"),
    "recommendation_report": ("推荐报告", "Recommendation report"),
    "credit_report": ("信用报告", "Credit report"),
    "status_legend": (
        ("推荐：列入推荐目录；未入选：符合条件，但因名额上限或分数要求未列入；排除：否决项未通过或不符合推荐条件。"),
        (
            "Recommended: on the list; not selected: eligible but left out by a cap or a score "
            "requirement; excluded: a veto item failed or the app is not eligible."
        ),
    ),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "primary_users": ("主要用户", "Primary users"),
    "features": ("功能特征", "Features"),
    "weights_source_of": ("{what}：{how}", "{what}: {how}"),
    "dimensions_level": ("维度之间", "between dimensions"),
    "model_name": ("模型", "Model"),
    # key figures
    "n_candidates": ("申报应用", "Candidate apps"),
    "n_recommended": ("推荐应用", "Recommended"),
    "n_not_recommended": ("未入选", "Not selected"),
    "n_excluded": ("排除（否决项或不符合条件）", "Excluded (veto or not eligible)"),
    "n_providers": ("提供者", "Providers"),
    "n_blacklisted": ("黑名单", "Blacklist"),
    "n_negative": ("灰名单（负面清单）", "Grey list (negative list)"),
    "n_close_calls": ("临界应用", "Close calls"),
    # method
    "weights_source": ("权重来源", "Weights source"),
    "ahp_cr": ("AHP 一致性比率 CR", "AHP consistency ratio (CR)"),
    "panel_size": ("评审专家人数", "Panel size"),
    "ranking_method": ("排序方法", "Ranking method"),
    "agreement": ("评审一致性", "Rater agreement"),
    "weight": ("权重", "Weight"),
    "weights_method": ("赋权方法", "Weighting method"),
    "ahp_levels": ("各层次权重的判断来源", "Whose judgments set the weights, per level"),
    "ahp_level": ("层次", "Level"),
    "ahp_judgments": ("判断来源", "Judgments"),
    "ahp_n_experts": ("采用的专家人数", "Experts combined"),
    "ahp_expert_crs": ("各专家一致性比率 CR（× 为已剔除）", "Each expert's CR (× excluded)"),
    "ahp_combined_cr": ("合并判断矩阵 CR", "Combined CR"),
    "ahp_rule": (
        "每个省份采用本省专家的层次分析法判断；某一层次中一致性比率 CR 超过 0.10 的专家判断不予采用"
        "（Saaty 1980），其余专家判断按几何平均合并。本省无可用判断的层次采用全国判断或指标体系规定的权重。",
        "Each province uses its own experts' AHP judgments. At each level an expert whose consistency "
        "ratio exceeds 0.10 is excluded (Saaty 1980) and the others are combined by geometric mean. A level "
        "without usable judgments of the province keeps the national judgments or the rubric's stated weights.",
    ),
    "entropy_rule": (
        "各维度内的指标权重由本省候选应用的指标得分按熵权法计算（Hwang & Yoon 1981）；维度权重仍采用层次分析法。",
        "Criterion weights inside each dimension are the entropy weights of the province's candidates' "
        "criterion scores (Hwang & Yoon 1981); the dimension weights stay the AHP ones.",
    ),
    "combined_rule": (
        "各维度内的指标权重为层次分析法权重与熵权的乘积再归一化（Hwang & Yoon 1981）；维度权重仍采用层次分析法。",
        "Criterion weights inside each dimension are the AHP weights times the entropy weights, renormalised "
        "(Hwang & Yoon 1981); the dimension weights stay the AHP ones.",
    ),
    "weights_refused": ("未予适用的豁免", "Waivers not applied"),
    "weights_refused_note": (
        "以下豁免针对否决项，而指标体系未允许豁免该项，因此未予适用，相关否决照常生效。",
        "These waivers concern veto items that the rubric does not allow to be waived: they were not "
        "applied and the veto stands.",
    ),
    "waiver_province": ("批准省份", "Approving province"),
    "national_waiver": ("全国", "national"),
    "approved_by": ("批准人", "Approved by"),
    "waiver_reason": ("豁免理由", "Reason"),
    "expires_on": ("有效期至", "Expires on"),
    # columns
    "rank": ("排名", "Rank"),
    "app_id": ("备案号", "Filing number"),
    "app_name": ("应用名称", "App"),
    "provider": ("提供者", "Provider"),
    "provider_id": ("统一社会信用代码", "USCC"),
    "category": ("类别", "Category"),
    "stages": ("学段", "Stages"),
    "total_score": ("总分", "Total"),
    "p_listed": ("入选概率", "P(listed)"),
    "rank_interval": ("排名区间", "Rank interval"),
    "status": ("状态", "Status"),
    "reasons": ("原因", "Reasons"),
    "change": ("变化", "Change"),
    "score": ("得分", "Score"),
    "grade": ("等级", "Grade"),
    "list": ("信用名单", "Credit list"),
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
    "round": ("轮次", "Round"),
    "criterion_id": ("指标编号", "Criterion id"),
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
    "published_status": ("已公布名单中的状态", "Status in the published list"),
    "explorer_dimension_weights": ("维度权重", "Dimension weights"),
    "explorer_criterion_weights": ("高级：指标权重（维度内）", "Advanced: criterion weights (within a dimension)"),
    "explorer_what_if": ("假设分析", "What if"),
    "explorer_exclude_raters": ("排除专家", "Exclude raters"),
    "explorer_waivers_off": ("取消豁免", "Waivers off"),
    "explorer_max_total": ("名单总数上限", "List size cap"),
    "explorer_share_cap": ("单一提供者份额上限", "Provider share cap"),
    "explorer_reset": ("恢复本省设置", "Back to the profile"),
    "explorer_list": ("推荐名单（按所选设置）", "Recommended list (chosen settings)"),
    "explorer_same": ("与已公布名单相同。", "Same as the published list."),
    "explorer_enters": ("新进入名单：{apps}", "Enter the list: {apps}"),
    "explorer_leaves": ("退出名单：{apps}", "Leave the list: {apps}"),
    "explorer_all": ("全部候选应用", "All candidates"),
    "explorer_changed": ("状态与已公布名单不同的应用", "Apps whose status differs from the published list"),
    "explorer_change_enters": ("进入名单", "enters"),
    "explorer_change_leaves": ("退出名单", "leaves"),
    "explorer_loading": ("正在计算……", "Computing…"),
}


#: Words for the codes of each vocabulary: ``{vocabulary: {code: (zh, en)}}``.
VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    # decisions.status, the CLI summary, the index and the register
    "status": {
        "recommended": ("推荐", "recommended"),
        "not_recommended": ("未入选", "not selected"),
        "excluded": ("排除", "excluded"),
        "not_submitted": ("未申报", "not submitted"),
    },
    # changes.change: against the previous published list
    "change": {
        "added": ("新增", "added"),
        "kept": ("保留", "kept"),
        "opted_out": ("退出", "opted out"),
    },
    # the same words as the reason texts of evalkit.evaluate.reasons (cap:category:..., below_min:...)
    "dimension": {
        "legality": ("合法合规", "Legality"),
        "function": ("功能性能", "Function"),
        "security": ("安全", "Security"),
        "content": ("内容", "Content"),
    },
    "category": {
        "teaching": ("教学", "teaching"),
        "management": ("管理", "management"),
        "learning": ("学习", "learning"),
        "life": ("生活", "campus life"),
        "home_school": ("家校互动", "home–school"),
    },
    "stage": {
        "preschool": ("学前", "preschool"),
        "primary": ("小学", "primary"),
        "junior": ("初中", "junior secondary"),
        "senior": ("高中", "senior secondary"),
        "vocational": ("职业教育", "vocational"),
        "higher": ("高等教育", "higher education"),
        "continuing": ("继续教育", "continuing education"),
    },
    "user": {
        "students": ("学生", "students"),
        "teachers": ("教师", "teachers"),
        "parents": ("家长", "parents"),
    },
    "feature": {
        "ugc": ("用户发布内容", "user-generated content"),
        "training": ("校外培训", "tutoring"),
        "admissions_exams": ("招生考试", "admissions and exams"),
        "payments": ("在线支付", "payments"),
        "face_data": ("人脸信息", "face data"),
    },
    # credit
    "list": {
        "white": ("白名单", "white list"),
        "grey": ("灰名单（负面清单）", "grey list (negative list)"),
        "black": ("黑名单", "blacklist"),
    },
    "grade": {
        "A": ("A 级（守信）", "A (trustworthy)"),
        "B": ("B 级（基本守信）", "B (mostly trustworthy)"),
        "C": ("C 级（失信）", "C (untrustworthy)"),
        "D": ("D 级（严重失信）", "D (seriously untrustworthy)"),
    },
    # the dataset's coded columns (templates, evalkit.data.descriptions)
    "role": {
        "government": ("教育行政部门", "education authority"),
        "school": ("中小学校", "school"),
        "university": ("高等学校", "university"),
        "industry": ("行业企业", "industry"),
        "parent": ("家长代表", "parent"),
        "student": ("学生代表", "student"),
    },
    "ahp_level": {
        "dimensions": ("维度之间", "between dimensions"),
        "legality": ("合法合规维度内的指标", "criteria within legality"),
        "function": ("功能性能维度内的指标", "criteria within function"),
        "security": ("安全维度内的指标", "criteria within security"),
        "content": ("内容维度内的指标", "criteria within content"),
    },
    "severity": {
        "minor": ("轻微", "minor"),
        "major": ("较重", "major"),
        "serious": ("严重", "serious"),
    },
    "complaint_dimension": {
        "all": ("全部投诉", "all complaints"),
        "category": ("投诉类别", "category"),
        "channel": ("投诉渠道", "channel"),
    },
    "complaint_category": {
        "fees": ("违规收费", "fees"),
        "ads": ("广告", "advertising"),
        "forced_use": ("强制使用", "forced use"),
        "privacy": ("隐私与个人信息", "privacy and personal data"),
        "harmful_content": ("有害信息", "harmful content"),
        "function": ("功能故障", "malfunction"),
        "other": ("其他", "other"),
        "all": ("全部", "all"),
    },
    # complaint channels are free text in the data: the usual ones get English words
    "channel": {
        "12345热线": ("12345热线", "12345 hotline"),
        "教育厅网站": ("教育厅网站", "education department website"),
        "电子邮件": ("电子邮件", "e-mail"),
        "来信": ("来信", "letter"),
        "电话": ("电话", "telephone"),
        "信访": ("信访", "petition office"),
    },
    "risk_basis": {
        "model": ("预警模型", "warning model"),
        "rules": ("规则", "rules"),
    },
    "weights_source": {
        "ahp": ("层次分析法（专家判断）", "AHP (expert judgments)"),
        "stated": ("指标体系规定的权重", "the rubric's stated weights"),
        "ahp+stated": (
            "层次分析法（专家判断）结合指标体系规定的权重",
            "AHP (expert judgments) combined with the rubric's stated weights",
        ),
        "entropy": ("熵权法", "entropy weights"),
        "combined": ("层次分析法与熵权法组合赋权", "AHP combined with entropy weights"),
        "equal": ("等权重", "equal weights"),
    },
    "weights_method": {
        "ahp": ("层次分析法（专家判断）", "AHP (expert judgments)"),
        "entropy": ("熵权法（维度内指标）", "entropy weights (criteria inside each dimension)"),
        "combined": (
            "层次分析法与熵权法组合赋权（维度内指标）",
            "AHP combined with entropy weights (criteria inside each dimension)",
        ),
    },
    # whose judgments set a level's weights (evalkit.evaluate.weighting)
    "ahp_judgments": {
        "province": ("本省专家判断", "the province's own experts"),
        "national": ("全国判断（替代）", "the national judgments (fallback)"),
        "stated": ("指标体系规定的权重（替代）", "the rubric's stated weights (fallback)"),
    },
    "weights_fallback": {
        "no_judgments": ("本省专家未对该层次作出判断", "the province's experts did not judge this level"),
        "all_excluded": (
            "本省专家判断的一致性比率均超过 0.10，全部剔除",
            "every expert of the province exceeded CR 0.10 and was excluded",
        ),
        "incomplete": ("剔除后本省专家判断不完整", "the province's remaining judgments leave a pair out"),
        "invalid": ("本省专家判断数据有误", "the province's judgments have errors"),
    },
    "ranking_method": {
        "weighted_sum": ("加权求和", "weighted sum"),
        "topsis": ("TOPSIS 逼近理想解排序", "TOPSIS"),
    },
    "panel_reducer": {
        "mean": ("平均值", "mean"),
        "median": ("中位数", "median"),
        "trimmed_mean": ("去掉最高最低分后平均", "trimmed mean"),
    },
    "model": {
        "logistic": ("逻辑回归", "logistic regression"),
    },
    "bool": {
        "true": ("是", "yes"),
        "false": ("否", "no"),
    },
}

#: Flat keys ``t()`` also knows: the words of these vocabularies (codes never clash).
_FLAT_VOCABULARIES = (
    "status",
    "change",
    "dimension",
    "category",
    "stage",
    "list",
    "risk_basis",
    "weights_source",
    "ranking_method",
    "panel_reducer",
    "model",
)


class I18nError(EvalkitError, ValueError):
    """An unknown language or vocabulary."""


def _check_lang(lang: str, func: str) -> int:
    if lang not in LANGS:
        raise I18nError(param_message("lang", func, f"one of {LANGS}", repr(lang)))
    return LANGS.index(lang)


def word(vocabulary: str, code: object, lang: str = "zh") -> str:
    """The word for one code of a vocabulary (the code itself if unknown).

    Parameters
    ----------
    vocabulary : str
        A key of :data:`VOCABULARIES` (``status``, ``stage``, ``list``, ``grade``, ...).
    code : object
        The code (``True``/``False`` for ``bool``).
    lang : {"zh", "en"}
        Language.

    Raises
    ------
    I18nError
        Unknown vocabulary or language (also a ``ValueError``).
    """
    i = _check_lang(lang, "word")
    if vocabulary not in VOCABULARIES:
        raise I18nError(param_message("vocabulary", "word", f"one of {sorted(VOCABULARIES)}", repr(vocabulary)))
    key = str(code).lower() if isinstance(code, bool) else str(code)
    pair = VOCABULARIES[vocabulary].get(key)
    return key if pair is None else pair[i]


def words(codes: pd.Series, vocabulary: str, lang: str = "zh", *, sep: str | None = ";") -> pd.Series:
    """:func:`word` over a Series; ``sep``-joined lists are translated item by item.

    Each distinct value is translated once; items are joined with ``、`` (zh) or ``, `` (en).
    Missing values become ``""``.
    """
    import pandas as pd

    _check_lang(lang, "words")
    s = pd.Series(codes, copy=False)
    text = s.astype("object").where(s.notna(), "").map(lambda v: str(v).lower() if isinstance(v, bool) else str(v))
    joiner = "、" if lang == "zh" else ", "
    uniq = pd.unique(text.to_numpy())
    table = {
        v: joiner.join(word(vocabulary, part.strip(), lang) for part in (v.split(sep) if sep else [v]) if part.strip())
        for v in uniq  # distinct values (a handful), not rows
    }
    return text.map(table).astype("str")


def vocabulary_labels(vocabulary: str, lang: str = "zh") -> Mapping[str, str]:
    """``{code: word}`` of one vocabulary, in its order."""
    return {code: word(vocabulary, code, lang) for code in VOCABULARIES[vocabulary]}


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
    i = _check_lang(lang, "t")
    pair = _STRINGS.get(key)
    if pair is None:
        pair = next((VOCABULARIES[v][key] for v in _FLAT_VOCABULARIES if key in VOCABULARIES[v]), None)
    text = key if pair is None else pair[i]
    return text.format(**fields) if fields else text


def known(key: str) -> bool:
    """Whether ``key`` has a translation."""
    return key in _STRINGS or any(key in VOCABULARIES[v] for v in _FLAT_VOCABULARIES)
