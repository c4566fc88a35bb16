"""Rubrics and province profiles: safe YAML, ``include:``, validation, typed objects, weights.

A rubric is a folder (``rubrics/v1/``) whose ``rubric.yaml`` includes one file per dimension;
a profile is ``rubrics/profiles/<code>.yaml`` merged over ``rubrics/profiles/national.yaml``.
The file syntax is documented in ``docs/rubric.md``.

Loading is safe and strict:

* files are read with a :class:`yaml.SafeLoader` subclass (no tags that run code), refused when
  larger than 1 MB, nested deeper than 20 levels, or when aliases expand to more than 100,000
  nodes ("billion laughs") or refer to themselves;
* ``{include: other.yaml}`` is replaced by the other file (relative to the including file,
  never outside the rubric folder), with cycle detection;
* the result is validated into pydantic models (``extra="forbid"``) and then checked for
  meaning (duplicate ids, unknown scoring rules, registry checks, conditions, criteria);
* every problem is collected and raised at once as :class:`~evalkit.errors.RubricError`, each
  naming the file, the line and the key path (``rubrics/v1/security.yaml:40:criteria[3].weight:
  must be a number ≥ 0, got -0.2``).
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evalkit.data import identifiers

from evalkit import resources

from evalkit.rubric import rules
from evalkit.errors import Problem, RubricError, suggest, unknown_name

__all__ = [
    "Criterion",
    "Dimension",
    "Profile",
    "Rubric",
    "RuleEntry",
    "Veto",
    "check_dir",
    "coverage",
    "default_criterion_ids",
    "default_rubric_dir",
    "load_profile",
    "load_profiles",
    "load_rubric",
    "load_yaml",
    "section_coverage",
    "ACTIONABLE_SECTIONS",
]

MAX_BYTES = 1_000_000
MAX_DEPTH = 20
MAX_NODES = 100_000
MAX_FILES = 200
#: Sections of the 2019 Opinions the workbench acts on (coverage must reach all of them).
ACTIONABLE_SECTIONS: tuple[int, ...] = (4, 5, 6, 7, 9, 10, 11, 12, 13, 15, 16)
CR_LIMIT = 0.10
#: The coverage claim of every criterion: scored by ``evalkit.evaluate.scoring``, exercised (each
#: criterion of the shipped rubric scored end to end) by this test.
CRITERIA_IMPLEMENTED_IN = "evalkit.evaluate.scoring"
CRITERIA_TESTED_BY = "tests/test_scoring.py::test_perfect_app_scores_100_without_reasons"


def default_rubric_dir() -> Path:
    """The shipped ``rubrics/`` folder (:mod:`evalkit.resources`)."""
    return resources.rubrics_dir()


def _display(path: Path) -> str:
    """A path as shown in problems: relative to the project root when inside it."""
    root = default_rubric_dir().parent
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()


# ============================================================================================
# Safe YAML with limits, line numbers and include


class _YamlLimit(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader that limits nesting and records, for every container, its key lines."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self.lines: dict[int, tuple[Any, int, dict[Any, int]]] = {}
        self.duplicates: list[tuple[int, str]] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        container = self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent)
        if container:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise _YamlLimit(f"YAML nested deeper than {MAX_DEPTH} levels", line)
        try:
            return super().compose_node(parent, index)
        finally:
            if container:
                self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        obj = super().construct_object(node, deep=deep)
        if isinstance(node, yaml.MappingNode) and id(obj) not in self.lines:
            keys: dict[Any, int] = {}
            for k, _ in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                if key in keys:
                    self.duplicates.append((k.start_mark.line + 1, str(key)))
                keys[key] = k.start_mark.line + 1
            self.lines[id(obj)] = (obj, node.start_mark.line + 1, keys)
        elif isinstance(node, yaml.SequenceNode) and id(obj) not in self.lines:
            items = {i: n.start_mark.line + 1 for i, n in enumerate(node.value)}
            self.lines[id(obj)] = (obj, node.start_mark.line + 1, items)
        return obj


def _expanded_size(node: Any, memo: dict[int, int], active: set[int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise _YamlLimit("recursive YAML alias", node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        return 1
    active.add(key)
    if isinstance(node, yaml.SequenceNode):
        n = 1 + sum(_expanded_size(c, memo, active) for c in node.value)
    else:
        n = 1 + sum(
            _expanded_size(k, memo, active) + _expanded_size(v, memo, active) for k, v in node.value
        )
    active.discard(key)
    memo[key] = n
    if n > MAX_NODES:
        raise _YamlLimit(
            f"YAML expands to more than {MAX_NODES} nodes (anchors/aliases explosion)",
            node.start_mark.line + 1,
        )
    return n


@dataclass
class _Origin:
    """Where each container of a loaded tree comes from: file, start line, key lines."""

    containers: dict[int, tuple[Any, str, int, dict[Any, int]]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def _parse_file(path: Path, origin: _Origin, problems: list[Problem]) -> Any:
    shown = _display(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        problems.append(Problem(shown, None, None, f"cannot read file: {exc.strerror or exc}"))
        return None
    if size > MAX_BYTES:
        problems.append(Problem(shown, None, None, f"file is {size} bytes, larger than the {MAX_BYTES} allowed"))
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(shown, None, None, f"cannot read file as UTF-8: {exc}"))
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        data = loader.construct_document(node)
    except _YamlLimit as exc:
        problems.append(Problem(shown, exc.line, None, str(exc)))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(shown, line, None, f"invalid YAML: {msg}"))
        return None
    except RecursionError:
        problems.append(Problem(shown, None, None, "YAML too deeply nested"))
        return None
    finally:
        loader.dispose()
    for line, key in loader.duplicates:
        problems.append(Problem(shown, line, key, f"duplicate key {key!r}"))
    for obj, start, keys in loader.lines.values():
        origin.containers[id(obj)] = (obj, shown, start, keys)
    origin.files.append(path)
    return data


def _resolve_includes(
    data: Any, path: Path, root: Path, stack: tuple[Path, ...], origin: _Origin,
    problems: list[Problem], keypath: str,
) -> Any:
    """Replace every ``{include: file}`` mapping in ``data`` by the file's content."""
    if isinstance(data, dict):
        if set(data) == {"include"}:
            target = data["include"]
            shown = _display(path)
            line = origin.containers.get(id(data), (None, None, None, {}))[3].get("include")
            if not isinstance(target, str) or not target.strip():
                problems.append(Problem(shown, line, _join(keypath, "include"),
                                        f"must be a relative file name, got {target!r}"))
                return None
            inc = (path.parent / target).resolve()
            if Path(target).is_absolute() or not inc.is_relative_to(root):
                problems.append(Problem(shown, line, _join(keypath, "include"),
                                        f"include {target!r} leaves the rubric folder {_display(root)}"))
                return None
            if inc in stack:
                chain = " → ".join(_display(p) for p in (*stack[stack.index(inc):], inc))
                problems.append(Problem(shown, line, _join(keypath, "include"), f"include cycle: {chain}"))
                return None
            if len(origin.files) >= MAX_FILES:
                problems.append(Problem(shown, line, _join(keypath, "include"),
                                        f"more than {MAX_FILES} included files"))
                return None
            if not inc.is_file():
                problems.append(Problem(shown, line, _join(keypath, "include"),
                                        f"included file {target!r} not found"))
                return None
            sub = _parse_file(inc, origin, problems)
            return _resolve_includes(sub, inc, root, (*stack, inc), origin, problems, "")
        for k in list(data):
            data[k] = _resolve_includes(data[k], path, root, stack, origin, problems, _join(keypath, str(k)))
        return data
    if isinstance(data, list):
        for i in range(len(data)):
            data[i] = _resolve_includes(data[i], path, root, stack, origin, problems, f"{keypath}[{i}]")
        return data
    return data


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


