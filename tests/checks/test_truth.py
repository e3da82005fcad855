"""The checks against the synthetic city's ground truth: every planted defect found, nothing else (a small city with
raised defect rates, so that every kind is planted)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from scripts.bench_truth import KINDS, MORE, SOURCES, score
from sqlalchemy import func, select

from liangshi.access.service import SYSTEM
from liangshi.checks import service as checks
from liangshi.kpis import service as kpis
from liangshi.residence.models import ResidenceVersion
from liangshi.synth import DefectRates, write_city
from liangshi.synth.generate import MORE_KINDS, RULE_KINDS, TRUTH_COLUMNS
from liangshi.synth.load import load_city
from tests.conftest import World

TODAY = dt.date(2026, 11, 27)  # the test clock's day
RATES = DefectRates(
    plate_not_installed=0.05,
    plate_missing=0.03,
    plate_wrong_side=0.1,
    plate_out_of_order=0.1,
    duplicate_person=0.1,
    not_deregistered=0.1,
    tenant_unregistered=0.1,
    rental_no_agreement=0.1,
    vacant_recorded_occupied=0.1,
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write_city(out, persons=3000, seed=18, today=TODAY, rates=RATES)
    return out


def test_every_planted_defect_is_found_and_nothing_else(world: World, city: Path) -> None:
    load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    with world.session() as s:
        ctx = world.ctx(s)
        for stem, kind in SOURCES:
            held = checks.load_source(s, ctx, source=stem, kind=kind, path=city / f"{stem}.csv")
            assert held.problems == [] and held.kept == held.rows > 0
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s))
    table = {row["kind"]: row for row in score(city, [f.line() for f in result.found])}
    assert set(table) == set(KINDS)
    for kind, row in table.items():
        # Only what the register can show: a plate missing from it has no side or place in the order there.
        seeable = int(row["planted"]) - int(row["unseeable"])  # type: ignore[call-overload]
        assert seeable > 0 or kind in RULE_KINDS, kind  # a drawn kind may not occur in a small city
        assert (row["true"], row["found"]) == (seeable, seeable), row


def test_the_json_line_of_each_kind_carries_the_natural_keys_the_issue_names(
    world: World, city: Path
) -> None:
    load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    with world.session() as s:
        for stem, kind in SOURCES:
            checks.load_source(s, world.ctx(s), source=stem, kind=kind, path=city / f"{stem}.csv")
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s))
    keys = {f.check: set(f.keys) for f in result.found}
    plate = {"community_code", "street", "number"}
    dwelling = plate | {"building", "unit", "room"}
    person = {"doc_type", "id_number"}
    assert keys["plate.missing"] == keys["plate.wrong_side"] == keys["plate.out_of_order"] == plate
    assert keys["rental.no_agreement"] == keys["dwelling.vacant_recorded_occupied"] == dwelling
    assert keys["residence.departed_not_deregistered"] == keys["rental.tenant_unregistered"] == person
    # A record in a department file: the number as that file wrote it, and which file.
    assert keys["person.duplicate"] == person | {"source"}


def test_departures_the_checks_found_enter_the_deregistration_rate_denominator(
    world: World, city: Path
) -> None:
    load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)

    def deregistration() -> list[int]:
        with world.session() as s:
            report = kpis.compute(
                s,
                world.ctx(s, "city_admin_wang"),
                area_code="420700",
                date_from=dt.date(2026, 1, 1),
                date_to=TODAY,
            )
            return report.counts[report.root.id]["floating_deregistration"]

    before = deregistration()
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s), codes=["residence.departed_not_deregistered"])
    with world.session() as s:
        floating = s.execute(
            select(func.count())
            .select_from(ResidenceVersion)
            .where(
                ResidenceVersion.entity_id.in_([f.object_id for f in result.found]),
                ResidenceVersion.category == "floating",
                ResidenceVersion.superseded_at.is_(None),
            )
        ).scalar_one()
    assert floating > 0
    after = deregistration()
    assert after == [before[0], before[1] + floating]  # the numerator stands; the denominator tells the truth


MORE_RATES = replace(
    RATES,
    number_without_place=0.5,
    plate_no_building=0.5,
    number_mismatch=0.1,
    many_numbers_one_place=0.1,
    household_member_missing=0.1,
    id_invalid=0.1,
    id_disagrees=0.1,
    departed_tenant=0.1,
)


def test_the_kinds_of_stop_25_are_planted_when_asked_and_each_found_exactly(
    world: World, tmp_path: Path
) -> None:
    city = tmp_path / "city"
    write_city(city, persons=3000, seed=18, today=TODAY, rates=MORE_RATES)
    load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    with world.session() as s:
        for stem, kind in SOURCES:
            checks.load_source(s, world.ctx(s), source=stem, kind=kind, path=city / f"{stem}.csv")
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s))
    table = {row["kind"]: row for row in score(city, [f.line() for f in result.found])}
    assert set(table) == set(KINDS) | set(MORE)
    for kind, row in table.items():
        seeable = int(row["planted"]) - int(row["unseeable"])  # type: ignore[call-overload]
        assert seeable > 0 or kind in RULE_KINDS, kind
        assert (row["true"], row["found"]) == (seeable, seeable), row


def test_a_city_written_without_the_new_kinds_is_the_city_of_before(tmp_path: Path) -> None:
    plain, more = tmp_path / "plain", tmp_path / "more"
    write_city(plain, persons=1500, seed=18, today=TODAY, rates=RATES)
    write_city(more, persons=1500, seed=18, today=TODAY, rates=MORE_RATES)
    plain_truth = {p.stem for p in (plain / "truth").iterdir()}
    assert plain_truth == set(TRUTH_COLUMNS) | set(RULE_KINDS)
    assert {p.stem for p in (more / "truth").iterdir()} == plain_truth | set(MORE_KINDS)
    # The new kinds draw from a generator of their own: the files they do not touch are the same bytes.
    for stem in ("police_persons", "housing_rentals", "venues_hotel_stays", "police_areas"):
        assert (plain / f"{stem}.csv").read_bytes() == (more / f"{stem}.csv").read_bytes(), stem
    # The residences too, but for the departed tenants' departures (the rest of each of their rows as before).
    with (more / "truth" / "departed_tenant.csv").open(encoding="utf-8") as fh:
        departed = {r["id_number"]: r["departure_date"] for r in csv.DictReader(fh)}
    assert departed
    with (
        (plain / "police_residences.csv").open(encoding="utf-8") as a,
        (more / "police_residences.csv").open(encoding="utf-8") as b,
    ):
        for was, now in zip(csv.DictReader(a), csv.DictReader(b), strict=True):
            if was["id_number"] not in departed:
                assert now == was
                continue
            assert was["departure_date"] == was["deregistration_date"] == ""
            assert now["departure_date"] == departed[was["id_number"]] <= now["deregistration_date"]
            changed = {"departure_date", "deregistration_date", "deregistration_reason", "destination"}
            assert {k: v for k, v in now.items() if k not in changed} == {
                k: v for k, v in was.items() if k not in changed
            }


def test_the_departed_tenants_still_attached_are_found_exactly_as_planted(
    world: World, tmp_path: Path
) -> None:
    city = tmp_path / "city"
    write_city(city, persons=3000, seed=18, today=TODAY, rates=replace(RATES, departed_tenant=0.2))
    results = load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    with (city / "truth" / "departed_tenant.csv").open(encoding="utf-8") as fh:
        planted = [r for r in csv.DictReader(fh)]
    with (city / "truth" / "tenant_unregistered.csv").open(encoding="utf-8") as fh:
        unregistered = {r["id_number"] for r in csv.DictReader(fh)}
    assert len(planted) >= 5
    # The rentals of the departed tenants load: the importer refuses only the unregistered tenants' rows.
    assert {e.code for e in results["housing_rentals"].errors} <= {"rental.tenant_not_resident"}
    with (city / "housing_rentals.csv").open(encoding="utf-8") as fh:
        refused = {
            line
            for line, r in enumerate(csv.DictReader(fh), start=2)
            if set(r["承租人证件号码"].split(";")) & unregistered
        }
    assert {e.line for e in results["housing_rentals"].errors} == refused
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s), codes=["rental.departed_tenant"])
    cols = ("community_code", "street", "number", "building", "unit", "room", "doc_type", "id_number")
    found = sorted(tuple(str(f.keys[c]) for c in cols) for f in result.found)
    assert found == sorted(tuple(r[c] for c in cols) for r in planted)
