"""What the generator draws: the sizes of the three scales, the criteria an assessment row
carries, the panel criteria, the AHP items and the Saaty scale (rubric v1, docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.data import identifiers, schema

__all__ = [
    "AHP_ITEMS",
    "AHP_PRIOR",
    "ASSESSED",
    "CODES",
    "CODE_INDEX",
    "NCODE",
    "PANEL",
    "PANEL_LEVEL",
    "SAATY",
    "SAATY_TEXT",
    "SIZES",
    "Crit",
    "Size",
]

#: The provincial units, in code order; a unit is often handled by its index in this tuple.
CODES = identifiers.PROVINCE_CODES
NCODE = len(CODES)
CODE_INDEX = {c: i for i, c in enumerate(CODES)}


@dataclass(frozen=True)
class Size:
    """The size and mix of a scale."""

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
    schools: int = 24  # schools per province (the province scale: in its one province)
    counties: int = 4  # counties per province
    selections: float = 4.0  # mean selections per school


SIZES: dict[str, Size] = {
    "sample": Size(140, 320, 7, False, 0.12, 20, 1.0, 0.03, ("63", "64"), ("11",), 0.06, 0.008),
    "province": Size(420, 2000, 9, False, 0.0, 0, 1.5, 0.15, ("*",), ("*",), 0.05, 0.003, 600, 40, 8.0),
    "national": Size(10000, 50000, 7, True, 0.03, 0, 20.0, 0.30, ("63", "64"),
                     ("11", "31", "44", "51"), 0.05, 0.002, 6250, 90, 10.0),
}


# ---------------------------------------------------------------------------------------------
# The criteria catalogue of rubric v1 (docs/architecture.md): what an assessment row carries.
#   kind: bool (pass = true), mpf, days, percent, count, crash, seconds
#   applies: all, minors, training, face, k12, k12_students, ads, ugc
#   params: bool → fail rate; mpf → (fails, partial, na)


@dataclass(frozen=True)
class Crit:
    """An assessed criterion: its kind of value, the apps it applies to and its rates."""

    id: str
    kind: str
    applies: str = "all"
    fail: float = 0.0
    partial: float = 0.0
    na: float = 0.0
    veto: bool = False


ASSESSED: tuple[Crit, ...] = (
    Crit("L06_privacy_policy", "bool", fail=0.012, veto=True),
    Crit("L07_consent_before_collection", "bool", fail=0.02, veto=True),
    Crit("L08_no_default_consent", "mpf", fail=0.04, partial=0.15),
    Crit("L09_no_forced_authorisation", "mpf", fail=0.015, partial=0.10, veto=True),
    Crit("L10_deletion_cancellation_days", "days"),
    Crit("L11_guardian_consent", "bool", "minors", fail=0.03, veto=True),
    Crit("L12_no_unrelated_collection", "mpf", fail=0.04, partial=0.18),
    Crit("L13_no_disclosure_or_sale", "bool", fail=0.005, veto=True),
    Crit("L14_purpose_scope_stated", "mpf", fail=0.03, partial=0.15),
    Crit("L15_real_name_backend", "mpf", fail=0.03, partial=0.15, na=0.05),
    Crit("L19_training_entity_registered", "bool", "training", fail=0.04, veto=True),
    Crit("L20_teacher_qualification_rate", "percent", "training"),
    Crit("L21_not_tied_to_grades", "bool", fail=0.04),
    Crit("L22_biometric_review", "bool", "face", fail=0.10),
    Crit("S01_masvs_storage", "mpf", fail=0.03, partial=0.15, na=0.01),
    Crit("S02_masvs_crypto", "mpf", fail=0.03, partial=0.15, na=0.01),
    Crit("S03_masvs_auth", "mpf", fail=0.03, partial=0.15, na=0.01),
    Crit("S04_masvs_network", "mpf", fail=0.03, partial=0.12, na=0.01),
    Crit("S05_masvs_platform", "mpf", fail=0.03, partial=0.15, na=0.01),
    Crit("S06_masvs_code", "mpf", fail=0.03, partial=0.18, na=0.01),
    Crit("S07_masvs_resilience", "mpf", fail=0.05, partial=0.25, na=0.02),
    Crit("S08_masvs_privacy", "mpf", fail=0.03, partial=0.15, na=0.01),
    Crit("S09_no_cleartext_personal_data", "bool", fail=0.02, veto=True),
    Crit("S10_high_risk_vulnerabilities", "count"),
    Crit("S11_security_certification", "bool", fail=0.65),
    Crit("C01_no_harmful_content", "bool", fail=0.008, veto=True),
    Crit("C02_no_unrelated_content", "mpf", "k12", fail=0.01, partial=0.06, veto=True),
    Crit("C06_ads_consistent", "mpf", "ads", fail=0.08, partial=0.20, na=0.02),
    Crit("C07_ugc_review_system", "bool", "ugc", fail=0.05, veto=True),
    Crit("C11_eye_protection", "bool", "k12_students", fail=0.10),
    Crit("F01_crash_rate", "crash"),
    Crit("F02_startup_seconds", "seconds"),
    Crit("F03_compatibility", "mpf", fail=0.03, partial=0.15),
    Crit("F06_accessibility", "mpf", fail=0.08, partial=0.30, na=0.04),
)


#: Panel criteria (0–10 scores); C05 applies only to minors' apps.
PANEL: tuple[str, ...] = (
    "C03_ideological_soundness", "C04_scientific_accuracy", "C05_age_appropriateness",
    "C10_educational_value", "C12_resource_quality", "C13_values_guidance", "C14_language_norms",
    "F04_usability", "F07_stakeholder_satisfaction", "F08_learning_effectiveness",
    "F09_teaching_fit", "F10_interaction_design",
)


#: Panel score level and spread (score ≈ level + spread · quality): the floor criteria (veto when
#: the panel score is below 6) sit high, so that only a few apps fall under them.
PANEL_LEVEL: dict[str, tuple[float, float]] = {
    "C03_ideological_soundness": (8.4, 0.7), "C04_scientific_accuracy": (8.0, 0.8),
    "C05_age_appropriateness": (7.9, 0.8), "C13_values_guidance": (8.2, 0.7),
    "C14_language_norms": (8.0, 0.7),
}


#: AHP items: the four dimensions, and per dimension its criteria that are not pure veto gates.
AHP_ITEMS: dict[str, tuple[str, ...]] = {
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


AHP_PRIOR: dict[str, float] = {"legality": 0.34, "security": 0.24, "content": 0.26, "function": 0.16}


SAATY = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9])


SAATY_TEXT = np.array(["1/9", "1/8", "1/7", "1/6", "1/5", "1/4", "1/3", "1/2", "1", "2", "3", "4",
                        "5", "6", "7", "8", "9"], dtype=object)

