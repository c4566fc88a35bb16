"""Deterministic, realistic generator of contract-v1 datasets (``evalkit generate``).

Three scales (DESIGN.md §8):

``sample``
    all 32 provincial units, 20–40 candidates each, a 7-expert panel per province scoring every
    candidate; small enough to commit (``data/sample/``, under 5 MB).
``province``
    one province (default Guangdong, ``44``): 2,000 candidates scored by a 9-expert panel.
``national``
    32 units, 50,000 apps, 10,000 providers, 7 experts per app drawn from a provincial pool
    (≈ 4 M panel rows, ≈ 2 M assessments, 1 M complaints); fully vectorised.

Determinism: the same ``(scale, seed, as_of, province)`` gives the same bytes.  Every random
stream is a :class:`numpy.random.Generator` seeded with ``[seed, crc32(stream name)]``, rows
are sorted by their keys, floats are written with a fixed formatting and no Python ``dict`` or
``set`` order or string hashing decides anything.

Known cases are *planted* at fixed identifiers at every scale and seed (see
``docs/generator.md`` and :func:`planted_cases`), so that reports have true things to find.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
import math
import zlib
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.special import ndtri

from evalkit.synth import names as N
from evalkit.data import identifiers
from evalkit.data import schema

__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_PROVINCE",
    "FORMATS",
    "MIN_APPS",
    "SCALES",
    "generate",
    "generate_tables",
    "planted_cases",
    "write_tables",
]

Scale = Literal["sample", "province", "national"]
Format = Literal["csv", "parquet"]
SCALES: tuple[str, ...] = ("sample", "province", "national")
FORMATS: tuple[str, ...] = ("csv", "parquet")
DEFAULT_AS_OF = _dt.date(2026, 9, 1)
DEFAULT_PROVINCE = "44"

_CODES = identifiers.PROVINCE_CODES
_NCODE = len(_CODES)
_CODE_INDEX = {c: i for i, c in enumerate(_CODES)}


@dataclass(frozen=True)
class _Size:
    providers: int
    apps: int
    panel: int  # experts per panel (sample/province) or per app (national)
    per_app_panel: bool
    cross_rate: float  # share of apps also submitted to 1–3 other provinces
    min_candidates: int  # per province (sample): topped up with cross-submissions
    complaints_per_app: float
    history_rate: float  # share of apps with an earlier assessment report as well
    delphi: tuple[str, ...]  # provinces whose latest batch has a second Delphi round
    ahp: tuple[str, ...]  # provinces whose experts give AHP judgments
    violation_rate: float  # violations per provider
    waiver_rate: float  # waivers per app (plus the planted ones)


_SIZES: dict[str, _Size] = {
    "sample": _Size(140, 320, 7, False, 0.12, 20, 1.0, 0.03, ("63", "64"), ("11",), 0.06, 0.008),
    "province": _Size(420, 2000, 9, False, 0.0, 0, 1.5, 0.15, ("*",), ("*",), 0.05, 0.003),
    "national": _Size(10000, 50000, 7, True, 0.03, 0, 20.0, 0.30, ("63", "64"),
                      ("11", "31", "44", "51"), 0.05, 0.002),
}

# ---------------------------------------------------------------------------------------------
# The criteria catalogue of rubric v1 (docs/architecture.md): what an assessment row carries.
#   kind: bool (pass = true), mpf, days, percent, count, crash, seconds
#   applies: all, minors, training, face, k12, k12_students, ads, ugc
#   params: bool → fail rate; mpf → (fails, partial, na)


@dataclass(frozen=True)
class _Crit:
    id: str
    kind: str
    applies: str = "all"
    fail: float = 0.0
    partial: float = 0.0
    na: float = 0.0
    veto: bool = False


_ASSESSED: tuple[_Crit, ...] = (
    _Crit("L06_privacy_policy", "bool", fail=0.012, veto=True),
    _Crit("L07_consent_before_collection", "bool", fail=0.02, veto=True),
    _Crit("L08_no_default_consent", "mpf", fail=0.04, partial=0.15),
    _Crit("L09_no_forced_authorisation", "mpf", fail=0.015, partial=0.10, veto=True),
    _Crit("L10_deletion_cancellation_days", "days"),
    _Crit("L11_guardian_consent", "bool", "minors", fail=0.03, veto=True),
    _Crit("L12_no_unrelated_collection", "mpf", fail=0.04, partial=0.18),
    _Crit("L13_no_disclosure_or_sale", "bool", fail=0.005, veto=True),
    _Crit("L14_purpose_scope_stated", "mpf", fail=0.03, partial=0.15),
    _Crit("L15_real_name_backend", "mpf", fail=0.03, partial=0.15, na=0.05),
    _Crit("L19_training_entity_registered", "bool", "training", fail=0.04, veto=True),
    _Crit("L20_teacher_qualification_rate", "percent", "training"),
    _Crit("L21_not_tied_to_grades", "bool", fail=0.04),
    _Crit("L22_biometric_review", "bool", "face", fail=0.10),
    _Crit("S01_masvs_storage", "mpf", fail=0.03, partial=0.15, na=0.01),
    _Crit("S02_masvs_crypto", "mpf", fail=0.03, partial=0.15, na=0.01),
    _Crit("S03_masvs_auth", "mpf", fail=0.03, partial=0.15, na=0.01),
    _Crit("S04_masvs_network", "mpf", fail=0.03, partial=0.12, na=0.01),
    _Crit("S05_masvs_platform", "mpf", fail=0.03, partial=0.15, na=0.01),
    _Crit("S06_masvs_code", "mpf", fail=0.03, partial=0.18, na=0.01),
    _Crit("S07_masvs_resilience", "mpf", fail=0.05, partial=0.25, na=0.02),
    _Crit("S08_masvs_privacy", "mpf", fail=0.03, partial=0.15, na=0.01),
    _Crit("S09_no_cleartext_personal_data", "bool", fail=0.02, veto=True),
    _Crit("S10_high_risk_vulnerabilities", "count"),
    _Crit("S11_security_certification", "bool", fail=0.65),
    _Crit("C01_no_harmful_content", "bool", fail=0.008, veto=True),
    _Crit("C02_no_unrelated_content", "mpf", "k12", fail=0.01, partial=0.06, veto=True),
    _Crit("C06_ads_consistent", "mpf", "ads", fail=0.08, partial=0.20, na=0.02),
    _Crit("C07_ugc_review_system", "bool", "ugc", fail=0.05, veto=True),
    _Crit("C11_eye_protection", "bool", "k12_students", fail=0.10),
    _Crit("F01_crash_rate", "crash"),
    _Crit("F02_startup_seconds", "seconds"),
    _Crit("F03_compatibility", "mpf", fail=0.03, partial=0.15),
    _Crit("F06_accessibility", "mpf", fail=0.08, partial=0.30, na=0.04),
)
#: Panel criteria (0–10 scores); C05 applies only to minors' apps.
_PANEL: tuple[str, ...] = (
    "C03_ideological_soundness", "C04_scientific_accuracy", "C05_age_appropriateness",
    "C10_educational_value", "C12_resource_quality", "C13_values_guidance", "C14_language_norms",
    "F04_usability", "F07_stakeholder_satisfaction", "F08_learning_effectiveness",
    "F09_teaching_fit", "F10_interaction_design",
)
#: Panel score level and spread (score ≈ level + spread · quality): the floor criteria (veto when
#: the panel score is below 6) sit high, so that only a few apps fall under them.
_PANEL_LEVEL: dict[str, tuple[float, float]] = {
    "C03_ideological_soundness": (8.4, 0.7), "C04_scientific_accuracy": (8.0, 0.8),
    "C05_age_appropriateness": (7.9, 0.8), "C13_values_guidance": (8.2, 0.7),
    "C14_language_norms": (8.0, 0.7),
}
#: AHP items: the four dimensions, and per dimension its criteria that are not pure veto gates.
_AHP_ITEMS: dict[str, tuple[str, ...]] = {
    "dimensions": schema.DIMENSIONS,
    "legality": ("L05_filing_updated", "L08_no_default_consent", "L10_deletion_cancellation_days",
                 "L12_no_unrelated_collection", "L14_purpose_scope_stated",
                 "L15_real_name_backend", "L20_teacher_qualification_rate",
                 "L21_not_tied_to_grades"),
    "function": ("F01_crash_rate", "F02_startup_seconds", "F03_compatibility", "F04_usability",
                 "F05_maintained_6_months", "F06_accessibility", "F07_stakeholder_satisfaction",
                 "F08_learning_effectiveness", "F09_teaching_fit", "F10_interaction_design"),
    "security": ("S01_masvs_storage", "S02_masvs_crypto", "S03_masvs_auth", "S04_masvs_network",
                 "S05_masvs_platform", "S06_masvs_code", "S07_masvs_resilience",
                 "S08_masvs_privacy", "S10_high_risk_vulnerabilities",
                 "S11_security_certification"),
    "content": ("C03_ideological_soundness", "C04_scientific_accuracy",
                "C05_age_appropriateness", "C06_ads_consistent", "C10_educational_value",
                "C12_resource_quality", "C13_values_guidance", "C14_language_norms"),
}
_AHP_PRIOR: dict[str, float] = {"legality": 0.34, "security": 0.24, "content": 0.26, "function": 0.16}
_SAATY = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9])
_SAATY_TEXT = np.array(["1/9", "1/8", "1/7", "1/6", "1/5", "1/4", "1/3", "1/2", "1", "2", "3", "4",
                        "5", "6", "7", "8", "9"], dtype=object)

# ---------------------------------------------------------------------------------------------
# Planted cases: fixed identifiers at every scale and seed (documented in docs/generator.md).


@dataclass(frozen=True)
class _PlantedProvider:
    key: str
    province: str
    name: str
    org8: str


@dataclass(frozen=True)
class _PlantedApp:
    key: str
    provider: str  # _PlantedProvider.key
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


_PLANTED_PROVIDERS: tuple[_PlantedProvider, ...] = (
    _PlantedProvider("gaming", "44", "广州优学星辰教育科技有限公司", "MA9P0001"),
    _PlantedProvider("fraud", "11", "北京启明未来科技有限公司", "MA9P0002"),
    _PlantedProvider("hostile", "31", "上海<script>alert(1)</script>教育科技有限公司", "MA9P0003"),
    _PlantedProvider("mlps_expired", "32", "南京博雅数字网络科技有限公司", "MA9P0004"),
    _PlantedProvider("fujian_pilot", "35", "福州云帆长青教育科技有限公司", "MA9P0005"),
    _PlantedProvider("legacy_icp", "53", "昆明墨香百川文化传播有限公司", "MA9P0006"),
    _PlantedProvider("repeat", "42", "武汉鸿图恒通科技有限公司", "MA9P0007"),
    _PlantedProvider("overlap_a", "33", "杭州智汇光年教育科技有限公司", "MA9P0008"),
    _PlantedProvider("overlap_b", "33", "杭州学而方圆网络科技有限公司", "MA9P0009"),
    _PlantedProvider("mandated", "44", "广州慧科北辰科技有限公司", "MA9P0010"),
    _PlantedProvider("minors", "51", "成都童趣嘉禾教育科技有限公司", "MA9P0011"),
    _PlantedProvider("ugc", "37", "济南知行众联网络科技有限公司", "MA9P0012"),
    _PlantedProvider("stale_filing", "61", "西安青禾同文信息技术有限公司", "MA9P0013"),
    _PlantedProvider("waivers", "34", "合肥翰林汇智科技有限公司", "MA9P0014"),
)
_PP_INDEX = {p.key: i for i, p in enumerate(_PLANTED_PROVIDERS)}

_PLANTED_APPS: tuple[_PlantedApp, ...] = (
    _PlantedApp("gaming_1", "gaming", 1, "优学口算星球", "learning", "primary", "students;parents",
                quality=-0.4),
    _PlantedApp("gaming_2", "gaming", 2, "优学英语大师", "learning", "primary;junior", "students",
                quality=-0.4),
    _PlantedApp("fraud", "fraud", 1, "启明作业帮手", "learning", "junior;senior", "students",
                features="payments", fees=True),
    _PlantedApp("hostile_hyperlink", "hostile", 1, '=HYPERLINK("http://x","y")', "teaching",
                "primary;junior", "teachers"),
    _PlantedApp("hostile_plus", "hostile", 2, "+1+1", "learning", "primary", "students"),
    _PlantedApp("hostile_at", "hostile", 3, "@SUM(1)", "management", "senior", "teachers"),
    _PlantedApp("hostile_quoted", "hostile", 4, '"quoted, comma"', "home_school", "primary",
                "parents;teachers"),
    _PlantedApp("mlps_expired", "mlps_expired", 1, "博雅智慧课堂", "teaching", "junior",
                "teachers;students"),
    _PlantedApp("fujian_pilot", "fujian_pilot", 1, "云帆阅读", "learning", "primary",
                "students;parents"),
    _PlantedApp("legacy_icp", "legacy_icp", 1, "墨香书法", "learning", "primary;junior",
                "students"),
    _PlantedApp("repeat", "repeat", 1, "鸿图校园通", "management", "junior;senior",
                "teachers;parents", features="payments", fees=True),
    _PlantedApp("overlap_a", "overlap_a", 1, "智汇作业本", "learning", "primary",
                "students;parents", features="payments", fees=True),
    _PlantedApp("overlap_b", "overlap_b", 2, "学而作业本", "learning", "primary",
                "students;parents", features="payments", fees=True),
    _PlantedApp("mandated_fees", "mandated", 3, "慧科家校通", "home_school", "primary;junior",
                "parents;teachers", features="payments", fees=True, mandated=True),
    _PlantedApp("mandated_ads", "mandated", 4, "慧科校园通知", "home_school", "primary",
                "parents;teachers", ads=True, mandated=True),
    _PlantedApp("minors_no_limit", "minors", 1, "童趣口算", "learning", "primary", "students"),
    _PlantedApp("minors_no_age", "minors", 2, "童趣绘本", "learning", "preschool;primary",
                "students;parents"),
    _PlantedApp("ugc_no_review", "ugc", 1, "知行学习圈", "learning", "junior;senior", "students",
                features="ugc"),
    _PlantedApp("stale_filing", "stale_filing", 1, "青禾错题本", "learning", "senior", "students"),
    _PlantedApp("waiver_active", "waivers", 1, "翰林备课", "teaching", "primary;junior",
                "teachers"),
    _PlantedApp("waiver_expired", "waivers", 2, "翰林题库", "teaching", "junior;senior",
                "teachers"),
)
_PA_INDEX = {a.key: i for i, a in enumerate(_PLANTED_APPS)}

_HOSTILE_DESCRIPTION: dict[str, str] = {
    "hostile_hyperlink": "面向教师的备课工具<script>alert(1)</script>，支持<b>富文本</b>课件。",
    "hostile_plus": "+1+1 口算练习，=1+1 也能算对。",
    "hostile_at": "@SUM(1) 成绩统计，支持导出 \"quoted, comma\" 格式报表。",
    "hostile_quoted": "第一行：家校通知\n第二行：\"quoted, comma\"\r\n-2+3 =cmd|' /C calc'!A0",
}
_OVERLAP_DESCRIPTION = (
    "是一款面向小学学生和家长的学习应用。提供分年级的同步练习和讲解视频，拍照识别错题并自动"
    "归入错题本，按知识图谱推荐薄弱点练习。部分增值服务需在线支付。"
)

# ---------------------------------------------------------------------------------------------
# Small helpers


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(stream.encode("ascii"))])


def _obj(values: tuple[str, ...] | list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _pick(rng: np.random.Generator, pool: tuple[str, ...], n: int,
          p: tuple[float, ...] | np.ndarray | None = None) -> np.ndarray:
    if p is not None:
        p = np.asarray(p, dtype=float) / np.sum(p)
    return _obj(pool)[rng.choice(len(pool), size=n, p=p)]


def _int_text(values: np.ndarray, width: int = 0) -> np.ndarray:
    """Integers as (zero-padded) text, vectorised through Arrow."""
    arr = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    if width:
        arr = pc.utf8_lpad(arr, width=width, padding="0")
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _num_text(values: np.ndarray) -> np.ndarray:
    """Floats as shortest round-trip text (``8`` for 8.0), vectorised through Arrow."""
    arr = pa.array(np.asarray(values, dtype=np.float64)).cast(pa.string())
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _days(values: np.ndarray) -> np.ndarray:
    return np.round(values).astype(np.int64).astype("timedelta64[D]")


def _person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    given = _pick(rng, N.GIVEN, n)
    two = rng.random(n) < 0.6
    given = np.where(two, given + _pick(rng, N.GIVEN, n), given)
    return _pick(rng, N.SURNAMES, n) + given


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    second = rng.integers(3, 10, n)
    rest = rng.integers(0, 10**9, n)
    return _int_text(10**10 + second * 10**9 + rest)


def _resident_ids(rng: np.random.Generator, n: int, province: np.ndarray) -> np.ndarray:
    """18-character resident ID numbers with a valid GB 11643 (ISO 7064 MOD 11-2) check digit."""
    capital = np.array([identifiers.PROVINCES[c].capital_division[:4] for c in _CODES], dtype=object)
    county = capital[np.array([_CODE_INDEX[c] for c in province], dtype=np.int64)] if n else capital[:0]
    county = county + _int_text(rng.integers(1, 13, n), 2)
    adult = rng.random(n) < 0.6
    birth = np.where(
        adult,
        np.datetime64("1972-01-01") + _days(rng.integers(0, 365 * 22, n)),
        np.datetime64("2008-01-01") + _days(rng.integers(0, 365 * 11, n)),
    )
    digits17 = county + np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "").astype(object)
    digits17 = digits17 + _int_text(rng.integers(1, 1000, n), 3)
    if n == 0:
        return digits17
    m = np.frombuffer("".join(digits17).encode("ascii"), dtype=np.uint8).reshape(n, 17) - 48
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = (12 - (m.astype(np.int64) @ weights) % 11) % 11
    return digits17 + _obj(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X"])[check]


def _emails(rng: np.random.Generator, n: int) -> np.ndarray:
    local = _pick(rng, N.PINYIN, n) + _pick(rng, ("", ".", "_"), n) + _pick(rng, N.PINYIN, n)
    return local + _int_text(rng.integers(1, 9999, n)) + "@" + _pick(rng, N.MAIL_DOMAINS, n)


def _csr(keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order grouping ``keys`` (stable), start offsets and counts per group."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, starts, counts


# ---------------------------------------------------------------------------------------------
# Batches (review rounds) relative to as_of


@dataclass(frozen=True)
class _Batch:
    label: str
    open_on: np.datetime64
    close_on: np.datetime64
    panel_on: np.datetime64


def _batches(as_of: np.datetime64) -> tuple[_Batch, _Batch]:
    """The latest review batch whose panel (and second Delphi round) is over, and the one before."""
    year = int(str(as_of)[:4])
    found: list[_Batch] = []
    for y in range(year, year - 4, -1):
        for half in (2, 1):
            month = 3 if half == 1 else 9
            panel_month = "06" if half == 1 else "12"
            b = _Batch(
                f"{y}-{half}",
                np.datetime64(f"{y}-{month:02d}-01"),
                np.datetime64(f"{y}-{month + 1:02d}-30"),
                np.datetime64(f"{y}-{panel_month}-10"),
            )
            if b.panel_on + np.timedelta64(30, "D") <= as_of:
                found.append(b)
            if len(found) == 2:
                return found[0], found[1]
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# The generator


class _World:
    """All generated tables plus the latent arrays the later tables depend on."""

    def __init__(self, scale: str, seed: int, as_of: np.datetime64, province: str,
                 n_apps: int | None = None):
        self.scale, self.seed, self.as_of, self.province = scale, seed, as_of, province
        self.size = _SIZES[scale]
        if n_apps is not None:  # growth benchmarks: the national mix at another size
            self.size = dataclasses.replace(self.size, apps=n_apps, providers=n_apps // 5)
        self.latest, self.previous = _batches(as_of)
        self.tables: dict[str, pd.DataFrame] = {}

    def _ago(self, days: int) -> np.datetime64:
        return self.as_of - np.timedelta64(days, "D")

    # -- providers ----------------------------------------------------------------------------
    def providers(self) -> None:
        rng = _rng(self.seed, "providers")
        n_planted = len(_PLANTED_PROVIDERS)
        n_rand = self.size.providers - n_planted
        weights = np.array([N.PROVINCE_WEIGHTS[c] for c in _CODES])
        if self.scale == "sample":  # flatter: every unit needs its 20 candidates
            weights = np.sqrt(weights)
        if self.scale == "province":
            home = rng.random(n_rand) < 0.7
            other = rng.choice(_NCODE, n_rand, p=weights / weights.sum())
            prov_idx = np.where(home, _CODE_INDEX[self.province], other)
        else:
            floor = 3 if self.scale == "sample" else min(20, n_rand // (2 * _NCODE))
            counts = floor + rng.multinomial(n_rand - floor * _NCODE, weights / weights.sum())
            prov_idx = np.repeat(np.arange(_NCODE), counts)
        prov_idx = np.concatenate([[_CODE_INDEX[p.province] for p in _PLANTED_PROVIDERS],
                                   prov_idx]).astype(np.int64)
        n = len(prov_idx)
        code = _obj(list(_CODES))[prov_idx]

        # organisation-code bodies: unique, new style "MA" + 6 or old style 8 digits
        letters = np.array(list(identifiers.USCC_CHARSET))
        body = np.empty(n_rand, dtype=object)
        todo = np.ones(n_rand, dtype=bool)
        for _ in range(50):  # redraw the (rare) duplicates: a loop over retries, not rows
            k = int(todo.sum())
            tail = letters[rng.integers(0, 31, (k, 6))]
            tail[:, 0] = letters[rng.integers(0, 9, k)]  # never "MA9…" (planted codes)
            new_style = np.char.add("MA", np.ascontiguousarray(tail).view("<U6").ravel())
            old_style = np.char.zfill(rng.integers(10**6, 10**8, k).astype(str), 8)
            body[todo] = np.where(rng.random(k) < 0.7, new_style, old_style).astype(object)
            _, first = np.unique(body.astype(str), return_index=True)
            todo = np.ones(n_rand, dtype=bool)
            todo[first] = False
            if not todo.any():
                break
        org8 = np.concatenate([[p.org8 for p in _PLANTED_PROVIDERS], body.astype(str)])
        division = np.array([identifiers.PROVINCES[c].capital_division for c in code])
        uscc = identifiers.make_uscc_array("9", "1", division, org8).astype(object)
        # the Fujian pilot code: valid format, failing check (a warning, never an error)
        fj = _PP_INDEX["fujian_pilot"]
        good = uscc[fj]
        wrong = identifiers.USCC_CHARSET[(identifiers.USCC_CHARSET.index(good[-1]) + 7) % 31]
        uscc[fj] = good[:-1] + wrong

        # names: city + A + B + kind + 有限公司, unique within a province
        names = np.empty(n, dtype=object)
        combos = len(N.FIRM_A) * len(N.FIRM_B) * len(N.FIRM_KIND)
        kind_p = np.tile(np.repeat(np.asarray(N.FIRM_KIND_P), 1), len(N.FIRM_A) * len(N.FIRM_B))
        kind_p = kind_p / kind_p.sum()
        planted_names = {p.name for p in _PLANTED_PROVIDERS}
        for i, c in enumerate(_CODES):
            rows = np.flatnonzero(prov_idx[n_planted:] == i) + n_planted
            if len(rows) == 0:
                continue
            pick = rng.choice(combos, size=min(len(rows) + 4, combos), replace=False, p=kind_p)
            a, rest = np.divmod(pick, len(N.FIRM_B) * len(N.FIRM_KIND))
            b, k = np.divmod(rest, len(N.FIRM_KIND))
            cand = (N.CITY[c] + _obj(N.FIRM_A)[a] + _obj(N.FIRM_B)[b] + _obj(N.FIRM_KIND)[k]
                    + "有限公司")
            cand = cand[~np.isin(cand.astype(str), list(planted_names))][: len(rows)]
            names[rows] = cand
        names[:n_planted] = [p.name for p in _PLANTED_PROVIDERS]
        legal_rep = _person_names(rng, n)
        legal_rep[_PP_INDEX["hostile"]] = '"quoted, comma"'

        # ICP filing numbers in every form
        chars = np.array([identifiers.PROVINCES[c].icp_chars[0] for c in code], dtype=object)
        alt = np.array([identifiers.PROVINCES[c].icp_chars[-1] for c in code], dtype=object)
        chars = np.where(rng.random(n) < 0.2, alt, chars)
        newer = rng.random(n) < 0.6
        digits = np.where(
            newer,
            _int_text(2015 + rng.integers(0, 11, n)) + _int_text(rng.integers(0, 10**6, n), 6),
            _int_text(rng.integers(10**6, 10**8, n), 8),
        )
        form = rng.choice(4, n, p=[0.55, 0.25, 0.15, 0.05])
        site = _int_text(rng.integers(1, 6, n))
        suffix = np.select([form == 1, form == 2], ["号-" + site, "号-" + site + "A"], "号")
        icp = np.where(form == 3, chars + "ICP备" + digits + "-" + site + "号",
                       chars + "ICP备" + digits + suffix.astype(object))
        icp[: n_planted] = chars[:n_planted] + "ICP备" + digits[:n_planted] + "号"
        icp[_PP_INDEX["legacy_icp"]] = "滇ICP备09010050-5号"
        icp[_PP_INDEX["mandated"]] = chars[_PP_INDEX["mandated"]] + "ICP备" + digits[
            _PP_INDEX["mandated"]] + "号-2A"

        # MLPS: mostly level 2–3, level-3 evaluations yearly
        level = rng.choice(np.array([1, 2, 3, 4, 0]), n, p=[0.015, 0.46, 0.51, 0.01, 0.005])
        level[:n_planted] = 3
        age = np.where(level >= 3, rng.integers(10, 330, n), rng.integers(30, 700, n))
        expired = rng.random(n) < 0.025
        age = np.where(expired & (level >= 3), rng.integers(380, 700, n), age)
        age = np.where(expired & (level < 3), rng.integers(760, 1100, n), age)
        age[:n_planted] = 100 + np.arange(n_planted)
        age[_PP_INDEX["mlps_expired"]] = 520
        evaluated = self.as_of - _days(age)
        filing_no = (division.astype(object) + _int_text(rng.integers(0, 10**5, n), 5) + "-"
                     + _int_text(rng.integers(19, 26, n)) + _int_text(rng.integers(0, 1000, n), 3))

        self.p_code, self.p_idx = code, prov_idx
        self.p_quality = rng.normal(0, 1, n)
        self.p_quality[:n_planted] = 1.0
        self.p_size = rng.lognormal(0, 1.0, n)
        self.p_size[:n_planted] = 0.0  # planted providers get only their planted apps
        self.p_level = level
        self.p_uscc = uscc
        self.p_chars = chars
        self._p_frame = dict(  # noqa: C408
            provider_id=uscc, name=names, province_code=code, legal_rep=legal_rep,
            icp_number=icp, mlps_level=level, mlps_filing_no=filing_no,
            mlps_evaluated_on=evaluated,
        )

    # -- apps ----------------------------------------------------------------------------------
    def apps(self) -> None:
        rng = _rng(self.seed, "apps")
        n_pp = len(_PLANTED_PROVIDERS)
        n_pa = len(_PLANTED_APPS)
        n_prov = len(self.p_uscc)
        n_rand = self.size.apps - n_pa
        # each random provider at least one app, the rest by size
        size = self.p_size[n_pp:]
        extra = rng.choice(n_prov - n_pp, n_rand - (n_prov - n_pp), p=size / size.sum())
        owner = np.concatenate([np.arange(n_prov - n_pp), extra]) + n_pp
        owner = np.concatenate([[_PP_INDEX[a.provider] for a in _PLANTED_APPS], owner])
        n = len(owner)
        home_idx = self.p_idx[owner]
        planted = np.zeros(n, dtype=bool)
        planted[:n_pa] = True

        # serials: planted ones fixed (1–99), random ones from 101 in each home province
        serial = np.zeros(n, dtype=np.int64)
        serial[:n_pa] = [a.serial for a in _PLANTED_APPS]
        order, starts, counts = _csr(home_idx[n_pa:], _NCODE)
        rank = np.empty(n_rand, dtype=np.int64)
        rank[order] = np.arange(n_rand) - np.repeat(starts, counts)
        serial[n_pa:] = 101 + rank
        home = _obj(list(_CODES))[home_idx]
        app_id = "教APP备" + home + _int_text(serial, 5) + "号"

        category = _pick(rng, schema.CATEGORIES, n, p=(0.22, 0.15, 0.38, 0.12, 0.13))
        stage_sets = ("primary", "primary;junior", "junior", "junior;senior", "senior",
                      "primary;junior;senior", "preschool", "preschool;primary", "vocational",
                      "higher", "higher;continuing", "continuing")
        stage_p = (0.2, 0.14, 0.1, 0.1, 0.1, 0.12, 0.06, 0.04, 0.05, 0.05, 0.02, 0.02)
        stages = _pick(rng, stage_sets, n, p=stage_p)
        users_by_cat = {
            "teaching": (("teachers", "students;teachers"), (0.55, 0.45)),
            "management": (("teachers", "teachers;parents", "students;teachers"), (0.6, 0.25, 0.15)),
            "learning": (("students", "students;parents"), (0.6, 0.4)),
            "life": (("students", "students;parents"), (0.5, 0.5)),
            "home_school": (("parents", "teachers;parents", "students;teachers;parents"),
                            (0.3, 0.5, 0.2)),
        }
        users = np.empty(n, dtype=object)
        for cat, (opts, p) in users_by_cat.items():
            m = category == cat
            users[m] = _pick(rng, opts, int(m.sum()), p=p)
        learning = category == "learning"
        feats = [
            np.where(rng.random(n) < np.where(learning | (category == "home_school"), 0.3, 0.12),
                     "ugc", ""),
            np.where(learning & (rng.random(n) < 0.18), "training", ""),
            np.where((category == "management") & (rng.random(n) < 0.2), "admissions_exams", ""),
            np.where(rng.random(n) < 0.3, "payments", ""),
            np.where(rng.random(n) < 0.07, "face_data", ""),
        ]
        fees = (feats[3] == "payments") & (rng.random(n) < 0.85)
        ads = rng.random(n) < 0.10
        games = learning & (rng.random(n) < 0.12)

        # planted attributes
        for i, a in enumerate(_PLANTED_APPS):
            category[i], stages[i], users[i] = a.category, a.stages, a.users
            for j, code in enumerate(schema.FEATURES):
                feats[j][i] = code if code in a.features.split(";") else ""
            fees[i], ads[i], games[i] = a.fees, a.ads, a.games
        features = feats[0].astype(object)
        for f in feats[1:]:
            features = np.where(f == "", features,
                                np.where(features == "", f, features + ";" + f.astype(object)))
        minors = (np.char.find(users.astype(str), "students") >= 0) & np.isin(
            stages.astype(str), [s for s in stage_sets if any(
                k in s for k in ("preschool", "primary", "junior", "senior"))])

        # age range and daily limit for minors
        lo = np.select([np.char.find(stages.astype(str), k) >= 0 for k in
                        ("preschool", "primary", "junior", "senior")], [3, 6, 12, 15], 18)
        hi = np.select([np.char.find(stages.astype(str), k) >= 0 for k in
                        ("senior", "junior", "primary", "preschool")], [18, 15, 12, 6], 22)
        age_range = np.where(minors & (rng.random(n) > 0.02),
                             _int_text(lo) + "-" + _int_text(hi), "").astype(object)
        limit = np.where(minors & (rng.random(n) > 0.03),
                         rng.choice(np.array([30, 40, 45, 60, 90, 120]), n), 0)
        limit = np.where(~minors & (rng.random(n) < 0.1), 120, limit)
        age_range[_PA_INDEX["minors_no_age"]] = ""
        limit[_PA_INDEX["minors_no_age"]] = 40
        limit[_PA_INDEX["minors_no_limit"]] = 0
        age_range[_PA_INDEX["minors_no_limit"]] = "6-12"

        # names unique within (home, category)
        names = np.empty(n, dtype=object)
        for ci, cat in enumerate(schema.CATEGORIES):
            cores = N.APP_CORE[cat]
            combos = len(N.APP_PREFIX) * len(cores) * len(N.APP_SUFFIX)
            for pi in range(_NCODE):
                rows = np.flatnonzero((home_idx == pi) & (category == cat) & ~planted)
                if len(rows) == 0:
                    continue
                pick = rng.choice(combos, size=min(len(rows), combos),
                                  replace=len(rows) > combos)
                a_, rest = np.divmod(pick, len(cores) * len(N.APP_SUFFIX))
                c_, s_ = np.divmod(rest, len(N.APP_SUFFIX))
                names[rows] = _obj(N.APP_PREFIX)[a_] + _obj(cores)[c_] + _obj(N.APP_SUFFIX)[s_]
        names[:n_pa] = [a.name for a in _PLANTED_APPS]

        # descriptions: who it is for, three function phrases, feature sentences, a closing
        stage_zh = stages.copy()
        for code, zh in N.STAGE_ZH.items():
            stage_zh = np.char.replace(stage_zh.astype(str), code, zh).astype(object)
        stage_zh = np.char.replace(stage_zh.astype(str), ";", "、").astype(object)
        users_zh = users.copy()
        for code, zh in N.USER_ZH.items():
            users_zh = np.char.replace(users_zh.astype(str), code, zh).astype(object)
        users_zh = np.char.replace(users_zh.astype(str), ";", "和").astype(object)
        funcs = np.empty(n, dtype=object)
        for cat in schema.CATEGORIES:
            m = np.flatnonzero(category == cat)
            pool = _obj(N.FUNCTIONS[cat])
            keys = rng.random((len(m), len(pool)))
            top = np.argsort(keys, axis=1)[:, :3]
            funcs[m] = pool[top[:, 0]] + "，" + pool[top[:, 1]] + "，" + pool[top[:, 2]] + "。"
        cat_zh = np.array([N.CATEGORY_ZH[c] for c in category], dtype=object)
        feature_text = np.full(n, "", dtype=object)
        for j, code in enumerate(schema.FEATURES):
            feature_text = np.where(feats[j] == code, feature_text + N.FEATURE_SENTENCE[code],
                                    feature_text)
        description = (names + "是一款面向" + stage_zh + users_zh + "的" + cat_zh + "应用。" + funcs
                       + feature_text + _pick(rng, N.CLOSINGS, n))
        for key, text in _HOSTILE_DESCRIPTION.items():
            description[_PA_INDEX[key]] = text
        description[_PA_INDEX["overlap_a"]] = "智汇作业本" + _OVERLAP_DESCRIPTION
        description[_PA_INDEX["overlap_b"]] = (
            "学而作业本" + _OVERLAP_DESCRIPTION.replace("同步练习", "同步习题").replace(
                "自动归入", "自动整理到"))
        version = (_int_text(rng.integers(1, 7, n)) + "." + _int_text(rng.integers(0, 10, n)) + "."
                   + _int_text(rng.integers(0, 20, n)))

        q = 0.6 * self.p_quality[owner] + 0.8 * rng.normal(0, 1, n)
        q[:n_pa] = [a.quality for a in _PLANTED_APPS]
        self.a_owner, self.a_home_idx, self.a_id, self.a_quality = owner, home_idx, app_id, q
        self.a_rank = np.empty(n, dtype=np.int64)
        self.a_rank[np.argsort(app_id.astype(str), kind="stable")] = np.arange(n)
        self.a_category, self.a_minors, self.a_stages = category, minors, stages
        self.a_features = {code: feats[j] == code for j, code in enumerate(schema.FEATURES)}
        self.a_fees, self.a_ads, self.a_games = fees, ads, games
        self.a_popularity = rng.lognormal(0, 0.8, n)
        self._a_frame = dict(  # noqa: C408
            app_id=app_id, provider_id=self.p_uscc[owner], name=names, version=version,
            category=category, stages=stages, primary_users=users, minors_primary=minors,
            features=features, charges_fees=fees, has_ads=ads, has_games=games,
            age_range=age_range, daily_limit_min=limit,
        )
        self._a_desc = description

    # -- submissions (and the app dates that depend on them) ----------------------------------
    def submissions(self) -> None:
        rng = _rng(self.seed, "submissions")
        n = len(self.a_id)
        n_pa = len(_PLANTED_APPS)
        if self.scale == "province":
            app = np.arange(n)
            prov = np.full(n, _CODE_INDEX[self.province])
        else:
            k = np.where(rng.random(n) < self.size.cross_rate * np.minimum(
                2.0, 0.5 + self.p_size[self.a_owner] / 2), rng.integers(1, 4, n), 0)
            k[:n_pa] = 0
            keys = rng.random((n, _NCODE))
            keys[np.arange(n), self.a_home_idx] = 2.0  # never the home province again
            ranked = np.argsort(keys, axis=1)
            slot = np.arange(3)
            take = slot[None, :] < k[:, None]
            app = np.concatenate([np.arange(n), np.repeat(np.arange(n), 3)[take.ravel()]])
            prov = np.concatenate([self.a_home_idx, ranked[:, :3].ravel()[take.ravel()]])
            if self.size.min_candidates:  # top up thin provinces with cross-submissions
                extra_a, extra_p = [], []
                counts = np.bincount(prov, minlength=_NCODE)
                for pi in range(_NCODE):  # a loop over provinces
                    need = self.size.min_candidates - counts[pi]
                    if need <= 0:
                        continue
                    taken = np.zeros(n, dtype=bool)
                    taken[app[prov == pi]] = True
                    taken[:n_pa] = True  # planted apps stay in their home unit
                    chosen = rng.choice(np.flatnonzero(~taken), size=need, replace=False)
                    extra_a.append(chosen)
                    extra_p.append(np.full(need, pi))
                if extra_a:
                    app = np.concatenate([app, *extra_a])
                    prov = np.concatenate([prov, *extra_p])
        m = len(app)
        latest = rng.random(m) < 0.7
        batch = np.where(latest, self.latest.label, self.previous.label).astype(object)
        open_on = np.where(latest, self.latest.open_on, self.previous.open_on)
        span = (self.latest.close_on - self.latest.open_on).astype(int)
        submitted = open_on + _days(rng.integers(0, span + 1, m))
        mandated = (rng.random(m) < np.where(np.isin(self.a_category[app],
                                                     ["management", "home_school", "teaching"]),
                                             0.08, 0.015))
        dirty = self.a_fees[app] | self.a_ads[app] | self.a_games[app]
        mandated &= ~dirty | (rng.random(m) < 0.03)
        planted = app < n_pa
        mandated[planted] = np.array([_PLANTED_APPS[a].mandated for a in app[planted]], dtype=bool)
        if self.scale == "province":
            batch[planted] = self.latest.label
            submitted[planted] = self.latest.open_on + np.timedelta64(20, "D")
        self.s_app, self.s_prov, self.s_latest = app, prov, batch == self.latest.label
        self.s_frame = pd.DataFrame({
            "app_id": self.a_id[app], "province_code": _obj(list(_CODES))[prov],
            "submitted_on": submitted, "mandated_use": mandated, "batch": batch,
        })
        # app dates: filed before the first submission; releases mostly recent
        first = np.full(n, self.as_of)
        np.minimum.at(first, app, submitted)
        filed = first - _days(rng.integers(15, 1800, n))
        filed = np.maximum(filed, np.datetime64("2019-11-01"))
        age = np.select([rng.random(n) < 0.7, rng.random(n) < 0.67],
                        [rng.integers(5, 180, n), rng.integers(181, 365, n)],
                        rng.integers(366, 900, n))
        release = np.maximum(self.as_of - _days(age), filed)
        updated = np.minimum(release + _days(rng.integers(0, 8, n)), self.as_of)
        stale = rng.random(n) < 0.03
        updated = np.where(stale, np.maximum(release - _days(rng.integers(20, 200, n)), filed),
                           updated)
        sf = _PA_INDEX["stale_filing"]
        release[sf] = self.as_of - np.timedelta64(40, "D")
        updated[sf] = self.as_of - np.timedelta64(300, "D")
        filed[sf] = min(filed[sf], self.as_of - np.timedelta64(700, "D"))
        for i in range(len(_PLANTED_APPS)):
            if i != sf:
                release[i] = max(filed[i], self.as_of - np.timedelta64(60 + i, "D"))
                updated[i] = release[i] + np.timedelta64(2, "D")
        self.a_first = first
        self._a_frame.update(filed_on=filed, info_updated_on=updated, last_release_on=release)

    # -- assessments ---------------------------------------------------------------------------
    def assessments(self) -> None:
        rng = _rng(self.seed, "assessments")
        n = len(self.a_id)
        n_pa = len(_PLANTED_APPS)
        current = np.minimum(self.a_first + _days(rng.integers(10, 60, n)),
                             self.as_of - np.timedelta64(1, "D"))
        stale = rng.random(n) < 0.04
        current = np.where(stale, self.as_of - _days(rng.integers(400, 600, n)), current)
        current[:n_pa] = self.as_of - _days(30 + np.arange(n_pa))
        history = rng.random(n) < self.size.history_rate
        history[:n_pa] = False
        older = current - _days(rng.integers(300, 500, n))
        assessor_i = rng.integers(0, len(N.ASSESSORS), n)
        assessor_o = rng.integers(0, len(N.ASSESSORS), n)
        q = self.a_quality.copy()
        q[:n_pa] = 2.5  # planted apps pass every assessment unless their case says otherwise
        k12 = np.zeros(n, dtype=bool)
        for s in schema.K12_STAGES:
            k12 |= np.char.find(self.a_stages.astype(str), s) >= 0
        students = np.char.find(self._a_frame["primary_users"].astype(str), "students") >= 0
        applies = {
            "all": np.ones(n, dtype=bool), "minors": self.a_minors,
            "training": self.a_features["training"], "face": self.a_features["face_data"],
            "k12": k12, "k12_students": k12 & students, "ads": self.a_ads,
            "ugc": self.a_features["ugc"],
        }
        parts_app, parts_crit, parts_val, parts_old = [], [], [], []
        crit_ids = sorted(c.id for c in _ASSESSED)
        for ci, crit in enumerate(_ASSESSED):
            rows = np.flatnonzero(applies[crit.applies])
            for old in (False, True):
                r = rows[history[rows]] if old else rows
                qq = q[r] - (0.3 if old else 0.0)
                val = self._assessment_values(rng, crit, qq)
                parts_app.append(r)
                parts_crit.append(np.full(len(r), crit_ids.index(crit.id), dtype=np.int16))
                parts_val.append(val)
                parts_old.append(np.full(len(r), old))
        app = np.concatenate(parts_app)
        crit = np.concatenate(parts_crit)
        value = np.concatenate(parts_val)
        old = np.concatenate(parts_old)

        def _set(key: str, cid: str, v: str) -> None:
            m = (app == _PA_INDEX[key]) & (crit == crit_ids.index(cid))
            value[m] = v

        _set("ugc_no_review", "C07_ugc_review_system", "false")
        _set("waiver_active", "S09_no_cleartext_personal_data", "false")
        _set("waiver_expired", "S10_high_risk_vulnerabilities", "3")
        day = np.where(old, older[app], current[app])
        who = np.where(old, assessor_o[app], assessor_i[app])
        prefix = _obj([p for _, p in N.ASSESSORS])[who]
        year = np.datetime_as_string(day, unit="Y").astype(object)
        ref_no = _int_text(zlib.crc32(b"ref") % 1000 + 1 + app * 2 + old, 6)
        order = np.lexsort((day, crit, self.a_rank[app]))
        self.tables["assessments"] = pd.DataFrame({
            "app_id": self.a_id[app][order],
            "criterion_id": _obj(crit_ids)[crit][order],
            "value": value[order],
            "assessed_on": day[order],
            "assessor": _obj([a for a, _ in N.ASSESSORS])[who][order],
            "report_ref": (prefix + "-" + year + "-" + ref_no)[order],
        })
        self.as_app, self.as_crit, self.as_value, self.as_day = app, crit, value, day
        self.as_crit_ids = crit_ids

    @staticmethod
    def _assessment_values(rng: np.random.Generator, crit: _Crit, q: np.ndarray) -> np.ndarray:
        m = len(q)
        z = 0.7 * q + math.sqrt(1 - 0.49) * rng.normal(0, 1, m)
        if crit.kind == "bool":
            return np.where(z < ndtri(crit.fail), "false", "true").astype(object)
        if crit.kind == "mpf":
            u = rng.random(m)
            word = np.select([z < ndtri(crit.fail), z < ndtri(crit.fail + crit.partial)],
                             ["fails", "partial"], "meets").astype(object)
            return np.where(u < crit.na, "na", word).astype(object)
        if crit.kind == "days":
            return _int_text(np.clip(np.round(rng.lognormal(math.log(7) - 0.35 * q, 0.45)), 1, 60))
        if crit.kind == "percent":
            return _num_text(np.round(np.clip(95 + 5 * q + rng.normal(0, 5, m), 40, 100), 1))
        if crit.kind == "count":
            return _int_text(rng.poisson(0.25 * np.exp(-0.8 * q)))
        if crit.kind == "crash":
            return _num_text(np.round(rng.lognormal(math.log(0.25) - 0.4 * q, 0.7), 2))
        if crit.kind == "seconds":
            return _num_text(np.round(rng.lognormal(math.log(1.8) - 0.15 * q, 0.35), 1))
        raise ValueError(crit.kind)  # pragma: no cover

    # -- experts, panel scores, AHP ----------------------------------------------------------
    def panel(self) -> None:
        rng = _rng(self.seed, "panel")
        size = self.size
        n_apps = len(self.a_id)
        gaming_prov = self.province if self.scale == "province" else _PLANTED_PROVIDERS[
            _PP_INDEX["gaming"]].province
        gp = _CODE_INDEX[gaming_prov]
        provinces = np.unique(self.s_prov)
        # panel sizes per province
        cand_per_prov = np.bincount(self.s_prov, minlength=_NCODE)
        if size.per_app_panel:
            pool = np.where(cand_per_prov > 0,
                            np.maximum(size.panel + 5, np.ceil(cand_per_prov * size.panel / 110)),
                            0).astype(np.int64)
        else:
            pool = np.where(cand_per_prov > 0, size.panel, 0).astype(np.int64)
        e_prov = np.repeat(np.arange(_NCODE), pool)
        n_e = len(e_prov)
        e_start = np.concatenate([[0], np.cumsum(pool)[:-1]])
        e_serial = np.arange(n_e) - e_start[e_prov] + 1
        e_id = "E" + _obj(list(_CODES))[e_prov] + _int_text(e_serial, 3)
        lenient = rng.normal(0, 0.6, n_e)
        noise = np.where(rng.random(n_e) < 0.08, 1.8, rng.uniform(0.45, 0.8, n_e))
        halves = rng.random(n_e) < 0.15
        outlier = np.zeros(n_e, dtype=bool)
        # one outlier rater in a few provinces (in the sample: 5 of them)
        n_out = 5 if self.scale == "sample" else max(1, len(provinces) // 4)
        out_provs = rng.choice(provinces, size=min(n_out, len(provinces)), replace=False)
        outlier[e_start[out_provs] + pool[out_provs] - 1] = True
        gaming_expert = e_start[gp]  # E{gp}001
        outlier[gaming_expert] = False
        noise[gaming_expert] = 0.6
        role = _pick(rng, schema.ROLES, n_e, p=(0.15, 0.3, 0.25, 0.15, 0.1, 0.05))

        # candidate × rater pairs
        cand_app, cand_prov, cand_latest = self.s_app, self.s_prov, self.s_latest
        n_c = len(cand_app)
        if size.per_app_panel:
            k = size.panel
            pairs_c = np.repeat(np.arange(n_c), k)
            rater = np.empty(n_c * k, dtype=np.int64)
            gaming_apps = np.isin(cand_app, [_PA_INDEX["gaming_1"], _PA_INDEX["gaming_2"]])
            for pi in provinces:  # loop over provinces: draw k of the pool per candidate
                rows = np.flatnonzero(cand_prov == pi)
                keys = rng.random((len(rows), pool[pi]))
                if pi == gp:
                    keys[gaming_apps[rows], 0] = -1.0
                chosen = np.argsort(keys, axis=1)[:, :k] + e_start[pi]
                rater[(rows[:, None] * k + np.arange(k)).ravel()] = chosen.ravel()
        else:
            pairs_c = np.repeat(np.arange(n_c), pool[cand_prov])
            offsets = np.arange(len(pairs_c)) - np.repeat(
                np.concatenate([[0], np.cumsum(pool[cand_prov])[:-1]]), pool[cand_prov])
            rater = e_start[cand_prov[pairs_c]] + offsets

        # declared conflicts: for ~15% of experts, one (sometimes two) providers they would rate
        provider_of_pair = self.a_owner[cand_app[pairs_c]]
        perm = rng.permutation(len(pairs_c))
        conflict_e, conflict_p = [], []
        for _round in range(2):
            _, first = np.unique(rater[perm], return_index=True)
            pick = perm[first]
            keep = rng.random(len(pick)) < (0.15 if _round == 0 else 0.05)
            conflict_e.append(rater[pick][keep])
            conflict_p.append(provider_of_pair[pick][keep])
            perm = rng.permutation(len(pairs_c))
        c_e = np.concatenate(conflict_e + [[gaming_expert]]).astype(np.int64)
        c_p = np.concatenate(conflict_p + [[_PP_INDEX["gaming"]]]).astype(np.int64)
        # no planted provider in random conflicts (their cases stay clean) except the gaming one
        ok = (c_p >= len(_PLANTED_PROVIDERS)) | ((c_e == gaming_expert) & (c_p == _PP_INDEX["gaming"]))
        c_e, c_p = c_e[ok], c_p[ok]
        n_prov = len(self.p_uscc)
        c_key = np.unique(c_e * n_prov + c_p)
        c_e, c_p = c_key // n_prov, c_key % n_prov
        breached = rng.random(len(c_key)) < 0.25
        breached[(c_e == gaming_expert) & (c_p == _PP_INDEX["gaming"])] = True
        pair_key = rater * n_prov + provider_of_pair
        pos = np.searchsorted(c_key, pair_key)
        pos = np.minimum(pos, max(len(c_key) - 1, 0))
        conflicted = (c_key[pos] == pair_key) if len(c_key) else np.zeros(len(pair_key), bool)
        recused = conflicted & ~breached[pos]
        inflate = np.where(conflicted & breached[pos], 1.2, 0.0)
        inflate = np.where(conflicted & (rater == gaming_expert)
                           & (provider_of_pair == _PP_INDEX["gaming"]), 3.5, inflate)
        pairs_c, rater, inflate = pairs_c[~recused], rater[~recused], inflate[~recused]

        # expand to criteria (C05 only for minors' apps)
        n_k = len(_PANEL)
        crit_sorted = sorted(_PANEL)
        crit_rank = np.array([crit_sorted.index(c) for c in _PANEL])
        app_of_pair = cand_app[pairs_c]
        c05 = _PANEL.index("C05_age_appropriateness")
        mask = np.ones((len(pairs_c), n_k), dtype=bool)
        mask[:, c05] = self.a_minors[app_of_pair]
        row_pair = np.repeat(np.arange(len(pairs_c)), n_k)[mask.ravel()]
        row_crit = np.tile(np.arange(n_k), len(pairs_c))[mask.ravel()]
        del mask
        q_ac = (self.a_quality[:, None] + 0.55 * rng.normal(0, 1, (n_apps, n_k))).astype(np.float32)
        e = rater[row_pair]
        cand = pairs_c[row_pair]
        base = np.array([_PANEL_LEVEL.get(c, (7.0, 1.25))[0] for c in _PANEL])
        slope = np.array([_PANEL_LEVEL.get(c, (7.0, 1.25))[1] for c in _PANEL])
        raw = (base[row_crit] + slope[row_crit] * q_ac[app_of_pair[row_pair], row_crit] + lenient[e]
               + noise[e] * rng.normal(0, 1, len(e)).astype(np.float32) + inflate[row_pair])
        raw = np.where(outlier[e], rng.uniform(1.0, 10.0, len(e)), raw)
        score1 = np.clip(np.where(halves[e], np.round(raw * 2) / 2, np.round(raw)), 0, 10) + 0.0
        day_off = rng.integers(0, 3, n_e)
        batch_day = np.where(cand_latest[cand], self.latest.panel_on, self.previous.panel_on)
        scored1 = batch_day + _days(day_off[e])
        delphi = (self.province,) if size.delphi == ("*",) else size.delphi
        delphi_prov = np.isin(cand_prov[cand], [_CODE_INDEX[c] for c in delphi])
        second = delphi_prov & cand_latest[cand]
        # round 2: move towards the round-1 panel mean of (candidate, criterion)
        group = cand * n_k + row_crit
        sums = np.bincount(group, weights=score1, minlength=n_c * n_k)
        cnts = np.bincount(group, minlength=n_c * n_k)
        mean1 = sums[group] / np.maximum(cnts[group], 1)
        raw2 = score1 + 0.6 * (mean1 - score1) + 0.3 * rng.normal(0, 1, len(e))
        raw2 = np.where(inflate[row_pair] > 3, score1, raw2)  # the gaming expert does not budge
        score2 = np.clip(np.where(halves[e], np.round(raw2 * 2) / 2, np.round(raw2)), 0, 10) + 0.0
        idx2 = np.flatnonzero(second)
        rnd = np.concatenate([np.ones(len(e), np.int8), np.full(len(idx2), 2, np.int8)])
        sel = np.concatenate([np.arange(len(e)), idx2])
        scores = np.concatenate([score1, score2[idx2]])
        scored = np.concatenate([scored1, scored1[idx2] + np.timedelta64(21, "D")])
        prov_of = cand_prov[cand][sel]
        app_of = app_of_pair[row_pair][sel]
        e_of = e[sel]
        crit_of = crit_rank[row_crit][sel]
        rank_of = self.a_rank[app_of]
        order = np.lexsort((crit_of, e_of, rank_of, rnd, prov_of))
        self.tables["panel_scores"] = pd.DataFrame({
            "province_code": pd.Categorical.from_codes(prov_of[order], list(_CODES)),
            "round": rnd[order],
            "app_id": pd.Categorical.from_codes(rank_of[order],
                                                np.sort(self.a_id.astype(str))),
            "expert_id": pd.Categorical.from_codes(e_of[order], e_id.astype(str)),
            "criterion_id": pd.Categorical.from_codes(crit_of[order], crit_sorted),
            "score": scores[order].astype(np.float64),
            "scored_on": scored[order],
        })

        # experts table (conflicts as ';'-lists of provider_ids)
        conflicts = np.full(n_e, "", dtype=object)
        if len(c_key):
            frame = pd.DataFrame({"e": c_e, "p": self.p_uscc[c_p].astype(str)})
            joined = frame.sort_values(["e", "p"]).groupby("e")["p"].agg(";".join)
            conflicts[joined.index.to_numpy()] = joined.to_numpy()
        self.tables["experts"] = pd.DataFrame({
            "expert_id": e_id, "name": _person_names(rng, n_e), "role": role,
            "province_code": _obj(list(_CODES))[e_prov], "conflicts": conflicts,
        })
        self.e_id, self.e_prov, self.e_start, self.e_pool = e_id, e_prov, e_start, pool
        self.e_outlier = outlier
        self.e_gaming = gaming_expert
        self.c_breached = (c_e[breached], c_p[breached])
        self.ahp(rng)

    def ahp(self, rng: np.random.Generator) -> None:
        if self.size.ahp == ("*",):
            provs = [_CODE_INDEX[self.province]]
        else:
            provs = [_CODE_INDEX[c] for c in self.size.ahp]
        experts = np.concatenate([self.e_start[p] + np.arange(min(7, self.e_pool[p]))
                                  for p in provs if self.e_pool[p]])
        inconsistent = experts[2]  # the third AHP expert answers at random
        rows_e, rows_l, rows_a, rows_b, rows_v = [], [], [], [], []
        for level, items in _AHP_ITEMS.items():
            k = len(items)
            prior = np.array([_AHP_PRIOR[i] for i in items]) if level == "dimensions" else \
                np.linspace(1.4, 0.6, k)
            w = prior[None, :] * rng.lognormal(0, 0.3, (len(experts), k))
            ia, ib = np.triu_indices(k, 1)
            ratio = w[:, ia] / w[:, ib] * rng.lognormal(0, 0.12, (len(experts), len(ia)))
            idx = np.abs(np.log(ratio)[:, :, None] - np.log(_SAATY)[None, None, :]).argmin(axis=2)
            bad = experts == inconsistent
            idx[bad] = rng.integers(0, len(_SAATY), (int(bad.sum()), len(ia)))
            rows_e.append(np.repeat(experts, len(ia)))
            rows_l.append(np.full(len(experts) * len(ia), level, dtype=object))
            rows_a.append(np.tile(_obj(items)[ia], len(experts)))
            rows_b.append(np.tile(_obj(items)[ib], len(experts)))
            rows_v.append(_SAATY_TEXT[idx.ravel()])
        e = np.concatenate(rows_e)
        frame = pd.DataFrame({
            "expert_id": self.e_id[e], "level": np.concatenate(rows_l),
            "a": np.concatenate(rows_a), "b": np.concatenate(rows_b),
            "value": np.concatenate(rows_v),
        })
        self.tables["ahp_judgments"] = frame.sort_values(
            ["expert_id", "level", "a", "b"], kind="stable").reset_index(drop=True)
        self.ahp_inconsistent = self.e_id[inconsistent]

    # -- complaints ----------------------------------------------------------------------------
    def complaints(self) -> None:
        rng = _rng(self.seed, "complaints")
        n_apps = len(self.a_id)
        n_pa = len(_PLANTED_APPS)
        n = round(self.size.complaints_per_app * n_apps)
        w = self.a_popularity * np.exp(-0.6 * self.a_quality)
        w[:n_pa] = 0.0
        app = rng.choice(n_apps, n, p=w / w.sum())
        cats = schema.COMPLAINT_CATEGORIES
        base = np.array([0.12, 0.08, 0.18, 0.16, 0.06, 0.28, 0.12])
        weights = np.broadcast_to(base, (n, len(cats))).copy()
        weights[:, 0] *= np.where(self.a_fees[app], 3.0, 0.5)
        weights[:, 1] *= np.where(self.a_ads[app], 4.0, 0.4)
        cum = np.cumsum(weights, axis=1)
        cat = (rng.random(n)[:, None] * cum[:, -1:] > cum).sum(axis=1)
        received = self.as_of - _days(rng.integers(0, 730, n))
        recent = (self.as_of - received).astype(int) <= 21
        open_ = np.where(recent, rng.random(n) < 0.7, rng.random(n) < 0.02)
        delay = np.select([rng.random(n) < 0.08, rng.random(n) < 0.1],
                          [rng.integers(16, 46, n), rng.integers(13, 16, n)],
                          rng.integers(1, 13, n))
        resolved = np.busday_offset(received, delay, roll="forward")
        open_ |= resolved > self.as_of
        resolved = np.where(open_, np.datetime64("NaT"), resolved)
        substantiated = pd.array(np.where(open_, None, rng.random(n) < 0.42), dtype="boolean")
        home = _obj(list(_CODES))[self.a_home_idx[app]]
        phone = _phones(rng, n)
        email = _emails(rng, n)
        title = _pick(rng, N.SURNAMES, n) + _pick(rng, ("先生", "女士"), n)
        kind = rng.choice(4, n, p=[0.45, 0.2, 0.25, 0.1])
        contact = np.select([kind == 0, kind == 1, kind == 2],
                            [phone, title + " " + phone, email], "").astype(object)
        # free text: a template of the category; sometimes the complainant's personal data
        text = np.empty(n, dtype=object)
        for ci, c in enumerate(cats):
            m = np.flatnonzero(cat == ci)
            text[m] = _pick(rng, N.COMPLAINT_TEXT[c], len(m))
        pd_kind = rng.choice(4, n, p=[0.88, 0.05, 0.04, 0.03])
        ids = _resident_ids(rng, n, home)
        text = np.select([pd_kind == 1, pd_kind == 2, pd_kind == 3],
                         [text + "我的电话" + phone + "，请尽快回复。",
                          text + "孩子身份证号" + ids + "已经被要求上传。",
                          text + "邮箱：" + email], text).astype(object)
        # ids sequential by date (planted complaints first)
        order = np.lexsort((app, received))
        cid = "C" + _int_text(np.arange(n) + 101, 8)
        frame = pd.DataFrame({
            "complaint_id": cid,
            "app_id": self.a_id[app][order],
            "received_on": received[order],
            "channel": _pick(rng, N.CHANNELS, n, p=N.CHANNEL_P)[order],
            "category": _obj(list(cats))[cat][order],
            "substantiated": substantiated[order],
            "resolved_on": resolved[order],
            "contact": contact[order],
            "text": text[order],
        })
        ugc = self.a_id[_PA_INDEX["ugc_no_review"]]
        fees = self.a_id[_PA_INDEX["mandated_fees"]]
        d = self._ago
        planted = pd.DataFrame({
            "complaint_id": ["C00000001", "C00000002", "C00000003"],
            "app_id": [ugc, fees, fees],
            "received_on": [d(90), d(150), d(5)],
            "channel": ["12345热线", "教育厅网站", "电子邮件"],
            "category": ["privacy", "fees", "forced_use"],
            "substantiated": pd.array([True, True, None], dtype="boolean"),
            "resolved_on": [np.busday_offset(d(90), 6, roll="forward"),
                            np.busday_offset(d(150), 25, roll="forward"), np.datetime64("NaT")],
            "contact": ["王女士 13912345678", "li.hua2024@163.com", "13800138000"],
            "text": [
                ("社区里有人公开了我孩子的信息，我的电话13912345678，孩子身份证号"
                 "110101201003070011，请删除并处理。"),
                ("统一使用的家校通知应用要求购买会员才能查看作业，联系人张伟 13700000001，"
                 "身份证440106198503150038。"),
                "班主任要求必须下载注册，否则不能提交作业。邮箱 li.hua2024@163.com",
            ],
        })
        frame = pd.concat([planted, frame], ignore_index=True)
        frame["received_on"] = frame["received_on"].astype("datetime64[s]")
        frame["resolved_on"] = frame["resolved_on"].astype("datetime64[s]")
        self.tables["complaints"] = frame

    # -- violations ----------------------------------------------------------------------------
    def violations(self) -> None:
        rng = _rng(self.seed, "violations")
        n_pp = len(_PLANTED_PROVIDERS)
        n_prov = len(self.p_uscc)
        n = max(3, round(self.size.violation_rate * n_prov))
        w = np.exp(-1.2 * self.p_quality) * np.where(np.arange(n_prov) < n_pp, 0.0, 1.0)
        prov = rng.choice(n_prov, n, p=w / w.sum())
        order_a, starts, counts = _csr(self.a_owner, n_prov)
        pick = order_a[starts[prov] + np.floor(rng.random(n) * counts[prov]).astype(np.int64)]
        has_app = rng.random(n) < 0.8
        app_id = np.where(has_app, self.a_id[pick], "").astype(object)
        found = self.as_of - _days(rng.integers(20, 1000, n))
        vtype = _pick(rng, N.VIOLATION_TYPES, n, p=N.VIOLATION_TYPE_P)
        fraud = rng.random(n) < 0.02
        vtype = np.where(fraud, "false_material", vtype).astype(object)
        severity = _pick(rng, schema.SEVERITIES, n, p=(0.5, 0.35, 0.15))
        severity = np.where(fraud, "serious", severity).astype(object)
        period = rng.choice(np.array([30, 60, 90]), n)
        rectify_by = found + _days(period)
        outcome = rng.choice(3, n, p=[0.75, 0.12, 0.13])
        rectified = np.select([outcome == 0, outcome == 1],
                              [found + _days(rng.integers(5, 30, n)),
                               rectify_by + _days(rng.integers(5, 60, n))],
                              np.datetime64("NaT"))
        rectified = np.where(rectified > self.as_of, np.datetime64("NaT"), rectified)
        order = np.lexsort((prov, found))
        frame = pd.DataFrame({
            "violation_id": "V" + _int_text(np.arange(n) + 101, 7),
            "provider_id": self.p_uscc[prov][order],
            "app_id": app_id[order],
            "found_on": found[order],
            "type": vtype[order],
            "severity": severity[order],
            "fraud": fraud[order],
            "rectify_by": rectify_by[order],
            "rectified_on": rectified[order],
        })
        d = self._ago
        rep = self.p_uscc[_PP_INDEX["repeat"]]
        rep_app = self.a_id[_PA_INDEX["repeat"]]
        planted = pd.DataFrame({
            "violation_id": ["V0000001", "V0000002", "V0000003", "V0000004"],
            "provider_id": [self.p_uscc[_PP_INDEX["fraud"]], rep, rep, rep],
            "app_id": [self.a_id[_PA_INDEX["fraud"]], rep_app, "", rep_app],
            "found_on": [d(120), d(700), d(400), d(90)],
            "type": ["false_material", "ads", "privacy", "forced_use"],
            "severity": ["serious", "minor", "major", "major"],
            "fraud": [True, False, False, False],
            "rectify_by": [d(90), d(670), d(340), d(30)],
            "rectified_on": [np.datetime64("NaT"), d(680), d(300), np.datetime64("NaT")],
        })
        frame = pd.concat([planted, frame], ignore_index=True)
        for col in ("found_on", "rectify_by", "rectified_on"):
            frame[col] = frame[col].astype("datetime64[s]")
        self.tables["violations"] = frame

    # -- waivers -------------------------------------------------------------------------------
    def waivers(self) -> None:
        rng = _rng(self.seed, "waivers")
        n_pa = len(_PLANTED_APPS)
        failing = {"S10_high_risk_vulnerabilities": self.as_value != "0",
                   "F06_accessibility": self.as_value == "fails",
                   "S07_masvs_resilience": self.as_value == "fails"}
        cand = np.zeros(len(self.as_app), dtype=bool)
        for cid, bad in failing.items():
            cand |= (self.as_crit == self.as_crit_ids.index(cid)) & bad
        cand &= self.as_app >= n_pa
        rows = np.flatnonzero(cand)
        k = min(len(rows), max(3, round(self.size.waiver_rate * len(self.a_id))))
        rows = np.sort(rng.choice(rows, size=k, replace=False))
        app = self.as_app[rows]
        approved = np.maximum(self.as_day[rows] + np.timedelta64(7, "D"),
                              self.as_of - _days(rng.integers(10, 200, k)))
        approved = np.minimum(approved, self.as_of)
        expires = np.maximum(approved + _days(rng.integers(180, 366, k)),
                             self.as_of + np.timedelta64(30, "D"))
        # the approving unit is the one that reviews the app: its home unit (every app is a
        # candidate there), or at province scale the one unit all apps are submitted to
        unit = self.a_home_idx[app] if self.scale != "province" else np.full(k, _CODE_INDEX[self.province])
        approver = _person_names(rng, k) + "（" + _obj([N.SHORT[c] for c in _CODES])[unit] + "教育厅）"
        frame = pd.DataFrame({
            "app_id": self.a_id[app],
            "criterion_id": _obj(self.as_crit_ids)[self.as_crit[rows]],
            "reason": _pick(rng, N.WAIVER_REASONS, k),
            "approved_by": approver,
            "approved_on": approved,
            "expires_on": expires,
            "province_code": _obj(_CODES)[unit],
        })
        d = self._ago
        planted_unit = self.province if self.scale == "province" else "34"  # where they are candidates
        planted = pd.DataFrame({
            "app_id": [self.a_id[_PA_INDEX["waiver_active"]], self.a_id[_PA_INDEX["waiver_expired"]]],
            "criterion_id": ["S09_no_cleartext_personal_data", "S10_high_risk_vulnerabilities"],
            "reason": ["经复测确认为第三方SDK误报：日志中的手机号为脱敏测试数据，已提交复测报告",
                       "整改方案已备案，限期内完成整改"],
            "approved_by": [f"陈静（{N.SHORT[planted_unit]}教育厅科技处）"] * 2,
            "approved_on": [d(60), d(400)],
            "expires_on": [self.as_of + np.timedelta64(120, "D"), d(35)],
            "province_code": [planted_unit, planted_unit],
        })
        frame = pd.concat([planted, frame], ignore_index=True)
        for col in ("approved_on", "expires_on"):
            frame[col] = frame[col].astype("datetime64[s]")
        self.tables["waivers"] = frame.sort_values(
            ["app_id", "criterion_id", "approved_on"], kind="stable").reset_index(drop=True)

    # -- providers and apps frames (need the apps for licences) -------------------------------
    def finish(self) -> None:
        rng = _rng(self.seed, "licences")
        n_prov = len(self.p_uscc)
        charging = np.zeros(n_prov, dtype=bool)
        charging[self.a_owner[self.a_fees | self.a_features["payments"]]] = True
        has = np.where(charging, rng.random(n_prov) < 0.95, rng.random(n_prov) < 0.15)
        for key in ("mandated", "fraud", "repeat", "overlap_a", "overlap_b"):
            has[_PP_INDEX[key]] = True
        nationwide = rng.random(n_prov) < 0.35
        kind = np.where(rng.random(n_prov) < 0.9, "B2-", "B1-").astype(object)
        number = _int_text(2015 + rng.integers(0, 11, n_prov)) + _int_text(
            rng.integers(1, 10**4, n_prov), 4)
        licence = np.where(nationwide, kind + number, self.p_chars + kind + number)
        licence = np.where(has, licence, "").astype(object)
        p = self._p_frame
        level = p["mlps_level"]
        providers = pd.DataFrame({
            "provider_id": p["provider_id"], "name": p["name"],
            "province_code": p["province_code"], "legal_rep": p["legal_rep"],
            "icp_number": p["icp_number"], "telecom_licence": licence,
            "mlps_level": pd.array(np.where(level > 0, level, None), dtype="Int64"),
            "mlps_filing_no": np.where(level > 0, p["mlps_filing_no"], "").astype(object),
            "mlps_evaluated_on": np.where(level > 0, p["mlps_evaluated_on"], np.datetime64("NaT")),
        })
        used = np.zeros(n_prov, dtype=bool)
        used[self.a_owner] = True  # province scale: only providers of candidates
        self.tables["providers"] = providers[used].sort_values("provider_id").reset_index(drop=True)
        a = self._a_frame
        limit = a["daily_limit_min"]
        apps = pd.DataFrame({
            **{k: a[k] for k in ("app_id", "provider_id", "name", "version", "category", "stages",
                                 "primary_users", "minors_primary", "features", "charges_fees",
                                 "has_ads", "has_games", "age_range")},
            "daily_limit_min": pd.array(np.where(limit > 0, limit, None), dtype="Int64"),
            "filed_on": a["filed_on"], "info_updated_on": a["info_updated_on"],
            "last_release_on": a["last_release_on"], "description": self._a_desc,
        })
        order = np.lexsort((self.a_id.astype(str),))
        self.tables["apps"] = apps.iloc[order].reset_index(drop=True)
        self.tables["submissions"] = self.s_frame.sort_values(
            ["province_code", "app_id"], kind="stable").reset_index(drop=True)
        for name in ("complaints", "violations"):
            self.tables[name] = self.tables[name].sort_values(
                name[:-1] + "_id", kind="stable").reset_index(drop=True)

    def build(self) -> dict[str, pd.DataFrame]:
        self.providers()
        self.apps()
        self.submissions()
        self.assessments()
        self.panel()
        self.complaints()
        self.violations()
        self.waivers()
        self.finish()
        return {name: _typed(name, self.tables[name]) for name in schema.TABLE_NAMES}


def _typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in contract order with contract-like dtypes (categoricals kept for big tables)."""
    table = schema.TABLES[name]
    out = {}
    for col in table.columns:
        if col.optional and col.name not in frame:  # a v2 column this table is made without
            continue
        s = frame[col.name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col.name] = s
        elif col.kind == "date":
            out[col.name] = pd.to_datetime(s).astype("datetime64[us]")
        elif col.kind == "bool":
            out[col.name] = s.astype("boolean")
        elif col.kind == "int":
            out[col.name] = s.astype("Int64")
        elif col.kind == "float":
            out[col.name] = s.astype("float64")
        else:
            out[col.name] = s.astype("str")
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# Writers: deterministic CSV (our own formatting) and Parquet


