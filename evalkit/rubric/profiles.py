"""Province profiles and the rubrics folder.

A profile is ``rubrics/profiles/<code>.yaml`` merged over ``rubrics/profiles/national.yaml``
(mappings key by key, anything else replaced) and validated into
:class:`~evalkit.rubric.spec.Profile`; its ``extra_vetoes`` and ``list.min_dimension_score``
must name criteria and dimensions of its rubric version.  A problem names the province's file
when the key is there, else the national file.

An ``overlay`` is another rubrics folder (a province workspace's ``rubrics/``) whose
``profiles/`` files replace the rubrics folder's file by file: ``national.yaml`` and
``<code>.yaml`` are each read from the overlay when it has them, else from the rubrics folder;
the rubric versions always come from the rubrics folder.  :func:`profile_files` says which
files a province's profile is built from (provenance).

Public: :func:`rubrics_root`, :func:`load_profile`, :func:`load_profiles`, :func:`profile_files`,
:func:`check_dir` (every rubric version and every profile of a rubrics folder).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from evalkit.data import identifiers
from evalkit.errors import Problem, RubricError, suggest, unknown_name
from evalkit.rubric.loader import Locator, display_path, load_yaml
from evalkit.rubric.model import (
    Rubric,
    cached_rubric,
    default_rubric_dir,
    load_rubric,
    national_rubric_version,
)
from evalkit.rubric.spec import Profile, validate

__all__ = ["check_dir", "load_profile", "load_profiles", "profile_files", "profile_value", "rubrics_root"]

_unknown = unknown_name


def rubrics_root(rubric_dir: str | Path | None = None) -> Path:
    """The rubrics folder (holding ``profiles/`` and ``v<version>/``) that ``rubric_dir`` means.

    ``rubric_dir`` may be the rubrics folder, a version folder or a ``rubric.yaml`` (then the
    folder beside it that holds ``profiles/``); default: the shipped rubrics.
    """
    root = Path(rubric_dir) if rubric_dir is not None else default_rubric_dir()
    if root.is_file():
        root = root.parent
    if (root / "rubric.yaml").is_file() and not (root / "profiles").is_dir():
        root = root.parent  # a version folder: profiles live beside it
    return root


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

    def __init__(self, over: Locator | None, base: Locator):
        self.over, self.base = over, base

    def _has(self, data: Any, loc: Iterable[Any]) -> bool:
        node = data
        for k in loc:
            if (
                isinstance(node, dict)
                and k in node
                or isinstance(node, list)
                and isinstance(k, int)
                and 0 <= k < len(node)
            ):
                node = node[k]
            else:
                return False
        return True

    def problem(self, loc: Iterable[Any], message: str, severity: str = "error", code: str = "invalid") -> Problem:
        loc = tuple(k for k in loc if k != "[key]")
        if self.over is not None and (self._has(self.over.data, loc) or not self._has(self.base.data, loc)):
            return self.over.problem(loc, message, severity, code)
        return self.base.problem(loc, message, severity, code)


def profile_files(code: str, rubric_dir: str | Path | None = None, *,
                  overlay: str | Path | None = None) -> list[Path]:
    """The files province ``code``'s profile is built from, in merge order: ``national.yaml``,
    then ``<code>.yaml`` when there is one; each from ``overlay/profiles/`` when the overlay
    has it, else from the rubrics folder's ``profiles/``."""
    dirs = [Path(overlay) / "profiles"] if overlay is not None else []
    dirs.append(rubrics_root(rubric_dir) / "profiles")
    names = ["national.yaml"] + ([f"{code}.yaml"] if str(code) != "national" else [])
    found = []
    for name in names:
        where = next((d / name for d in dirs if (d / name).is_file()), None)
        if where is not None:
            found.append(where)
        elif name == "national.yaml":
            found.append(dirs[-1] / name)  # read (and reported missing) from the rubrics folder
    return found


