"""Per-province weights: whose AHP judgments set them, screened for consistency, and entropy.

Every province is weighted by its own experts (docs/rubric.md "Weights"):

* **Whose judgments.**  A row of ``ahp_judgments`` informs the weights of its
  ``province_code`` (contract v2), or, when that is empty or absent, of its expert's
  province (``experts.province_code``).  Each province's levels (``dimensions`` and each
  dimension's criteria) are computed from its own rows only.
* **Consistency screening.**  At each level, an expert whose consistency ratio exceeds 0.10 —
  Saaty's (1980) limit of acceptable consistency — or whose matrix is incomplete is excluded;
  the others are combined by geometric mean (:func:`evalkit.mcda.judgments.screen_judgments`, which
  cites the sources).
* **National fallback.**  A level that the province's experts did not judge, or where no
  expert remains after screening, or whose remaining judgments leave a pair out, keeps the
  national weights: the rubric's shipped judgments (``rubrics/v1/ahp_judgments.csv``) or its
  stated weights.  The fallback and its reason are recorded per level.
* **Entropy.**  A profile with ``weights.method: entropy`` replaces the criterion weights
  inside each dimension by the Shannon entropy weights of the province's candidates'
  criterion scores (:func:`evalkit.mcda.weights.entropy_with_na`); ``combined`` multiplies them
  with the AHP weights and renormalises (:func:`evalkit.mcda.weights.combine_weights`).  The
  dimension weights stay the AHP ones in both cases.

:func:`province_weights` returns one :class:`ProvinceWeights` per province;
:func:`with_entropy` derives the entropy or combined weights from the scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalkit.errors import Problem, RubricError
from evalkit.evaluate.evidence import clean_text, dataset_table
from evalkit.mcda import ahp as _ahp
from evalkit.mcda import judgments as _judgments
from evalkit.mcda import weights as _weights
from evalkit.rubric import AhpLevel, Rubric

__all__ = [
    "MAX_CR",
    "ExpertConsistency",
    "LevelWeights",
    "ProvinceWeights",
    "judgment_provinces",
    "national_weights",
    "province_weights",
    "with_entropy",
]

#: Largest acceptable consistency ratio of one expert's matrix (Saaty 1980).
MAX_CR = 0.10
Judgments = Literal["province", "national", "stated"]


@dataclass(frozen=True)
class ExpertConsistency:
    """One expert's matrix at one level: its CR and whether it was excluded (and why)."""

    expert_id: str
    cr: float | None  # None: the expert left a pair out (no CR)
    excluded: bool
    reason: str = ""  # "" | "inconsistent" | "incomplete"


