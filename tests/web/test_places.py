"""The building grid, the street page and the map, through the web client (jurisdiction, gaps, GeoJSON)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from liangshi.addresses import service as addresses
from liangshi.web.pages import places as places_page
from tests.conftest import World
from tests.kpis.helpers import A
from tests.web.places_data import build_places

Web = Callable[[str], TestClient]


def test_the_grid_colours_each_dwelling_by_occupancy_and_links_to_its_page(world: World, web_as: Web) -> None:
    places = build_places(world)
    pa = places.built.places["A"]
    r = web_as("collector_zhang").get(f"/web/buildings/{pa.building_id}/grid")
    assert r.status_code == 200
    cells = re.findall(r'<a href="/web/dwellings/(\d+)" data-testid="cell" data-occupancy="(\w+)"', r.text)
    by_id = {int(d): occ for d, occ in cells}
    assert by_id == {
        pa.dwelling_id: "rented",  # a rental is filed on it (see the scene)
        places.built.dwellings["d2"]: "rented",
        places.built.dwellings["d3"]: "occupied",
    }
    assert "楼盘表" in r.text and "出租" in r.text and "空置" in r.text  # title and legend in Chinese
    assert "5层" in r.text and "6层" in r.text


def test_a_collector_cannot_open_another_communitys_grid(world: World, web_as: Web) -> None:
    places = build_places(world)
    r = web_as("collector_zhou").get(f"/web/buildings/{places.built.places['A'].building_id}/grid")
    assert r.status_code == 404
    assert "未找到" in r.text


def test_the_street_page_shows_plates_by_side_and_highlights_the_gap(world: World, web_as: Web) -> None:
    places = build_places(world)
    r = web_as("collector_zhang").get(f"/web/streets/{places.built.places['A'].street_id}")
    assert r.status_code == 200
    even = r.text.split('data-testid="side-even"')[1].split("</table>")[0]
    numbers = re.findall(r'<td class="no">(?:<strong>)?(\d+)', even)
    assert numbers == ["12", "14", "16", "18", "20"]
    assert re.search(r'<tr class="gap" data-testid="gap"><td class="no"><strong>18</strong>', even)
    assert "缺号" in r.text or "缺失" in r.text


def test_a_proposal_between_two_plates_takes_the_free_number(world: World, web_as: Web) -> None:
    places = build_places(world)
    street = places.built.places["A"].street_id
    client = web_as("collector_zhang")
    r = client.get(f"/web/streets/{street}/propose", params={"lower": "16", "upper": "20"})
    assert r.status_code == 200
    assert re.search(r'data-testid="proposed">18号?<', r.text)
    bad = client.get(f"/web/streets/{street}/propose", params={"lower": "16", "upper": "99"})
    assert bad.status_code == 422 and 'class="error"' in bad.text


def test_a_street_of_another_district_is_not_found(world: World, web_as: Web) -> None:
    from liangshi.addresses import service as addresses
    from liangshi.addresses.schemas import StreetCreate

    with world.session() as s:
        other = addresses.create_street(
            s, world.ctx(s), StreetCreate(area_id=world.area("420102"), name="江岸测试路", street_type="路")
        )
    assert web_as("collector_zhang").get(f"/web/streets/{other.entity.id}").status_code == 404


def test_the_map_carries_the_areas_plates_as_geojson_and_tiles_only_when_configured(
    world: World, web_as: Web
) -> None:
    places = build_places(world)
    client = web_as("collector_zhang")
    r = client.get(f"/web/areas/{world.area(A)}/map")
    assert r.status_code == 200
    data = json.loads(
        re.search(r'<script type="application/json" id="map-data">(.*?)</script>', r.text, re.S)[1]
    )  # type: ignore[index]
    assert len(data["features"]) == places.positioned
    assert data["crs"] == "wgs84"
    config = json.loads(re.search(r'id="map-config">(.*?)</script>', r.text, re.S)[1])  # type: ignore[index]
    assert config["tiles"] is None
    assert "/web/static/vendor/leaflet.js" in r.text
    assert client.get(f"/web/areas/{world.area('420704001002')}/map").status_code == 404
    home = client.get("/web/map")
    assert home.status_code == 303 and home.headers["location"] == f"/web/areas/{world.area(A)}/map"


def test_with_a_gcj02_tile_layer_the_points_are_shifted(world: World, web_as: Web, app: object) -> None:
    build_places(world)
    settings = app.state.settings  # type: ignore[attr-defined]
    settings.map_tile_url = "https://t{s}.tianditu.example/vec_w/{z}/{x}/{y}.png"
    settings.map_tile_crs = "gcj02"
    r = web_as("collector_zhang").get(f"/web/areas/{world.area(A)}/map")
    data = json.loads(re.search(r'id="map-data">(.*?)</script>', r.text, re.S)[1])  # type: ignore[index]
    assert data["crs"] == "gcj02"
    lon, lat = data["features"][0]["geometry"]["coordinates"]
    # GCJ-02 moves points in Ezhou by a few hundred metres: never zero, never kilometres.
    assert 0.001 < abs(lon - 114.89) + abs(lat - 30.39) < 0.02
    assert "tianditu.example" in r.text


def test_the_map_links_buildings_to_their_grid_only_for_users_who_may_open_it(
    world: World, web_as: Web
) -> None:
    places = build_places(world)
    building = places.built.places["A"].building_id
    link = f'href="/web/buildings/{building}/grid"'
    collector = web_as("collector_zhang").get(f"/web/areas/{world.area(A)}/map")
    assert link in collector.text
    assert json.loads(re.search(r'id="map-config">(.*?)</script>', collector.text, re.S)[1])["grid_links"]  # type: ignore[index]
    # A department liaison sees the plates and names the buildings, but may not read dwellings: no dead links.
    liaison = web_as("health_liaison_wang")
    r = liaison.get(f"/web/areas/{world.area(A)}/map")
    assert r.status_code == 200
    assert link not in r.text
    assert json.loads(re.search(r'id="map-config">(.*?)</script>', r.text, re.S)[1])["grid_links"] is False  # type: ignore[index]
    assert liaison.get(f"/web/buildings/{building}/grid").status_code == 403


def test_the_map_table_links_each_street_to_its_plates_page(world: World, web_as: Web) -> None:
    build_places(world)
    client = web_as("collector_zhang")
    r = client.get(f"/web/areas/{world.area(A)}/map")
    links = re.findall(r'<a href="(/web/streets/\d+)" data-testid="street-link">', r.text)
    assert links
    assert client.get(links[0]).status_code == 200


def test_a_long_street_lists_its_plates_a_page_at_a_time_and_checks_them_all(
    world: World, web_as: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17 (stop 30): a street of a city's size holds thousands of plates, each with its forms; the page shows
    them in number order a page at a time (both sides), with the gaps of that stretch, while the numbering check
    still covers the whole street."""
    monkeypatch.setattr(places_page, "STREET_PAGE_PLATES", 3)
    places = build_places(world)
    street = places.built.places["A"].street_id
    client = web_as("collector_zhang")
    with world.session() as s:
        whole = addresses.street_view(s, world.ctx(s, "collector_zhang"), street, None)
    every = sorted(p["base"] for side in ("odd", "even") for p in whole["plates"][side])
    assert len(every) > 3
    seen: list[int] = []
    at: int | None = 0
    while at is not None:
        r = client.get(f"/web/streets/{street}", params={"at": at})
        assert r.status_code == 200
        shown = re.findall(r'<td class="no">(?:<strong>)?(\d+)', r.text)
        gaps = re.findall(r'<tr class="gap" data-testid="gap"><td class="no"><strong>(\d+)', r.text)
        plates = [int(n) for n in shown if n not in gaps]
        assert 0 < len(plates) <= 3
        seen += plates
        assert f"共 {len(every)} 个门牌" in r.text
        check = r.text.split('data-testid="defects"')[1].split("</section>")[0]
        assert '<span class="badge bad">18</span>' in check  # the check is the whole street's on every page
        nxt = re.search(r'href="/web/streets/\d+\?at=(\d+)" rel="next"', r.text)
        at = int(nxt.group(1)) if nxt else None
    assert sorted(seen) == every
    last = client.get(f"/web/streets/{street}", params={"at": 10_000})
    assert last.status_code == 200 and 'rel="prev"' in last.text and 'rel="next"' not in last.text