def load_profile(code: str, rubric_dir: str | Path | None = None, *, rubric: Rubric | None = None,
                 overlay: str | Path | None = None) -> Profile:
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
    overlay : str or Path, optional
        A rubrics folder (a workspace's ``rubrics/``) whose ``profiles/national.yaml`` and
        ``profiles/<code>.yaml`` replace the rubrics folder's when present (:func:`profile_files`).

    Raises
    ------
    RubricError
        Unknown province code, or any problem of the profile files.
    """
    code = str(code)
    root = rubrics_root(rubric_dir)
    pdir = root / "profiles"
    if code != "national" and code not in identifiers.PROVINCE_CODES:
        hint = suggest(code, identifiers.PROVINCE_CODES)
        raise RubricError(
            [
                Problem(
                    display_path(pdir),
                    None,
                    "code",
                    f"The 'code' parameter of load_profile must be 'national' or a province code "
                    f"(11 … 66); got {code!r} instead.{hint}",
                )
            ]
        )
    merged, mloc, problems = _merged_profile(code, profile_files(code, root, overlay=overlay))
    prof = validate(Profile, merged, mloc, problems)
    if prof is not None:
        _check_against_rubric(prof, rubric, root, mloc, problems)
        missing_levels = [lv for lv in range(prof.mlps.min_level, 6) if lv not in prof.mlps.validity_months]
        if missing_levels:
            problems.append(
                mloc.problem(("mlps", "validity_months"), f"validity months missing for MLPS levels {missing_levels}")
            )
    if problems:
        raise RubricError(problems)
    if prof is None:  # pragma: no cover - no problems means a profile was built
        raise RubricError([Problem(display_path(pdir), None, None, "no profile could be built")])
    return prof


def _merged_profile(code: str, files: list[Path]) -> tuple[dict, _MergedLocator, list[Problem]]:
    """The province's file merged over the national one (``files``: :func:`profile_files`),
    its locator, and the problems of a ``code`` that does not match the file name; raises
    :class:`RubricError` when a file is unreadable or no mapping."""
    national = files[0]
    nat_data, nat_loc, problems = load_yaml(national, root=national.parent)
    over_data, over_loc = None, None
    own = files[1] if len(files) > 1 else None
    if own is not None:
        over_data, over_loc, probs = load_yaml(own, root=own.parent)
        problems += probs
        if over_data is not None and not isinstance(over_data, dict):
            problems.append(Problem(display_path(own), None, None, "a profile must be a mapping"))
            over_data = None
    if nat_data is not None and not isinstance(nat_data, dict):
        problems.append(Problem(display_path(national), None, None, "a profile must be a mapping"))
        nat_data = None
    if problems:
        raise RubricError(problems)
    merged = _merge(copy.deepcopy(nat_data) or {}, over_data or {})
    if over_data is None or "code" not in over_data:
        merged["code"] = code
    if own is not None and over_data is not None and str(over_data.get("code", code)) != code:
        problems.append(
            over_loc.problem(("code",), f"code {over_data.get('code')!r} does not match the file name {own.name!r}")
        )
    return merged, _MergedLocator(over_loc, nat_loc), problems


def _check_against_rubric(
    prof: Profile, rubric: Rubric | None, root: Path, mloc: _MergedLocator, problems: list[Problem]
) -> None:
    """The profile's rubric version exists (in ``root`` unless ``rubric`` is given) and its
    ``extra_vetoes`` and ``list.min_dimension_score`` name that rubric's criteria and dimensions."""
    if rubric is None:
        vdir = root / f"v{prof.rubric_version}"
        if not (vdir / "rubric.yaml").is_file():
            problems.append(
                mloc.problem(
                    ("rubric_version",),
                    f"no rubric version {prof.rubric_version!r} (expected {display_path(vdir)}/rubric.yaml)",
                )
            )
            return
        rubric = cached_rubric(str(vdir / "rubric.yaml"))
    if rubric.version != prof.rubric_version:
        problems.append(
            mloc.problem(
                ("rubric_version",),
                f"profile wants rubric version {prof.rubric_version!r}, the rubric is {rubric.version!r}",
            )
        )
    for i, cid in enumerate(prof.extra_vetoes):
        if cid not in rubric.criterion_ids:
            problems.append(mloc.problem(("extra_vetoes", i), _unknown("criterion", cid, rubric.criterion_ids)))
    for k in prof.list.min_dimension_score:
        if k not in rubric.dimension_ids:
            problems.append(
                mloc.problem(("list", "min_dimension_score", k), _unknown("dimension", k, rubric.dimension_ids))
            )


def load_profiles(
    codes: Iterable[str] | None = None, rubric_dir: str | Path | None = None, *, rubric: Rubric | None = None,
    overlay: str | Path | None = None,
) -> dict[str, Profile]:
    """Profiles for ``codes`` (default: all 32 provincial units), keyed by code
    (``overlay``: :func:`load_profile`)."""
    codes = identifiers.PROVINCE_CODES if codes is None else tuple(codes)
    return {c: load_profile(c, rubric_dir, rubric=rubric, overlay=overlay) for c in codes}


def check_dir(
    rubric_dir: str | Path | None = None, *, strict: bool = False, overlay: str | Path | None = None
) -> tuple[Rubric, dict[str, Profile], list[Problem]]:
    """Validate a rubrics folder: every rubric version and every profile in ``profiles/``
    (with ``overlay``, a workspace's ``rubrics/``: its profiles too, each over the folder's
    as :func:`load_profile` reads them).

    Returns the default rubric, the profiles found, and the warnings; raises
    :class:`RubricError` with every error of every file.
    """
    root = rubrics_root(rubric_dir)
    problems: list[Problem] = []
    rubrics: dict[str, Rubric] = {}
    files = sorted(root.glob("v*/rubric.yaml")) if not (root / "rubric.yaml").is_file() else [root / "rubric.yaml"]
    if not files:
        problems.append(Problem(display_path(root), None, None, "no rubric version folder (v*/rubric.yaml)"))
    for f in files:
        try:
            r = load_rubric(f, strict=strict)
            rubrics[r.version] = r
            problems += list(r.warnings)
        except RubricError as exc:
            problems += exc.problems
    profiles = _check_profiles(root, problems, Path(overlay) if overlay is not None else None)
    uniq = list(dict.fromkeys(problems))
    if any(p.severity == "error" for p in uniq):
        raise RubricError(uniq)
    default = rubrics.get(national_rubric_version(root) or "") or (list(rubrics.values())[-1])
    return default, profiles, uniq


def _check_profiles(root: Path, problems: list[Problem], overlay: Path | None = None) -> dict[str, Profile]:
    """Every profile of ``root/profiles`` (and ``overlay/profiles``) that loads; the problems of
    the others."""
    profiles: dict[str, Profile] = {}
    pdir = root / "profiles"
    if not pdir.is_dir():
        problems.append(Problem(display_path(pdir), None, None, "no profiles folder"))
        return profiles
    files = {f.name: f for d in (pdir, overlay / "profiles" if overlay is not None else None)
             if d is not None and d.is_dir() for f in d.glob("*.yaml")}
    for f in sorted(files.values(), key=lambda f: f.name):
        code = f.stem
        if code != "national" and code not in identifiers.PROVINCE_CODES:
            problems.append(
                Problem(
                    display_path(f), None, None, _unknown("province code (file name)", code, identifiers.PROVINCE_CODES)
                )
            )
            continue
        try:
            profiles[code] = load_profile(code, root, overlay=overlay)
        except RubricError as exc:
            problems += exc.problems
    return profiles


def profile_value(profile: Any, *path: str, default: Any = None) -> Any:
    """The value at ``path`` of a profile, by attribute or mapping access at each step
    (profiles are typed objects or mappings); ``default`` where a step is missing or None."""
    cur = profile
    for key in path:
        if cur is None:
            return default
        if isinstance(cur, Mapping):
            cur = cur.get(key, None)
        else:
            cur = getattr(cur, key, None)
    return default if cur is None else cur
