"""Residence permit rules (居住证暂行条例, 2016): eligibility, validity, endorsement, lifecycle as data."""

from __future__ import annotations

import datetime as dt

from liangshi.common.lifecycle import Lifecycle

BASES: dict[str, tuple[str, str]] = {
    "job": ("合法稳定就业", "a stable job"),
    "home": ("合法稳定住所", "a stable home"),
    "school": ("连续就读", "continuous schooling"),
}
# Who lives away from their hukou place: floating persons, and lodgers such as students.
ELIGIBLE_CATEGORIES = ("floating", "lodging")
ENDORSE_WINDOW_DAYS = 30  # endorsement opens a month before the year runs out

STATUSES: dict[str, tuple[str, str]] = {
    "issued": ("有效", "issued"),
    "lapsed": ("逾期未签注", "lapsed (not endorsed in time)"),
    "cancelled": ("已注销", "cancelled"),
}
ACTIONS: dict[str, tuple[str, str]] = {
    "endorse": ("签注", "endorse for another year"),
    "lapse": ("逾期失效", "lapse"),
    "cancel": ("注销", "cancel"),
    "correct": ("更正", "correct a recorded version"),
}
# What may be done to a permit in each status. The refusal names the status by its code, as it always has.
LIFECYCLE = Lifecycle(
    label_zh="居住证",
    label_en="permit",
    statuses=STATUSES,
    actions=ACTIONS,
    table={"issued": ("endorse", "lapse", "cancel", "correct"), "lapsed": ("correct",), "cancelled": ()},
    code="permit.action_not_allowed",
    message_zh="{label_zh}状态为“{status}”，不能执行该操作",
    message_en="A {label_en} that is {status!r} does not allow {action!r}",
)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the last day of the month when it has fewer days)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def eligibility(
    *, arrival: dt.date, category: str, open_residence: bool, basis: str, on: dt.date
) -> list[str]:
    """Why a person may not have a permit on a date (empty: eligible): six months' stay plus a basis."""
    reasons = []
    if not open_residence:
        reasons.append("residence_closed")
    if category not in ELIGIBLE_CATEGORIES:
        reasons.append("category_not_eligible")
    if add_months(arrival, 6) > on:
        reasons.append("stay_under_six_months")
    if basis not in BASES:
        reasons.append("basis_unknown")
    return reasons


def valid_until(issued_or_endorsed_until: dt.date) -> dt.date:
    """A permit is valid for one year, and each endorsement adds a year."""
    return add_months(issued_or_endorsed_until, 12)


def endorsement_open(*, valid_until: dt.date, on: dt.date) -> bool:
    """Whether a permit may be endorsed on a date: in the last month of its year, not after it ran out."""
    return valid_until - dt.timedelta(days=ENDORSE_WINDOW_DAYS) <= on <= valid_until
