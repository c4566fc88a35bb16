"""HTML tables of the statistics' result objects (their ``_repr_html_`` in JupyterLab)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

__all__ = ["html_table"]


def _cell(v: object) -> str:
    if isinstance(v, (float, np.floating)):
        return "NaN" if np.isnan(v) else f"{float(v):.6g}"
    return html.escape(str(v))


def html_table(title: str, rows: list[dict[str, Any]]) -> str:
    """A titled HTML table of ``rows`` (one dict per row, the keys of the first as header);
    floats shown with 6 significant digits, every text escaped."""
    if not rows:
        return f"<p><b>{html.escape(title)}</b>: (empty)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in r.values()) + "</tr>" for r in rows
    )
    return (
        f"<div><b>{html.escape(title)}</b><table class='evalkit-stats'>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )
