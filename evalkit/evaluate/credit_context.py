"""The prepared rows of a credit evaluation: every provider's rows as of a date, by integer code.

A dataset's rows are prepared once per date (:func:`prepare`: dates, working days, provider
codes; cached while its tables live) into a :class:`CreditContext`; the credit components, the
status machine, the complaint statistics and the early warning (:mod:`evalkit.evaluate.risk`)
read them from there.  Per-provider figures are ``np.bincount`` over the integer provider codes
(:meth:`CreditContext.count`), never a loop over providers or rows.  A province's evaluation
takes its providers' rows from the national context by integer position
(:func:`province_view`): a national run of 32 provinces prepares the million complaints once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DataError, Problem, param_message
from evalkit.evaluate.credit_params import CreditError, CreditParams
from evalkit.rubric.calendar import WorkCalendar, load_calendar

__all__ = ["REQUIRED_COLUMNS", "CreditContext", "add_working_days", "as_bool", "prepare", "province_view",
           "working_days"]


# --------------------------------------------------------------------------------------------
# kernels: dates and working days
# --------------------------------------------------------------------------------------------


def working_days(
    start: pd.Series | np.ndarray,
    end: pd.Series | np.ndarray | pd.Timestamp,
    calendar: WorkCalendar | None = None,
) -> np.ndarray:
    """Working days from ``start`` (exclusive) to ``end`` (inclusive), NaN where either is NaT
    (:meth:`evalkit.rubric.calendar.WorkCalendar.working_days`).

    Weekends and holidays are not working days, make-up working days (调休) are.  A complaint
    received on a Friday and resolved the next Monday took 1 working day; resolved the same
    day, 0.

    Parameters
    ----------
    start, end : dates (``end`` may be a single date, e.g. ``as_of``).
    calendar : the working-day calendar (default ``rubrics/calendar/cn.yaml``).

    Returns
    -------
    numpy.ndarray of float64.
    """
    cal = calendar if calendar is not None else load_calendar()
    return cal.working_days(start, end)


def add_working_days(start: pd.Series | np.ndarray | pd.Timestamp, n: int,
                     calendar: WorkCalendar | None = None) -> np.ndarray:
    """The date ``n`` working days after ``start`` (the same calendar as :func:`working_days`:
    ``working_days(start, add_working_days(start, n)) == n``); NaT stays NaT
    (:meth:`evalkit.rubric.calendar.WorkCalendar.add_working_days_each`).

    Returns
    -------
    numpy.ndarray of ``datetime64[D]``.
    """
    cal = calendar if calendar is not None else load_calendar()
    return cal.add_working_days_each(start, n)


def as_bool(s: pd.Series) -> np.ndarray:
    """Nullable boolean → plain bool (missing = False)."""
    return s.astype("boolean").fillna(False).to_numpy(dtype=bool)


# --------------------------------------------------------------------------------------------
# the prepared context shared by the components
# --------------------------------------------------------------------------------------------


@dataclass
class CreditContext:
    """Every provider's rows as of ``as_of``; ``code`` columns are integer provider codes
    (positions in ``ids``, −1 for an unknown provider)."""

    as_of: pd.Timestamp
    params: CreditParams
    ids: pd.Index  # provider ids, sorted
    providers: pd.DataFrame  # aligned to ids
    apps: pd.DataFrame  # + code (provider code); app_id categorical
    complaints: pd.DataFrame  # + code, event_on, wd, wd_open; app_id/category/channel categorical
    violations: pd.DataFrame  # + code, overdue (bool)
    assessments: pd.DataFrame

    @property
    def n(self) -> int:
        return len(self.ids)

    def count(self, codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Per-provider sum (``np.bincount``) of rows with integer provider ``codes``."""
        keep = codes >= 0
        w = None if weights is None else np.asarray(weights, dtype=float)[keep]
        return np.bincount(codes[keep], weights=w, minlength=self.n).astype(float)

    def since(self, months: int) -> pd.Timestamp:
        return self.as_of - pd.DateOffset(months=months)

    def recent(self, frame: pd.DataFrame, col: str, months: int) -> np.ndarray:
        """Rows of ``frame`` whose ``col`` date is within the last ``months`` months."""
        return (pd.to_datetime(frame[col]) > self.since(months)).to_numpy()

    def due_and_late(self) -> tuple[np.ndarray, np.ndarray]:
        """Per complaint: (due: handled or overdue, late: not handled in time)."""
        c = self.complaints
        lim = self.params.handling_days
        resolved = c["resolved_on"].notna().to_numpy()
        wd, wd_open = c["wd"].to_numpy(), c["wd_open"].to_numpy()
        late = np.where(resolved, wd > lim, wd_open > lim)
        due = resolved | (wd_open > lim)
        return due, late


