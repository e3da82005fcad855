"""Area views of the standard address: installation rate, GeoJSON, quality checks, building grid."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liangshi.addresses import service as addresses
from liangshi.addresses.maps import from_gcj02, to_crs
from liangshi.addresses.schemas import AddressCreate, AddressPatch, StreetCreate
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.errors import NotFound
from tests import factories
from tests.conftest import INSIDE, World


def _street(s: Any, world: World) -> int:
    ctx = world.ctx(s)
    return int(
        addresses.create_street(
            s,
            ctx,
            StreetCreate(
                area_id=world.area("420704"),
                name="滨湖南路",
                street_type="路",
                valid_from=dt.date(2020, 1, 1),
            ),
        ).entity.id
    )


def _plate(s: Any, world: World, street_id: int | None, number: str, status: str, **kw: Any) -> int:
    return int(
        addresses.create_address(
            s,
            world.ctx(s),
            AddressCreate(
                area_id=world.area(INSIDE),
                street_id=street_id,
                number=number,
                status=status,
                valid_from=dt.date(2020, 1, 1),
                **kw,
            ),
        ).entity.id
    )


def test_installation_rate_counts_installed_over_plates_that_should_exist_on_a_date(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world)
        _plate(s, world, sid, "1", "installed")
        _plate(s, world, sid, "3", "made")
        late = _plate(s, world, sid, "5", "made")
        addresses.change_address(
            s,
            world.ctx(s),
            late,
            AddressPatch(expected_version=1, effective=dt.date(2026, 6, 1), status="installed"),
        )
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        before = addresses.installation_rate(s, ctx, world.area(INSIDE), dt.date(2026, 5, 1))
        after = addresses.installation_rate(
            s, world.ctx(s, "station_admin_li"), world.area("420704001"), None
        )
        with pytest.raises(NotFound):
            addresses.installation_rate(
                s, ctx, world.area("420704001"), None
            )  # above a collector's community
    assert (before["numerator"], before["denominator"]) == (1, 3)
    assert (after["numerator"], after["denominator"], after["rate"]) == (2, 3, pytest.approx(2 / 3, abs=1e-6))


def test_geojson_in_wgs84_and_gcj02(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world)
        pid = _plate(s, world, sid, "12-1", "installed", lon=114.9, lat=30.4)
        buildings.create_building(s, world.ctx(s), BuildingCreate(address_id=pid, label="3栋"))
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        wgs = addresses.geojson(s, ctx, world.area(INSIDE), crs="wgs84", on=None)
        gcj = addresses.geojson(s, ctx, world.area(INSIDE), crs="gcj02", on=None)
    feature = wgs["features"][0]
    assert feature["geometry"]["coordinates"] == [114.9, 30.4]
    assert feature["properties"]["number"] == "12-1号"
    assert feature["properties"]["buildings"][0]["label"] == "3栋"
    glon, glat = gcj["features"][0]["geometry"]["coordinates"]
    # GCJ-02 is offset by a few hundred metres in Hubei, and converts back.
    assert 0.002 < abs(glon - 114.9) < 0.01 and 0.001 < abs(glat - 30.4) < 0.01
    back = from_gcj02(glon, glat)
    assert back == pytest.approx((114.9, 30.4), abs=1e-5)
    assert to_crs(114.9, 30.4, "wgs84") == (114.9, 30.4)


def test_quality_checks_list_plates_without_building_and_buildings_without_installed_plate(
    world: World,
) -> None:
    with world.session() as s:
        sid = _street(s, world)
        bare = _plate(s, world, sid, "7", "installed")
        unplated = _plate(s, world, sid, "9", "made")
        bid = buildings.create_building(
            s, world.ctx(s), BuildingCreate(address_id=unplated, label="1栋")
        ).entity.id
    with world.session() as s:
        q = addresses.quality(s, world.ctx(s, "police_liu"), world.area(INSIDE), None)
    assert q["address_without_building"] == {"count": 1, "ids": [bare]}
    assert q["building_plate_not_installed"] == {"count": 1, "ids": [bid]}
    assert q["plate_on_retired_street"]["count"] == 0


def test_building_grid_shows_units_floors_rooms_with_occupancy(
    world: World, client: TestClient, login: Any
) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        for unit, floor, idx in ((1, 5, 2), (1, 6, 1), (2, 5, 1)):
            buildings.create_dwelling(
                s,
                ctx,
                DwellingCreate(
                    building_id=place.building_id,
                    unit=unit,
                    floor=floor,
                    room=f"{floor * 100 + idx}",
                    status="vacant",
                ),
            )
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        factories.arrival(s, ctx, person_id=pid, dwelling_id=place.dwelling_id, arrived=dt.date(2026, 1, 1))
    r = client.get(f"/buildings/{place.building_id}/grid", headers=login("collector_zhang"))
    assert r.status_code == 200, r.text
    grid = r.json()
    assert [u["unit"] for u in grid["units"]] == [1, 2]
    unit1 = grid["units"][0]["floors"]
    assert [f["floor"] for f in unit1] == [6, 5]
    floor5 = {c["room"]: c for c in unit1[1]["rooms"]}
    assert floor5["501"]["occupants"] == 1 and floor5["501"]["status"] == "occupied"
    assert floor5["502"]["occupants"] == 0 and floor5["502"]["status"] == "vacant"
    assert grid["occupants"] == 1 and grid["dwellings"] == 4
    assert (
        client.get(f"/buildings/{place.building_id}/grid", headers=login("collector_zhou")).status_code == 404
    )


def test_area_views_over_http(world: World, client: TestClient, login: Any) -> None:
    with world.session() as s:
        sid = _street(s, world)
        _plate(s, world, sid, "1", "installed", lon=114.9, lat=30.4)
    h = login("police_liu")
    r = client.get(f"/areas/{world.area(INSIDE)}/plate-installation", headers=h)
    assert r.status_code == 200, r.text
    rate = r.json()
    assert rate["rate"] == 1.0
    gj = client.get(f"/areas/{world.area(INSIDE)}/geojson", params={"crs": "gcj02"}, headers=h).json()
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 1
    assert (
        client.get(f"/areas/{world.area(INSIDE)}/geojson", params={"crs": "bd09"}, headers=h).status_code
        == 422
    )
    assert client.get(f"/areas/{world.area('420102001001')}/plate-installation", headers=h).status_code == 404