def _csv_text(s: pd.Series) -> pa.Array:
    """One column as CSV field text (quoted where needed; empty for missing)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = _csv_text(pd.Series(s.cat.categories.astype("str")))
        return cats.take(pa.array(s.cat.codes.to_numpy()))
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        arr = pa.array(s.to_numpy().astype("datetime64[D]")).cast(pa.string())
        return pc.fill_null(arr, "")
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        arr = pa.array(s.astype("boolean").to_numpy(dtype=object, na_value=None), type=pa.bool_())
        return pc.fill_null(pc.if_else(arr, "true", "false"), "")
    if pd.api.types.is_integer_dtype(s.dtype):
        return pc.fill_null(pc.cast(pa.array(s.astype("Int64"), type=pa.int64()), pa.string()), "")
    if pd.api.types.is_float_dtype(s.dtype):
        arr = pa.array(np.round(s.to_numpy(dtype=np.float64), 6) + 0.0, from_pandas=True)
        return pc.fill_null(arr.cast(pa.string()), "")
    arr = pc.fill_null(pa.array(s.astype("str").to_numpy(dtype=object, na_value=None),
                                type=pa.string()), "")
    needs = pc.match_substring_regex(arr, '[",\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, arr)


def _write_csv(frame: pd.DataFrame, path: Path, chunk: int = 500_000) -> None:
    with open(path, "wb") as fh:
        fh.write((",".join(frame.columns) + "\n").encode("utf-8"))
        for start in range(0, len(frame), chunk):
            part = frame.iloc[start:start + chunk]
            cols = [_csv_text(part[c]) for c in part.columns]
            line = pc.binary_join_element_wise(*cols, ",")
            line = pc.binary_join_element_wise(line, "", "\n")
            line = pa.concat_arrays([line]) if line.offset else line
            offsets = np.frombuffer(line.buffers()[1], dtype=np.int32)[: len(line) + 1]
            data = line.buffers()[2]
            fh.write(memoryview(data)[offsets[0]:offsets[-1]])


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    arrays, names = [], []
    for c in frame.columns:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            arr = pa.array(s.astype("str").to_numpy(dtype=object), type=pa.string())
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            arr = pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32())
        elif isinstance(s.dtype, pd.BooleanDtype):
            arr = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.bool_())
        elif pd.api.types.is_integer_dtype(s.dtype):
            arr = pa.array(s.astype("Int64"), type=pa.int64())
        elif pd.api.types.is_float_dtype(s.dtype):
            arr = pa.array(s.to_numpy(dtype=np.float64), type=pa.float64())
        else:
            arr = pa.array(s.astype("str").to_numpy(dtype=object, na_value=None), type=pa.string())
        arrays.append(arr)
        names.append(c)
    pq.write_table(pa.Table.from_arrays(arrays, names=names), path, compression="zstd")


# ---------------------------------------------------------------------------------------------
# Public API


def _check(scale: object, seed: object, as_of: object, province: object, fmt: object = "csv",
           func: str = "generate") -> tuple[str, int, np.datetime64, str, str]:
    if scale not in SCALES:
        raise ValueError(f"The 'scale' parameter of {func} must be one of {SCALES}; "
                         f"got {scale!r} instead.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The 'seed' parameter of {func} must be a non-negative integer; "
                         f"got {seed!r} instead.")
    if as_of is None:
        as_of = DEFAULT_AS_OF
    try:
        day = np.datetime64(pd.Timestamp(as_of).date(), "D")
    except (ValueError, TypeError):
        raise ValueError(f"The 'as_of' parameter of {func} must be an ISO date (YYYY-MM-DD); "
                         f"got {as_of!r} instead.") from None
    if not np.datetime64("2021-01-01") <= day <= np.datetime64("2099-12-31"):
        raise ValueError(f"The 'as_of' parameter of {func} must lie between 2021-01-01 and "
                         f"2099-12-31; got {as_of!r} instead.")
    if province not in identifiers.PROVINCE_CODES:
        raise ValueError(f"The 'province' parameter of {func} must be a provincial code "
                         f"({', '.join(identifiers.PROVINCE_CODES)}); got {province!r} instead.")
    if fmt not in FORMATS:
        raise ValueError(f"The 'fmt' parameter of {func} must be one of {FORMATS}; "
                         f"got {fmt!r} instead.")
    return str(scale), int(seed), day, str(province), str(fmt)


#: Smallest ``n_apps`` (the planted cases and every province's panel need a few hundred apps).
MIN_APPS = 1000


def _check_n_apps(n_apps: object, scale: str, func: str = "generate") -> int | None:
    if n_apps is None:
        return None
    if scale != "national":
        raise ValueError(f"The 'n_apps' parameter of {func} applies to the national scale only; "
                         f"got n_apps={n_apps!r} with scale={scale!r} instead.")
    if isinstance(n_apps, bool) or not isinstance(n_apps, (int, np.integer)) or n_apps < MIN_APPS:
        raise ValueError(f"The 'n_apps' parameter of {func} must be an integer >= {MIN_APPS}; "
                         f"got {n_apps!r} instead.")
    return int(n_apps)


def generate_tables(scale: Scale = "sample", *, seed: int = 0,
                    as_of: object = DEFAULT_AS_OF,
                    province: str = DEFAULT_PROVINCE,
                    n_apps: int | None = None) -> dict[str, pd.DataFrame]:
    """Generate the ten contract-v1 tables in memory.

    Parameters
    ----------
    scale : {"sample", "province", "national"}
        Size of the dataset (DESIGN.md §8).
    seed : int, default 0
        Seed of every random stream; the same seed gives the same tables.
    as_of : date-like, default 2026-09-01
        The date the data describes: no event lies after it.
    province : str, default "44"
        The province of the ``province`` scale (ignored by the others).
    n_apps : int, optional
        ``national`` scale only: the number of apps instead of 50,000 (providers = apps / 5;
        panels, assessments and complaints follow per app).  ``None`` keeps the scale's size.

    Returns
    -------
    dict[str, pandas.DataFrame]
        One frame per table of :data:`evalkit.data.schema.TABLE_NAMES`, columns in contract order;
        dates ``datetime64[us]``, booleans ``boolean``, integers ``Int64``.  The large id
        columns of ``panel_scores`` are categoricals.
    """
    scale, seed, day, province, _ = _check(scale, seed, as_of, province, func="generate_tables")
    size = _check_n_apps(n_apps, scale, func="generate_tables")
    return _World(scale, seed, day, province, n_apps=size).build()


def _write_partitioned(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Hive-partitioned Parquet: ``<table>/province=NN/part-0.parquet`` (see evalkit.data.partition)."""
    import shutil

    from evalkit.data import partition

    member = partition.memberships(tables)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        for ext in ("csv", "parquet"):
            (folder / f"{name}.{ext}").unlink(missing_ok=True)
        root = folder / name
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        m = member[name]
        rows = m["row"].to_numpy()
        provinces = m["province"].to_numpy(dtype=object)
        starts = np.flatnonzero(np.r_[True, provinces[1:] != provinces[:-1]]) if len(m) else []
        bounds = list(starts) + [len(m)]
        for lo, hi in itertools.pairwise(bounds):  # one file per province
            take = rows[lo:hi]
            part = frame.iloc[take].reset_index(drop=True)
            part[partition.ROW_COLUMN] = take + 1
            target = root / f"{partition.PARTITION_KEY}={provinces[lo]}"
            target.mkdir()
            _write_parquet(part, target / "part-0.parquet")
        paths[name] = root
    return paths