#: The tables and columns a credit evaluation reads.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "providers": ("provider_id", "name", "province_code", "legal_rep", "mlps_level",
                  "mlps_evaluated_on"),
    "apps": ("app_id", "provider_id", "info_updated_on", "last_release_on"),
    "complaints": ("complaint_id", "app_id", "received_on", "channel", "category",
                   "substantiated", "resolved_on"),
    "violations": ("violation_id", "provider_id", "found_on", "severity", "fraud",
                   "rectify_by", "rectified_on"),
    "assessments": ("app_id", "criterion_id", "value", "assessed_on"),
}


def _frames(ds: Any, func: str) -> dict[str, pd.DataFrame]:
    """The tables of :data:`REQUIRED_COLUMNS` (every missing column reported at once)."""
    problems: list[Problem] = []
    out: dict[str, pd.DataFrame] = {}
    for name, cols in REQUIRED_COLUMNS.items():
        frame = getattr(ds, name, None)
        if not isinstance(frame, pd.DataFrame):
            raise CreditError(param_message("ds", func, f"an evalkit Dataset with a '{name}' DataFrame",
                                            f"{type(frame).__name__} for '{name}'"))
        for c in cols:
            if c not in frame.columns:
                problems.append(Problem(f"{name}", None, c, f"missing column '{c}' ({func})"))
        out[name] = frame
    if problems:
        raise DataError(problems)
    return out


#: Criteria whose assessments a component reads (``security_certification``); :func:`prepare`
#: keeps only their rows, a small part of the assessments table.
_ASSESSED = ("S11_security_certification",)

#: The provider code of each row's app.
_AppOwners = Callable[[pd.Series], np.ndarray]

#: Prepared contexts, per (input frames, as_of, calendar): a national run evaluates the credit
#: of 32 provinces and the early warning on the same tables, so the dates, working days and
#: codes of every complaint are computed once.  An entry is held while its frames live (weak
#: references, checked by identity and length, so it never serves another dataset) and is
#: read-only: the contexts handed out share its frames.
_PREPARED: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[int, ...], CreditContext]] = {}


def prepare(ds: Any, as_of: pd.Timestamp, params: CreditParams, func: str) -> CreditContext:
    """Every provider's rows as of ``as_of`` with integer provider codes (cached, see
    :data:`_PREPARED`); only ``params.calendar`` of the parameters shapes the rows.

    ``func`` names the public function asking, for the messages about missing tables."""
    f = _frames(ds, func)
    frames = tuple(f.values())
    key = (tuple(id(x) for x in frames), as_of, id(params.calendar))
    sizes = tuple(len(x) for x in frames)
    hit = _PREPARED.get(key)
    if hit is not None and all(r() is x for r, x in zip(hit[0], frames, strict=True)) and hit[1] == sizes:
        return replace(hit[2], params=params)
    for k in [k for k, v in _PREPARED.items() if any(r() is None for r in v[0])]:
        del _PREPARED[k]  # frames gone
    ctx = _prepare_frames(f, as_of, params)
    _PREPARED[key] = (tuple(weakref.ref(x) for x in frames), sizes, ctx)
    return ctx


def _prepare_frames(f: Mapping[str, pd.DataFrame], as_of: pd.Timestamp,
                    params: CreditParams) -> CreditContext:
    """Nothing dated after ``as_of`` is known at ``as_of``: such rows are dropped, later
    resolutions and rectifications are treated as not yet happened."""
    prov = f["providers"].drop_duplicates("provider_id").sort_values("provider_id")
    prov = prov.reset_index(drop=True)
    ids = pd.Index(prov["provider_id"].astype(str))
    apps = f["apps"].copy()
    apps["code"] = ids.get_indexer(apps["provider_id"].astype(str))
    owner_of = _provider_of_apps(apps)
    apps["app_id"] = apps["app_id"].astype(str).astype("category")
    complaints = _complaint_rows(f["complaints"], as_of, params.calendar, owner_of)
    violations = _violation_rows(f["violations"], as_of, ids)
    assessments = _assessment_rows(f["assessments"], as_of, owner_of)
    return CreditContext(as_of, params, ids, prov, apps, complaints, violations, assessments)


def _provider_of_apps(apps: pd.DataFrame) -> _AppOwners:
    """A function: the provider code of each row's app (−1 if unknown), looked up once per
    distinct app."""
    app_index = pd.Index(apps["app_id"].astype(str))
    app_code = apps["code"].to_numpy()

    def codes_of_apps(app_ids: pd.Series) -> np.ndarray:
        cat = app_ids.astype(str).astype("category").cat
        pos = app_index.get_indexer(cat.categories)
        per_app = np.append(np.where(pos >= 0, app_code[np.maximum(pos, 0)], -1), -1)
        return per_app[cat.codes.to_numpy()]  # code −1 (missing id) reads the appended −1

    return codes_of_apps


