"""The population lifecycle over HTTP: extend, move, births, deaths and the floating-population lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.persons.models import Person
from liangshi.residence.models import Residence, ResidenceVersion
from tests import factories
from tests.conftest import INSIDE, PASSWORD, World

D = dt.date


def _counts(world: World) -> tuple[int, ...]:
    with world.session() as s:
        return tuple(
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (Person, Residence, ResidenceVersion, AuditEntry)
        )


def _place(world: World) -> factories.Place:
    with world.session() as s:
        return factories.place(s, world.ctx(s), area_id=world.area(INSIDE), district_id=world.area("420704"))


def _resident(world: World, client: TestClient, h: dict[str, str], **arrival: Any) -> tuple[int, int, int]:
    p = _place(world)
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE), name="赵磊")
    body = {
        "person_id": pid,
        "dwelling_id": p.dwelling_id,
        "category": "floating",
        "arrival_date": "2026-05-01",
    }
    # Issue 14: a collector's arrival through POST /residences is refused (it is a change set via POST /sync);
    # the police registers it, and the tests' own actions stay the persona's `h`.
    r = client.post("/residences", json={**body, **arrival}, headers=h)
    if r.status_code == 403:
        assert r.json()["error"]["code"] == "changeset.required", r.text
        token = client.post("/auth/token", json={"username": "police_liu", "password": PASSWORD}).json()
        r = client.post(
            "/residences",
            json={**body, **arrival},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
    assert r.status_code == 201, r.text
    return pid, p.dwelling_id, r.json()["id"]


def test_the_police_extends_a_stay_and_a_stale_version_gets_409(
    world: World, client: TestClient, login: Any
) -> None:
    # Issue 14: a collector's extension is a change set for review (below), so the police extends here.
    h = login("police_liu")
    _, _, rid = _resident(world, client, h, intended_stay_until="2026-11-30")
    r = client.post(
        f"/residences/{rid}/extend",
        json={"expected_version": 1, "intended_stay_until": "2027-05-31"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["attributes"]["intended_stay_until"], r.json()["version"]) == ("2027-05-31", 2)
    before = _counts(world)
    r = client.post(
        f"/residences/{rid}/extend",
        json={"expected_version": 1, "intended_stay_until": "2027-12-31"},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "version.stale")
    r = client.post(
        f"/residences/{rid}/extend",
        json={"expected_version": 2, "intended_stay_until": "2027-01-01"},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "residence.extension_not_later")
    assert _counts(world) == before


def test_a_collectors_extension_is_a_change_set_until_the_station_approves(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    _, _, rid = _resident(world, client, h, intended_stay_until="2026-11-30")
    before = _counts(world)
    body = {"expected_version": 1, "intended_stay_until": "2027-05-31"}
    r = client.post(f"/residences/{rid}/extend", json=body, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.required")
    assert _counts(world) == before
    # Bad input: checked now as the extension would be, nothing stored.
    r = client.post(
        f"/residences/{rid}/extension-proposals",
        json={"expected_version": 1, "intended_stay_until": "2026-11-30"},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "residence.extension_not_later")
    r = client.post(f"/residences/{rid}/extension-proposals", json=body, headers=h)
    assert r.status_code == 201, r.text
    cs = r.json()
    assert (cs["action"], cs["status"]) == ("extension", "pending_station")
    with world.session() as s:
        row = s.execute(
            select(ResidenceVersion).where(
                ResidenceVersion.entity_id == rid, ResidenceVersion.superseded_at.is_(None)
            )
        ).scalar_one()
        assert row.intended_stay_until == D(2026, 11, 30)  # nothing live yet
    # The collector never approves their own collection; the station does.
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=h)
    assert r.status_code == 403
    station = login("station_admin_li")
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    r = client.get(f"/residences/{rid}", headers=station)
    assert r.json()["attributes"]["intended_stay_until"] == "2027-05-31"
    assert r.json()["version"] == 2
    with world.session() as s:
        row = s.execute(
            select(ResidenceVersion).where(
                ResidenceVersion.entity_id == rid,
                ResidenceVersion.superseded_at.is_(None),
                ResidenceVersion.valid_to.is_(None),
            )
        ).scalar_one()
        assert row.source_ref == "collector_zhang"


def test_cannot_extend_a_deregistered_residence_over_http(
    world: World, client: TestClient, login: Any
) -> None:
    # Issue 14: a collector's departure is a change set for review, so the police deregisters and extends here.
    h = login("police_liu")
    _, _, rid = _resident(world, client, h)
    r = client.post(
        f"/residences/{rid}/deregister",
        json={"expected_version": 1, "departure_date": "2026-11-01", "reason": "left_city"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/residences/{rid}/extend",
        json={"expected_version": 2, "intended_stay_until": "2027-05-31"},
        headers=h,
    )
    assert r.status_code == 409
    assert (r.json()["error"]["code"], r.json()["error"]["data"]["status"]) == (
        "residence.action_not_allowed",
        "deregistered",
    )
    r = client.patch(f"/residences/{rid}", json={"expected_version": 2, "category": "resident"}, headers=h)
    assert r.status_code == 409


def test_extend_refuses_unknown_fields(world: World, client: TestClient, login: Any) -> None:
    h = login("police_liu")
    _, _, rid = _resident(world, client, h)
    r = client.post(
        f"/residences/{rid}/extend",
        json={"expected_version": 1, "intended_stay_until": "2027-05-31", "status": "open"},
        headers=h,
    )
    assert r.status_code == 422


def test_the_police_moves_a_person_within_the_city(world: World, client: TestClient, login: Any) -> None:
    # Issue 14: a collector's move is a change set for review (tests/campaign/test_proposals_api.py).
    h = login("police_liu")
    pid, _, rid = _resident(world, client, h)
    new = _place(world)
    r = client.post(
        f"/residences/{rid}/move",
        json={"expected_version": 1, "move_date": "2026-11-20", "dwelling_id": new.dwelling_id},
        headers=h,
    )
    assert r.status_code == 200, r.text
    closed, opened = r.json()["closed"], r.json()["opened"]
    assert (closed["retired"], closed["attributes"]["deregistration_reason"]) == (True, "moved_within_city")
    assert (opened["refs"]["dwelling_id"], opened["attributes"]["arrival_date"]) == (
        new.dwelling_id,
        "2026-11-20",
    )
    where = client.get(f"/persons/{pid}/residences", headers=h).json()
    assert [c["residence_id"] for c in where["current"]] == [opened["id"]]


def test_move_before_arrival_writes_nothing(world: World, client: TestClient, login: Any) -> None:
    h = login("police_liu")
    _, _, rid = _resident(world, client, h)
    new = _place(world)
    before = _counts(world)
    r = client.post(
        f"/residences/{rid}/move",
        json={"expected_version": 1, "move_date": "2026-04-01", "dwelling_id": new.dwelling_id},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "residence.departure_before_arrival")
    assert _counts(world) == before


def _household(world: World, dwelling_id: int) -> int:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        mother = factories.person(s, ctx, area_id=world.area(INSIDE), name="李娜", male=False)
        return factories.household(
            s, ctx, area_id=world.area(INSIDE), dwelling_id=dwelling_id, members=[(mother, "02")]
        )


def test_the_police_registers_a_birth(world: World, client: TestClient, login: Any) -> None:
    # Issue 14: a collector's birth is a change set for review (tests/campaign/test_proposals_api.py).
    h = login("police_liu")
    p = _place(world)
    hid = _household(world, p.dwelling_id)
    body = {
        "name": "李小雨",
        "sex": "2",
        "birth_date": "2026-11-20",
        "household_id": hid,
        "household_expected_version": 1,
        "relationship": "30",
        "provenance": {"source_kind": "department", "source_ref": "health", "evidence": "document"},
    }
    r = client.post("/births", json=body, headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["residence"]["attributes"]["category"] == "resident"
    assert out["residence"]["refs"]["dwelling_id"] == p.dwelling_id
    assert out["household"]["version"] == 2
    before = _counts(world)
    r = client.post("/births", json={**body, "birth_date": "2026-11-28"}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "person.birth_in_future")
    r = client.post("/births", json={**body, "name": "李小雷", "sex": "1", "relationship": "20"}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "version.stale")
    assert _counts(world) == before


def test_deaths_need_the_police(world: World, client: TestClient, login: Any) -> None:
    h = login("collector_zhang")
    pid, dwelling_id, rid = _resident(world, client, h)
    before = _counts(world)
    r = client.post(
        f"/persons/{pid}/death", json={"expected_version": 1, "death_date": "2026-11-25"}, headers=h
    )
    assert r.status_code == 403
    police = login("police_liu")
    r = client.post(
        f"/persons/{pid}/death", json={"expected_version": 1, "death_date": "2026-11-28"}, headers=police
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "person.death_in_future")
    assert _counts(world) == before
    r = client.post(
        f"/persons/{pid}/death", json={"expected_version": 1, "death_date": "2026-11-25"}, headers=police
    )
    assert r.status_code == 200, r.text
    assert r.json()["closed_residences"] == [rid] and r.json()["person"]["retired"] is True
    occupants = client.get(f"/dwellings/{dwelling_id}/occupants", headers=police)
    assert occupants.status_code == 200 and occupants.json()["occupants"] == []


def test_floating_lists_over_http(world: World, client: TestClient, login: Any) -> None:
    h = login("collector_zhang")
    pid, _, _ = _resident(world, client, h, arrival_date="2026-11-02", intended_stay_until="2026-12-10")
    area = world.area(INSIDE)
    r = client.get(f"/areas/{area}/floating/arrivals", params={"month": "2026-11"}, headers=h)
    assert r.status_code == 200, r.text
    assert [i["person_id"] for i in r.json()["items"]] == [pid]
    assert r.json()["items"][0]["name"] == "赵磊"
    assert (
        client.get(f"/areas/{area}/floating/arrivals", params={"month": "2026-10"}, headers=h).json()["items"]
        == []
    )
    assert (
        client.get(f"/areas/{area}/floating/arrivals", params={"month": "2026-13"}, headers=h).status_code
        == 422
    )
    due = client.get(f"/areas/{area}/floating/due", params={"within_days": 30}, headers=h).json()
    assert [i["person_id"] for i in due["items"]] == [pid]
    assert client.get(f"/areas/{area}/floating/overdue", headers=h).json()["items"] == []
    other = world.area("420704001002")
    assert client.get(f"/areas/{other}/floating/overdue", headers=h).status_code == 404


def test_the_generic_retire_route_follows_the_lifecycle(world: World, client: TestClient, login: Any) -> None:
    collector, police = login("collector_zhang"), login("police_liu")
    _, _, rid = _resident(world, client, collector)
    retire = {"expected_version": 1, "reason": "重复登记"}
    r = client.post(f"/residences/{rid}/retire", json=retire, headers=collector)
    assert r.status_code == 403  # retiring is for the police
    _, _, other = _resident(world, client, collector)
    departure = {"expected_version": 1, "departure_date": "2026-11-01", "reason": "left_city"}
    # Issue 14: a collector's departure is a change set for review (POST /sync), not a live deregistration.
    r = client.post(f"/residences/{other}/deregister", json=departure, headers=collector)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.required")
    r = client.post(f"/residences/{other}/deregister", json=departure, headers=police)
    assert r.status_code == 200, r.text
    before = _counts(world)
    r = client.post(f"/residences/{other}/retire", json={**retire, "expected_version": 2}, headers=police)
    assert r.status_code == 409
    assert (r.json()["error"]["code"], r.json()["error"]["data"]["action"]) == (
        "residence.action_not_allowed",
        "retire",
    )
    assert _counts(world) == before
    r = client.post(f"/residences/{rid}/retire", json=retire, headers=police)
    assert r.status_code == 200, r.text
    assert r.json()["retired"] is True