def write_tables(tables: dict[str, pd.DataFrame], out: str | PathLike[str], *,
                 fmt: Format = "csv", partitioned: bool = False) -> dict[str, Path]:
    """Write tables as UTF-8 CSV (no BOM, ``\\n`` line ends, minimal quoting) or Parquet.

    With ``partitioned=True`` (Parquet only) every table becomes a folder split by the
    province that needs its rows, ``<table>/province=NN/part-0.parquet``
    (:mod:`evalkit.data.partition`).  Returns the path of every file (or folder) written, by table.
    """
    if fmt not in FORMATS:
        raise ValueError(f"The 'fmt' parameter of write_tables must be one of {FORMATS}; "
                         f"got {fmt!r} instead.")
    if partitioned and fmt != "parquet":
        raise ValueError("The 'partitioned' parameter of write_tables needs fmt='parquet'; "
                         f"got fmt={fmt!r} instead.")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    if partitioned:
        return _write_partitioned(tables, folder)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        if (folder / name).is_dir():  # a partitioned table of an earlier run
            import shutil

            shutil.rmtree(folder / name)
        path = folder / f"{name}.{fmt}"
        other = folder / f"{name}.{'parquet' if fmt == 'csv' else 'csv'}"
        if other.exists():  # never leave both formats of one table behind
            other.unlink()
        (_write_csv if fmt == "csv" else _write_parquet)(frame, path)
        paths[name] = path
    return paths


