"""The floating-population lists in the web: arrivals of a month, due to leave, overdue; scoped and masked."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import INSIDE, World
from tests.web.conftest import Scene


def test_the_arrivals_of_a_month_list_the_person_with_address_masked(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("police_liu")
    home = client.get("/web/")
    assert 'href="/web/floating"' in home.text and "流动人口" in home.text
    area = world.area(INSIDE)
    r = client.get(f"/web/areas/{area}/floating", params={"show": "arrivals", "month": "2026-03"})
    assert r.status_code == 200
    table = r.text.split('data-testid="floating"')[1]
    assert f'/web/persons/{scene.zhang}"' in table and "501室" in table
    assert scene.zhang_id not in r.text and scene.zhang_id[:6] + "********" in r.text
    overdue = client.get(f"/web/areas/{area}/floating", params={"show": "overdue"})
    assert overdue.status_code == 200 and "名单为空" in overdue.text
    due = client.get(f"/web/areas/{area}/floating", params={"show": "due", "days": "30"})
    assert due.status_code == 200


def test_another_communitys_lists_are_404(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    r = web_as("collector_zhou").get(f"/web/areas/{world.area(INSIDE)}/floating")
    assert r.status_code == 404
