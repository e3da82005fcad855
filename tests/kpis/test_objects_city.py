"""The objects behind every KPI on a synthetic city, after the checks ran: each list's total is its number, and
the departures the checks found are in the deregistration rate's gap (issue 15)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from liangshi.access.service import SYSTEM
from liangshi.checks import service as checks
from liangshi.kpis import objects, rules, service
from liangshi.synth import DefectRates, write_city
from liangshi.synth.load import load_city
from tests.conftest import World

TODAY = dt.date(2026, 11, 27)  # the test clock's day
FROM = dt.date(2026, 1, 1)
RATES = DefectRates(not_deregistered=0.1, rental_no_agreement=0.1, plate_not_installed=0.05)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write_city(out, persons=1500, seed=15, today=TODAY, rates=RATES)
    return out


def test_every_list_total_is_the_kpi_number_on_a_synthetic_city(world: World, city: Path) -> None:
    load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    with world.session() as s:
        checks.run_checks(s, world.ctx(s), codes=["residence.departed_not_deregistered"])
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        report = service.compute(s, ctx, area_code="420700", date_from=FROM, date_to=TODAY)
        counted = {k["key"]: (k["numerator"], k["denominator"]) for k in report.kpis(report.root.id)}
        totals = {}
        for key in rules.BY_KEY:
            totals[key] = tuple(
                objects.objects(
                    s, ctx, key, area_code="420700", date_from=FROM, date_to=TODAY, part=part, page_size=1
                )["total"]
                for part in ("numerator", "denominator", "missing")
            )
        gap = objects.objects(
            s,
            ctx,
            "floating_deregistration",
            area_code="420700",
            date_from=FROM,
            date_to=TODAY,
            part="missing",
            page_size=500,
        )
    for key, (num, den) in counted.items():
        assert totals[key] == (num, den, den - num), key
    assert sum(den for _, den in counted.values()) > 0
    assert (
        counted["rental_agreement"][1] > counted["rental_agreement"][0]
    )  # planted: rentals without agreement
    assert any(i["kind"] == "found_departure" for i in gap["items"])  # what the checks found is listed