def generate(out: str | PathLike[str], *, scale: Scale = "sample", seed: int = 0,
             as_of: object = DEFAULT_AS_OF, fmt: Format = "csv",
             province: str = DEFAULT_PROVINCE, partitioned: bool = False,
             n_apps: int | None = None) -> dict[str, Path]:
    """Generate a dataset folder (contract v1, all ten tables).

    Parameters
    ----------
    out : path
        Folder to write (created if needed; existing table files are replaced).
    scale, seed, as_of, province
        See :func:`generate_tables`.
    fmt : {"csv", "parquet"}, default "csv"
    partitioned : bool, default False
        Parquet only: one folder per table, Hive-partitioned by province
        (``apps/province=44/part-0.parquet``; see :mod:`evalkit.data.partition`).
    n_apps : int, optional
        ``national`` scale only: the number of apps (default 50,000); providers, panels,
        assessments and complaints scale with it (for growth benchmarks).

    Returns
    -------
    dict[str, pathlib.Path]
        The file written for every table.

    Examples
    --------
    >>> paths = generate("data/sample")                      # doctest: +SKIP
    >>> evalkit.load_dataset("data/sample").apps.shape[0]    # doctest: +SKIP
    400
    """
    scale, seed, day, province, fmt = _check(scale, seed, as_of, province, fmt)
    tables = _World(scale, seed, day, province, n_apps=_check_n_apps(n_apps, scale)).build()
    return write_tables(tables, out, fmt=fmt, partitioned=partitioned)  # type: ignore[arg-type]


