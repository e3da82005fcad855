"""Person API: request bodies check "not in the future" against the application clock's today."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.persons.models import Person
from tests.conftest import INSIDE, World
from tests.factories import make_id

# The tests' fixed clock says 2026-11-27; the real date is later, so 2026-11-30 is in the past for the wall clock.
LATER = "2026-11-30"


def _body(world: World, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "area_id": world.area(INSIDE),
        "name": "王芳",
        "sex": "2",
        "provenance": {"source_kind": "collector", "evidence": "document"},
    }
    body.update(over)
    return body


def _persons(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(Person)).scalar_one())


@pytest.mark.no_unit_today
def test_a_birth_date_after_the_clock_today_is_refused_and_nothing_written(
    world: World, client: TestClient, login: Any
) -> None:
    r = client.post("/persons", json=_body(world, birth_date=LATER), headers=login("collector_zhang"))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["data"]["field"]) == ("request.invalid", "birth_date")
    assert error["data"]["errors"][0]["code"] == "date.out_of_range"
    assert _persons(world) == 0


@pytest.mark.no_unit_today
def test_a_nested_document_born_after_the_clock_today_is_refused(
    world: World, client: TestClient, login: Any
) -> None:
    number = make_id("420704", dt.date(2026, 11, 30), seq=2)
    r = client.post(
        "/persons", json=_body(world, documents=[{"number": number}]), headers=login("collector_zhang")
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "request.invalid" and error["data"]["field"] == "documents.0"
    assert error["data"]["errors"][0]["code"].startswith("id_number.")
    assert _persons(world) == 0


@pytest.mark.no_unit_today
def test_a_birth_date_equal_to_the_clock_today_is_accepted(
    world: World, client: TestClient, login: Any
) -> None:
    number = make_id("420704", dt.date(2026, 11, 27), seq=2)
    r = client.post(
        "/persons",
        json=_body(world, birth_date="2026-11-27", documents=[{"number": number}]),
        headers=login("police_liu"),  # issue 14: a collector's POST /persons is a change set
    )
    assert r.status_code == 201, r.text
    assert r.json()["attributes"]["birth_date"] == "2026-11-27"
