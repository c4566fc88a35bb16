"""The white/grey/black status machine of provider credit (section (16) of the 2019 Opinions).

white → grey (negative list) → black (ban until a date), reproducible from the inputs and the
previous published table:

* **New findings** are those dated after the provider's last decision (on a first run, those
  of the look-back window).
* **Black** (a ban of ``ban_months``): new fraud, a new violation while grey, or grade D with
  a serious violation not rectified by its deadline.  A ban in force is never re-decided.
* **Grey**: a new substantiated complaint against the province's listed (or, before a list is
  published, submitted) apps, or grade C or D.
* **Back to white** only after ``grey_months`` on the grey list without a new trigger; a ban
  that has ended returns the provider to grey, never straight to white.

Every provider's new state carries its reason codes (:data:`REASONS` order, never empty), and
every change of list is a transition of the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import DataError, Problem, param_message
from evalkit.evaluate.credit_context import CreditContext, as_bool
from evalkit.evaluate.credit_params import LISTS, REASONS, THRESHOLD_COLUMNS, CreditError

__all__ = ["ComplaintScope", "carry_absent_bans", "decide_status", "join_codes", "merge_codes"]

_REASON_ORDER = {code: i for i, code in enumerate(REASONS)}
_PREVIOUS_FILE = "credit.csv (previous)"


# --------------------------------------------------------------------------------------------
# reason codes
# --------------------------------------------------------------------------------------------


def join_codes(flags: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """``;``-joined codes per provider, in :data:`REASONS` order (loop over codes only)."""
    out = np.full(n, "", dtype=object)
    for code in sorted(flags, key=_REASON_ORDER.__getitem__):
        f = np.asarray(flags[code], dtype=bool)
        out[f] = np.where(out[f] == "", code, out[f] + ";" + code)
    return out


def merge_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union of two ``;``-code columns, in :data:`REASONS` order (unknown codes last)."""
    s = pd.Series(a, dtype=object).fillna("") + ";" + pd.Series(b, dtype=object).fillna("")
    parts = s.str.split(";").explode()
    parts = parts[parts != ""]
    if parts.empty:
        return np.full(len(a), "", dtype=object)
    order = parts.map(_REASON_ORDER).fillna(len(_REASON_ORDER))
    frame = pd.DataFrame({"i": parts.index, "code": parts.to_numpy(), "o": order.to_numpy()})
    frame = frame.drop_duplicates(["i", "code"]).sort_values(["i", "o", "code"], kind="stable")
    joined = frame.groupby("i")["code"].agg(";".join)
    return joined.reindex(range(len(a)), fill_value="").to_numpy(object)


# --------------------------------------------------------------------------------------------
# the previous state
# --------------------------------------------------------------------------------------------


def _previous_table(previous: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    """The prior table aligned to ``ids``: list (default white), ban_until, decided_on, reasons."""
    out = pd.DataFrame({"list": "white", "ban_until": pd.NaT, "decided_on": pd.NaT,
                        "reasons": "", "known": False}, index=ids)
    out["ban_until"] = out["ban_until"].astype("datetime64[us]")
    out["decided_on"] = out["decided_on"].astype("datetime64[us]")
    if previous is None:
        return out
    if not isinstance(previous, pd.DataFrame):
        raise CreditError(param_message("previous", "credit.evaluate",
                                        "a DataFrame (the last published credit.csv) or None",
                                        type(previous).__name__))
    need = ("provider_id", "list", "ban_until", "decided_on")
    missing = [c for c in need if c not in previous.columns]
    if missing:
        raise DataError([Problem(_PREVIOUS_FILE, None, c, "missing column") for c in missing])
    prev = previous.drop_duplicates("provider_id", keep="last")
    lst = prev["list"].astype(str).str.strip().str.lower()
    bad = ~lst.isin(LISTS)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:20]
        raise DataError([
            Problem(_PREVIOUS_FILE, int(r) + 1, "list",
                    f"must be one of white/grey/black, got {prev['list'].iloc[r]!r}")
            for r in rows
        ])
    pos = ids.get_indexer(prev["provider_id"].astype(str))
    keep = pos >= 0
    sel = ids[pos[keep]]
    out.loc[sel, "list"] = lst.to_numpy()[keep]
    for col in ("ban_until", "decided_on"):
        vals = pd.to_datetime(prev[col].replace("", None), errors="coerce")
        out.loc[sel, col] = vals.to_numpy("datetime64[us]")[keep]
    if "reasons" in prev.columns:
        out.loc[sel, "reasons"] = prev["reasons"].fillna("").astype(str).to_numpy()[keep]
    out.loc[sel, "known"] = True
    return out