def load_yaml(path: str | Path, *, root: str | Path | None = None) -> tuple[Any, _Locator, list[Problem]]:
    """Load one YAML file safely, resolving ``include:`` (relative, inside ``root``).

    Returns the data, a locator mapping key paths back to files and lines, and the problems
    found (the caller raises them together with its own).
    """
    p = Path(path).resolve()
    root_p = Path(root).resolve() if root is not None else p.parent
    origin = _Origin()
    problems: list[Problem] = []
    data = _parse_file(p, origin, problems)
    if data is not None:
        data = _resolve_includes(data, p, root_p, (p,), origin, problems, "")
    return data, _Locator(data, _display(p), origin), problems


class _Locator:
    """Turn a location in the merged tree (keys and indices) into (file, line, key path)."""

    def __init__(self, data: Any, file: str, origin: _Origin):
        self.data, self.file, self.origin = data, file, origin

    def locate(self, loc: Iterable[Any]) -> tuple[str, int | None, str]:
        node, file, rel = self.data, self.file, ""
        line: int | None = None
        info = self.origin.containers.get(id(node))
        if info:
            file, line = info[1], info[2]
        for key in loc:
            if key == "[key]":
                continue
            info = self.origin.containers.get(id(node))
            if isinstance(node, dict) and key in node:
                line = info[3].get(key, line) if info else line
                rel = _join(rel, str(key))
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                line = info[3].get(key, line) if info else line
                rel = f"{rel}[{key}]"
                node = node[key]
            else:
                rel = f"{rel}[{key}]" if isinstance(key, int) else _join(rel, str(key))
                node = None
                continue
            child = self.origin.containers.get(id(node))
            if child and child[1] != file:  # entered an included file
                file, rel, line = child[1], "", child[2]
        return file, line, rel

    def problem(self, loc: Iterable[Any], message: str, severity: str = "error", code: str = "invalid") -> Problem:
        file, line, rel = self.locate(loc)
        return Problem(file, line, rel or None, message, severity, code)  # type: ignore[arg-type]


# ============================================================================================
# File models (pydantic, extra="forbid")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    """Bilingual name: both ``zh`` and ``en`` are required and non-empty."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


Weight = float


def _listify(v: Any) -> Any:
    return [v] if isinstance(v, (str, int)) and not isinstance(v, bool) else v


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
        return _check_codes(v, rules.schema.CATEGORIES, "category", ge=0)

    @field_validator("max_per_stage")
    @classmethod
    def _stages(cls, v: dict[str, int]) -> dict[str, int]:
        return _check_codes(v, rules.schema.STAGES, "stage", ge=0)

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


class RankingSpec(_Strict):
    method: Literal["weighted_sum", "topsis"]
    concentration: float = Field(gt=0)
    draws: int = Field(ge=1)
    #: Robustness also resamples each app's panel raters (bootstrap) in every draw.
    bootstrap_raters: bool = True


class PanelSpec(_Strict):
    reducer: Literal["mean", "median", "trimmed_mean"]
    min_raters: int = Field(ge=1)


class ProfileWeightsSpec(_Strict):
    #: ``ahp``: AHP judgments (the province's experts, national fallback); ``entropy``: Shannon
    #: entropy weights of the province's criterion scores inside each dimension; ``combined``:
    #: both, multiplied and renormalised (docs/rubric.md "Weights").
    method: Literal["ahp", "entropy", "combined"] = "ahp"


class ProfileWaiversSpec(_Strict):
    #: Whether a waiver without ``province_code`` (a national waiver) applies in this province.
    national_apply: bool = False


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
    sources: tuple[str, ...] = ()
    notes: Names | None = None

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
                 ProfileWaiversSpec, Profile)
     for f in m.model_fields}
)


_unknown = unknown_name


def _message(err: Mapping[str, Any]) -> str:
    loc, typ = err["loc"], err["type"]
    last = loc[-1] if loc else None
    got = err.get("input")
    if typ == "extra_forbidden":
        return f"unknown key {last!r}.{suggest(last, _ALL_FIELDS)}"
    if last in ("zh", "en") and typ in ("missing", "string_too_short", "string_type"):
        return f"missing translation: a non-empty {last!r} name is required"
    if typ == "missing":
        return "required key is missing"
    if last == "weight":
        return f"must be a number ≥ 0, got {got!r}"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    msg = msg[:1].lower() + msg[1:]
    return f"{msg}, got {got!r}" if not isinstance(got, (dict, list)) else msg


def _validate(model: type[BaseModel], data: Any, loc: _Locator, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(loc.problem(err["loc"], _message(err)))
        return None


# ============================================================================================
# Typed rubric objects


@dataclass(frozen=True)
class Veto:
    """A veto condition: ``fails`` (the rule's worst outcome) or ``below`` a floor (0–100)."""

    when: Literal["fails", "below"] = "fails"
    score: float | None = None
    origin: str = "rubric"  # "rubric" or "profile:<code>"

    def triggered(self, scores: np.ndarray, rule: rules.ScoringRule, params: Any) -> np.ndarray:
        """Mask of scores (NaN = not scored, never triggering) that meet the veto condition."""
        with np.errstate(invalid="ignore"):
            if self.when == "below":
                return scores < float(self.score)  # type: ignore[arg-type]
            return rule.fails(scores, params) & ~np.isnan(scores)

    def describe(self) -> str:
        return "fails" if self.when == "fails" else f"score below {self.score:g}"


@dataclass(frozen=True)
class Criterion:
    """One rubric criterion (weights: ``weight`` within its dimension, normalised)."""

    id: str
    dimension: str
    name_zh: str
    name_en: str
    sections: tuple[int, ...]
    standards: tuple[str, ...]
    source: Literal["registry", "assessment", "panel"]
    check: str | None
    value: str
    unit: str | None
    rule: str
    params: Any
    stated_weight: float
    weight: float
    global_weight: float
    applies: tuple[tuple[str, ...], ...]
    veto: Veto | None
    #: As stated in the rubric (``None``: unset); see :meth:`waivable_where`.
    waivable: bool | None = None

    def waivable_where(self, veto_here: bool) -> bool:
        """Whether a waiver may set this criterion aside where it is (``veto_here``) a veto item.

        The rubric's ``waivable`` when stated; otherwise a veto item is not waivable and any
        other criterion is.
        """
        return (not veto_here) if self.waivable is None else bool(self.waivable)

    @property
    def scoring_rule(self) -> rules.ScoringRule:
        return rules.get_rule(self.rule)

    def score(self, values: np.ndarray) -> np.ndarray:
        """Apply the scoring rule to evidence values (NaN stays NaN)."""
        return self.scoring_rule.kernel(np.asarray(values, dtype=float), self.params)


@dataclass(frozen=True)
class Dimension:
    id: str
    name_zh: str
    name_en: str
    stated_weight: float
    weight: float
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class RuleEntry:
    """A list, credit or monitoring rule declared for coverage (implemented elsewhere)."""

    id: str
    kind: str
    name_zh: str
    name_en: str
    sections: tuple[int, ...]
    implemented_in: str
    tested_by: str = ""  # the test exercising it: ``tests/test_x.py::test_y``


@dataclass(frozen=True)
class AhpLevel:
    """AHP result for one level (``dimensions`` or a dimension id)."""

    level: str
    elements: tuple[str, ...]
    weights: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float
    n_experts: int
    #: Each combined expert's own CR (None: the expert left a pair out), in expert order.
    expert_crs: tuple[tuple[str, float | None], ...] = ()

    @property
    def consistent(self) -> bool:
        return bool(self.cr < CR_LIMIT)


@dataclass(frozen=True)
class Rubric:
    """A validated rubric (see :func:`load_rubric`)."""

    version: str
    name_zh: str
    name_en: str
    dimensions: tuple[Dimension, ...]
    rules: tuple[RuleEntry, ...]
    path: Path | None = None
    files: tuple[Path, ...] = ()
    weights_source: Mapping[str, str] = field(default_factory=dict)
    ahp: Mapping[str, AhpLevel] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for d in self.dimensions for c in d.criteria)

    @property
    def criterion_ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.criteria)

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    def criterion(self, cid: str) -> Criterion:
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(_unknown("criterion", cid, self.criterion_ids))

    def dimension(self, did: str) -> Dimension:
        for d in self.dimensions:
            if d.id == did:
                return d
        raise KeyError(_unknown("dimension", did, self.dimension_ids))

    def weights_table(self) -> pd.DataFrame:
        """One row per criterion: dimension, dimension weight, weight within, global weight."""
        rows = [
            (c.id, d.id, d.weight, c.weight, c.global_weight, self.weights_source.get(d.id, "stated"))
            for d in self.dimensions for c in d.criteria
        ]
        return pd.DataFrame(rows, columns=["criterion_id", "dimension", "dimension_weight",
                                           "weight_within", "global_weight", "source"])

    def with_ahp(self, judgments: pd.DataFrame, *, strict: bool = False, file: str = "ahp_judgments") -> Rubric:
        """A copy whose weights come from AHP judgments (long rows: expert_id, level, a, b, value).

        Levels present in ``judgments`` replace the stated weights (``dimensions``: the
        dimension weights; a dimension id: the criterion weights inside it); experts are
        combined by geometric mean.  CR ≥ 0.10 is a warning, or a :class:`RubricError` when
        ``strict``.
        """
        problems: list[Problem] = []
        levels = _ahp_levels(self, judgments, file, problems)
        errors = [p for p in problems if p.severity == "error"]
        if strict:
            errors += [replace(p, severity="error") for p in problems if p.code == "ahp_inconsistent"]
        if errors:
            raise RubricError(problems if not strict else errors)
        return _apply_ahp(self, levels, tuple(p for p in problems if p.severity == "warning"))

    def with_ahp_levels(self, levels: Mapping[str, AhpLevel]) -> Rubric:
        """A copy whose weights at the given levels come from already computed AHP results
        (e.g. one province's screened judgments, :mod:`evalkit.evaluate.weighting`); see :meth:`with_ahp`."""
        return _apply_ahp(self, levels, ())

    def with_within_weights(self, within: Mapping[str, float], source: str) -> Rubric:
        """A copy whose criterion weights inside each dimension are ``within`` (renormalised per
        dimension; criteria not named keep theirs); the dimensions touched get ``source`` in
        :attr:`weights_source` (e.g. ``entropy``)."""
        src = dict(self.weights_source)
        dims = []
        for d in self.dimensions:
            if not any(c.id in within for c in d.criteria):
                dims.append(d)
                continue
            raw = {c.id: float(within.get(c.id, c.weight)) for c in d.criteria}
            total = sum(raw.values()) or 1.0
            crits = tuple(replace(c, weight=raw[c.id] / total, global_weight=d.weight * raw[c.id] / total)
                          for c in d.criteria)
            dims.append(replace(d, criteria=crits))
            src[d.id] = source
        return replace(self, dimensions=tuple(dims), weights_source=src)

    def coverage(self, profiles: Mapping[str, Profile] | None = None) -> pd.DataFrame:
        """Coverage table; see :func:`coverage`."""
        return coverage(self, profiles)

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        return self.weights_table().to_html(index=False)


