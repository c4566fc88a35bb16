"""environment.yml (conda users) and pyproject.toml (pip users) name the same dependency set.

conda cannot be installed here (TECH-NOTES.md), so environment.yml is checked offline: it
parses, every spec has valid MatchSpec-like syntax, and the names and version bounds agree
with pyproject.toml's dependencies plus its `dev` extra.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: A name, pip extras (``psycopg[binary]``: conda-forge's ``psycopg`` ships libpq itself), bounds.
SPEC = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[A-Za-z0-9_,-]+\])?\s*"
                  r"(?P<ver>(?:[<>=!~]=?\s*[0-9][0-9A-Za-z.*]*\s*,?\s*)*)$")


def _parse(specs):
    out = {}
    for spec in specs:
        m = SPEC.match(spec.strip())
        assert m, f"invalid dependency spec {spec!r}"
        out[m["name"].lower().replace("_", "-")] = m["ver"].replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_side = _parse(pyproject["dependencies"] + pyproject["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        (pip.extend(dep["pip"]) if isinstance(dep, dict) else conda.append(dep))
    conda_side = _parse(conda)
    assert conda_side.pop("python") == ">=" + pyproject["requires-python"].lstrip(">=")
    conda_side.pop("pip")
    conda_side.update(_parse(pip))
    assert conda_side == pip_side


def test_python_floor():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pyproject["requires-python"] == ">=3.11"
