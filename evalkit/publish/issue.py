"""The issue block of a province report: who issues it, draft or final, the date, the data fingerprint.

The officer who signs a list prints the report (issue 15). The printed pages must say who issues
it, whether it is the published list or a draft, its date, and a fingerprint to sign against.
:func:`issue_block` gives that block: at the top of the page in print only, and as the page's
footer (screen and print).

* **Issuing authority**: :func:`evalkit.authority.issuing_authority` (the profile's
  ``authority``, else the usual name of the province's education department).
* **Status**: "final" for a report rendered by ``evalkit publish`` (it has the published set's
  folder, ``out_dir``), "draft" for a notebook run on its own (a preview before the notice).
* **Data fingerprint**: the SHA-256 of the province's provenance (its bytes from
  :func:`evalkit.data.exports.json_bytes`) *without* its ``register_cycle`` entry, which names
  the register cycle recorded after the report is rendered: ``provenance.json`` with that one
  key removed and written again gives the same digits.  Provenance holds the hashes of every
  input file, the rubric and the profile, so the fingerprint changes with any of them.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any

from evalkit.authority import default_authority, issuing_authority
from evalkit.data import exports
from evalkit.i18n import t

__all__ = ["STATUSES", "data_fingerprint", "default_authority", "issue_block", "issuing_authority"]

STATUSES = ("draft", "final")


def data_fingerprint(provenance: dict[str, Any]) -> str:
    """SHA-256 (hex) of ``provenance.json`` as :func:`evalkit.data.exports.write_json` writes it."""
    return hashlib.sha256(exports.json_bytes(provenance)).hexdigest()


def issue_block(result: Any, lang: str = "zh", *, final: bool, where: str = "footer") -> str:
    """The issue block of a province report (:class:`~evalkit.evaluate.province.ProvinceResult`).

    ``where="header"``: the block at the top of the page, printed only (class
    ``ek-print-only``); ``"footer"``: the page's footer, on screen and in print.
    """
    status = "final" if final else "draft"
    items = [
        (t("issuing_authority", lang), issuing_authority(result, lang)),
        (t("issue_status", lang), t(f"issue_status_{status}", lang)),
        (t("issue_date", lang), result.as_of.strftime("%Y-%m-%d")),
        (t("data_fingerprint", lang), data_fingerprint(result.provenance)),
    ]
    rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items)
    note = html.escape(t("data_fingerprint_note", lang))
    tag, css = ("header", "ek-issue ek-print-only") if where == "header" else ("footer", "ek-issue")
    return (f'<{tag} class="{css}" data-status="{status}"><dl>{rows}</dl>'
            f'<p class="ek-muted">{note}</p></{tag}>')