# ============================================================================================
# Building a rubric


def _build(spec: RubricSpec, loc: _Locator, problems: list[Problem]) -> Rubric:
    seen: dict[str, tuple[int, int]] = {}
    dims_seen: set[str] = set()
    dims: list[Dimension] = []
    dim_total = sum(d.weight for d in spec.dimensions)
    if dim_total <= 0:
        problems.append(loc.problem(("dimensions",), "dimension weights must not all be 0"))
    for di, d in enumerate(spec.dimensions):
        if d.id in dims_seen:
            problems.append(loc.problem(("dimensions", di, "id"), f"duplicate dimension id {d.id!r}"))
        dims_seen.add(d.id)
        within_total = sum(c.weight for c in d.criteria)
        if within_total <= 0:
            problems.append(loc.problem(("dimensions", di, "criteria"), "criterion weights must not all be 0"))
        crits: list[Criterion] = []
        for ci, c in enumerate(d.criteria):
            at = ("dimensions", di, "criteria", ci)
            if c.id in seen:
                f0, l0, p0 = loc.locate(("dimensions", *seen[c.id][:1], "criteria", seen[c.id][1], "id"))
                problems.append(loc.problem((*at, "id"), f"duplicate criterion id {c.id!r} (first at {f0}:{l0}:{p0})"))
            seen.setdefault(c.id, (di, ci))
            params = _rule_params(c, at, loc, problems)
            if c.source == "registry":
                if c.check is None:
                    problems.append(loc.problem((*at, "check"), "a registry criterion needs 'check' (a registry check name)"))
                elif c.check not in rules.REGISTRY_CHECKS:
                    problems.append(loc.problem((*at, "check"), _unknown("registry check", c.check, rules.REGISTRY_CHECKS)))
            elif c.check is not None:
                problems.append(loc.problem((*at, "check"), f"'check' is only for registry criteria, not {c.source!r}"))
            if c.source == "panel" and c.rule.type != "likert":
                problems.append(loc.problem((*at, "rule"), f"panel criteria use the 'likert' rule, got {c.rule.type!r}"))
            applies: list[tuple[str, ...]] = []
            for ai, a in enumerate(c.applies):
                try:
                    applies.append(rules.parse_condition(a))
                except ValueError as exc:
                    problems.append(loc.problem((*at, "applies", ai), str(exc)))
            bad_sections = [s for s in c.sections if not 1 <= s <= 20]
            if bad_sections:
                problems.append(loc.problem((*at, "sections"), f"policy sections are 1–20, got {bad_sections}"))
            w = c.weight / within_total if within_total > 0 else 0.0
            dw = d.weight / dim_total if dim_total > 0 else 0.0
            crits.append(Criterion(
                id=c.id, dimension=d.id, name_zh=c.name.zh, name_en=c.name.en,
                sections=tuple(sorted(set(c.sections))), standards=tuple(c.standard),
                source=c.source, check=c.check, value=c.value, unit=c.unit, rule=c.rule.type,
                params=params, stated_weight=c.weight, weight=w, global_weight=dw * w,
                applies=tuple(applies) if applies else (("all",),),
                veto=Veto(c.veto.when, c.veto.score) if c.veto else None, waivable=c.waivable,
            ))
        dims.append(Dimension(d.id, d.name.zh, d.name.en, d.weight,
                              d.weight / dim_total if dim_total > 0 else 0.0, tuple(crits)))
    rule_ids: set[str] = set()
    entries: list[RuleEntry] = []
    for ri, r in enumerate(spec.rules):
        if r.id in rule_ids or r.id in seen:
            problems.append(loc.problem(("rules", ri, "id"), f"duplicate rule id {r.id!r}"))
        rule_ids.add(r.id)
        entries.append(RuleEntry(r.id, r.kind, r.name.zh, r.name.en, tuple(sorted(set(r.sections))), r.implemented_in,
                                 r.tested_by))
    return Rubric(spec.version, spec.name.zh, spec.name.en, tuple(dims), tuple(entries),
                  weights_source={d.id: "stated" for d in dims} | {"dimensions": "stated"})


