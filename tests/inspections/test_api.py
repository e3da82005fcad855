"""Inspection routes: draw a plan, read its sample, record results, read the rates; the statistics routes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import INSIDE, World
from tests.inspections.test_service import TOWNSHIP, _households


def test_draw_inspect_and_read_the_rates_over_http(world: World, client: TestClient, login: Any) -> None:
    households = _households(world, INSIDE, 6)
    inspector = login("inspector_zhao")
    body = {
        "area_id": world.area(TOWNSHIP),
        "name": "抽查",
        "seed": 99,
        "margin": 0.3,
        "aql": 0.05,
        "lq": 0.5,
    }
    r = client.post("/inspections/plans", json=body, headers=inspector)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["seed"] == 99 and [lot["community_code"] for lot in plan["lots"]] == [INSIDE]
    sample = client.get(f"/inspections/plans/{plan['id']}/sample", headers=inspector).json()
    assert len(sample) == plan["lots"][0]["sample_size"] and {s["household_id"] for s in sample} <= set(
        households
    )
    oc = client.get(
        f"/inspections/plans/{plan['id']}/lots/{plan['lots'][0]['id']}/oc", headers=inspector
    ).json()
    assert oc[0] == {"p": 0.0, "accept": 1.0} and oc[-1]["accept"] < oc[0]["accept"]
    result = {
        "persons_registered": 2,
        "persons_present": 2,
        "main_right": 2,
        "general_right": 2,
        "count_matches": True,
    }
    first = sample[0]["household_id"]
    r = client.post(
        f"/inspections/plans/{plan['id']}/households/{first}/result", json=result, headers=inspector
    )
    assert r.status_code == 201, r.text
    assert r.json()["inspector"] == "inspector_zhao" and r.json()["defective"] is False
    again = client.post(
        f"/inspections/plans/{plan['id']}/households/{first}/result", json=result, headers=inspector
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "inspection.already_inspected"
    stranger = max(households) + 1000
    r = client.post(
        f"/inspections/plans/{plan['id']}/households/{stranger}/result", json=result, headers=inspector
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "inspection.not_in_sample"
    rates = client.get(f"/inspections/plans/{plan['id']}/rates", headers=inspector).json()
    headcount = next(x for x in rates["overall"] if x["key"] == "headcount")
    assert (headcount["x"], headcount["n"], headcount["rate"]) == (2, 2, 1.0)
    assert client.get(f"/inspections/plans/{plan['id']}/redraw", headers=inspector).json()["same"] is True
    collector = login("collector_zhang")
    assert client.get(f"/inspections/plans/{plan['id']}", headers=collector).status_code == 403
    assert client.get("/inspections/rectifications", headers=collector).json() == []


def test_statistics_routes(client: TestClient) -> None:
    assert client.get("/stats/sample-size", params={"margin": 0.05, "p": 0.5, "population": 1000}).json() == {
        "n": 278
    }
    plan = {"lot": 1000, "aql": 0.01, "lq": 0.05, "alpha": 0.05, "beta": 0.1}
    assert client.get("/stats/acceptance-plan", params=plan).json() == {"n": 132, "ac": 3}
    assert set(client.get("/stats/wilson", params={"x": 9, "n": 10}).json()) == {"low", "high", "centre"}
    bad = client.get("/stats/chapman", params={"n1": 10, "n2": 5, "m": 6})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "stats.matched_exceeds_systems"
