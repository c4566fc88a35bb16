"""HTML pieces of the report pages: headings, paragraphs, key figures, label/value lists.

Every string that comes from data is escaped (``html.escape``).  Element ids are made stable
and safe by :func:`element_id`; values are shown by :func:`format_value`; JSON embedded in a
page goes through :func:`json_for_script`, the one escaping for a ``<script>`` element (``<``,
``>``, ``&``, U+2028 and U+2029 become ``\\uXXXX`` so ``</script>`` in data cannot break out).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from evalkit.errors import PublishError, param_message

__all__ = [
    "ReportError",
    "definition_list",
    "element_id",
    "format_value",
    "heading",
    "json_for_script",
    "key_figures",
    "paragraph",
    "percent",
    "show",
]


class ReportError(PublishError, ValueError):
    """A display helper of the report notebooks was given a bad argument."""


def show(fragment: str) -> None:
    """Display an HTML fragment as the cell's output (``text/html``)."""
    from IPython.display import HTML, display

    display(HTML(fragment))


_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def element_id(text: str) -> str:
    """``text`` as a stable element id: runs of characters other than ``A-Za-z0-9_-`` become
    ``-`` (``x`` when nothing is left)."""
    return _ID_SAFE.sub("-", str(text)).strip("-") or "x"


def heading(text: str, level: int = 2, *, anchor: str | None = None) -> str:
    """An escaped heading; ``anchor`` gives it the stable id ``sec-<anchor>``."""
    if level not in (1, 2, 3, 4):
        raise ReportError(param_message("level", "heading", "in 1..4", repr(level)))
    ident = f' id="sec-{element_id(anchor)}"' if anchor else ""  # prefixed: never a table's id
    return f"<h{level}{ident}>{html.escape(str(text))}</h{level}>"


def paragraph(text: str, *, css: str = "") -> str:
    """An escaped paragraph."""
    cls = f' class="{html.escape(css, quote=True)}"' if css else ""
    return f"<p{cls}>{html.escape(str(text))}</p>"


def percent(values: pd.Series) -> pd.Series:
    """Shares (0-1) as a page shows them: ``17.6%``, ``–`` when missing."""
    return values.map(lambda v: "–" if pd.isna(v) else f"{float(v):.1%}").astype("str")


def format_value(value: Any) -> str:
    """A value as a page shows it: ``–`` when missing, floats to three decimals (thousands
    separated, none from 1000 on), timestamps as ``YYYY-MM-DD``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return "–" if pd.isna(value) else value.strftime("%Y-%m-%d")
    return str(value)


def key_figures(items: Iterable[tuple[str, Any]]) -> str:
    """A row of boxes, each a large value with a label under it."""
    boxes = "".join(
        f'<div class="ek-figure"><div class="ek-value">{html.escape(format_value(v))}</div>'
        f'<div class="ek-label">{html.escape(str(label))}</div></div>'
        for label, v in items
    )
    return f'<div class="ek-figures">{boxes}</div>'


def definition_list(items: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of label/value pairs (escaped)."""
    rows = "".join(
        f'<tr><th scope="row">{html.escape(str(k))}</th><td>{html.escape(format_value(v))}</td></tr>' for k, v in items
    )
    return f'<table class="ek-table ek-dl"><tbody>{rows}</tbody></table>'


def json_for_script(obj: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )

