"""Coverage post-stratified by area × housing type: Chapman per (community, building use), extended to that
stratum's households in the plan's frame, with its variance and interval, then summed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.cli.main import app
from liangshi.inspections import rules, service
from liangshi.inspections.schemas import ResultCreate
from tests import factories
from tests.conftest import INSIDE, World
from tests.inspections.test_service import _plan


def _town(world: World) -> int:
    """Four households in a residential building, four in a mixed-use one, all inspected: the re-canvass finds one
    person unregistered in each mixed-use household and nobody missing in the residential ones. The plan's id."""
    mixed: set[int] = set()
    with world.session() as session:
        ctx = world.ctx(session, "district_admin_chen")
        area = world.area(INSIDE)
        place = factories.place(session, ctx, area_id=area, district_id=world.area("420704"))
        shop = buildings.create_building(
            session,
            ctx,
            BuildingCreate(address_id=place.address_id, label="5栋", use="mixed"),  # type: ignore[arg-type]
        )
        upstairs = buildings.create_dwelling(
            session,
            ctx,
            DwellingCreate(building_id=shop.entity.id, unit=1, floor=2, room="201", status="occupied"),  # type: ignore[arg-type]
        )
        for dwelling in (place.dwelling_id, int(upstairs.entity.id)):
            for _ in range(4):
                head = factories.person(session, ctx, area_id=area, name="王建国")
                other = factories.person(session, ctx, area_id=area, name="李秀英", male=False)
                household = factories.household(
                    session, ctx, area_id=area, dwelling_id=dwelling, members=[(head, "02"), (other, "10")]
                )
                if dwelling != place.dwelling_id:
                    mixed.add(household)
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
        sampled = [
            s.household_id for s in service.sample_of(session, world.ctx(session, "inspector_zhao"), plan.id)
        ]
    assert len(sampled) == 8
    for household_id in sampled:
        missed = 1 if household_id in mixed else 0
        data = ResultCreate(
            persons_registered=2,
            persons_present=2,
            main_right=2,
            general_right=2,
            count_matches=not missed,
            persons_missed=missed,
        )
        with world.session() as session:
            service.record_result(session, world.ctx(session, "inspector_zhao"), plan.id, household_id, data)
    return plan.id


def test_coverage_is_estimated_per_area_and_housing_type_and_summed(world: World) -> None:
    plan_id = _town(world)
    with world.session() as session:
        report = service.coverage_by_housing(session, world.ctx(session, "station_admin_li"), plan_id)
    strata = {(s["community_code"], s["housing_type"]): s for s in report["strata"]}
    assert set(strata) == {(INSIDE, "mixed"), (INSIDE, "residential")}
    mixed, residential = strata[(INSIDE, "mixed")], strata[(INSIDE, "residential")]
    assert (mixed["households"], mixed["inspected"], mixed["n1"], mixed["n2"], mixed["m"]) == (4, 4, 8, 12, 8)
    expected = rules.coverage(8, 12, 8, 4, 4, 4)
    assert mixed["missed"] == pytest.approx(expected.missed) and mixed["variance"] == pytest.approx(
        expected.missed_variance
    )
    assert residential["missed"] == pytest.approx(rules.coverage(8, 8, 8, 4, 4, 0).missed)
    total = rules.coverage_total([expected, rules.coverage(8, 8, 8, 4, 4, 0)])
    assert report["missed"] == pytest.approx(total[0]) and report["variance"] == pytest.approx(total[1])
    assert 4 <= report["low"] <= report["missed"] <= report["high"]


def test_coverage_by_housing_over_http_and_the_command_line(
    world: World, client: TestClient, login: Any, db_url: str
) -> None:
    plan_id = _town(world)
    r = client.get(f"/inspections/plans/{plan_id}/coverage/housing", headers=login("inspector_zhao"))
    assert r.status_code == 200 and {s["housing_type"] for s in r.json()["strata"]} == {
        "mixed",
        "residential",
    }
    result = CliRunner().invoke(
        app,
        ["inspect", "coverage", str(plan_id), "--by-housing", "--as", "inspector_zhao"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by"] == ["area", "housing_type"]
