"""Build hook: the shipped folders become package data of the wheel.

The checkout's top-level ``rubrics/``, ``notebooks/`` and ``data/sample/`` are the one source
of the rubrics and profiles, the report notebooks with ``reports.yaml``, and the sample dataset.
Building a wheel copies them into the *build* folder as ``evalkit/_resources/<name>`` (never
into the source tree, so git holds one copy), where :mod:`evalkit.resources` finds them in an
installed package.  An editable install copies nothing: the resources are read from the
checkout.  The sdist carries the top-level folders themselves (``MANIFEST.in``), so a wheel
built from it is the same.  Everything else is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: The shipped top-level folders, relative to the checkout (``evalkit.resources`` names them so).
RESOURCES = ("rubrics", "notebooks", "data/sample")
_SKIP = shutil.ignore_patterns(".*", "__pycache__", "*.pyc", ".ipynb_checkpoints")


class build_py_with_resources(build_py):  # noqa: N801 - a setuptools command class
    """``build_py`` that also copies :data:`RESOURCES` to ``<build_lib>/evalkit/_resources``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders
        target = Path(self.build_lib) / "evalkit" / "_resources"
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build
        for name in RESOURCES:
            source = ROOT / name
            if not source.is_dir():
                raise SystemExit(f"evalkit build: the shipped folder {source} is missing")
            shutil.copytree(source, target / name, ignore=_SKIP)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if getattr(self, "editable_mode", False):
            return outputs
        target = Path(self.build_lib) / "evalkit" / "_resources"
        return outputs + sorted(str(p) for p in target.rglob("*") if p.is_file())


setup(cmdclass={"build_py": build_py_with_resources})
