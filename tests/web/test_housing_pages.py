"""Buildings and dwellings in the web: a housing officer records a building on a plate and a dwelling in it,
changes the dwelling's status from a date; refused input writes nothing; roles without the right are refused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.buildings.models import Building, Dwelling
from tests.conftest import World
from tests.web.conftest import Scene, csrf_of


def test_a_housing_officer_records_a_building_and_a_dwelling_from_the_street_page(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("housing_officer_he")
    street = client.get(f"/web/streets/{scene.place.street_id}")
    assert f'href="/web/addresses/{scene.place.address_id}/buildings/new"' in street.text
    form = client.get(f"/web/addresses/{scene.place.address_id}/buildings/new")
    assert form.status_code == 200 and "楼栋号" in form.text
    done = client.post(
        f"/web/addresses/{scene.place.address_id}/buildings",
        data={"csrf_token": csrf_of(form.text), "label": "9栋", "floors_above": "6", "use": "residential"},
    )
    assert done.status_code == 303, done.text[-800:]
    building_id = int(done.headers["location"].split("/")[3])
    grid = client.get(f"/web/buildings/{building_id}/grid")
    assert "楼栋已保存" in grid.text and 'data-testid="add-dwelling"' in grid.text
    new = client.get(f"/web/buildings/{building_id}/dwellings/new")
    made = client.post(
        f"/web/buildings/{building_id}/dwellings",
        data={
            "csrf_token": csrf_of(new.text),
            "unit": "1",
            "floor": "2",
            "room": "201",
            "use": "residential",
            "status": "vacant",
        },
    )
    assert made.status_code == 303, made.text[-800:]
    dwelling_id = int(made.headers["location"].rsplit("/", 1)[1])
    with world.session() as s:
        snap = registry.read(s, world.ctx(s), buildings.DWELLING, dwelling_id)
        assert (
            snap.entity.building_id == building_id and snap.row.room == "201" and snap.row.status == "vacant"
        )


def test_a_dwelling_status_changes_from_a_date_and_keeps_its_history(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("housing_officer_he")
    page = client.get(f"/web/dwellings/{scene.place.dwelling_id}")
    assert 'data-testid="edit-dwelling"' in page.text
    form = client.get(f"/web/dwellings/{scene.place.dwelling_id}/edit")
    assert form.status_code == 200 and "生效日期" in form.text
    with world.session() as s:
        before = registry.read(s, world.ctx(s), buildings.DWELLING, scene.place.dwelling_id)
        room = before.row.room
    done = client.post(
        f"/web/dwellings/{scene.place.dwelling_id}/edit",
        data={
            "csrf_token": csrf_of(form.text),
            "expected_version": str(before.entity.version),
            "room": room,
            "use": "residential",
            "status": "rented",
            "effective": "",
            "reason": "出租",
        },
    )
    assert done.status_code == 303, done.text[-800:]
    with world.session() as s:
        after = registry.read(s, world.ctx(s), buildings.DWELLING, scene.place.dwelling_id)
        assert after.row.status == "rented" and after.row.valid_from.isoformat() == "2026-11-27"
        assert after.entity.version == before.entity.version + 1
        _entity, rows = registry.versions(s, world.ctx(s), buildings.DWELLING, scene.place.dwelling_id)
        assert len(rows) >= 2


def test_a_taken_room_is_refused_in_place_and_writes_nothing(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("housing_officer_he")
    with world.session() as s:
        existing = registry.read(s, world.ctx(s), buildings.DWELLING, scene.place.dwelling_id).row
        count = s.execute(select(func.count()).select_from(Dwelling)).scalar_one()
    form = client.get(f"/web/buildings/{scene.place.building_id}/dwellings/new")
    r = client.post(
        f"/web/buildings/{scene.place.building_id}/dwellings",
        data={
            "csrf_token": csrf_of(form.text),
            "unit": str(existing.unit or ""),
            "room": existing.room,
            "use": "residential",
            "status": "unknown",
        },
    )
    assert r.status_code == 422 and "已有此房号" in r.text
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Dwelling)).scalar_one() == count


def test_roles_without_the_right_cannot_open_the_forms(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    inspector = web_as("inspector_zhao")
    assert inspector.get(f"/web/buildings/{scene.place.building_id}/edit").status_code == 403
    assert inspector.get(f"/web/addresses/{scene.place.address_id}/buildings/new").status_code == 403
    grid = inspector.get(f"/web/buildings/{scene.place.building_id}/grid")
    assert "/edit" not in grid.text and "dwellings/new" not in grid.text
    # Another community's collector: the building lies outside, so it does not exist for them.
    other = web_as("collector_zhou")
    assert other.get(f"/web/buildings/{scene.place.building_id}/edit").status_code == 404
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Building)).scalar_one() == 2


def test_a_building_form_saved_unchanged_writes_no_version(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("housing_officer_he")
    form = client.get(f"/web/buildings/{scene.place.building_id}/edit")
    with world.session() as s:
        row = registry.read(s, world.ctx(s), buildings.BUILDING, scene.place.building_id).row
    data = {"csrf_token": csrf_of(form.text), "expected_version": "1", "label": row.label, "use": row.use}
    data |= {"visit_status": row.visit_status}
    data |= {k: str(getattr(row, k)) for k in ("floors_above", "units") if getattr(row, k) is not None}
    assert client.post(f"/web/buildings/{scene.place.building_id}", data=data).status_code == 303
    data["floors_above"] = "9"
    assert client.post(f"/web/buildings/{scene.place.building_id}", data=data).status_code == 303
    with world.session() as s:
        snap = registry.read(s, world.ctx(s), buildings.BUILDING, scene.place.building_id)
        assert snap.entity.version == 2 and snap.row.floors_above == 9


def test_a_housing_officer_lists_the_open_rentals_and_those_without_an_agreement(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("housing_officer_he")
    home = client.get("/web/")
    assert 'href="/web/rentals"' in home.text and "出租房屋" in home.text
    listed = client.get("/web/rentals").text.split('data-testid="rentals"')[1]
    assert f'href="/web/dwellings/{scene.place.dwelling_id}"' in listed and "BH-2026-001" in listed
    unsigned = client.get("/web/rentals", params={"unsigned": "1"}).text
    assert "BH-2026-001" not in unsigned  # the scene's rental has its agreement
    assert web_as("auditor_sun").get("/web/rentals").status_code == 403
    assert web_as("collector_zhou").get("/web/rentals").text.count("BH-2026-001") == 0
