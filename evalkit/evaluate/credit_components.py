"""Credit components: a named registry of the score's parts, the score and the grade.

``score = clip(100 + sum of c_<name>, 0, 100)`` (:data:`~evalkit.evaluate.credit_params.SCORE_RULE`).
Each component of :data:`COMPONENTS` is a small vectorised function of the prepared rows
(:class:`~evalkit.evaluate.credit_context.CreditContext`) returning the share in ``[0, 1]`` of
its maximum points (``CreditParams.points``) of every provider, so each point can be traced to
its component.  ``c_<name>`` is signed (a deduction ≤ 0, a bonus ≥ 0) and rounded to 0.01
points, so a published ``credit.csv`` recomputes its scores without any rounding doubt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalkit.errors import param_message
from evalkit.evaluate.credit_context import CreditContext, as_bool
from evalkit.evaluate.credit_params import POINT_DIGITS, CreditError
from evalkit.registry import Registry

__all__ = [
    "COMPONENTS",
    "COMPONENT_COLUMNS",
    "Component",
    "check_points",
    "counts",
    "grade_kernel",
    "n_apps",
    "score_table",
    "substantiated_recent",
]


@dataclass(frozen=True)
class Component:
    """A credit component: ``func(ctx)`` returns points in ``[0, 1]`` × its maximum.

    ``kind`` is ``deduction`` (subtracted from 100) or ``bonus`` (added).
    """

    name: str
    kind: str
    name_zh: str
    name_en: str
    rule_en: str
    func: Callable[[CreditContext], np.ndarray]

    @property
    def sign(self) -> float:
        """−1 for a deduction, +1 for a bonus: the sign of its ``c_<name>`` points."""
        return -1.0 if self.kind == "deduction" else 1.0


#: The credit components, by name, in the order of their ``c_<name>`` columns.
COMPONENTS: Registry[Component] = Registry("credit component")


def _component(name: str, kind: str, zh: str, en: str, rule: str
               ) -> Callable[[Callable[[CreditContext], np.ndarray]], Callable[[CreditContext], np.ndarray]]:
    """Register the decorated function as the component ``name`` (a name registered twice
    raises :class:`~evalkit.registry.RegistryError`)."""
    def deco(func: Callable[[CreditContext], np.ndarray]) -> Callable[[CreditContext], np.ndarray]:
        COMPONENTS.register(name, Component(name, kind, zh, en, rule, func))
        return func

    return deco


def n_apps(ctx: CreditContext) -> np.ndarray:
    """Apps per provider."""
    return ctx.count(ctx.apps["code"].to_numpy())


@_component("complaint_rate", "deduction", "投诉率", "complaint rate",
            "complaints per app in the last 12 months; full deduction at 5 per app")
def _c_complaint_rate(ctx: CreditContext) -> np.ndarray:
    c = ctx.complaints
    recent = ctx.recent(c, "received_on", ctx.params.complaint_window_months)
    rate = ctx.count(c["code"].to_numpy()[recent]) / np.maximum(n_apps(ctx), 1.0)
    return np.minimum(rate / ctx.params.complaints_per_app_full, 1.0)


@_component("substantiated_share", "deduction", "投诉核实率", "substantiated share",
            "share of decided complaints of the last 24 months found substantiated")
def _c_substantiated(ctx: CreditContext) -> np.ndarray:
    c = ctx.complaints
    recent = ctx.recent(c, "received_on", ctx.params.lookback_months)
    decided = recent & c["substantiated"].notna().to_numpy()
    codes = c["code"].to_numpy()
    n = ctx.count(codes[decided])
    k = ctx.count(codes[decided & as_bool(c["substantiated"])])
    return np.divide(k, n, out=np.zeros(ctx.n), where=n > 0)


@_component("handling_time", "deduction", "投诉处理时效", "complaint handling time",
            "share of due complaints of the last 12 months not handled within 15 working days")
def _c_handling(ctx: CreditContext) -> np.ndarray:
    c = ctx.complaints
    recent = ctx.recent(c, "received_on", ctx.params.complaint_window_months)
    due, late = ctx.due_and_late()
    codes = c["code"].to_numpy()
    n = ctx.count(codes[recent & due])
    k = ctx.count(codes[recent & due & late])
    return np.divide(k, n, out=np.zeros(ctx.n), where=n > 0)


@_component("violations", "deduction", "违规记录", "violations",
            "violations of the last 24 months: minor 3, major 8, serious 20 points; at most 40")
def _c_violations(ctx: CreditContext) -> np.ndarray:
    v = ctx.violations
    recent = ctx.recent(v, "found_on", ctx.params.lookback_months)
    pts = v["severity"].astype(str).map(ctx.params.severity_points).fillna(0.0).to_numpy(float)
    total = ctx.count(v["code"].to_numpy()[recent], pts[recent])
    return np.minimum(total / ctx.params.points["violations"], 1.0)


@_component("unrectified", "deduction", "逾期未整改", "unrectified past the deadline",
            "10 points per violation not rectified by its deadline (any age); at most 30")
def _c_unrectified(ctx: CreditContext) -> np.ndarray:
    v = ctx.violations
    n = ctx.count(v["code"].to_numpy()[v["overdue"].to_numpy()])
    return np.minimum(n * ctx.params.unrectified_points / ctx.params.points["unrectified"], 1.0)


@_component("filing_outdated", "deduction", "备案信息未及时更新", "filing not updated",
            "share of the provider's apps released after their filing was last updated")
def _c_filing(ctx: CreditContext) -> np.ndarray:
    a = ctx.apps
    upd, rel = pd.to_datetime(a["info_updated_on"]), pd.to_datetime(a["last_release_on"])
    stale = (upd < rel).fillna(False).to_numpy(bool)
    codes = a["code"].to_numpy()
    n = ctx.count(codes)
    return np.divide(ctx.count(codes[stale]), n, out=np.zeros(ctx.n), where=n > 0)


def _mlps_expired(ctx: CreditContext) -> np.ndarray:
    pr = ctx.providers
    level = pd.to_numeric(pr["mlps_level"], errors="coerce").to_numpy(float)
    table = ctx.params.mlps_validity_months
    keys = np.array(sorted(table))
    # Level 1 needs no evaluation; above the highest key, the highest key's validity applies.
    idx = np.searchsorted(keys, np.nan_to_num(level, nan=0), side="right") - 1
    months = np.where(idx >= 0, np.array([table[k] for k in keys])[np.maximum(idx, 0)], 0)
    evaluated = pd.to_datetime(pr["mlps_evaluated_on"]).to_numpy("datetime64[us]")
    needs = np.isnan(level) | (level >= keys[0])
    # Month arithmetic per distinct validity (a handful), not per provider.
    expires = np.full(len(pr), np.datetime64("NaT"), dtype="datetime64[us]")
    for m in np.unique(months[months > 0]):
        sel = months == m
        expires[sel] = (pd.DatetimeIndex(evaluated[sel]) + pd.DateOffset(months=int(m))
                        ).to_numpy("datetime64[us]")
    expired = np.isnan(level) | np.isnat(expires) | (expires < ctx.as_of.to_datetime64())
    return (needs & expired).astype(float)


@_component("mlps_expired", "deduction", "等保测评过期", "MLPS evaluation expired",
            "no MLPS filing, or the latest evaluation older than its level's validity")
def _c_mlps(ctx: CreditContext) -> np.ndarray:
    return _mlps_expired(ctx)


@_component("security_certification", "bonus", "安全认证", "security certification",
            "share of the provider's apps whose latest S11_security_certification is true")
def _c_cert(ctx: CreditContext) -> np.ndarray:
    a = ctx.assessments
    a = a.loc[(a["criterion_id"] == "S11_security_certification").to_numpy()]
    a = a.sort_values(["app_id", "assessed_on"], kind="stable").drop_duplicates(
        "app_id", keep="last")
    if "value_num" in a.columns:
        ok = (pd.to_numeric(a["value_num"], errors="coerce") == 1).to_numpy()
    else:
        ok = a["value"].astype(str).str.strip().str.lower().isin(["true", "1"]).to_numpy()
    certified = pd.Index(a["app_id"].astype(str).to_numpy()[ok])
    apps = ctx.apps
    codes = apps["code"].to_numpy()
    n = ctx.count(codes)
    k = ctx.count(codes[apps["app_id"].isin(certified).to_numpy()])
    return np.divide(k, n, out=np.zeros(ctx.n), where=n > 0)


def substantiated_recent(ctx: CreditContext) -> np.ndarray:
    """Substantiated complaints per provider in the look-back window."""
    c = ctx.complaints
    recent = ctx.recent(c, "received_on", ctx.params.lookback_months)
    return ctx.count(c["code"].to_numpy()[recent & as_bool(c["substantiated"])])


@_component("clean_record", "bonus", "良好记录", "clean record",
            "no violation and no substantiated complaint in the last 24 months")
def _c_clean(ctx: CreditContext) -> np.ndarray:
    v = ctx.violations
    nv = ctx.count(v["code"].to_numpy()[ctx.recent(v, "found_on", ctx.params.lookback_months)])
    return ((nv == 0) & (substantiated_recent(ctx) == 0)).astype(float)


#: The component columns of a credit table, in registry order.
COMPONENT_COLUMNS: tuple[str, ...] = tuple(f"c_{name}" for name in COMPONENTS)


# --------------------------------------------------------------------------------------------
# score, grade and the counts behind them
# --------------------------------------------------------------------------------------------


def grade_kernel(score: np.ndarray, thresholds: tuple[float, float, float]) -> np.ndarray:
    """Grade A, B, C or D of each score (before the direct downgrade)."""
    a, b, c = thresholds
    return np.select([score >= a, score >= b, score >= c], ["A", "B", "C"], "D").astype(object)


def check_points(points: Mapping[str, float]) -> None:
    """Refuse maximum points for a component that is not registered."""
    unknown = set(points) - set(COMPONENTS)
    if unknown:
        raise CreditError(param_message("points", "credit.evaluate",
                                        f"a mapping of registered components {sorted(COMPONENTS)}",
                                        f"unknown {sorted(unknown)}"))


def score_table(ctx: CreditContext) -> pd.DataFrame:
    """``score`` and the signed points ``c_<name>`` of every component (``SCORE_RULE``).

    Each component's points are rounded to ``POINT_DIGITS`` decimals first, so the score
    is exactly 100 plus their sum, clipped (the final rounding only removes float noise).
    """
    check_points(ctx.params.points)
    cols = {f"c_{name}": np.round(comp.sign * comp.func(ctx) * float(ctx.params.points.get(name, 0.0)),
                                  POINT_DIGITS) + 0.0  # + 0.0: no −0.0
            for name, comp in COMPONENTS.items()}
    out = pd.DataFrame(cols, index=pd.RangeIndex(ctx.n))
    total = 100.0 + out.sum(axis=1).to_numpy(float)
    out.insert(0, "score", np.round(np.clip(total, 0.0, 100.0), POINT_DIGITS))
    return out


def counts(ctx: CreditContext) -> pd.DataFrame:
    """The counts behind the components, per provider (columns of a credit table)."""
    c, v = ctx.complaints, ctx.violations
    crecent = ctx.recent(c, "received_on", ctx.params.complaint_window_months)
    due, late = ctx.due_and_late()
    ccode = c["code"].to_numpy()
    n_due = ctx.count(ccode[crecent & due])
    n_in_time = ctx.count(ccode[crecent & due & ~late])
    vrecent = ctx.recent(v, "found_on", ctx.params.lookback_months)
    vcode = v["code"].to_numpy()
    return pd.DataFrame({
        "n_apps": n_apps(ctx).astype(int),
        "n_complaints_12m": ctx.count(ccode[crecent]).astype(int),
        "n_substantiated_24m": substantiated_recent(ctx).astype(int),
        "share_handled_in_time": np.divide(n_in_time, n_due, out=np.full(ctx.n, np.nan),
                                           where=n_due > 0).round(4),
        "n_violations_24m": ctx.count(vcode[vrecent]).astype(int),
        "n_unrectified_overdue": ctx.count(vcode[v["overdue"].to_numpy()]).astype(int),
    })
