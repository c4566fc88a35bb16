"""The words for the codes of each vocabulary shown to readers, in Simplified Chinese and English.

Data only; :mod:`evalkit.i18n` looks them up (``word``, ``words``, ``t``) and re-exports
:data:`VOCABULARIES`.
"""

from __future__ import annotations

#: Words for the codes of each vocabulary: ``{vocabulary: {code: (zh, en)}}``.
VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    # decisions.status, the CLI summary, the index and the register
    "status": {
        "recommended": ("推荐", "recommended"),
        "not_recommended": ("未入选", "not selected"),
        "excluded": ("排除", "excluded"),
        "on_hold": ("暂缓（异议待复查）", "on hold (objection pending)"),
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
    # the evidence of a criterion score (evalkit.evaluate.criteria.EVIDENCE)
    "evidence": {
        "ok": ("有效", "current"),
        "na": ("评估为不适用", "assessed as not applicable"),
        "missing": ("缺少评估证据", "no evidence"),
        "stale": ("评估已过有效期", "assessment out of date"),
        "insufficient_panel": ("专家人数不足", "too few raters"),
        "waived": ("已豁免", "waived"),
        "not_applicable": ("不适用", "does not apply"),
    },
    "source": {
        "registry": ("登记信息核查", "registry check"),
        "assessment": ("第三方评估", "third-party assessment"),
        "panel": ("专家评审", "expert panel"),
    },
    "flag": {
        "close_call": ("临界", "close call"),
        "overlap": ("功能重叠", "overlap"),
        "third_party_admissions": ("第三方招生考试类", "third-party admissions"),
        "waiver": ("持有豁免", "holds a waiver"),
    },
    "priority": {
        "A": ("A（低风险，常规抽查）", "A (low risk, routine)"),
        "B": ("B（较低风险）", "B (moderate risk)"),
        "C": ("C（较高风险）", "C (elevated risk)"),
        "D": ("D（高风险，重点检查）", "D (high risk, inspect often)"),
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
    # violations.type (the sanction notices' facts; evalkit.synth.names.VIOLATION_TYPES and fraud)
    "violation_type": {
        "false_material": ("提供虚假材料", "false material"),
        "privacy": ("侵犯隐私与个人信息", "privacy and personal data"),
        "fees": ("违规收费", "improper fees"),
        "ads": ("违规广告", "improper advertising"),
        "forced_use": ("强制使用", "forced use"),
        "harmful_content": ("有害信息", "harmful content"),
        "security_incident": ("安全事件", "security incident"),
        "filing_not_updated": ("备案信息未及时更新", "filing not updated"),
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
    # schools (issue 18)
    "school_kind": {"public": ("公办", "public"), "private": ("民办", "private")},
    "decision_body": {
        "school_meeting": ("校务会议", "school meeting"), "principal_office": ("校长办公会", "principal's office"),
        "party_committee": ("党组织会议", "party committee"),
        "education_department": ("教育行政部门", "education department"), "none": ("无决策程序", "none"),
    },
    # due process (issue 17): objections to a public notice and their re-checks
    "objection_grounds": {
        "content": ("内容问题", "content"), "privacy": ("个人信息保护", "privacy"), "fees": ("收费", "fees"),
        "ads": ("广告", "ads"), "forced_use": ("强制使用", "forced use"),
        "scoring_error": ("评分错误", "scoring error"),
        "conflict_of_interest": ("利益冲突", "conflict of interest"), "other": ("其他", "other"),
    },
    "objection_from": {
        "public": ("社会公众", "the public"), "parent": ("家长", "a parent"), "school": ("学校", "a school"),
        "provider": ("应用提供者", "the provider"), "expert": ("专家", "an expert"), "other": ("其他", "other"),
    },
    "objection": {
        "none": ("无异议", "none"), "pending": ("待复查", "pending re-check"), "upheld": ("成立", "upheld"),
        "partly_upheld": ("部分成立", "partly upheld"), "rejected": ("不成立", "rejected"),
        "not_admitted": ("不予受理（逾期或无对应公示）", "not admitted (late, or to no such notice)"),
    },
    # sanction statements and credit repair (issue 17)
    "statement_kind": {"statement": ("陈述申辩", "statement"), "hearing": ("听证申请", "hearing request")},
    "statement_outcome": {
        "accepted": ("采纳", "accepted"), "rejected": ("不予采纳", "rejected"), "pending": ("待决定", "pending"),
    },
    "repair_outcome": {
        "approved": ("准予修复", "approved"), "rejected": ("不予修复", "rejected"), "pending": ("待审核", "pending"),
    },
    # credit.csv sanction_stage (issue 17, evalkit.evaluate.sanctions)
    "sanction_stage": {
        "none": ("无", "none"), "notified": ("已告知，待陈述申辩期满", "notified, statement window open"),
        "decided": ("已决定", "decided"), "dismissed": ("经陈述申辩不予处理", "dismissed after the statement"),
        "repaired": ("已信用修复", "credit repaired"),
    },
}
