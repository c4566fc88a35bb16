"""AHP judgments → rubric weights.

Long judgment rows (``expert_id, level, a, b, value``) are read (:func:`read_judgments`), turned
into one :class:`AhpLevel` per level they judge (:func:`ahp_levels`: the matrices, the experts
combined by geometric mean and the consistency ratios all come from
:mod:`evalkit.mcda.weights`, never re-implemented here), and shared out over the stated weights
(:func:`share_weights`) by :meth:`evalkit.rubric.model.Rubric.with_ahp`.

A level is ``dimensions`` (the dimension weights) or a dimension id (the criterion weights
inside it).  A level may judge a subset of its elements (e.g. only the weighted, non-gate
criteria): the subset then shares out its stated total among its elements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.errors import Problem, unknown_name
from evalkit.mcda import weights
from evalkit.rubric.loader import MAX_BYTES, display_path, load_yaml

__all__ = ["CR_LIMIT", "AhpLevel", "ahp_levels", "read_judgments", "share_weights"]

#: A level's consistency ratio at or above this is a warning (an error when strict).
CR_LIMIT = 0.10
#: The columns of a judgment row.
JUDGMENT_COLUMNS = ("expert_id", "level", "a", "b", "value")


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


def ahp_levels(levels: Mapping[str, tuple[str, ...]], judgments: pd.DataFrame, file: str,
               problems: list[Problem]) -> dict[str, AhpLevel]:
    """AHP per level present in ``judgments``.

    Parameters
    ----------
    levels : mapping
        Every level a rubric has (``dimensions`` and each dimension id) → its elements in order.
    judgments : DataFrame
        Long rows ``expert_id, level, a, b, value``.
    file : str
        The judgments' file, as problems name it.
    problems : list of Problem
        Receives every problem (unknown levels, bad rows: errors; CR ≥ :data:`CR_LIMIT`:
        warnings coded ``ahp_inconsistent``).

    Returns
    -------
    dict
        Level → :class:`AhpLevel`, for the levels that could be computed (none on an error).
    """
    missing = [c for c in JUDGMENT_COLUMNS if c not in judgments.columns]
    if missing:
        problems.append(Problem(file, None, None, f"AHP judgments lack columns {missing}"))
        return {}
    present = judgments["level"].astype("str")
    known = present.isin(levels).to_numpy()
    for i in np.flatnonzero(~known):
        problems.append(Problem(file, int(i) + 1, "level", unknown_name("AHP level", str(present.iloc[i]), levels)))
    used = sorted(set(present[known]))
    items = {lv: _judged(levels[lv], judgments[(present == lv).to_numpy()]) for lv in used}
    jm = weights.judgment_matrices(judgments[known].reset_index(drop=True), items=items, rtol=1e-2, file=file)
    # judgment_matrices numbers rows within the filtered frame: map back to file rows
    kept_rows = np.flatnonzero(known) + 1
    for p in jm.problems:
        problems.append(replace(p, row=int(kept_rows[p.row - 1]) if p.row is not None else None))
    if any(p.severity == "error" for p in jm.problems):
        return {}
    out: dict[str, AhpLevel] = {}
    for lv in used:  # a handful of levels
        level = _level(jm, lv, items[lv], file, problems)
        if level is not None:
            out[lv] = level
    return out


def _judged(elements: tuple[str, ...], rows: pd.DataFrame) -> tuple[str, ...]:
    """The level's elements some row judges, in the level's order."""
    seen = set(rows["a"].astype("str")) | set(rows["b"].astype("str"))
    return tuple(e for e in elements if e in seen)


def _level(jm: weights.JudgmentMatrices, lv: str, items: tuple[str, ...], file: str,
           problems: list[Problem]) -> AhpLevel | None:
    """One level's AHP, or None with a problem when it cannot be computed; a warning when
    its consistency ratio reaches :data:`CR_LIMIT`."""
    if len(items) < 2:
        problems.append(Problem(file, None, "level", f"AHP level {lv!r}: fewer than two known elements judged"))
        return None
    if not jm.complete(lv):
        problems.append(
            Problem(file, None, "level", f"AHP level {lv!r}: no expert judged the pairs {jm.missing_pairs(lv)}")
        )
        return None
    res = jm.ahp(lv, rtol=1e-2)
    crs = weights.individual_cr(jm.individual[lv], rtol=1e-2)
    level = AhpLevel(
        lv,
        tuple(jm.items[lv]),
        tuple(float(x) for x in res.weights),
        float(res.lambda_max),
        float(res.ci),
        float(res.cr),
        len(jm.experts[lv]),
        tuple((e, None if np.isnan(c) else float(c)) for e, c in zip(jm.experts[lv], crs, strict=True)),
    )
    if not level.consistent:
        problems.append(
            Problem(
                file,
                None,
                "level",
                f"AHP level {lv!r}: consistency ratio CR = {level.cr:.3f} ≥ {CR_LIMIT} "
                f"({level.n_experts} experts combined by geometric mean)",
                "warning",
                "ahp_inconsistent",
            )
        )
    return level


def share_weights(current: Mapping[str, float], level: AhpLevel) -> dict[str, float]:
    """The weights of one level after its AHP result: the judged subset keeps its current total
    share, divided by the AHP weights; the others keep theirs; the result sums to 1."""
    total = sum(current.values())
    part = sum(current[e] for e in level.elements)
    if part <= 0:  # judged elements had no stated weight: give them an equal share
        part = total * len(level.elements) / len(current)
    out = {k: (v if k not in level.elements else 0.0) for k, v in current.items()}
    for e, w in zip(level.elements, level.weights, strict=True):
        out[e] = part * w
    norm = sum(out.values())
    return {k: v / norm for k, v in out.items()}


def read_judgments(path: Path, problems: list[Problem], shown: str) -> pd.DataFrame | None:
    """The judgment rows of a CSV or YAML (``judgments: [...]``) file, or None with a problem
    (``shown``: the rubric file naming it, for a missing file)."""
    if not path.is_file():
        problems.append(Problem(shown, None, "weights.ahp", f"AHP judgments file {path.name!r} not found"))
        return None
    if path.stat().st_size > MAX_BYTES:
        problems.append(Problem(display_path(path), None, None, f"file larger than {MAX_BYTES} bytes"))
        return None
    try:
        if path.suffix in (".yaml", ".yml"):
            data, _, probs = load_yaml(path)
            problems.extend(probs)
            rows = data.get("judgments") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                problems.append(
                    Problem(display_path(path), None, "judgments", "must be a list of {expert_id, level, a, b, value}")
                )
                return None
            return pd.DataFrame(rows)
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", comment="#")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        problems.append(Problem(display_path(path), None, None, f"cannot read AHP judgments: {exc}"))
        return None
