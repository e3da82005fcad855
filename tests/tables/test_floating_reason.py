"""Floating population by province of origin × reason for stay (暂住事由): the reason on the residence (API,
collector's form, bulk import), and the statistical table per community with totals (JSON, xlsx, HTTP, CLI)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.access.service import SYSTEM
from liangshi.cli.main import app
from liangshi.common import codes
from liangshi.exchange import service as exchange
from liangshi.persons import service as persons
from liangshi.persons.schemas import DocumentIn, PersonCreate
from liangshi.residence import service as residence
from liangshi.residence.models import ResidenceVersion
from liangshi.residence.schemas import ArrivalIn
from liangshi.tables import service
from tests import factories
from tests.conftest import INSIDE, World

OTHER = "420704001002"
TOWNSHIP = "420704001"
_SEQ = iter(range(300, 999, 2))


def _floating(world: World, code: str, region: str, reason: str | None) -> int:
    """A floating person from `region` living in community `code` for `reason`; the residence id."""
    with world.session() as session:
        ctx = world.ctx(session)
        place = factories.place(session, ctx, area_id=world.area(code), district_id=world.area("420704"))
        birth = dt.date(1994, 5, 1)
        snap = persons.create_person(
            session,
            ctx,
            PersonCreate(
                area_id=world.area(code),
                name="流动",
                sex="1",
                birth_date=birth,
                hukou_region=region,
                documents=[
                    DocumentIn(
                        doc_type="resident_id", number=factories.make_id(region, birth, next(_SEQ) + 1)
                    )
                ],
                valid_from=dt.date(2020, 1, 1),
            ),
        )
        res = residence.register_arrival(
            session,
            ctx,
            ArrivalIn(
                person_id=int(snap.entity.id),
                dwelling_id=place.dwelling_id,
                category="floating",
                arrival_date=dt.date(2026, 3, 1),
                stay_reason=reason,
            ),
        )
        return int(res.entity.id)


def _cell(table: dict[str, Any], code: str, column: Any) -> Any:
    row = next(r for r in table["rows"] if r["code"] == code)
    return row["values"][table["columns"].index(column)]


def test_the_reason_for_stay_is_a_code_table() -> None:
    table = codes.table("stay_reason")
    assert (
        table.entries["01"] == "务工" and table.entries["03"] == "经商" and table.entries["06"] == "投亲靠友"
    )
    with pytest.raises(ValidationError) as bad:
        ArrivalIn(
            person_id=1,
            dwelling_id=1,
            category="floating",
            arrival_date=dt.date(2026, 3, 1),
            stay_reason="77",
        )
    assert bad.value.errors()[0]["loc"] == ("stay_reason",)


def test_floating_population_by_province_and_reason_for_stay(world: World) -> None:
    _floating(world, INSIDE, "510104", "01")  # 四川, 务工
    _floating(world, INSIDE, "510105", "01")
    _floating(world, INSIDE, "510105", "05")  # 学习培训
    _floating(world, OTHER, "360102", None)  # 江西, no reason recorded
    with world.session() as session:
        table = service.build(
            session,
            world.ctx(session, "station_admin_li"),
            "floating_reason",
            area_code=TOWNSHIP,
            on=world.clock.today(),
        )
    assert _cell(table, INSIDE, {"province": "51", "stay_reason": "01"}) == 2
    assert _cell(table, INSIDE, {"province": "51", "stay_reason": "05"}) == 1
    assert _cell(table, OTHER, {"province": "36", "stay_reason": None}) == 1
    assert table["totals"]["total"] == 4
    # Only the reasons that occur are columns, in the code table's order, then the unknown one.
    assert [c["stay_reason"] for c in table["columns"] if c["province"] == "51"] == ["01", "05", None]
    work = table["columns"].index({"province": "51", "stay_reason": "01"})
    assert table["labels"][work][0][0] == "四川省" and table["labels"][work][1][0] == "务工"
    body = service.workbook(table)
    assert body == service.workbook(table)  # reproducible
    ws = load_workbook(io.BytesIO(body)).active
    tops = [ws.cell(2, c).value for c in range(3, ws.max_column + 1)]
    seconds = [ws.cell(3, c).value for c in range(3, ws.max_column + 1)]
    assert "四川省" in tops and "江西省" in tops and "务工" in seconds and "事由不详" in seconds
    assert ws.cell(ws.max_row, 2).value == "合计" and ws.cell(ws.max_row, ws.max_column).value == 4


def test_the_table_over_http_and_the_command_line(
    world: World, client: TestClient, login: Any, db_url: str
) -> None:
    _floating(world, INSIDE, "510104", "03")
    headers = login("station_admin_li")
    r = client.get("/tables/floating_reason", params={"area": TOWNSHIP}, headers=headers)
    assert r.status_code == 200 and r.json()["totals"]["total"] == 1
    assert r.json()["columns"] == [{"province": "51", "stay_reason": "03"}]
    x = client.get("/tables/floating_reason.xlsx", params={"area": TOWNSHIP}, headers=headers)
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content)).active.cell(3, 3).value == "经商"
    result = CliRunner().invoke(
        app,
        ["tables", "floating_reason", "--area", TOWNSHIP, "--json"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["total"] == 1


def test_the_reason_is_set_and_changed_over_the_api_and_a_bad_code_is_refused(
    world: World, client: TestClient, login: Any
) -> None:
    residence_id = _floating(world, INSIDE, "510104", "01")
    headers = login("station_admin_li")
    current = client.get(f"/residences/{residence_id}", headers=headers).json()
    assert current["attributes"]["stay_reason"] == "01"
    bad = client.patch(
        f"/residences/{residence_id}",
        json={"expected_version": current["version"], "stay_reason": "77"},
        headers=headers,
    )
    assert bad.status_code == 422 and "stay_reason" in bad.text
    ok = client.patch(
        f"/residences/{residence_id}",
        json={"expected_version": current["version"], "stay_reason": "06", "effective": "2026-06-01"},
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    assert (
        client.get(f"/residences/{residence_id}", headers=headers).json()["attributes"]["stay_reason"] == "06"
    )


def _residences_file(tmp_path: Path, reason: str) -> Path:
    path = tmp_path / "residences.csv"
    exchange.write_template("residences", path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[1][rows[0].index("stay_reason")] = reason
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_the_bulk_import_takes_the_reason_and_refuses_an_unknown_code(world: World, tmp_path: Path) -> None:
    for kind in ("areas", "streets", "plates", "buildings", "dwellings", "persons", "households"):
        path = tmp_path / f"{kind}.csv"
        exchange.write_template(kind, path)
        assert not _import(world, kind, path).errors, kind
    refused = _import(world, "residences", _residences_file(tmp_path, "77"))
    assert refused.errors and "stay_reason" in json.dumps(refused.errors, ensure_ascii=False, default=str)
    with world.session() as session:
        assert session.execute(select(func.count()).select_from(ResidenceVersion)).scalar_one() == 0
    loaded = _import(world, "residences", _residences_file(tmp_path, "03"))
    assert not loaded.errors
    with world.session() as session:
        assert session.execute(select(ResidenceVersion.stay_reason)).scalars().all() == ["03"]


def _import(world: World, kind: str, path: Path) -> Any:
    return exchange.import_file(
        world.sessions, kind=kind, path=path, source=None, actor=SYSTEM, clock=world.clock
    )
