"""The working-day calendar (rubrics/calendar/cn.yaml, evalkit.rubric.calendar): holidays and
make-up working days as the State Council General Office's yearly notices announce them, one
counting rule for every deadline, weekends only (with a warning naming the file) past it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.errors import EvalkitError
from evalkit.rubric.calendar import (
    CalendarError,
    calendar_path,
    load_calendar,
    run_warning,
    weekends_only,
)

ROOT = Path(__file__).resolve().parents[1]


def test_every_year_2019_to_2026_with_its_notice():
    cal = load_calendar()
    assert cal.years == tuple(range(2019, 2027))
    for year in cal.years:
        assert f"国务院办公厅关于{year}年部分节假日安排的通知" in cal.sources[year]
    # make-up working days are weekend days, never holidays
    assert not np.is_busday(cal.workdays).any()
    assert np.intersect1d(cal.holidays, cal.workdays).size == 0


@pytest.mark.parametrize(("start", "end", "expected", "why"), [
    # 2026 notice: Spring Festival 15–23 Feb, make-up Saturdays 14 and 28 Feb
    ("2026-02-13", "2026-03-02", 7, "14 Feb (make-up) + 24–27 Feb (4) + 28 Feb (make-up) + 2 Mar"),
    # 2024 notice: National Day 1–7 Oct, make-up 29 Sep (Sun) and 12 Oct (Sat)
    ("2024-09-27", "2024-10-18", 12, "29–30 Sep (2) + 8–12 Oct (5) + 14–18 Oct (5)"),
    # 2023 notice: Mid-Autumn and National Day 29 Sep – 6 Oct, make-up 7 and 8 Oct
    ("2023-09-27", "2023-10-18", 11, "28 Sep + 7–13 Oct (7) + 16–18 Oct (3)"),
    # 2020: the Spring Festival extended to 2 Feb, so Saturday 1 Feb is no longer worked
    ("2020-01-17", "2020-02-03", 6, "19 Jan (make-up Sunday) + 20–23 Jan (4) + 3 Feb"),
    # 2019: May Day 1–4 May after the amending notice, make-up Sundays 28 Apr and 5 May
    ("2019-04-26", "2019-05-06", 5, "28 Apr (make-up Sunday), 29–30 Apr, 5 May (make-up Sunday), 6 May"),
    ("2026-09-07", "2026-09-07", 0, "same day"),
])
def test_worked_examples(start, end, expected, why):
    cal = load_calendar()
    got = cal.working_days(pd.Series([pd.Timestamp(start)]), pd.Series([pd.Timestamp(end)]))
    assert got.tolist() == [float(expected)], why


def test_add_working_days_is_the_inverse_of_counting():
    cal = load_calendar()
    # a notice on 30 Sep 2026 for 5 working days: 8, 9, 10 (make-up Saturday), 12, 13 Oct
    assert cal.add_working_days("2026-09-30", 5) == pd.Timestamp("2026-10-13")
    assert cal.add_working_days("2026-02-13", 1) == pd.Timestamp("2026-02-14")
    assert cal.add_working_days("2026-09-07", 0) == pd.Timestamp("2026-09-07")
    days = pd.date_range("2019-01-01", "2026-12-20", freq="17D")
    for start in days:
        for n in (1, 5, 15):
            end = cal.add_working_days(start, n)
            assert cal.working_days(pd.Series([start]), pd.Series([end])).tolist() == [float(n)]
            assert cal.is_working_day(end)


def test_vectorised_counting_agrees_with_a_day_by_day_count():
    cal = load_calendar()
    rng = np.random.default_rng(7)
    start = pd.Series(pd.to_datetime("2019-01-01") + pd.to_timedelta(rng.integers(0, 2900, 300), "D"))
    end = start + pd.to_timedelta(rng.integers(0, 60, 300), "D")
    got = cal.working_days(start, end)
    for s, e, g in zip(start, end, got, strict=True):
        by_day = sum(cal.is_working_day(d) for d in pd.date_range(s + pd.Timedelta(days=1), e))
        assert g == by_day


def test_past_coverage_weekends_only_and_a_warning_naming_the_file():
    cal = load_calendar()
    # 2027 is not listed: 1 Jan 2027 (Friday) counts as a working day, as weekends only would
    assert cal.working_days(pd.Series([pd.Timestamp("2026-12-31")]),
                            pd.Series([pd.Timestamp("2027-01-04")])).tolist() == [2.0]
    assert cal.uncovered("2026-12-01", "2027-01-10") == [2027]
    w = run_warning("2027-03-01")
    assert w is not None and "rubrics/calendar/cn.yaml" in w and "2027" in w and "weekends only" in w
    assert run_warning("2026-09-01") is None
    assert weekends_only().warning("2026-01-01", "2026-02-01") is not None


def test_no_holiday_table_left_in_code():
    """One calendar: no module keeps its own list of holidays."""
    found = subprocess.run(["grep", "-rln", "DEFAULT_HOLIDAYS\\|2026-10-01", str(ROOT / "evalkit")],
                           capture_output=True, text=True).stdout.split()
    assert found == []


def test_a_bad_calendar_reports_every_problem_with_its_line(tmp_path):
    bad = tmp_path / "cal.yaml"
    bad.write_text(
        "years:\n"
        "  2030:\n"
        "    festivals: []\n"
        "  2031:\n"
        "    source: notice\n"
        "    festivals:\n"
        "      - {name: x, from: 2031-02-10, to: 2031-02-01}\n"
        "      - {name: y, from: 2031-05-01, to: 2031-05-02, work: [2031-05-05, 2031-13-01]}\n",
        encoding="utf-8")
    with pytest.raises(CalendarError) as err:
        load_calendar(bad)
    text = str(err.value) + "\n" + "\n".join(map(str, err.value.problems))
    assert "every year needs its 'source'" in text
    assert "is before 'from'" in text
    assert "not a Saturday or Sunday" in text
    assert "'2031-13-01' is not a date" in text
    assert all(p.row is not None for p in err.value.problems)
    assert isinstance(err.value, EvalkitError)


def test_the_cli_warns_past_the_calendar(tmp_path):
    """`evalkit run` on a date past the calendar warns, naming the file (the run itself may
    fail later for other reasons: only the warning is checked here)."""
    proc = subprocess.run([sys.executable, "-m", "evalkit", "run", "--province", "44", "--as-of", "2028-01-10",
                           "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "rubrics/calendar/cn.yaml" in proc.stderr and "2028" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_shipped_file_is_where_the_docs_say():
    assert calendar_path() == ROOT / "rubrics" / "calendar" / "cn.yaml"