@dataclass(frozen=True)
class LevelWeights:
    """Where one level's weights come from in one province.

    ``judgments``: ``province`` (its own experts), ``national`` (the rubric's shipped
    judgments) or ``stated`` (the rubric's stated weights).  ``fallback`` says why the
    province's own judgments were not used (``no_judgments``, ``all_excluded``,
    ``incomplete``, ``invalid``; empty when they were).  ``cr`` and ``n_experts`` describe
    the combined matrix used; ``experts`` lists the province's experts at this level (CR,
    excluded or not), ``national_experts`` the rubric's experts when their judgments are used.
    """

    level: str
    judgments: Judgments
    fallback: str
    cr: float | None
    n_experts: int
    experts: tuple[ExpertConsistency, ...] = ()
    lambda_max: float | None = None
    national_experts: tuple[ExpertConsistency, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the method section of a report."""
        return {
            "judgments": self.judgments, "fallback": self.fallback, "cr": self.cr,
            "lambda_max": self.lambda_max, "n_experts": self.n_experts,
            "consistent": None if self.cr is None else bool(self.cr <= MAX_CR),
            "experts": [_expert_dict(e) for e in self.experts],
            "national_experts": [_expert_dict(e) for e in self.national_experts],
        }  # fmt: skip


def _expert_dict(e: ExpertConsistency) -> dict[str, Any]:
    return {"expert_id": e.expert_id, "cr": e.cr, "excluded": e.excluded, "reason": e.reason}


@dataclass(frozen=True)
class ProvinceWeights:
    """The weighted rubric of one province and how its weights were obtained."""

    code: str
    rubric: Rubric
    levels: Mapping[str, LevelWeights]
    method: Literal["ahp", "entropy", "combined"] = "ahp"
    #: Entropy weight of each criterion inside its dimension (methods entropy and combined).
    entropy: Mapping[str, float] = field(default_factory=dict)
    #: Why the province's judgments could not be used at all (invalid rows), else "".
    note: str = ""

    @property
    def uses_own_judgments(self) -> bool:
        return any(lv.judgments == "province" for lv in self.levels.values())

    def method_dict(self) -> dict[str, Any]:
        """JSON-ready description (``ProvinceResult.method``: ``weights_method``, ``ahp``, ...)."""
        return {
            "weights_method": self.method,
            "ahp": {lv: w.as_dict() for lv, w in self.levels.items()},
            "entropy_weights": {k: float(v) for k, v in self.entropy.items()},
            "weights_note": self.note,
        }


def judgment_provinces(judgments: pd.DataFrame, experts: pd.DataFrame) -> pd.Series:
    """The province each judgment row informs: its ``province_code``, else its expert's."""
    own = (clean_text(judgments["province_code"]) if "province_code" in judgments
           else pd.Series("", index=judgments.index))
    if {"expert_id", "province_code"} <= set(experts.columns):
        home = experts.assign(expert_id=clean_text(experts["expert_id"])).drop_duplicates("expert_id")
        of_expert = clean_text(judgments["expert_id"]).map(home.set_index("expert_id")["province_code"].astype("str"))
    else:
        of_expert = pd.Series("", index=judgments.index)
    return own.where(own != "", of_expert.fillna("").astype("str")).astype("str")


def _levels(rubric: Rubric) -> dict[str, tuple[str, ...]]:
    return {"dimensions": rubric.dimension_ids} | {d.id: tuple(c.id for c in d.criteria) for d in rubric.dimensions}


def _national_level(
    national: Rubric, level: str, fallback: str, experts: tuple[ExpertConsistency, ...] = ()
) -> LevelWeights:
    ahp = national.ahp.get(level)
    if ahp is None:
        return LevelWeights(level, "stated", fallback, None, 0, experts)
    shipped = tuple(ExpertConsistency(e, cr, False) for e, cr in ahp.expert_crs)  # the rubric's, as combined
    return LevelWeights(
        level, "national", fallback, float(ahp.cr), int(ahp.n_experts), experts, float(ahp.lambda_max), shipped
    )


def national_weights(national: Rubric, code: str, *, fallback: str = "no_judgments", note: str = "") -> ProvinceWeights:
    """A province weighted by the national rubric at every level."""
    levels = {lv: _national_level(national, lv, fallback) for lv in _levels(national)}
    return ProvinceWeights(str(code), national, levels, note=note)


def _experts_at(screened: _judgments.ScreenedJudgments, ids: tuple[str, ...]) -> tuple[ExpertConsistency, ...]:
    out = []
    for eid, cr, kept in zip(ids, screened.cr.tolist(), screened.kept.tolist(), strict=True):
        reason = "" if kept else ("incomplete" if np.isnan(cr) else "inconsistent")
        out.append(ExpertConsistency(str(eid), None if np.isnan(cr) else float(cr), not kept, reason))
    return tuple(out)


def _own_level(
    level: str, items: tuple[str, ...], individual: np.ndarray, ids: tuple[str, ...], max_cr: float
) -> tuple[AhpLevel | None, str, tuple[ExpertConsistency, ...]]:
    """The province's AHP result at one level (None and the reason when it falls back)."""
    screened = _judgments.screen_judgments(individual, max_cr=max_cr, rtol=1e-2)
    experts = _experts_at(screened, ids)
    if not screened.kept.any():
        return None, "all_excluded", experts
    if len(items) < 2 or not screened.complete:
        return None, "incomplete", experts
    res = _ahp.ahp(screened.matrix, rtol=1e-2)
    level_ahp = AhpLevel(
        level,
        items,
        tuple(float(x) for x in res.weights),
        float(res.lambda_max),
        float(res.ci),
        float(res.cr),
        int(screened.kept.sum()),
    )
    return level_ahp, "", experts


def _own_weights(
    national: Rubric, code: str, rows: pd.DataFrame, positions: np.ndarray, max_cr: float, strict: bool
) -> ProvinceWeights:
    """One province's weights from its own judgment rows (``positions``: their file rows)."""
    known = _levels(national)
    level_col = clean_text(rows["level"])
    rows = rows[level_col.isin(known).to_numpy()]
    positions = positions[level_col.isin(known).to_numpy()]
    seen = {
        lv: set(clean_text(g["a"])) | set(clean_text(g["b"]))
        for lv, g in rows.groupby(clean_text(rows["level"]), sort=True)
    }
    items = {lv: tuple(e for e in known[lv] if e in seen[lv]) for lv in seen}
    jm = _judgments.judgment_matrices(rows.reset_index(drop=True), items=items, rtol=1e-2, file="ahp_judgments")
    errors = [
        replace(p, row=int(positions[p.row - 1]) if p.row else None) for p in jm.problems if p.severity == "error"
    ]
    if errors:
        if strict:
            raise RubricError(errors)
        note = f"{len(errors)} problem(s): " + "; ".join(str(p)[:200] for p in errors[:3])
        return national_weights(national, code, fallback="invalid", note=note)
    used: dict[str, AhpLevel] = {}
    levels: dict[str, LevelWeights] = {}
    for lv in known:  # a handful of levels
        if lv not in items:
            levels[lv] = _national_level(national, lv, "no_judgments")
            continue
        level_ahp, why, experts = _own_level(lv, items[lv], jm.individual[lv], jm.experts[lv], max_cr)
        if level_ahp is None:
            levels[lv] = _national_level(national, lv, why, experts)
            continue
        if strict and level_ahp.cr > max_cr:
            raise RubricError(
                [
                    Problem(
                        "ahp_judgments",
                        None,
                        "level",
                        f"province {code}, AHP level {lv!r}: combined CR = {level_ahp.cr:.3f} > {max_cr}",
                        "error",
                        "ahp_inconsistent",
                    )
                ]
            )
        used[lv] = level_ahp
        levels[lv] = LevelWeights(lv, "province", "", level_ahp.cr, level_ahp.n_experts, experts, level_ahp.lambda_max)
    rubric = national.with_ahp_levels(used) if used else national
    return ProvinceWeights(str(code), rubric, levels)


def province_weights(
    national: Rubric, ds: Any, codes: Iterable[str], *, max_cr: float = MAX_CR, strict: bool = False
) -> dict[str, ProvinceWeights]:
    """Each province's AHP weights from its own experts' judgments (national fallback).

    Parameters
    ----------
    national : Rubric
        The rubric as loaded: its weights (shipped AHP judgments or stated) are the national
        fallback.
    ds : Dataset
        Reads ``ahp_judgments`` (optional ``province_code``) and ``experts``.
    codes : iterable of str
        The provinces to weight.
    max_cr : float
        An expert's matrix with a larger CR is excluded at that level.
    strict : bool
        Invalid judgments or a combined CR above ``max_cr`` raise :class:`RubricError`
        instead of falling back (with a note).

    Returns
    -------
    dict province_code -> ProvinceWeights
    """
    judgments = dataset_table(ds, "ahp_judgments")
    codes = sorted({str(c) for c in codes})
    need = {"expert_id", "level", "a", "b", "value"}
    if judgments.empty or not need <= set(judgments.columns):
        return {c: national_weights(national, c) for c in codes}
    of_row = judgment_provinces(judgments, dataset_table(ds, "experts")).to_numpy()
    out = {}
    for code in codes:  # loop over provinces (each has a handful of experts)
        mine = np.flatnonzero(of_row == code)
        if mine.size == 0:
            out[code] = national_weights(national, code)
        else:
            out[code] = _own_weights(national, code, judgments.iloc[mine], mine + 1, max_cr, strict)
    return out


def with_entropy(pw: ProvinceWeights, scores: np.ndarray, method: str) -> ProvinceWeights:
    """Replace the criterion weights inside each dimension by entropy (or combined) weights.

    ``scores``: the province's candidates × the rubric's criteria, 0–100, NaN where N/A.
    ``method``: ``entropy`` (Hwang & Yoon 1981, §4.1.2) or ``combined``
    (``w_j = a_j e_j / Σ a_k e_k`` with the AHP weights ``a``, :func:`evalkit.mcda.weights.combine_weights`).
    """
    spec = _weights.WEIGHT_METHODS.lookup(method, param="method", func="with_entropy")
    if not spec.uses_scores:
        return pw
    rub = pw.rubric
    position = {c.id: j for j, c in enumerate(rub.criteria)}
    entropy: dict[str, float] = {}
    within: dict[str, float] = {}
    for d in rub.dimensions:  # four dimensions
        cols = [position[c.id] for c in d.criteria]
        e = spec.objective(scores[:, cols].reshape(-1, len(cols)))
        w = spec.combine([c.weight for c in d.criteria], e)
        entropy.update({c.id: float(x) for c, x in zip(d.criteria, e, strict=True)})
        within.update({c.id: float(x) for c, x in zip(d.criteria, w, strict=True)})
    return replace(pw, rubric=rub.with_within_weights(within, method), method=method, entropy=entropy)  # type: ignore[arg-type]
