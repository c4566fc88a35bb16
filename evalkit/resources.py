"""Where the shipped resources are: rubrics and profiles, report notebooks and their
configuration, the sample dataset, and the report assets.

Every module finds them here, never through its own ``__file__``.  In a checkout they are the
repository's top-level ``rubrics/``, ``notebooks/`` and ``data/sample/`` (the one source) and
``evalkit/assets/``; an installed package carries the same folders as package data under
``evalkit/_resources/`` (the build copies them, issue 14), which wins when present.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["assets_dir", "notebooks_dir", "package_dir", "profiles_dir", "reports_config",
           "reports_dir", "resource", "rubrics_dir", "sample_dir"]

_PACKAGE = Path(__file__).resolve().parent


def package_dir() -> Path:
    """The ``evalkit`` package folder (its code: hashed into the cache keys)."""
    return _PACKAGE


def resource(name: str) -> Path:
    """A shipped top-level folder (``rubrics``, ``notebooks``, ``data/sample``): the package
    data copy when installed, else the checkout's."""
    packaged = _PACKAGE / "_resources" / name
    return packaged if packaged.exists() else _PACKAGE.parent / name


def rubrics_dir() -> Path:
    """The rubrics folder: rubric versions and ``profiles/``."""
    return resource("rubrics")


def profiles_dir() -> Path:
    """The shipped province profiles (``<code>.yaml`` and ``national.yaml``)."""
    return rubrics_dir() / "profiles"


def notebooks_dir() -> Path:
    """The report notebooks."""
    return resource("notebooks")


def reports_config() -> Path:
    """Which notebook runs for which province (``notebooks/reports.yaml``)."""
    return notebooks_dir() / "reports.yaml"


def sample_dir() -> Path:
    """The committed sample dataset."""
    return resource("data/sample")


def reports_dir() -> Path:
    """The default output folder: the checkout's ``reports/``, or ``./reports`` when installed."""
    checkout = _PACKAGE.parent
    return checkout / "reports" if (checkout / "pyproject.toml").is_file() else Path.cwd() / "reports"


def assets_dir() -> Path:
    """The report assets: page template, CSS, JS, the plotly.js bundle."""
    return _PACKAGE / "assets"
