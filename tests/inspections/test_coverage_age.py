"""Coverage post-stratified by area × housing type × age band: each result's persons per age band, Chapman per
post-stratum extended to its cell's households, summed; the interval covers the truth in ≥ 93 of 100 towns."""

from __future__ import annotations

import json
from typing import Any, get_args

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.inspections import rules, service
from liangshi.inspections.models import InspectionResult, InspectionResultBand
from liangshi.inspections.schemas import AgeBand, BandCount, ResultCreate
from liangshi.tables import rules as table_rules
from tests.conftest import INSIDE, World
from tests.inspections.test_coverage_strata import _town
from tests.inspections.test_service import TOWNSHIP, _households, _plan

BANDS = ("0-17", "18-34", "35-59", "60+")


def test_the_age_bands_are_the_population_tables_bands() -> None:
    assert set(get_args(AgeBand)) == {key for key, *_rest in table_rules.AGE_BANDS}


def test_missed_people_by_area_housing_and_age_band_cover_the_truth_in_93_of_100_towns() -> None:
    # Three communities; each household has a housing type (residential or rented-out mixed use) and 1–5 persons
    # of random age bands. The register misses young adults in rented housing most. Per community a simple random
    # sample of households is re-canvassed (post-stratified afterwards by housing type and age band), finding
    # each person there with probability 0.95, independently of the register.
    lots, drawn = (400, 900, 250), (80, 120, 60)
    p_register = {
        ("residential", "0-17"): 0.93,
        ("residential", "18-34"): 0.9,
        ("residential", "35-59"): 0.97,
        ("residential", "60+"): 0.98,
        ("mixed", "0-17"): 0.85,
        ("mixed", "18-34"): 0.7,
        ("mixed", "35-59"): 0.9,
        ("mixed", "60+"): 0.95,
    }
    covered = 0
    strata_seen = set()
    for seed in range(100):
        rng = np.random.default_rng(seed)
        truth = 0
        households: dict[tuple[str, ...], int] = {}
        visits: list[tuple[tuple[str, ...], list[tuple[str, int, int, int]]]] = []
        for c, (lot, h) in enumerate(zip(lots, drawn, strict=True)):
            kinds = np.where(rng.random(lot) < 0.3, "mixed", "residential")
            people = []
            for kind in kinds:
                bands = rng.choice(BANDS, size=int(rng.integers(1, 6)))
                registered = np.array([rng.random() < p_register[(str(kind), str(b))] for b in bands])
                truth += int((~registered).sum())
                people.append((bands, registered))
                households[(f"c{c}", str(kind))] = households.get((f"c{c}", str(kind)), 0) + 1
            for i in rng.choice(lot, h, replace=False):
                bands, registered = people[i]
                found = rng.random(len(bands)) < 0.95
                counts = []
                for band in BANDS:
                    of = bands == band
                    if of.any():
                        counts.append(
                            (
                                band,
                                int((registered & of).sum()),
                                int((registered & found & of).sum()),
                                int((~registered & found & of).sum()),
                            )
                        )
                visits.append(((f"c{c}", str(kinds[i])), counts))
        parts = rules.coverage_by_band(households, visits)
        strata_seen |= set(parts)
        _missed, _variance, low, high = rules.coverage_total(list(parts.values()))
        covered += low <= truth <= high
    assert {k[2] for k in strata_seen} == set(BANDS) and {k[1] for k in strata_seen} == {
        "mixed",
        "residential",
    }
    assert covered >= 93, covered


def test_coverage_by_band_extends_each_band_by_its_cells_households() -> None:
    visits = [
        (("a", "res"), [("0-17", 1, 1, 0), ("18-34", 2, 2, 1)]),
        (("a", "res"), [("18-34", 2, 1, 0)]),
        (("a", "mix"), [("60+", 1, 1, 2)]),
    ]
    parts = rules.coverage_by_band({("a", "res"): 10, ("a", "mix"): 3}, visits)
    assert set(parts) == {("a", "res", "0-17"), ("a", "res", "18-34"), ("a", "mix", "60+")}
    # Band 18-34 of the residential cell: 4 registered, 3 of them found, 1 found unregistered, in 2 of 10 households.
    assert parts[("a", "res", "18-34")] == rules.coverage(4, 4, 3, 10, 2, 1)
    assert parts[("a", "mix", "60+")] == rules.coverage(1, 3, 1, 3, 1, 4)


def _banded(registered: int, missed: int) -> ResultCreate:
    # Registered persons: one child, the rest aged 35-59; the unregistered ones found are young adults.
    bands = [BandCount(age_band="0-17", persons_registered=1, persons_present=1)]
    bands.append(
        BandCount(
            age_band="35-59",
            persons_registered=registered - 1,
            persons_present=registered - 1,
        )
    )
    if missed:
        bands.append(BandCount(age_band="18-34", persons_missed=missed))
    return ResultCreate(
        persons_registered=registered,
        persons_present=registered,
        main_right=registered,
        general_right=registered,
        count_matches=not missed,
        persons_missed=missed,
        bands=bands,
    )


