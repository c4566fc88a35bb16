"""Named registries of the rubric's pluggable parts.

Three registries, each a small function registered by name (never a lookup that quietly
returns ``None``), each an :class:`evalkit.registry.Registry` (an unknown name raises
:class:`evalkit.registry.RegistryError`, an :class:`~evalkit.errors.EvalkitError`):

* **scoring rules** (:data:`SCORING_RULES`) turn a criterion's evidence value into a score
  0–100: ``pass_fail``, ``mpf``, ``likert``, ``threshold``, ``linear``.  Each rule has a
  pydantic parameter model (``extra="forbid"``) and a pure array kernel;
* **applicability conditions** (:data:`CONDITIONS`) say whether a criterion applies to a
  candidate: ``all``, ``minors_primary``, ``mandated_use``, ``k12``, ``charges_fees``,
  ``has_ads``, ``has_games`` and the parameterised ``feature:<code>``, ``stage:<code>``,
  ``user:<code>``, ``category:<code>``;
* **registry checks** (:data:`REGISTRY_CHECKS`) compute a registry criterion's value from the
  providers/apps/submissions columns of a candidate frame (ICP validity, MLPS level and
  evaluation age, filing updated, mandated-use flags, minors' settings, days since release).

Kernels take ``float64`` arrays with ``NaN`` for missing evidence and return ``float64``
scores; ``NaN`` passes through (the scoring engine decides what missing means).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from evalkit.data import identifiers, schema
from evalkit.errors import EvalkitError, unknown_name
from evalkit.registry import Registry

__all__ = [
    "CONDITIONS",
    "REGISTRY_CHECKS",
    "SCORING_RULES",
    "CheckContext",
    "Condition",
    "ConditionError",
    "RegistryCheck",
    "ScoringRule",
    "condition_mask",
    "get_check",
    "get_rule",
    "parse_condition",
    "register_check",
    "register_rule",
]

Direction = Literal["higher_is_better", "lower_is_better"]
Score = float


_unknown = unknown_name


class ConditionError(EvalkitError, ValueError):
    """An applicability condition that names no registered condition or a wrong parameter."""


# --------------------------------------------------------------------------------------------
# Scoring rules


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str


class PassFailParams(_Params):
    """``pass_fail``: a true/false finding (1 → ``pass_score``, 0 → ``fail_score``)."""

    pass_score: float = Field(100.0, ge=0, le=100)
    fail_score: float = Field(0.0, ge=0, le=100)


class MpfParams(_Params):
    """``mpf``: meets / partial / fails (value 1 / 0.5 / 0) → 100 / 50 / 0; ``na`` → N/A."""

    meets: float = Field(100.0, ge=0, le=100)
    partial: float = Field(50.0, ge=0, le=100)
    fails: float = Field(0.0, ge=0, le=100)


class LikertParams(_Params):
    """``likert``: a panel score on ``0..scale_max`` mapped linearly to 0–100."""

    scale_max: float = Field(10.0, gt=0)


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at: float
    score: float = Field(ge=0, le=100)


class ThresholdParams(_Params):
    """``threshold``: bands.  ``lower_is_better``: the first band with ``value ≤ at`` (bands
    taken in ascending ``at``); ``higher_is_better``: the first with ``value ≥ at`` (descending).
    A value in no band scores ``otherwise``."""

    direction: Direction = "lower_is_better"
    bands: list[Band] = Field(min_length=1)
    otherwise: float = Field(0.0, ge=0, le=100)


class LinearParams(_Params):
    """``linear``: 0 at the worst end, 100 at the best end, clipped outside ``[lo, hi]``."""

    lo: float
    hi: float
    direction: Direction = "higher_is_better"

    @model_validator(mode="after")
    def _order(self) -> LinearParams:
        if not self.hi > self.lo:
            raise ValueError(f"'hi' must be greater than 'lo', got lo={self.lo}, hi={self.hi}")
        return self


@dataclass(frozen=True)
class ScoringRule:
    """A registered scoring rule: its parameter model and its pure kernel."""

    name: str
    params: type[_Params]
    kernel: Callable[[np.ndarray, Any], np.ndarray]
    doc: str

    def parse(self, spec: dict[str, Any]) -> _Params:
        """Validate ``spec`` (``{"type": name, ...}``) into the rule's parameter model."""
        return self.params.model_validate(spec)

    def fails(self, scores: np.ndarray, params: Any) -> np.ndarray:
        """The rule's "fails" outcome: the worst score the rule can give."""
        return scores <= _worst_score(self.name, params) + 1e-9


