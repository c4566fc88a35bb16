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
  violation found within the last ``downgrade_months`` (24) (:data:`GRADE_RULE`).
* **Status machine**: white → grey (negative list) → black (ban until a date), reproducible
  from the inputs and the previous published table; a ban that has ended returns the provider
  to grey, never straight to white.
* **Complaint statistics**: aggregates only; complaint contact data and text never leave this
  module.

No function here loops over providers or rows: per-provider figures are ``np.bincount`` over
integer provider codes.  A dataset's rows are prepared once per date (dates, working days,
codes; cached while its tables live) and a province's evaluation takes its providers' rows from
them by integer position: a national run of 32 provinces prepares the million complaints once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from evalkit.dates import parse_date
from evalkit.errors import DataError, Problem

__all__ = [
    "COMPONENTS",
    "COMPONENT_COLUMNS",
    "DEFAULT_HOLIDAYS",
    "GRADE_RULE",
    "HISTORY_COLUMNS",
    "REASONS",
    "SCORE_RULE",
    "THRESHOLD_COLUMNS",
    "Component",
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

GRADES = ("A", "B", "C", "D")
LISTS = ("white", "grey", "black")
#: How ``score`` follows from the component columns of a credit table.
SCORE_RULE = "score = clip(100 + sum of the c_<component> columns, 0, 100)"
#: How ``grade`` follows from ``score``, the thresholds and the direct downgrade.
GRADE_RULE = ("grade = D if downgrade is not empty, else A if score >= threshold_a, "
              "B if score >= threshold_b, C if score >= threshold_c, else D")
#: Decimals of every component's points (the score is then exact at 0.01 points).
POINT_DIGITS = 2

#: Reason codes: stable, machine-readable, with Chinese and English text, in report order.
REASONS: dict[str, tuple[str, str]] = {
    "fraud": ("提供虚假材料或存在欺诈行为", "fraud (false material or deception)"),
    "serious_violation": ("近期存在严重违规", "serious violation within the look-back window"),
    "repeat_violation_while_grey": (
        "列入灰名单期间再次违规",
        "repeat violation while on the grey list",
    ),
    "grade_d_unrectified_serious": (
        "信用等级为D且严重违规逾期未整改",
        "grade D with a serious violation not rectified by its deadline",
    ),
    "substantiated_complaint_listed_app": (
        "推荐名单内应用被核实投诉",
        "substantiated complaint against an app on the province's list",
    ),
    # No list published yet (a province's first cycle): the apps under the province's review.
    "substantiated_complaint_submitted_app": (
        "提交本省评审的应用被核实投诉（尚无已发布的推荐名单）",
        ("substantiated complaint against an app submitted to the province's review "
         "(no list published yet)"),
    ),
    "grade_a": ("信用等级为A", "credit grade A"),
    "grade_b": ("信用等级为B", "credit grade B"),
    "grade_c": ("信用等级为C", "credit grade C"),
    "grade_d": ("信用等级为D", "credit grade D"),
    "ban_in_force": ("禁入期未满", "ban in force"),
    "ban_expired": ("禁入期届满，转入灰名单观察", "ban ended: back on the grey list for observation"),
    "grey_period": ("灰名单观察期未满", "grey-list observation period not over"),
    "grey_cleared": ("灰名单观察期满且无新问题", "grey-list period over with no new finding"),
    "no_list_trigger": ("无列入灰名单或黑名单的情形", "no grey- or black-list trigger"),
}

_REASON_ORDER = {code: i for i, code in enumerate(REASONS)}

#: Chinese national public holidays (法定节假日 as announced by the State Council General
#: Office), 2019–2026.  **Approximate**: the days off are listed, the make-up working weekends
#: (调休上班) are not, so a span crossing a holiday may count one or two working days fewer
#: than the official calendar.  Pass your own list to ``holidays=`` for exact counts.
DEFAULT_HOLIDAYS: tuple[str, ...] = tuple(
    str(d.date())
    for a, b in [
        ("2019-01-01", "2019-01-01"), ("2019-02-04", "2019-02-10"), ("2019-04-05", "2019-04-07"),
        ("2019-05-01", "2019-05-04"), ("2019-06-07", "2019-06-09"), ("2019-09-13", "2019-09-15"),
        ("2019-10-01", "2019-10-07"),
        ("2020-01-01", "2020-01-01"), ("2020-01-24", "2020-02-02"), ("2020-04-04", "2020-04-06"),
        ("2020-05-01", "2020-05-05"), ("2020-06-25", "2020-06-27"), ("2020-10-01", "2020-10-08"),
        ("2021-01-01", "2021-01-03"), ("2021-02-11", "2021-02-17"), ("2021-04-03", "2021-04-05"),
        ("2021-05-01", "2021-05-05"), ("2021-06-12", "2021-06-14"), ("2021-09-19", "2021-09-21"),
        ("2021-10-01", "2021-10-07"),
        ("2022-01-01", "2022-01-03"), ("2022-01-31", "2022-02-06"), ("2022-04-03", "2022-04-05"),
        ("2022-04-30", "2022-05-04"), ("2022-06-03", "2022-06-05"), ("2022-09-10", "2022-09-12"),
        ("2022-10-01", "2022-10-07"),
        ("2022-12-31", "2023-01-02"), ("2023-01-21", "2023-01-27"), ("2023-04-05", "2023-04-05"),
        ("2023-04-29", "2023-05-03"), ("2023-06-22", "2023-06-24"), ("2023-09-29", "2023-10-06"),
        ("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
        ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
        ("2024-10-01", "2024-10-07"),
        ("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
        ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08"),
        ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ]
    for d in pd.date_range(a, b)
)


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditParams:
    """Every number the credit evaluation uses (defaults = the national profile).

    Attributes
    ----------
    thresholds : minimum scores of grades A, B and C (descending).
    ban_months : length of a blacklist ban (6 nationally, 24 in Guangdong).
    mlps_validity_months : MLPS level → months an evaluation report stays current; level 1
        needs no evaluation; a level above the highest key uses the highest key's value.
    lookback_months : window for violations, substantiated complaints and the clean record,
        and for "new" findings on a first run without a previous table.
    complaint_window_months : window for the complaint rate and handling timeliness.
    downgrade_months : look-back window of the direct downgrade to D.
    grey_months : grey-list observation period before a provider may return to white.
    handling_days : working days allowed to handle a complaint.
    holidays : public holidays excluded from working days (ISO dates).
    points : maximum points of each component (see :data:`COMPONENTS`).
    severity_points : deduction per violation by severity.
    """

    thresholds: tuple[float, float, float] = (90.0, 70.0, 40.0)
    ban_months: int = 6
    mlps_validity_months: Mapping[int, int] = field(
        default_factory=lambda: {2: 24, 3: 12, 4: 6}
    )
    lookback_months: int = 24
    complaint_window_months: int = 12
    downgrade_months: int = 24
    grey_months: int = 12
    handling_days: int = 15
    holidays: tuple[str, ...] = DEFAULT_HOLIDAYS
    points: Mapping[str, float] = field(
        default_factory=lambda: {
            "complaint_rate": 10.0,
            "substantiated_share": 15.0,
            "handling_time": 10.0,
            "violations": 40.0,
            "unrectified": 30.0,
            "filing_outdated": 10.0,
            "mlps_expired": 10.0,
            "security_certification": 5.0,
            "clean_record": 5.0,
        }
    )
    severity_points: Mapping[str, float] = field(
        default_factory=lambda: {"minor": 3.0, "major": 8.0, "serious": 20.0}
    )
    unrectified_points: float = 10.0
    complaints_per_app_full: float = 5.0

    def __post_init__(self) -> None:
        t = tuple(float(x) for x in self.thresholds)
        if len(t) != 3 or not (100 >= t[0] >= t[1] >= t[2] >= 0):
            raise ValueError(
                "The 'thresholds' parameter of credit.evaluate must be three descending "
                f"numbers in [0, 100] (A, B, C); got {self.thresholds!r} instead."
            )
        object.__setattr__(self, "thresholds", t)
        for name in ("ban_months", "lookback_months", "complaint_window_months",
                     "downgrade_months", "grey_months", "handling_days"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(
                    f"The '{name}' parameter of credit.evaluate must be a positive integer; "
                    f"got {v!r} instead."
                )
        m = dict(self.mlps_validity_months)
        if not m or any(int(k) < 1 or int(v) < 1 for k, v in m.items()):
            raise ValueError(
                "The 'mlps_validity_months' parameter of credit.evaluate must map MLPS levels "
                f"to positive month counts; got {self.mlps_validity_months!r} instead."
            )
        object.__setattr__(self, "mlps_validity_months", {int(k): int(v) for k, v in m.items()})
        unknown = set(self.points) - set(COMPONENTS)
        if unknown:
            raise ValueError(
                "The 'points' parameter of credit.evaluate must name registered components "
                f"{sorted(COMPONENTS)}; got unknown {sorted(unknown)} instead."
            )
        object.__setattr__(self, "holidays", tuple(str(h) for h in self.holidays))


def _get(obj: Any, path: str) -> Any:
    """``obj.a.b`` or ``obj['a']['b']``; ``None`` when absent."""
    for part in path.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, Mapping) else getattr(obj, part, None)
    return obj


def params_from_profile(profile: Any, **overrides: Any) -> CreditParams:
    """Credit parameters from a province profile (``evalkit.rubric.load_profile``).

    Reads ``credit.thresholds`` (a mapping ``{A: 90, B: 70, C: 40}`` or a sequence),
    ``ban_months`` and ``mlps.validity_months``; anything absent keeps the national default.
    Keyword ``overrides`` (any :class:`CreditParams` field, ``None`` ignored) win.
    """
    kw: dict[str, Any] = {}
    if profile is not None:
        th = _get(profile, "credit.thresholds")
        if th is not None:
            if isinstance(th, Mapping) or hasattr(th, "model_dump"):
                th = th.model_dump() if hasattr(th, "model_dump") else th
                th = tuple(th[k] for k in ("A", "B", "C"))
            kw["thresholds"] = tuple(th)
        ban = _get(profile, "ban_months")
        if ban is not None:
            kw["ban_months"] = int(ban)
        mv = _get(profile, "mlps.validity_months")
        if mv is not None:
            kw["mlps_validity_months"] = dict(mv)
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return CreditParams(**kw)


# --------------------------------------------------------------------------------------------
# kernels: dates and working days
# --------------------------------------------------------------------------------------------


def _days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as ``datetime64[D]`` (NaT kept)."""
    return np.asarray(pd.to_datetime(values), dtype="datetime64[us]").astype("datetime64[D]")


def working_days(
    start: pd.Series | np.ndarray,
    end: pd.Series | np.ndarray | pd.Timestamp,
    holidays: Iterable[str] = DEFAULT_HOLIDAYS,
) -> np.ndarray:
    """Working days from ``start`` (exclusive) to ``end`` (inclusive), NaN where either is NaT.

    Weekends and ``holidays`` are not working days.  A complaint received on a Friday and
    resolved the next Monday took 1 working day; resolved the same day, 0.

    Parameters
    ----------
    start, end : dates (``end`` may be a single date, e.g. ``as_of``).
    holidays : ISO dates of public holidays (default: :data:`DEFAULT_HOLIDAYS`, approximate).

    Returns
    -------
    numpy.ndarray of float64.
    """
    s = _days(start)
    if isinstance(end, pd.Timestamp):
        e = np.full(s.shape, end.to_datetime64().astype("datetime64[D]"))
    else:
        e = _days(end)
    ok = ~(np.isnat(s) | np.isnat(e))
    out = np.full(s.shape, np.nan)
    hol = np.array(sorted(set(holidays)), dtype="datetime64[D]")
    # busday_count counts [a, b); shift by one day to count (start, end].
    out[ok] = np.busday_count(s[ok] + 1, e[ok] + 1, holidays=hol)
    return out


# --------------------------------------------------------------------------------------------
# the prepared context shared by the components
# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    as_of: pd.Timestamp
    p: CreditParams
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


_REQUIRED = {
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
    problems: list[Problem] = []
    out: dict[str, pd.DataFrame] = {}
    for name, cols in _REQUIRED.items():
        frame = getattr(ds, name, None)
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"The 'ds' parameter of {func} must be an evalkit Dataset with a '{name}' "
                f"DataFrame; got {type(frame).__name__} for '{name}' instead."
            )
        for c in cols:
            if c not in frame.columns:
                problems.append(Problem(f"{name}", None, c, f"missing column '{c}' ({func})"))
        out[name] = frame
    if problems:
        raise DataError(problems)
    return out


def _bool(s: pd.Series) -> np.ndarray:
    """Nullable boolean → plain bool (missing = False)."""
    return s.astype("boolean").fillna(False).to_numpy(dtype=bool)


#: Criteria whose assessments a component reads (``security_certification``); ``_prepare``
#: keeps only their rows, a small part of the assessments table.
_ASSESSED = ("S11_security_certification",)

#: Prepared contexts, per (input frames, as_of, holidays): a national run evaluates the credit
#: of 32 provinces and the early warning on the same tables, so the dates, working days and
#: codes of every complaint are computed once.  An entry is held while its frames live (weak
#: references, checked by identity and length, so it never serves another dataset) and is
#: read-only: the contexts handed out share its frames.
_PREPARED: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[int, ...], _Context]] = {}


def _prepare(ds: Any, as_of: pd.Timestamp, p: CreditParams, func: str) -> _Context:
    """Every provider's rows as of ``as_of`` with integer provider codes (cached, see
    :data:`_PREPARED`); only ``p.holidays`` of the parameters shapes the rows."""
    f = _frames(ds, func)
    frames = tuple(f.values())
    key = (tuple(id(x) for x in frames), as_of, p.holidays)
    sizes = tuple(len(x) for x in frames)
    hit = _PREPARED.get(key)
    if hit is not None and all(r() is x for r, x in zip(hit[0], frames)) and hit[1] == sizes:
        return replace(hit[2], p=p)
    for k in [k for k, v in _PREPARED.items() if any(r() is None for r in v[0])]:
        del _PREPARED[k]  # frames gone
    ctx = _prepare_frames(f, as_of, p)
    _PREPARED[key] = (tuple(weakref.ref(x) for x in frames), sizes, ctx)
    return ctx


def _prepare_frames(f: Mapping[str, pd.DataFrame], as_of: pd.Timestamp,
                    p: CreditParams) -> _Context:
    prov = f["providers"].drop_duplicates("provider_id").sort_values("provider_id")
    prov = prov.reset_index(drop=True)
    ids = pd.Index(prov["provider_id"].astype(str))

    apps = f["apps"].copy()
    apps["code"] = ids.get_indexer(apps["provider_id"].astype(str))
    app_index = pd.Index(apps["app_id"].astype(str))
    app_code = apps["code"].to_numpy()
    apps["app_id"] = apps["app_id"].astype(str).astype("category")

    def codes_of_apps(app_ids: pd.Series) -> np.ndarray:
        """Provider code of each row's app (−1 if unknown), looked up once per distinct app."""
        cat = app_ids.astype(str).astype("category").cat
        pos = app_index.get_indexer(cat.categories)
        per_app = np.append(np.where(pos >= 0, app_code[np.maximum(pos, 0)], -1), -1)
        return per_app[cat.codes.to_numpy()]  # code −1 (missing id) reads the appended −1

    # Nothing dated after as_of is known at as_of: such rows are dropped, later resolutions
    # and rectifications are treated as not yet happened.  Only the columns the components
    # read are kept (no complainant field); app_id, category and channel become categoricals
    # (cheap to slice and count), a missing channel "unknown".
    c = f["complaints"]
    received = pd.to_datetime(c["received_on"])
    c = c.loc[(received <= as_of).to_numpy(),
              ["app_id", "received_on", "channel", "category", "substantiated", "resolved_on"]]
    c = c.copy()
    res = pd.to_datetime(c["resolved_on"])
    late = (res > as_of).to_numpy()
    c["resolved_on"] = res.mask(late)
    c["substantiated"] = c["substantiated"].astype("boolean").mask(late)
    c["app_id"] = c["app_id"].astype(str).astype("category")
    c["code"] = codes_of_apps(c["app_id"])
    c["category"] = c["category"].astype(str).astype("category")
    c["channel"] = c["channel"].fillna("").astype(str).replace("", "unknown").astype("category")
    c["event_on"] = c["resolved_on"].fillna(pd.to_datetime(c["received_on"]))
    c["wd"] = working_days(c["received_on"], c["resolved_on"], p.holidays)
    c["wd_open"] = working_days(c["received_on"], as_of, p.holidays)

    v = f["violations"]
    found = pd.to_datetime(v["found_on"])
    v = v.loc[(found <= as_of).to_numpy()].copy()
    rect = pd.to_datetime(v["rectified_on"])
    v["rectified_on"] = rect.mask(rect > as_of)
    v["code"] = ids.get_indexer(v["provider_id"].astype(str))
    # A violation without a deadline must be rectified at once (deadline = found_on).
    deadline = pd.to_datetime(v["rectify_by"]).fillna(pd.to_datetime(v["found_on"]))
    v["overdue"] = (v["rectified_on"].isna() & (deadline < as_of)).to_numpy()
    v["fraud"] = _bool(v["fraud"])

    a = f["assessments"]
    a = a.loc[a["criterion_id"].isin(_ASSESSED).to_numpy()]
    a = a.loc[(pd.to_datetime(a["assessed_on"]) <= as_of).to_numpy()].copy()
    a["code"] = codes_of_apps(a["app_id"])
    return _Context(as_of, p, ids, prov, apps, c, v, a)


def _province_view(ctx: _Context, province: str, subs: pd.DataFrame | None) -> _Context:
    """The context of a province's credit evaluation: the providers domiciled there or with an
    app submitted there (``subs``; without submissions, those domiciled there), with all their
    apps, complaints, violations and assessments.

    Every credit component is computed per provider from that provider's own rows, so the
    result equals the national computation filtered to the province, at a province's cost:
    the rows are taken by integer position from the (cached) national context.
    """
    keep = ctx.providers["province_code"].astype(str).to_numpy() == province
    if isinstance(subs, pd.DataFrame):
        sub_apps = subs.loc[(subs["province_code"].astype(str) == province).to_numpy(), "app_id"]
        acode = ctx.apps["code"].to_numpy()
        keep[acode[ctx.apps["app_id"].isin(sub_apps).to_numpy() & (acode >= 0)]] = True
    return _subset(ctx, keep)


def _subset(ctx: _Context, keep: np.ndarray) -> _Context:
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


# --------------------------------------------------------------------------------------------
# components: a named registry
# --------------------------------------------------------------------------------------------


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
    func: Callable[[_Context], np.ndarray]

    @property
    def sign(self) -> float:
        """−1 for a deduction, +1 for a bonus: the sign of its ``c_<name>`` points."""
        return -1.0 if self.kind == "deduction" else 1.0


COMPONENTS: dict[str, Component] = {}


def _component(name: str, kind: str, zh: str, en: str, rule: str):
    def deco(func: Callable[[_Context], np.ndarray]) -> Callable[[_Context], np.ndarray]:
        if name in COMPONENTS:
            raise ValueError(f"credit component {name!r} is registered twice")
        COMPONENTS[name] = Component(name, kind, zh, en, rule, func)
        return func

    return deco


def _n_apps(ctx: _Context) -> np.ndarray:
    return ctx.count(ctx.apps["code"].to_numpy())


def _window(ctx: _Context, frame: pd.DataFrame, col: str, months: int) -> np.ndarray:
    return (pd.to_datetime(frame[col]) > ctx.since(months)).to_numpy()


@_component("complaint_rate", "deduction", "投诉率", "complaint rate",
            "complaints per app in the last 12 months; full deduction at 5 per app")
def _c_complaint_rate(ctx: _Context) -> np.ndarray:
    c = ctx.complaints
    recent = _window(ctx, c, "received_on", ctx.p.complaint_window_months)
    rate = ctx.count(c["code"].to_numpy()[recent]) / np.maximum(_n_apps(ctx), 1.0)
    return np.minimum(rate / ctx.p.complaints_per_app_full, 1.0)


@_component("substantiated_share", "deduction", "投诉核实率", "substantiated share",
            "share of decided complaints of the last 24 months found substantiated")
def _c_substantiated(ctx: _Context) -> np.ndarray:
    c = ctx.complaints
    recent = _window(ctx, c, "received_on", ctx.p.lookback_months)
    decided = recent & c["substantiated"].notna().to_numpy()
    codes = c["code"].to_numpy()
    n = ctx.count(codes[decided])
    k = ctx.count(codes[decided & _bool(c["substantiated"])])
    return np.divide(k, n, out=np.zeros(ctx.n), where=n > 0)


def _late(ctx: _Context) -> tuple[np.ndarray, np.ndarray]:
    """Per complaint: (due: handled or overdue, late: not handled in time)."""
    c = ctx.complaints
    lim = ctx.p.handling_days
    resolved = c["resolved_on"].notna().to_numpy()
    wd, wd_open = c["wd"].to_numpy(), c["wd_open"].to_numpy()
    late = np.where(resolved, wd > lim, wd_open > lim)
    due = resolved | (wd_open > lim)
    return due, late


@_component("handling_time", "deduction", "投诉处理时效", "complaint handling time",
            "share of due complaints of the last 12 months not handled within 15 working days")
def _c_handling(ctx: _Context) -> np.ndarray:
    c = ctx.complaints
    recent = _window(ctx, c, "received_on", ctx.p.complaint_window_months)
    due, late = _late(ctx)
    codes = c["code"].to_numpy()
    n = ctx.count(codes[recent & due])
    k = ctx.count(codes[recent & due & late])
    return np.divide(k, n, out=np.zeros(ctx.n), where=n > 0)


@_component("violations", "deduction", "违规记录", "violations",
            "violations of the last 24 months: minor 3, major 8, serious 20 points; at most 40")
def _c_violations(ctx: _Context) -> np.ndarray:
    v = ctx.violations
    recent = _window(ctx, v, "found_on", ctx.p.lookback_months)
    pts = v["severity"].astype(str).map(ctx.p.severity_points).fillna(0.0).to_numpy(float)
    total = ctx.count(v["code"].to_numpy()[recent], pts[recent])
    return np.minimum(total / ctx.p.points["violations"], 1.0)


@_component("unrectified", "deduction", "逾期未整改", "unrectified past the deadline",
            "10 points per violation not rectified by its deadline (any age); at most 30")
def _c_unrectified(ctx: _Context) -> np.ndarray:
    v = ctx.violations
    n = ctx.count(v["code"].to_numpy()[v["overdue"].to_numpy()])
    return np.minimum(n * ctx.p.unrectified_points / ctx.p.points["unrectified"], 1.0)


@_component("filing_outdated", "deduction", "备案信息未及时更新", "filing not updated",
            "share of the provider's apps released after their filing was last updated")
def _c_filing(ctx: _Context) -> np.ndarray:
    a = ctx.apps
    upd, rel = pd.to_datetime(a["info_updated_on"]), pd.to_datetime(a["last_release_on"])
    stale = (upd < rel).fillna(False).to_numpy(bool)
    codes = a["code"].to_numpy()
    n = ctx.count(codes)
    return np.divide(ctx.count(codes[stale]), n, out=np.zeros(ctx.n), where=n > 0)


def _mlps_expired(ctx: _Context) -> np.ndarray:
    pr = ctx.providers
    level = pd.to_numeric(pr["mlps_level"], errors="coerce").to_numpy(float)
    table = ctx.p.mlps_validity_months
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
def _c_mlps(ctx: _Context) -> np.ndarray:
    return _mlps_expired(ctx)


@_component("security_certification", "bonus", "安全认证", "security certification",
            "share of the provider's apps whose latest S11_security_certification is true")
def _c_cert(ctx: _Context) -> np.ndarray:
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


def _substantiated_recent(ctx: _Context) -> np.ndarray:
    c = ctx.complaints
    recent = _window(ctx, c, "received_on", ctx.p.lookback_months)
    return ctx.count(c["code"].to_numpy()[recent & _bool(c["substantiated"])])


@_component("clean_record", "bonus", "良好记录", "clean record",
            "no violation and no substantiated complaint in the last 24 months")
def _c_clean(ctx: _Context) -> np.ndarray:
    v = ctx.violations
    nv = ctx.count(v["code"].to_numpy()[_window(ctx, v, "found_on", ctx.p.lookback_months)])
    return ((nv == 0) & (_substantiated_recent(ctx) == 0)).astype(float)


#: The component columns of a credit table, in registry order.
COMPONENT_COLUMNS: tuple[str, ...] = tuple(f"c_{name}" for name in COMPONENTS)
#: The thresholds applied, one column per grade floor (A, B, C), on every row of a credit table.
THRESHOLD_COLUMNS: tuple[str, str, str] = ("threshold_a", "threshold_b", "threshold_c")


# --------------------------------------------------------------------------------------------
# score and grade
# --------------------------------------------------------------------------------------------


def _grade_kernel(score: np.ndarray, thresholds: tuple[float, float, float]) -> np.ndarray:
    a, b, c = thresholds
    return np.select([score >= a, score >= b, score >= c], ["A", "B", "C"], "D").astype(object)


def _score(ctx: _Context) -> pd.DataFrame:
    """``score`` and the signed points ``c_<name>`` of every component (:data:`SCORE_RULE`).

    Each component's points are rounded to :data:`POINT_DIGITS` decimals first, so the score
    is exactly 100 plus their sum, clipped (the final rounding only removes float noise).
    """
    cols = {f"c_{name}": np.round(comp.sign * comp.func(ctx) * float(ctx.p.points.get(name, 0.0)),
                                  POINT_DIGITS) + 0.0  # + 0.0: no −0.0
            for name, comp in COMPONENTS.items()}
    out = pd.DataFrame(cols, index=pd.RangeIndex(ctx.n))
    total = 100.0 + out.sum(axis=1).to_numpy(float)
    out.insert(0, "score", np.round(np.clip(total, 0.0, 100.0), POINT_DIGITS))
    return out


# --------------------------------------------------------------------------------------------
# the status machine
# --------------------------------------------------------------------------------------------


def _previous(previous: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    """The prior table aligned to ``ids``: list (default white), ban_until, decided_on, reasons."""
    out = pd.DataFrame({"list": "white", "ban_until": pd.NaT, "decided_on": pd.NaT,
                        "reasons": "", "known": False}, index=ids)
    out["ban_until"] = out["ban_until"].astype("datetime64[us]")
    out["decided_on"] = out["decided_on"].astype("datetime64[us]")
    if previous is None:
        return out
    if not isinstance(previous, pd.DataFrame):
        raise TypeError(
            "The 'previous' parameter of credit.evaluate must be a DataFrame (the last "
            f"published credit.csv) or None; got {type(previous).__name__} instead."
        )
    need = ("provider_id", "list", "ban_until", "decided_on")
    missing = [c for c in need if c not in previous.columns]
    if missing:
        raise DataError([Problem("credit.csv (previous)", None, c, "missing column") for c in missing])
    prev = previous.drop_duplicates("provider_id", keep="last")
    lst = prev["list"].astype(str).str.strip().str.lower()
    bad = ~lst.isin(LISTS)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:20]
        raise DataError([
            Problem("credit.csv (previous)", int(r) + 1, "list",
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


def _join(flags: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """``;``-joined codes per provider, in :data:`REASONS` order (loop over codes only)."""
    out = np.full(n, "", dtype=object)
    for code in sorted(flags, key=_REASON_ORDER.__getitem__):
        f = np.asarray(flags[code], dtype=bool)
        out[f] = np.where(out[f] == "", code, out[f] + ";" + code)
    return out


def _status(ctx: _Context, grade: np.ndarray, downgrade: Mapping[str, np.ndarray],
            previous: pd.DataFrame | None, listed: pd.Index | None,
            complaint_code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The new list, ban, decision date and reasons of every provider, and the transitions.

    ``listed`` are the apps whose substantiated complaints put a provider on the grey list
    (``None``: every app), ``complaint_code`` the reason code saying which apps they are.
    """
    p, as_of, n = ctx.p, ctx.as_of, ctx.n
    prev = _previous(previous, ctx.ids)
    prev_list = prev["list"].to_numpy(object)
    prev_ban = prev["ban_until"].to_numpy("datetime64[us]")
    prev_dec = prev["decided_on"].to_numpy("datetime64[us]")
    now = as_of.to_datetime64()

    in_force = (prev_list == "black") & ~(prev_ban <= now)  # NaT ban = indefinite
    expired = (prev_list == "black") & (prev_ban <= now)
    eff_grey = (prev_list == "grey") | expired
    # Findings "new" since the last decision; on a first run, those of the look-back window.
    start = np.where(np.isnat(prev_dec), ctx.since(p.lookback_months).to_datetime64(), prev_dec)

    v = ctx.violations
    vcode = v["code"].to_numpy()
    vok = vcode >= 0
    v_new = np.zeros(len(v), dtype=bool)
    v_new[vok] = pd.to_datetime(v["found_on"]).to_numpy("datetime64[us]")[vok] > start[vcode[vok]]
    new_fraud = ctx.count(vcode[v_new & v["fraud"].to_numpy()]) > 0
    new_violation = ctx.count(vcode[v_new]) > 0
    unrect_serious = ctx.count(
        vcode[v["overdue"].to_numpy() & (v["severity"].astype(str) == "serious").to_numpy()]) > 0

    c = ctx.complaints
    ccode = c["code"].to_numpy()
    cok = ccode >= 0
    c_new = np.zeros(len(c), dtype=bool)
    c_new[cok] = c["event_on"].to_numpy("datetime64[us]")[cok] > start[ccode[cok]]
    on_list = (c["app_id"].isin(listed).to_numpy() if listed is not None
               else np.ones(len(c), dtype=bool))
    new_subst_listed = ctx.count(ccode[c_new & on_list & _bool(c["substantiated"])]) > 0

    decidable = ~in_force
    black = {
        "fraud": decidable & new_fraud,
        "repeat_violation_while_grey": decidable & eff_grey & new_violation,
        "grade_d_unrectified_serious": decidable & (grade == "D") & unrect_serious,
    }
    to_black = np.logical_or.reduce(list(black.values()))
    grey = {
        complaint_code: decidable & ~to_black & new_subst_listed,
        "grade_c": decidable & ~to_black & (grade == "C"),
        "grade_d": decidable & ~to_black & (grade == "D"),
    }
    to_grey = np.logical_or.reduce(list(grey.values()))
    # Grey with no trigger: stays grey during the observation period, then clears to white.
    grey_since = np.where(expired, prev_ban, prev_dec)
    rest = decidable & eff_grey & ~to_black & ~to_grey
    ends = (pd.DatetimeIndex(grey_since) + pd.DateOffset(months=p.grey_months)).to_numpy(
        "datetime64[us]")
    cleared = rest & ~(ends > now)
    stays_grey = rest & ~cleared

    new_list = np.select([in_force, to_black, to_grey, stays_grey], ["black", "black", "grey",
                                                                     "grey"], "white")
    new_list = new_list.astype(object)
    ban_end = (as_of + pd.DateOffset(months=p.ban_months)).to_datetime64()
    ban_until = np.where(in_force, prev_ban, np.where(to_black, ban_end, np.datetime64("NaT")))
    first = np.isnat(prev_dec) | ~prev["known"].to_numpy()
    decided = np.where(
        in_force | (stays_grey & ~expired) | ((new_list == "white") & (prev_list == "white")
                                              & ~first),
        prev_dec,
        np.where(stays_grey & expired, prev_ban, now),
    ).astype("datetime64[us]")

    carried = in_force & (prev["reasons"].to_numpy(object) != "")
    white = new_list == "white"
    flags = {**black, **grey,
             "ban_in_force": in_force,
             "ban_expired": stays_grey & expired,
             "grey_period": stays_grey & ~expired,
             # white: grade A or B (C and D are grey triggers) and why nothing moved it
             "grade_a": white & (grade == "A"),
             "grade_b": white & (grade == "B"),
             "grey_cleared": cleared,
             "no_list_trigger": white & ~cleared}
    reasons = _join(flags, n)
    reasons[carried] = _merge_codes(prev["reasons"].to_numpy(object)[carried], reasons[carried])
    # The grade's direct downgrade codes are part of the explanation too (the codes of _join
    # and _merge_codes are already in order: only rows with a downgrade change).
    down = _join(downgrade, n)
    more = down != ""
    reasons[more] = _merge_codes(reasons[more], down[more])

    status = pd.DataFrame({"list": new_list, "ban_until": ban_until, "decided_on": decided,
                           "reasons": reasons})
    status["ban_until"] = status["ban_until"].astype("datetime64[us]")

    # History: ban expiry (black → grey on ban_until), then this run's change (on as_of).
    from_list = np.where(expired, "grey", prev_list)
    hist = [
        pd.DataFrame({"provider_id": ctx.ids[expired], "from": "black", "to": "grey",
                      "on": prev_ban[expired], "reason": "ban_expired"}),
    ]
    changed = (new_list != from_list) & ~in_force
    why = np.where(cleared, "grey_cleared", _join({**black, **grey}, n))
    hist.append(pd.DataFrame({"provider_id": ctx.ids[changed], "from": from_list[changed],
                              "to": new_list[changed], "on": now, "reason": why[changed]}))
    history = pd.concat(hist, ignore_index=True)
    history["on"] = history["on"].astype("datetime64[us]")
    history = history.sort_values(["provider_id", "on"], kind="stable").reset_index(drop=True)
    for col in ("provider_id", "from", "to", "reason"):
        history[col] = history[col].astype(str)
    return status, history


def _merge_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
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
# public API
# --------------------------------------------------------------------------------------------


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
        counts = self.providers["list"].value_counts().reindex(list(LISTS), fill_value=0)
        head = (f"<p>Credit as of {self.as_of.date()}: {len(self.providers)} providers, "
                + ", ".join(f"{k} {v}" for k, v in counts.items()) + "</p>")
        cols = ["provider_id", "provider_name", "score", "grade", "list", "ban_until", "reasons"]
        return head + self.providers[cols].head(50).to_html(index=False, escape=True)


def evaluate(
    ds: Any,
    profile: Any = None,
    as_of: Any = None,
    previous: pd.DataFrame | None = None,
    *,
    listed_apps: Iterable[str] | None = None,
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
        findings of the last ``lookback_months`` count as new.
    listed_apps : app ids on the province's published recommended list (for the grey-list
        complaint trigger, reason ``substantiated_complaint_listed_app``).  ``None`` = no list
        published yet: the trigger then looks at every app submitted to ``province`` (every app
        if no province) and says so (reason ``substantiated_complaint_submitted_app``).
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
        province = _get(profile, "code")
    subs = getattr(ds, "submissions", None)
    ctx = _prepare(ds, when, p, "credit.evaluate")
    if province is not None:
        ctx = _province_view(ctx, str(province), subs)

    if listed_apps is not None:
        listed = pd.Index([str(a) for a in listed_apps])
    elif province is not None and isinstance(subs, pd.DataFrame):
        listed = pd.Index(subs.loc[(subs["province_code"].astype(str) == str(province)).to_numpy(),
                                   "app_id"].astype(str).unique())
    else:
        listed = None
    complaint_code = ("substantiated_complaint_listed_app" if listed_apps is not None
                      else "substantiated_complaint_submitted_app")

    scores = _score(ctx)
    grade = _grade_kernel(scores["score"].to_numpy(), p.thresholds)
    v = ctx.violations
    recent = _window(ctx, v, "found_on", p.downgrade_months)
    vcode = v["code"].to_numpy()
    downgrade = {
        "fraud": ctx.count(vcode[recent & v["fraud"].to_numpy()]) > 0,
        "serious_violation": ctx.count(
            vcode[recent & (v["severity"].astype(str) == "serious").to_numpy()]) > 0,
    }
    grade = np.where(downgrade["fraud"] | downgrade["serious_violation"], "D", grade)
    status, history = _status(ctx, grade, downgrade, previous, listed, complaint_code)

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
        "downgrade": _join(downgrade, ctx.n).astype(str),
        **{col: float(t) for col, t in zip(THRESHOLD_COLUMNS, p.thresholds)},
    })
    out = pd.concat([out, scores.drop(columns="score")], axis=1)
    out = pd.concat([out, _counts(ctx)], axis=1)

    if province is not None:  # the province's statistics: complaints about providers based there
        home = ctx.providers["province_code"].astype(str).to_numpy() == str(province)
        ccode = ctx.complaints["code"].to_numpy()
        mine = ccode >= 0
        mine[mine] = home[ccode[mine]]
        ctx = replace(ctx, complaints=ctx.complaints.loc[mine])
    stats = _complaint_stats(ctx, by="domicile", subs=subs)
    if province is not None:
        stats = stats.loc[stats["province_code"] == str(province)].reset_index(drop=True)
    return CreditResult(out, history, stats, when, p)


def evaluate_for_profile(ds: Any, profile: Any, as_of: Any,
                         previous: pd.DataFrame | None = None, **kw: Any) -> CreditResult:
    """:func:`evaluate` with every parameter taken from a province ``profile``."""
    return evaluate(ds, profile, as_of, previous, **kw)


#: Columns of a provider status history (``credit_history.csv`` without its reason texts).
HISTORY_COLUMNS: tuple[str, ...] = ("provider_id", "on", "from", "to", "reasons", "recorded_on")
_HISTORY_FILE = "credit_history.csv (previous)"


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
        raise TypeError("The 'cr' parameter of credit.continue_history must be a CreditResult; "
                        f"got {type(cr).__name__} instead.")
    h = cr.history
    now = pd.DataFrame({"provider_id": h["provider_id"].astype(str), "on": h["on"],
                        "from": h["from"].astype(str), "to": h["to"].astype(str),
                        "reasons": h["reason"].astype(str), "recorded_on": cr.as_of})
    parts = [_previous_history(previous, cr.as_of), now]
    out = pd.concat(parts, ignore_index=True)
    for col in ("on", "recorded_on"):
        out[col] = pd.to_datetime(out[col]).astype("datetime64[us]")
    for col in ("provider_id", "from", "to", "reasons"):
        out[col] = out[col].astype("str")
    # within a day, a ban expiry (from black) precedes the decision that follows it
    first = out["from"].ne("black").astype(int).rename("_first")
    order = pd.concat([out, first], axis=1).sort_values(
        ["provider_id", "on", "recorded_on", "_first"], kind="stable").index
    return out.loc[order, list(HISTORY_COLUMNS)].reset_index(drop=True)


def _previous_history(previous: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """The rows of a previous ``credit_history.csv``, checked (every problem reported)."""
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in HISTORY_COLUMNS})
    if previous is None:
        return empty
    if not isinstance(previous, pd.DataFrame):
        raise TypeError(
            "The 'previous' parameter of credit.continue_history must be a DataFrame (the last "
            f"published credit_history.csv) or None; got {type(previous).__name__} instead."
        )
    missing = [c for c in HISTORY_COLUMNS if c not in previous.columns]
    if missing:
        raise DataError([Problem(_HISTORY_FILE, None, c, "missing column") for c in missing])
    prev = previous[list(HISTORY_COLUMNS)].astype(object).fillna("").astype(str)
    problems = []
    for col in ("from", "to"):
        for r in np.flatnonzero(~prev[col].isin(LISTS).to_numpy())[:20]:
            problems.append(Problem(_HISTORY_FILE, int(r) + 1, col,
                                    f"must be one of white/grey/black, got {prev[col].iloc[r]!r}"))
    for col in ("on", "recorded_on"):
        day = pd.to_datetime(prev[col], errors="coerce", format="%Y-%m-%d")
        bad = (day.isna() | (day > as_of)).to_numpy()
        for r in np.flatnonzero(bad)[:20]:
            problems.append(Problem(_HISTORY_FILE, int(r) + 1, col,
                                    f"must be a date (YYYY-MM-DD) not after {as_of.date()}, "
                                    f"got {prev[col].iloc[r]!r}"))
    if problems:
        raise DataError(problems)
    return prev


def _counts(ctx: _Context) -> pd.DataFrame:
    c, v = ctx.complaints, ctx.violations
    crecent = _window(ctx, c, "received_on", ctx.p.complaint_window_months)
    due, late = _late(ctx)
    ccode = c["code"].to_numpy()
    n_due = ctx.count(ccode[crecent & due])
    n_in_time = ctx.count(ccode[crecent & due & ~late])
    vrecent = _window(ctx, v, "found_on", ctx.p.lookback_months)
    vcode = v["code"].to_numpy()
    return pd.DataFrame({
        "n_apps": _n_apps(ctx).astype(int),
        "n_complaints_12m": ctx.count(ccode[crecent]).astype(int),
        "n_substantiated_24m": _substantiated_recent(ctx).astype(int),
        "share_handled_in_time": np.divide(n_in_time, n_due, out=np.full(ctx.n, np.nan),
                                           where=n_due > 0).round(4),
        "n_violations_24m": ctx.count(vcode[vrecent]).astype(int),
        "n_unrectified_overdue": ctx.count(vcode[v["overdue"].to_numpy()]).astype(int),
    })


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
        raise TypeError(
            "The 'cr' parameter of credit.banned_providers must be a CreditResult or a table "
            f"with provider_id, list and ban_until; got {type(cr).__name__} instead."
        )
    ban = pd.to_datetime(frame["ban_until"].replace("", None), errors="coerce")
    black = frame["list"].astype(str).str.strip().str.lower() == "black"
    force = black & ~(ban <= when)
    return sorted(frame.loc[force.to_numpy(), "provider_id"].astype(str).unique().tolist())


# --------------------------------------------------------------------------------------------
# complaint statistics
# --------------------------------------------------------------------------------------------


def complaint_stats(ds: Any, as_of: Any, *, by: str = "domicile",
                    holidays: Iterable[str] | None = None, handling_days: int = 15,
                    window_months: int | None = None) -> pd.DataFrame:
    """Complaint statistics per province, by category and by channel (aggregates only).

    Parameters
    ----------
    ds : Dataset
    as_of : date; complaints received after it are ignored, later resolutions count as open.
    by : ``"domicile"`` (default: each complaint counts once, in the province of the
        provider's domicile, which supervises its filing) or ``"submissions"`` (in every
        province the app was submitted to; totals then exceed the national count).
    holidays : public holidays (default :data:`DEFAULT_HOLIDAYS`, approximate).
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
        raise ValueError("The 'by' parameter of credit.complaint_stats must be one of "
                         f"{{'domicile', 'submissions'}}; got {by!r} instead.")
    when = parse_date(as_of, func="credit.complaint_stats")
    p = CreditParams(holidays=tuple(holidays) if holidays is not None else DEFAULT_HOLIDAYS,
                     handling_days=handling_days)
    ctx = _prepare(ds, when, p, "credit.complaint_stats")
    if window_months is not None:
        keep = _window(ctx, ctx.complaints, "received_on", window_months)
        ctx = replace(ctx, complaints=ctx.complaints.loc[keep])
    return _complaint_stats(ctx, by=by, subs=getattr(ds, "submissions", None))


_STATS_COLUMNS = ["province_code", "dimension", "value", "n_complaints", "n_substantiated",
                  "n_resolved", "n_open", "n_overdue", "mean_working_days",
                  "median_working_days", "share_within_limit"]


def _complaint_stats(ctx: _Context, *, by: str, subs: Any) -> pd.DataFrame:
    """Per (province, dimension, value) aggregates: sums are ``np.bincount`` over integer
    group codes, medians are read from one sort of (group, working days)."""
    c = ctx.complaints
    due, late = _late(ctx)
    resolved = c["resolved_on"].notna().to_numpy()
    flags = {
        "n_substantiated": _bool(c["substantiated"]),
        "n_resolved": resolved,
        "n_overdue": ~resolved & late,
        "n_due": due,
        "n_in_time": due & ~late,
    }
    if by == "domicile":
        code = c["code"].to_numpy()
        prov = ctx.providers["province_code"].astype(str).to_numpy(object)
        rows = np.flatnonzero(code >= 0)
        where = prov[code[rows]]
    else:
        if not isinstance(subs, pd.DataFrame):
            return pd.DataFrame(columns=_STATS_COLUMNS)
        pairs = subs[["app_id", "province_code"]].astype(str).drop_duplicates()
        hits = pd.DataFrame({"row": np.arange(len(c)),
                             "app_id": c["app_id"].astype(str).to_numpy(object)}).merge(
            pairs, on="app_id", how="inner")
        rows, where = hits["row"].to_numpy(), hits["province_code"].to_numpy(object)
    ok = where != ""
    rows, where = rows[ok], where[ok]
    pcode, provinces = pd.factorize(where, sort=True)
    wd = c["wd"].to_numpy()[rows]
    parts = []
    for dim in ("all", "category", "channel"):  # a handful of dimensions, not rows
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
        mean, median = _group_mean_median(g, wd[sel], size)
        parts.append(pd.DataFrame({
            "province_code": provinces[seen // len(values)],
            "dimension": dim,
            "value": values[seen % len(values)],
            "n_complaints": n[seen].astype("int64"),
            **counts,
            "mean_working_days": mean[seen],
            "median_working_days": median[seen],
        }))
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=_STATS_COLUMNS)
    out["n_open"] = out["n_complaints"] - out["n_resolved"]
    n_due = out["n_due"].to_numpy(float)
    out["share_within_limit"] = np.divide(out["n_in_time"].to_numpy(float), n_due,
                                          out=np.full(len(out), np.nan), where=n_due > 0).round(4)
    out["mean_working_days"] = out["mean_working_days"].round(2)
    return out[_STATS_COLUMNS].sort_values(["province_code", "dimension", "value"],
                                           kind="stable").reset_index(drop=True)


def _group_mean_median(g: np.ndarray, x: np.ndarray, size: int) -> tuple[np.ndarray,
                                                                         np.ndarray]:
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

