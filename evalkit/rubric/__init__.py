"""The rubric: YAML loading, the typed rubric and profile models, scoring rules and registry
checks, policy coverage.  Imports the base, mcda and data layers.

Modules, bottom first:

* :mod:`~evalkit.rubric.rules` — the registries of scoring rules, applicability conditions and
  registry checks;
* :mod:`~evalkit.rubric.loader` — safe YAML with size limits, ``include:`` and the key-path
  locator every problem is placed with;
* :mod:`~evalkit.rubric.spec` — the pydantic models of rubric and profile files
  (:class:`Profile` is used as is);
* :mod:`~evalkit.rubric.ahp` — AHP judgments → weights;
* :mod:`~evalkit.rubric.model` — the typed :class:`Rubric` and :func:`load_rubric`;
* :mod:`~evalkit.rubric.profiles` — :func:`load_profile` (merged over ``national.yaml``),
  :func:`check_dir`;
* :mod:`~evalkit.rubric.policy` — :func:`coverage` of the policy sections.

The public names below are imported from here (``from evalkit.rubric import load_rubric``).
"""

from evalkit.rubric.ahp import AhpLevel
from evalkit.rubric.loader import load_yaml
from evalkit.rubric.model import (
    Criterion,
    Dimension,
    Rubric,
    RubricLookupError,
    RuleEntry,
    Veto,
    default_criterion_ids,
    default_rubric_dir,
    load_rubric,
)
from evalkit.rubric.policy import ACTIONABLE_SECTIONS, coverage, section_coverage
from evalkit.rubric.profiles import (
    check_dir,
    load_profile,
    load_profiles,
    profile_files,
    profile_value,
    rubrics_root,
)
from evalkit.rubric.spec import Profile

__all__ = [
    "ACTIONABLE_SECTIONS",
    "AhpLevel",
    "Criterion",
    "Dimension",
    "Profile",
    "Rubric",
    "RubricLookupError",
    "RuleEntry",
    "Veto",
    "check_dir",
    "coverage",
    "default_criterion_ids",
    "default_rubric_dir",
    "load_profile",
    "load_profiles",
    "profile_files",
    "profile_value",
    "load_rubric",
    "load_yaml",
    "rubrics_root",
    "section_coverage",
]