SCORING_RULES: Registry[ScoringRule] = Registry("scoring rule")


def register_rule(name: str, params: type[_Params]) -> Callable:
    """Decorator registering ``kernel(values, params) -> scores`` under ``name`` (a name
    registered twice raises :class:`evalkit.registry.RegistryError`)."""

    def deco(kernel: Callable[[np.ndarray, Any], np.ndarray]) -> Callable:
        SCORING_RULES.register(name, ScoringRule(name, params, kernel, (params.__doc__ or "").strip()))
        return kernel

    return deco


def get_rule(name: str) -> ScoringRule:
    """The scoring rule registered as ``name``; raises :class:`evalkit.registry.RegistryError`
    (accepted names, the closest one) otherwise."""
    return SCORING_RULES.lookup(name, param="rule", func="get_rule")


def _worst_score(name: str, p: Any) -> float:
    if name == "pass_fail":
        return min(p.pass_score, p.fail_score)
    if name == "mpf":
        return min(p.meets, p.partial, p.fails)
    if name == "threshold":
        return min([b.score for b in p.bands] + [p.otherwise])
    return 0.0


@register_rule("pass_fail", PassFailParams)
def _pass_fail(v: np.ndarray, p: PassFailParams) -> np.ndarray:
    return np.where(np.isnan(v), np.nan, np.where(v >= 0.5, p.pass_score, p.fail_score))


@register_rule("mpf", MpfParams)
def _mpf(v: np.ndarray, p: MpfParams) -> np.ndarray:
    out = np.full(v.shape, np.nan)
    out[v >= 0.75] = p.meets
    out[(v >= 0.25) & (v < 0.75)] = p.partial
    out[v < 0.25] = p.fails
    return out


@register_rule("likert", LikertParams)
def _likert(v: np.ndarray, p: LikertParams) -> np.ndarray:
    return np.clip(v / p.scale_max, 0.0, 1.0) * 100.0


@register_rule("threshold", ThresholdParams)
def _threshold(v: np.ndarray, p: ThresholdParams) -> np.ndarray:
    out = np.full(v.shape, p.otherwise, dtype=float)
    done = np.isnan(v)
    lower = p.direction == "lower_is_better"
    for band in sorted(p.bands, key=lambda b: b.at, reverse=not lower):
        hit = ~done & ((v <= band.at) if lower else (v >= band.at))
        out[hit] = band.score
        done |= hit
    out[np.isnan(v)] = np.nan
    return out


@register_rule("linear", LinearParams)
def _linear(v: np.ndarray, p: LinearParams) -> np.ndarray:
    frac = np.clip((v - p.lo) / (p.hi - p.lo), 0.0, 1.0)
    if p.direction == "lower_is_better":
        frac = 1.0 - frac
    return frac * 100.0


# --------------------------------------------------------------------------------------------
# Applicability conditions

ConditionFn = Callable[[pd.DataFrame], np.ndarray]


@dataclass(frozen=True)
class Condition:
    """A registered applicability condition (``codes``: the allowed parameters, if any)."""

    name: str
    fn: Callable[..., np.ndarray]
    codes: tuple[str, ...] = ()
    doc: str = ""


