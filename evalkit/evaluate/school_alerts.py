"""Withdrawal alerts (issue 18): schools still using an app this cycle withdrew.

An alert is raised for every school whose selection of an app is in use (not withdrawn) when,
in this cycle, the app was opted out of the list (``app_opted_out``: listed before, not now),
excluded (``app_excluded``: excluded now and not in the previous cycle; in a first cycle every
excluded app), or its provider turned grey or black (``provider_grey``, ``provider_black``: a
status transition recorded on this ``as_of``).  Its ``since`` is the cycle's date and
``withdraw_by`` that date plus the profile's ``withdraw_within_working_days`` working days
(:func:`evalkit.evaluate.credit_context.add_working_days`).

A later cycle carries the previous cycle's alerts that were still open (or late and the app
still in use), read from the register, and marks each: ``resolved`` (the selection was withdrawn
by ``withdraw_by``), ``late`` (withdrawn after it, or still in use past it) or ``open``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evalkit.evaluate.credit_context import add_working_days

__all__ = ["ALERT_COLUMNS", "alerts"]

#: The columns of an alert (also the register's ``school_alerts``).
ALERT_COLUMNS = ["school_id", "app_id", "alert", "since", "withdraw_by", "status", "withdrawn_on"]


def _triggers(decisions: pd.DataFrame, history: pd.DataFrame, day: pd.Timestamp,
              previous: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(app_id, alert) and (provider_id, alert) of this cycle's withdrawals."""
    dec = decisions.drop_duplicates("app_id")
    status = dec["status"].astype("str")
    before = pd.Series("", index=dec.index, dtype="str")
    if previous is not None and {"app_id", "status"} <= set(previous.columns):
        prev = previous.drop_duplicates("app_id").set_index("app_id")["status"].astype("str")
        before = dec["app_id"].map(prev).fillna("").astype("str")
    change = dec["change"].astype("str") if "change" in dec else pd.Series("", index=dec.index)
    excluded = status.eq("excluded") & before.ne("excluded")
    opted = change.eq("opted_out") & ~status.eq("excluded")
    apps = pd.concat([dec.loc[opted, ["app_id"]].assign(alert="app_opted_out"),
                      dec.loc[excluded, ["app_id"]].assign(alert="app_excluded")], ignore_index=True)
    providers = pd.DataFrame({"provider_id": pd.Series([], dtype="str"), "alert": pd.Series([], dtype="str")})
    if history is not None and len(history) and {"provider_id", "to", "recorded_on"} <= set(history.columns):
        recorded = pd.to_datetime(history["recorded_on"].replace("", None), errors="coerce")
        now = history.loc[recorded.eq(day).to_numpy(bool) & history["to"].isin(["grey", "black"]).to_numpy(bool)]
        providers = now[["provider_id"]].assign(alert="provider_" + now["to"].astype("str")).drop_duplicates()
    return apps, providers


def _withdrawn(sel: pd.DataFrame) -> pd.DataFrame:
    """Per (school_id, app_id): the day its selections were withdrawn (NaT while one is in use)."""
    g = sel.assign(_use=sel["in_use"].to_numpy(bool)).groupby(["school_id", "app_id"], sort=False)
    out = g.agg(_use=("_use", "any"), withdrawn_on=("withdrawn_on", "max")).reset_index()
    out.loc[out["_use"].to_numpy(bool), "withdrawn_on"] = pd.NaT
    return out.drop(columns="_use")


def _mark(frame: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """resolved / late / open of alerts with ``withdraw_by`` and ``withdrawn_on`` (dates)."""
    by, gone = pd.to_datetime(frame["withdraw_by"]), pd.to_datetime(frame["withdrawn_on"])
    status = np.where(gone.notna(), np.where(gone <= by, "resolved", "late"), np.where(day > by, "late", "open"))
    return pd.Series(status, index=frame.index, dtype="str")


def alerts(sel: pd.DataFrame, as_of: pd.Timestamp, withdraw_days: int, decisions: pd.DataFrame,
           history: pd.DataFrame, previous_decisions: pd.DataFrame | None = None,
           previous_alerts: pd.DataFrame | None = None) -> pd.DataFrame:
    """This cycle's alerts (:data:`ALERT_COLUMNS`; dates as ``datetime64``), new and carried.

    ``sel``: the province's selections with ``provider_id`` and ``in_use``; ``previous_alerts``:
    the register's alerts of the previous cycle (text dates), or None.
    """
    day = pd.Timestamp(as_of).normalize()
    apps, providers = _triggers(decisions, history, day, previous_decisions)
    use = sel.loc[sel["in_use"].to_numpy(bool), ["school_id", "app_id", "provider_id"]]
    new = pd.concat([use.merge(apps, on="app_id"), use.merge(providers, on="provider_id")], ignore_index=True)
    new = new[["school_id", "app_id", "alert"]].drop_duplicates().assign(since=day)
    new["withdraw_by"] = pd.Series(add_working_days(day, withdraw_days)[0], index=new.index, dtype="datetime64[us]")
    carried = _carried(previous_alerts)
    if len(carried):
        key = ["school_id", "app_id", "alert"]
        seen = new[key].merge(carried[key], on=key, how="left", indicator=True)["_merge"].eq("both").to_numpy()
        new = new.loc[~seen]
    out = pd.concat([carried, new], ignore_index=True) if len(carried) else new.reset_index(drop=True)
    gone = _withdrawn(sel)
    out = out.drop(columns="withdrawn_on", errors="ignore").merge(gone, on=["school_id", "app_id"], how="left")
    for c in ("since", "withdraw_by", "withdrawn_on"):
        if out[c].dtype != "datetime64[us]":
            out[c] = pd.to_datetime(out[c]).astype("datetime64[us]")
    out["status"] = _mark(out, day)
    out = out.sort_values(["school_id", "app_id", "alert"], kind="stable").reset_index(drop=True)
    return out[ALERT_COLUMNS]


def _carried(previous: pd.DataFrame | None) -> pd.DataFrame:
    """The previous cycle's alerts still to follow: open, or late with the app still in use."""
    if previous is None or not len(previous) or not set(ALERT_COLUMNS) <= set(previous.columns):
        return pd.DataFrame(columns=ALERT_COLUMNS)
    prev = previous[ALERT_COLUMNS].copy()
    still = prev["status"].eq("open") | (prev["status"].eq("late") & prev["withdrawn_on"].fillna("").eq(""))
    prev = prev.loc[still.to_numpy(bool)].reset_index(drop=True)
    for c in ("since", "withdraw_by"):
        prev[c] = pd.to_datetime(prev[c].replace("", None), errors="coerce")
    return prev.drop(columns=["status"])
