"""Changes since the previous published list: added, kept and opted out (section (16), the exit mechanism).

:func:`diff_with_previous` compares a province's decisions with its previous published
``decisions.csv``: every app recommended now or before is ``added``, ``kept`` or
``opted_out``, the last with a reason of :data:`CHANGE_REASONS` (``failed_reevaluation``,
``blacklisted``, ``greylisted``, ``assessment_expired``, ``withdrawn``; words in
:data:`evalkit.evaluate.reasons.REASONS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, param_message
from evalkit.evaluate.reasons import has_code_prefix

__all__ = ["CHANGE_REASONS", "ChangesError", "diff_with_previous"]

CHANGE_REASONS = ("failed_reevaluation", "blacklisted", "greylisted", "assessment_expired", "withdrawn")


class ChangesError(EvalkitError, ValueError):
    """An invalid argument of :func:`diff_with_previous` (also a :class:`ValueError`)."""


def _unneutralise(s: pd.Series) -> pd.Series:
    """Undo the export's formula neutralisation of a text cell read back from a CSV."""
    return s.astype("str").fillna("").str.replace(r"^'(?=[\t\r]|\s*[=+\-@])", "", regex=True)


def diff_with_previous(decisions: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Compare a province's decisions with the previous published list.

    Parameters
    ----------
    decisions : DataFrame
        This run's decisions (``app_id``, ``app_name``, ``status``, ``reasons``).
    previous : DataFrame or None
        The previous run's ``decisions.csv`` (at least ``app_id`` and ``status``; ``app_name``
        is used for apps no longer submitted).  ``None`` = no previous list: everything
        recommended is ``added``.

    Returns
    -------
    DataFrame
        ``app_id, app_name, change, reason`` for every app recommended now or before:
        ``added``/``kept`` (reason empty) or ``opted_out`` with ``failed_reevaluation``,
        ``blacklisted``, ``assessment_expired`` or ``withdrawn``; sorted by change then app id.
    """
    for name, frame in (("decisions", decisions), ("previous", previous)):
        if frame is None:
            continue
        if not isinstance(frame, pd.DataFrame) or not {"app_id", "status"} <= set(frame.columns):
            raise ChangesError(param_message(name, "diff_with_previous",
                                             "a DataFrame with 'app_id' and 'status' columns",
                                             type(frame).__name__))
    cur = decisions.copy()
    cur["app_id"] = cur["app_id"].astype("str")
    now = cur.loc[cur["status"].eq("recommended"), "app_id"]
    if previous is None:
        before = pd.Series([], dtype="str")
        prev = pd.DataFrame({"app_id": pd.Series([], dtype="str"), "app_name": pd.Series([], dtype="str")})
    else:
        prev = previous.copy()
        prev["app_id"] = prev["app_id"].astype("str")
        if "app_name" not in prev.columns:
            prev["app_name"] = ""
        prev["app_name"] = _unneutralise(prev["app_name"])
        before = prev.loc[prev["status"].astype("str").eq("recommended"), "app_id"]
    ids = pd.Index(sorted(set(now) | set(before)), dtype="str")
    out = pd.DataFrame({"app_id": ids})
    in_now = out["app_id"].isin(set(now))
    in_before = out["app_id"].isin(set(before))
    out["change"] = np.where(in_now & in_before, "kept", np.where(in_now, "added", "opted_out"))
    cur_i = cur.drop_duplicates("app_id").set_index("app_id")
    names_now = cur_i["app_name"].astype("str") if "app_name" in cur_i.columns else pd.Series(dtype="str")
    names_prev = prev.drop_duplicates("app_id").set_index("app_id")["app_name"].astype("str")
    out["app_name"] = out["app_id"].map(names_now).fillna(out["app_id"].map(names_prev)).fillna("")
    r = out["app_id"].map(cur_i["reasons"].astype("str") if "reasons" in cur_i.columns else pd.Series(dtype="str"))
    present = out["app_id"].isin(set(cur_i.index))
    r = r.fillna("")
    blacklisted = has_code_prefix(r, {"provider_blacklisted"})
    greylisted = has_code_prefix(r, {"provider_greylisted"})
    expired = has_code_prefix(r, {"stale_assessment"}) | r.str.contains(
        r"(?:^|;)veto:L04_mlps_evaluation_current(?:;|$)", regex=True
    )
    reason = np.select(
        [~present, blacklisted, greylisted, expired],
        ["withdrawn", "blacklisted", "greylisted", "assessment_expired"],
        default="failed_reevaluation",
    )
    out["reason"] = np.where(out["change"].eq("opted_out"), reason, "")
    out = out.astype({"app_id": "str", "app_name": "str", "change": "str", "reason": "str"})
    return out.sort_values(["change", "app_id"], kind="stable").reset_index(drop=True)[
        ["app_id", "app_name", "change", "reason"]
    ]