def _bool(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[col].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _has_code(frame: pd.DataFrame, col: str, code: str) -> np.ndarray:
    if col not in frame:
        return np.zeros(len(frame), dtype=bool)
    text = frame[col].astype("str").fillna("")
    return (";" + text + ";").str.contains(f";{code};", regex=False).to_numpy(dtype=bool)


CONDITIONS: Registry[Condition] = Registry("applicability condition")
for _condition in (
    Condition("all", lambda f: np.ones(len(f), dtype=bool), doc="every candidate"),
    Condition("minors_primary", lambda f: _bool(f, "minors_primary"), doc="apps whose main users are minors"),
    Condition("mandated_use", lambda f: _bool(f, "mandated_use"),
              doc="the province intends unified (mandated) use"),
    Condition("charges_fees", lambda f: _bool(f, "charges_fees"), doc="the app charges fees"),
    Condition("has_ads", lambda f: _bool(f, "has_ads"), doc="the app shows ads"),
    Condition("has_games", lambda f: _bool(f, "has_games"), doc="the app has games"),
    Condition("k12", lambda f: np.logical_or.reduce([_has_code(f, "stages", s) for s in schema.K12_STAGES]),
              doc="apps for a K-12 stage (primary, junior, senior)"),
    Condition("feature", lambda f, c: _has_code(f, "features", c), schema.FEATURES,
              "apps with the feature (feature:ugc, feature:training, ...)"),
    Condition("stage", lambda f, c: _has_code(f, "stages", c), schema.STAGES,
              "apps for the stage (stage:primary, ...)"),
    Condition("user", lambda f, c: _has_code(f, "primary_users", c), schema.USERS,
              "apps whose primary users include (user:students, ...)"),
    Condition("category",
              lambda f, c: (f["category"].astype("str") == c).fillna(False).to_numpy(dtype=bool)
              if "category" in f else np.zeros(len(f), dtype=bool),
              schema.CATEGORIES, "apps of the category (category:teaching, ...)"),
):
    CONDITIONS.register(_condition.name, _condition)
del _condition


def parse_condition(text: str) -> tuple[str, ...]:
    """Split ``"a | b"`` into its alternatives and check every name; raises
    :class:`ConditionError` (a ``ValueError``)."""
    alts = tuple(a.strip() for a in str(text).split("|"))
    for alt in alts:
        name, _, code = alt.partition(":")
        if name not in CONDITIONS:
            raise ConditionError(_unknown("applicability condition", alt, _condition_names()))
        cond = CONDITIONS[name]
        if cond.codes and code not in cond.codes:
            raise ConditionError(
                f"condition {name!r} needs one of {', '.join(cond.codes)} after ':', got {alt!r}"
            )
        if not cond.codes and code:
            raise ConditionError(f"condition {name!r} takes no ':' parameter, got {alt!r}")
    return alts


def _condition_names() -> list[str]:
    return [n if not c.codes else f"{n}:<{'|'.join(c.codes)}>" for n, c in CONDITIONS.items()]


def condition_mask(frame: pd.DataFrame, applies: tuple[tuple[str, ...], ...]) -> np.ndarray:
    """Boolean mask: every clause of ``applies`` (AND) has one alternative (OR) true."""
    mask = np.ones(len(frame), dtype=bool)
    for clause in applies:
        any_ = np.zeros(len(frame), dtype=bool)
        for alt in clause:
            name, _, code = alt.partition(":")
            cond = CONDITIONS[name]
            any_ |= cond.fn(frame, code) if cond.codes else cond.fn(frame)
        mask &= any_
    return mask


# --------------------------------------------------------------------------------------------
# Registry checks


@dataclass(frozen=True)
class CheckContext:
    """What a registry check may use beside the candidate frame.

    ``mlps_min_level`` and ``mlps_cutoff`` are per-candidate arrays taken from each candidate's
    province profile; ``mlps_cutoff[i, level]`` is the earliest acceptable evaluation date
    (``datetime64[D]``) for an MLPS level (index 0 unused).
    """

    as_of: np.datetime64
    mlps_min_level: np.ndarray
    mlps_cutoff: np.ndarray


@dataclass(frozen=True)
class RegistryCheck:
    name: str
    fn: Callable[[pd.DataFrame, CheckContext], np.ndarray]
    doc: str


REGISTRY_CHECKS: Registry[RegistryCheck] = Registry("registry check")


def register_check(name: str, doc: str) -> Callable:
    """Decorator registering ``fn(frame, ctx) -> float64 values`` (NaN: no evidence) under
    ``name`` (a name registered twice raises :class:`evalkit.registry.RegistryError`)."""

    def deco(fn: Callable[[pd.DataFrame, CheckContext], np.ndarray]) -> Callable:
        REGISTRY_CHECKS.register(name, RegistryCheck(name, fn, doc))
        return fn

    return deco


def get_check(name: str) -> RegistryCheck:
    """The registry check registered as ``name``; raises :class:`evalkit.registry.RegistryError`
    (accepted names, the closest one) otherwise."""
    return REGISTRY_CHECKS.lookup(name, param="check", func="get_check")


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype="str")
    return frame[col].astype("str").fillna("").str.strip()


