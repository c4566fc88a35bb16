"""Complaint statistics per province, by category and by channel (aggregates only).

Sections (13) of the 2019 Opinions: complaint handling.  Complaint contact data and
complaint text never leave the prepared rows (:mod:`evalkit.evaluate.credit_context` keeps no
complainant field); sums are ``np.bincount`` over integer group codes and medians are read
from one sort of (group, working days).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from evalkit.dates import parse_date
from evalkit.errors import choice_message
from evalkit.evaluate.credit_context import CreditContext, as_bool, prepare
from evalkit.evaluate.credit_params import CreditError, CreditParams
from evalkit.rubric.calendar import WorkCalendar

__all__ = ["STATS_COLUMNS", "complaint_stats", "group_mean_median", "province_stats"]

def complaint_stats(ds: Any, as_of: Any, *, by: str = "domicile",
                    calendar: WorkCalendar | None = None, handling_days: int = 15,
                    window_months: int | None = None) -> pd.DataFrame:
    """Complaint statistics per province, by category and by channel (aggregates only).

    Parameters
    ----------
    ds : Dataset
    as_of : date; complaints received after it are ignored, later resolutions count as open.
    by : ``"domicile"`` (default: each complaint counts once, in the province of the
        provider's domicile, which supervises its filing) or ``"submissions"`` (in every
        province the app was submitted to; totals then exceed the national count).
    calendar : the working-day calendar (default ``rubrics/calendar/cn.yaml``).
    handling_days : working days allowed (15).
    window_months : only complaints received in the last months (``None``: all).

    Returns
    -------
    DataFrame with province_code, dimension (``all``/``category``/``channel``), value,
    n_complaints, n_substantiated, n_resolved, n_open, n_overdue, mean_working_days,
    median_working_days, share_within_limit (of the complaints that are due).  Contact data
    and complaint text never appear.
    """
    if by not in ("domicile", "submissions"):
        raise CreditError(choice_message("by", "credit.complaint_stats", by, ("domicile", "submissions")))
    when = parse_date(as_of, func="credit.complaint_stats")
    p = CreditParams(calendar=calendar, handling_days=handling_days)
    ctx = prepare(ds, when, p, "credit.complaint_stats")
    if window_months is not None:
        keep = ctx.recent(ctx.complaints, "received_on", window_months)
        ctx = replace(ctx, complaints=ctx.complaints.loc[keep])
    return province_stats(ctx, by=by, subs=getattr(ds, "submissions", None))


#: Columns of the complaint statistics.
STATS_COLUMNS = ["province_code", "dimension", "value", "n_complaints", "n_substantiated",
                 "n_resolved", "n_open", "n_overdue", "mean_working_days",
                 "median_working_days", "share_within_limit"]


def province_stats(ctx: CreditContext, *, by: str, subs: Any) -> pd.DataFrame:
    """Per (province, dimension, value) aggregates of the complaints of ``ctx`` (see
    :func:`complaint_stats`)."""
    c = ctx.complaints
    due, late = ctx.due_and_late()
    resolved = c["resolved_on"].notna().to_numpy()
    flags = {
        "n_substantiated": as_bool(c["substantiated"]),
        "n_resolved": resolved,
        "n_overdue": ~resolved & late,
        "n_due": due,
        "n_in_time": due & ~late,
    }
    located = _complaint_provinces(ctx, by, subs)
    if located is None:
        return pd.DataFrame(columns=STATS_COLUMNS)
    rows, where = located
    pcode, provinces = pd.factorize(where, sort=True)
    parts = [_dimension_stats(c, dim, rows, pcode, provinces, flags)
             for dim in ("all", "category", "channel")]  # a handful of dimensions, not rows
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=STATS_COLUMNS)
    out["n_open"] = out["n_complaints"] - out["n_resolved"]
    n_due = out["n_due"].to_numpy(float)
    out["share_within_limit"] = np.divide(out["n_in_time"].to_numpy(float), n_due,
                                          out=np.full(len(out), np.nan), where=n_due > 0).round(4)
    out["mean_working_days"] = out["mean_working_days"].round(2)
    return out[STATS_COLUMNS].sort_values(["province_code", "dimension", "value"],
                                          kind="stable").reset_index(drop=True)


def _complaint_provinces(ctx: CreditContext, by: str, subs: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The complaint rows counted and the province each counts in (a row once per province):
    the provider's domicile, or every province its app was submitted to (``None`` without
    submissions)."""
    c = ctx.complaints
    if by == "domicile":
        code = c["code"].to_numpy()
        prov = ctx.providers["province_code"].astype(str).to_numpy(object)
        rows = np.flatnonzero(code >= 0)
        where = prov[code[rows]]
    else:
        if not isinstance(subs, pd.DataFrame):
            return None
        pairs = subs[["app_id", "province_code"]].astype(str).drop_duplicates()
        hits = pd.DataFrame({"row": np.arange(len(c)),
                             "app_id": c["app_id"].astype(str).to_numpy(object)}).merge(
            pairs, on="app_id", how="inner")
        rows, where = hits["row"].to_numpy(), hits["province_code"].to_numpy(object)
    ok = where != ""
    return rows[ok], where[ok]


def _dimension_stats(c: pd.DataFrame, dim: str, rows: np.ndarray, pcode: np.ndarray,
                     provinces: np.ndarray, flags: dict[str, np.ndarray]) -> pd.DataFrame:
    """The aggregates of one dimension (``all``, ``category`` or ``channel``) over the complaint
    ``rows`` counted in province ``provinces[pcode]``: sums are ``np.bincount`` over integer
    (province, value) codes, medians are read from one sort of (group, working days)."""
    wd = c["wd"].to_numpy()[rows]
    if dim == "all":
        vcode, values = np.zeros(len(rows), dtype=np.intp), np.array(["all"], dtype=object)
    else:
        col = c[dim].astype("category")
        vcode = col.cat.codes.to_numpy()[rows].astype(np.intp)
        values = col.cat.categories.astype(str).to_numpy(object)
    sel = vcode >= 0  # a missing category is not a group
    g = pcode[sel] * len(values) + vcode[sel]
    size = len(provinces) * len(values)
    n = np.bincount(g, minlength=size)
    seen = np.flatnonzero(n)
    counts = {k: np.bincount(g, weights=f[rows][sel], minlength=size)[seen].astype("int64")
              for k, f in flags.items()}
    mean, median = group_mean_median(g, wd[sel], size)
    return pd.DataFrame({
        "province_code": provinces[seen // len(values)],
        "dimension": dim,
        "value": values[seen % len(values)],
        "n_complaints": n[seen].astype("int64"),
        **counts,
        "mean_working_days": mean[seen],
        "median_working_days": median[seen],
    })


def group_mean_median(g: np.ndarray, x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and median of ``x`` per group code ``g`` in ``range(size)``, NaNs skipped (NaN
    for a group without values).  The median of an even count is the mean of the middle two."""
    ok = ~np.isnan(x)
    g, x = g[ok], x[ok]
    k = np.bincount(g, minlength=size)
    mean = np.divide(np.bincount(g, weights=x, minlength=size), k, out=np.full(size, np.nan),
                     where=k > 0)
    order = np.lexsort((x, g))
    xs = x[order]
    start = np.cumsum(k) - k
    has = k > 0
    lo = xs[(start + (k - 1) // 2)[has]]
    hi = xs[(start + k // 2)[has]]
    median = np.full(size, np.nan)
    median[has] = (lo + hi) / 2
    return mean, median

