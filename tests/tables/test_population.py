"""The population table: persons by category × sex × age band per community, JSON and xlsx, CLI and API."""

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
from liangshi.residence.rules import CATEGORIES
from liangshi.tables import rules, service
from tests import factories
from tests.conftest import INSIDE, World

OTHER = "420704001002"
TOWNSHIP = "420704001"
ON = dt.date(2026, 11, 27)


def _town(world: World) -> None:
    """滨湖: a resident man of 40 and a floating woman of 25; 南浦: a floating boy of 10."""
    with world.session() as session:
        ctx = world.ctx(session)
        for code, male, birth, category in (
            (INSIDE, True, dt.date(1986, 5, 1), "resident"),
            (INSIDE, False, dt.date(2001, 1, 1), "floating"),
            (OTHER, True, dt.date(2016, 3, 3), "floating"),
        ):
            place = factories.place(session, ctx, area_id=world.area(code), district_id=world.area("420704"))
            pid = factories.person(session, ctx, area_id=world.area(code), male=male, birth=birth)
            factories.arrival(
                session,
                ctx,
                person_id=pid,
                dwelling_id=place.dwelling_id,
                arrived=dt.date(2026, 3, 1),
                category=category,
            )


def _cell(table: dict[str, Any], code: str, category: str, sex: str, band: str) -> int:
    index = table["columns"].index({"category": category, "sex": sex, "age_band": band})
    row = next(r for r in table["rows"] if r["code"] == code)
    return int(row["values"][index])


def test_age_bands() -> None:
    assert rules.age_band(dt.date(2008, 11, 28), ON) == "0-17"  # 17 until tomorrow
    assert rules.age_band(dt.date(2008, 11, 27), ON) == "18-34"
    assert rules.age_band(dt.date(1966, 1, 1), ON) == "60+"
    assert rules.age_band(None, ON) == "unknown"


def test_the_population_table_counts_each_community_with_totals(world: World) -> None:
    _town(world)
    with world.session() as session:
        table = service.population(session, world.ctx(session, "station_admin_li"), area_code=TOWNSHIP, on=ON)
    assert _cell(table, INSIDE, "resident", "1", "35-59") == 1
    assert _cell(table, INSIDE, "floating", "2", "18-34") == 1
    assert _cell(table, OTHER, "floating", "1", "0-17") == 1
    assert {r["code"]: r["total"] for r in table["rows"]}[INSIDE] == 2
    assert table["totals"]["total"] == 3 and sum(table["totals"]["values"]) == 3
    body = service.population_workbook(table)
    assert body == service.population_workbook(table)  # reproducible byte for byte
    ws = load_workbook(io.BytesIO(body)).active
    assert ws.cell(2, 3).value == "常住" and ws.cell(3, 3).value == "男" and ws.cell(4, 3).value == "0–17岁"
    assert any(str(m) == "A2:A4" for m in ws.merged_cells.ranges)
    last = ws.max_row
    assert ws.cell(last, 2).value == "合计" and ws.cell(last, ws.max_column).value == 3


def test_a_table_outside_the_jurisdiction_is_not_found(world: World) -> None:
    with world.session() as session, pytest.raises(NotFound):
        service.population(session, world.ctx(session, "station_admin_li"), area_code="420102001", on=ON)


