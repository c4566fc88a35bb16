"""The arguments of a publish and its reports configuration, checked.

* :func:`parse_provinces`: ``all`` or ``11,31,...`` into sorted unique province codes;
* :func:`resolve_as_of`: the evaluation date, required except for the committed sample, whose
  date :data:`SAMPLE_AS_OF` is the default (today's date is never assumed: the same command
  must publish the same bytes tomorrow);
* :func:`load_reports_config`: ``notebooks/reports.yaml`` (safe loader), which notebook runs
  for which province and what it writes, output names confined to the published set.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit import resources
from evalkit.data.identifiers import PROVINCE_CODES, PROVINCES
from evalkit.dates import parse_date
from evalkit.errors import PublishError, param_message
from evalkit.publish.staging import inside

NOTEBOOKS = resources.notebooks_dir()
REPORTS_CONFIG = resources.reports_config()
SAMPLE_DATA = resources.sample_dir()
SAMPLE_AS_OF = "2026-09-01"

__all__ = [
    "NOTEBOOKS",
    "REPORTS_CONFIG",
    "SAMPLE_AS_OF",
    "SAMPLE_DATA",
    "load_reports_config",
    "parse_provinces",
    "resolve_as_of",
]


def parse_provinces(spec: str | Sequence[str] | None) -> list[str]:
    """Parse ``all`` or ``11,31,...`` into sorted unique province codes.

    Raises
    ------
    PublishError
        On unknown codes, naming them and the valid ones.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "all")):
        return list(PROVINCE_CODES)
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    codes = [str(c).strip() for c in items if str(c).strip()]
    unknown = sorted({c for c in codes if c not in PROVINCES})
    if unknown or not codes:
        raise PublishError(
            param_message("provinces", "publish", "'all' or a comma-separated list of province codes",
                          f"unknown code(s) {', '.join(unknown) or '(none)'}")
            + f" Valid codes: {', '.join(PROVINCE_CODES)}."
        )
    return sorted(set(codes))


def resolve_as_of(as_of: str | _dt.date | None, data_dir: Path) -> str:
    """The evaluation date as ``YYYY-MM-DD``: given, or the sample's date for the sample data.

    Raises
    ------
    PublishError
        If no date is given for data other than the sample.
    """
    if as_of is None:
        if data_dir.resolve() == SAMPLE_DATA.resolve():
            return SAMPLE_AS_OF
        raise PublishError(
            param_message("as_of", "publish", f"given for data other than the sample ({SAMPLE_DATA})",
                          "none") + " Pass --as-of YYYY-MM-DD."
        )
    return parse_date(as_of, func="publish").strftime("%Y-%m-%d")


def load_reports_config(path: str | Path = REPORTS_CONFIG) -> dict[str, Any]:
    """Read and check ``reports.yaml`` (safe loader); notebook paths become absolute.

    Returns
    -------
    dict
        ``{"province": [...], "national": [...]}``: one entry per notebook with ``name``,
        ``notebook`` (absolute), ``html``, ``ipynb``, optional ``title`` and ``provinces``.

    Raises
    ------
    PublishError
        Naming the file and the entry: unreadable file, unknown or missing keys, a missing
        notebook, an output name that could leave the published set.
    """
    import yaml

    path = Path(path)
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PublishError(f"{path}: cannot read the reports configuration: {exc}") from exc
    if not isinstance(cfg, dict) or set(cfg) - {"version", "province", "national"}:
        raise PublishError(f"{path}: must be a mapping with keys version, province, national.")
    out: dict[str, Any] = {"province": [], "national": []}
    for level in ("province", "national"):
        for i, item in enumerate(cfg.get(level) or []):
            out[level].append(_entry(path, item, f"{path}: {level}[{i}]"))
    return out


def _entry(path: Path, item: Any, where: str) -> dict[str, Any]:
    """One notebook entry of ``reports.yaml``, checked."""
    if not isinstance(item, dict):
        raise PublishError(f"{where}: must be a mapping.")
    extra = set(item) - {"name", "notebook", "html", "ipynb", "title", "provinces"}
    missing = {"name", "notebook", "html", "ipynb"} - set(item)
    if extra or missing:
        raise PublishError(f"{where}: unknown keys {sorted(extra)} / missing {sorted(missing)}.")
    nb = (path.parent / item["notebook"]).resolve()
    if not nb.is_file():
        raise PublishError(f"{where}.notebook: {nb} does not exist.")
    for key in ("html", "ipynb"):
        _check_output_name(item[key], f"{where}.{key}")
    entry = dict(item, notebook=str(nb))
    entry["provinces"] = parse_provinces(item.get("provinces", "all"))
    return entry


_NAME_PROBE = Path("/evalkit-output-probe")


def _check_output_name(name: Any, where: str) -> None:
    """An output name of ``reports.yaml``: relative, no ``..``, inside the set for every code.

    Raises
    ------
    PublishError
        If the name is not a string, is absolute, has a ``..`` part or a backslash, or resolves
        outside the published set.
    """
    if not isinstance(name, str) or not name.strip():
        raise PublishError(f"{where}: must be a non-empty relative file name; got {name!r} instead.")
    try:
        text = name.format(code="11")
    except (KeyError, IndexError, ValueError):
        raise PublishError(f"{where}: only the {{code}} placeholder is allowed; got {name!r} instead.") from None
    rel = Path(text)
    if rel.is_absolute() or text.startswith(("/", "~")) or "\\" in text or ".." in rel.parts:
        raise PublishError(
            f"{where}: must be a relative name inside reports/<as_of>/ (no absolute path, no '..'); "
            f"got {name!r} instead."
        )
    inside(_NAME_PROBE, _NAME_PROBE / text, where)
