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

The alerts are found on the integer codes of :mod:`evalkit.evaluate.school_prep` (a school code
and an app key per selection, a provider code per app): no string is merged or grouped per row;
the texts are taken from the national Arrow arrays once the alerts are known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.evaluate.credit_context import add_working_days

__all__ = ["ALERT_COLUMNS", "KINDS", "STATUSES", "Alerts", "alerts"]

#: The columns of an alert (also the register's ``school_alerts``).
ALERT_COLUMNS = ["school_id", "app_id", "alert", "since", "withdraw_by", "status", "withdrawn_on"]
#: The kinds of alert (in the order of their names) and the statuses.
KINDS = ("app_excluded", "app_opted_out", "provider_black", "provider_grey")
STATUSES = ("open", "resolved", "late")
_NAT = np.datetime64("NaT", "us")


@dataclass(frozen=True)
class Alerts:
    """A province's alerts: ``frame`` (:data:`ALERT_COLUMNS`, ordered by school, app and alert)
    and, row by row, the national school code and app key (−1: a carried alert of a school or
    app no longer in the data) and the status (a position in :data:`STATUSES`)."""

    frame: pd.DataFrame
    school: np.ndarray
    key: np.ndarray
    status: np.ndarray


def _per_key(prep: Any, frame: pd.DataFrame, hit: pd.Series) -> np.ndarray:
    """Whether each app key of ``prep.keys`` is one of ``frame``'s ``app_id`` where ``hit``."""
    out = np.zeros(len(prep.keys), dtype=bool)
    at = prep.keys.get_indexer(frame.loc[hit.to_numpy(bool), "app_id"].astype("str").to_numpy(dtype=object))
    out[at[at >= 0]] = True
    return out


def _per_provider(prep: Any, providers: pd.Series) -> np.ndarray:
    """Whether each provider code of ``prep.provider_ids`` is one of ``providers``."""
    out = np.zeros(len(prep.provider_ids), dtype=bool)
    at = prep.provider_ids.get_indexer(pd.unique(providers.astype("str").to_numpy(dtype=object)))
    out[at[at >= 0]] = True
    return out