def planted_cases(scale: Scale = "sample", *, province: str = DEFAULT_PROVINCE) -> pd.DataFrame:
    """The planted cases and their fixed identifiers (the same for every seed and ``as_of``).

    Returns a frame with ``case``, ``table``, ``id`` and ``expect`` (what a correct evaluation
    finds).  At the ``province`` scale every planted app is a candidate of ``province`` and the
    gaming expert is that province's ``E{province}001``.
    """
    scale, _, _, province, _ = _check(scale, 0, None, province, func="planted_cases")
    uscc = {p.key: p for p in _PLANTED_PROVIDERS}
    ids = identifiers.make_uscc_array(
        "9", "1", np.array([identifiers.PROVINCES[p.province].capital_division
                            for p in _PLANTED_PROVIDERS]),
        np.array([p.org8 for p in _PLANTED_PROVIDERS])).astype(object)
    fj = _PP_INDEX["fujian_pilot"]
    ids[fj] = ids[fj][:-1] + identifiers.USCC_CHARSET[
        (identifiers.USCC_CHARSET.index(ids[fj][-1]) + 7) % 31]
    pid = {p.key: ids[i] for i, p in enumerate(_PLANTED_PROVIDERS)}
    aid = {a.key: f"教APP备{uscc[a.provider].province}{a.serial:05d}号" for a in _PLANTED_APPS}
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
