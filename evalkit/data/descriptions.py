"""The dataset contract in words, Chinese and English: tables, columns, column kinds, codes.

:mod:`evalkit.data.schema` states the contract as data; this module says what each part means
to the people who fill the tables in (the templates of :mod:`evalkit.data.template`, their
README and the workbook's instructions sheet).  Code words come from :mod:`evalkit.i18n`
(:data:`CODE_VOCABULARIES`), so a category reads the same in a template and in a report.
``tests/test_template.py`` checks that every table and column of the schema is described here.
"""

from __future__ import annotations

from evalkit import i18n
from evalkit.data import schema
from evalkit.data.identifiers import PROVINCES

__all__ = [
    "CODE_VOCABULARIES", "COLUMN_TEXT", "DATE_RULES", "KIND_TEXT", "SHEET_NAMES_ZH", "TABLE_TEXT",
    "code_words", "column_text", "kind_text", "sheet_name", "table_for_sheet", "table_text",
]

#: Chinese sheet names of the workbook template (accepted on read, like the table names).
SHEET_NAMES_ZH: dict[str, str] = {
    "providers": "提供者",
    "apps": "应用",
    "submissions": "申报",
    "assessments": "第三方评估",
    "experts": "专家",
    "panel_scores": "专家评分",
    "ahp_judgments": "层次分析判断",
    "complaints": "投诉",
    "violations": "违规记录",
    "waivers": "豁免",
    "schools": "学校",
    "selections": "学校选用",
    "objections": "公示异议",
    "rechecks": "异议复查",
    "sanction_statements": "陈述申辩",
    "credit_repairs": "信用修复",
}

#: What one row of each table is: ``{table: (zh, en)}``.
TABLE_TEXT: dict[str, tuple[str, str]] = {
    "providers": ("每行一个应用提供者（企业或机构）", "one row per app provider (company or organisation)"),
    "apps": ("每行一个备案应用（一个备案号）", "one row per filed app (one filing number)"),
    "submissions": ("每行一个应用向一个省份申报评审", "one row per app submitted to a province's review"),
    "assessments": ("每行一项第三方评估机构对一个指标的检测结论",
                    "one row per third-party finding on one criterion"),
    "experts": ("每行一位评审专家", "one row per panel expert"),
    "panel_scores": ("每行一位专家对一个应用一个指标的评分", "one row per expert score of one criterion of one app"),
    "ahp_judgments": ("每行一位专家的一个两两比较判断（层次分析法）",
                      "one row per pairwise judgment of one expert (AHP)"),
    "complaints": ("每行一件投诉", "one row per complaint"),
    "violations": ("每行一项检查发现或处罚", "one row per inspection finding or sanction"),
    "waivers": ("每行一项经批准的例外（对一个指标）", "one row per approved exception to one criterion"),
    "schools": ("每行一所学校", "one row per school"),
    "selections": ("每行一所学校选用一个应用的决定", "one row per school's decision to use one app"),
    "objections": ("每行一件对省级公示名单提出的异议", "one row per objection to a province's public notice"),
    "rechecks": ("每行一件异议的复查结论", "one row per re-check decision on an objection"),
    "sanction_statements": ("每行一次告知后的陈述申辩或听证申请",
                            "one row per statement or hearing request after a sanction notice"),
    "credit_repairs": ("每行一件信用修复申请", "one row per application for credit repair"),
}

