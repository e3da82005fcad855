"""Working days with China's holiday calendar, for the timeliness of registrations (pure, no session).

The calendar is data: `holidays_cn.csv` in this package lists public holidays (`holiday`) and the make-up working
days on weekends (`workday`, 调休上班) by date. Any other CSV of the same shape (`date,kind`, `#` comment lines
allowed) can be loaded with `load_calendar(path)`; `default_calendar()` reads the file named by the environment
variable `LIANGSHI_HOLIDAYS_FILE` when it is set, else the shipped one. A date not listed is a working day from
Monday to Friday and a rest day on Saturday and Sunday (also for years the file does not cover).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from liangshi.errors import ValidationFailed

KINDS = ("holiday", "workday")
HOLIDAYS_ENV = "LIANGSHI_HOLIDAYS_FILE"


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays and make-up working days; everything else follows the Monday–Friday week."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    def is_working_day(self, day: dt.date) -> bool:
        """Whether `day` is a working day."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    @property
    def years(self) -> frozenset[int]:
        """The years the calendar lists anything for."""
        return frozenset(d.year for d in self.holidays | self.workdays)


def _bad(code: str, message_zh: str, message_en: str, line: int) -> ValidationFailed:
    return ValidationFailed(code, message_zh, message_en, {"line": line})


def parse_calendar(text: str) -> HolidayCalendar:
    """Parse `date,kind` CSV text (header required, `#` lines ignored); a date listed twice is an error."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != ["date", "kind"]:
        raise _bad(
            "calendar.columns_missing",
            "节假日文件须有 date,kind 两列",
            "The holiday file needs the columns date,kind",
            1,
        )
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for n, rec in enumerate(reader, start=2):
        try:
            day = dt.date.fromisoformat((rec["date"] or "").strip())
        except ValueError:
            raise _bad(
                "calendar.date_invalid", "节假日文件中的日期无效", "Invalid date in the holiday file", n
            ) from None
        kind = (rec["kind"] or "").strip()
        if kind not in KINDS:
            raise _bad(
                "calendar.kind_invalid", "类型须为 holiday 或 workday", "Kind must be holiday or workday", n
            )
        if day in holidays or day in workdays:
            raise _bad(
                "calendar.date_twice", "节假日文件中日期重复", "A date is listed twice in the holiday file", n
            )
        (holidays if kind == "holiday" else workdays).add(day)
    return HolidayCalendar(frozenset(holidays), frozenset(workdays))


def load_calendar(path: str | Path | None = None) -> HolidayCalendar:
    """The calendar from a CSV file, or the shipped `holidays_cn.csv` when no path is given."""
    if path is not None:
        return parse_calendar(Path(path).read_text(encoding="utf-8"))
    text = resources.files("liangshi.residence").joinpath("holidays_cn.csv").read_text(encoding="utf-8")
    return parse_calendar(text)


@lru_cache(maxsize=4)
def _cached(path: str | None) -> HolidayCalendar:
    return load_calendar(path)


def default_calendar() -> HolidayCalendar:
    """The configured calendar: the file in `LIANGSHI_HOLIDAYS_FILE` if set, else the shipped one (cached)."""
    return _cached(os.environ.get(HOLIDAYS_ENV) or None)


_ORIGIN = dt.date(1900, 1, 1)  # a Monday


def _weekdays_through(day: dt.date) -> int:
    """Monday–Friday days from a fixed Monday up to and including `day` (a counting origin)."""
    days = (day - _ORIGIN).days + 1
    weeks, rest = divmod(days, 7)
    return weeks * 5 + min(rest, 5)


def working_days_between(start: dt.date, end: dt.date, calendar: HolidayCalendar) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
    if end <= start:
        return 0
    count = _weekdays_through(end) - _weekdays_through(start)
    count -= sum(1 for d in calendar.holidays if start < d <= end and d.weekday() < 5)
    count += sum(1 for d in calendar.workdays if start < d <= end and d.weekday() >= 5)
    return count


def lateness(event_date: dt.date, registration_date: dt.date, calendar: HolidayCalendar) -> int:
    """How many working days after the event it was registered (0: the same day or before the next workday)."""
    return working_days_between(event_date, registration_date, calendar)
