"""The KPI definitions of the seed (DOMAIN.md "The targets in the seed") as data, and the pure arithmetic.

No session, no clock: the service counts numerators and denominators per area with set-based SQL, these rules
say what each KPI is, its target, how a rate is formed and when a registration or a stay counts as timely.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from liangshi.errors import ValidationFailed
from liangshi.residence import calendar
from liangshi.venues.rules import FOREIGN_REPORT_LIMIT

# 人来登记: a floating person must be registered within this many working days of arriving. Provincial
# floating-population regulations commonly set three days; it is counted in working days with the holiday calendar
# (DOMAIN.md: timeliness is measured in working days).
ARRIVAL_REGISTRATION_LIMIT_WORKING_DAYS = 3
# 实时录入: a venue stay counts as real-time when it reached the registry within this time of the check-in. The one
# limit the rules name is the 24 hours for foreign guests (venues.rules); domestic guests are held to the same.
VENUE_REALTIME_LIMIT = FOREIGN_REPORT_LIMIT
# A period longer than this is refused (a dashboard compares months and years, not centuries).
MAX_PERIOD_DAYS = 3660

GROUPS: dict[str, tuple[str, str]] = {
    "address": ("门楼牌", "Door plates"),
    "rental": ("出租房屋", "Rentals"),
    "floating": ("流动人口", "Floating population"),
    "venue": ("旅店网吧", "Hotels and internet cafés"),
    "population": ("实有人口", "Actual population"),
}


@dataclass(frozen=True)
class KpiDef:
    """One KPI: key, group, Chinese and English name, what numerator and denominator count, seed target."""

    key: str
    group: str
    label_zh: str
    label_en: str
    numerator_zh: str
    denominator_zh: str
    target: float | None
    # A count (share of all residents) rather than a rate with a target.
    is_count: bool = False


_CATEGORY_KPIS = tuple(
    KpiDef(
        f"category_{cat}", "population", f"{zh}人口数", f"{en} persons", f"{zh}人数", "实有人口数", None, True
    )
    for cat, zh, en in (
        ("resident", "常住", "Resident"),
        ("separated", "人户分离", "Separated (hukou elsewhere in the city)"),
        ("floating", "流动", "Floating"),
        ("lodging", "寄住", "Lodging"),
        ("unregistered", "未落户", "Unregistered (no hukou)"),
        ("overseas", "境外", "Overseas"),
    )
)

KPIS: tuple[KpiDef, ...] = (
    KpiDef(
        "plate_installation",
        "address",
        "门楼牌编制安装率",
        "Door-plate installation rate",
        "已安装门楼牌数",
        "应有门楼牌数（未注销）",
        1.0,
    ),
    KpiDef(
        "rental_registration",
        "rental",
        "出租房屋登记率",
        "Rental registration rate",
        "已登记出租房屋数",
        "发现的出租房屋数",
        1.0,
    ),
    KpiDef("rental_entry", "rental", "出租房屋录入率", "Rental entry rate", "已录入数", "已登记数", 1.0),
    KpiDef(
        "rental_agreement",
        "rental",
        "出租房屋签约率",
        "Rental security-agreement rate",
        "已签治安责任书数",
        "已登记数",
        1.0,
    ),
    KpiDef(
        "floating_registration",
        "floating",
        "流动人口人来登记率",
        "Floating arrivals registered",
        "期内来住已登记人数",
        "期内来住流动人口数",
        1.0,
    ),
    KpiDef(
        "floating_timeliness",
        "floating",
        "流动人口登记及时率",
        "Floating arrivals registered in time",
        f"{ARRIVAL_REGISTRATION_LIMIT_WORKING_DAYS}个工作日内登记人数",
        "期内来住流动人口数",
        1.0,
    ),
    KpiDef(
        "floating_deregistration",
        "floating",
        "流动人口人走注销率",
        "Floating departures deregistered",
        "期内离开已注销人数",
        "期内离开人数（含检查发现的未注销离开）",
        1.0,
    ),
    KpiDef(
        "venue_realtime",
        "venue",
        "旅店网吧实名实时登记率",
        "Venue real-name real-time rate",
        "身份核实且按时报送的登记数",
        "期内登记数",
        1.0,
    ),
    *_CATEGORY_KPIS,
)
BY_KEY = {k.key: k for k in KPIS}
CATEGORY_KEYS = tuple(k.key for k in _CATEGORY_KPIS)


def rate(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator rounded to 6 places; None when nothing was counted (never 0 % or 100 %)."""
    if denominator <= 0:
        return None
    return round(numerator / denominator, 6)


