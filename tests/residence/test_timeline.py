"""查人知住 in full (the timeline) and 查房知人 with past occupants and the rental."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from liangshi.permits import service as permits
from liangshi.permits.schemas import PermitIssue
from liangshi.residence import service as residence
from liangshi.residence.schemas import DepartureIn
from tests import factories
from tests.conftest import INSIDE, World
from tests.rentals import helpers as rental_helpers


def test_timeline_lists_residences_rentals_and_permits_newest_first(
    world: World, client: TestClient, login: Any
) -> None:
    place = rental_helpers.place(world)
    landlord = rental_helpers.person(world, name="王房东")
    rental_id = rental_helpers.file(world, place.dwelling_id, landlord).entity.id
    tenant = rental_helpers.person(world, name="李租客")
    with world.session() as s:
        ctx = world.ctx(s)
        rid = factories.arrival(
            s, ctx, person_id=tenant, dwelling_id=place.dwelling_id, arrived=dt.date(2025, 1, 2)
        )
        permits.issue_permit(
            s, world.ctx(s, "police_liu"), PermitIssue(residence_id=rid, basis="job", basis_detail="劳动合同")
        )
    events = client.get(f"/persons/{tenant}/timeline", headers=login("police_liu")).json()["events"]
    kinds = [e["kind"] for e in events]
    assert kinds == ["permit", "residence"]
    assert events[1]["where"].endswith("3栋1单元501室")
    landlord_events = client.get(f"/persons/{landlord}/timeline", headers=login("police_liu")).json()[
        "events"
    ]
    assert [(e["kind"], e["id"]) for e in landlord_events] == [("rental_landlord", rental_id)]
    assert client.get(f"/persons/{tenant}/timeline", headers=login("collector_zhou")).status_code == 404


def test_occupants_show_the_rental_and_who_lived_there_before(world: World) -> None:
    place = rental_helpers.place(world)
    landlord = rental_helpers.person(world, name="王房东")
    rental_helpers.file(world, place.dwelling_id, landlord)
    with world.session() as s:
        ctx = world.ctx(s)
        before = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵前租")
        now = factories.person(s, ctx, area_id=world.area(INSIDE), name="钱现租")
        old = factories.arrival(
            s, ctx, person_id=before, dwelling_id=place.dwelling_id, arrived=dt.date(2024, 1, 1)
        )
        residence.deregister_departure(
            s,
            ctx,
            old,
            DepartureIn(expected_version=1, departure_date=dt.date(2025, 1, 1), reason="left_city"),
        )
        factories.arrival(s, ctx, person_id=now, dwelling_id=place.dwelling_id, arrived=dt.date(2025, 2, 1))
    with world.session() as s:
        found = residence.occupants(s, world.ctx(s, "police_liu"), place.dwelling_id, None)
    assert [o["name"] for o in found["occupants"]] == ["钱现租"]
    assert [(o["name"], o["deregistration_reason"]) for o in found["past_occupants"]] == [
        ("赵前租", "left_city")
    ]
    assert found["rental"]["landlord_name"] == "王房东"