def test_population_table_over_http_and_the_command_line(
    world: World, client: TestClient, login: Any, db_url: str
) -> None:
    _town(world)
    headers = login("station_admin_li")
    r = client.get("/tables/population", params={"area": TOWNSHIP, "on": ON.isoformat()}, headers=headers)
    assert r.status_code == 200 and r.json()["totals"]["total"] == 3
    x = client.get(
        "/tables/population.xlsx", params={"area": TOWNSHIP, "on": ON.isoformat()}, headers=headers
    )
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content)).active.cell(2, 1).value == "区划代码"
    result = CliRunner().invoke(
        app,
        ["tables", "population", "--area", TOWNSHIP, "--on", ON.isoformat(), "--json"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["total"] == 3


def _births_around(on: dt.date) -> list[dt.date | None]:
    """Birth dates a day either side of every band's bound on `on` (29 February included), after `on`, none."""
    days: list[dt.date | None] = [None, on + dt.timedelta(days=1), on, dt.date(1900, 1, 1)]
    for _key, bound in rules.band_cutoffs(on):
        days += [bound - dt.timedelta(days=1), bound, bound + dt.timedelta(days=1)]
    return [*days, dt.date(2008, 2, 29), dt.date(1966, 2, 28), dt.date(1991, 3, 1)]


@pytest.mark.parametrize(
    "on", [ON, dt.date(2024, 2, 29), dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2025, 12, 31)]
)
def test_the_sql_age_band_is_the_rule_on_every_bound(world: World, on: dt.date) -> None:
    """`age_band_sql` (the table's GROUP BY) gives `rules.age_band` for births on, before and after each bound."""
    from sqlalchemy import Date, literal, select

    from liangshi.tables.service.population import age_band_sql

    births = _births_around(on)
    with world.session() as session:
        got = session.execute(select(*(age_band_sql(literal(b, Date()), on) for b in births))).one()
    assert list(got) == [rules.age_band(b, on) for b in births]
    assert {"unknown", "0-17", "18-34", "35-59", "60+"} <= set(got)


def _population_by_birth_date(session: Any, table_area: str, on: dt.date) -> dict[str, list[int]]:
    """The table's counts as the previous code made them: one row per birth date, banded in Python."""
    from collections import Counter

    from sqlalchemy import func, or_, select

    from liangshi.areas.models import Area
    from liangshi.persons.models import PersonVersion
    from liangshi.residence.models import Residence, ResidenceVersion

    rv, pv = ResidenceVersion, PersonVersion
    rows = session.execute(
        select(Area.code, rv.category, pv.sex, pv.birth_date, func.count())
        .join(Residence, Residence.area_id == Area.id)
        .join(rv, rv.entity_id == Residence.id)
        .join(pv, pv.entity_id == Residence.person_id)
        .where(
            Area.path.startswith(
                session.execute(select(Area.path).where(Area.code == table_area)).scalar_one()
            ),
            rv.superseded_at.is_(None),
            rv.valid_from <= on,
            or_(rv.valid_to.is_(None), rv.valid_to > on),
            pv.superseded_at.is_(None),
            pv.valid_from <= on,
            or_(pv.valid_to.is_(None), pv.valid_to > on),
        )
        .group_by(Area.code, rv.category, pv.sex, pv.birth_date)
    ).all()
    counts: dict[str, Counter[tuple[str, str, str]]] = {}
    for code, category, sex, birth, n in rows:
        key = (str(category), rules.sex_key(str(sex)), rules.age_band(birth, on))
        counts.setdefault(str(code), Counter())[key] += int(n)
    return {
        code: [c.get((col["category"], col["sex"], col["age_band"]), 0) for col in _COLUMNS]
        for code, c in counts.items()
    }


_COLUMNS = [
    {"category": c, "sex": s, "age_band": b}
    for c in CATEGORIES
    for s, _zh, _en in rules.SEXES
    for b, *_r in rules.AGE_BANDS
]


@pytest.mark.parametrize("on", [ON, dt.date(2024, 2, 29), dt.date(2026, 3, 1)])
def test_the_set_based_table_equals_the_birth_date_fold_on_a_seeded_town(world: World, on: dt.date) -> None:
    """A town of persons born on and around every band bound, both sexes, several categories and communities:
    the table (banded in SQL) holds exactly the counts of the previous per-birth-date fold."""
    births = [b for b in _births_around(on) if b is not None and b <= on] + [dt.date(2001, 1, 1)] * 3
    with world.session() as session:
        ctx = world.ctx(session)
        for i, birth in enumerate(births):
            code = (INSIDE, OTHER)[i % 2]
            place = factories.place(session, ctx, area_id=world.area(code), district_id=world.area("420704"))
            pid = factories.person(session, ctx, area_id=world.area(code), male=i % 3 != 0, birth=birth)
            factories.arrival(
                session,
                ctx,
                person_id=pid,
                dwelling_id=place.dwelling_id,
                arrived=min(on, dt.date(2024, 1, 2)),
                category=("resident", "floating", "lodging")[i % 3],
            )
    with world.session() as session:
        table = service.population(session, world.ctx(session, "station_admin_li"), area_code=TOWNSHIP, on=on)
        before = _population_by_birth_date(session, TOWNSHIP, on)
    assert table["columns"] == _COLUMNS
    got = {r["code"]: r["values"] for r in table["rows"] if any(r["values"]) and r["code"] in before}
    assert got == before
    assert sum(sum(v) for v in before.values()) == len(births)
    assert table["totals"]["total"] == len(births)
