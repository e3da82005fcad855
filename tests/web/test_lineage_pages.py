"""The web pages' breadcrumbs come from the process's cached area lineage (issue 19), and a rename made by another
process shows on the next page view: the area page, the map and the dashboard."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi import registry
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.registry import Provenance
from tests.conftest import INSIDE, World

Web = Callable[[str], TestClient]
PROV = Provenance("department", "civil_affairs", "document", "民政局区划调整批复")


def _rename_elsewhere(world: World, db_url: str, code: str, name: str) -> None:
    """Rename an area as another server process would: its own engine, committed through the registry."""
    other = make_engine(db_url)
    try:
        with session_scope(make_session_factory(other)) as s:
            area = s.execute(select(Area).where(Area.code == code)).scalar_one()
            registry.change(
                s,
                world.ctx(s, "city_admin_wang"),
                areas.AREA,
                area.id,
                {"name": name},
                expected_version=area.version,
                effective=None,
                prov=PROV,
                reason="区划更名",
            )
    finally:
        other.dispose()


def _crumbs(html: str) -> str:
    return html.split('class="crumbs"')[1].split("</p>")[0]


def test_the_area_page_shows_a_renamed_district_on_the_next_view(
    world: World, web_as: Web, db_url: str
) -> None:
    client = web_as("district_admin_chen")
    url = f"/web/areas/{world.area(INSIDE)}"
    for _ in range(2):  # read, then from the process's cache
        r = client.get(url)
        assert r.status_code == 200 and "鄂城区" in _crumbs(r.text)
    _rename_elsewhere(world, db_url, "420704", "鄂城新区")
    crumbs = _crumbs(client.get(url).text)
    assert "鄂城新区" in crumbs and "鄂城区" not in crumbs
    assert f'href="/web/areas/{world.area("420704001")}"' in crumbs


def test_the_map_shows_a_renamed_subdistrict_on_the_next_view(world: World, web_as: Web, db_url: str) -> None:
    client = web_as("district_admin_chen")
    url = f"/web/areas/{world.area(INSIDE)}/map"
    before = client.get(url)
    assert before.status_code == 200
    with world.session() as s:
        old = areas.names_of(s, [world.area("420704001")], world.clock.today())[world.area("420704001")]
    assert old in _crumbs(before.text)
    _rename_elsewhere(world, db_url, "420704001", "凤凰新街道")
    assert "凤凰新街道" in _crumbs(client.get(url).text)


def test_the_dashboard_shows_a_renamed_area_on_the_next_view(world: World, web_as: Web, db_url: str) -> None:
    client = web_as("district_admin_chen")
    params = {"area": INSIDE}
    r = client.get("/web/dashboard", params=params)
    assert r.status_code == 200 and "滨湖社区" in _crumbs(r.text)
    _rename_elsewhere(world, db_url, INSIDE, "滨湖新区社区")
    crumbs = _crumbs(client.get("/web/dashboard", params=params).text)
    assert "滨湖新区社区" in crumbs and "滨湖社区<" not in crumbs
