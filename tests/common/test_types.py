"""Validated types: "not in the future" is checked against the use case's today, never the wall clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from liangshi.clock import today_is
from liangshi.common.types import NoToday, validation_context
from liangshi.persons.schemas import DocumentIn, PersonCreate
from tests.factories import make_id

TODAY = dt.date(2026, 11, 27)  # the tests' fixed clock; the real date is later
ON_TODAY = validation_context(TODAY)


def _person(**over: Any) -> dict[str, Any]:
    return {"area_id": 1, "name": "王芳", "sex": "2", **over}


def _first_error(exc: pytest.ExceptionInfo[ValidationError]) -> tuple[str, tuple[Any, ...]]:
    err = exc.value.errors()[0]
    return str(err["type"]), tuple(err["loc"])


@pytest.mark.no_unit_today
def test_a_birth_date_after_the_context_today_is_refused_though_the_real_date_is_later() -> None:
    with pytest.raises(ValidationError) as exc:
        PersonCreate.model_validate(_person(birth_date="2026-11-30"), context=ON_TODAY)
    assert _first_error(exc) == ("date.out_of_range", ("birth_date",))


@pytest.mark.no_unit_today
def test_a_birth_date_equal_to_the_context_today_is_accepted() -> None:
    data = PersonCreate.model_validate(_person(birth_date="2026-11-27"), context=ON_TODAY)
    assert data.birth_date == TODAY


@pytest.mark.no_unit_today
def test_a_nested_document_is_checked_against_the_context_today() -> None:
    born_later = make_id("420704", dt.date(2026, 11, 30), seq=2)
    with pytest.raises(ValidationError) as exc:
        PersonCreate.model_validate(_person(documents=[{"number": born_later}]), context=ON_TODAY)
    code, loc = _first_error(exc)
    assert loc == ("documents", 0) and code.startswith("id_number.")
    born_today = make_id("420704", TODAY, seq=2)
    data = PersonCreate.model_validate(_person(documents=[{"number": born_today}]), context=ON_TODAY)
    assert data.documents[0].number == born_today


@pytest.mark.no_unit_today
def test_the_validation_context_wins_over_the_bound_today() -> None:
    with today_is(dt.date(2026, 12, 31)), pytest.raises(ValidationError) as exc:
        PersonCreate.model_validate(_person(birth_date="2026-11-30"), context=ON_TODAY)
    assert _first_error(exc)[0] == "date.out_of_range"


@pytest.mark.no_unit_today
def test_without_a_validation_context_the_entry_points_bound_today_is_used() -> None:
    with today_is(TODAY):
        with pytest.raises(ValidationError) as exc:
            PersonCreate.model_validate(_person(birth_date="2026-11-30"))
        assert _first_error(exc)[0] == "date.out_of_range"
        assert PersonCreate.model_validate(_person(birth_date="2026-11-27")).birth_date == TODAY


@pytest.mark.no_unit_today
def test_with_no_today_known_validation_fails_loudly_instead_of_reading_the_clock() -> None:
    with pytest.raises(NoToday):
        PersonCreate.model_validate(_person(birth_date="1980-01-01"))
    with pytest.raises(NoToday):
        DocumentIn.model_validate({"number": make_id()})
