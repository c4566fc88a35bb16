"""Credit parameters and vocabulary: every number the credit evaluation uses, and its codes.

:class:`CreditParams` holds the defaults of the national profile (a province's profile
overrides some of them, :func:`params_from_profile`); :data:`REASONS` are the stable reason
codes of the status machine with their Chinese and English texts; :data:`SCORE_RULE` and
:data:`GRADE_RULE` say how a published ``credit.csv`` recomputes its score and grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, param_message
from evalkit.rubric import profile_value

__all__ = [
    "DEFAULT_HOLIDAYS",
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
        "提交本省评审的应用被核实投诉（尚无已发布的推荐名单）",
        ("substantiated complaint against an app submitted to the province's review "
         "(no list published yet)"),
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
}



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
    holidays : public holidays excluded from working days (ISO dates).
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
        object.__setattr__(self, "holidays", tuple(str(h) for h in self.holidays))


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

