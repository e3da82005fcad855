"""The other standard tables (统计表格): floating population by province of origin, housing by use × status,
rentals with their rates, venue stays by type and campaign progress — per community, with totals, as JSON and
xlsx with Chinese multi-level headers, over HTTP and on the command line (the page: tests/web/test_table_pages.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.errors import NotFound
from liangshi.persons import service as persons
from liangshi.persons.schemas import DocumentIn, PersonCreate
from liangshi.tables import rules, service
from tests import factories
from tests.conftest import INSIDE, NOW, World
from tests.rentals import helpers as rent
from tests.venues import helpers as stay

OTHER = "420704001002"
TOWNSHIP = "420704001"


def _row(table: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in table["rows"] if r["code"] == code)


def _cell(table: dict[str, Any], code: str, column: Any) -> Any:
    return _row(table, code)["values"][table["columns"].index(column)]


_SEQ = iter(range(100, 999, 2))


def _floating(world: World, code: str, region: str, male: bool) -> None:
    with world.session() as session:
        ctx = world.ctx(session)
        place = factories.place(session, ctx, area_id=world.area(code), district_id=world.area("420704"))
        birth = dt.date(1995, 6, 1)
        snap = persons.create_person(
            session,
            ctx,
            PersonCreate(
                area_id=world.area(code),
                name="流动",
                sex="1" if male else "2",
                birth_date=birth,
                hukou_region=region,
                documents=[
                    DocumentIn(
                        doc_type="resident_id",
                        number=factories.make_id(region, birth, next(_SEQ) + int(male)),
                    )
                ],
                valid_from=dt.date(2020, 1, 1),
            ),
        )
        factories.arrival(
            session,
            ctx,
            person_id=int(snap.entity.id),
            dwelling_id=place.dwelling_id,
            arrived=dt.date(2026, 3, 1),
        )


def test_floating_population_by_province_of_origin(world: World) -> None:
    _floating(world, INSIDE, "510104", True)  # 四川
    _floating(world, INSIDE, "510105", False)
    _floating(world, OTHER, "360102", True)  # 江西
    with world.session() as session:
        table = service.floating(
            session, world.ctx(session, "station_admin_li"), area_code=TOWNSHIP, on=world.clock.today()
        )
    assert _cell(table, INSIDE, {"province": "51", "sex": "1"}) == 1
    assert _cell(table, INSIDE, {"province": "51", "sex": "2"}) == 1
    assert _cell(table, OTHER, {"province": "36", "sex": "1"}) == 1
    assert table["totals"]["total"] == 3
    sichuan = table["columns"].index({"province": "51", "sex": "1"})
    assert table["labels"][sichuan][0][0] == "四川省"
    ws = load_workbook(io.BytesIO(service.workbook(table))).active
    headers = [ws.cell(2, c).value for c in range(3, ws.max_column + 1)]
    assert "四川省" in headers and "江西省" in headers and ws.cell(3, 3).value == "男"


def test_housing_by_use_and_status_counts_each_dwelling_where_its_building_stands(world: World) -> None:
    place = rent.place(world)
    rent.dwelling(world, place.building_id, "601", status="vacant")
    rent.place(world, OTHER)
    with world.session() as session:
        table = service.housing(
            session, world.ctx(session, "station_admin_li"), area_code=TOWNSHIP, on=world.clock.today()
        )
    assert _cell(table, INSIDE, {"use": "residential", "status": "occupied"}) == 1
    assert _cell(table, INSIDE, {"use": "residential", "status": "vacant"}) == 1
    assert _row(table, INSIDE)["total"] == 2 and table["totals"]["total"] == 3
    body = service.workbook(table)
    assert body == service.workbook(table)
    ws = load_workbook(io.BytesIO(body)).active
    assert ws.cell(2, 3).value == "住宅" and ws.cell(3, 3).value == "自住"
    assert any(str(m) == "C2:I2" for m in ws.merged_cells.ranges)  # 住宅 over its seven statuses
    assert ws.cell(ws.max_row, 2).value == "合计" and ws.cell(ws.max_row, ws.max_column).value == 3


def test_rentals_per_community_with_their_rates_recomputed_on_the_total_row(world: World) -> None:
    place = rent.place(world)
    landlord = rent.person(world, "房东")
    rent.file(world, place.dwelling_id, landlord)
    rent.dwelling(world, place.building_id, "601", status="rented")  # rented, never registered
    with world.session() as session:
        table = service.rental_table(
            session, world.ctx(session, "station_admin_li"), area_code=TOWNSHIP, on=world.clock.today()
        )
    assert _cell(table, INSIDE, "registered") == 1
    assert _cell(table, INSIDE, "rented_unregistered") == 1
    assert _cell(table, INSIDE, "registration") == 0.5
    assert _cell(table, OTHER, "registration") is None  # nothing to count, not 0 %
    totals = dict(zip(table["columns"], table["totals"]["values"], strict=True))
    assert totals["registration"] == 0.5 and totals["entry"] == 1.0
    ws = load_workbook(io.BytesIO(service.workbook(table))).active
    assert ws.cell(2, 3).value == "数量" and ws.cell(3, 7).value == "登记率"


def test_venue_stays_by_type_in_the_month(world: World) -> None:
    hotel = stay.venue(world, "hotel")
    cafe = stay.venue(world, "cafe", "星空网吧")
    _pid, number = stay.person(world)
    stay.post(world, hotel, [stay.check_in("h1", number), stay.check_in("h2", number, at=NOW - 2 * stay.H)])
    stay.post(world, cafe, [stay.check_in("c1", number)])
    with world.session() as session:
        table = service.venue_stays(
            session, world.ctx(session, "station_admin_li"), area_code=TOWNSHIP, on=world.clock.today()
        )
    columns = [(c["venue_kind"], c["measure"]) for c in table["columns"]]
    row = _row(table, INSIDE)["values"]
    assert row[columns.index(("hotel", "stays"))] == 2
    assert row[columns.index(("hotel", "guests"))] == 1
    assert row[columns.index(("cafe", "stays"))] == 1
    ws = load_workbook(io.BytesIO(service.workbook(table))).active
    assert ws.cell(2, 3).value == "旅店" and ws.cell(3, 3).value == "入住人次"


def test_campaign_progress_per_community(world: World) -> None:
    rent.place(world)
    rent.place(world, OTHER)
    with world.session() as session:
        table = service.campaign_progress(
            session, world.ctx(session, "station_admin_li"), area_code=TOWNSHIP, on=world.clock.today()
        )
    assert _cell(table, INSIDE, "buildings") == 1 and _cell(table, INSIDE, "dwellings") == 1
    totals = dict(zip(table["columns"], table["totals"]["values"], strict=True))
    assert totals["buildings"] == 2 and totals["building_rate"] == 0.0
    ws = load_workbook(io.BytesIO(service.workbook(table))).active
    assert ws.cell(2, 3).value == "楼栋" and ws.cell(3, 3).value == "总数"


def test_an_unknown_table_and_an_area_outside_the_jurisdiction_are_not_found(world: World) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        with pytest.raises(NotFound) as unknown:
            service.build(session, ctx, "nonsense", area_code=TOWNSHIP, on=world.clock.today())
        assert unknown.value.code == "table.not_found"
        with pytest.raises(NotFound):
            service.build(session, ctx, "housing", area_code="420102001", on=world.clock.today())


def test_every_table_over_http_and_the_command_line(
    world: World, client: TestClient, login: Any, db_url: str
) -> None:
    rent.place(world)
    headers = login("station_admin_li")
    listing = client.get("/tables", headers=headers)
    assert listing.status_code == 200 and [t["name"] for t in listing.json()] == list(service.TABLES)
    r = client.get("/tables/housing", params={"area": TOWNSHIP}, headers=headers)
    assert r.status_code == 200 and r.json()["totals"]["total"] == 1
    x = client.get("/tables/progress.xlsx", params={"area": TOWNSHIP}, headers=headers)
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content)).active.cell(2, 3).value == "楼栋"
    missing = client.get("/tables/nonsense", params={"area": TOWNSHIP}, headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "table.not_found"
    result = CliRunner().invoke(
        app, ["tables", "housing", "--area", TOWNSHIP, "--json"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["total"] == 1


def test_header_spans_merge_neighbours_with_the_same_labels_and_run_down_an_empty_level() -> None:
    labels = [[["数量", "Count"], ["甲", "A"]], [["数量", "Count"], ["乙", "B"]], [["奖惩", "Verdict"], None]]
    top, second = rules.header_spans(labels, 0)
    assert top == [(0, 2, 1, "数量"), (2, 1, 2, "奖惩")]
    assert second == [(0, 1, 1, "甲"), (1, 1, 1, "乙")]
    assert rules.header_spans(labels, 1)[0][1][3] == "Verdict"
