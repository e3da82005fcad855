"""Residence date rules: arrival, registration, intended stay, departure and deregistration."""

from __future__ import annotations

import datetime as dt

import pytest

from liangshi.errors import ValidationFailed
from liangshi.residence.rules import CATEGORIES, DEREGISTRATION_REASONS, check_dates, check_departure

TODAY = dt.date(2026, 11, 27)
D = dt.date


def test_arrival_registered_the_same_day_or_later_is_fine() -> None:
    check_dates(arrival=D(2026, 10, 2), registration=D(2026, 10, 2), intended_until=None, today=TODAY)
    check_dates(arrival=D(2026, 10, 2), registration=TODAY, intended_until=D(2027, 10, 1), today=TODAY)
    check_dates(arrival=TODAY, registration=None, intended_until=None, today=TODAY)


@pytest.mark.parametrize(
    ("arrival", "registration", "until", "code"),
    [
        (D(2026, 11, 28), None, None, "residence.arrival_in_future"),
        (D(2026, 10, 2), D(2026, 10, 1), None, "residence.registration_date_invalid"),
        (D(2026, 10, 2), D(2026, 11, 28), None, "residence.registration_date_invalid"),
        (D(2026, 10, 2), None, D(2026, 10, 2), "residence.intended_stay_invalid"),
        (D(2026, 10, 2), None, D(2026, 9, 1), "residence.intended_stay_invalid"),
    ],
)
def test_impossible_arrival_dates_are_refused(
    arrival: dt.date, registration: dt.date | None, until: dt.date | None, code: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_dates(arrival=arrival, registration=registration, intended_until=until, today=TODAY)
    assert exc.value.code == code


def test_departure_on_the_arrival_day_or_later_is_fine() -> None:
    check_departure(
        arrival=D(2026, 10, 2), departure=D(2026, 10, 2), deregistration=D(2026, 10, 2), today=TODAY
    )
    check_departure(arrival=D(2026, 10, 2), departure=D(2026, 11, 1), deregistration=TODAY, today=TODAY)


@pytest.mark.parametrize(
    ("departure", "deregistration", "code"),
    [
        (D(2026, 10, 1), D(2026, 10, 1), "residence.departure_before_arrival"),
        (D(2026, 11, 28), D(2026, 11, 28), "residence.departure_in_future"),
        (D(2026, 11, 1), D(2026, 10, 31), "residence.deregistration_date_invalid"),
        (D(2026, 11, 1), D(2026, 11, 28), "residence.deregistration_date_invalid"),
    ],
)
def test_impossible_departure_dates_are_refused(
    departure: dt.date, deregistration: dt.date, code: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_departure(
            arrival=D(2026, 10, 2), departure=departure, deregistration=deregistration, today=TODAY
        )
    assert exc.value.code == code


def test_categories_and_reasons_have_chinese_and_english_names() -> None:
    assert CATEGORIES["lodging"][0] == "寄住"
    assert DEREGISTRATION_REASONS["died"][0] == "死亡"
    assert all(zh and en for zh, en in [*CATEGORIES.values(), *DEREGISTRATION_REASONS.values()])
