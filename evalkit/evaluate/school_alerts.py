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
by ``withdraw_by``), ``late`` (withdrawn after it, or still in use past it), ``open``, or
``lifted`` (the app is on the province's recommended list again: nothing is left to withdraw).

An app excluded because its provider is grey or black (``provider_greylisted``,
``provider_blacklisted``) raises the provider's alert only, not ``app_excluded`` as well: it
did not fail the review.

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
from evalkit.evaluate.school_prep import per_app

__all__ = ["ALERT_COLUMNS", "KINDS", "STATUSES", "Alerts", "alerts"]

#: The columns of an alert (also the register's ``school_alerts``).
ALERT_COLUMNS = ["school_id", "app_id", "alert", "since", "withdraw_by", "status", "withdrawn_on"]
#: The kinds of alert (in the order of their names) and the statuses.
KINDS = ("app_excluded", "app_opted_out", "provider_black", "provider_grey")
STATUSES = ("open", "resolved", "late", "lifted")
_NAT = np.datetime64("NaT", "us")
_KIND_TEXT = pd.array(list(KINDS), dtype="str")
_STATUS_TEXT = pd.array(list(STATUSES), dtype="str")
#: No alert to carry (read only).
_NO_ALERTS = pd.DataFrame({c: pd.Series([], dtype="str") for c in ALERT_COLUMNS if c != "status"})


@dataclass(frozen=True)
class Alerts:
    """A province's alerts: ``frame`` (:data:`ALERT_COLUMNS`, ordered by school, app and alert)
    and, row by row, the national school code and app key (−1: a carried alert of a school or
    app no longer in the data) and the status (a position in :data:`STATUSES`)."""

    frame: pd.DataFrame
    school: np.ndarray
    key: np.ndarray
    status: np.ndarray


def _per_key(prep: Any, per_app: np.ndarray) -> np.ndarray:
    """A flag per app of ``prep.apps`` as a flag per app key (False for a key not filed)."""
    if not len(prep.apps):
        return np.zeros(len(prep.keys), dtype=bool)
    return (prep.key_app >= 0) & per_app[np.maximum(prep.key_app, 0)]


def _per_provider(prep: Any, providers: pd.Series) -> np.ndarray:
    """Whether each provider code of ``prep.provider_ids`` is one of ``providers``."""
    out = np.zeros(len(prep.provider_ids), dtype=bool)
    at = prep.provider_ids.get_indexer(pd.unique(providers.astype("str").to_numpy(dtype=object)))
    out[at[at >= 0]] = True
    return out


def _triggers(
    prep: Any,
    decided: dict[str, np.ndarray],
    history: pd.DataFrame | None,
    day: pd.Timestamp,
    previous: pd.DataFrame | None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """This cycle's withdrawals: per kind of :data:`KINDS`, whether each app key (the app kinds)
    or each provider code (the provider kinds) triggers it.  ``decided``: each app's ``status``
    and ``change`` (:func:`~evalkit.evaluate.school_prep.per_app`)."""
    status, change = decided["status"], decided["change"]
    before = per_app(prep, previous, ("status",))["status"]
    reasons = pd.Series(decided.get("reasons", np.full(len(status), "", dtype=object)), dtype="str")
    listed_provider = reasons.str.contains(r"(?:^|;)provider_(?:grey|black)listed(?:;|$)").to_numpy(bool)
    apps = [
        _per_key(prep, (status == "excluded") & (before != "excluded") & ~listed_provider),
        _per_key(prep, (change == "opted_out") & (status != "excluded")),
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
    decided: dict[str, np.ndarray],
    history: pd.DataFrame | None,
    previous_decisions: pd.DataFrame | None = None,
    previous_alerts: pd.DataFrame | None = None,
) -> Alerts:
    """This cycle's alerts (dates as ``datetime64[us]``), new and carried.

    ``prep``: the :class:`~evalkit.evaluate.school_prep.Prepared` arrays; ``rows``: the province's
    selections that may carry an alert (``school``, ``key``, ``app``, ``in_use``, ``withdrawn``
    arrays and ``n_keys``); ``decided``: each app's ``status`` and ``change`` this cycle;
    ``previous_alerts``: the register's alerts of the previous cycle (text dates), or None.
    """
    day = pd.Timestamp(as_of).normalize()
    apps, providers = _triggers(prep, decided, history, day, previous_decisions)
    school, key, kind = _new(rows, apps, providers, prep.app_provider)
    carried = _carried(previous_alerts)
    codes = (
        prep.school_ids.get_indexer(carried["school_id"].astype("str").to_numpy(dtype=object)),
        prep.keys.get_indexer(carried["app_id"].astype("str").to_numpy(dtype=object)),
        pd.Index(KINDS).get_indexer(carried["alert"].astype("str").to_numpy(dtype=object)),
    )
    if len(carried):  # a new alert the register already carries is the carried one
        seen = np.isin(_triple(school, key, kind, rows["n_keys"]), _triple(*codes, rows["n_keys"]))
        school, key, kind = school[~seen], key[~seen], kind[~seen]
    text = _texts(prep, carried, school, key, kind)
    n_new = len(school)
    since = np.r_[_us(carried["since"]), np.full(n_new, _us(day))]
    by = np.r_[_us(carried["withdraw_by"]), np.full(n_new, _us(add_working_days(day, withdraw_days)[0]))]
    gone = np.r_[_withdrawn(rows, codes[0], codes[1]), np.full(n_new, _NAT)]  # a new alert's app is in use
    status = _mark(by, gone, _us(day))
    back = _per_key(prep, decided["status"] == "recommended")  # on the list again: the alert is lifted
    again = np.r_[(codes[1] >= 0) & back[np.maximum(codes[1], 0)] if len(back) else np.zeros(len(carried), bool),
                  np.zeros(n_new, dtype=bool)]
    status = np.where(again, STATUSES.index("lifted"), status)
    school, key, kind = (np.r_[c, x].astype(np.int64) for c, x in zip(codes, (school, key, kind), strict=True))
    order = _order(prep, school, key, kind, text)
    frame = pd.DataFrame({
        **{c: v.take(order) for c, v in text.items()}, "since": since[order], "withdraw_by": by[order],
        "status": _STATUS_TEXT.take(status[order]), "withdrawn_on": gone[order],
    })  # fmt: skip
    return Alerts(frame[ALERT_COLUMNS], school[order], key[order], status[order])


def _us(dates: object) -> np.ndarray:
    """Dates (a series, or one date) as ``datetime64[us]``."""
    if isinstance(dates, pd.Series):
        return pd.to_datetime(dates).to_numpy().astype("datetime64[us]")
    return np.datetime64(pd.Timestamp(dates).to_datetime64(), "us")


def _texts(
    prep: Any, carried: pd.DataFrame, school: np.ndarray, key: np.ndarray, kind: np.ndarray
) -> dict[str, pd.api.extensions.ExtensionArray]:
    """The ``school_id``, ``app_id`` and ``alert`` of the carried alerts (as the register has them),
    then of the new ones (taken from the national texts by code)."""
    new = {"school_id": prep.school_text["school_id"].take(school), "app_id": prep.key_text.take(key),
           "alert": _KIND_TEXT.take(kind)}  # fmt: skip
    if not len(carried):
        return new
    return {c: pd.concat([carried[c].astype("str"), pd.Series(v)], ignore_index=True).array for c, v in new.items()}


def _order(
    prep: Any, school: np.ndarray, key: np.ndarray, kind: np.ndarray, text: dict[str, pd.api.extensions.ExtensionArray]
) -> np.ndarray:
    """The order of the alerts by school, app and alert: by their codes (the schools' ranks, the
    keys and kinds are in the order of their texts) or, when a carried alert names a school, app
    or kind the data no longer has, by their ``text``."""
    if (school >= 0).all() and (key >= 0).all() and (kind >= 0).all():
        return np.argsort(_triple(prep.school_rank[school], key, kind, len(prep.keys)), kind="stable")
    return pd.DataFrame(text).sort_values(["school_id", "app_id", "alert"], kind="stable").index.to_numpy()


def _triple(school: np.ndarray, key: np.ndarray, kind: np.ndarray, n_keys: int) -> np.ndarray:
    """One integer per (school, app key, kind)."""
    return (school.astype(np.int64) * (n_keys + 1) + key + 1) * (len(KINDS) + 1) + kind + 1


def _carried(previous: pd.DataFrame | None) -> pd.DataFrame:
    """The previous cycle's alerts still to follow: open, or late with the app still in use."""
    if previous is None or not len(previous) or not set(ALERT_COLUMNS) <= set(previous.columns):
        return _NO_ALERTS
    prev = previous[ALERT_COLUMNS].copy()
    still = prev["status"].eq("open") | (prev["status"].eq("late") & prev["withdrawn_on"].fillna("").eq(""))
    prev = prev.loc[still.to_numpy(bool)].reset_index(drop=True)
    for c in ("since", "withdraw_by"):
        prev[c] = pd.to_datetime(prev[c].replace("", None), errors="coerce")
    return prev.drop(columns=["status"])
