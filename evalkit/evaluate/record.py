"""A province's cycle in the register: what is recorded, and whether it may be.

:func:`cycle_of` turns a :class:`~evalkit.evaluate.province.ProvinceResult` into the
:class:`~evalkit.data.register.Cycle` the register keeps (the decisions with their
``listed_on``, the credit table with its bans, this cycle's status transitions, the schools'
withdrawal alerts, the input hashes and parameters); :func:`check_recordable` refuses early, before anything is computed
or written, what :meth:`Register.record` would refuse (a date already recorded without
``force``, a date earlier than the province's latest cycle without ``backdate``);
:func:`record` records one province's cycle in one transaction (or recognises the cycle a
command recorded before its files could be written: :func:`check_completes`); :func:`stamp`
writes the recorded cycle's id and chained hash into the province's ``provenance.json``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit import __version__
from evalkit.data import exports
from evalkit.data.register import Cycle, Recorded, RegisterError
from evalkit.evaluate.province import CREDIT_EXPORT, ProvinceResult
from evalkit.evaluate.school_alerts import ALERT_COLUMNS

__all__ = ["CREDIT_COLUMNS", "DECISION_COLUMNS", "TRANSITION_COLUMNS", "check_completes", "check_notice_period",
           "check_recordable", "cycle_of", "record", "stamp"]

#: The columns of a cycle's decisions in the register.
DECISION_COLUMNS = ["app_id", "app_name", "provider_id", "status", "rank", "total_score", "reasons", "listed_on",
                    "objection"]
#: The columns of a cycle's credit rows: those of ``credit.csv``, then the provider's legal
#: representative and domicile (a ban carried for a provider absent from a later input names them).
CREDIT_COLUMNS = [*CREDIT_EXPORT, "legal_rep", "province_code"]
#: The columns of a cycle's transitions in the register (``provider_name`` beyond the agreed
#: ones; the register gives each its ``recorded_on``, the as_of of the cycle).
TRANSITION_COLUMNS = ["provider_id", "on", "from", "to", "reasons", "provider_name"]
#: Later than every recorded date: ``Register.latest(code, _END)`` is the province's latest cycle.
_END = "9999-12-31"


def cycle_of(res: ProvinceResult) -> Cycle:
    """The cycle ``res`` records: every frame as published text (same formatting as the exports)."""
    day = res.as_of.strftime("%Y-%m-%d")
    dec = res.decisions.copy()
    rec = res.recommended
    listed = pd.Series(pd.to_datetime(rec["listed_on"], errors="coerce").to_numpy("datetime64[us]"),
                       index=rec["app_id"].astype("str").to_numpy())
    # reindex, not map: an empty list (every assessment expired) has no dates to map from
    dec["listed_on"] = pd.Series(listed.reindex(dec["app_id"].astype("str").to_numpy()).to_numpy("datetime64[us]"),
                                 index=dec.index)
    decisions = exports.format_frame(dec, columns=DECISION_COLUMNS, sort_by=["rank", "app_id"])
    credit = exports.format_frame(res.credit, columns=CREDIT_COLUMNS, sort_by=["provider_id"])
    hist = exports.format_frame(res.credit_history, columns=[*TRANSITION_COLUMNS, "recorded_on"],
                                sort_by=["provider_id", "on", "recorded_on"])
    transitions = hist.loc[hist["recorded_on"].eq(day), TRANSITION_COLUMNS]
    alerts = exports.format_frame(res.school_alerts, columns=ALERT_COLUMNS, sort_by=["school_id", "app_id", "alert"])
    prov = res.provenance or {}
    return Cycle(
        province=res.code, as_of=day, decisions=decisions.reset_index(drop=True),
        credit=credit.reset_index(drop=True), transitions=transitions.reset_index(drop=True),
        inputs=dict(prov.get("inputs", {})), parameters=dict(prov.get("parameters", {})),
        evalkit_version=__version__, school_alerts=alerts.reset_index(drop=True),
    )  # fmt: skip


def check_recordable(register: Any, code: str, as_of: str, *, force: bool = False, backdate: bool = False,
                     published: bool = True) -> None:
    """Refuse (:class:`RegisterError`) a cycle of ``code`` on ``as_of`` the register would refuse.

    A current cycle of the same date needs ``force`` (the new one supersedes it), unless its
    files were never written (``published`` false: the province's folder of that date is
    missing) — the command is then completing it, and :func:`record` with ``complete`` checks
    that it records the same result; a date earlier than the province's latest current cycle
    needs ``backdate``; a date inside the public notice period of the province's latest notice
    is refused (:func:`check_notice_period`).
    """
    check_notice_period(register, code, as_of)
    last = register.latest(code, _END)
    if last is None:
        return
    damaged = register.province_problems(code)
    if damaged:  # a new cycle would build on altered rows: an edited ban would be lost without a trace
        more = f" (and {len(damaged) - 1} more problem(s))" if len(damaged) > 1 else ""
        raise RegisterError(
            f"{damaged[0]}{more}. No new cycle of province {code} is built on a damaged record; "
            f"`{_verify_command(register)}` lists every problem. "
            "Restore the register from a backup, or rebuild it from the published sets with `evalkit register "
            "import`.")
    same = register.latest(code, _day_after(as_of))
    if same is not None and same.as_of == as_of and not force:
        if not published:
            return
        raise RegisterError(
            f"province {code} {as_of} is already recorded in the register {_where(register)}; "
            "pass --force to record a cycle that supersedes it (the earlier one is kept).")
    if last.as_of > as_of and not backdate:
        raise RegisterError(
            f"province {code}: {as_of} is earlier than its latest recorded cycle ({last.as_of}) in the "
            f"register {_where(register)}; pass --backdate to record it (later cycles are then marked "
            "as needing regeneration).")


def check_completes(register: Any, res: ProvinceResult) -> None:
    """Refuse (:class:`RegisterError`) ``res`` if a current cycle of its province and date records
    something else (other inputs or parameters): checked for every province of a publish before
    any is recorded.  No same-date cycle, or the same result: fine."""
    day = res.as_of.strftime("%Y-%m-%d")
    same = register.latest(res.code, _day_after(day))
    if same is None or same.as_of != day or register.recorded_as(cycle_of(res)) is not None:
        return
    raise RegisterError(
        f"province {res.code} already has a cycle for {day} in the register {_where(register)} (cycle {same.id}) "
        "from other inputs or parameters, and its files were not published; pass --force to record a cycle "
        "that supersedes it (the earlier one is kept).")


def check_notice_period(register: Any, code: str, as_of: str) -> None:
    """Refuse (:class:`RegisterError`) a list of ``code`` on ``as_of`` while the public notice of
    the province's latest notice (issued on or before ``as_of``) runs: ``as_of <= notice_ends_on``.
    Objections received during the notice are decided by re-check before the list is published
    (docs/due-process.md)."""
    latest = getattr(register, "latest_notice", None)
    notice = latest(code, as_of) if latest is not None else None
    if notice is None or as_of > notice["ends_on"]:
        return
    raise RegisterError(
        f"province {code}: the public notice of {notice['as_of']} runs until {notice['ends_on']} "
        f"({notice['working_days']} working days); a list dated {as_of} would be published inside it. "
        f"Publish on a date after {notice['ends_on']}, once the objections received have been re-checked "
        f"(register {_where(register)}).")


def record(register: Any, res: ProvinceResult, *, force: bool = False, backdate: bool = False,
           complete: bool = False) -> tuple[Recorded, list[str]]:
    """Record ``res`` as one cycle (one transaction); returns the stored cycle and the warnings
    (later cycles now needing regeneration, after a backdate; a cycle completed; objections not
    admitted).  ``complete``: a same-date cycle recording exactly this result is returned instead
    of refused (:meth:`~evalkit.data.register.Register.record`)."""
    cycle, warnings = register.record(cycle_of(res), force=force, backdate=backdate, complete=complete)
    return cycle, warnings + not_admitted(res)


def not_admitted(res: ProvinceResult) -> list[str]:
    """A warning for each objection the list did not admit (docs/due-process.md)."""
    obj = res.objections
    if obj is None or obj.empty:
        return []
    late = obj.loc[obj["outcome"].eq("not_admitted")]
    return [f"province {res.code}: objection {o.objection_id} (app {o.app_id}) received on {o.received_on} is not "
            f"admitted: it came after the public notice of {o.notice_date} had ended, or the register holds no "
            "notice of that date; a re-check row in rechecks.csv decides it all the same" for o in late.itertuples()]


def stamp(res: ProvinceResult, folder: str | Path, cycle: Recorded) -> Path:
    """Write ``folder``'s ``provenance.json`` again, with the register cycle it publishes:
    ``"register_cycle": {"id", "seq", "hash"}`` (the cycle's id, its place in the province's
    chain and its chained hash; `evalkit register verify OUT` checks them against the register).
    Deterministic: the same inputs and the same register history give the same bytes."""
    prov = {**(res.provenance or {}), "register_cycle": {"id": int(cycle.id), "seq": int(cycle.recorded_at_seq),
                                                         "hash": str(cycle.hash)}}  # fmt: skip
    return exports.write_json(prov, Path(folder) / "provenance.json")


def _day_after(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def _verify_command(register: Any) -> str:
    """The command that checks ``register``: its output folder for a SQLite file, else its URL."""
    if getattr(register, "is_sqlite", True):
        return f"evalkit register verify {Path(_where(register)).parent}"
    return f"evalkit register verify --register {_where(register)}"


def _where(register: Any) -> str:
    return str(getattr(register, "name", None) or getattr(register, "path", None) or register)
