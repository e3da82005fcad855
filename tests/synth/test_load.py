"""The whole synthetic city through the importer: police files, rentals, venues, stays; every KPI has data."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Street, StreetVersion
from liangshi.areas.models import Area, AreaVersion
from liangshi.checks.models import SourceRecord
from liangshi.demo.city import load_whole_city, send_civil_affairs
from liangshi.departments.models import Department, DepartmentBatch
from liangshi.kpis import service as kpis
from liangshi.rentals.models import Rental
from liangshi.synth import write_city
from liangshi.synth.load import CITY_ORDER, POLICE_ORDER, load_city
from liangshi.venues.models import Stay, Venue
from tests.conftest import World

TODAY = dt.date(2026, 11, 27)  # the test clock's day


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write_city(out, persons=1500, seed=5, today=TODAY)
    return out


def test_the_whole_city_loads_and_every_kpi_group_has_data(world: World, city: Path) -> None:
    results = load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    assert list(results) == [*POLICE_ORDER, *(stem for stem, _, _ in CITY_ORDER)]
    rows = {stem: _rows(city / f"{stem}.csv") for stem, _, _ in CITY_ORDER}
    unregistered = {r["id_number"] for r in _rows(city / "truth" / "tenant_unregistered.csv")}
    refused = {
        line
        for line, r in enumerate(rows["housing_rentals"], start=2)
        if set(r["承租人证件号码"].split(";")) & unregistered
    }
    for stem, result in results.items():
        if stem == "housing_rentals":
            # Only the labelled defect is refused: tenants the police files do not have.
            assert {e.line for e in result.errors} == refused
        else:
            assert not result.errors, (stem, result.errors[:3])
    assert results["police_venues"].loaded == len(rows["police_venues"]) >= 2
    stays = len(rows["venues_hotel_stays"]) + len(rows["venues_cafe_stays"])
    assert results["venues_hotel_stays"].loaded + results["venues_cafe_stays"].loaded == stays > 0
    with world.session() as s:
        counted = [s.execute(select(func.count()).select_from(m)).scalar_one() for m in (Rental, Venue, Stay)]
        matched = s.execute(
            select(func.count()).select_from(Stay).where(Stay.person_id.is_not(None))
        ).scalar_one()
        report = kpis.compute(
            s,
            world.ctx(s, "city_admin_wang"),
            area_code="420700",
            date_from=dt.date(2026, 1, 1),
            date_to=TODAY,
        )
    assert counted == [len(rows["housing_rentals"]) - len(refused), len(rows["police_venues"]), stays]
    assert 0 < matched < stays  # local guests are matched to their person, visitors are not in the register
    values = {k["key"]: k for k in report.kpis(report.root.id)}
    for key in ("rental_registration", "rental_entry", "rental_agreement", "venue_realtime"):
        assert values[key]["denominator"] > 0 and values[key]["rate"] is not None, key
    assert values["rental_registration"]["denominator"] == len(rows["housing_rentals"])
    assert values["venue_realtime"]["denominator"] == stays
    assert 0.5 < values["venue_realtime"]["rate"] < 1.0
    # Loading the same files again changes nothing.
    again = load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    assert all(r.loaded == 0 for r in again.values())
    with world.session() as s:
        assert [
            s.execute(select(func.count()).select_from(m)).scalar_one() for m in (Rental, Venue, Stay)
        ] == counted


def test_the_whole_city_in_one_call_sends_the_department_files_and_holds_them_for_checking(
    world: World, city: Path
) -> None:
    loaded = load_whole_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    assert set(loaded.imports) >= {*POLICE_ORDER, "housing_rentals"}
    # The civil affairs department names the same areas and streets as the police files, sent as its batches:
    # every row the same, nothing changed, nothing refused.
    for stem, kind in (("civil_affairs_areas", "areas"), ("civil_affairs_streets", "streets")):
        b, rows = loaded.batches[stem], len(_rows(city / f"{stem}.csv"))
        assert (b.department, b.kind, b.rows, b.same, b.applied, b.rejected) == (
            "civil_affairs",
            kind,
            rows,
            rows,
            0,
            [],
        ), stem
        assert rows > 0
    planted = {(r["file"], r["id_number"]) for r in _rows(city / "truth" / "duplicate_person.csv")}
    assert "health_persons" in loaded.batches
    for stem, batch in loaded.batches.items():
        rows = _rows(city / f"{stem}.csv")
        # The file imports as sent (its 管辖社区 column included): only rows the truth labels as defective are
        # refused, each with its line, field and code; the good rows are kept.
        assert batch.rows + len({p.line for p in batch.rejected}) == len(rows), stem
        for p in batch.rejected:
            assert (stem, rows[p.line - 2]["证件号码"]) in planted, (stem, p)
            assert p.field and p.code
    for stem, held in loaded.held.items():
        assert held.kept == held.rows == len(_rows(city / f"{stem}.csv")) and held.problems == [], stem
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(DepartmentBatch)).scalar_one() == len(
            loaded.batches
        )
        held_sources = s.execute(select(SourceRecord.source).distinct()).scalars()
        assert set(held_sources) == set(loaded.held)
        report = kpis.compute(
            s,
            world.ctx(s, "city_admin_wang"),
            area_code="420700",
            date_from=dt.date(2026, 1, 1),
            date_to=TODAY,
        )
    # The venue rate tells the truth: every guest's document is a real one, so the stays reported within 24 h.
    stays = _rows(city / "venues_hotel_stays.csv") + _rows(city / "venues_cafe_stays.csv")
    on_time = sum(
        dt.datetime.fromisoformat(r["上报时间"])
        - dt.datetime.fromisoformat(r.get("入住时间") or r["上机时间"])
        <= dt.timedelta(hours=24)
        for r in stays
    )
    venue = {k["key"]: k for k in report.kpis(report.root.id)}["venue_realtime"]
    assert (venue["numerator"], venue["denominator"]) == (on_time, len(stays))
    assert on_time < len(stays)  # some are late: the rate is not 100 % by construction


def _places(world: World) -> list[int]:
    with world.session() as s:
        return [
            s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Area, AreaVersion, Street, StreetVersion)
        ]


def _civil_batches(world: World) -> dict[str, tuple[str, int, int, int, int]]:
    with world.session() as s:
        batches = s.execute(
            select(DepartmentBatch)
            .join(Department, Department.id == DepartmentBatch.department_id)
            .where(Department.code == "civil_affairs")
            .order_by(DepartmentBatch.id)
        ).scalars()
        return {
            b.kind: (b.status, b.rows_total, b.values_same, b.values_applied, b.rows_rejected)
            for b in batches
        }


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_the_civil_affairs_files_are_stored_as_batches_with_their_counts_and_change_no_place(
    world: World, city: Path, tmp_path: Path
) -> None:
    load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    before = _places(world)
    loaded = load_whole_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    # The police files loaded the same areas and streets: the batches are stored, every row the same.
    assert _places(world) == before
    areas, streets = (len(_rows(city / f"civil_affairs_{k}.csv")) for k in ("areas", "streets"))
    assert _civil_batches(world) == {
        "areas": ("accepted", areas, areas, 0, 0),
        "streets": ("accepted", streets, streets, 0, 0),
    }
    assert loaded.batches["civil_affairs_areas"].batch_id < loaded.batches["civil_affairs_streets"].batch_id
    # The files as civil affairs might send them next: a community renamed from a date before the register's
    # current name began (the gazetteer's, from today: refused, the former name could not stay readable), a new
    # community under the township, a street's bearing corrected, and a street on a district the register does
    # not hold (refused); each bad row reported with its line, field and code, the good rows kept.
    sent = tmp_path / "next"
    sent.mkdir()
    area_rows = _rows(city / "civil_affairs_areas.csv")
    first = area_rows[0]
    new_code = first["上级代码"] + "099"
    area_rows[0] = first | {"名称": "新" + first["名称"], "起始日期": "2026-06-01"}
    area_rows.append(first | {"代码": new_code, "名称": "湖心社区", "起始日期": "2026-06-01"})
    _write(sent / "civil_affairs_areas.csv", area_rows)
    street_rows = _rows(city / "civil_affairs_streets.csv")
    turned = street_rows[0]["名称"]
    bearing = (int(street_rows[0]["走向"]) + 90) % 360
    street_rows[0] = street_rows[0] | {"走向": str(bearing), "起始日期": "2026-06-01"}
    street_rows.append(street_rows[-1] | {"区县代码": "429999", "名称": "无此路"})
    _write(sent / "civil_affairs_streets.csv", street_rows)
    again, refused = send_civil_affairs(world.sessions, sent, actor=SYSTEM, clock=world.clock, progress=None)
    assert refused == {}
    a, st = again["civil_affairs_areas"], again["civil_affairs_streets"]
    assert (a.rows, a.same, a.applied) == (areas, areas - 1, 1)
    assert [(p.line, p.field, p.code) for p in a.rejected] == [
        (2, "valid_from", "department.place_date_before_current")
    ]
    assert (st.rows, st.same, st.applied) == (streets, streets - 1, 1)
    assert [(p.line, p.field, p.code) for p in st.rejected] == [
        (len(street_rows) + 1, "area_code", "department.street_area_unknown")
    ]
    after = _places(world)
    assert (after[0], after[2]) == (before[0] + 1, before[2])  # one area added, no street
    with world.session() as s:
        held = s.execute(
            select(AreaVersion.name, AreaVersion.valid_from)
            .join(Area, Area.id == AreaVersion.entity_id)
            .where(Area.code.in_([first["代码"], new_code]), AreaVersion.superseded_at.is_(None))
            .order_by(Area.code)
        ).all()
        parent = s.execute(
            select(Area.code).where(
                Area.id == select(Area.parent_id).where(Area.code == new_code).scalar_subquery()
            )
        ).scalar_one()
        versions = s.execute(
            select(StreetVersion.bearing_deg, StreetVersion.valid_from, StreetVersion.valid_to)
            .where(StreetVersion.name == turned, StreetVersion.superseded_at.is_(None))
            .order_by(StreetVersion.valid_from)
        ).all()
    june = dt.date(2026, 6, 1)
    # The rename wrote nothing; the new community is held from its date.
    assert [tuple(r) for r in held] == [(first["名称"], TODAY), ("湖心社区", june)]
    assert parent == first["上级代码"]
    was = int(_rows(city / "civil_affairs_streets.csv")[0]["走向"])
    assert [tuple(v) for v in versions] == [(was, dt.date(2010, 1, 1), june), (bearing, june, None)]
    assert _civil_batches(world)["streets"] == ("accepted", streets, streets - 1, 1, 1)
    # A streets file with no good row is refused as a whole: kept as a refused batch with its report, nothing
    # written, and the city goes on (the areas file is accepted).
    _write(sent / "civil_affairs_streets.csv", [r | {"区县代码": "429999"} for r in street_rows])
    before = _places(world)
    accepted, refused = send_civil_affairs(
        world.sessions, sent, actor=SYSTEM, clock=world.clock, progress=None
    )
    assert list(accepted) == ["civil_affairs_areas"] and list(refused) == ["civil_affairs_streets"]
    r = refused["civil_affairs_streets"]
    assert (r.code, r.rows, r.rejected) == (
        "department.batch_rows_invalid",
        len(street_rows),
        len(street_rows),
    )
    assert _places(world) == before
    with world.session() as s:
        kept = s.get(DepartmentBatch, r.batch_id)
        assert kept is not None and (kept.status, kept.kind) == ("refused", "streets")
        assert "department.street_area_unknown" in (kept.report or "")
