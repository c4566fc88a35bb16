"""The working-day calendar: every deadline counted in working days is counted here.

The calendar is data, ``rubrics/calendar/cn.yaml``: per year, the public holidays and the
make-up working days on weekends (调休) of the State Council General Office's yearly notice
(国务院办公厅关于…年部分节假日安排的通知), with that notice named as the year's source.  A working
day is a Monday–Friday that is not a holiday, or a make-up working day.

A year the file does not list is counted with weekends only, never guessed: :meth:`WorkCalendar.warning`
says so and names the file to update, and every command that counts a day of such a year
prints it (complaint handling, the public-notice period, the statement window before a
sanction).

Counting is vectorised (``numpy.busday_count`` plus a sorted search of the make-up days): a
national run counts a million complaint spans at once.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit import resources
from evalkit.errors import Problem, ProblemsError

__all__ = ["CalendarError", "WorkCalendar", "calendar_path", "load_calendar", "run_warning", "weekends_only"]


class CalendarError(ProblemsError):
    """A calendar file that cannot be used; every problem at once, by file and line."""


def calendar_path() -> Path:
    """The shipped calendar: ``rubrics/calendar/cn.yaml``."""
    return resources.rubrics_dir() / "calendar" / "cn.yaml"


def _days(values: Any) -> np.ndarray:
    """Dates (a series, an array, a date or a text) as ``datetime64[D]`` (NaT kept)."""
    if isinstance(values, (pd.Timestamp, _dt.date, str, np.datetime64)):
        values = [values]
    return np.asarray(pd.to_datetime(pd.Series(values)), dtype="datetime64[us]").astype("datetime64[D]")


@dataclass(frozen=True, eq=False)
class WorkCalendar:
    """Holidays and make-up working days (sorted ``datetime64[D]``), the years they cover with
    each year's source, and the file they came from (named by the coverage warning).

    Compared by identity: :func:`load_calendar` returns one object per file, so it is a cheap
    cache key.
    """

    holidays: np.ndarray
    workdays: np.ndarray
    sources: Mapping[int, str]
    path: str

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self.sources))

    def covers(self, year: int) -> bool:
        return int(year) in self.sources

    # ------------------------------------------------------------------------------------
    # counting

    def working_days(self, start: Any, end: Any) -> np.ndarray:
        """Working days from ``start`` (exclusive) to ``end`` (inclusive), NaN where either is
        missing.  A complaint received on a Friday and resolved the next Monday took 1 working
        day; resolved the same day, 0.  ``end`` may be one date (e.g. ``as_of``)."""
        s = _days(start)
        e = _days(end)
        if e.shape != s.shape and e.size == 1:
            e = np.full(s.shape, e[0])
        ok = ~(np.isnat(s) | np.isnat(e))
        out = np.full(s.shape, np.nan)
        a, b = s[ok], e[ok]
        # busday_count counts [a, b); shift by one day to count (start, end]
        n = np.busday_count(a + 1, b + 1, holidays=self.holidays)
        extra = np.searchsorted(self.workdays, b, "right") - np.searchsorted(self.workdays, a, "right")
        out[ok] = n + extra
        return out

    def is_working_day(self, day: Any) -> bool:
        d = _days(day)[0]
        if np.isnat(d):
            raise CalendarError([Problem(self.path, None, None, f"{day!r} is not a date")])
        if np.isin(d, self.workdays):
            return True
        return bool(np.is_busday(d, holidays=self.holidays))

    def add_working_days(self, start: Any, n: int) -> pd.Timestamp:
        """The day ``n`` working days after ``start`` (``start`` itself not counted): the
        last day of a period of ``n`` working days that begins the day after ``start``."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise CalendarError([Problem(self.path, None, None,
                                         f"a number of working days must be a whole number ≥ 0; got {n!r}")])
        day = _days(start)[0]
        if np.isnat(day):
            raise CalendarError([Problem(self.path, None, None, f"{start!r} is not a date")])
        # a period of n working days spans at most n weeks plus the longest break: search a
        # window long enough and take the n-th working day in it
        span = np.arange(1, 7 * int(n) + 40)
        days = day + span
        work = np.is_busday(days, holidays=self.holidays) | np.isin(days, self.workdays)
        if n == 0:
            return pd.Timestamp(day)
        return pd.Timestamp(days[np.flatnonzero(work)[int(n) - 1]])

    def add_working_days_each(self, start: Any, n: int) -> np.ndarray:
        """:meth:`add_working_days` for many starts at once (``datetime64[D]``; NaT stays NaT)."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise CalendarError([Problem(self.path, None, None,
                                         f"a number of working days must be a whole number ≥ 0; got {n!r}")])
        s = np.atleast_1d(_days(start))
        out = np.full(s.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        ok = ~np.isnat(s)
        if not ok.any() or n == 0:
            out[ok] = s[ok]
            return out
        # every working day from the earliest start to n weeks (plus the longest break) after the latest
        days = np.arange(s[ok].min() + 1, s[ok].max() + 7 * int(n) + 41, dtype="datetime64[D]")
        work = days[np.is_busday(days, holidays=self.holidays) | np.isin(days, self.workdays)]
        out[ok] = work[np.searchsorted(work, s[ok], "right") + int(n) - 1]
        return out

    # ------------------------------------------------------------------------------------
    # coverage

    def uncovered(self, first: Any, last: Any) -> list[int]:
        """The years from ``first`` to ``last`` (dates, inclusive) the calendar does not list."""
        a, b = pd.Timestamp(_days(first)[0]).year, pd.Timestamp(_days(last)[0]).year
        return [y for y in range(min(a, b), max(a, b) + 1) if not self.covers(y)]

    def warning(self, first: Any, last: Any) -> str | None:
        """The warning for counting days from ``first`` to ``last``: ``None`` when every year is
        listed, else the years counted with weekends only and the file to update."""
        years = self.uncovered(first, last)
        if not years:
            return None
        names = ", ".join(str(y) for y in years)
        notices = "; ".join(f"国务院办公厅关于{y}年部分节假日安排的通知" for y in years)
        return (f"working days in {names} are counted with weekends only: the calendar {self.path} "
                f"has no holiday schedule for {'that year' if len(years) == 1 else 'those years'}; "
                f"add it from the State Council General Office's notice ({notices}).")


def weekends_only(path: str = "(weekends only)") -> WorkCalendar:
    """A calendar without holidays (every year uncovered): Monday–Friday are working days."""
    empty = np.array([], dtype="datetime64[D]")
    return WorkCalendar(empty, empty, {}, path)


def run_warning(as_of: Any, *, months_back: int = 12, until: Any = None,
                calendar: WorkCalendar | None = None) -> str | None:
    """The coverage warning of a run on ``as_of``: the days it counts run from ``months_back``
    months before it (the complaint window) to ``until`` (a deadline; default ``as_of``)."""
    cal = calendar if calendar is not None else load_calendar()
    day = pd.Timestamp(_days(as_of)[0])
    return cal.warning(day - pd.DateOffset(months=months_back), until if until is not None else day)


# ----------------------------------------------------------------------------------------
# reading the file

_LOADED: dict[tuple[str, int], WorkCalendar] = {}


def load_calendar(path: str | Path | None = None) -> WorkCalendar:
    """The calendar of ``path`` (default :func:`calendar_path`), read once per file version.

    Raises
    ------
    CalendarError
        Every problem of the file at once (``file:line:key: message``): a year without a
        source, a range ending before it starts, a make-up working day that is not a Saturday
        or Sunday, a day both a holiday and a working day.
    """
    from evalkit.rubric.loader import display_path, load_yaml

    p = Path(path) if path is not None else calendar_path()
    try:
        key = (str(p.resolve()), p.stat().st_mtime_ns)
    except OSError as exc:
        raise CalendarError([Problem(str(p), None, None, f"cannot read the calendar: {exc.strerror or exc}")]) from None
    if key in _LOADED:
        return _LOADED[key]
    data, loc, problems = load_yaml(p)
    name = display_path(p)
    cal = _parse(data, loc, name, problems)
    if problems:
        raise CalendarError(problems)
    _LOADED[key] = cal
    return cal


def _parse(data: Any, loc: Any, name: str, problems: list[Problem]) -> WorkCalendar:
    def bad(where: Iterable[Any], message: str) -> None:
        file, line, keys = loc.locate(list(where))
        problems.append(Problem(file, line, keys or None, message))

    holidays: list[np.datetime64] = []
    workdays: list[np.datetime64] = []
    sources: dict[int, str] = {}
    years = data.get("years") if isinstance(data, Mapping) else None
    if not isinstance(years, Mapping) or not years:
        if not problems:
            bad([], "the calendar needs a 'years' mapping: year → source and festivals")
        return weekends_only(name)
    for year, entry in years.items():
        if not isinstance(year, int) or not 1949 < year < 2200:
            bad(["years", year], f"{year!r} is not a year")
            continue
        if not isinstance(entry, Mapping) or not str(entry.get("source") or "").strip():
            bad(["years", year], "every year needs its 'source' (the State Council General Office's notice)")
            continue
        sources[year] = " ".join(str(entry["source"]).split())
        for i, fest in enumerate(entry.get("festivals") or []):
            _festival(fest, ["years", year, "festivals", i], year, bad, holidays, workdays)
    hol = np.unique(np.array(holidays, dtype="datetime64[D]"))
    work = np.unique(np.array(workdays, dtype="datetime64[D]"))
    both = np.intersect1d(hol, work)
    if both.size:
        bad(["years"], f"day(s) both a holiday and a make-up working day: {', '.join(map(str, both))}")
    return WorkCalendar(hol, work, sources, name)


def _festival(fest: Any, where: list[Any], year: int, bad: Any, holidays: list[np.datetime64],
              workdays: list[np.datetime64]) -> None:
    """One festival entry: its days off and its make-up working days."""
    if not isinstance(fest, Mapping):
        bad(where, "a festival is a mapping: name, from, to, work")
        return
    try:
        start, end = _day(fest.get("from")), _day(fest.get("to"))
    except ValueError as exc:
        bad(where, str(exc))
        return
    if end < start:
        bad(where, f"'to' ({end}) is before 'from' ({start})")
        return
    if not (year - 1 <= start.astype(object).year <= year and end.astype(object).year == year):
        bad(where, f"{start}–{end} is not a festival of {year}")
    holidays.extend(np.arange(start, end + 1))
    for j, w in enumerate(fest.get("work") or []):
        try:
            day = _day(w)
        except ValueError as exc:
            bad([*where, "work", j], str(exc))
            continue
        if np.is_busday(day):
            bad([*where, "work", j], f"make-up working day {day} is not a Saturday or Sunday")
        workdays.append(day)


def _day(value: Any) -> np.datetime64:
    if isinstance(value, _dt.date):
        return np.datetime64(value.isoformat(), "D")
    try:
        return np.datetime64(_dt.date.fromisoformat(str(value).strip()).isoformat(), "D")
    except ValueError:
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD") from None

