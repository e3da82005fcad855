"""The statistical tables page: pick a table, read its merged headers and totals, download the xlsx."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import World
from tests.rentals import helpers as rent

TOWNSHIP = "420704001"


def test_the_tables_page_shows_a_table_with_merged_headers_and_downloads_it(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    rent.place(world)
    web = web_as("station_admin_li")
    page = web.get("/web/tables", params={"name": "housing", "area": TOWNSHIP})
    assert page.status_code == 200 and "住房统计表" in page.text and 'colspan="7"' in page.text
    assert 'href="/web/tables"' in web.get("/web/").text
    book = web.get(f"/web/tables/housing.xlsx?area={TOWNSHIP}")
    assert (
        book.status_code == 200 and load_workbook(io.BytesIO(book.content)).active.cell(2, 3).value == "住宅"
    )
    english = web.get(f"/web/tables/housing.xlsx?area={TOWNSHIP}", headers={"Accept-Language": "en"})
    assert english.status_code == 200


def test_a_collector_outside_the_township_gets_404(web_as: Callable[[str], TestClient]) -> None:
    r = web_as("collector_zhou").get("/web/tables", params={"name": "housing", "area": TOWNSHIP})
    assert r.status_code in (403, 404)
