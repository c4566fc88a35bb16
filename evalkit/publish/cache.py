"""The province results the report notebooks display: from a publish's private cache, or
computed on demand.

Inside a publish the national evaluation is computed once and every province's
:class:`~evalkit.evaluate.pipeline.ProvinceResult` is saved in ``<set>/.cache/<code>`` (beside
the province folders, deleted before the set is moved into place).  A notebook run on its own
(papermill, JupyterLab, nbval) computes its result with
:func:`evalkit.evaluate.pipeline.province_result`, kept in :func:`default_cache_dir`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "default_cache_dir", "load_province"]


def cache_dir(out_dir: str | Path) -> Path:
    """The private cache a publish leaves beside the province folders (``<set>/.cache``)."""
    return Path(out_dir).resolve().parent / ".cache"


def default_cache_dir() -> Path:
    """Where notebooks run on their own keep computed results: ``$EVALKIT_CACHE_DIR``, else
    ``<temp>/evalkit-cache`` (computed on demand, valid while data, rubric and date match)."""
    env = os.environ.get("EVALKIT_CACHE_DIR", "").strip()
    return Path(env) if env else Path(tempfile.gettempdir()) / "evalkit-cache"


def load_province(province: str, as_of: str, data_dir: str, out_dir: str) -> Any:
    """The province's :class:`~evalkit.evaluate.pipeline.ProvinceResult`.

    Inside a publish (``out_dir`` set, e.g. ``44`` relative to the set being written), the
    result the national evaluation computed once is read from the publish's private cache
    (``<set>/.cache/<code>``); run on its own (``out_dir`` empty: papermill, JupyterLab, nbval)
    it is computed from ``data_dir`` and kept in :func:`default_cache_dir`.
    """
    from evalkit.evaluate import pipeline

    if out_dir:
        cached = cache_dir(out_dir) / str(province)
        if (cached / "meta.json").is_file():
            return pipeline.ProvinceResult.load(cached)
    return pipeline.province_result(data_dir, province, as_of, cache_dir=default_cache_dir())
