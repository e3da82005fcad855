"""Streets and plates in the web: the streets list in the menu, naming and renaming a street (its former name
kept), a plate's lifecycle step and a damage report from the street page; roles without the right refused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate
from tests.conftest import World
from tests.web.conftest import Scene, csrf_of


def test_the_streets_page_is_in_the_menu_and_links_each_street(
    web_as: Callable[[str], TestClient], scene: Scene
) -> None:
    client = web_as("collector_zhang")
    home = client.get("/web/")
    assert 'href="/web/streets"' in home.text and "街路巷" in home.text
    r = client.get("/web/streets")
    assert r.status_code == 200 and f'href="/web/streets/{scene.place.street_id}"' in r.text
    assert 'data-testid="new-street"' not in r.text  # naming streets is civil affairs' (district)


def test_a_district_admin_names_and_renames_a_street_keeping_the_former_name(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    client = web_as("district_admin_chen")
    streets = client.get("/web/streets")
    link = f'href="/web/areas/{world.area("420704")}/streets/new"'
    assert link in streets.text
    form = client.get(f"/web/areas/{world.area('420704')}/streets/new")
    assert form.status_code == 200
    made = client.post(
        "/web/streets",
        data={
            "csrf_token": csrf_of(form.text),
            "area_id": str(world.area("420704")),
            "name": "望江路",
            "street_type": "路",
            "numbering_style": "dash",
        },
    )
    assert made.status_code == 303, made.text[-800:]
    street_id = int(made.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/web/streets/{street_id}")
    assert "街路巷已保存" in page.text and 'data-testid="rename-street"' in page.text
    rename = client.get(f"/web/streets/{street_id}/rename")
    done = client.post(
        f"/web/streets/{street_id}/rename",
        data={
            "csrf_token": csrf_of(rename.text),
            "expected_version": "1",
            "name": "滨江大道",
            "street_type": "大道",
            "reason": "鄂州民〔2026〕12号",
        },
    )
    assert done.status_code == 303, done.text[-800:]
    with world.session() as s:
        assert registry.read(s, world.ctx(s), addresses.STREET, street_id).row.name == "滨江大道"
    # A rename dated today replaces the day's version; the form lists the names before it.
    assert client.get(f"/web/streets/{street_id}/rename").status_code == 200


def test_a_renamed_name_is_refused_when_the_district_has_it(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("district_admin_chen")
    with world.session() as s:
        taken = registry.read(s, world.ctx(s), addresses.STREET, scene.other.street_id).row
    form = client.get(f"/web/streets/{scene.place.street_id}/rename")
    r = client.post(
        f"/web/streets/{scene.place.street_id}/rename",
        data={
            "csrf_token": csrf_of(form.text),
            "expected_version": "1",
            "name": taken.name,
            "street_type": taken.street_type,
        },
    )
    assert r.status_code == 422 and 'data-testid="form-error"' in r.text
    with world.session() as s:
        assert registry.read(s, world.ctx(s), addresses.STREET, scene.place.street_id).entity.version == 1


def test_a_police_officer_installs_a_made_plate_and_reports_damage_from_the_street_page(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    with world.session() as s:
        plate = addresses.create_address(
            s,
            world.ctx(s),
            AddressCreate(
                area_id=scene.place.area_id, street_id=scene.place.street_id, number="14", status="made"
            ),
        ).entity.id
    client = web_as("police_liu")
    page = client.get(f"/web/streets/{scene.place.street_id}")
    assert f'action="/web/addresses/{plate}/status"' in page.text
    done = client.post(
        f"/web/addresses/{plate}/status",
        data={"csrf_token": csrf_of(page.text), "expected_version": "1", "status": "installed"},
    )
    assert done.status_code == 303 and "门牌状态已变更" in client.get(done.headers["location"]).text
    bad = client.post(
        f"/web/addresses/{plate}/status",
        data={"csrf_token": csrf_of(page.text), "expected_version": "2", "status": "made"},
    )
    assert bad.status_code == 409 and "不能从" in bad.text  # installed → made is not a lifecycle step
    damaged = client.post(
        f"/web/addresses/{plate}/damage", data={"csrf_token": csrf_of(page.text), "expected_version": "2"}
    )
    assert damaged.status_code == 303
    with world.session() as s:
        snap = registry.read(s, world.ctx(s), addresses.ADDRESS, plate)
        assert snap.row.status == "installed" and [f.attribute for f in snap.flags] == ["status"]


def test_a_collector_may_not_change_plates_or_name_streets(
    web_as: Callable[[str], TestClient], scene: Scene
) -> None:
    client = web_as("collector_zhang")
    page = client.get(f"/web/streets/{scene.place.street_id}")
    assert "/status" not in page.text and 'data-testid="rename-street"' not in page.text
    refused = client.post(
        f"/web/addresses/{scene.place.address_id}/status",
        data={"csrf_token": csrf_of(page.text), "expected_version": "1", "status": "retired"},
    )
    assert refused.status_code == 403
    assert client.get(f"/web/areas/{scene.place.area_id}/streets/new").status_code == 403
    assert client.get(f"/web/streets/{scene.place.street_id}/rename").status_code == 403
