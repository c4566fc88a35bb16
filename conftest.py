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



#: Session fixtures each built once per test process (tests/conftest.py: real publishes of
#: tens of seconds): under pytest-xdist the files that use one run in the same worker.
SHARED_PUBLISHES = ("published_sample", "planted_data", "planted_published", "failing_published",
                    "failing_dask_republished")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``pytest -n N --dist loadgroup`` (``python3 dev.py test``) sends whole files to a worker
    (a notebook's cells share one kernel, a file shares its module fixtures) and every file that
    uses a shared publish to the same one, so that each publish is built once.

    Decided here from the files' text, not with ``xdist_group`` marks: pytest-xdist 3.8 groups
    by rewriting ``item._nodeid``, which pytest 9.2 no longer reads."""
    import functools
    import re

    from xdist.scheduler import LoadScopeScheduling

    if config.getoption("dist") != "loadgroup":
        return None
    uses_shared = re.compile(r"\b(%s)\b" % "|".join(SHARED_PUBLISHES)).search

    @functools.cache
    def scope(path: str) -> str:
        try:
            text = (config.rootpath / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return path
        return "shared-publishes" if path.endswith(".py") and uses_shared(text) else path

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid.split("::", 1)[0])

    return ByFile(config, log)
