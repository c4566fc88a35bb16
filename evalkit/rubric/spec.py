"""The file models of rubrics and profiles: pydantic, ``extra="forbid"``, checked at load.

:class:`RubricSpec` is what a ``rubric.yaml`` (its includes resolved) must hold, built into the
typed :class:`~evalkit.rubric.model.Rubric` by :func:`~evalkit.rubric.model.load_rubric`;
:class:`Profile` is a province profile merged over ``national.yaml``
(:func:`~evalkit.rubric.profiles.load_profile`), used as is.  Names of pluggable parts are
checked against their registries, never against a copy of their names (the ranking method
against :data:`evalkit.mcda.rank.METHODS`, the weight method against
:data:`evalkit.mcda.weights.WEIGHT_METHODS`, the panel reducer against
:data:`evalkit.mcda.reducers.REDUCERS`).

:func:`validate` turns every pydantic error into a :class:`~evalkit.errors.Problem` naming the
file, the line and the key path (:class:`~evalkit.rubric.loader.Locator`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from evalkit.data import schema
from evalkit.errors import Problem, suggest, unknown_name
from evalkit.mcda import rank, reducers, weights

__all__ = [
    "CreditSpec",
    "CriterionSpec",
    "DimensionSpec",
    "ListSpec",
    "MlpsSpec",
    "Names",
    "PanelSpec",
    "Profile",
    "ProfileWaiversSpec",
    "ProfileWeightsSpec",
    "RankingSpec",
    "RuleDeclSpec",
    "RuleRef",
    "RubricSpec",
    "VetoSpec",
    "WeightsSpec",
    "problem_message",
    "validate",
]

_unknown = unknown_name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    """Bilingual name: both ``zh`` and ``en`` are required and non-empty."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


Weight = float


def _listify(v: Any) -> Any:
    return [v] if isinstance(v, (str, int)) and not isinstance(v, bool) else v


class LevelSpec(_Strict):
    """One anchored level of a panel criterion's score scale (shown on the score sheets)."""

    score: float = Field(ge=0, strict=False)
    name: Names
    description: Names


class VetoSpec(_Strict):
    when: Literal["fails", "below"] = "fails"
    score: float | None = Field(None, ge=0, le=100)

    @model_validator(mode="after")
    def _floor(self) -> VetoSpec:
        if self.when == "below" and self.score is None:
            raise ValueError("a 'below' veto needs 'score' (the floor on the 0–100 scale)")
        if self.when == "fails" and self.score is not None:
            raise ValueError("'score' is only used with when: below")
        return self


