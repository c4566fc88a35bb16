"""Due process of a sanction: prior notice, statement window, decision; credit repair.

The status machine (:mod:`evalkit.evaluate.credit_status`) says which list each provider's
findings call for.  Before a provider is put on a worse list (white → grey, white or grey →
black) the province must tell it the facts, reasons and basis and hear its statement
(国办发〔2020〕49号; Administrative Penalty Law 2021 art. 44, and art. 64 for a hearing request),
so :func:`gate` makes that move a two-step decision, one cycle at a time:

1. **notified** — the cycle that first finds grounds serves a sanction notice (告知书,
   ``sanction_notices/<provider_id>.html``): the list, ban and decision date stay as they were,
   ``statement_ends_on`` is ``statement_working_days`` working days after ``as_of`` (profile,
   default 5; :mod:`evalkit.rubric.calendar`);
2. while the window is open, or a statement received is pending (``sanction_statements``;
   reason ``statement_pending`` past the window), the provider stays **notified** and no
   decision is taken;
3. after it: a statement **accepted** dismisses the sanction (**dismissed**, list unchanged,
   ``decided_on`` the dismissal's date; it stands until new facts: the same standing conditions —
   a grade, an overdue rectification — serve no new notice, only a new event finding does);
   otherwise the status machine's decision is applied from that cycle's date (**decided**: a
   ban runs from the decision date; later cycles keep ``decided`` while that list stands).

Whenever the findings no longer call for the worse list, window open or statement pending, the
notice lapses: **dismissed**, reason ``sanction_lapsed``.

**Credit repair** (信用修复, ``credit_repairs``): an approved repair decided after the listing ends
a grey listing once ``repair.grey_min_months`` have passed since the listing's decision, and a
black one after ``repair.black_min_months`` where ``repair.black_repairable`` (profile); the
provider goes back to white (**repaired**), the history keeps the trail (reason
``credit_repaired``).

Everything is vectorised over the province's providers; the stage of each provider travels from
cycle to cycle in the register's credit rows (``sanction_stage``, ``notified_on``,
``statement_ends_on``, ``proposed_list``), never in published files.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from evalkit.evaluate.credit_context import as_bool
from evalkit.evaluate.reasons import join_codes
from evalkit.rubric import profile_value
from evalkit.rubric.calendar import load_calendar

__all__ = ["SANCTION_COLUMNS", "SANCTION_STAGES", "gate", "mark_holds"]

SANCTION_STAGES = ("none", "notified", "decided", "dismissed", "repaired")
#: The columns the gate adds to the credit table (``sanction_facts``: JSON, for the notice only).
SANCTION_COLUMNS = ["sanction_stage", "notified_on", "statement_ends_on", "proposed_list", "sanction_facts"]
_RANK = {"white": 0, "grey": 1, "black": 2}


def _prior(prev: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    """The previous credit rows aligned to ``ids`` (text; white and no stage where absent)."""
    cols = {"list": "white", "ban_until": "", "decided_on": "", "reasons": "", "sanction_stage": "none",
            "notified_on": "", "statement_ends_on": "", "proposed_list": ""}
    out = pd.DataFrame({c: [d] * len(ids) for c, d in cols.items()}, index=ids, dtype=object)
    if prev is None or prev.empty:
        return out
    p = prev.drop_duplicates("provider_id", keep="last").set_index("provider_id")
    p.index = p.index.astype(str)
    for c in cols:
        if c in p.columns:
            vals = p[c].reindex(ids)
            out[c] = vals.where(vals.notna() & vals.astype(str).ne(""), out[c]).astype(str)
    return out


def _statements(ds: Any, code: str, as_of: pd.Timestamp, ids: pd.Index, notified: pd.Series) -> np.ndarray:
    """Per provider: the outcome of its statement on the notice of ``notified`` (``""`` none)."""
    st = getattr(ds, "tables", {}).get("sanction_statements")
    out = np.full(len(ids), "", dtype=object)
    if st is None or st.empty:
        return out
    st = st.loc[st["province_code"].astype(str).eq(code) & (pd.to_datetime(st["received_on"]) <= as_of).to_numpy()]
    st = st.assign(provider_id=st["provider_id"].astype(str),
                   notified_on=pd.to_datetime(st["notified_on"]).dt.strftime("%Y-%m-%d"))
    decided = pd.to_datetime(st["decided_on"]) <= as_of
    st = st.assign(outcome=st["outcome"].astype(str).where(decided.to_numpy(), "pending"))
    key = pd.DataFrame({"provider_id": ids.astype(str), "notified_on": notified.to_numpy()})
    # pending wins over a decision (no decision while a statement is pending), then accepted
    order = {"pending": 0, "accepted": 1, "rejected": 2}
    st = st.assign(_o=st["outcome"].map(order)).sort_values("_o", kind="stable").drop_duplicates(
        ["provider_id", "notified_on"])
    found = key.merge(st[["provider_id", "notified_on", "outcome"]], on=["provider_id", "notified_on"], how="left")
    return found["outcome"].fillna("").to_numpy(object)


#: Triggers that are events (a finding dated after the provider's last decision), not standing conditions.
_EVENTS = ("fraud", "repeat_violation_while_grey", "substantiated_complaint_listed_app",
           "substantiated_complaint_submitted_app")


def _accepted_before(pr: pd.DataFrame) -> np.ndarray:
    """Providers whose last sanction was dismissed on an accepted statement (and not since re-noticed)."""
    return (pr["sanction_stage"].eq("dismissed")
            & pr["reasons"].str.contains(r"(?:^|;)sanction_dismissed(?:;|$)")).to_numpy()


def _new_event(history: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp) -> np.ndarray:
    """Providers moved to a worse list on ``as_of`` by an event trigger (:data:`_EVENTS`)."""
    now = history.loc[(pd.to_datetime(history["on"]) == as_of).to_numpy()]
    codes = now["reason"].astype(str).str.split(";")
    hit = now.loc[codes.map(lambda cs: any(c in _EVENTS for c in cs)).to_numpy(dtype=bool), "provider_id"]
    return ids.isin(set(hit.astype(str)))


def gate(cr: Any, ds: Any, profile: Any, code: str, prev: pd.DataFrame | None) -> Any:
    """``cr`` (a :class:`~evalkit.evaluate.credit.CreditResult`) with the due-process stage of
    every provider applied (see the module): a worse list only after notice and the statement
    window, a repaired listing ended; its providers gain :data:`SANCTION_COLUMNS`."""
    p = cr.providers.copy()
    ids = pd.Index(p["provider_id"].astype(str))
    as_of = cr.as_of
    day = as_of.strftime("%Y-%m-%d")
    pr = _prior(prev, ids)
    new_rank = p["list"].astype(str).map(_RANK).to_numpy()
    old_rank = pr["list"].map(_RANK).fillna(0).to_numpy()
    worse = new_rank > old_rank
    was_notified = pr["sanction_stage"].eq("notified").to_numpy()
    open_window = was_notified & (pr["statement_ends_on"].to_numpy(str) >= day)
    outcome = _statements(ds, code, as_of, ids, pr["notified_on"])
    # the grounds no longer hold: nothing to decide, whether or not the window or a statement is open
    lapsed = was_notified & ~worse
    wait = was_notified & worse & (open_window | (outcome == "pending"))
    # an accepted statement stands until new facts: the same standing conditions (a grade, an
    # overdue rectification) do not serve the provider a new notice; a new event finding does
    answered = ~was_notified & worse & _accepted_before(pr) & ~_new_event(cr.history, ids, as_of)
    dismissed = (was_notified & worse & ~wait & (outcome == "accepted")) | answered
    decided = was_notified & worse & ~wait & ~dismissed
    notify = ~was_notified & worse & ~answered
    revert = notify | wait | dismissed
    days_ = int(profile_value(profile, "due_process", "statement_working_days", default=5))
    ends = load_calendar().add_working_days(as_of, days_).strftime("%Y-%m-%d")

    stage = np.select([notify | wait, dismissed | lapsed, decided], ["notified", "dismissed", "decided"],
                      "none").astype(object)
    carried = ~revert & ~decided & pr["sanction_stage"].isin(("decided",)).to_numpy() & (new_rank > 0)
    stage[carried] = "decided"
    p["proposed_list"] = np.where(notify, p["list"].astype(str), np.where(wait, pr["proposed_list"], ""))
    kept = wait | dismissed | decided | lapsed
    p["notified_on"] = np.where(notify, day, np.where(kept, pr["notified_on"], ""))
    p["statement_ends_on"] = np.where(notify, ends, np.where(kept, pr["statement_ends_on"], ""))
    codes = np.select([wait & ~open_window, dismissed, lapsed, decided],
                      ["statement_pending", "sanction_dismissed", "sanction_lapsed", "sanction_decided"], "")
    reasons = _add_code(p["reasons"].astype(str).to_numpy(object), codes)
    p["reasons"] = _add_code(reasons, np.where(notify | wait, "sanction_notified", ""))  # first
    for col in ("list", "ban_until", "decided_on"):  # the list does not change before the decision
        before = pr[col].to_numpy(object)
        # a dismissal is a decision too: dated this cycle, so the findings it weighed are not
        # new again in the next one (the statement accepted is not overridden by the same facts)
        back = revert & ~(dismissed & ~answered) if col == "decided_on" else revert
        if col == "list":
            p[col] = np.where(back, before, p[col].astype(str))
        else:
            p[col] = p[col].astype("datetime64[us]").where(~back, pd.to_datetime(pd.Series(before).replace("", None))
                                                           .to_numpy("datetime64[us]"))
    history = cr.history.loc[~cr.history["provider_id"].astype(str).isin(set(ids[revert]))
                             | (pd.to_datetime(cr.history["on"]) < as_of).to_numpy()]
    p["sanction_stage"] = stage
    p, history = _repair(p, history, ds, profile, code, as_of)
    p["sanction_facts"] = _facts(ds, ids, notify, as_of, cr.params.lookback_months)
    return replace(cr, providers=p.reset_index(drop=True), history=history.reset_index(drop=True))


def _add_code(reasons: np.ndarray, codes: np.ndarray) -> np.ndarray:
    has = codes != ""
    out = reasons.copy()
    out[has] = np.where(out[has] == "", codes[has], codes[has] + ";" + out[has].astype(str))
    return out


def _repair(p: pd.DataFrame, history: pd.DataFrame, ds: Any, profile: Any, code: str,
            as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """End the listings an approved credit repair ends (see the module)."""
    rp = getattr(ds, "tables", {}).get("credit_repairs")
    if rp is None or rp.empty:
        return p, history
    ok = (rp["province_code"].astype(str).eq(code) & rp["outcome"].astype(str).eq("approved")
          & (pd.to_datetime(rp["decided_on"]) <= as_of)).to_numpy()
    if not ok.any():
        return p, history
    last = rp.loc[ok].assign(decided_on=pd.to_datetime(rp.loc[ok, "decided_on"])).groupby(
        rp.loc[ok, "provider_id"].astype(str))["decided_on"].max()
    approved = last.reindex(p["provider_id"].astype(str).to_numpy()).to_numpy("datetime64[us]")
    listed_on = pd.to_datetime(p["decided_on"]).to_numpy("datetime64[us]")
    lst = p["list"].astype(str).to_numpy()
    grey_m = int(profile_value(profile, "due_process", "repair", "grey_min_months", default=3))
    black_m = int(profile_value(profile, "due_process", "repair", "black_min_months", default=12))
    black_ok = bool(profile_value(profile, "due_process", "repair", "black_repairable", default=True))
    since = pd.DatetimeIndex(listed_on)
    ends = np.where(lst == "black", (since + pd.DateOffset(months=black_m)).to_numpy("datetime64[us]"),
                    (since + pd.DateOffset(months=grey_m)).to_numpy("datetime64[us]"))
    due = ~np.isnat(ends) & (ends <= as_of.to_datetime64())
    ready = (~np.isnat(approved) & (approved > listed_on) & ((lst == "grey") | ((lst == "black") & black_ok))
             & p["sanction_stage"].ne("notified").to_numpy())
    hit = ready & due
    early = ready & ~due  # approved before the minimum period: said, effective once it has passed
    p["reasons"] = _add_code(p["reasons"].astype(str).to_numpy(object), np.where(early, "repair_awaits_period", ""))
    if not hit.any():
        return p, history
    trail = pd.DataFrame({"provider_id": p.loc[hit, "provider_id"].astype(str).to_numpy(), "from": lst[hit],
                          "to": "white", "on": as_of, "reason": "credit_repaired"})
    p.loc[hit, "list"] = "white"
    p.loc[hit, "ban_until"] = pd.NaT
    p.loc[hit, "decided_on"] = as_of
    p.loc[hit, "sanction_stage"] = "repaired"
    p.loc[hit, "reasons"] = "credit_repaired"
    trail["on"] = trail["on"].astype("datetime64[us]")
    history = pd.concat([history, trail], ignore_index=True).sort_values(["provider_id", "on"], kind="stable")
    return p, history


def _facts(ds: Any, ids: pd.Index, notify: np.ndarray, as_of: pd.Timestamp, lookback_months: int) -> np.ndarray:
    """Per newly notified provider: the facts its notice states, as JSON text, oldest first.

    Its violations found up to ``as_of``, and the substantiated complaints against its apps
    received in the look-back window (the grounds of a grey listing): kind, id, app, date, type
    (the violation type or complaint category), severity and fraud.  A complaint's id, app,
    date and category only: never its contact or text."""
    out = np.full(len(ids), "", dtype=object)
    if not notify.any():
        return out
    tables = getattr(ds, "tables", {})
    notified = set(ids[notify])
    rows: dict[str, list[dict[str, Any]]] = {}
    v = tables.get("violations")
    if v is not None and not v.empty:
        mine = v.loc[v["provider_id"].astype(str).isin(notified) & (pd.to_datetime(v["found_on"]) <= as_of)]
        for r in mine.itertuples():  # the notified providers' findings: a handful
            rows.setdefault(str(r.provider_id), []).append(
                {"kind": "violation", "id": str(r.violation_id), "app_id": "" if pd.isna(r.app_id) else str(r.app_id),
                 "found_on": pd.Timestamp(r.found_on).strftime("%Y-%m-%d"),
                 "type": "" if pd.isna(r.type) else str(r.type), "severity": str(r.severity), "fraud": bool(r.fraud)})
    c, apps = tables.get("complaints"), tables.get("apps")
    if c is not None and not c.empty and apps is not None:
        owner = apps.assign(app_id=apps["app_id"].astype(str)).set_index("app_id")["provider_id"].astype(str)
        received = pd.to_datetime(c["received_on"])
        keep = (as_bool(c["substantiated"])
                & (received <= as_of).to_numpy() & (received > as_of - pd.DateOffset(months=lookback_months)).to_numpy()
                & c["app_id"].astype(str).map(owner).isin(notified).to_numpy())
        for r in c.loc[keep].itertuples():
            rows.setdefault(owner[str(r.app_id)], []).append(
                {"kind": "complaint", "id": str(r.complaint_id), "app_id": str(r.app_id),
                 "found_on": pd.Timestamp(r.received_on).strftime("%Y-%m-%d"),
                 "type": "" if pd.isna(r.category) else str(r.category), "severity": "", "fraud": False})
    for pid, found in rows.items():
        out[ids.get_loc(pid)] = json.dumps(sorted(found, key=lambda f: (f["found_on"], f["kind"], f["id"])),
                                           ensure_ascii=False, sort_keys=True)
    return out


def mark_holds(cand: pd.DataFrame, credit: pd.DataFrame, ds: Any, profile: Any) -> pd.DataFrame:
    """``cand`` with the review decisions a provider's credit calls for: the apps of a provider on
    the grey (negative) list leave the recommended list (``provider_greylisted``: a list cannot
    recommend what the province tells its schools to withdraw, docs/credit.md); during a pending
    fraud sanction, the app whose submitted material was fraudulent is excluded at once
    (``fraudulent_material``) and the provider's other apps are held off where the profile says
    so (``provisional_measure``)."""
    grey = credit.loc[credit["list"].eq("grey"), "provider_id"].astype(str)
    if len(grey):
        cand = _with_code(cand, np.where(cand["provider_id"].astype(str).isin(set(grey)), "provider_greylisted", ""))
    notified = credit.loc[credit["sanction_stage"].eq("notified") & credit["proposed_list"].eq("black")
                          & credit["reasons"].astype(str).str.contains(r"(?:^|;)fraud(?:;|$)"), "provider_id"]
    if notified.empty:
        return cand
    v = ds.tables["violations"]
    fraud = (v["fraud"].fillna(False).astype(bool).to_numpy()
             & v["provider_id"].astype(str).isin(set(notified)).to_numpy())
    fraud_apps = set(v.loc[fraud, "app_id"].dropna().astype(str))
    hold = bool(profile_value(profile, "due_process", "hold_other_apps_on_fraud", default=True))
    app = cand["app_id"].astype(str)
    mine = cand["provider_id"].astype(str).isin(set(notified))
    code = np.where(app.isin(fraud_apps), "fraudulent_material", np.where(mine & hold, "provisional_measure", ""))
    return _with_code(cand, code)


def _with_code(cand: pd.DataFrame, code: np.ndarray) -> pd.DataFrame:
    """``cand`` with ``code`` (one per row, ``""`` for none) added to its reasons."""
    base = cand["reasons"] if "reasons" in cand else pd.Series("", index=cand.index)
    return cand.assign(reasons=join_codes([base, pd.Series(code, index=cand.index)], cand.index))
