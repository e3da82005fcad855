"""The dashboard's trends by month: the register's rates as lines, the sample-based ones with the households
inspected and the target read statistically."""

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
    assert "2026-11" in table and "5户" in table  # the households inspected that month (10 persons)
    assert 'data-testid="sample-trend"' not in web_as("collector_zhang").get("/web/dashboard").text