def _complaint_rows(c: pd.DataFrame, as_of: pd.Timestamp, calendar: WorkCalendar,
                    owner_of: _AppOwners) -> pd.DataFrame:
    """The complaints known at ``as_of`` with their provider code and working days.

    Only the columns the components read are kept (no complainant field); app_id, category
    and channel become categoricals (cheap to slice and count), a missing channel "unknown".
    """
    received = pd.to_datetime(c["received_on"])
    c = c.loc[(received <= as_of).to_numpy(),
              ["app_id", "received_on", "channel", "category", "substantiated", "resolved_on"]]
    c = c.copy()
    res = pd.to_datetime(c["resolved_on"])
    late = (res > as_of).to_numpy()
    c["resolved_on"] = res.mask(late)
    c["substantiated"] = c["substantiated"].astype("boolean").mask(late)
    c["app_id"] = c["app_id"].astype(str).astype("category")
    c["code"] = owner_of(c["app_id"])
    c["category"] = c["category"].astype(str).astype("category")
    c["channel"] = c["channel"].fillna("").astype(str).replace("", "unknown").astype("category")
    c["event_on"] = c["resolved_on"].fillna(pd.to_datetime(c["received_on"]))
    c["wd"] = working_days(c["received_on"], c["resolved_on"], calendar)
    c["wd_open"] = working_days(c["received_on"], as_of, calendar)
    return c


def _violation_rows(v: pd.DataFrame, as_of: pd.Timestamp, ids: pd.Index) -> pd.DataFrame:
    """The violations found by ``as_of`` with their provider code and ``overdue`` flag."""
    found = pd.to_datetime(v["found_on"])
    v = v.loc[(found <= as_of).to_numpy()].copy()
    rect = pd.to_datetime(v["rectified_on"])
    v["rectified_on"] = rect.mask(rect > as_of)
    v["code"] = ids.get_indexer(v["provider_id"].astype(str))
    # A violation without a deadline must be rectified at once (deadline = found_on).
    deadline = pd.to_datetime(v["rectify_by"]).fillna(pd.to_datetime(v["found_on"]))
    v["overdue"] = (v["rectified_on"].isna() & (deadline < as_of)).to_numpy()
    v["fraud"] = as_bool(v["fraud"])
    return v


def _assessment_rows(a: pd.DataFrame, as_of: pd.Timestamp, owner_of: _AppOwners) -> pd.DataFrame:
    """The assessments of :data:`_ASSESSED` known at ``as_of`` with their provider code."""
    a = a.loc[a["criterion_id"].isin(_ASSESSED).to_numpy()]
    a = a.loc[(pd.to_datetime(a["assessed_on"]) <= as_of).to_numpy()].copy()
    a["code"] = owner_of(a["app_id"])
    return a


def province_view(ctx: CreditContext, province: str, subs: pd.DataFrame | None,
                  also: Iterable[str] = ()) -> CreditContext:
    """The context of a province's credit evaluation: the providers domiciled there or with an
    app submitted there (``subs``; without submissions, those domiciled there), and the providers
    ``also`` (those the province banned before, whatever they submit now), with all their apps,
    complaints, violations and assessments.

    Every credit component is computed per provider from that provider's own rows, so the
    result equals the national computation filtered to the province, at a province's cost:
    the rows are taken by integer position from the (cached) national context.
    """
    keep = ctx.providers["province_code"].astype(str).to_numpy() == province
    if isinstance(subs, pd.DataFrame):
        sub_apps = subs.loc[(subs["province_code"].astype(str) == province).to_numpy(), "app_id"]
        acode = ctx.apps["code"].to_numpy()
        keep[acode[ctx.apps["app_id"].isin(sub_apps).to_numpy() & (acode >= 0)]] = True
    keep |= ctx.ids.isin(list(also))
    return _subset(ctx, keep)


def _subset(ctx: CreditContext, keep: np.ndarray) -> CreditContext:
    """``ctx`` restricted to the providers where ``keep`` is true (codes renumbered); rows of
    other or unknown providers are dropped."""
    new_code = np.where(keep, np.cumsum(keep) - 1, -1)

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        code = frame["code"].to_numpy()
        sel = np.flatnonzero((code >= 0) & keep[np.maximum(code, 0)])
        out = frame.take(sel)
        out["code"] = new_code[code[sel]]
        return out

    return replace(ctx, ids=ctx.ids[keep],
                   providers=ctx.providers.loc[keep].reset_index(drop=True),
                   apps=rows(ctx.apps), complaints=rows(ctx.complaints),
                   violations=rows(ctx.violations), assessments=rows(ctx.assessments))
