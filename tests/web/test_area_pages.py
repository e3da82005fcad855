"""Areas in the web: an area with its codes through time, its former names and the areas below; the API gives the
same codes; an area outside the jurisdiction (and not above it) does not exist for the user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from liangshi.areas.models import AreaCode
from tests.conftest import INSIDE, World


def _former_code(world: World, area_code: str) -> int:
    area_id = world.area(area_code)
    with world.session() as s:
        s.add(
            AreaCode(
                area_id=area_id,
                code="420703",
                scheme="gb2260",
                valid_from=dt.date(1987, 1, 1),
                valid_to=dt.date(2000, 1, 1),
            )
        )
    return area_id


def test_a_district_shows_its_former_code_and_its_areas_below(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    district = _former_code(world, "420704")
    client = web_as("district_admin_chen")
    home = client.get("/web/")
    assert 'href="/web/areas"' in home.text and "行政区划" in home.text
    assert client.get("/web/areas").headers["location"] == f"/web/areas/{district}"
    r = client.get(f"/web/areas/{district}")
    assert r.status_code == 200
    codes = r.text.split('data-testid="codes"')[1]
    assert "420703" in codes and "1987-01-01" in codes and "现行" in codes and "行政区划代码" in codes
    assert f'href="/web/areas/{world.area("420704001")}"' in r.text


def test_the_api_lists_the_codes_and_hides_areas_outside(
    client: TestClient, login: Any, web_as: Callable[[str], TestClient], world: World
) -> None:
    district = _former_code(world, "420704")
    got = client.get(f"/areas/{district}/codes", headers=login("police_liu"))
    assert got.status_code == 200
    assert [c["code"] for c in got.json()] == ["420703", "420704"] and got.json()[-1]["current"] is True
    assert client.get(f"/areas/{world.area('420102')}/codes", headers=login("police_liu")).status_code == 404
    assert web_as("collector_zhou").get(f"/web/areas/{world.area(INSIDE)}").status_code == 404