def test_coverage_by_age_band_from_the_stored_results(world: World) -> None:
    households = _households(world, INSIDE, 6)
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
    assert plan.lots[0].sample_size == len(households) == 6
    sampled = sorted(households)
    for i, household_id in enumerate(sampled):
        with world.session() as session:
            data = (
                _banded(2, 1 if i < 2 else 0) if i < 5 else _banded(2, 0).model_copy(update={"bands": None})
            )
            read = service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, data
            )
        assert (read.bands is None) == (i == 5)
    with world.session() as session:
        report = service.coverage_by_age(session, world.ctx(session, "station_admin_li"), plan.id)
        stored = session.execute(select(func.count(InspectionResultBand.id))).scalar_one()
    assert stored == 2 * 5 + 2  # two bands per banded result, one more where someone was missed
    assert report["by"] == ["area", "housing_type", "age_band"]
    strata = {s["age_band"]: s for s in report["strata"]}
    assert set(strata) == {"0-17", "18-34", "35-59", "unknown"}
    young = strata["18-34"]
    assert (young["households"], young["inspected"], young["n1"], young["n2"], young["m"]) == (6, 6, 0, 2, 0)
    assert young["missed"] == pytest.approx(rules.coverage(0, 2, 0, 6, 6, 2).missed)
    assert (strata["unknown"]["n1"], strata["unknown"]["m"]) == (2, 2)
    parts = [
        rules.coverage(5, 5, 5, 6, 6, 0),
        rules.coverage(0, 2, 0, 6, 6, 2),
        rules.coverage(5, 5, 5, 6, 6, 0),
        rules.coverage(2, 2, 2, 6, 6, 0),
    ]
    total = rules.coverage_total(parts)
    assert report["missed"] == pytest.approx(total[0]) and report["variance"] == pytest.approx(total[1])
    assert 2 <= report["low"] <= report["missed"] <= report["high"]


@pytest.mark.parametrize(
    ("bands", "code"),
    [
        ([{"age_band": "0-17", "persons_registered": 1, "persons_present": 1}], "inspection.bands_disagree"),
        (
            [
                {"age_band": "0-17", "persons_registered": 1, "persons_present": 1},
                {"age_band": "0-17", "persons_registered": 1, "persons_present": 1},
            ],
            "inspection.band_repeated",
        ),
        (
            [
                {"age_band": "0-17", "persons_registered": 0, "persons_present": 1},
                {"age_band": "60+", "persons_registered": 2, "persons_present": 1},
            ],
            "inspection.band_exceeds",
        ),
    ],
)
def test_bands_that_do_not_add_up_are_refused_and_nothing_is_stored(
    world: World, client: TestClient, login: Any, bands: list[dict[str, Any]], code: str
) -> None:
    households = _households(world, INSIDE, 3)
    inspector = login("inspector_zhao")
    body = {"area_id": world.area(TOWNSHIP), "name": "抽查", "seed": 7, "margin": 0.3, "aql": 0.05, "lq": 0.5}
    plan = client.post("/inspections/plans", json=body, headers=inspector).json()
    sample = client.get(f"/inspections/plans/{plan['id']}/sample", headers=inspector).json()
    assert {s["household_id"] for s in sample} <= set(households)
    result = {
        "persons_registered": 2,
        "persons_present": 2,
        "main_right": 2,
        "general_right": 2,
        "count_matches": True,
        "bands": bands,
    }
    r = client.post(
        f"/inspections/plans/{plan['id']}/households/{sample[0]['household_id']}/result",
        json=result,
        headers=inspector,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == code
    assert r.json()["error"]["data"]["field"] == "bands"
    with world.session() as session:
        assert session.execute(select(func.count(InspectionResult.id))).scalar_one() == 0
        assert session.execute(select(func.count(InspectionResultBand.id))).scalar_one() == 0


def test_coverage_by_age_over_http_and_the_command_line(
    world: World, client: TestClient, login: Any, db_url: str
) -> None:
    plan_id = _town(world)
    r = client.get(f"/inspections/plans/{plan_id}/coverage/age", headers=login("inspector_zhao"))
    assert r.status_code == 200, r.text
    # _town records results without bands: every person counts in band `unknown`, as the housing post-strata.
    assert {(s["housing_type"], s["age_band"]) for s in r.json()["strata"]} == {
        ("mixed", "unknown"),
        ("residential", "unknown"),
    }
    by_housing = client.get(f"/inspections/plans/{plan_id}/coverage/housing", headers=login("inspector_zhao"))
    assert r.json()["missed"] == pytest.approx(by_housing.json()["missed"])
    result = CliRunner().invoke(
        app,
        ["inspect", "coverage", str(plan_id), "--by-age", "--as", "inspector_zhao"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["by"] == ["area", "housing_type", "age_band"]
