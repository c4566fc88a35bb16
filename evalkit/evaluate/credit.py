"""Provider credit: score, grade, the white/grey/black status machine, complaint statistics.

Implements sections (13) (complaint handling, industry credit evaluation) and (16) (negative
list, blacklist, joint punishment) of the 2019 Opinions.  Everything is documented for
provincial offices and the public in ``docs/credit.md``; the numbers below are the defaults.

* **Score** (0–100): ``score = clip(100 + sum of c_<name>, 0, 100)`` exactly (:data:`SCORE_RULE`).
  The components are a named registry (:data:`COMPONENTS`): each is a small vectorised
  function returning the points of every provider, so each point can be traced to its
  component.  ``c_<name>`` is signed (a deduction ≤ 0, a bonus ≥ 0) and rounded to 0.01
  points, so a published ``credit.csv`` recomputes its scores without any rounding doubt.
* **Grade**: A ≥ 90, B ≥ 70, C ≥ 40, else D (the profile's ``credit.thresholds``, published as
  ``threshold_a/b/c``), and a **direct downgrade to D** (``downgrade``) for fraud or a serious
  violation found within the last ``downgrade_months`` (24), or a ban in force (:data:`GRADE_RULE`).
* **Status machine**: white → grey (negative list) → black (ban until a date), reproducible
  from the inputs and the previous published table; a ban that has ended returns the provider
  to grey, never straight to white.
* **Complaint statistics**: aggregates only; complaint contact data and text never leave the
  credit modules (the prepared rows keep no complainant field).

The evaluation is cut along these seams, one module each (this module re-exports their
public names, so ``credit.<name>`` keeps working):

* :mod:`~evalkit.evaluate.credit_params` — :class:`CreditParams`, the reason codes;
* :mod:`~evalkit.evaluate.credit_context` — the rows prepared once per date
  (:func:`working_days`; per-provider figures are ``np.bincount`` over integer provider codes,
  never a loop over providers or rows; a province's evaluation takes its providers' rows by
  integer position: a national run of 32 provinces prepares the million complaints once);
* :mod:`~evalkit.evaluate.credit_components` — the :data:`COMPONENTS` registry, score, grade;
* :mod:`~evalkit.evaluate.credit_status` — the status machine;
* :mod:`~evalkit.evaluate.credit_history` — the history across published cycles;
* :mod:`~evalkit.evaluate.credit_complaints` — :func:`complaint_stats`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from evalkit.dates import parse_date
from evalkit.errors import param_message
from evalkit.evaluate.credit_complaints import complaint_stats, province_stats
from evalkit.evaluate.credit_components import (
    COMPONENT_COLUMNS,
    COMPONENTS,
    Component,
    counts,
    grade_kernel,
    score_table,
)
from evalkit.evaluate.credit_context import CreditContext, prepare, province_view, working_days
from evalkit.evaluate.credit_history import HISTORY_COLUMNS, continue_transitions
from evalkit.evaluate.credit_params import (
    GRADE_RULE,
    GRADES,
    LISTS,
    POINT_DIGITS,
    REASONS,
    SCORE_RULE,
    THRESHOLD_COLUMNS,
    CreditError,
    CreditParams,
    params_from_profile,
    profile_value,
)
from evalkit.evaluate.credit_status import ComplaintScope, carry_absent_bans, decide_status, join_codes

__all__ = [
    "COMPONENTS",
    "COMPONENT_COLUMNS",
    "GRADES",
    "GRADE_RULE",
    "HISTORY_COLUMNS",
    "LISTS",
    "POINT_DIGITS",
    "REASONS",
    "SCORE_RULE",
    "THRESHOLD_COLUMNS",
    "Component",
    "CreditError",
    "CreditParams",
    "CreditResult",
    "banned_providers",
    "complaint_stats",
    "continue_history",
    "evaluate",
    "evaluate_for_profile",
    "params_from_profile",
    "working_days",
]


@dataclass(frozen=True)
class CreditResult:
    """The credit evaluation of one run.

    Attributes
    ----------
    providers : one row per provider (sorted by provider_id): provider_id, provider_name,
        legal_rep, province_code, score, grade, list, ban_until, decided_on, reasons (never
        empty: a white provider's grade and ``no_list_trigger`` or ``grey_cleared``),
        downgrade, the thresholds applied (:data:`THRESHOLD_COLUMNS`), then the signed points
        of every component (:data:`COMPONENT_COLUMNS`) and the counts behind them.  Score and
        grade follow from these columns alone (:data:`SCORE_RULE`, :data:`GRADE_RULE`).
    history : this run's status transitions (provider_id, from, to, on, reason);
        :func:`continue_history` appends them to the previous cycles' history.
    complaints : complaint statistics (aggregates only, see :func:`complaint_stats`).
    as_of : the evaluation date.
    params : the parameters used.
    """

    providers: pd.DataFrame
    history: pd.DataFrame
    complaints: pd.DataFrame
    as_of: pd.Timestamp
    params: CreditParams

    def _repr_html_(self) -> str:
        per_list = self.providers["list"].value_counts().reindex(list(LISTS), fill_value=0)
        head = (f"<p>Credit as of {self.as_of.date()}: {len(self.providers)} providers, "
                + ", ".join(f"{k} {v}" for k, v in per_list.items()) + "</p>")
        cols = ["provider_id", "provider_name", "score", "grade", "list", "ban_until", "reasons"]
        return head + self.providers[cols].head(50).to_html(index=False, escape=True)


def evaluate(
    ds: Any,
    profile: Any = None,
    as_of: Any = None,
    previous: pd.DataFrame | None = None,
    *,
    listed_apps: Iterable[str] | Mapping[str, Any] | None = None,
    province: str | None = None,
    thresholds: tuple[float, float, float] | None = None,
    ban_months: int | None = None,
    mlps_validity_months: Mapping[int, int] | None = None,
    params: CreditParams | None = None,
) -> CreditResult:
    """Score, grade and list every provider as of a date.

    Parameters
    ----------
    ds : Dataset
        ``providers``, ``apps``, ``complaints``, ``violations`` and ``assessments`` frames
        (docs/architecture.md, "Dataset in memory").
    profile : Profile or None
        The province profile (``evalkit.rubric.load_profile``); ``None`` = national defaults.
        Read: ``credit.thresholds``, ``ban_months``, ``mlps.validity_months``, ``code``.
        ``evaluate(ds, as_of, thresholds=..., ...)`` (a date in second place, no profile)
        is accepted too.
    as_of : date
        The evaluation date; rows dated after it are ignored.
    previous : DataFrame or None
        The previous published table (``credit.csv``: provider_id, list, ban_until,
        decided_on, optionally reasons).  ``None`` = first run: everyone starts white and the
        findings of the last ``lookback_months`` count as new.  A provider black in it whose
        ban is in force but who is absent from ``ds`` keeps its row (reasons ``ban_in_force``
        and ``not_in_input``; not scored: :func:`~evalkit.evaluate.credit_status.carry_absent_bans`).
    listed_apps : app ids on the province's published recommended list (for the grey-list
        complaint trigger, reason ``substantiated_complaint_listed_app``), or a mapping of them
        to the date each was listed (``listed_on``): a complaint then counts against a listed app
        only if it came on or after that date, and one that came before the province's first
        listing date counts against an app submitted to ``province``, as on a first cycle.
        ``None`` = no list published yet: the trigger then looks at every app submitted to
        ``province`` (every app if no province) and says so (reason
        ``substantiated_complaint_submitted_app``).
    province : restrict to providers domiciled in this province or with an app submitted to
        it; default the profile's ``code`` (``None``: every provider).
    thresholds, ban_months, mlps_validity_months : explicit values overriding the profile.
    params : a complete :class:`CreditParams` (overrides everything above).

    Returns
    -------
    CreditResult

    Raises
    ------
    DataError
        A required column is missing, or ``previous`` is malformed.
    """
    if as_of is None and isinstance(profile, (str, pd.Timestamp, np.datetime64, date)):
        profile, as_of = None, profile  # evaluate(ds, as_of, ...) without a profile
    when = parse_date(as_of, func="credit.evaluate")
    p = params or params_from_profile(profile, thresholds=thresholds, ban_months=ban_months,
                                      mlps_validity_months=mlps_validity_months)
    if province is None and profile is not None:
        province = profile_value(profile, "code")
    subs = getattr(ds, "submissions", None)
    ctx = prepare(ds, when, p, "credit.evaluate")
    if province is not None:
        ctx = province_view(ctx, str(province), subs, also=_previously_black(previous))
    scope = _complaint_apps(listed_apps, province, subs)

    scores = score_table(ctx)
    downgrade = _downgrade(ctx)
    grade = grade_kernel(scores["score"].to_numpy(), p.thresholds)
    grade = np.where(downgrade["fraud"] | downgrade["serious_violation"], "D", grade)
    status, history = decide_status(ctx, grade, downgrade, previous, scope)
    # a ban in force is a direct downgrade too: a banned provider never reads "A (trustworthy)"
    # (nothing is re-decided during a ban, so the grade's late change moves no list)
    downgrade["ban_in_force"] = status["reasons"].astype(str).str.contains(r"(?:^|;)ban_in_force(?:;|$)").to_numpy()
    grade = np.where(downgrade["ban_in_force"], "D", grade)
    providers = carry_absent_bans(_provider_table(ctx, scores, grade, downgrade, status), previous, when,
                                  p.thresholds)
    return CreditResult(providers, history, _complaint_table(ctx, province, subs), when, p)


def _previously_black(previous: pd.DataFrame | None) -> list[str]:
    """The providers black in the previous table: they stay in the province's evaluation
    (their ban holds, or its end is recorded) even without an app submitted this cycle."""
    if not isinstance(previous, pd.DataFrame) or not {"provider_id", "list"} <= set(previous.columns):
        return []
    black = previous["list"].astype(str).str.strip().str.lower().eq("black")
    return previous.loc[black.to_numpy(), "provider_id"].astype(str).tolist()


def _complaint_apps(listed_apps: Iterable[str] | Mapping[str, Any] | None, province: str | None,
                    subs: Any) -> ComplaintScope:
    """The apps whose substantiated complaints are a grey-list trigger (:class:`ComplaintScope`):
    the published list (with the dates its apps were listed, when known), and the apps
    submitted to the province (``None``: every app)."""
    submitted = None
    if province is not None and isinstance(subs, pd.DataFrame):
        submitted = pd.Index(subs.loc[(subs["province_code"].astype(str) == str(province)).to_numpy(),
                                      "app_id"].astype(str).unique())
    if listed_apps is None:
        return ComplaintScope(None, submitted)
    if isinstance(listed_apps, Mapping):
        on = pd.to_datetime(pd.Series({str(k): (v or None) for k, v in listed_apps.items()}, dtype=object))
        return ComplaintScope(on.astype("datetime64[us]"), submitted)
    ids = pd.Index([str(a) for a in listed_apps]).unique()
    return ComplaintScope(pd.Series(pd.NaT, index=ids, dtype="datetime64[us]"), submitted)


def _downgrade(ctx: CreditContext) -> dict[str, np.ndarray]:
    """The direct downgrade to D: fraud or a serious violation within ``downgrade_months``."""
    v = ctx.violations
    recent = ctx.recent(v, "found_on", ctx.params.downgrade_months)
    vcode = v["code"].to_numpy()
    return {
        "fraud": ctx.count(vcode[recent & v["fraud"].to_numpy()]) > 0,
        "serious_violation": ctx.count(
            vcode[recent & (v["severity"].astype(str) == "serious").to_numpy()]) > 0,
    }


def _provider_table(ctx: CreditContext, scores: pd.DataFrame, grade: np.ndarray,
                    downgrade: Mapping[str, np.ndarray], status: pd.DataFrame) -> pd.DataFrame:
    """One row per provider: identity, score, grade, list, the thresholds, the component
    points and the counts behind them (:attr:`CreditResult.providers`)."""
    pr = ctx.providers
    out = pd.DataFrame({
        "provider_id": ctx.ids.to_numpy(),
        "provider_name": pr["name"].astype(str).to_numpy(),
        "legal_rep": pr["legal_rep"].astype(str).to_numpy(),
        "province_code": pr["province_code"].astype(str).to_numpy(),
        "score": scores["score"].to_numpy(),
        "grade": grade.astype(str),
        "list": status["list"].astype(str).to_numpy(),
        "ban_until": status["ban_until"].to_numpy(),
        "decided_on": status["decided_on"].to_numpy(),
        "reasons": status["reasons"].astype(str).to_numpy(),
        "downgrade": join_codes(downgrade, ctx.n).astype(str),
        **{col: float(t) for col, t in zip(THRESHOLD_COLUMNS, ctx.params.thresholds, strict=True)},
    })
    out = pd.concat([out, scores.drop(columns="score")], axis=1)
    return pd.concat([out, counts(ctx)], axis=1)


def _complaint_table(ctx: CreditContext, province: str | None, subs: Any) -> pd.DataFrame:
    """The complaint statistics: with a province, of the complaints about providers based
    there."""
    if province is not None:
        home = ctx.providers["province_code"].astype(str).to_numpy() == str(province)
        ccode = ctx.complaints["code"].to_numpy()
        mine = ccode >= 0
        mine[mine] = home[ccode[mine]]
        ctx = replace(ctx, complaints=ctx.complaints.loc[mine])
    stats = province_stats(ctx, by="domicile", subs=subs)
    if province is not None:
        stats = stats.loc[stats["province_code"] == str(province)].reset_index(drop=True)
    return stats


def evaluate_for_profile(ds: Any, profile: Any, as_of: Any,
                         previous: pd.DataFrame | None = None, **kw: Any) -> CreditResult:
    """:func:`evaluate` with every parameter taken from a province ``profile``."""
    return evaluate(ds, profile, as_of, previous, **kw)


def continue_history(cr: CreditResult, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every status transition up to ``cr.as_of``, continued across published cycles.

    Parameters
    ----------
    cr : CreditResult
        This cycle's evaluation; its transitions (``cr.history``) are recorded on ``cr.as_of``.
    previous : DataFrame or None
        The previous cycle's published history (``credit_history.csv``, read as text), or
        ``None`` when there is none (a first cycle, or a previous set without the file).

    Returns
    -------
    DataFrame with :data:`HISTORY_COLUMNS`: the previous rows unchanged, then this cycle's,
    sorted by provider, date of the transition and cycle (a ban expiry before the decision of
    the same day).  ``reasons`` are ``;``-joined codes of :data:`REASONS`.

    Raises
    ------
    DataError
        ``previous`` lacks a column, has a list other than white/grey/black, or a date that
        is missing, malformed or later than ``cr.as_of``.
    """
    if not isinstance(cr, CreditResult):
        raise CreditError(param_message("cr", "credit.continue_history", "a CreditResult",
                                        type(cr).__name__))
    return continue_transitions(cr.history, cr.as_of, previous)


def banned_providers(cr: CreditResult | pd.DataFrame, as_of: Any) -> list[str]:
    """Provider ids whose ban is in force on ``as_of`` (sorted).

    A ban is in force while ``as_of < ban_until`` (``ban_until`` is the first day the
    provider may submit again); a black entry without an end date is in force.  A banned
    provider's apps are vetoed in the recommendation (reason ``provider_blacklisted``).
    """
    when = parse_date(as_of, func="credit.banned_providers")
    frame = cr.providers if isinstance(cr, CreditResult) else cr
    if not isinstance(frame, pd.DataFrame) or not {"provider_id", "list", "ban_until"} <= set(
            frame.columns):
        raise CreditError(param_message(
            "cr", "credit.banned_providers",
            "a CreditResult or a table with provider_id, list and ban_until", type(cr).__name__))
    ban = pd.to_datetime(frame["ban_until"].replace("", None), errors="coerce")
    black = frame["list"].astype(str).str.strip().str.lower() == "black"
    force = black & ~(ban <= when)
    return sorted(frame.loc[force.to_numpy(), "provider_id"].astype(str).unique().tolist())