def _rule_params(c: CriterionSpec, at: tuple, loc: _Locator, problems: list[Problem]) -> Any:
    try:
        rule = rules.get_rule(c.rule.type)
    except rules.RegistryError as exc:
        problems.append(loc.problem((*at, "rule", "type"), str(exc)))
        return None
    try:
        return rule.parse(c.rule.model_dump())
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(loc.problem((*at, "rule", *err["loc"]), _message(err)))
        return None


# ---- AHP


def _ahp_levels(rubric: Rubric, judgments: pd.DataFrame, file: str, problems: list[Problem]) -> dict[str, AhpLevel]:
    """AHP per level present in ``judgments`` (via :mod:`evalkit.mcda.judgments`; never re-implemented)."""
    from evalkit.mcda import judgments as _judgments  # built by another module; imported lazily

    need = ["expert_id", "level", "a", "b", "value"]
    missing = [c for c in need if c not in judgments.columns]
    if missing:
        problems.append(Problem(file, None, None, f"AHP judgments lack columns {missing}"))
        return {}
    levels = {"dimensions": rubric.dimension_ids} | {d.id: tuple(c.id for c in d.criteria) for d in rubric.dimensions}
    present = judgments["level"].astype("str")
    for i in np.flatnonzero(~present.isin(levels).to_numpy()):
        problems.append(Problem(file, int(i) + 1, "level", _unknown("AHP level", str(present.iloc[i]), levels)))
    used = sorted(set(present[present.isin(levels)]))
    # a level may judge a subset of its elements (e.g. only the weighted, non-gate criteria):
    # AHP then shares out the subset's stated weight among its elements (see _apply_ahp)
    seen: dict[str, set[str]] = {}
    for lv in used:
        rows = judgments[(present == lv).to_numpy()]
        seen[lv] = set(rows["a"].astype("str")) | set(rows["b"].astype("str"))
    items = {lv: tuple(e for e in levels[lv] if e in seen[lv]) for lv in used}
    jm = _judgments.judgment_matrices(judgments[present.isin(levels).to_numpy()].reset_index(drop=True),
                                      items=items, rtol=1e-2, file=file)
    # judgment_matrices numbers rows within the filtered frame: map back to file rows
    kept_rows = np.flatnonzero(present.isin(levels).to_numpy()) + 1
    for p in jm.problems:
        row = int(kept_rows[p.row - 1]) if p.row is not None else None
        problems.append(replace(p, row=row))
    if any(p.severity == "error" for p in jm.problems):
        return {}
    out: dict[str, AhpLevel] = {}
    for lv in used:  # a handful of levels
        if len(items[lv]) < 2:
            problems.append(Problem(file, None, "level", f"AHP level {lv!r}: fewer than two known elements judged"))
            continue
        if not jm.complete(lv):
            problems.append(Problem(file, None, "level", f"AHP level {lv!r}: no expert judged the pairs {jm.missing_pairs(lv)}"))
            continue
        res = jm.ahp(lv, rtol=1e-2)
        crs = _judgments.individual_cr(jm.individual[lv], rtol=1e-2)
        level = AhpLevel(lv, tuple(jm.items[lv]), tuple(float(x) for x in res.weights), float(res.lambda_max),
                         float(res.ci), float(res.cr), len(jm.experts[lv]),
                         tuple((e, None if np.isnan(c) else float(c)) for e, c in zip(jm.experts[lv], crs)))
        out[lv] = level
        if not level.consistent:
            problems.append(Problem(
                file, None, "level",
                f"AHP level {lv!r}: consistency ratio CR = {level.cr:.3f} ≥ {CR_LIMIT} "
                f"({level.n_experts} experts combined by geometric mean)", "warning", "ahp_inconsistent"))
    return out