def check_period(date_from: dt.date, date_to: dt.date) -> None:
    """A period runs forward and is not absurdly long."""
    if date_from > date_to:
        raise ValidationFailed(
            "kpi.period_reversed",
            "起始日期不能晚于截止日期",
            "The period must start on or before its end",
            {"field": "from", "from": date_from.isoformat(), "to": date_to.isoformat()},
        )
    if (date_to - date_from).days > MAX_PERIOD_DAYS:
        raise ValidationFailed(
            "kpi.period_too_long",
            "统计期间不能超过十年",
            "The period cannot exceed ten years",
            {"field": "from", "max_days": MAX_PERIOD_DAYS},
        )


def registration_deadline(
    arrival: dt.date,
    cal: calendar.HolidayCalendar,
    limit_working_days: int = ARRIVAL_REGISTRATION_LIMIT_WORKING_DAYS,
) -> dt.date:
    """The last day an arrival may be registered in time: the day before the (limit + 1)-th working day after it."""
    day, worked = arrival, 0
    while True:
        following = day + dt.timedelta(days=1)
        if cal.is_working_day(following):
            worked += 1
            if worked > limit_working_days:
                return day
        day = following


def registration_deadlines(
    date_from: dt.date, date_to: dt.date, cal: calendar.HolidayCalendar
) -> dict[dt.date, dt.date]:
    """The deadline of every arrival date of a period (a table the counting query joins)."""
    days = (date_to - date_from).days + 1
    return {
        date_from + dt.timedelta(days=i): registration_deadline(date_from + dt.timedelta(days=i), cal)
        for i in range(days)
    }


def registered_in_time(
    arrival: dt.date,
    registration: dt.date | None,
    cal: calendar.HolidayCalendar,
    limit_working_days: int = ARRIVAL_REGISTRATION_LIMIT_WORKING_DAYS,
) -> bool:
    """Whether an arrival was registered within the limit (an unregistered arrival never is)."""
    if registration is None:
        return False
    return calendar.lateness(arrival, registration, cal) <= limit_working_days


# ---- the daily aggregate's buckets (kpis.daily): a period as a few buckets of day, month, year or decade -------

# Coarsest first. A bucket is named by its first day.
GRAINS = ("x", "y", "m", "d")


def bucket_start(grain: str, day: dt.date) -> dt.date:
    """The first day of the bucket of `grain` (d day, m month, y year, x decade) that contains `day`."""
    if grain == "d":
        return day
    if grain == "m":
        return day.replace(day=1)
    if grain == "y":
        return dt.date(day.year, 1, 1)
    if grain == "x":
        return dt.date(max(day.year // 10 * 10, 1), 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def bucket_last(grain: str, start: dt.date) -> dt.date:
    """The last day of the bucket of `grain` that starts on `start`."""
    if grain == "d":
        return start
    if grain == "m":
        if start.month == 12:
            return dt.date(start.year, 12, 31)
        return dt.date(start.year, start.month + 1, 1) - dt.timedelta(days=1)
    if grain == "y":
        return dt.date(start.year, 12, 31)
    if grain == "x":
        return dt.date(min(start.year // 10 * 10 + 9, 9999), 12, 31)
    raise ValueError(f"unknown grain {grain!r}")


def cover(first: dt.date | None, last: dt.date) -> list[tuple[str, dt.date | None, dt.date]]:
    """Buckets that tile the days [first, last] exactly (first None: from the beginning of time), as ranges
    (grain, first bucket start or None for all before, last bucket start), coarsest buckets where they fit."""
    ranges: list[tuple[str, dt.date | None, dt.date]] = []
    if first is None:
        decade = bucket_start("x", last)
        if decade > dt.date.min:
            ranges.append(("x", None, decade - dt.timedelta(days=1)))
        first = decade
    day = first
    while day <= last:
        grain = next(g for g in GRAINS if bucket_start(g, day) == day and bucket_last(g, day) <= last)
        if ranges and ranges[-1][0] == grain:  # the buckets follow each other: one range
            ranges[-1] = (grain, ranges[-1][1], day)
        else:
            ranges.append((grain, day, day))
        end = bucket_last(grain, day)
        if end == dt.date.max:
            break
        day = end + dt.timedelta(days=1)
    return ranges
