"""Claims (认领) and cross-unit edits (业务协同) over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import INSIDE, World

NANPU = "420704001002"


def test_a_department_record_is_sent_claimed_and_a_bad_one_refused(
    client: TestClient, login: Any, world: World
) -> None:
    liaison, police = login("health_liaison_wang"), login("police_liu")
    number = factories.make_id("420704", dt.date(1966, 6, 6), seq=71)
    body = {
        "area_id": world.area(INSIDE),
        "record_id": "H-71",
        "person": {"name": "黄七", "sex": "1", "birth_date": "1966-06-06"},
        "documents": [{"number": number}],
    }
    sent = client.post("/claims", json=body, headers=liaison)
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "pending_claim" and sent.json()["proposer"] == "health:H-71"
    wrong_sex = {**body, "record_id": "H-72", "person": {**body["person"], "sex": "2"}}
    assert client.post("/claims", json=wrong_sex, headers=liaison).status_code == 422
    assert [c["id"] for c in client.get("/claims", headers=police).json()] == [sent.json()["id"]]
    done = client.post(f"/claims/{sent.json()['id']}/decision", json={"decision": "claimed"}, headers=police)
    assert done.status_code == 200 and done.json()["status"] == "approved"
    person_id = done.json()["result"]["person"][0]
    assert client.get(f"/persons/{person_id}", headers=police).json()["attributes"]["name"] == "黄七"
    undo = client.post(f"/claims/{sent.json()['id']}/undo", headers=police)
    assert undo.status_code == 409 and undo.json()["error"]["code"] == "changeset.nothing_to_undo"


def test_a_cross_unit_change_is_refused_and_ruled_over_http(
    client: TestClient, login: Any, world: World
) -> None:
    with world.session() as session:
        ctx = world.ctx(session)
        there = factories.place(session, ctx, area_id=world.area(NANPU), district_id=world.area("420704"))
        pid = factories.person(session, ctx, area_id=world.area(INSIDE), name="王六")
        factories.arrival(
            session, ctx, person_id=pid, dwelling_id=there.dwelling_id, arrived=dt.date(2026, 2, 1)
        )
    body = {"expected_version": 1, "changes": {"occupation": "厨师"}, "reason": "入户时本人说明"}
    r = client.post(f"/persons/{pid}/cross-unit-changes", json=body, headers=login("collector_zhou"))
    assert r.status_code == 201, r.text
    cs = r.json()["id"]
    refused = client.post(
        f"/change-sets/{cs}/holder-decision",
        json={"agree": False, "reason": "户籍资料为教师"},
        headers=login("police_liu"),
    )
    assert refused.status_code == 200 and refused.json()["status"] == "disputed"
    no_reason = client.post(
        f"/change-sets/{cs}/ruling",
        json={"ruling": "initiator", "reason": ""},
        headers=login("station_admin_li"),
    )
    assert no_reason.status_code == 422
    ruled = client.post(
        f"/change-sets/{cs}/ruling",
        json={"ruling": "initiator", "reason": "在职证明"},
        headers=login("station_admin_li"),
    )
    assert ruled.status_code == 200 and ruled.json()["status"] == "approved"
    person = client.get(f"/persons/{pid}", headers=login("police_liu")).json()
    assert person["attributes"]["occupation"] == "厨师"