def _days(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Dates as ``datetime64[D]`` (NaT kept)."""
    if col not in frame:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    return pd.to_datetime(frame[col]).to_numpy().astype("datetime64[D]")


def _f(mask: np.ndarray) -> np.ndarray:
    return mask.astype(float)


@register_check("icp_valid", "the provider's ICP filing number is well formed (identifiers.ICP_RE)")
def _icp_valid(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    ok = _text(f, "icp_number").str.fullmatch(identifiers.ICP_RE)
    return _f(ok.fillna(False).to_numpy(dtype=bool))


@register_check("telecom_licence_valid", "a well-formed value-added telecom licence is present")
def _telecom(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    ok = _text(f, "telecom_licence").str.fullmatch(identifiers.TELECOM_RE)
    return _f(ok.fillna(False).to_numpy(dtype=bool))


def _levels(f: pd.DataFrame) -> np.ndarray:
    if "mlps_level" not in f:
        return np.zeros(len(f), dtype=np.int64)
    lv = pd.to_numeric(f["mlps_level"], errors="coerce").fillna(0).to_numpy()
    return np.clip(lv.astype(np.int64), 0, 5)


@register_check("mlps_filed", "MLPS level ≥ the profile's minimum and a filing number present")
def _mlps_filed(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    lv = _levels(f)
    return _f((lv >= ctx.mlps_min_level) & (lv > 0) & (_text(f, "mlps_filing_no") != "").to_numpy())


@register_check("mlps_evaluation_current",
                "latest MLPS evaluation no older than mlps.validity_months[level]")
def _mlps_current(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    lv = _levels(f)
    evaluated = _days(f, "mlps_evaluated_on")
    cutoff = ctx.mlps_cutoff[np.arange(len(f)), lv]
    ok = (lv > 0) & ~np.isnat(evaluated) & ~np.isnat(cutoff) & (evaluated >= cutoff)
    return _f(ok)


@register_check("filing_updated", "filing information updated on or after the last release")
def _filing_updated(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    upd, rel = _days(f, "info_updated_on"), _days(f, "last_release_on")
    return _f(~np.isnat(upd) & ~np.isnat(rel) & (upd >= rel))


def _not_flag(col: str) -> Callable[[pd.DataFrame, CheckContext], np.ndarray]:
    def fn(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
        if col not in f:
            return np.zeros(len(f))
        # unknown (NA) counts against the app
        return _f(~f[col].astype("boolean").fillna(True).to_numpy(dtype=bool))

    return fn


register_check("no_fees", "the app charges no fees")(_not_flag("charges_fees"))
register_check("no_ads", "the app shows no commercial ads")(_not_flag("has_ads"))
register_check("no_games", "the app has no games")(_not_flag("has_games"))


@register_check("daily_limit_set", "a daily usage-time limit (daily_limit_min > 0) is set")
def _daily_limit(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    if "daily_limit_min" not in f:
        return np.zeros(len(f))
    v = pd.to_numeric(f["daily_limit_min"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return _f(np.nan_to_num(v, nan=0.0) > 0)


@register_check("age_range_set", "an age range is stated")
def _age_range(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    if "age_min" in f and "age_max" in f:
        ok = f["age_min"].notna() & f["age_max"].notna()
        return _f(ok.to_numpy(dtype=bool))
    return _f((_text(f, "age_range") != "").to_numpy(dtype=bool))


@register_check("days_since_release", "days from last_release_on to as_of (NaN if unknown)")
def _days_since(f: pd.DataFrame, ctx: CheckContext) -> np.ndarray:
    rel = _days(f, "last_release_on")
    out = (ctx.as_of.astype("datetime64[D]") - rel).astype("timedelta64[D]").astype(float)
    out[np.isnat(rel)] = np.nan
    return out
