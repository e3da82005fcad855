"""Visit API: POST is idempotent (201 then 200 with the same visit), GET lists, out of scope is 404."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import INSIDE, World


def test_visit_api_is_idempotent_and_scoped(world: World, client: TestClient, login: Any) -> None:
    with world.session() as session:
        p = factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
    body = {"outcome": "vacant", "idempotency_key": "api-key-0001", "note": "门上贴有出租告示"}
    first = client.post(f"/dwellings/{p.dwelling_id}/visits", json=body, headers=login("collector_zhang"))
    assert first.status_code == 201, first.text
    again = client.post(f"/dwellings/{p.dwelling_id}/visits", json=body, headers=login("collector_zhang"))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"] and again.json()["replayed"]
    listed = client.get(f"/dwellings/{p.dwelling_id}/visits", headers=login("station_admin_li"))
    assert [v["note"] for v in listed.json()] == ["门上贴有出租告示"]
    hidden = client.get(f"/dwellings/{p.dwelling_id}/visits", headers=login("collector_zhou"))
    assert hidden.status_code == 404


def test_visit_api_rejects_a_bad_outcome_and_key(world: World, client: TestClient, login: Any) -> None:
    with world.session() as session:
        p = factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
    r = client.post(
        f"/dwellings/{p.dwelling_id}/visits",
        json={"outcome": "maybe", "idempotency_key": "x"},
        headers=login("collector_zhang"),
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "request.invalid"
