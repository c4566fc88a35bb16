"""Display strings of the published reports in Simplified Chinese (default) and English.

Display only: the words for labels, headings, statuses and codes.  This module is THE registry
of words for codes shown to readers (statuses, changes, categories, stages, primary users,
features, credit lists and grades, complaint categories and channels, weight sources, ...):
the command line, the index, the reports and the public register all take them from here, so
a status reads the same everywhere.  Reason codes are not here: their words live with the
rules that produce them (``evalkit.evaluate.reasons.REASONS``, ``evalkit.evaluate.credit.REASONS``).

* :func:`t` - a label, heading or code (flat keys; unknown keys fall back to the key itself,
  so a new code still shows, as its code).
* :func:`word` / :func:`words` - the word for a code of one vocabulary (:data:`VOCABULARIES`, kept
  in :mod:`evalkit.vocabularies`), ``words`` vectorised over a Series, ``;``-lists included.
* :func:`separator` - each language's punctuation between items, between clauses, before an explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from evalkit.errors import EvalkitError, param_message
from evalkit.vocabularies import VOCABULARIES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["LANGS", "SEPARATORS", "VOCABULARIES", "I18nError", "Lang", "known", "separator", "t", "vocabulary_labels",
           "word", "words"]

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = ("zh", "en")
#: The punctuation of each language, ``{kind: (zh, en)}``: ``item`` between the items of a list
#: of words, ``clause`` between entries that may hold commas themselves (reasons, "level: source"
#: pairs), ``colon`` before an explanation.
SEPARATORS: dict[str, tuple[str, str]] = {"item": ("、", ", "), "clause": ("；", "; "), "colon": ("：", ": ")}

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
    "sanction_notices": ("信用惩戒告知（陈述申辩中）", "Sanction notices served (statement pending)"),
    "sanction_notices_note": (
        "以下提供者已收到信用惩戒告知书（点击名称查看），陈述申辩结束前名单不变，期满后依法作出决定。",
        "These providers were served a notice of a proposed sanction (the name opens it): their list stays as it "
        "is until the statement window closes and any statement is decided.",
    ),
    "proposed_list": ("拟列入", "Proposed list"),
    "notified_on": ("告知日期", "Notified on"),
    "statement_ends_on": ("陈述申辩截止", "Statement due by"),
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
    "explorer_weights_zero": ("请至少为一个维度设置大于零的权重。", "Give at least one dimension a weight above zero."),
    "explorer_enters": ("新进入名单：{apps}", "Enter the list: {apps}"),
    "explorer_leaves": ("退出名单：{apps}", "Leave the list: {apps}"),
    "explorer_all": ("全部候选应用", "All candidates"),
    "explorer_changed": ("状态与已公布名单不同的应用", "Apps whose status differs from the published list"),
    "explorer_change_enters": ("进入名单", "enters"),
    "explorer_change_leaves": ("退出名单", "leaves"),
    "explorer_loading": ("正在计算……", "Computing…"),
    # app pages, links, legends (issue 15)
    "app_page_title": ("{app}：评价详情（{province}）", "{app}: evaluation detail ({province})"),
    "back_to_index": ("返回全国概览", "Back to the national overview"),
    "back_to_report": ("返回本省推荐报告", "Back to the province's recommendation report"),
    "identity": ("基本信息", "Identity"),
    "decision": ("评价结论", "Decision"),
    "criterion_scores": ("各指标得分及依据", "Criterion scores and their evidence"),
    "checks": ("否决项与豁免", "Veto items and waivers"),
    "waivers_in_force": ("有效的豁免", "Waivers in force"),
    "robustness_related": ("稳健性与相关应用", "Robustness and related apps"),
    "overlap_partners": ("功能重叠的其他候选应用", "Candidates it overlaps with"),
    "history": ("历次评价记录", "History across cycles"),
    "provider_credit": ("提供者信用", "Provider credit"),
    "credit_entry": ("查看信用报告中的该提供者", "This provider in the credit report"),
    "how_to_object": ("如何提出异议", "How to object"),
    "object_default": (
        "对本评价结果有异议的，可在推荐名单公示期内，向{province}教育行政部门书面提出，写明应用备案号、"
        "异议事项和理由并附证明材料；公示期和受理渠道以公示公告为准。异议经复核后作出决定并告知。",
        "Objections to this result are made in writing to the education department of {province} during the "
        "public notice of the list, stating the app's filing number, the point objected to and the grounds, "
        "with evidence; the notice gives the period and the channel. Each objection is re-checked and answered.",
    ),
    "this_cycle": ("本期", "this cycle"),
    "app_choose": ("请在本省推荐报告或全国概览的备案应用检索中选择一个应用。",
                   "Choose an app in the province's recommendation report or the national register search."),
    "app_not_found": ("未找到该应用：链接可能已过期，请在本省推荐报告中重新选择。",
                      "No such app here: the link may be out of date; choose the app again in the province's report."),
    "app_loading": ("正在加载……", "Loading…"),
    "app_viewer_title": ("应用评价详情（{province}）", "App evaluation details ({province})"),
    "is_close_call": ("是否临界", "Close call"),
    "veto_overrides": (
        "否决项优先于得分：未通过否决项或不符合推荐条件的应用一律排除，不论总分高低；其得分仅供参考。",
        "A veto overrides the score: an app that fails a veto item or is not eligible is excluded whatever its "
        "total score; the score is shown for reference only.",
    ),
    "not_assessed": ("未评估", "not assessed"),
    "not_assessed_note": (
        "“未评估”：该维度的评估结果缺失或已过有效期，没有可用的得分（不是 0 分）。",
        "\"not assessed\": the dimension's assessments are missing or out of date, so it has no usable score "
        "(not a score of 0).",
    ),
    "close_call_note": (
        "临界应用：稳健性分析中入选与否不稳定的应用（入选概率在 0.2 至 0.8 之间，或与决定相反）。"
        "入选概率为 1 表示在每次重新抽样中都入选，即该决定对权重和评审专家的变化不敏感。",
        "Close call: an app whose place on the list is unstable in the robustness analysis (P(listed) between "
        "0.2 and 0.8, or against its decision). A P(listed) of 1 means it made the list in every resample: "
        "the decision does not depend on the weights or on which raters scored it.",
    ),
    "rank_interval_note": (
        "排名区间：重新抽样中该应用排名的 5% 至 95% 分位。",
        "Rank interval: the 5th to 95th percentile of the app's rank across the resamples.",
    ),
    # the legend of the inspection priorities, by the basis actually used (evalkit.publish.report.priority_legend)
    "priority_legend": (
        "检查优先级按预警模型估计的风险概率划分：A 低于 {a}（常规抽查），B {a}–{b}，C {b}–{c}，"
        "D {c} 及以上（重点检查、提高检查频次）。",
        "Inspection priority from the warning model's risk estimate: A below {a} (routine sampling), B {a}–{b}, "
        "C {b}–{c}, D {c} or more (inspect first and most often).",
    ),
    "priority_legend_rules": (
        "本期预警模型未被采用（原因见上），检查优先级按规则划分，不按风险概率：D 近 12 个月有严重违规、"
        "曾弄虚作假或违规逾期未整改（重点检查、提高检查频次）；C 近 12 个月有违规或查实的投诉；"
        "B 近 90 天有投诉或有逾期未办结的投诉；其余为 A（常规抽查）。表中的风险概率是基准规则的估计"
        "（训练期内近 12 个月有或没有违规、查实投诉的提供者，在随后 {days} 天内发生严重违规或查实投诉的比例），"
        "仅供参考，不决定检查优先级。",
        "The warning model is not used this cycle (the reason is given above): inspection priority comes from "
        "rules, not from the risk percentage. D: a serious violation in the last 12 months, a fraud, or a "
        "violation left unrectified past its deadline (inspect first and most often); C: any violation or "
        "substantiated complaint in the last 12 months; B: a complaint in the last 90 days or a complaint "
        "overdue; A: none of these (routine sampling). The risk shown is the baseline's estimate (how often "
        "providers with, or without, a violation or substantiated complaint in the last 12 months had a serious "
        "violation or substantiated complaint in the next {days} days during training), for information only: "
        "it does not set the priority.",
    ),
    "grade_rule": (
        "信用等级按得分划分：A ≥ {a}，B ≥ {b}，C ≥ {c}，D 低于 {c}；近 24 个月内有欺诈或严重违规的直接降为 D。"
        "名单状态与等级分别认定：新的被核实投诉即列入灰名单，因此 A 级提供者也可能在灰名单上；"
        "欺诈、灰名单期间再次违规或 D 级且严重违规逾期未整改的列入黑名单。",
        "Credit grade by score: A ≥ {a}, B ≥ {b}, C ≥ {c}, D below {c}; fraud or a serious violation within 24 "
        "months downgrades directly to D. The list is decided apart from the grade: a new substantiated "
        "complaint puts a provider on the grey list, so a grade-A provider can be grey-listed; fraud, a new "
        "violation while grey, or grade D with a serious violation not rectified in time leads to the blacklist.",
    ),
    "list_legend": (
        "白名单：无不良记录；灰名单（负面清单）：需整改、重点关注；黑名单：禁入期内不得申报。",
        "White list: no adverse record; grey list (negative list): under watch, to rectify; blacklist: "
        "barred from filing until the ban ends.",
    ),
    "downloads": ("下载数据", "Downloads"),
    "executed_notebook": ("报告计算过程（Jupyter 笔记本）", "How this report was computed (Jupyter notebook)"),
    "glossary": ("统计术语说明", "What the statistics mean"),
    "n_submissions": ("各省申报合计", "Submissions to provinces"),
    "n_filed_apps": ("备案应用", "Filed apps"),
    "submissions_note": (
        "“各省申报合计”按应用 × 省份计数：一个备案应用可向多个省份申报，因此大于备案应用数。",
        "\"Submissions to provinces\" counts app × province: one filed app may be submitted to several provinces, "
        "so it exceeds the number of filed apps.",
    ),
    "app_detail": ("详情", "Detail"),
    "assessed_on": ("评估日期", "Assessed on"),
    "assessor": ("评估机构", "Assessor"),
    "report_ref": ("报告编号", "Report"),
    "panel_spread": ("专家评分中位数（四分位距，人数）", "Panel median (IQR, raters)"),
    "evidence_status": ("依据状态", "Evidence"),
    "source": ("来源", "Source"),
    "flags": ("标记", "Flags"),
    "approved_on": ("批准日期", "Approved on"),
    "mlps_level": ("等级保护级别", "MLPS level"),
    "overall": ("结论", "Decision"),
    "no_match": ("没有符合搜索条件的记录", "No row matches the search"),
    "provider_apps": ("各提供者的申报应用（点击应用名称查看评价详情）",
                      "Each provider's candidate apps (an app's name opens its evaluation detail)"),
    # schools (issue 18): evalkit.evaluate.schools, notebooks/schools.ipynb
    "schools_title": ("{name}中小学校教育移动应用选用与监管报告", "{name}: schools' use of education apps"),
    "school_report": ("学校报告", "Schools"), "counties": ("各区县学校合规情况", "Counties"),
    "common_findings": ("最常见的问题", "Most common findings"), "schools_section": ("各学校情况", "Schools"),
    "school_findings": ("学校问题明细", "Findings per school"), "school_alerts": ("停用提醒", "Withdrawal alerts"),
    "schools_note": (
        "学校、单位均为机构，本报告不含个人信息。区县合规率为无问题学校所占比例；低于阈值的区县和问题较多的学校列为约谈或通报对象。",
        "Schools and units are institutions: this report holds no personal data. A county's compliance share is "
        "the share of its schools without findings; counties below the profile's thresholds and schools with many "
        "findings are to be interviewed or notified.",
    ),
    "school_id": ("学校标识码", "School ID"), "school_name": ("学校", "School"),
    "county_code": ("区县代码", "County code"), "kind": ("办学性质", "Kind"),
    "n_schools": ("学校数", "Schools"), "n_compliant": ("合规学校", "Compliant schools"),
    "compliance_share": ("合规率", "Compliance share"), "n_alerts": ("停用提醒", "Alerts"),
    "n_alerts_resolved": ("按期停用", "Resolved in time"), "n_alerts_late": ("逾期", "Late"),
    "n_alerts_open": ("待停用", "Open"), "share_alerts_resolved": ("按期停用率", "Share resolved in time"),
    "main_findings": ("主要问题", "Main findings"), "action": ("监管措施", "Action"),
    "n_selections": ("选用记录", "Selections"), "n_in_use": ("在用应用", "Apps in use"),
    "n_unified": ("统一使用", "Unified use"), "n_findings": ("问题数", "Number of findings"),
    "findings": ("问题", "Findings"), "finding": ("问题", "Finding"), "compliant": ("合规", "Compliant"),
    "alert": ("提醒原因", "Alert"), "since": ("提醒日期", "Since"), "withdraw_by": ("停用期限", "Withdraw by"),
    "withdrawn_on": ("停用日期", "Withdrawn on"), "alert_status": ("处理情况", "Status"),
    # public notice (issue 17, evalkit notice)
    "notice_title": ("{name}教育移动互联网应用程序推荐名单公示", "{name}: public notice of the draft recommended list"),
    "notice_lead": (
        "以下为拟推荐名单，公示期自{as_of}起{days}个工作日，至{ends_on}止。公示期内对名单有异议的，可按下列方式提出；"
        "异议经复查后，于公示期满后公布正式名单。",
        "Below is the draft recommended list. The notice runs {days} working days from {as_of} to {ends_on}. "
        "Objections may be made as below during the notice; they are re-checked before the final list is "
        "published after the notice ends.",
    ),
    "notice_period": ("公示期", "Notice period"),
    "notice_how_label": ("异议方式", "How to object"),
    "notice_how": (
        "公示期内向省级教育行政部门书面提出异议，写明所涉应用、理由和证据，并留下联系方式。",
        "Object in writing to the provincial education department before the notice ends, naming the app, "
        "the grounds and the evidence, with a contact.",
    ),
    "notice_grounds": ("异议理由类别", "Grounds accepted"),
    "notice_recommended": ("拟推荐名单", "Draft list"),
    "notice_not_recommended": ("未入选应用及原因", "Not selected, with reasons"),
    "notice_excluded": ("排除应用及原因", "Excluded, with reasons"),
    "objections_title": ("公示异议与复查", "Objections to the public notice and re-checks"),
    "objections_none": ("公示期内未收到异议。", "No objection was received during the public notice."),
    "objections_note": (
        "公示期内收到的异议及其复查结论。异议人的姓名、联系方式和异议内容不予公开。",
        "The objections received during the public notice and what their re-check decided. Objectors' "
        "names, contacts and the text of objections are never published.",
    ),
    "objections_by_grounds": ("按异议理由", "By grounds"),
    "objections_by_from_kind": ("按异议来源", "By source"),
    "objections_by_outcome": ("按复查结论", "By outcome"),
    "objection_from": ("异议来源", "From"),
    "objection_grounds": ("异议理由", "Grounds"),
    "objection_received": ("收到日期", "Received"),
    "objection_outcome": ("复查结论", "Re-check"),
    "objection_decided": ("复查日期", "Decided"),
    "objection_effect": ("对名单的影响", "Effect on the list"),
    "objection_action_hold": ("尚待复查：暂缓列入名单", "re-check pending: held off the list"),
    "objection_action_hold_register": ("尚待复查（登记册记载的待复查异议）：暂缓列入名单",
                                       "re-check pending (as the register records it): held off the list"),
    "objection_action_remove": ("异议成立：移出名单", "upheld: removed from the list"),
    "objection_action_reevaluate": ("提供者异议成立：依复查补充的证据重新评估",
                                    "the provider's objection upheld: re-evaluated on the evidence added"),
    "objection_action_none": ("异议不成立：维持原评估结论", "rejected: the decision stands"),
    "objection_action_not_admitted": ("不予受理：不影响名单", "not admitted: no effect on the list"),
    "notice_privacy": ("异议人的姓名、联系方式和异议内容不予公开。",
                       "Objectors' names, contacts and the text of objections are never published."),
    # the method disclosed (evalkit.publish.report.disclosure_section)
    "conflicts_heading": ("利益冲突回避", "Conflicts of interest"),
    "conflicts_none": ("本省评审专家组本期没有需要回避的评分：没有专家为与其存在利益关系的提供者的应用评分。",
                       "No score of the province's scoring panel was removed this cycle: no expert scored an app "
                       "of a provider they have ties with."),
    "conflicts_removed": ("本省评审专家组中，专家为与其存在利益关系的提供者的应用所打的分数不予采用：{rounds}。",
                          "Scores given by experts to apps of providers they have ties with were removed from the "
                          "province's scoring panel: {rounds}."),
    "conflicts_round": ("第 {round} 轮 {scores} 项评分（{experts} 位专家，涉及 {apps} 个应用）",
                        "round {round}, {scores} scores ({experts} experts, {apps} apps)"),
    "waivers_in_force_note": ("以下 {n} 项豁免本期有效：被豁免的指标未通过时不导致排除；豁免到期后不再适用。",
                              "These {n} waivers are in force this cycle: a waived criterion that fails does not "
                              "exclude the app; the waiver no longer applies once it expires."),
    "waivers_none": ("本期没有有效的豁免。", "No waiver is in force this cycle."),
    # charts: their data as a table, axis titles (evalkit.publish.charts)
    "chart_data": ("图表数据（表格）", "The chart's data as a table"),
    "count": ("数量", "Count"),
    "bin_from": ("区间起点", "From"),
    "bin_to": ("区间终点", "To"),
    "rank_lo": ("排名区间下限", "Rank interval, best"),
    "rank_hi": ("排名区间上限", "Rank interval, worst"),
    "n_providers_axis": ("提供者数", "Providers"),
    "n_complaints_axis": ("投诉数", "Complaints"),
    "n_apps_axis": ("应用数", "Apps"),
    "dimension_axis": ("维度", "Dimension"),
    "complaint_category_axis": ("投诉类别", "Complaint category"),
    # the issue block of a report (evalkit.publish.issue), printed for the officer who signs
    "issuing_authority": ("发布机关", "Issued by"),
    "issue_status": ("状态", "Status"),
    "issue_status_final": ("正式发布", "final (published)"),
    "issue_status_draft": ("草稿（未发布，不得作为正式名单）", "draft (not published; not the official list)"),
    "issue_date": ("评审日期", "Date"),
    "data_fingerprint": ("数据指纹（SHA-256）", "Data fingerprint (SHA-256)"),
    "data_fingerprint_note": (
        "数据指纹是本省 provenance.json（不含其登记簿周期 register_cycle 一项）的 SHA-256 值；该文件记录全部输入文件、"
        "评审规则和省级配置的哈希值，任何一项改变，指纹随之改变。",
        "The fingerprint is the SHA-256 of the province's provenance.json without its register_cycle entry; "
        "it holds the hashes of every input file, the rubric and the province profile: any change to them "
        "changes it."),
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
    joiner = separator("item", lang)
    uniq = pd.unique(text.to_numpy())
    table = {
        v: joiner.join(word(vocabulary, part.strip(), lang) for part in (v.split(sep) if sep else [v]) if part.strip())
        for v in uniq  # distinct values (a handful), not rows
    }
    return text.map(table).astype("str")


def separator(kind: str, lang: str = "zh") -> str:
    """The punctuation ``kind`` (``item``, ``clause`` or ``colon``, see :data:`SEPARATORS`) in ``lang``.

    Raises
    ------
    I18nError
        Unknown kind or language (also a ``ValueError``).
    """
    i = _check_lang(lang, "separator")
    if kind not in SEPARATORS:
        raise I18nError(param_message("kind", "separator", f"one of {sorted(SEPARATORS)}", repr(kind)))
    return SEPARATORS[kind][i]


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