class RuleRef(BaseModel):
    """``rule: name`` or ``rule: {type: name, ...params}``; params are checked per rule."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str

    @model_validator(mode="before")
    @classmethod
    def _short(cls, v: Any) -> Any:
        return {"type": v} if isinstance(v, str) else v


Section = int


class CriterionSpec(_Strict):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    name: Names
    #: What a failure of this criterion means, in words (a veto's reason: "等级测评报告已过期"); unset: the
    #: reason names the criterion.
    failed: Names | None = None
    description: Names | None = None
    sections: list[Section] = Field(min_length=1)
    standard: list[str] = Field(default_factory=list)
    source: Literal["registry", "assessment", "panel"]
    check: str | None = None
    value: str
    unit: str | None = None
    rule: RuleRef
    weight: float = Field(ge=0, strict=True)
    applies: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    veto: VetoSpec | None = None
    #: Whether a province's waiver may set this criterion aside.  Unset: yes for criteria that
    #: are no veto, no for veto items (rubric ``veto`` or a profile's ``extra_vetoes``).
    waivable: bool | None = None
    #: Anchored score levels of a panel criterion (default: the rubric's ``panel_levels``).
    levels: list[LevelSpec] | None = None

    @field_validator("standard", "applies", "sections", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> Any:
        return _listify(v)


class DimensionSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Names
    weight: float = Field(ge=0, strict=True)
    criteria: list[CriterionSpec] = Field(min_length=1)


class RuleDeclSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["list", "credit", "registry", "monitoring"]
    name: Names
    sections: list[Section] = Field(min_length=1)
    implemented_in: str = Field(pattern=r"^evalkit(\.[a-z_][a-z0-9_]*)*$")
    tested_by: str = Field("", pattern=r"^$|^tests/[A-Za-z0-9_/]+\.py(::[A-Za-z_][A-Za-z0-9_]*){1,2}$")
    description: Names | None = None

    @field_validator("sections", mode="before")
    @classmethod
    def _lists(cls, v: Any) -> Any:
        return _listify(v)


class WeightsSpec(_Strict):
    ahp: str


class RubricSpec(_Strict):
    version: str = Field(min_length=1)
    name: Names
    description: Names | None = None
    policy: str | None = None
    weights: WeightsSpec | None = None
    dimensions: list[DimensionSpec] = Field(min_length=1)
    rules: list[RuleDeclSpec] = Field(default_factory=list)
    #: Anchored levels of the panel score scale shared by every panel criterion without its own.
    panel_levels: list[LevelSpec] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


# ---- profiles


class ListSpec(_Strict):
    max_total: int = Field(ge=1)
    max_per_category: dict[str, int] = Field(default_factory=dict)
    max_per_stage: dict[str, int] = Field(default_factory=dict)
    min_total_score: float = Field(ge=0, le=100)
    min_dimension_score: dict[str, float] = Field(default_factory=dict)
    provider_share_cap: float = Field(gt=0, le=1)

    @field_validator("max_per_category")
    @classmethod
    def _cats(cls, v: dict[str, int]) -> dict[str, int]:
        return _check_codes(v, schema.CATEGORIES, "category", ge=0)

    @field_validator("max_per_stage")
    @classmethod
    def _stages(cls, v: dict[str, int]) -> dict[str, int]:
        return _check_codes(v, schema.STAGES, "stage", ge=0)

    @field_validator("min_dimension_score")
    @classmethod
    def _dims(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not 0 <= x <= 100:
                raise ValueError(f"score for {k!r} must lie in [0, 100], got {x}")
        return v


def _check_codes(v: dict, codes: tuple[str, ...], what: str, ge: float) -> dict:
    for k, x in v.items():
        if k not in codes:
            raise ValueError(_unknown(what, str(k), codes))
        if x < ge:
            raise ValueError(f"cap for {k!r} must be ≥ {ge}, got {x}")
    return v


class MlpsSpec(_Strict):
    min_level: int = Field(ge=1, le=5)
    validity_months: dict[int, int]

    @field_validator("validity_months")
    @classmethod
    def _levels(cls, v: dict[int, int]) -> dict[int, int]:
        for lv, months in v.items():
            if not 1 <= lv <= 5:
                raise ValueError(f"MLPS levels are 1–5, got {lv}")
            if months < 1:
                raise ValueError(f"validity for level {lv} must be ≥ 1 month, got {months}")
        return v


class CreditSpec(_Strict):
    thresholds: dict[Literal["A", "B", "C"], float]

    @field_validator("thresholds")
    @classmethod
    def _order(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != {"A", "B", "C"}:
            raise ValueError(f"thresholds need A, B and C, got {sorted(v)}")
        if not 100 >= v["A"] > v["B"] > v["C"] >= 0:
            raise ValueError(f"thresholds must satisfy 100 ≥ A > B > C ≥ 0, got {v}")
        return v


def _registered(name: str, registry: Any, what: str) -> str:
    """``name`` when ``registry`` (a :class:`~evalkit.registry.Registry` or a mapping) holds it;
    else the error naming the accepted names and the closest one (shown without "got …")."""
    if name not in registry:
        raise PydanticCustomError("unknown_name", "{message}", {"message": _unknown(what, name, registry)})
    return name


class RankingSpec(_Strict):
    #: A ranking method of :data:`evalkit.mcda.rank.METHODS`.
    method: str
    concentration: float = Field(gt=0)
    draws: int = Field(ge=1)
    #: Robustness also resamples each app's panel raters (bootstrap) in every draw.
    bootstrap_raters: bool = True

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        return _registered(v, rank.METHODS, "ranking method")


class PanelSpec(_Strict):
    reducer: str
    min_raters: int = Field(ge=1)

    @field_validator("reducer")
    @classmethod
    def _reducer(cls, v: str) -> str:
        return _registered(v, reducers.REDUCERS, "panel reducer")


class ProfileWeightsSpec(_Strict):
    #: ``ahp``: AHP judgments (the province's experts, national fallback); ``entropy``: Shannon
    #: entropy weights of the province's criterion scores inside each dimension; ``combined``:
    #: both, multiplied and renormalised (docs/rubric.md "Weights").
    method: str = "ahp"

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        return _registered(v, weights.WEIGHT_METHODS, "weight method")


class ProfileWaiversSpec(_Strict):
    #: Whether a waiver without ``province_code`` (a national waiver) applies in this province.
    national_apply: bool = False


class SupervisionSpec(_Strict):
    """County supervision (section (16)): a county whose share of compliant schools is below
    ``notify_below`` is notified (通报), below ``interview_below`` interviewed (约谈); a school
    with at least ``interview_min_findings`` findings (or a late withdrawal) is interviewed,
    any other non-compliant school notified."""

    notify_below: float = Field(0.9, ge=0, le=1)
    interview_below: float = Field(0.7, ge=0, le=1)
    interview_min_findings: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _order(self) -> SupervisionSpec:
        if self.interview_below > self.notify_below:
            raise ValueError(f"interview_below ({self.interview_below}) must not exceed notify_below "
                             f"({self.notify_below})")
        return self


class SchoolsSpec(_Strict):
    """The school rules of sections (8), (10), (11) (docs/schools.md)."""

    #: ``listed``: schools select only apps on the province's list (their own self-developed
    #: apps excepted); ``filed``: any filed app (Beijing 2024).
    selection_scope: Literal["listed", "filed"] = "listed"
    max_apps: int = Field(15, ge=1)
    max_apps_per_stage: dict[str, int] = Field(default_factory=dict)
    collective_bodies: tuple[str, ...] = ("school_meeting", "party_committee", "education_department")
    dual_review_stages: tuple[str, ...] = schema.K12_STAGES
    #: a province whose list review replaces the dual review of listed apps
    dual_review_listed_exempt: bool = False
    report_within_working_days: int = Field(20, ge=0)
    withdraw_within_working_days: int = Field(10, ge=0)
    exclusive_features: tuple[str, ...] = ("admissions_exams",)
    supervision: SupervisionSpec = SupervisionSpec()

    @field_validator("max_apps_per_stage")
    @classmethod
    def _stages(cls, v: dict[str, int]) -> dict[str, int]:
        return _check_codes(v, schema.STAGES, "stage", ge=1)

    @field_validator("collective_bodies", "dual_review_stages", "exclusive_features")
    @classmethod
    def _codes(cls, v: tuple[str, ...], info: Any) -> tuple[str, ...]:
        what, codes = {"collective_bodies": ("decision body", schema.DECISION_BODIES),
                       "dual_review_stages": ("stage", schema.STAGES),
                       "exclusive_features": ("feature", schema.FEATURES)}[info.field_name]
        for x in v:
            if x not in codes:
                raise ValueError(_unknown(what, str(x), codes))
        return v


class RepairSpec(_Strict):
    #: Credit repair (信用修复): months a provider stays listed after the decision before an
    #: approved repair ends a grey / black listing; whether a black listing may be repaired.
    grey_min_months: int = Field(3, ge=0)
    black_min_months: int = Field(12, ge=0)
    black_repairable: bool = True


class DueProcessSpec(_Strict):
    #: Working days of the public notice (公示) of a draft list (docs/due-process.md).
    notice_working_days: int = Field(5, ge=1, le=60)
    #: Working days a provider has to state its case or request a hearing after a sanction notice.
    statement_working_days: int = Field(5, ge=1, le=60)
    #: Provisional measure: a provider's other apps held off the list while a fraud sanction is pending.
    hold_other_apps_on_fraud: bool = True
    #: Where and how to object to a notice (shown in notice.json and notice.html).
    objection_channel: Names | None = None
    repair: RepairSpec = RepairSpec()


class Profile(_Strict):
    """A province profile (merged over the national default). See docs/architecture.md."""

    code: str
    name: Names
    rubric_version: str = Field(min_length=1)
    list: ListSpec
    validity_months: int = Field(ge=1)
    mlps: MlpsSpec
    ban_months: int = Field(ge=1)
    credit: CreditSpec
    extra_vetoes: tuple[str, ...] = ()
    ranking: RankingSpec
    panel: PanelSpec
    weights: ProfileWeightsSpec = ProfileWeightsSpec()
    waivers: ProfileWaiversSpec = ProfileWaiversSpec()
    schools: SchoolsSpec = SchoolsSpec()
    due_process: DueProcessSpec = DueProcessSpec()
    sources: tuple[str, ...] = ()
    notes: Names | None = None
    #: The issuing authority printed on the reports (the province's education department);
    #: unset: evalkit.publish.issue's default from the province's name.
    authority: Names | None = None

    @field_validator("rubric_version", "code", mode="before")
    @classmethod
    def _str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @property
    def name_zh(self) -> str:
        return self.name.zh

    @property
    def name_en(self) -> str:
        return self.name.en


_ALL_FIELDS = sorted(
    {f for m in (Names, VetoSpec, CriterionSpec, DimensionSpec, RuleDeclSpec, WeightsSpec, RubricSpec,
                 ListSpec, MlpsSpec, CreditSpec, RankingSpec, PanelSpec, ProfileWeightsSpec,
                 ProfileWaiversSpec, SupervisionSpec, SchoolsSpec, RepairSpec, DueProcessSpec,
                 Profile)
     for f in m.model_fields}
)


class _Locates(Protocol):
    """What :func:`validate` needs of a locator (:class:`~evalkit.rubric.loader.Locator`)."""

    def problem(self, loc: Iterable[Any], message: str, severity: str = ..., code: str = ...) -> Problem: ...


def problem_message(err: Mapping[str, Any]) -> str:
    """The message of one pydantic error as a problem shows it (the key path is shown apart)."""
    loc, typ = err["loc"], err["type"]
    last = loc[-1] if loc else None
    got = err.get("input")
    if typ == "extra_forbidden":
        return f"unknown key {last!r}.{suggest(last, _ALL_FIELDS)}"
    if last in ("zh", "en") and typ in ("missing", "string_too_short", "string_type"):
        return f"missing translation: a non-empty {last!r} name is required"
    if typ == "missing":
        return "required key is missing"
    if typ == "unknown_name":
        return str(err["msg"])
    if last == "weight":
        return f"must be a number ≥ 0, got {got!r}"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    return f"{msg}, got {got!r}" if not isinstance(got, (dict, list)) else msg


def validate(model: type[BaseModel], data: Any, loc: _Locates, problems: list[Problem]) -> Any:
    """``model`` validated from ``data``, or None with every error added to ``problems``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(loc.problem(err["loc"], problem_message(err)))
        return None

