"""Objections to a public notice and their re-checks, applied to a province's next list.

After a public notice (``evalkit notice``, docs/due-process.md) the province's list takes the
objections received (``objections``) and the re-check decisions (``rechecks``) into account:

* **pending** — an objection without a re-check decided on or before ``as_of``: its app is put
  ``on_hold`` (reason ``objection_pending``) and not listed.  A pending objection is never
  forgotten: an app on hold in the previous recorded cycle stays on hold, even if its objection
  row left the input, until a re-check of it is decided;
* **upheld** or **partly upheld**, from a third party (anyone but the provider) — the app is
  removed from the list (``excluded``, reason ``objection_upheld:<grounds>``);
* **upheld** or **partly upheld**, from the provider — the app is re-evaluated on the evidence
  added for the re-check: the run's own evaluation (the evidence dated up to ``as_of``) decides;
* **rejected** — the decision stands as the evaluation makes it;
* **not admitted** — an objection received after the public notice it names ended, or naming a
  notice the register does not hold, with no re-check decided: it does not hold its app (the
  notice said late objections are not admitted); a re-check row decides it all the same.  Checked
  only when the register holds notices of the province (one run outside evalkit is not judged).

An app with several objections takes the strongest: pending, then a third party's upheld
objection, then partly upheld, then the provider's, then rejected.  Only objections received
since the province's last published list (or still pending) count, so an objection decided for
one list does not follow the app forever.

Everything here is one vectorised pass over the province's objections (a few rows); the text
and contact of an objection are personal data and never leave this module: the frames it
returns hold codes, dates and ids only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["OBJECTION_STATES", "OUTCOME_COLUMNS", "apply_to_decisions", "mark_candidates", "objection_outcomes"]

#: The values of ``decisions.objection``.
OBJECTION_STATES = ("none", "pending", "upheld", "partly_upheld", "rejected", "not_admitted")
#: Columns of a province's objection outcomes (no personal data).
OUTCOME_COLUMNS = ["objection_id", "app_id", "notice_date", "received_on", "from_kind", "grounds", "outcome",
                   "decided_on", "action"]
#: Strength of an objection's effect on its app (the strongest wins).
_STRENGTH = {"hold": 4, "remove": 3, "reevaluate": 2, "none": 1}


def objection_outcomes(ds: Any, code: str, as_of: pd.Timestamp, since: str | None = None,
                       held_before: pd.Series | None = None, notices: Mapping[str, str] | None = None
                       ) -> pd.DataFrame:  # fmt: skip
    """Every objection of province ``code`` that bears on the list of ``as_of``, with its outcome.

    Parameters
    ----------
    ds : the dataset (``objections`` and ``rechecks`` tables; absent tables are empty).
    code, as_of : the province and the list's date.
    since : the date of the province's last recorded list (``YYYY-MM-DD``); objections received
        on or before it were decided for that list and no longer count, unless still pending.
    held_before : app ids on hold (a pending objection) in the previous recorded cycle.
    notices : the province's recorded public notices, ``{as_of: ends_on}`` (``YYYY-MM-DD``);
        None: objections are not checked against them.

    Returns
    -------
    DataFrame with :data:`OUTCOME_COLUMNS`: ``outcome`` one of pending/upheld/partly_upheld/rejected/
    not_admitted, ``action`` hold/remove/reevaluate/none; a row ``objection_id = "register"`` for an app kept on
    hold from the register whose objection is no longer in the input.
    """
    tables = getattr(ds, "tables", {})
    obj = tables.get("objections")
    rc = tables.get("rechecks")
    if obj is None or obj.empty:
        obj = pd.DataFrame(columns=["objection_id", "province_code", "app_id", "notice_date", "received_on",
                                    "from_kind", "grounds"])
    obj = obj.loc[obj["province_code"].astype(str).eq(str(code))
                  & (pd.to_datetime(obj["received_on"]) <= as_of).to_numpy()]
    out = obj[["objection_id", "app_id", "notice_date", "received_on", "from_kind", "grounds"]].astype(
        {"objection_id": "str", "app_id": "str", "from_kind": "str", "grounds": "str"})
    out = out.reset_index(drop=True)
    decided = pd.DataFrame(columns=["objection_id", "outcome", "decided_on"]) if rc is None or rc.empty else rc
    decided = decided.loc[pd.to_datetime(decided["decided_on"]) <= as_of, ["objection_id", "outcome", "decided_on"]]
    out = out.merge(decided.astype({"objection_id": "str"}), on="objection_id", how="left")
    out["outcome"] = out["outcome"].astype(object).where(out["outcome"].notna(), "pending").astype("str")
    if notices is not None:  # late, or to no notice held: not admitted unless a re-check decided it
        ends = pd.to_datetime(pd.to_datetime(out["notice_date"]).dt.strftime("%Y-%m-%d").map(notices))
        late = (ends.isna() | (pd.to_datetime(out["received_on"]) > ends)).to_numpy()
        out.loc[late & out["outcome"].eq("pending").to_numpy(), "outcome"] = "not_admitted"
    in_input = set(out["app_id"])
    if since is not None:
        old = pd.to_datetime(out["received_on"]) <= pd.Timestamp(since)
        out = out.loc[~old.to_numpy() | out["outcome"].eq("pending").to_numpy()]
    out = _from_register(out, held_before, in_input)
    third = out["from_kind"].ne("provider")
    upheld = out["outcome"].isin(("upheld", "partly_upheld"))
    out["action"] = np.select([out["outcome"].eq("pending"), upheld & third, upheld], ["hold", "remove", "reevaluate"],
                              "none")
    for col in ("notice_date", "received_on", "decided_on"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d").fillna("")
    return out[OUTCOME_COLUMNS].sort_values(["app_id", "objection_id"], kind="stable").reset_index(drop=True)


def _from_register(out: pd.DataFrame, held_before: pd.Series | None, in_input: set[str]) -> pd.DataFrame:
    """Add a pending row for every app on hold before that has no objection in the input any
    more (an app with objections in the input is decided by them: their re-checks lift it)."""
    if held_before is None or not len(held_before):
        return out
    lost = sorted(set(map(str, held_before)) - in_input)
    if not lost:
        return out
    kept = pd.DataFrame({"objection_id": "register", "app_id": lost, "notice_date": pd.NaT, "received_on": pd.NaT,
                         "from_kind": "other", "grounds": "other", "outcome": "pending", "decided_on": pd.NaT})
    return pd.concat([out, kept], ignore_index=True)


def _per_app(outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per app: its strongest action, the outcome and grounds behind it."""
    if outcomes.empty:
        return pd.DataFrame(columns=["app_id", "action", "outcome", "grounds"])
    o = outcomes.assign(_s=outcomes["action"].map(_STRENGTH))
    o = o.sort_values(["app_id", "_s", "objection_id"], ascending=[True, False, True], kind="stable")
    return o.drop_duplicates("app_id")[["app_id", "action", "outcome", "grounds"]].reset_index(drop=True)


