"""自主申报 from a scanned QR door plate: public, rate-limited, carrying nothing of a person back, changing nothing
until a collector verifies it on site (上门核录), which proposes what they found for the station's review."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.campaign.declarations import RateLimit
from liangshi.campaign.models import DeclarationCount
from liangshi.errors import LiangshiError
from liangshi.persons.models import Person
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import Residence
from tests import factories
from tests.conftest import INSIDE, World

ID_1 = factories.make_id("420704", dt.date(1990, 1, 1), 11)
ID_2 = factories.make_id("420111", dt.date(1992, 5, 6), 22)


def _plate(world: World) -> factories.Place:
    with world.session() as s:
        ctx = world.ctx(s)
        return factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))


def _code(world: World, address_id: int) -> str:
    from liangshi.addresses.models import Address

    with world.session() as s:
        return str(s.get(Address, address_id).code)  # type: ignore[union-attr]


def _declaration(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "arrival",
        "date": "2026-11-20",
        "room": "3栋1单元501",
        "persons": [
            {"name": "王小明", "id_number": ID_1, "phone": "13812345678"},
            {"name": "李红", "id_number": ID_2},
        ],
        **extra,
    }


def _counts(world: World) -> tuple[int, int, int]:
    with world.session() as s:
        return (
            s.execute(select(func.count()).select_from(Person)).scalar_one(),
            s.execute(select(func.count()).select_from(Residence)).scalar_one(),
            s.execute(select(func.count()).select_from(ChangeSet)).scalar_one(),
        )


def test_anyone_sees_the_scanned_plates_address_and_nothing_of_a_person(
    world: World, client: TestClient
) -> None:
    place = _plate(world)
    r = client.get(f"/plates/{_code(world, place.address_id)}")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"code", "text", "station", "grid"}
    assert r.json()["text"].endswith("12号")
    assert client.get("/plates/999999999999999999").json()["error"]["code"] == "declaration.plate_not_found"


def test_a_declaration_changes_nothing_and_carries_no_personal_data_back(
    world: World, client: TestClient
) -> None:
    place = _plate(world)
    before = _counts(world)
    r = client.post(f"/plates/{_code(world, place.address_id)}/declarations", json=_declaration())
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert set(receipt) == {"reference", "status", "address", "station", "grid"}
    assert receipt["status"] == "pending_visit"
    for personal in ("王小明", "李红", ID_1, ID_2, "13812345678"):
        assert personal not in r.text
    persons, residences, sets = _counts(world)
    assert (persons, residences) == before[:2] and sets == before[2] + 1
    with world.session() as s:
        cs = s.get(ChangeSet, receipt["reference"])
        assert (
            cs is not None and cs.flow == "declaration" and cs.status == "pending_visit" and cs.items == "[]"
        )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"date": "2026-12-30"}, "declaration.date_in_future"),
        ({"persons": [{"name": "王小明", "id_number": "420704199001011235"}]}, "id_number.checksum"),
        ({"persons": []}, "request.invalid"),
        ({"kind": "visit"}, "request.invalid"),
        ({"persons": [{"name": ""}]}, "request.invalid"),
    ],
)
def test_bad_input_is_refused_clearly_and_writes_nothing(
    world: World, client: TestClient, change: dict[str, Any], code: str
) -> None:
    place = _plate(world)
    before = _counts(world)
    r = client.post(f"/plates/{_code(world, place.address_id)}/declarations", json=_declaration(**change))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"].startswith(code.split(".")[0])
    if code != "request.invalid":
        assert r.json()["error"]["code"] == code
    assert _counts(world) == before


def test_declarations_are_rate_limited_per_client_and_per_plate(
    world: World, app: Any, client: TestClient
) -> None:
    place = _plate(world)
    code = _code(world, place.address_id)
    app.state.declaration_limit = RateLimit(app.state.sessions, per_ip=2, per_plate=100)
    assert [
        client.post(f"/plates/{code}/declarations", json=_declaration()).status_code for _ in range(2)
    ] == [201] * 2
    refused = client.post(f"/plates/{code}/declarations", json=_declaration())
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "declaration.rate_limited"
    plate_limit = RateLimit(app.state.sessions, per_ip=100, per_plate=1)
    plate_limit.take("10.0.0.1", code, now=0.0)
    with pytest.raises(LiangshiError) as caught:
        plate_limit.take("10.0.0.2", code, now=10.0)
    assert caught.value.data["scope"] == "plate"
    plate_limit.take("10.0.0.2", code, now=3601.0)  # the next window opens


def test_every_server_process_shares_one_declaration_limit(world: World, app: Any) -> None:
    # Two limiters stand for two workers (`serve --workers 2`): they count in the same database table.
    code = _code(world, _plate(world).address_id)
    first, second = (RateLimit(app.state.sessions, per_ip=3, per_plate=100) for _ in range(2))
    first.take("10.0.0.9", code, now=7200.0)
    second.take("10.0.0.9", code, now=7201.0)
    first.take("10.0.0.9", code, now=7202.0)
    with pytest.raises(LiangshiError) as caught:
        second.take("10.0.0.9", code, now=7203.0)
    assert caught.value.data["scope"] == "client"
    # A refusal counts nothing: the plate's counter stands at the three taken, in either process.
    with app.state.sessions() as session:
        counts = {
            row.key: row.count
            for row in session.scalars(select(DeclarationCount).where(DeclarationCount.bucket == 2))
        }
    assert counts == {"ip:10.0.0.9": 3, f"plate:{code}": 3}
    second.take("10.0.0.9", code, now=10800.0)  # the next window: counting starts again, old windows dropped
    with app.state.sessions() as session:
        assert {row.bucket for row in session.scalars(select(DeclarationCount))} == {3}


def test_the_collector_verifies_an_arrival_on_site_as_collected_work_for_review(
    world: World, client: TestClient, login: Any
) -> None:
    place = _plate(world)
    reference = client.post(
        f"/plates/{_code(world, place.address_id)}/declarations", json=_declaration()
    ).json()["reference"]
    desk = client.get("/declarations", headers=login("collector_zhang"))
    assert desk.status_code == 200, desk.text
    [shown] = desk.json()
    assert shown["id"] == reference and shown["persons"][0]["name"] == "王小明"
    assert ID_1 not in desk.text and "********" in shown["persons"][0]["id_number"]  # masked
    # The written room reached the dwelling: the match level is stored with the declaration.
    assert shown["match"] == {
        "level": "room",
        "building_id": place.building_id,
        "dwelling_id": place.dwelling_id,
    }
    assert client.get("/declarations", headers=login("collector_zhou")).json() == []  # another community
    assert client.get("/declarations", headers=login("auditor_sun")).status_code == 403
    found = {
        "dwelling_id": place.dwelling_id,
        "persons": [
            {"name": "王小明", "id_number": ID_1, "arrival_date": "2026-11-20", "category": "floating"},
        ],
    }
    elsewhere = client.post(
        f"/declarations/{reference}/arrival-verification", json=found, headers=login("collector_zhou")
    )
    assert elsewhere.status_code == 404
    r = client.post(
        f"/declarations/{reference}/arrival-verification", json=found, headers=login("collector_zhang")
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified" and len(r.json()["verified_as"]) == 1
    with world.session() as s:
        proposed = s.get(ChangeSet, r.json()["verified_as"][0])
        assert proposed is not None and proposed.status == "pending_station" and proposed.flow == "collection"
    assert _counts(world)[:2] == (0, 0)  # still nothing counts until the station approves
    again = client.post(
        f"/declarations/{reference}/arrival-verification", json=found, headers=login("collector_zhang")
    )
    assert again.status_code == 409


def test_the_collector_verifies_a_departure_on_site_through_the_api(
    world: World, client: TestClient, login: Any
) -> None:
    place = _plate(world)
    with world.session() as s:
        ctx = world.ctx(s)
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="王小明")
        rid = factories.arrival(
            s, ctx, person_id=pid, dwelling_id=place.dwelling_id, arrived=dt.date(2026, 1, 5)
        )
    reference = client.post(
        f"/plates/{_code(world, place.address_id)}/declarations",
        json=_declaration(kind="departure", persons=[{"name": "王小明"}]),
    ).json()["reference"]
    found = {
        "departures": [
            {
                "residence_id": rid,
                "departure": {"expected_version": 1, "departure_date": "2026-11-20", "reason": "left_city"},
            }
        ]
    }
    arrival = {
        "dwelling_id": place.dwelling_id,
        "persons": [{"name": "王小明", "arrival_date": "2026-11-20"}],
    }
    wrong = client.post(
        f"/declarations/{reference}/arrival-verification", json=arrival, headers=login("collector_zhang")
    )
    assert wrong.status_code == 422
    r = client.post(
        f"/declarations/{reference}/departure-verification", json=found, headers=login("collector_zhang")
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified" and len(r.json()["verified_as"]) == 1
    with world.session() as s:
        proposed = s.get(ChangeSet, r.json()["verified_as"][0])
        assert (
            proposed is not None and proposed.action == "departure" and proposed.status == "pending_station"
        )
        snap = s.execute(select(Residence).where(Residence.id == rid)).scalar_one()
        assert snap.version == 1  # still living there until the station approves


def test_a_declaration_found_untrue_is_declined_and_writes_nothing(
    world: World, client: TestClient, login: Any
) -> None:
    place = _plate(world)
    code = _code(world, place.address_id)
    reference = client.post(f"/plates/{code}/declarations", json=_declaration(kind="departure")).json()[
        "reference"
    ]
    wrong = client.post(
        f"/declarations/{reference}/arrival-verification",
        json={
            "dwelling_id": place.dwelling_id,
            "persons": [{"name": "王小明", "arrival_date": "2026-11-20", "sex": "1"}],
        },
        headers=login("collector_zhang"),
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "declaration.wrong_kind"
    r = client.post(
        f"/declarations/{reference}/decline", json={"reason": "无此人"}, headers=login("collector_zhang")
    )
    assert (
        r.status_code == 200 and r.json()["status"] == "closed" and r.json()["declined_because"] == "无此人"
    )
    assert client.get("/declarations", headers=login("collector_zhang")).json() == []
    assert _counts(world)[:2] == (0, 0)


@pytest.mark.parametrize(
    ("room", "level"),
    [
        (None, "plate"),
        ("9栋1单元501", "plate"),
        ("3栋", "building"),
        ("3栋1单元909", "unit"),  # unit 1 is there, no dwelling on its 9th floor
        ("3栋1单元502", "floor"),  # no room 502, but a dwelling of unit 1 on the 5th floor
        ("3栋2单元", "building"),  # the building has no unit 2
        ("501室", "room"),
    ],
)
def test_the_declared_room_is_matched_onto_the_plates_dwellings(
    world: World, room: str | None, level: str
) -> None:
    from liangshi.addresses import service as addresses

    place = _plate(world)
    with world.session() as s:
        found = addresses.match_within_plate(s, place.address_id, room, dt.date(2026, 11, 27))
    assert found["level"] == level
    assert found["dwelling_id"] == (place.dwelling_id if level == "room" else None)
    assert found["building_id"] == (None if level == "plate" else place.building_id)