def _triggers(
    prep: Any, decisions: pd.DataFrame, history: pd.DataFrame | None, day: pd.Timestamp, previous: pd.DataFrame | None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """This cycle's withdrawals: per kind of :data:`KINDS`, whether each app key (the app kinds)
    or each provider code (the provider kinds) triggers it."""
    dec = decisions.drop_duplicates("app_id")
    status = dec["status"].astype("str")
    before = pd.Series("", index=dec.index, dtype="str")
    if previous is not None and {"app_id", "status"} <= set(previous.columns):
        prev = previous.drop_duplicates("app_id").set_index("app_id")["status"].astype("str")
        before = dec["app_id"].map(prev).fillna("").astype("str")
    change = dec["change"].astype("str") if "change" in dec else pd.Series("", index=dec.index)
    apps = [
        _per_key(prep, dec, status.eq("excluded") & before.ne("excluded")),
        _per_key(prep, dec, change.eq("opted_out") & ~status.eq("excluded")),
    ]
    providers = [np.zeros(len(prep.provider_ids), dtype=bool) for _ in ("black", "grey")]
    if history is not None and len(history) and {"provider_id", "to", "recorded_on"} <= set(history.columns):
        recorded = pd.to_datetime(history["recorded_on"].replace("", None), errors="coerce")
        now = history.loc[recorded.eq(day).to_numpy(bool)]
        providers = [
            _per_provider(prep, now.loc[now["to"].eq(to).to_numpy(bool), "provider_id"]) for to in ("black", "grey")
        ]
    return apps, providers


def _withdrawn(rows: dict[str, np.ndarray], school: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Per alert (``school``, ``key``): the day the school's selections of the app were withdrawn
    (NaT while one is in use, or none is among ``rows``) — one sort of the (school, app) pairs."""
    if not len(school):
        return np.zeros(0, dtype="datetime64[us]")
    pairs = rows["school"].astype(np.int64) * (rows["n_keys"] + 1) + rows["key"] + 1
    order = np.argsort(pairs, kind="stable")
    values, starts = np.unique(pairs[order], return_index=True)
    if not len(values):
        return np.full(len(school), np.datetime64("NaT"), dtype="datetime64[us]")
    in_use = np.logical_or.reduceat(rows["in_use"][order], starts)
    last = np.maximum.reduceat(rows["withdrawn"][order].view(np.int64), starts)  # NaT is the least
    want = school.astype(np.int64) * (rows["n_keys"] + 1) + key + 1
    at = np.minimum(np.searchsorted(values, want), len(values) - 1)
    ok = (values[at] == want) & ~in_use[at] & (school >= 0) & (key >= 0)
    return np.where(ok, last[at], _NAT.view(np.int64)).view("datetime64[us]")


def _mark(by: np.ndarray, gone: np.ndarray, day: np.datetime64) -> np.ndarray:
    """resolved / late / open (positions in :data:`STATUSES`) of alerts due ``by``, withdrawn ``gone``."""
    closed = np.where(gone <= by, 1, 2)
    return np.where(~np.isnat(gone), closed, np.where(day > by, 2, 0)).astype(np.int64)


def _new(
    rows: dict[str, np.ndarray], apps: list[np.ndarray], providers: list[np.ndarray], app_provider: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(school code, app key, kind) of every selection in use that a withdrawal hits, each once."""
    use = rows["in_use"]
    school, key, app = rows["school"][use], rows["key"][use], rows["app"][use]
    provider = np.where(app >= 0, app_provider[np.maximum(app, 0)] if len(app_provider) else -1, -1)
    hits = [hit[key] & (key >= 0) for hit in apps]
    hits += [
        (provider >= 0) & hit[np.maximum(provider, 0)] if len(hit) else np.zeros(len(key), dtype=bool)
        for hit in providers
    ]
    s = np.concatenate([school[h] for h in hits]).astype(np.int64)
    k = np.concatenate([key[h] for h in hits]).astype(np.int64)
    kind = np.concatenate([np.full(int(h.sum()), i, dtype=np.int64) for i, h in enumerate(hits)])
    triple = pd.unique(_triple(s, k, kind, rows["n_keys"]))  # each once (hashed; they are ordered later)
    pair, kind = np.divmod(triple, len(KINDS) + 1)
    school, key = np.divmod(pair, rows["n_keys"] + 1)
    return school, key - 1, kind - 1


def alerts(
    prep: Any,
    rows: dict[str, np.ndarray],
    as_of: pd.Timestamp,
    withdraw_days: int,
    decisions: pd.DataFrame,
    history: pd.DataFrame | None,
    previous_decisions: pd.DataFrame | None = None,
    previous_alerts: pd.DataFrame | None = None,
) -> Alerts:
    """This cycle's alerts (dates as ``datetime64[us]``), new and carried.

    ``prep``: the :class:`~evalkit.evaluate.school_prep.Prepared` arrays; ``rows``: the province's
    selections that may carry an alert (``school``, ``key``, ``app``, ``in_use``, ``withdrawn``
    arrays and ``n_keys``); ``previous_alerts``: the register's alerts of the previous cycle
    (text dates), or None.
    """
    day = pd.Timestamp(as_of).normalize()
    apps, providers = _triggers(prep, decisions, history, day, previous_decisions)
    school, key, kind = _new(rows, apps, providers, prep.app_provider)
    carried = _carried(previous_alerts)
    c_school = prep.school_ids.get_indexer(carried["school_id"].astype("str").to_numpy(dtype=object))
    c_key = prep.keys.get_indexer(carried["app_id"].astype("str").to_numpy(dtype=object))
    c_kind = pd.Index(KINDS).get_indexer(carried["alert"].astype("str").to_numpy(dtype=object))
    if len(carried):  # a new alert the register already carries is the carried one
        seen = np.isin(_triple(school, key, kind, rows["n_keys"]), _triple(c_school, c_key, c_kind, rows["n_keys"]))
        school, key, kind = school[~seen], key[~seen], kind[~seen]
    by = np.datetime64(pd.Timestamp(add_working_days(day, withdraw_days)[0]).to_datetime64(), "us")
    since = np.datetime64(day.to_datetime64(), "us")
    new = pd.DataFrame({
        "school_id": prep.school_text["school_id"].take(school), "app_id": prep.key_text.take(key),
        "alert": pd.array(list(KINDS), dtype="str").take(kind),
        "since": np.full(len(school), since), "withdraw_by": np.full(len(school), by),
    })  # fmt: skip
    out = pd.concat([carried.drop(columns="withdrawn_on"), new], ignore_index=True) if len(carried) else new
    school, key, kind = (np.r_[c, x].astype(np.int64) for c, x in ((c_school, school), (c_key, key), (c_kind, kind)))
    for c in ("since", "withdraw_by"):
        if out[c].dtype != "datetime64[us]":
            out[c] = pd.to_datetime(out[c]).astype("datetime64[us]")
    n_carried = len(carried)  # a new alert's selection is in use: not withdrawn
    gone = np.r_[_withdrawn(rows, school[:n_carried], key[:n_carried]), np.full(len(school) - n_carried, _NAT)]
    status = _mark(out["withdraw_by"].to_numpy(), gone, np.datetime64(day.to_datetime64(), "us"))
    out["status"] = pd.array(list(STATUSES), dtype="str").take(status)
    out["withdrawn_on"] = gone
    order = _order(prep, school, key, kind, out)
    return Alerts(out.take(order).reset_index(drop=True)[ALERT_COLUMNS], school[order], key[order], status[order])


def _order(prep: Any, school: np.ndarray, key: np.ndarray, kind: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """The order of the alerts by school, app and alert: by their codes (the schools' ranks, the
    keys and kinds are in the order of their texts) or, when a carried alert names a school, app
    or kind the data no longer has, by the texts of ``frame``."""
    if (school >= 0).all() and (key >= 0).all() and (kind >= 0).all():
        return np.argsort(_triple(prep.school_rank[school], key, kind, len(prep.keys)), kind="stable")
    return frame.sort_values(["school_id", "app_id", "alert"], kind="stable").index.to_numpy()


def _triple(school: np.ndarray, key: np.ndarray, kind: np.ndarray, n_keys: int) -> np.ndarray:
    """One integer per (school, app key, kind)."""
    return (school.astype(np.int64) * (n_keys + 1) + key + 1) * (len(KINDS) + 1) + kind + 1


def _carried(previous: pd.DataFrame | None) -> pd.DataFrame:
    """The previous cycle's alerts still to follow: open, or late with the app still in use."""
    if previous is None or not len(previous) or not set(ALERT_COLUMNS) <= set(previous.columns):
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in ALERT_COLUMNS if c != "status"})
    prev = previous[ALERT_COLUMNS].copy()
    still = prev["status"].eq("open") | (prev["status"].eq("late") & prev["withdrawn_on"].fillna("").eq(""))
    prev = prev.loc[still.to_numpy(bool)].reset_index(drop=True)
    for c in ("since", "withdraw_by"):
        prev[c] = pd.to_datetime(prev[c].replace("", None), errors="coerce")
    return prev.drop(columns=["status"])
