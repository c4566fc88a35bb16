"""The shared files of a published set: the one plotly.js every page loads.

A set ships the smallest plotly.js that draws its charts: the partial bundle
:data:`PLOTLY_BASIC` when every chart's trace types are in :data:`BASIC_TRACES` (charts made by
:func:`evalkit.publish.charts.figure` say which they draw), else plotly.py's full bundle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from evalkit import resources

__all__ = ["BASIC_TRACES", "PLOTLY_ASSET", "PLOTLY_BASIC", "SHARED_ASSETS", "chart_traces", "plotly_bundle",
           "write_assets"]

#: Where a set keeps its plotly.js, relative to the set.
PLOTLY_ASSET = "assets/plotly.min.js"
#: The style and script of evalkit's pages, written beside it for the pages that link them.
SHARED_ASSETS = ("report.css", "report.js", "apps.js")
#: The partial plotly.js bundle a published set ships when its charts need nothing else (npm
#: ``plotly.js-basic-dist-min``, MIT, the version plotly.py writes figures for): bar, scatter
#: and pie in 1.2 MB instead of 4.8 MB, and quicker to start, so a page is interactive sooner.
PLOTLY_BASIC = resources.assets_dir() / "plotly-basic.min.js"
#: Trace types the basic bundle draws.
BASIC_TRACES = frozenset({"bar", "scatter", "pie"})
_CHART_DIV = re.compile(r'<div\b[^>]*\bclass="plotly-graph-div"[^>]*>')
_TRACES_ATTR = re.compile(r'\bdata-traces="([^"]*)"')


def _plotly_version(text: str) -> str | None:
    m = re.search(r"plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)", text[:400])
    return m.group(1) if m else None


def chart_traces(pages: Iterable[str | Path]) -> set[str] | None:
    """Trace types the charts of these HTML pages draw; ``None`` when a chart does not say.

    Charts made by :func:`evalkit.publish.charts.figure` carry ``data-traces="bar scatter"``; a
    chart made otherwise (e.g. ``fig.show()`` in a custom notebook) is unknown.
    """
    kinds: set[str] = set()
    for page in pages:  # the pages of one set
        for div in _CHART_DIV.findall(Path(page).read_text(encoding="utf-8", errors="replace")):
            m = _TRACES_ATTR.search(div)
            if m is None:
                return None
            kinds.update(m.group(1).split())
    return kinds


def plotly_bundle(traces: set[str] | None = None) -> str:
    """The plotly.js a published set ships.

    Parameters
    ----------
    traces : set of str, optional
        Trace types its charts draw (:func:`chart_traces`); ``None`` when unknown.

    Returns
    -------
    str
        The basic bundle (:data:`PLOTLY_BASIC`) when every trace is in :data:`BASIC_TRACES`
        and the bundle is of the plotly.js version plotly.py writes figures for; else
        plotly.py's full bundle.
    """
    from plotly.offline import get_plotlyjs

    full = get_plotlyjs()
    if traces is None or not traces <= BASIC_TRACES:
        return full
    try:
        basic = PLOTLY_BASIC.read_text(encoding="utf-8")
    except OSError:
        return full
    version = _plotly_version(basic)
    return basic if version is not None and version == _plotly_version(full) else full


def write_assets(staging: Path, traces: set[str] | None = None) -> None:
    """Write the set's plotly.js (:func:`plotly_bundle` for ``traces``) into ``staging``, and the
    page style and scripts the province's app viewers share (:data:`SHARED_ASSETS`: linked, not
    inlined; ``apps.js`` renders an app's details from its data file)."""
    path = staging / PLOTLY_ASSET
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plotly_bundle(traces), encoding="utf-8")
    for name in SHARED_ASSETS:  # report.css, report.js, apps.js
        (path.parent / name).write_bytes((resources.assets_dir() / name).read_bytes())
