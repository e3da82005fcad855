"""Working days with China's holiday calendar: the timeliness of registrations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from liangshi.errors import ValidationFailed
from liangshi.residence import calendar
from liangshi.residence.calendar import lateness, load_calendar, parse_calendar, working_days_between

D = dt.date
CN = load_calendar()


def test_the_shipped_calendar_covers_2026_and_2027() -> None:
    assert CN.years == frozenset({2026, 2027})
    assert D(2026, 10, 1) in CN.holidays and D(2026, 10, 10) in CN.workdays


def test_lateness_skips_the_spring_festival() -> None:
    # Arrived Friday 13 February 2026, registered Tuesday the 24th: 14 Feb (a Saturday) is a make-up
    # workday, 15–23 Feb the holiday, so the registration came on the second working day.
    assert lateness(D(2026, 2, 13), D(2026, 2, 24), CN) == 2


def test_make_up_workday_on_a_sunday_counts() -> None:
    # 4 January 2026 is a Sunday worked in exchange for New Year's Day.
    assert CN.is_working_day(D(2026, 1, 4))
    assert lateness(D(2026, 1, 3), D(2026, 1, 5), CN) == 2
    assert lateness(D(2026, 1, 3), D(2026, 1, 4), CN) == 1


def test_an_ordinary_weekend_does_not_count() -> None:
    # Friday 20 November 2026 to Monday 23 November: one working day.
    assert working_days_between(D(2026, 11, 20), D(2026, 11, 23), CN) == 1


def test_same_day_registration_is_not_late_and_the_end_is_inclusive() -> None:
    assert lateness(D(2026, 11, 20), D(2026, 11, 20), CN) == 0
    assert working_days_between(D(2026, 11, 23), D(2026, 11, 27), CN) == 4
    assert working_days_between(D(2026, 11, 27), D(2026, 11, 23), CN) == 0


def test_national_day_week_and_its_make_up_saturday() -> None:
    # 30 Sep (Wed) → 12 Oct (Mon): 1–7 Oct holidays, Sat 10 Oct worked, Fri 9 and Mon 12 ordinary.
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 12), CN) == 4


def test_counting_agrees_with_a_day_by_day_walk() -> None:
    start = D(2025, 12, 1)
    for span in range(0, 500, 7):
        end = start + dt.timedelta(days=span)
        walk = sum(CN.is_working_day(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1))
        assert working_days_between(start, end, CN) == walk


def test_years_outside_the_calendar_use_the_plain_week() -> None:
    assert working_days_between(D(2030, 1, 4), D(2030, 1, 11), CN) == 5


def test_another_calendar_file_can_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    path.write_text(
        "# a local rest day\ndate,kind\n2026-11-25,holiday\n2026-11-28,workday\n", encoding="utf-8"
    )
    local = load_calendar(path)
    assert working_days_between(D(2026, 11, 24), D(2026, 11, 28), local) == 3


def test_default_calendar_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "other.csv"
    path.write_text("date,kind\n2026-11-26,holiday\n", encoding="utf-8")
    monkeypatch.setenv(calendar.HOLIDAYS_ENV, str(path))
    assert not calendar.default_calendar().is_working_day(D(2026, 11, 26))
    monkeypatch.delenv(calendar.HOLIDAYS_ENV)
    assert calendar.default_calendar().is_working_day(D(2026, 11, 26))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("day,kind\n2026-01-01,holiday\n", "calendar.columns_missing"),
        ("date,kind\n2026-13-01,holiday\n", "calendar.date_invalid"),
        ("date,kind\n2026-01-01,feast\n", "calendar.kind_invalid"),
        ("date,kind\n2026-01-01,holiday\n2026-01-01,workday\n", "calendar.date_twice"),
    ],
)
def test_a_malformed_calendar_is_refused(text: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_calendar(text)
    assert exc.value.code == code