@dataclass(frozen=True)
class _Prior:
    """Every provider's previous state (arrays aligned to the provider ids) as of ``now``."""

    lists: np.ndarray  # white/grey/black (object)
    ban_until: np.ndarray  # datetime64[us], NaT = none or indefinite
    decided_on: np.ndarray  # datetime64[us], NaT = never decided
    reasons: np.ndarray  # ;-joined codes (object)
    known: np.ndarray  # the provider is in the previous table
    ban_in_force: np.ndarray  # black and the ban not over (a NaT ban is indefinite)
    ban_ended: np.ndarray  # black and the ban over: grey again

    @property
    def grey(self) -> np.ndarray:
        """On the grey list now: grey before, or back from an ended ban."""
        return (self.lists == "grey") | self.ban_ended


def _prior(previous: pd.DataFrame | None, ids: pd.Index, now: np.datetime64) -> _Prior:
    prev = _previous_table(previous, ids)
    lists = prev["list"].to_numpy(object)
    ban = prev["ban_until"].to_numpy("datetime64[us]")
    black = lists == "black"
    return _Prior(lists, ban, prev["decided_on"].to_numpy("datetime64[us]"),
                  prev["reasons"].to_numpy(object), prev["known"].to_numpy(),
                  black & ~(ban <= now), black & (ban <= now))


# --------------------------------------------------------------------------------------------
# the transition
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintScope:
    """The apps whose substantiated complaints put a provider on the grey list.

    ``listed``: the province's published list, app id → the date it was listed (NaT: not
    known, any complaint counts), or None before any list; ``submitted``: the apps submitted
    to the province (None: every app).  A complaint counts against a listed app when its app
    was listed by the complaint's date (``substantiated_complaint_listed_app``); one that came
    before any list (no list yet, or before the earliest known listing date) against a
    submitted app (``substantiated_complaint_submitted_app``): its reason never cites a list
    that did not exist when the complaint came."""

    listed: pd.Series | None
    submitted: pd.Index | None


def _new_findings(ctx: CreditContext, prior: _Prior, scope: ComplaintScope) -> dict[str, np.ndarray]:
    """Per provider: findings since its last decision (on a first run, those of the look-back
    window) — fraud, any violation, a substantiated complaint against a listed app or, before
    any list, a submitted one (:class:`ComplaintScope`) — and a serious violation overdue for
    rectification (any age)."""
    start = np.where(np.isnat(prior.decided_on), ctx.since(ctx.params.lookback_months).to_datetime64(),
                     prior.decided_on)
    v = ctx.violations
    vcode = v["code"].to_numpy()
    vok = vcode >= 0
    v_new = np.zeros(len(v), dtype=bool)
    v_new[vok] = pd.to_datetime(v["found_on"]).to_numpy("datetime64[us]")[vok] > start[vcode[vok]]
    serious = (v["severity"].astype(str) == "serious").to_numpy()

    c = ctx.complaints
    ccode = c["code"].to_numpy()
    cok = ccode >= 0
    c_new = np.zeros(len(c), dtype=bool)
    c_new[cok] = c["event_on"].to_numpy("datetime64[us]")[cok] > start[ccode[cok]]
    event = c["event_on"].to_numpy("datetime64[us]")
    submitted = (c["app_id"].isin(scope.submitted).to_numpy() if scope.submitted is not None
                 else np.ones(len(c), dtype=bool))
    if scope.listed is None:
        on_list, before_list = np.zeros(len(c), dtype=bool), np.ones(len(c), dtype=bool)
    else:
        since = scope.listed.reindex(c["app_id"].astype(str)).to_numpy("datetime64[us]")
        on_list = c["app_id"].astype(str).isin(scope.listed.index).to_numpy() & ~(event < since)
        first = scope.listed.min()
        before_list = (event < first.to_datetime64()) if pd.notna(first) else np.zeros(len(c), dtype=bool)
    substantiated = c_new & as_bool(c["substantiated"])
    return {
        "fraud": ctx.count(vcode[v_new & v["fraud"].to_numpy()]) > 0,
        "violation": ctx.count(vcode[v_new]) > 0,
        "unrectified_serious": ctx.count(vcode[v["overdue"].to_numpy() & serious]) > 0,
        "substantiated_listed": ctx.count(ccode[substantiated & on_list]) > 0,
        "substantiated_submitted": ctx.count(ccode[substantiated & ~on_list & before_list & submitted]) > 0,
    }


