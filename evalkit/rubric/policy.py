"""Policy coverage: which criteria and rules implement which sections of the 2019 Opinions
(教技函〔2019〕55号), and where each is implemented and tested (the coverage claims).

Public: :func:`coverage` (one row per criterion and declared rule), :func:`section_coverage`
(one row per actionable section), :data:`ACTIONABLE_SECTIONS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from evalkit.rubric.model import Rubric
from evalkit.rubric.spec import Profile

__all__ = ["ACTIONABLE_SECTIONS", "CRITERIA_IMPLEMENTED_IN", "CRITERIA_TESTED_BY", "coverage",
           "section_coverage"]

#: Sections of the 2019 Opinions the workbench acts on (coverage must reach all of them).
ACTIONABLE_SECTIONS: tuple[int, ...] = (4, 5, 6, 7, 9, 10, 11, 12, 13, 15, 16)
#: The coverage claim of every criterion: scored by ``evalkit.evaluate.scoring``, exercised (each
#: criterion of the shipped rubric scored end to end) by this test.
CRITERIA_IMPLEMENTED_IN = "evalkit.evaluate.scoring"
CRITERIA_TESTED_BY = "tests/test_scoring.py::test_perfect_app_scores_100_without_reasons"


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