#: What each column holds: ``{table: {column: (zh, en)}}``.
COLUMN_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "providers": {
        "provider_id": ("统一社会信用代码（18位）", "Unified Social Credit Code (18 characters)"),
        "name": ("提供者名称", "provider name"),
        "province_code": ("住所地省份代码", "province code of the domicile"),
        "legal_rep": ("法定代表人", "legal representative"),
        "icp_number": ("ICP备案号，如 京ICP备12345678号", "ICP filing number, e.g. 京ICP备12345678号"),
        "telecom_licence": ("增值电信业务经营许可证号，如 京B2-20190123",
                            "value-added telecom licence, e.g. 京B2-20190123"),
        "mlps_level": ("网络安全等级保护级别（1–5）", "MLPS (cybersecurity protection) level, 1–5"),
        "mlps_filing_no": ("等级保护备案编号", "MLPS filing number"),
        "mlps_evaluated_on": ("最近一次等级测评日期", "date of the latest MLPS evaluation"),
    },
    "apps": {
        "app_id": ("教育移动应用备案号，如 教APP备1100871号", "education app filing number, e.g. 教APP备1100871号"),
        "provider_id": ("提供者的统一社会信用代码（须在提供者表中）", "the provider's USCC (must be in providers)"),
        "name": ("应用名称", "app name"),
        "version": ("版本号", "version"),
        "category": ("应用类别（单选）", "category (one code)"),
        "stages": ("适用学段（可多选，用 ; 分隔）", "school stages (several codes separated by ;)"),
        "primary_users": ("主要用户（可多选，用 ; 分隔）", "primary users (several codes separated by ;)"),
        "minors_primary": ("主要面向未成年人", "mainly used by minors"),
        "features": ("功能特征（可多选，用 ; 分隔）", "features (several codes separated by ;)"),
        "charges_fees": ("是否收费", "charges fees"),
        "has_ads": ("是否含广告", "shows advertising"),
        "has_games": ("是否含游戏", "contains games"),
        "age_range": ("适用年龄，如 6-12", "age range, e.g. 6-12"),
        "daily_limit_min": ("每日使用时长上限（分钟）", "daily use limit (minutes)"),
        "filed_on": ("备案日期", "filing date"),
        "info_updated_on": ("备案信息最近更新日期", "date the filing was last updated"),
        "last_release_on": ("最近一次版本发布日期", "date of the latest release"),
        "description": ("应用简介（提供者填写）", "description (the provider's text)"),
        "self_developed_by": ("自建应用的学校标识码或部门（可空）",
                              "school id or department that built the app itself (may be empty)"),
    },
    "submissions": {
        "app_id": ("应用备案号（须在应用表中）", "app filing number (must be in apps)"),
        "province_code": ("申报的省份代码", "province code of the review"),
        "submitted_on": ("申报日期", "submission date"),
        "mandated_use": ("是否由学校或教育部门统一要求使用", "use mandated by schools or the education department"),
        "batch": ("申报批次", "submission batch"),
    },
    "assessments": {
        "app_id": ("应用备案号（须在应用表中）", "app filing number (must be in apps)"),
        "criterion_id": ("评价指标编号，如 L06_privacy_policy", "criterion id, e.g. L06_privacy_policy"),
        "value": ("检测结论：数值、是/否，或 meets/partial/fails/na",
                  "finding: a number, yes/no, or meets/partial/fails/na"),
        "assessed_on": ("检测日期", "date assessed"),
        "assessor": ("检测机构", "assessor"),
        "report_ref": ("检测报告编号", "report reference"),
    },
    "experts": {
        "expert_id": ("专家编号", "expert id"),
        "name": ("专家姓名", "expert name"),
        "role": ("专家身份", "role"),
        "province_code": ("所属省份代码", "province code"),
        "conflicts": ("需回避的提供者统一社会信用代码（用 ; 分隔）", "providers to recuse from (USCCs separated by ;)"),
    },
    "panel_scores": {
        "province_code": ("评审省份代码", "province code of the panel"),
        "round": ("评审轮次（从 1 开始）", "round (from 1)"),
        "app_id": ("应用备案号（须在应用表中）", "app filing number (must be in apps)"),
        "expert_id": ("专家编号（须在专家表中）", "expert id (must be in experts)"),
        "criterion_id": ("评价指标编号", "criterion id"),
        "score": ("评分（0–10）", "score, 0–10"),
        "scored_on": ("评分日期", "date scored"),
    },
    "ahp_judgments": {
        "expert_id": ("专家编号（须在专家表中）", "expert id (must be in experts)"),
        "level": ("比较的层次", "level compared"),
        "a": ("比较项 a（维度或指标编号）", "item a (dimension or criterion id)"),
        "b": ("比较项 b（维度或指标编号）", "item b (dimension or criterion id)"),
        "value": ("a 相对 b 的重要性（1/9 至 9，如 3 或 1/3）", "importance of a over b (1/9 to 9, e.g. 3 or 1/3)"),
        "province_code": ("判断用于哪个省份的权重（空：专家所属省份）",
                          "province whose weights it informs (empty: the expert's)"),
    },
    "complaints": {
        "complaint_id": ("投诉编号", "complaint id"),
        "app_id": ("被投诉应用备案号（须在应用表中）", "app filing number (must be in apps)"),
        "received_on": ("受理日期", "date received"),
        "channel": ("投诉渠道，如 12345热线", "channel, e.g. 12345热线"),
        "category": ("投诉类别", "complaint category"),
        "substantiated": ("是否查实（办理中可空）", "substantiated (empty while open)"),
        "resolved_on": ("办结日期", "date resolved"),
        "contact": ("投诉人联系方式（个人信息，不公开）", "complainant's contact (personal data, never published)"),
        "text": ("投诉内容（个人信息，不公开）", "complaint text (personal data, never published)"),
    },
    "violations": {
        "violation_id": ("违规记录编号", "violation id"),
        "provider_id": ("提供者统一社会信用代码（须在提供者表中）", "provider's USCC (must be in providers)"),
        "app_id": ("涉及应用备案号（可空）", "app filing number concerned (may be empty)"),
        "found_on": ("发现日期", "date found"),
        "type": ("违规类型", "type of violation"),
        "severity": ("严重程度", "severity"),
        "fraud": ("是否存在弄虚作假", "fraud (false information)"),
        "rectify_by": ("整改期限", "rectification deadline"),
        "rectified_on": ("整改完成日期", "date rectified"),
    },
    "waivers": {
        "app_id": ("应用备案号（须在应用表中）", "app filing number (must be in apps)"),
        "criterion_id": ("豁免的评价指标编号", "criterion id waived"),
        "reason": ("豁免理由", "reason"),
        "approved_by": ("批准人或批准机关", "approved by"),
        "approved_on": ("批准日期", "date approved"),
        "expires_on": ("失效日期（可空）", "expiry date (may be empty)"),
        "province_code": ("批准省份代码（空：全国）", "approving province code (empty: national)"),
    },
    # issue 18 (docs/dataset.md "Schools")
    "schools": {
        "school_id": ("学校标识码（10位数字）", "national school identifier (10 digits)"),
        "name": ("学校名称", "school name"),
        "province_code": ("所在省份代码", "province code"),
        "county_code": ("所在区县行政区划代码（GB/T 2260，6位）", "county division code (GB/T 2260, 6 digits)"),
        "stages": ("学段（可多选）", "stages taught"),
        "kind": ("办学性质", "public or private"),
    },
    "selections": {
        "school_id": ("学校标识码（须在学校表中）", "school identifier (must be in schools)"),
        "app_id": ("选用应用的备案号", "filing number of the app selected"),
        "decided_on": ("选用决定日期", "date decided"),
        "decision_body": ("决策机构", "decision body"),
        "stakeholders_consulted": ("是否征求教师、学生和家长意见", "teachers, students and parents consulted"),
        "content_review_on": ("内容审查日期（空：未审查）", "content review date (empty: not done)"),
        "security_review_on": ("安全审查日期（空：未审查）", "security review date (empty: not done)"),
        "unified_use": ("是否要求统一使用", "required for unified use"),
        "charges_students": ("是否向学生收费", "charges students"),
        "exclusive_agreement": ("是否签订排他性协议", "exclusive agreement"),
        "reported_on": ("向上级主管部门备案日期（空：未备案）",
                        "date reported to the higher department (empty: not reported)"),
        "responsible_unit": ("责任单位（谁选用谁负责）", "responsible unit (who selects is responsible)"),
        "withdrawn_on": ("停用日期（空：在用）", "date withdrawn (empty: in use)"),
        "tied_to_grades": ("是否与学分、成绩或评优挂钩（可空）",
                           "tied to credits, grades or evaluation (may be empty)"),
    },
    # issue 17 (docs/dataset.md, docs/due-process.md): text, contact and note are never published
    "objections": {
        "objection_id": ("异议编号", "objection id"),
        "province_code": ("公示省份代码", "province code of the notice"),
        "app_id": ("所涉应用备案号", "filing number of the app objected to"),
        "notice_date": ("所针对公示的日期", "date of the notice objected to"),
        "received_on": ("收到日期", "date received"),
        "from_kind": ("异议来源", "who objects"),
        "grounds": ("异议理由类别", "grounds"),
        "text": ("异议内容（个人信息，不公开）", "text of the objection (personal data, never published)"),
        "contact": ("联系方式（个人信息，不公开）", "contact (personal data, never published)"),
    },
    "rechecks": {
        "objection_id": ("异议编号（须在异议表中）", "objection id (must be in objections)"),
        "decided_on": ("复查决定日期", "date decided"),
        "outcome": ("复查结论", "outcome"),
        "decided_by": ("复查机构", "decided by"),
        "note": ("说明（不公开）", "note (never published)"),
    },
    "sanction_statements": {
        "provider_id": ("提供者统一社会信用代码", "provider's USCC"),
        "province_code": ("作出告知的省份代码", "province code of the notice"),
        "notified_on": ("告知书日期", "date of the sanction notice"),
        "received_on": ("收到陈述申辩或听证申请的日期", "date the statement or request was received"),
        "kind": ("陈述申辩或听证申请", "statement or hearing request"),
        "outcome": ("采纳情况", "outcome"),
        "decided_on": ("决定日期（可空）", "date decided (may be empty)"),
    },
    "credit_repairs": {
        "provider_id": ("提供者统一社会信用代码", "provider's USCC"),
        "province_code": ("受理省份代码", "province code"),
        "applied_on": ("申请日期", "date applied"),
        "rectification_ref": ("整改证明材料编号", "reference of the rectification evidence"),
        "decided_on": ("决定日期（可空）", "date decided (may be empty)"),
        "outcome": ("审核结果", "outcome"),
    },
}

