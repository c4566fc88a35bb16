"""The typed rubric: :class:`Rubric`, :class:`Dimension`, :class:`Criterion`, :class:`Veto`,
built from the checked file models and loaded by :func:`load_rubric`.

A rubric is a folder (``rubrics/v1/``) whose ``rubric.yaml`` includes one file per dimension
(the file syntax: ``docs/rubric.md``).  :func:`load_rubric` reads it with the safe loader
(:mod:`evalkit.rubric.loader`), validates it into :class:`~evalkit.rubric.spec.RubricSpec`,
checks its meaning (duplicate ids, scoring rules, registry checks and applicability conditions
against their registries in :mod:`evalkit.rubric.rules`, policy sections) and builds the typed
objects, with the weights normalised and, when the rubric names AHP judgments, taken from them
(:mod:`evalkit.rubric.ahp`).  Every problem is raised at once as
:class:`~evalkit.errors.RubricError`, each naming the file, the line and the key path
(``rubrics/v1/security.yaml:40:criteria[3].weight: must be a number ≥ 0, got -0.2``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from evalkit import resources
from evalkit.errors import EvalkitError, Problem, RubricError, unknown_name
from evalkit.rubric import rules
from evalkit.rubric.ahp import AhpLevel, ahp_levels, read_judgments, share_weights
from evalkit.rubric.loader import MAX_BYTES, Locator, display_path, load_yaml
from evalkit.rubric.spec import CriterionSpec, DimensionSpec, RubricSpec, problem_message, validate

__all__ = [
    "Criterion",
    "Level",
    "Dimension",
    "Rubric",
    "RubricLookupError",
    "RuleEntry",
    "Veto",
    "cached_rubric",
    "default_criterion_ids",
    "default_rubric_dir",
    "load_rubric",
    "national_rubric_version",
]

_unknown = unknown_name


class RubricLookupError(EvalkitError, KeyError):
    """A criterion or dimension id the rubric does not have (says "Did you mean …?")."""

    def __str__(self) -> str:  # KeyError quotes its argument; show the message as is
        return str(self.args[0])


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
class Level:
    """One anchored level of a panel score scale: the score and what it means (zh/en)."""

    score: float
    name_zh: str
    name_en: str
    text_zh: str
    text_en: str


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
    #: Anchored score levels of a panel criterion (its own or the rubric's ``panel_levels``).
    levels: tuple[Level, ...] = ()
    #: What a failure means in words (the rubric's ``failed``; empty: unset).
    failed_zh: str = ""
    failed_en: str = ""

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

    @property
    def ahp_elements(self) -> dict[str, tuple[str, ...]]:
        """The AHP levels and the elements each orders: ``dimensions`` → the dimension ids, each
        dimension id → its criterion ids."""
        return {"dimensions": self.dimension_ids} | {d.id: tuple(c.id for c in d.criteria) for d in self.dimensions}

    def criterion(self, cid: str) -> Criterion:
        """The criterion ``cid``; an unknown id raises :class:`RubricLookupError`."""
        for c in self.criteria:
            if c.id == cid:
                return c
        raise RubricLookupError(_unknown("criterion", cid, self.criterion_ids))

    def dimension(self, did: str) -> Dimension:
        """The dimension ``did``; an unknown id raises :class:`RubricLookupError`."""
        for d in self.dimensions:
            if d.id == did:
                return d
        raise RubricLookupError(_unknown("dimension", did, self.dimension_ids))

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
        levels = ahp_levels(self.ahp_elements, judgments, file, problems)
        errors = [p for p in problems if p.severity == "error"]
        if strict:
            errors += [replace(p, severity="error") for p in problems if p.code == "ahp_inconsistent"]
        if errors:
            raise RubricError(problems if not strict else errors)
        return self._with_levels(levels, tuple(p for p in problems if p.severity == "warning"))

    def with_ahp_levels(self, levels: Mapping[str, AhpLevel]) -> Rubric:
        """A copy whose weights at the given levels come from already computed AHP results
        (e.g. one province's screened judgments, :mod:`evalkit.evaluate.weighting`); see :meth:`with_ahp`."""
        return self._with_levels(levels, ())

    def _with_levels(self, levels: Mapping[str, AhpLevel], warnings: tuple[Problem, ...]) -> Rubric:
        src = dict(self.weights_source)
        dim_w = {d.id: d.weight for d in self.dimensions}
        if "dimensions" in levels:
            dim_w = share_weights(dim_w, levels["dimensions"])
            src["dimensions"] = "ahp" if len(levels["dimensions"].elements) == len(dim_w) else "ahp+stated"
        dims = []
        for d in self.dimensions:
            within = {c.id: c.weight for c in d.criteria}
            if d.id in levels:
                within = share_weights(within, levels[d.id])
                src[d.id] = "ahp" if len(levels[d.id].elements) == len(within) else "ahp+stated"
            crits = tuple(replace(c, weight=within[c.id], global_weight=dim_w[d.id] * within[c.id])
                          for c in d.criteria)
            dims.append(replace(d, weight=dim_w[d.id], criteria=crits))
        return replace(self, dimensions=tuple(dims), weights_source=src,
                       ahp={**self.ahp, **levels}, warnings=self.warnings + warnings)

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

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        return self.weights_table().to_html(index=False)


# ============================================================================================
# Building a rubric from its file model


def _build(spec: RubricSpec, loc: Locator, problems: list[Problem]) -> Rubric:
    """The typed rubric of ``spec``, every problem of meaning added to ``problems``."""
    seen: dict[str, tuple[int, int]] = {}  # criterion id -> (dimension index, criterion index)
    dims_seen: set[str] = set()
    dims: list[Dimension] = []
    dim_total = sum(d.weight for d in spec.dimensions)
    if dim_total <= 0:
        problems.append(loc.problem(("dimensions",), "dimension weights must not all be 0"))
    for di, d in enumerate(spec.dimensions):
        if d.id in dims_seen:
            problems.append(loc.problem(("dimensions", di, "id"), f"duplicate dimension id {d.id!r}"))
        dims_seen.add(d.id)
        dw = d.weight / dim_total if dim_total > 0 else 0.0
        dims.append(_build_dimension(d, di, dw, seen, loc, problems))
    rule_ids: set[str] = set()
    entries: list[RuleEntry] = []
    for ri, r in enumerate(spec.rules):
        if r.id in rule_ids or r.id in seen:
            problems.append(loc.problem(("rules", ri, "id"), f"duplicate rule id {r.id!r}"))
        rule_ids.add(r.id)
        entries.append(RuleEntry(r.id, r.kind, r.name.zh, r.name.en, tuple(sorted(set(r.sections))), r.implemented_in,
                                 r.tested_by))
    shared = _levels(spec.panel_levels, ("panel_levels",), 10.0, loc, problems)
    dims = [replace(d, criteria=tuple(
        replace(c, levels=c.levels or shared) if c.source == "panel" else c for c in d.criteria)) for d in dims]
    return Rubric(spec.version, spec.name.zh, spec.name.en, tuple(dims), tuple(entries),
                  weights_source={d.id: "stated" for d in dims} | {"dimensions": "stated"})


def _levels(specs: list | None, at: tuple, top: float, loc: Locator, problems: list[Problem]) -> tuple[Level, ...]:
    """Anchored levels in ascending score, each within ``0..top`` and none twice."""
    out: list[Level] = []
    for i, lv in enumerate(specs or []):
        if lv.score > top:
            problems.append(loc.problem((*at, i, "score"),
                                        f"a level's score must be within 0–{top:g}, got {lv.score:g}"))
        elif any(o.score == lv.score for o in out):
            problems.append(loc.problem((*at, i, "score"), f"score {lv.score:g} has two levels"))
        else:
            out.append(Level(float(lv.score), lv.name.zh, lv.name.en, lv.description.zh, lv.description.en))
    return tuple(sorted(out, key=lambda lv: lv.score))


def _build_dimension(d: DimensionSpec, di: int, dw: float, seen: dict[str, tuple[int, int]], loc: Locator,
                     problems: list[Problem]) -> Dimension:
    """Dimension ``di`` of weight ``dw`` (normalised) and its criteria; ``seen`` collects the
    criterion ids of the whole rubric (a duplicate names where the first one is)."""
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
        _check_source(c, at, loc, problems)
        applies = _applies(c, at, loc, problems)
        bad_sections = [s for s in c.sections if not 1 <= s <= 20]
        if bad_sections:
            problems.append(loc.problem((*at, "sections"), f"policy sections are 1–20, got {bad_sections}"))
        w = c.weight / within_total if within_total > 0 else 0.0
        crits.append(Criterion(
            id=c.id, dimension=d.id, name_zh=c.name.zh, name_en=c.name.en,
            sections=tuple(sorted(set(c.sections))), standards=tuple(c.standard),
            source=c.source, check=c.check, value=c.value, unit=c.unit, rule=c.rule.type,
            params=params, stated_weight=c.weight, weight=w, global_weight=dw * w,
            applies=applies, veto=Veto(c.veto.when, c.veto.score) if c.veto else None, waivable=c.waivable,
            levels=_levels(c.levels, (*at, "levels"), getattr(params, "scale_max", 10.0), loc, problems),
            failed_zh=c.failed.zh if c.failed else "", failed_en=c.failed.en if c.failed else "",
        ))
    return Dimension(d.id, d.name.zh, d.name.en, d.weight, dw, tuple(crits))


def _check_source(c: CriterionSpec, at: tuple, loc: Locator, problems: list[Problem]) -> None:
    """A registry criterion names a registered check (others none); a panel criterion is likert."""
    if c.source == "registry":
        if c.check is None:
            problems.append(loc.problem((*at, "check"), "a registry criterion needs 'check' (a registry check name)"))
        elif c.check not in rules.REGISTRY_CHECKS:
            problems.append(loc.problem((*at, "check"), _unknown("registry check", c.check, rules.REGISTRY_CHECKS)))
    elif c.check is not None:
        problems.append(loc.problem((*at, "check"), f"'check' is only for registry criteria, not {c.source!r}"))
    if c.levels and c.source != "panel":
        problems.append(loc.problem((*at, "levels"), f"'levels' are for panel criteria, not {c.source!r}"))
    if c.source == "panel" and c.rule.type != "likert":
        problems.append(loc.problem((*at, "rule"), f"panel criteria use the 'likert' rule, got {c.rule.type!r}"))


def _applies(c: CriterionSpec, at: tuple, loc: Locator, problems: list[Problem]) -> tuple[tuple[str, ...], ...]:
    """The criterion's applicability clauses, each checked against :data:`rules.CONDITIONS`."""
    applies: list[tuple[str, ...]] = []
    for ai, a in enumerate(c.applies):
        try:
            applies.append(rules.parse_condition(a))
        except rules.ConditionError as exc:
            problems.append(loc.problem((*at, "applies", ai), str(exc)))
    return tuple(applies) if applies else (("all",),)


def _rule_params(c: CriterionSpec, at: tuple, loc: Locator, problems: list[Problem]) -> Any:
    """The criterion's scoring-rule parameters, checked by the rule's own model."""
    if c.rule.type not in rules.SCORING_RULES:
        problems.append(loc.problem((*at, "rule", "type"), _unknown("scoring rule", c.rule.type, rules.SCORING_RULES)))
        return None
    try:
        return rules.get_rule(c.rule.type).parse(c.rule.model_dump())
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(loc.problem((*at, "rule", *err["loc"]), problem_message(err)))
        return None


# ============================================================================================
# Loading


def default_rubric_dir() -> Path:
    """The shipped ``rubrics/`` folder (:mod:`evalkit.resources`)."""
    return resources.rubrics_dir()


def _rubric_file(path: str | Path | None) -> Path:
    p = Path(path) if path is not None else default_rubric_dir()
    if p.is_file():
        return p
    if (p / "rubric.yaml").is_file():
        return p / "rubric.yaml"
    if p.is_dir():
        version = national_rubric_version(p)
        cand = p / f"v{version}" / "rubric.yaml" if version else None
        if cand is not None and cand.is_file():
            return cand
        versions = sorted((q for q in p.glob("v*/rubric.yaml")), key=lambda q: _vkey(q.parent.name))
        if versions:
            return versions[-1]
    raise RubricError([Problem(display_path(p), None, None,
                               "no rubric.yaml found (give a rubric file, a version folder or the rubrics folder)")])


def _vkey(name: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in name[1:].split("."))


def national_rubric_version(root: Path) -> str | None:
    """The ``rubric_version`` of ``root/profiles/national.yaml`` (None when it cannot be read)."""
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
    spec = validate(RubricSpec, data, loc, problems) if data is not None else None
    if data is None and not problems:
        problems.append(Problem(display_path(file), None, None, "the rubric file is empty"))
    rubric = _build(spec, loc, problems) if spec is not None else None
    warnings: list[Problem] = []
    if rubric is not None and spec is not None and spec.weights is not None:
        rubric = _weights_from_judgments(rubric, file, spec.weights.ahp, loc, strict, problems, warnings)
    if [p for p in problems if p.severity == "error"]:
        raise RubricError(problems)
    if rubric is None:  # pragma: no cover - no errors means a rubric was built
        raise RubricError(problems or [Problem(display_path(file), None, None, "no rubric could be built")])
    return replace(rubric, path=file.parent, files=loc.files, warnings=tuple(warnings) + tuple(problems))


def _weights_from_judgments(rubric: Rubric, file: Path, ahp_file: str, loc: Locator, strict: bool,
                            problems: list[Problem], warnings: list[Problem]) -> Rubric:
    """The rubric weighted by the AHP judgments its ``weights.ahp`` names (a file inside the
    rubric folder); consistency warnings go to ``warnings``, or are errors when ``strict``."""
    jpath = (file.parent / ahp_file).resolve()
    if not jpath.is_relative_to(file.parent.resolve()):
        problems.append(loc.problem(("weights", "ahp"), "the AHP file must lie inside the rubric folder"))
        return rubric
    table = read_judgments(jpath, problems, display_path(file))
    if table is None:
        return rubric
    level_probs: list[Problem] = []
    levels = ahp_levels(rubric.ahp_elements, table, display_path(jpath), level_probs)
    for p in level_probs:
        if p.severity == "warning" and strict:
            problems.append(replace(p, severity="error"))
        elif p.severity == "warning":
            warnings.append(p)
        else:
            problems.append(p)
    return rubric.with_ahp_levels(levels)


@functools.lru_cache(maxsize=8)
def cached_rubric(path: str) -> Rubric:
    """``load_rubric(path)``, remembered (the profiles of one run share their rubric)."""
    return load_rubric(path)


def default_criterion_ids() -> frozenset[str]:
    """The criterion ids of the default (shipped) rubric."""
    return cached_rubric(str(_rubric_file(None))).criterion_ids
