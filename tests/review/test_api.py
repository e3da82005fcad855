"""The review desk over HTTP: a collector's found person is a change set; the desk shows it field by field; the
station returns it with a reason, the collector resubmits, the station approves; bad input writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.persons.models import PersonVersion
from liangshi.registry.changesets import ChangeSet
from tests import factories
from tests.conftest import INSIDE, World


@pytest.fixture
def home(world: World) -> factories.Place:
    with world.session() as session:
        return factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )


def _body(**kw: Any) -> dict[str, Any]:
    return {
        "name": "周小川",
        "id_number": factories.make_id("420704", dt.date(1988, 8, 8), seq=31),
        "arrival_date": "2026-11-02",
        "category": "floating",
        **kw,
    }


def _named(world: World, name: str) -> int:
    with world.session() as session:
        return int(
            session.execute(
                select(func.count()).select_from(PersonVersion).where(PersonVersion.name == name)
            ).scalar_one()
        )


def test_the_collect_review_loop_over_http(client: TestClient, login: Any, world: World, home: Any) -> None:
    collector, station = login("collector_zhang"), login("station_admin_li")
    r = client.post(
        f"/dwellings/{home.dwelling_id}/found-persons", json=_body(name="周小穿"), headers=collector
    )
    assert r.status_code == 201, r.text
    cs = r.json()
    assert cs["status"] == "pending_station" and cs["proposer"] == "collector_zhang"
    assert [i["kind"] for i in cs["items"]] == ["person", "document", "residence"]
    assert _named(world, "周小穿") == 0

    desk = client.get("/change-sets", headers=station).json()
    assert [i["id"] for i in desk["items"]] == [cs["id"]]
    assert client.get("/change-sets", headers=collector).status_code == 403

    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    name = next(f for f in shown["items"][0]["fields"] if f["name"] == "name")
    assert name == {"name": "name", "current": None, "proposed": "周小穿", "changed": True}

    blank = client.post(f"/change-sets/{cs['id']}/return", json={"reason": ""}, headers=station)
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "changeset.reason_required"
    back = client.post(f"/change-sets/{cs['id']}/return", json={"reason": "名字错了：川"}, headers=station)
    assert back.status_code == 200 and back.json()["status"] == "returned"

    outbox = client.get("/change-sets/outbox", headers=collector).json()
    assert [(o["id"], o["return_reason"]) for o in outbox] == [(cs["id"], "名字错了：川")]
    assert outbox[0]["target"] == {"dwelling_id": home.dwelling_id}

    fixed = client.post(
        f"/dwellings/{home.dwelling_id}/found-persons",
        params={"change_set_id": cs["id"]},
        json=_body(),
        headers=collector,
    )
    assert fixed.status_code == 201 and fixed.json()["id"] == cs["id"] and fixed.json()["round"] == 2

    own = client.post(f"/change-sets/{cs['id']}/approve", headers=login("police_liu"))
    assert own.status_code == 403  # community police do not review

    ok = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved" and set(ok.json()["result"]) == {
        "person",
        "document",
        "residence",
    }
    twice = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "changeset.already_approved"
    assert _named(world, "周小川") == 1 and _named(world, "周小穿") == 0

    person_id = ok.json()["result"]["person"][0]
    assert client.get(f"/persons/{person_id}", headers=station).status_code == 200
    with world.session() as session:
        row = session.execute(select(PersonVersion).where(PersonVersion.entity_id == person_id)).scalar_one()
        assert (row.source_kind, row.source_ref) == ("collector", "collector_zhang")
        assert row.actor_id == world.actor(session, "station_admin_li").user_id


def test_district_stage_over_http(client: TestClient, login: Any, world: World, home: Any) -> None:
    collector = login("collector_zhang")
    cs = client.post(
        f"/dwellings/{home.dwelling_id}/found-persons", json=_body(category="overseas"), headers=collector
    ).json()
    assert cs["needs_district"] is True
    early = client.post(f"/change-sets/{cs['id']}/approve-district", headers=login("district_admin_chen"))
    assert early.status_code == 409 and early.json()["error"]["code"] == "changeset.wrong_status"
    station = client.post(f"/change-sets/{cs['id']}/approve", headers=login("station_admin_li"))
    assert station.json()["status"] == "pending_district"
    assert (
        client.post(
            f"/change-sets/{cs['id']}/approve-district", headers=login("station_admin_li")
        ).status_code
        == 403
    )
    assert _named(world, "周小川") == 0
    done = client.post(f"/change-sets/{cs['id']}/approve-district", headers=login("district_admin_chen"))
    assert done.status_code == 200 and done.json()["district_reviewer"] == "district_admin_chen"
    assert done.json()["station_reviewer"] == "station_admin_li"
    assert _named(world, "周小川") == 1


def test_bulk_approval_over_http_reports_each_item(
    client: TestClient, login: Any, world: World, home: Any
) -> None:
    collector = login("collector_zhang")
    a = client.post(f"/dwellings/{home.dwelling_id}/found-persons", json=_body(), headers=collector).json()[
        "id"
    ]
    b = client.post(
        f"/dwellings/{home.dwelling_id}/found-persons", json=_body(name="周小川二"), headers=collector
    ).json()["id"]
    r = client.post("/change-sets/approve", json={"ids": [a, b, 999999]}, headers=login("station_admin_li"))
    assert r.status_code == 200
    assert [(o["id"], o["ok"], o["code"]) for o in r.json()] == [
        (a, True, None),
        (b, False, "changeset.stale"),
        (999999, False, "changeset.not_found"),
    ]
    with world.session() as session:
        assert session.get(ChangeSet, b).status == "pending_station"


def test_a_proposal_outside_the_jurisdiction_is_refused(client: TestClient, login: Any, world: World) -> None:
    with world.session() as session:
        other = factories.place(
            session, world.ctx(session), area_id=world.area("420704001002"), district_id=world.area("420704")
        )
    r = client.post(
        f"/dwellings/{other.dwelling_id}/found-persons", json=_body(), headers=login("collector_zhang")
    )
    assert r.status_code == 404
    with world.session() as session:
        assert session.execute(select(func.count()).select_from(ChangeSet)).scalar_one() == 0
