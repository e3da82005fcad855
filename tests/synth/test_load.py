"""The whole synthetic city through the importer: police files, rentals, venues, stays; every KPI has data."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from liangshi.access.service import SYSTEM
from liangshi.checks.models import SourceRecord
from liangshi.demo.city import load_whole_city
from liangshi.departments.models import DepartmentBatch
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
    assert set(loaded.imports) >= {
        *POLICE_ORDER,
        "housing_rentals",
        "civil_affairs_areas",
        "civil_affairs_streets",
    }
    # The civil affairs department names the same areas and streets as the police files: nothing new, nothing refused.
    for stem in ("civil_affairs_areas", "civil_affairs_streets"):
        assert loaded.imports[stem].errors == [] and loaded.imports[stem].existing > 0, stem
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
