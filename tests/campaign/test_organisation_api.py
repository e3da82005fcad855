"""The campaign's organisation over HTTP: campaigns, teams, assignments (bulk CSV), cards, reassign and return."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.campaign.models import Assignment
from tests import factories
from tests.conftest import INSIDE, World


def _campaign(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    body = {"name": "凤凰街道两实采集", "area": "420704001", "starts_on": "2026-11-01", "yellow_days": 2}
    r = client.post("/campaigns", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_campaign_team_and_assignment_over_the_api(world: World, client: TestClient, login: Any) -> None:
    with world.session() as session:
        factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
    admin = login("station_admin_li")
    c = _campaign(client, admin)
    assert c["current_phase"] == "prepare" and len(c["phases"]) == 5
    bad = client.post("/campaigns", json={"name": "x", "area": "420704001"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "campaign.start_required"
    team = client.post(
        f"/campaigns/{c['id']}/teams",
        json={
            "area_code": INSIDE,
            "name": "滨湖专班",
            "members": [{"username": "police_liu", "role": "community_police", "leader": True}],
        },
        headers=admin,
    )
    assert team.status_code == 201, team.text
    body = {
        "collector": "collector_zhang",
        "unit": "community",
        "area_code": INSIDE,
        "due_on": "2026-12-08",
        "team_id": team.json()["id"],
    }
    a = client.post(f"/campaigns/{c['id']}/assignments", json=body, headers=admin)
    assert a.status_code == 201, a.text
    assert a.json()["card"] == "green" and a.json()["workload_buildings"] == 1
    mine = client.get("/assignments", headers=login("collector_zhang"))
    assert [x["id"] for x in mine.json()] == [a.json()["id"]]
    moved = client.post(
        f"/assignments/{a.json()['id']}/reassign", json={"collector": "police_liu"}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["collector"] == "police_liu"
    refused = client.post(
        f"/assignments/{a.json()['id']}/return", json={"reason": "太远"}, headers=login("collector_zhang")
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "assignment.not_open"
    back = client.post(
        f"/assignments/{moved.json()['id']}/return", json={"reason": "另有任务"}, headers=login("police_liu")
    )
    assert back.status_code == 200 and back.json()["status"] == "returned"


def test_a_bulk_csv_with_an_error_writes_nothing_over_the_api(
    world: World, client: TestClient, login: Any
) -> None:
    admin = login("station_admin_li")
    c = _campaign(client, admin)
    csv = (
        "collector,unit,target,due_on\n"
        f"collector_zhang,community,{INSIDE},2026-12-20\n"
        f"ghost,community,{INSIDE},2026-12-20\n"
    )
    r = client.post(f"/campaigns/{c['id']}/assignments/bulk", content=csv.encode(), headers=admin)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "assignment.bulk_invalid"
    assert [(e["line"], e["field"]) for e in r.json()["error"]["data"]["errors"]] == [(3, "collector")]
    with world.session() as session:
        assert session.execute(select(func.count(Assignment.id))).scalar_one() == 0
    ok = client.post(
        f"/campaigns/{c['id']}/assignments/bulk",
        content=csv.splitlines()[0:2].__str__().encode(),
        headers=admin,
    )
    assert ok.status_code == 422  # not a CSV at all: the header is wrong
    good = "\n".join(csv.splitlines()[:2]) + "\n"
    r = client.post(f"/campaigns/{c['id']}/assignments/bulk", content=good.encode(), headers=admin)
    assert r.status_code == 200 and r.json()["created"] == 1
