"""The collector scores page: each collector's defects, rates and score, the 奖惩 lists, the xlsx."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import World
from tests.inspections.test_accountability import FROM, TO, _inspected
from tests.inspections.test_service import TOWNSHIP


def test_the_scores_page_lists_collectors_and_the_penalty_read_from_the_interval(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _inspected(world)
    web = web_as("inspector_zhao")
    assert 'href="/web/accountability"' in web.get("/web/").text
    period = {"area": TOWNSHIP, "from": FROM.isoformat(), "to": TO.isoformat()}
    r = web.get("/web/accountability", params=period)
    assert r.status_code == 200 and "采集员考核" in r.text
    row = r.text.split('data-collector="collector_zhang"')[1].split("</tr>")[0]
    assert "2/3" in row and "处罚" in row and "按区间下限" in row
    book = web.get("/web/accountability.xlsx", params=period)
    assert book.status_code == 200
    assert load_workbook(io.BytesIO(book.content)).active.cell(3, 3).value == "录入记录"


def test_a_collector_may_not_see_the_scores(web_as: Callable[[str], TestClient]) -> None:
    r = web_as("collector_zhang").get("/web/accountability")
    assert r.status_code == 403
