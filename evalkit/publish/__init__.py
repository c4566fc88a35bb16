"""Publishing: the report notebooks run and rendered to offline HTML, staging and atomic moves,
local workers or Dask, the national overview and the report display helpers.  Imports every
layer below it.

Modules: :mod:`~evalkit.publish.run` (``publish()`` itself), :mod:`~evalkit.publish.config`
(arguments and ``reports.yaml``), :mod:`~evalkit.publish.staging` (lock, staging, atomic move),
:mod:`~evalkit.publish.workers` (render jobs, local processes, Dask),
:mod:`~evalkit.publish.render` (one reused kernel, offline HTML), :mod:`~evalkit.publish.assets`
(the shared plotly.js), :mod:`~evalkit.publish.national` (the index page's overview and
register), :mod:`~evalkit.publish.cache` (the province results the notebooks read) and the
display helpers the notebooks call, :mod:`~evalkit.publish.report` (with
:mod:`~evalkit.publish.markup`, :mod:`~evalkit.publish.tables`, :mod:`~evalkit.publish.charts`).

The public names below are imported on first use, so ``import evalkit.publish.report`` in a
notebook's kernel does not load the workers' machinery.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "NOTEBOOKS",
    "REPORTS_CONFIG",
    "SAMPLE_AS_OF",
    "SAMPLE_DATA",
    "ProvinceOutcome",
    "PublishResult",
    "chart_traces",
    "data_dir_parameter",
    "iter_published",
    "load_national",
    "load_province",
    "load_reports_config",
    "national_overview",
    "parse_provinces",
    "plotly_bundle",
    "publish",
    "resolve_as_of",
]

_LAZY = {
    "NOTEBOOKS": "evalkit.publish.config",
    "REPORTS_CONFIG": "evalkit.publish.config",
    "SAMPLE_AS_OF": "evalkit.publish.config",
    "SAMPLE_DATA": "evalkit.publish.config",
    "load_reports_config": "evalkit.publish.config",
    "parse_provinces": "evalkit.publish.config",
    "resolve_as_of": "evalkit.publish.config",
    "ProvinceOutcome": "evalkit.publish.workers",
    "data_dir_parameter": "evalkit.publish.workers",
    "PublishResult": "evalkit.publish.run",
    "iter_published": "evalkit.publish.run",
    "publish": "evalkit.publish.run",
    "chart_traces": "evalkit.publish.assets",
    "plotly_bundle": "evalkit.publish.assets",
    "load_national": "evalkit.publish.national",
    "national_overview": "evalkit.publish.national",
    "load_province": "evalkit.publish.cache",
}


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'evalkit.publish' has no attribute {name!r}") from None
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