def mark_candidates(cand: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """``cand`` with an excluding reason code for each app on hold (``objection_pending``) or
    removed (``objection_upheld:<grounds>``), so the list procedure never selects them."""
    per = _per_app(outcomes)
    if per.empty:
        return cand
    per = per.set_index("app_id")
    action = cand["app_id"].astype("str").map(per["action"]).fillna("none")
    grounds = cand["app_id"].astype("str").map(per["grounds"]).fillna("")
    code = np.select([action.eq("hold"), action.eq("remove")],
                     ["objection_pending", "objection_upheld:" + grounds.astype("str")], "")
    out = cand.copy()
    base = out["reasons"].astype("str").fillna("") if "reasons" in out else pd.Series("", index=out.index)
    add = pd.Series(code, index=out.index)
    out["reasons"] = np.where(add.eq(""), base, np.where(base.eq(""), add, base + ";" + add))
    return out


def apply_to_decisions(dec: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """``dec`` with ``objection`` (:data:`OBJECTION_STATES`) and status ``on_hold`` for the apps
    with a pending objection."""
    per = _per_app(outcomes).set_index("app_id") if not outcomes.empty else None
    out = dec.copy()
    if per is None:
        out["objection"] = "none"
        return out
    state = out["app_id"].astype("str").map(per["outcome"]).fillna("none").astype("str")
    out["objection"] = state
    out["status"] = out["status"].astype("str").mask(state.eq("pending"), "on_hold")
    return out


def summary_counts(outcomes: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Counts of the objections by grounds, by source and by outcome (for the report)."""
    real = outcomes.loc[outcomes["objection_id"].ne("register")]
    return {col: {str(k): int(v) for k, v in real[col].value_counts().sort_index().items()}
            for col in ("grounds", "from_kind", "outcome")}
