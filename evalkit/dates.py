"""The one date rule: every date a user gives (``as_of``, and any date parameter) is read here.

Accepted: a ``datetime.date`` or ``datetime.datetime``, a pandas ``Timestamp``, a numpy
``datetime64``, or an ISO text ``YYYY-MM-DD`` (surrounding blanks ignored).  A time of day is
dropped and a time zone removed: a date is a calendar day.  Anything else is refused with the
one error template, partial dates included: ``"2026"`` or ``"2026-09"`` would silently mean
1 January or 1 September, and a provincial decision must never rest on a guessed day.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import EvalkitError, param_message

__all__ = ["DateError", "parse_date"]

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


class DateError(EvalkitError, ValueError):
    """A date parameter that is not a calendar date."""


def parse_date(value: Any, param: str = "as_of", func: str = "evalkit") -> pd.Timestamp:
    """``value`` as a midnight :class:`pandas.Timestamp` without time zone.

    Raises
    ------
    DateError
        ``The 'as_of' parameter of credit.evaluate must be a date (YYYY-MM-DD); got '2026' instead.``
    """
    ts: Any = pd.NaT
    if isinstance(value, str):
        text = value.strip()
        if _ISO.fullmatch(text):
            ts = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    elif isinstance(value, (_dt.date, pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
    if ts is pd.NaT or pd.isna(ts):
        raise DateError(param_message(param, func, "a date (YYYY-MM-DD)", repr(value)))
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("us")
