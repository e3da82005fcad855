"""Seeing is wider than changing: names above the jurisdiction are readable, not writable."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import StreetCreate
from tests.conftest import World


def test_city_admin_reads_but_cannot_rename_the_province(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("city_admin_wang")
    province = world.area("420000")
    got = client.get(f"/areas/{province}", headers=h)
    assert got.status_code == 200
    r = client.patch(
        f"/areas/{province}", json={"expected_version": got.json()["version"], "name": "湖北"}, headers=h
    )
    assert r.status_code == 404
    assert client.get(f"/areas/{province}", headers=h).json()["attributes"]["name"] == "湖北省"


def test_community_police_sees_the_districts_street_and_only_the_district_changes_it(
    world: World, client: TestClient, login: Any
) -> None:
    with world.session() as s:
        sid = addresses.create_street(
            s, world.ctx(s), StreetCreate(area_id=world.area("420704"), name="滨湖南路", street_type="路")
        ).entity.id
    assert client.get(f"/streets/{sid}", headers=login("police_liu")).status_code == 200
    refused = client.post(
        f"/streets/{sid}/retire", json={"expected_version": 1, "reason": "x"}, headers=login("police_liu")
    )
    assert refused.status_code == 403
    r = client.post(
        f"/streets/{sid}/retire",
        json={"expected_version": 1, "reason": "x"},
        headers=login("district_admin_chen"),
    )
    assert r.status_code == 200
