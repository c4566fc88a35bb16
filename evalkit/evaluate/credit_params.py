"""Credit parameters and vocabulary: every number the credit evaluation uses, and its codes.

:class:`CreditParams` holds the defaults of the national profile (a province's profile
overrides some of them, :func:`params_from_profile`); :data:`REASONS` are the stable reason
codes of the status machine with their Chinese and English texts; :data:`SCORE_RULE` and
:data:`GRADE_RULE` say how a published ``credit.csv`` recomputes its score and grade.  Working
days are counted with the calendar of :mod:`evalkit.rubric.calendar`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evalkit.errors import EvalkitError, param_message
from evalkit.rubric import profile_value
from evalkit.rubric.calendar import WorkCalendar, load_calendar

__all__ = [
    "GRADES",
    "GRADE_RULE",
    "LISTS",
    "POINT_DIGITS",
    "REASONS",
    "SCORE_RULE",
    "THRESHOLD_COLUMNS",
    "CreditError",
    "CreditParams",
    "params_from_profile",
    "profile_value",
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
        "提交本省评审的应用被核实投诉（投诉时尚无已发布的推荐名单）",
        ("substantiated complaint against an app submitted to the province's review "
         "(no list published yet when it came)"),
    ),
    "grade_a": ("信用等级为A", "credit grade A"),
    "grade_b": ("信用等级为B", "credit grade B"),
    "grade_c": ("信用等级为C", "credit grade C"),
    "grade_d": ("信用等级为D", "credit grade D"),
    "ban_in_force": ("禁入期未满", "ban in force"),
    # A banned provider absent from this cycle's input: its row is carried from the register.
    "not_in_input": ("本期输入数据中无该提供者，禁入记录沿用登记簿", "not in this cycle's input: the ban is carried "
                     "from the register"),
    "ban_expired": ("禁入期届满，转入灰名单观察", "ban ended: back on the grey list for observation"),
    "grey_period": ("灰名单观察期未满", "grey-list observation period not over"),
    "grey_cleared": ("灰名单观察期满且无新问题", "grey-list period over with no new finding"),
    "no_list_trigger": ("无列入灰名单或黑名单的情形", "no grey- or black-list trigger"),
    # due process (evalkit.evaluate.sanctions)
    "sanction_notified": ("已送达信用惩戒告知书，尚未作出列入决定",
                          "sanction notice served: no decision yet"),
    "statement_pending": ("陈述申辩或听证申请尚在审查，审查结束前不作出决定",
                          "a statement or hearing request under review: no decision while it is pending"),
    "sanction_dismissed": ("陈述申辩意见被采纳，不予列入", "statement accepted: the sanction is dismissed"),
    "sanction_lapsed": ("拟列入的情形已不存在，不予列入", "the grounds no longer hold: the sanction is dismissed"),
    "sanction_decided": ("告知期满，依法作出列入决定", "decided after the notice and statement window"),
    "credit_repaired": ("信用修复申请获批准，移出名单", "credit repair approved: taken off the list"),
    "repair_awaits_period": ("信用修复申请已获批准，列入满最短期限后移出名单",
                             "credit repair approved: taken off the list once the minimum listing period has passed"),
}



#: The thresholds applied, one column per grade floor (A, B, C), on every row of a credit table.
THRESHOLD_COLUMNS: tuple[str, str, str] = ("threshold_a", "threshold_b", "threshold_c")


class CreditError(EvalkitError, TypeError, ValueError):
    """A wrong argument to a credit function (a ``TypeError`` and a ``ValueError`` too, as the
    builtin errors these arguments raised before)."""


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
    calendar : the working-day calendar (default: ``rubrics/calendar/cn.yaml``,
        :func:`evalkit.rubric.calendar.load_calendar`): holidays and make-up working days.
    points : maximum points of each component (the names of
        :data:`evalkit.evaluate.credit_components.COMPONENTS`, checked when the score is computed).
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
    calendar: WorkCalendar | None = None
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
            raise CreditError(param_message("thresholds", "credit.evaluate",
                                            "three descending numbers in [0, 100] (A, B, C)",
                                            repr(self.thresholds)))
        object.__setattr__(self, "thresholds", t)
        for name in ("ban_months", "lookback_months", "complaint_window_months",
                     "downgrade_months", "grey_months", "handling_days"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise CreditError(param_message(name, "credit.evaluate", "a positive integer",
                                                repr(v)))
        m = dict(self.mlps_validity_months)
        if not m or any(int(k) < 1 or int(v) < 1 for k, v in m.items()):
            raise CreditError(param_message("mlps_validity_months", "credit.evaluate",
                                            "a mapping of MLPS levels to positive month counts",
                                            repr(self.mlps_validity_months)))
        object.__setattr__(self, "mlps_validity_months", {int(k): int(v) for k, v in m.items()})
        if self.calendar is None:
            object.__setattr__(self, "calendar", load_calendar())
        elif not isinstance(self.calendar, WorkCalendar):
            raise CreditError(param_message("calendar", "credit.evaluate", "a WorkCalendar (load_calendar)",
                                            type(self.calendar).__name__))


def params_from_profile(profile: Any, **overrides: Any) -> CreditParams:
    """Credit parameters from a province profile (``evalkit.rubric.load_profile``).

    Reads ``credit.thresholds`` (a mapping ``{A: 90, B: 70, C: 40}`` or a sequence),
    ``ban_months`` and ``mlps.validity_months``; anything absent keeps the national default.
    Keyword ``overrides`` (any :class:`CreditParams` field, ``None`` ignored) win.
    """
    kw: dict[str, Any] = {}
    if profile is not None:
        th = profile_value(profile, "credit", "thresholds")
        if th is not None:
            if isinstance(th, Mapping) or hasattr(th, "model_dump"):
                th = th.model_dump() if hasattr(th, "model_dump") else th
                th = tuple(th[k] for k in ("A", "B", "C"))
            kw["thresholds"] = tuple(th)
        ban = profile_value(profile, "ban_months")
        if ban is not None:
            kw["ban_months"] = int(ban)
        mv = profile_value(profile, "mlps", "validity_months")
        if mv is not None:
            kw["mlps_validity_months"] = dict(mv)
    kw.update({k: v for k, v in overrides.items() if v is not None})
    return CreditParams(**kw)

