"""The coverage by area × housing type × age band, grouped in the database and kept per plan, gives the numbers the
stop-25 computation (a row per household in Python, `coverage_age_reference`) gives on a seeded town: two
communities, buildings of three uses and households without a dwelling, banded and unbanded results. The kept
report is dropped by a new result and not trusted after a change of a building's use."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.inspections import service
from liangshi.inspections.models import InspectionEstimate
from liangshi.inspections.schemas import BandCount, ResultCreate
from liangshi.registry import Provenance
from tests import factories
from tests.conftest import INSIDE, World
from tests.inspections.coverage_age_reference import coverage_by_age_per_household
from tests.inspections.test_service import OTHER, _plan

BANDS = ("0-17", "18-34", "35-59", "60+", "unknown")
PROV = Provenance("collector", "district_admin_chen", "observed")


def _seeded_town(world: World, seed: int) -> tuple[list[int], dict[int, int], int]:
    """Households in residential, mixed and commercial buildings and without a dwelling, in two communities.
    Returns (sampled household ids, household → registered persons, a building's id)."""
    rng = random.Random(seed)
    members: dict[int, int] = {}
    with world.session() as session:
        ctx = world.ctx(session, "district_admin_chen")
        dwellings: list[int | None] = [None]
        building = 0
        for code in (INSIDE, OTHER):
            area = world.area(code)
            place = factories.place(session, ctx, area_id=area, district_id=world.area("420704"))
            dwellings.append(place.dwelling_id)
            for label, use in (("5栋", "mixed"), ("8栋", "commercial")):
                snap = buildings.create_building(
                    session,
                    ctx,
                    BuildingCreate(address_id=place.address_id, label=label, use=use),  # type: ignore[arg-type]
                )
                building = int(snap.entity.id)
                flat = buildings.create_dwelling(
                    session,
                    ctx,
                    DwellingCreate(building_id=building, unit=1, floor=2, room="201", status="occupied"),  # type: ignore[arg-type]
                )
                dwellings.append(int(flat.entity.id))
            for n in range(9):
                people = [
                    (factories.person(session, ctx, area_id=area, name="王建国"), "02" if i == 0 else "10")
                    for i in range(rng.randint(1, 4))
                ]
                household = factories.household(
                    session, ctx, area_id=area, dwelling_id=dwellings[n % len(dwellings)], members=people
                )
                members[household] = len(people)
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
        sampled = [
            s.household_id for s in service.sample_of(session, world.ctx(session, "inspector_zhao"), plan.id)
        ]
    return sampled, members, building


def _result(rng: random.Random, registered: int) -> ResultCreate:
    present = rng.randint(max(0, registered - 1), registered)
    missed = rng.choice((0, 0, 1, 2))
    bands: dict[str, list[int]] = {}
    for i in range(registered):
        slot = bands.setdefault(rng.choice(BANDS), [0, 0, 0])
        slot[0] += 1
        slot[1] += i < present
    for _ in range(missed):
        bands.setdefault(rng.choice(BANDS), [0, 0, 0])[2] += 1
    return ResultCreate(
        persons_registered=registered,
        persons_present=present,
        main_right=present,
        general_right=present,
        count_matches=not missed and present == registered,
        persons_missed=missed,
        bands=None
        if rng.random() < 0.3
        else [
            BandCount(age_band=b, persons_registered=r, persons_present=p, persons_missed=m)  # type: ignore[arg-type]
            for b, (r, p, m) in bands.items()
        ],
    )


def _same(report: dict[str, Any], reference: dict[str, Any]) -> None:
    assert report["strata"] == reference["strata"]
    for key in ("missed", "variance", "low", "high"):
        # The same post-strata summed in another order: equal but for the last bits of a float.
        assert report[key] == pytest.approx(reference[key], rel=1e-12), key


@pytest.mark.parametrize("seed", [1, 2])
def test_the_grouped_and_kept_coverage_by_age_gives_the_per_household_numbers(
    world: World, seed: int
) -> None:
    sampled, members, building = _seeded_town(world, seed)
    rng = random.Random(seed)
    plan_id = 0
    with world.session() as session:
        plan_id = service.plans_of(session, world.ctx(session, "inspector_zhao"))[0].id
    half = len(sampled) // 2
    for household_id in sampled[:half]:
        with world.session() as session:
            ctx = world.ctx(session, "inspector_zhao")
            service.record_result(session, ctx, plan_id, household_id, _result(rng, members[household_id]))

    def both() -> tuple[dict[str, Any], dict[str, Any]]:
        with world.session() as session:
            ctx = world.ctx(session, "station_admin_li")
            return service.coverage_by_age(session, ctx, plan_id), coverage_by_age_per_household(
                session, ctx, plan_id
            )

    report, reference = both()
    assert {s["housing_type"] for s in reference["strata"]} >= {"none", "residential"}
    assert {s["age_band"] for s in reference["strata"]} >= {"unknown", "18-34"}
    _same(report, reference)
    with world.session() as session:
        kept = session.execute(select(InspectionEstimate)).scalar_one()
        assert kept.plan_id == plan_id and kept.fingerprint.startswith(f"results={half}:")
    again, _ = both()
    assert again == report  # read from the kept report
    # A new result drops the kept report; the next read computes it again.
    for household_id in sampled[half:]:
        with world.session() as session:
            ctx = world.ctx(session, "inspector_zhao")
            service.record_result(session, ctx, plan_id, household_id, _result(rng, members[household_id]))
            assert session.execute(select(func.count(InspectionEstimate.id))).scalar_one() == 0
    report, reference = both()
    assert report["missed"] != again["missed"] or report["strata"] != again["strata"]
    _same(report, reference)
    # A building turned to offices moves its households to another housing type: the kept report is not trusted.
    with world.session() as session:
        ctx = world.ctx(session, "district_admin_chen")
        registry.change(
            session,
            ctx,
            buildings.BUILDING,
            building,
            {"use": "office"},
            expected_version=1,
            effective=ctx.today,
            prov=PROV,
            reason="改为办公",
        )
    with world.session() as session:
        before = session.execute(select(InspectionEstimate.fingerprint)).scalar_one()
    report, reference = both()
    _same(report, reference)
    with world.session() as session:
        after = session.execute(select(InspectionEstimate.fingerprint)).scalar_one()
    assert after != before and "buildings=" in after


def test_the_dashboard_summary_shows_the_age_band_estimate(world: World) -> None:
    sampled, members, _building = _seeded_town(world, 3)
    rng = random.Random(3)
    with world.session() as session:
        plan_id = service.plans_of(session, world.ctx(session, "inspector_zhao"))[0].id
    for household_id in sampled:
        with world.session() as session:
            ctx = world.ctx(session, "inspector_zhao")
            service.record_result(session, ctx, plan_id, household_id, _result(rng, members[household_id]))
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        summary = service.latest_summary(session, ctx, world.area("420704001"))
        by_age = coverage_by_age_per_household(session, ctx, plan_id)
    assert summary is not None
    assert summary["coverage"]["by"] == ["area", "housing_type", "age_band"]
    assert summary["coverage"]["missed"] == pytest.approx(by_age["missed"], rel=1e-12)
    assert summary["coverage"]["low"] == pytest.approx(by_age["low"], rel=1e-12)