#: What each column kind accepts: ``{kind: (zh, en)}``.
KIND_TEXT: dict[str, tuple[str, str]] = {
    "id": ("编号（前后空格忽略）", "identifier (surrounding blanks ignored)"),
    "text": ("文字（原样保留）", "text (kept as given)"),
    "province": ("省份代码（见“省份代码”）", "province code (see 'Province codes')"),
    "date": ("日期 YYYY-MM-DD（Excel 日期单元格亦可）", "date YYYY-MM-DD (or an Excel date cell)"),
    "bool": ("是/否（也可 true/false、yes/no、1/0）", "yes/no (also true/false, 是/否, 1/0)"),
    "int": ("整数", "whole number"),
    "float": ("数值", "number"),
    "code": ("代码（单选，见代码表）", "one code (see the code lists)"),
    "list": ("代码列表（可多选，用 ; 或 ； 分隔）", "list of codes (separated by ; or ；)"),
    "idlist": ("编号列表（用 ; 分隔）", "list of identifiers (separated by ;)"),
    "age_range": ("年龄范围 a-b（0 ≤ a ≤ b ≤ 25）", "age range a-b (0 ≤ a ≤ b ≤ 25)"),
    "value": ("数值、是/否，或 meets/partial/fails/na", "a number, yes/no, or meets/partial/fails/na"),
    "saaty": ("1/9 至 9 的判断值（分数如 1/3 亦可）", "a Saaty value 1/9 … 9 (fractions such as 1/3 accepted)"),
}

