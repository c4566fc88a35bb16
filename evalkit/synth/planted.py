"""Planted cases: fixed identifiers at every scale and seed (documented in docs/generator.md),
so that reports have true things to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.data import identifiers

__all__ = [
    "APP_INDEX",
    "HOSTILE_DESCRIPTION",
    "OVERLAP_DESCRIPTION",
    "PLANTED_APPS",
    "PLANTED_PROVIDERS",
    "PROVIDER_INDEX",
    "PlantedApp",
    "PlantedProvider",
    "case_table",
    "planted_uscc",
    "spoil_check",
]


@dataclass(frozen=True)
class PlantedProvider:
    """A provider planted at a fixed identifier (its USCC is made from ``org8``)."""

    key: str
    province: str
    name: str
    org8: str



@dataclass(frozen=True)
class PlantedApp:
    """An app planted at a fixed filing number (``serial`` in its provider's province)."""

    key: str
    provider: str  # PlantedProvider.key
    serial: int
    name: str
    category: str
    stages: str
    users: str
    features: str = ""
    fees: bool = False
    ads: bool = False
    games: bool = False
    mandated: bool = False
    quality: float = 1.0  # latent quality for the panel (assessments always use a high one)


PLANTED_PROVIDERS: tuple[PlantedProvider, ...] = (
    PlantedProvider("gaming", "44", "广州优学星辰教育科技有限公司", "MA9P0001"),
    PlantedProvider("fraud", "11", "北京启明未来科技有限公司", "MA9P0002"),
    PlantedProvider("hostile", "31", "上海<script>alert(1)</script>教育科技有限公司", "MA9P0003"),
    PlantedProvider("mlps_expired", "32", "南京博雅数字网络科技有限公司", "MA9P0004"),
    PlantedProvider("fujian_pilot", "35", "福州云帆长青教育科技有限公司", "MA9P0005"),
    PlantedProvider("legacy_icp", "53", "昆明墨香百川文化传播有限公司", "MA9P0006"),
    PlantedProvider("repeat", "42", "武汉鸿图恒通科技有限公司", "MA9P0007"),
    PlantedProvider("overlap_a", "33", "杭州智汇光年教育科技有限公司", "MA9P0008"),
    PlantedProvider("overlap_b", "33", "杭州学而方圆网络科技有限公司", "MA9P0009"),
    PlantedProvider("mandated", "44", "广州慧科北辰科技有限公司", "MA9P0010"),
    PlantedProvider("minors", "51", "成都童趣嘉禾教育科技有限公司", "MA9P0011"),
    PlantedProvider("ugc", "37", "济南知行众联网络科技有限公司", "MA9P0012"),
    PlantedProvider("stale_filing", "61", "西安青禾同文信息技术有限公司", "MA9P0013"),
    PlantedProvider("waivers", "34", "合肥翰林汇智科技有限公司", "MA9P0014"),
)


PROVIDER_INDEX = {p.key: i for i, p in enumerate(PLANTED_PROVIDERS)}


PLANTED_APPS: tuple[PlantedApp, ...] = (
    PlantedApp("gaming_1", "gaming", 1, "优学口算星球", "learning", "primary", "students;parents",
                quality=-0.4),
    PlantedApp("gaming_2", "gaming", 2, "优学英语大师", "learning", "primary;junior", "students",
                quality=-0.4),
    PlantedApp("fraud", "fraud", 1, "启明作业帮手", "learning", "junior;senior", "students",
                features="payments", fees=True),
    PlantedApp("hostile_hyperlink", "hostile", 1, '=HYPERLINK("http://x","y")', "teaching",
                "primary;junior", "teachers"),
    PlantedApp("hostile_plus", "hostile", 2, "+1+1", "learning", "primary", "students"),
    PlantedApp("hostile_at", "hostile", 3, "@SUM(1)", "management", "senior", "teachers"),
    PlantedApp("hostile_quoted", "hostile", 4, '"quoted, comma"', "home_school", "primary",
                "parents;teachers"),
    PlantedApp("mlps_expired", "mlps_expired", 1, "博雅智慧课堂", "teaching", "junior",
                "teachers;students"),
    PlantedApp("fujian_pilot", "fujian_pilot", 1, "云帆阅读", "learning", "primary",
                "students;parents"),
    PlantedApp("legacy_icp", "legacy_icp", 1, "墨香书法", "learning", "primary;junior",
                "students"),
    PlantedApp("repeat", "repeat", 1, "鸿图校园通", "management", "junior;senior",
                "teachers;parents", features="payments", fees=True),
    PlantedApp("overlap_a", "overlap_a", 1, "智汇作业本", "learning", "primary",
                "students;parents", features="payments", fees=True),
    PlantedApp("overlap_b", "overlap_b", 2, "学而作业本", "learning", "primary",
                "students;parents", features="payments", fees=True),
    PlantedApp("mandated_fees", "mandated", 3, "慧科家校通", "home_school", "primary;junior",
                "parents;teachers", features="payments", fees=True, mandated=True),
    PlantedApp("mandated_ads", "mandated", 4, "慧科校园通知", "home_school", "primary",
                "parents;teachers", ads=True, mandated=True),
    PlantedApp("minors_no_limit", "minors", 1, "童趣口算", "learning", "primary", "students"),
    PlantedApp("minors_no_age", "minors", 2, "童趣绘本", "learning", "preschool;primary",
                "students;parents"),
    PlantedApp("ugc_no_review", "ugc", 1, "知行学习圈", "learning", "junior;senior", "students",
                features="ugc"),
    PlantedApp("stale_filing", "stale_filing", 1, "青禾错题本", "learning", "senior", "students"),
    PlantedApp("waiver_active", "waivers", 1, "翰林备课", "teaching", "primary;junior",
                "teachers"),
    PlantedApp("waiver_expired", "waivers", 2, "翰林题库", "teaching", "junior;senior",
                "teachers"),
)


APP_INDEX = {a.key: i for i, a in enumerate(PLANTED_APPS)}


HOSTILE_DESCRIPTION: dict[str, str] = {
    "hostile_hyperlink": "面向教师的备课工具<script>alert(1)</script>，支持<b>富文本</b>课件。",
    "hostile_plus": "+1+1 口算练习，=1+1 也能算对。",
    "hostile_at": "@SUM(1) 成绩统计，支持导出 \"quoted, comma\" 格式报表。",
    "hostile_quoted": "第一行：家校通知\n第二行：\"quoted, comma\"\r\n-2+3 =cmd|' /C calc'!A0",
}


OVERLAP_DESCRIPTION = (
    "是一款面向小学学生和家长的学习应用。提供分年级的同步练习和讲解视频，拍照识别错题并自动"
    "归入错题本，按知识图谱推荐薄弱点练习。部分增值服务需在线支付。"
)


def spoil_check(code: str) -> str:
    """The Fujian pilot's code: ``code`` with a wrong check character (valid format, failing
    check: a warning, never an error)."""
    wrong = identifiers.USCC_CHARSET[(identifiers.USCC_CHARSET.index(code[-1]) + 7) % 31]
    return code[:-1] + wrong


def planted_uscc() -> np.ndarray:
    """The USCCs of :data:`PLANTED_PROVIDERS`, in order (the Fujian pilot's spoiled)."""
    ids = identifiers.make_uscc_array(
        "9", "1", np.array([identifiers.PROVINCES[p.province].capital_division
                            for p in PLANTED_PROVIDERS]),
        np.array([p.org8 for p in PLANTED_PROVIDERS])).astype(object)
    fj = PROVIDER_INDEX["fujian_pilot"]
    ids[fj] = spoil_check(ids[fj])
    return ids


def case_table(scale: str, province: str) -> pd.DataFrame:
    """The planted cases of ``scale`` (``province``: the province of the ``province`` scale):
    ``case``, ``table``, ``id`` and ``expect`` (see :func:`evalkit.synth.generate.planted_cases`)."""
    uscc = {p.key: p for p in PLANTED_PROVIDERS}
    ids = planted_uscc()
    pid = {p.key: ids[i] for i, p in enumerate(PLANTED_PROVIDERS)}
    aid = {a.key: f"教APP备{uscc[a.provider].province}{a.serial:05d}号" for a in PLANTED_APPS}
    gaming_prov = province if scale == "province" else "44"
    rows = [
        ("mandated_fees", "apps", aid["mandated_fees"], "veto L16_mandated_no_fees where mandated_use"),
        ("mandated_ads", "apps", aid["mandated_ads"], "veto L17_mandated_no_ads where mandated_use"),
        ("mlps_expired", "providers", pid["mlps_expired"],
         "MLPS level 3 evaluated 520 days before as_of: veto L04 for its app"),
        ("mlps_expired", "apps", aid["mlps_expired"], "veto L04_mlps_evaluation_current"),
        ("minors_no_limit", "apps", aid["minors_no_limit"], "veto C08_minors_time_limit"),
        ("minors_no_age", "apps", aid["minors_no_age"], "veto C09_minors_age_range"),
        ("ugc_no_review", "apps", aid["ugc_no_review"], "veto C07_ugc_review_system (false)"),
        ("gaming_panel", "providers", pid["gaming"],
         "declared conflict of the expert below, breached: inflated scores"),
        ("gaming_panel", "apps", aid["gaming_1"], "scored +3.5 by the conflicted expert"),
        ("gaming_panel", "apps", aid["gaming_2"], "scored +3.5 by the conflicted expert"),
        ("gaming_panel", "experts", f"E{gaming_prov}001",
         "conflicts lists the gaming provider; scored its apps anyway"),
        ("overlap", "apps", aid["overlap_a"], "near-duplicate of the next app (province 33)"),
        ("overlap", "apps", aid["overlap_b"], "near-duplicate of the previous app"),
        ("fraud", "providers", pid["fraud"], "violation V0000001 fraud=true: grade D, blacklisted"),
        ("fraud", "violations", "V0000001", "fraud=true, unrectified"),
        ("hostile_text", "providers", pid["hostile"], "name with <script>, legal_rep with quotes"),
        ("hostile_text", "apps", aid["hostile_hyperlink"], '=HYPERLINK("http://x","y") name'),
        ("hostile_text", "apps", aid["hostile_plus"], "+1+1 name"),
        ("hostile_text", "apps", aid["hostile_at"], "@SUM(1) name"),
        ("hostile_text", "apps", aid["hostile_quoted"], '"quoted, comma" name, multi-line description'),
        ("personal_data", "complaints", "C00000001", "phone and ID number in text"),
        ("personal_data", "complaints", "C00000002", "phone and ID number in text; resolved late"),
        ("personal_data", "complaints", "C00000003", "email in text; open"),
        ("stale_filing", "apps", aid["stale_filing"],
         "info_updated_on before last_release_on: L05_filing_updated fails"),
        ("fujian_pilot", "providers", pid["fujian_pilot"], "USCC fails the check: a warning only"),
        ("legacy_icp", "providers", pid["legacy_icp"], "legacy ICP form 滇ICP备09010050-5号 (valid)"),
        ("repeat_offender", "providers", pid["repeat"],
         "V0000002-V0000004; V0000004 unrectified past rectify_by"),
        ("waiver_active", "waivers", aid["waiver_active"],
         "S09 false, waived until as_of+120 days"),
        ("waiver_expired", "waivers", aid["waiver_expired"],
         "S10 = 3, waiver expired 35 days before as_of (not applied)"),
    ]
    return pd.DataFrame(rows, columns=["case", "table", "id", "expect"])