def _apply_ahp(rubric: Rubric, levels: Mapping[str, AhpLevel], warnings: tuple[Problem, ...]) -> Rubric:
    src = dict(rubric.weights_source)

    def share(current: dict[str, float], level: AhpLevel) -> dict[str, float]:
        # the judged subset keeps its current total share, divided by the AHP weights
        total = sum(current.values())
        part = sum(current[e] for e in level.elements)
        if part <= 0:  # judged elements had no stated weight: give them an equal share
            part = total * len(level.elements) / len(current)
        out = {k: (v if k not in level.elements else 0.0) for k, v in current.items()}
        for e, w in zip(level.elements, level.weights):
            out[e] = part * w
        norm = sum(out.values())
        return {k: v / norm for k, v in out.items()}

    dim_w = {d.id: d.weight for d in rubric.dimensions}
    if "dimensions" in levels:
        dim_w = share(dim_w, levels["dimensions"])
        full = len(levels["dimensions"].elements) == len(dim_w)
        src["dimensions"] = "ahp" if full else "ahp+stated"
    dims = []
    for d in rubric.dimensions:
        within = {c.id: c.weight for c in d.criteria}
        if d.id in levels:
            within = share(within, levels[d.id])
            src[d.id] = "ahp" if len(levels[d.id].elements) == len(within) else "ahp+stated"
        crits = tuple(replace(c, weight=within[c.id], global_weight=dim_w[d.id] * within[c.id]) for c in d.criteria)
        dims.append(replace(d, weight=dim_w[d.id], criteria=crits))
    return replace(rubric, dimensions=tuple(dims), weights_source=src,
                   ahp={**rubric.ahp, **levels}, warnings=rubric.warnings + warnings)


def _read_judgments(path: Path, problems: list[Problem], shown: str) -> pd.DataFrame | None:
    if not path.is_file():
        problems.append(Problem(shown, None, "weights.ahp", f"AHP judgments file {path.name!r} not found"))
        return None
    if path.stat().st_size > MAX_BYTES:
        problems.append(Problem(_display(path), None, None, f"file larger than {MAX_BYTES} bytes"))
        return None
    try:
        if path.suffix in (".yaml", ".yml"):
            data, _, probs = load_yaml(path)
            problems.extend(probs)
            rows = data.get("judgments") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                problems.append(Problem(_display(path), None, "judgments", "must be a list of {expert_id, level, a, b, value}"))
                return None
            return pd.DataFrame(rows)
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", comment="#")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        problems.append(Problem(_display(path), None, None, f"cannot read AHP judgments: {exc}"))
        return None


# ============================================================================================
# Public loaders


def _rubric_file(path: str | Path | None) -> Path:
    p = Path(path) if path is not None else default_rubric_dir()
    if p.is_file():
        return p
    if (p / "rubric.yaml").is_file():
        return p / "rubric.yaml"
    if p.is_dir():
        version = _national_version(p)
        cand = p / f"v{version}" / "rubric.yaml" if version else None
        if cand is not None and cand.is_file():
            return cand
        versions = sorted((q for q in p.glob("v*/rubric.yaml")), key=lambda q: _vkey(q.parent.name))
        if versions:
            return versions[-1]
    raise RubricError([Problem(_display(p), None, None, "no rubric.yaml found (give a rubric file, a version folder or the rubrics folder)")])


def _vkey(name: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in name[1:].split("."))


def _national_version(root: Path) -> str | None:
    nat = root / "profiles" / "national.yaml"
    if not nat.is_file():
        return None
    try:
        data = yaml.safe_load(nat.read_text(encoding="utf-8-sig")) if nat.stat().st_size <= MAX_BYTES else None
    except yaml.YAMLError:
        return None
    v = data.get("rubric_version") if isinstance(data, dict) else None
    return str(v) if v is not None else None


def load_rubric(path: str | Path | None = None, *, strict: bool = False) -> Rubric:
    """Load and validate a rubric.

    Parameters
    ----------
    path : str or Path, optional
        A ``rubric.yaml`` file, a version folder (``rubrics/v1``) or the ``rubrics/`` folder
        (then the national profile's ``rubric_version``, else the newest version, is used).
        Default: the rubrics shipped with evalkit.
    strict : bool
        Turn AHP consistency warnings (CR ≥ 0.10) into errors.

    Returns
    -------
    Rubric

    Raises
    ------
    RubricError
        With every problem found, each naming the file, line and key path.
    """
    file = _rubric_file(path)
    data, loc, problems = load_yaml(file, root=file.parent)
    if problems:  # unreadable files, includes or YAML limits: validating the rest only adds noise
        raise RubricError(problems)
    spec = _validate(RubricSpec, data, loc, problems) if data is not None else None
    if data is None and not problems:
        problems.append(Problem(_display(file), None, None, "the rubric file is empty"))
    rubric = _build(spec, loc, problems) if spec is not None else None
    warnings: list[Problem] = []
    if rubric is not None and spec is not None and spec.weights is not None:
        jpath = (file.parent / spec.weights.ahp).resolve()
        shown = _display(file)
        if not jpath.is_relative_to(file.parent.resolve()):
            problems.append(loc.problem(("weights", "ahp"), "the AHP file must lie inside the rubric folder"))
        else:
            table = _read_judgments(jpath, problems, shown)
            if table is not None:
                level_probs: list[Problem] = []
                levels = _ahp_levels(rubric, table, _display(jpath), level_probs)
                for p in level_probs:
                    if p.severity == "warning" and strict:
                        problems.append(replace(p, severity="error"))
                    elif p.severity == "warning":
                        warnings.append(p)
                    else:
                        problems.append(p)
                rubric = _apply_ahp(rubric, levels, ())
    if [p for p in problems if p.severity == "error"]:
        raise RubricError(problems)
    if rubric is None:  # pragma: no cover - no errors means a rubric was built
        raise RubricError(problems or [Problem(_display(file), None, None, "no rubric could be built")])
    files = tuple(loc.origin.files)
    return replace(rubric, path=file.parent, files=files, warnings=tuple(warnings) + tuple(problems))


