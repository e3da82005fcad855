"""Residence categories and deregistration reasons (DOMAIN.md: Residence)."""

from __future__ import annotations

import datetime as dt

from liangshi.errors import ValidationFailed

CATEGORIES: dict[str, tuple[str, str]] = {
    "resident": ("常住", "lives at own hukou place"),
    "separated": ("人户分离", "hukou elsewhere in the city"),
    "floating": ("流动/暂住", "from outside the city"),
    "lodging": ("寄住", "lodging (students, relatives)"),
    "unregistered": ("未落户", "no hukou"),
    "overseas": ("境外", "foreigner or from Hong Kong, Macau, Taiwan"),
}
DEREGISTRATION_REASONS: dict[str, tuple[str, str]] = {
    "moved_within_city": ("市内迁移", "moved within the city"),
    "left_city": ("离开本市", "left the city"),
    "returned_home": ("返回原籍", "returned to the hukou place"),
    "went_abroad": ("出境", "went abroad"),
    "died": ("死亡", "died"),
    "other": ("其他", "other"),
}


def check_dates(
    *, arrival: dt.date, registration: dt.date | None, intended_until: dt.date | None, today: dt.date
) -> None:
    """Arrival is not in the future; registration is not before arrival; the intended stay ends after arrival."""
    if arrival > today:
        raise ValidationFailed(
            "residence.arrival_in_future",
            "来住日期不能晚于今天",
            "The arrival date cannot be in the future",
            {"field": "arrival_date"},
        )
    if registration is not None and (registration < arrival or registration > today):
        raise ValidationFailed(
            "residence.registration_date_invalid",
            "登记日期须在来住日期与今天之间",
            "The registration date must lie between arrival and today",
            {"field": "registration_date"},
        )
    if intended_until is not None and intended_until <= arrival:
        raise ValidationFailed(
            "residence.intended_stay_invalid",
            "拟住至日期须晚于来住日期",
            "The intended stay must end after the arrival",
            {"field": "intended_stay_until"},
        )


def check_departure(*, arrival: dt.date, departure: dt.date, deregistration: dt.date, today: dt.date) -> None:
    """Departure lies between arrival and today; deregistration is not before departure nor in the future."""
    if departure < arrival:
        raise ValidationFailed(
            "residence.departure_before_arrival",
            "离开日期不能早于来住日期",
            "The departure cannot be before the arrival",
            {"field": "departure_date"},
        )
    if departure > today:
        raise ValidationFailed(
            "residence.departure_in_future",
            "离开日期不能晚于今天",
            "The departure date cannot be in the future",
            {"field": "departure_date"},
        )
    if deregistration < departure or deregistration > today:
        raise ValidationFailed(
            "residence.deregistration_date_invalid",
            "注销日期须在离开日期与今天之间",
            "The deregistration date must lie between departure and today",
            {"field": "deregistration_date"},
        )