def _triggers(prior: _Prior, grade: np.ndarray,
              found: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The black and the grey triggers by reason code (a ban in force is not re-decided; a
    black trigger wins over a grey one)."""
    decidable = ~prior.ban_in_force
    black = {
        "fraud": decidable & found["fraud"],
        "repeat_violation_while_grey": decidable & prior.grey & found["violation"],
        "grade_d_unrectified_serious": decidable & (grade == "D") & found["unrectified_serious"],
    }
    to_black = np.logical_or.reduce(list(black.values()))
    grey = {
        "substantiated_complaint_listed_app": decidable & ~to_black & found["substantiated_listed"],
        "substantiated_complaint_submitted_app": decidable & ~to_black & found["substantiated_submitted"]
        & ~found["substantiated_listed"],
        "grade_c": decidable & ~to_black & (grade == "C"),
        "grade_d": decidable & ~to_black & (grade == "D"),
    }
    return black, grey


@dataclass(frozen=True)
class _Move:
    """Every provider's new state and what led to it."""

    lists: np.ndarray
    ban_until: np.ndarray
    decided_on: np.ndarray
    cleared: np.ndarray  # grey observation period over: back to white
    stays_grey: np.ndarray  # grey without a trigger, observation period not over


def _move(ctx: CreditContext, prior: _Prior, to_black: np.ndarray, to_grey: np.ndarray) -> _Move:
    """The new list, ban and decision date; grey with no trigger stays grey during the
    observation period, then clears to white."""
    p, now = ctx.params, ctx.as_of.to_datetime64()
    grey_since = np.where(prior.ban_ended, prior.ban_until, prior.decided_on)
    rest = ~prior.ban_in_force & prior.grey & ~to_black & ~to_grey
    ends = (pd.DatetimeIndex(grey_since) + pd.DateOffset(months=p.grey_months)).to_numpy(
        "datetime64[us]")
    cleared = rest & ~(ends > now)
    stays_grey = rest & ~cleared

    lists = np.select([prior.ban_in_force, to_black, to_grey, stays_grey],
                      ["black", "black", "grey", "grey"], "white").astype(object)
    ban_end = (ctx.as_of + pd.DateOffset(months=p.ban_months)).to_datetime64()
    ban_until = np.where(prior.ban_in_force, prior.ban_until,
                         np.where(to_black, ban_end, np.datetime64("NaT")))
    first = np.isnat(prior.decided_on) | ~prior.known
    unchanged = (prior.ban_in_force | (stays_grey & ~prior.ban_ended)
                 | ((lists == "white") & (prior.lists == "white") & ~first))
    decided = np.where(unchanged, prior.decided_on,
                       np.where(stays_grey & prior.ban_ended, prior.ban_until, now))
    return _Move(lists, ban_until, decided.astype("datetime64[us]"), cleared, stays_grey)


def _reasons(prior: _Prior, grade: np.ndarray, downgrade: Mapping[str, np.ndarray],
             triggers: Mapping[str, np.ndarray], move: _Move) -> np.ndarray:
    """Every provider's reason codes (never empty), a ban's carried over, the downgrade's
    added."""
    n = len(grade)
    white = move.lists == "white"
    flags = {**triggers,
             "ban_in_force": prior.ban_in_force,
             "ban_expired": move.stays_grey & prior.ban_ended,
             "grey_period": move.stays_grey & ~prior.ban_ended,
             # white: grade A or B (C and D are grey triggers) and why nothing moved it
             "grade_a": white & (grade == "A"),
             "grade_b": white & (grade == "B"),
             "grey_cleared": move.cleared,
             "no_list_trigger": white & ~move.cleared}
    reasons = join_codes(flags, n)
    carried = prior.ban_in_force & (prior.reasons != "")
    reasons[carried] = merge_codes(prior.reasons[carried], reasons[carried])
    # The grade's direct downgrade codes are part of the explanation too (the codes of
    # join_codes and merge_codes are already in order: only rows with a downgrade change).
    down = join_codes(downgrade, n)
    more = down != ""
    reasons[more] = merge_codes(reasons[more], down[more])
    return reasons


def _transitions(ctx: CreditContext, prior: _Prior, triggers: Mapping[str, np.ndarray],
                 move: _Move) -> pd.DataFrame:
    """History: a ban's end (black → grey on ``ban_until``), then this run's change (on
    ``as_of``)."""
    ended = prior.ban_ended
    hist = [
        pd.DataFrame({"provider_id": ctx.ids[ended], "from": "black", "to": "grey",
                      "on": prior.ban_until[ended], "reason": "ban_expired"}),
    ]
    from_list = np.where(ended, "grey", prior.lists)
    changed = (move.lists != from_list) & ~prior.ban_in_force
    why = np.where(move.cleared, "grey_cleared", join_codes(triggers, ctx.n))
    hist.append(pd.DataFrame({"provider_id": ctx.ids[changed], "from": from_list[changed],
                              "to": move.lists[changed], "on": ctx.as_of.to_datetime64(),
                              "reason": why[changed]}))
    history = pd.concat(hist, ignore_index=True)
    history["on"] = history["on"].astype("datetime64[us]")
    history = history.sort_values(["provider_id", "on"], kind="stable").reset_index(drop=True)
    for col in ("provider_id", "from", "to", "reason"):
        history[col] = history[col].astype(str)
    return history


def decide_status(ctx: CreditContext, grade: np.ndarray, downgrade: Mapping[str, np.ndarray],
                  previous: pd.DataFrame | None, scope: ComplaintScope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The new list, ban, decision date and reasons of every provider, and the transitions.

    Parameters
    ----------
    ctx : the prepared rows.
    grade : every provider's grade (after the direct downgrade).
    downgrade : the downgrade's reason codes → providers they apply to.
    previous : the previous published ``credit.csv`` (``None``: a first run, everyone white).
    scope : the apps whose substantiated complaints put a provider on the grey list.

    Returns
    -------
    status : list, ban_until, decided_on, reasons (aligned to ``ctx.ids``).
    history : provider_id, from, to, on, reason.
    """
    prior = _prior(previous, ctx.ids, ctx.as_of.to_datetime64())
    black, grey = _triggers(prior, grade, _new_findings(ctx, prior, scope))
    move = _move(ctx, prior, np.logical_or.reduce(list(black.values())),
                 np.logical_or.reduce(list(grey.values())))
    triggers = {**black, **grey}
    status = pd.DataFrame({"list": move.lists, "ban_until": move.ban_until,
                           "decided_on": move.decided_on,
                           "reasons": _reasons(prior, grade, downgrade, triggers, move)})
    status["ban_until"] = status["ban_until"].astype("datetime64[us]")
    return status, _transitions(ctx, prior, triggers, move)


# --------------------------------------------------------------------------------------------
# bans of providers absent from the input
# --------------------------------------------------------------------------------------------

#: What a carried row keeps of the previous table, beyond the status (text columns).
_CARRIED_TEXT = ("provider_name", "legal_rep", "province_code", "grade")


def carry_absent_bans(providers: pd.DataFrame, previous: pd.DataFrame | None, now: pd.Timestamp,
                      thresholds: tuple[float, ...]) -> pd.DataFrame:
    """``providers`` plus a row for every provider black in ``previous`` whose ban is in force
    on ``now`` but who is not in ``providers`` (absent from this cycle's input, e.g. removed
    from ``providers.csv``): a ban in force is published until its end date whatever the input
    holds.

    A carried row is not evaluated (there is nothing to evaluate it on): ``score`` and the
    component points are empty, the counts 0; its name, legal representative, domicile and grade
    are the previous table's (the register's), its ``list``, ``ban_until`` and ``decided_on``
    unchanged, its reasons the previous ones plus ``ban_in_force`` and ``not_in_input``, its
    thresholds this cycle's (``thresholds``).  Rows stay sorted by provider_id.
    """
    if previous is None or not len(previous) or "provider_id" not in previous.columns:
        return providers
    prev = previous.assign(provider_id=previous["provider_id"].astype(str)).drop_duplicates("provider_id",
                                                                                           keep="last")
    absent = pd.Index(prev["provider_id"]).difference(pd.Index(providers["provider_id"].astype(str)))
    if not len(absent):
        return providers
    state = _prior(prev, absent, now.to_datetime64())
    keep = state.ban_in_force
    if not keep.any():
        return providers
    ids = absent[keep]
    carried = pd.DataFrame(index=range(len(ids)))
    for col, dtype in providers.dtypes.items():
        if pd.api.types.is_integer_dtype(dtype):
            carried[col] = pd.Series(0, index=carried.index, dtype=dtype)
        elif pd.api.types.is_datetime64_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
            carried[col] = pd.Series(None, index=carried.index, dtype=dtype)
        else:
            carried[col] = pd.Series("", index=carried.index, dtype=dtype)
    rows = prev.set_index("provider_id").loc[ids]
    carried["provider_id"] = ids.to_numpy()
    for col in _CARRIED_TEXT:
        if col in carried.columns and col in rows.columns:
            carried[col] = rows[col].astype(object).where(rows[col].notna(), "").astype(str).to_numpy()
    carried["list"] = "black"
    carried["ban_until"] = state.ban_until[keep]
    carried["decided_on"] = state.decided_on[keep]
    flags = np.full(len(ids), "ban_in_force;not_in_input", dtype=object)
    carried["reasons"] = merge_codes(state.reasons[keep], flags)
    for col, value in zip(THRESHOLD_COLUMNS, thresholds, strict=True):
        if col in carried.columns:
            carried[col] = float(value)
    carried = carried.astype(providers.dtypes.to_dict())
    out = pd.concat([providers, carried], ignore_index=True)
    return out.sort_values("provider_id", kind="stable").reset_index(drop=True)