#: The date rules, ``(zh, en)`` lines.
DATE_RULES: tuple[tuple[str, str], ...] = (
    ("日期一律写作 YYYY-MM-DD，如 2024-06-30；2024/06/30、2024-6-30 和不存在的日期（2023-02-30）均为错误。",
     "Dates are written YYYY-MM-DD, e.g. 2024-06-30; 2024/06/30, 2024-6-30 and impossible dates "
     "(2023-02-30) are errors."),
    ("在 Excel 中可直接输入日期单元格，也可输入上述格式的文字。",
     "In Excel a date may be a date cell or text in that form."),
    ("事件日期（备案、申报、评分、受理、发现、批准等）不得晚于评价基准日（--as-of）。",
     "Event dates (filed, submitted, scored, received, found, approved, ...) may not lie after the "
     "evaluation date (--as-of)."),
    ("整改期限（rectify_by）和失效日期（expires_on）可以晚于评价基准日。",
     "Deadlines and expiries (rectify_by, expires_on) may lie after the evaluation date."),
    ("办结、整改完成和失效日期不得早于对应的受理、发现和批准日期；备案信息更新日期早于备案日期时给出警告。",
     "resolved_on, rectified_on, rectify_by and expires_on may not precede received_on, found_on "
     "and approved_on; info_updated_on before filed_on is a warning."),
)

