"""pytest set-up for the whole project (issue 6): the notebooks run under nbval, lax mode.

``python3 dev.py test`` (``python -m pytest``) collects ``tests/`` and ``notebooks/``
(``testpaths`` in pyproject.toml).  nbval's lax mode is switched on here instead of with
``addopts = "--nbval-lax"``: an option in ``addopts`` makes ``pytest -p no:nbval`` (how the
test files are run one by one) fail with "unrecognized arguments".  In lax mode nbval runs
every cell of a notebook and compares only the outputs of cells tagged
``nbval-check-output``.  The throwaway notebooks under ``tests/`` are inputs of the tests,
not tests themselves.
"""

from __future__ import annotations

import pytest

collect_ignore_glob = ["tests/hostile/*", "reports/*", "**/.ipynb_checkpoints/*"]


def pytest_configure(config: pytest.Config) -> None:
    option = config.option
    if config.pluginmanager.hasplugin("nbval") and not getattr(option, "nbval", True):
        option.nbval_lax = True