@functools.lru_cache(maxsize=8)
def _cached_rubric(path: str) -> Rubric:
    return load_rubric(path)


def default_criterion_ids() -> frozenset[str]:
    """The criterion ids of the default (shipped) rubric."""
    return _cached_rubric(str(_rubric_file(None))).criterion_ids


def _merge(base: Any, over: Any) -> Any:
    """Deep merge: mappings merge key by key, anything else in ``over`` replaces ``base``."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return over


class _MergedLocator:
    """Locate keys in the overlay file when present there, else in the national file."""

    def __init__(self, over: _Locator | None, base: _Locator):
        self.over, self.base = over, base

    def _has(self, data: Any, loc: Iterable[Any]) -> bool:
        node = data
        for k in loc:
            if isinstance(node, dict) and k in node or isinstance(node, list) and isinstance(k, int) and 0 <= k < len(node):
                node = node[k]
            else:
                return False
        return True

    def problem(self, loc: Iterable[Any], message: str, severity: str = "error", code: str = "invalid") -> Problem:
        loc = tuple(k for k in loc if k != "[key]")
        if self.over is not None and (self._has(self.over.data, loc) or not self._has(self.base.data, loc)):
            return self.over.problem(loc, message, severity, code)
        return self.base.problem(loc, message, severity, code)


def _rubrics_root(rubric_dir: str | Path | None) -> Path:
    root = Path(rubric_dir) if rubric_dir is not None else default_rubric_dir()
    if root.is_file():
        root = root.parent
    if (root / "rubric.yaml").is_file() and not (root / "profiles").is_dir():
        root = root.parent  # a version folder: profiles live beside it
    return root


def load_profile(code: str, rubric_dir: str | Path | None = None, *, rubric: Rubric | None = None) -> Profile:
    """Load the profile of province ``code`` merged over ``profiles/national.yaml``.

    Parameters
    ----------
    code : str
        ``"national"`` or a provincial code of :data:`evalkit.data.identifiers.PROVINCE_CODES`
        (a province without its own file gets the national profile with ``code`` set).
    rubric_dir : str or Path, optional
        The rubrics folder (holding ``profiles/`` and ``v<version>/``); default: shipped.
    rubric : Rubric, optional
        The rubric whose criteria ``extra_vetoes`` must name; default: the profile's
        ``rubric_version`` in ``rubric_dir``.

    Raises
    ------
    RubricError
        Unknown province code, or any problem of the profile files.
    """
    code = str(code)
    root = _rubrics_root(rubric_dir)
    pdir = root / "profiles"
    if code != "national" and code not in identifiers.PROVINCE_CODES:
        hint = suggest(code, identifiers.PROVINCE_CODES)
        raise RubricError([Problem(_display(pdir), None, "code",
                                   f"The 'code' parameter of load_profile must be 'national' or a province code "
                                   f"(11 … 66); got {code!r} instead.{hint}")])
    nat_data, nat_loc, problems = load_yaml(pdir / "national.yaml", root=pdir)
    over_data, over_loc = None, None
    own = pdir / f"{code}.yaml"
    if code != "national" and own.is_file():
        over_data, over_loc, probs = load_yaml(own, root=pdir)
        problems += probs
        if over_data is not None and not isinstance(over_data, dict):
            problems.append(Problem(_display(own), None, None, "a profile must be a mapping"))
            over_data = None
    if nat_data is not None and not isinstance(nat_data, dict):
        problems.append(Problem(_display(pdir / "national.yaml"), None, None, "a profile must be a mapping"))
        nat_data = None
    if problems:
        raise RubricError(problems)
    merged = _merge(copy.deepcopy(nat_data) or {}, over_data or {})
    if over_data is None or "code" not in over_data:
        merged["code"] = code
    if over_data is not None and str(over_data.get("code", code)) != code:
        problems.append(over_loc.problem(("code",), f"code {over_data.get('code')!r} does not match the file name {own.name!r}"))
    mloc = _MergedLocator(over_loc, nat_loc)
    prof = _validate(Profile, merged, mloc, problems)  # type: ignore[arg-type]
    if prof is not None:
        if rubric is None:
            vdir = root / f"v{prof.rubric_version}"
            if not (vdir / "rubric.yaml").is_file():
                problems.append(mloc.problem(("rubric_version",), f"no rubric version {prof.rubric_version!r} (expected {_display(vdir)}/rubric.yaml)"))
            else:
                rubric = _cached_rubric(str(vdir / "rubric.yaml"))
        if rubric is not None:
            if rubric.version != prof.rubric_version:
                problems.append(mloc.problem(("rubric_version",), f"profile wants rubric version {prof.rubric_version!r}, the rubric is {rubric.version!r}"))
            for i, cid in enumerate(prof.extra_vetoes):
                if cid not in rubric.criterion_ids:
                    problems.append(mloc.problem(("extra_vetoes", i), _unknown("criterion", cid, rubric.criterion_ids)))
            for k in prof.list.min_dimension_score:
                if k not in rubric.dimension_ids:
                    problems.append(mloc.problem(("list", "min_dimension_score", k), _unknown("dimension", k, rubric.dimension_ids)))
        missing_levels = [lv for lv in range(prof.mlps.min_level, 6) if lv not in prof.mlps.validity_months]
        if missing_levels:
            problems.append(mloc.problem(("mlps", "validity_months"), f"validity months missing for MLPS levels {missing_levels}"))
    if problems:
        raise RubricError(problems)
    if prof is None:  # pragma: no cover - no problems means a profile was built
        raise RubricError([Problem(_display(pdir), None, None, "no profile could be built")])
    return prof


def load_profiles(codes: Iterable[str] | None = None, rubric_dir: str | Path | None = None,
                  *, rubric: Rubric | None = None) -> dict[str, Profile]:
    """Profiles for ``codes`` (default: all 32 provincial units), keyed by code."""
    codes = identifiers.PROVINCE_CODES if codes is None else tuple(codes)
    return {c: load_profile(c, rubric_dir, rubric=rubric) for c in codes}


# ============================================================================================
# Coverage and checking a folder


def coverage(rubric: Rubric, profiles: Mapping[str, Profile] | None = None) -> pd.DataFrame:
    """Every criterion and declared rule with the policy sections it implements.

    Columns: ``id, kind`` (``criterion``/``rule``), ``dimension, veto`` (bool: a veto in the
    rubric itself), ``veto_condition, veto_profiles`` (provinces adding it as an extra veto),
    ``waivable`` (bool: a waiver may set it aside where the rubric makes it a veto or not),
    ``sections`` (tuple of int), ``name_zh, name_en, source, standard, weight``, and the claim:
    ``implemented_in`` (the module) and ``tested_by`` (the test exercising it, ``""`` when a
    rule does not declare one).
    """
    extra: dict[str, list[str]] = {}
    for code, p in (profiles or {}).items():
        for cid in p.extra_vetoes:
            extra.setdefault(cid, []).append(code)
    rows = []
    for c in rubric.criteria:
        rows.append(dict(
            id=c.id, kind="criterion", dimension=c.dimension, veto=c.veto is not None,
            veto_condition=c.veto.describe() if c.veto else "", veto_profiles=tuple(sorted(extra.get(c.id, []))),
            waivable=c.waivable_where(c.veto is not None),
            sections=c.sections, name_zh=c.name_zh, name_en=c.name_en, source=c.source,
            standard="; ".join(c.standards), weight=c.global_weight, implemented_in=CRITERIA_IMPLEMENTED_IN,
            tested_by=CRITERIA_TESTED_BY,
        ))
    for r in rubric.rules:
        rows.append(dict(
            id=r.id, kind="rule", dimension="", veto=False, veto_condition="", veto_profiles=(), waivable=False,
            sections=r.sections, name_zh=r.name_zh, name_en=r.name_en, source=r.kind, standard="",
            weight=math.nan, implemented_in=r.implemented_in, tested_by=r.tested_by,
        ))
    return pd.DataFrame(rows)


def section_coverage(rubric: Rubric, sections: Iterable[int] = ACTIONABLE_SECTIONS) -> pd.DataFrame:
    """Per policy section: the criteria and rules implementing it (empty when uncovered)."""
    cov = coverage(rubric)
    rows = []
    for s in sections:
        hit = cov[cov["sections"].map(lambda t, s=s: s in t)]
        rows.append(dict(section=s, criteria=tuple(hit.loc[hit["kind"] == "criterion", "id"]),
                         rules=tuple(hit.loc[hit["kind"] == "rule", "id"]), covered=len(hit) > 0))
    return pd.DataFrame(rows)


def check_dir(rubric_dir: str | Path | None = None, *, strict: bool = False) -> tuple[Rubric, dict[str, Profile], list[Problem]]:
    """Validate a rubrics folder: every rubric version and every profile in ``profiles/``.

    Returns the default rubric, the profiles found, and the warnings; raises
    :class:`RubricError` with every error of every file.
    """
    root = _rubrics_root(rubric_dir)
    problems: list[Problem] = []
    rubrics: dict[str, Rubric] = {}
    files = sorted(root.glob("v*/rubric.yaml")) if not (root / "rubric.yaml").is_file() else [root / "rubric.yaml"]
    if not files:
        problems.append(Problem(_display(root), None, None, "no rubric version folder (v*/rubric.yaml)"))
    for f in files:
        try:
            r = load_rubric(f, strict=strict)
            rubrics[r.version] = r
            problems += list(r.warnings)
        except RubricError as exc:
            problems += exc.problems
    profiles: dict[str, Profile] = {}
    pdir = root / "profiles"
    if pdir.is_dir():
        for f in sorted(pdir.glob("*.yaml")):
            code = f.stem
            if code != "national" and code not in identifiers.PROVINCE_CODES:
                problems.append(Problem(_display(f), None, None, _unknown("province code (file name)", code, identifiers.PROVINCE_CODES)))
                continue
            try:
                profiles[code] = load_profile(code, root)
            except RubricError as exc:
                problems += exc.problems
    else:
        problems.append(Problem(_display(pdir), None, None, "no profiles folder"))
    uniq = list(dict.fromkeys(problems))
    if any(p.severity == "error" for p in uniq):
        raise RubricError(uniq)
    default = rubrics.get(_national_version(root) or "") or (list(rubrics.values())[-1])
    return default, profiles, uniq