#: The i18n vocabulary holding the words of each coded column's codes.
CODE_VOCABULARIES: dict[tuple[str, str], str] = {
    ("apps", "category"): "category",
    ("apps", "stages"): "stage",
    ("apps", "primary_users"): "user",
    ("apps", "features"): "feature",
    ("experts", "role"): "role",
    ("ahp_judgments", "level"): "ahp_level",
    ("complaints", "category"): "complaint_category",
    ("violations", "severity"): "severity",
    ("schools", "stages"): "stage",
    ("schools", "kind"): "school_kind",
    ("selections", "decision_body"): "decision_body",
    ("objections", "from_kind"): "objection_from",
    ("objections", "grounds"): "objection_grounds",
    ("rechecks", "outcome"): "objection",
    ("sanction_statements", "kind"): "statement_kind",
    ("sanction_statements", "outcome"): "statement_outcome",
    ("credit_repairs", "outcome"): "repair_outcome",
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[i18n.LANGS.index(lang)] if lang in i18n.LANGS else pair[0]


def table_text(table: str, lang: str = "zh") -> str:
    """What one row of ``table`` is, in ``lang``."""
    return _pick(TABLE_TEXT[table], lang)


def column_text(table: str, column: str, lang: str = "zh") -> str:
    """What ``table.column`` holds, in ``lang``."""
    return _pick(COLUMN_TEXT[table][column], lang)


def kind_text(kind: str, lang: str = "zh") -> str:
    """What a column of ``kind`` accepts, in ``lang``."""
    return _pick(KIND_TEXT[kind], lang)


def code_words(table: str, column: str, lang: str = "zh") -> dict[str, str]:
    """``{code: word}`` of a coded column (``code``/``list`` kinds, province codes and booleans
    included), in the contract's order; ``{}`` for a column without codes."""
    col = schema.TABLES[table].column(column)
    if col.kind == "province":
        return {c: (p.name_zh if lang == "zh" else p.name_en) for c, p in PROVINCES.items()}
    if col.kind == "bool":
        yes, no = (i18n.word("bool", v, lang) for v in (True, False))
        return {yes.capitalize(): yes, no.capitalize(): no}
    if not col.codes:
        return {}
    vocabulary = CODE_VOCABULARIES.get((table, column))
    return {c: (i18n.word(vocabulary, c, lang) if vocabulary else c) for c in col.codes}


def sheet_name(table: str, lang: str = "zh") -> str:
    """A table's sheet name in the workbook template: Chinese in zh, the table name in en."""
    return SHEET_NAMES_ZH[table] if lang == "zh" else table


def table_for_sheet(name: str) -> str | None:
    """The table a sheet holds by its name: the table name or its Chinese name (blanks and
    case ignored), else None."""
    key = name.strip().lower()
    for table in schema.TABLES:
        if key in (table, SHEET_NAMES_ZH[table]):
            return table
    return None
