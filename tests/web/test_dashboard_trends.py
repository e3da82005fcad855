"""The dashboard's trends by month: the register's rates as lines, the sample-based ones with n and target met."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.inspections.test_accountability import _inspected
from tests.inspections.test_service import TOWNSHIP
from tests.inspections.test_trends import FROM, TO


def test_the_dashboard_shows_the_trends_and_the_sample_months_to_those_who_may_read_them(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _inspected(world)
    period = {"from": FROM.isoformat(), "to": TO.isoformat()}
    page = web_as("station_admin_li").get("/web/dashboard", params={"area": TOWNSHIP, **period})
    assert page.status_code == 200 and 'data-testid="trend"' in page.text
    table = page.text.split('data-testid="sample-trend"')[1].split("</table>")[0]
    assert "2026-11" in table and "n=10" in table
    assert 'data-testid="sample-trend"' not in web_as("collector_zhang").get("/web/dashboard").text
