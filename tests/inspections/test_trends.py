"""Trends by month: the five sample-based rates per month of inspection with their intervals and "target met" read
from the lower bound; the register's rates per month; over HTTP and on the
command line (the dashboard: tests/web/test_dashboard_trends.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.errors import NotFound
from liangshi.inspections import rules, service
from liangshi.inspections.service import estimates
from tests.conftest import World
from tests.inspections.test_accountability import _inspected
from tests.inspections.test_service import TOWNSHIP

FROM, TO = dt.date(2026, 10, 1), dt.date(2026, 11, 30)


def test_the_sample_based_rates_month_by_month(world: World) -> None:
    _inspected(world)  # five households inspected in November: 8 of 10 persons present
    with world.session() as session:
        report = service.monthly_rates(
            session, world.ctx(session, "inspector_zhao"), area_code=TOWNSHIP, date_from=FROM, date_to=TO
        )
    assert report["months"] == ["2026-10", "2026-11"]
    headcount = next(r for r in report["rates"] if r["key"] == "headcount")
    october, november = headcount["points"]
    assert october["n"] == 0 and october["rate"] is None and october["target_met"] is None
    # The five households (two with one of two persons present, three with both) are the sample: the interval is
    # the ratio estimator's with the households' variance, not a binomial one over ten independent persons.
    households = [(1, 2), (1, 2), (2, 2), (2, 2), (2, 2)]
    expected = rules.cluster_rate([rules.ClusterStratum(households, estimates.POOLED_LOT)])
    assert (november["x"], november["n"]) == (8, 10)
    assert november["rate"] == pytest.approx(0.8)
    assert november["low"] == pytest.approx(expected.low) and november["high"] == pytest.approx(expected.high)
    assert november["target_met"] is False


def test_a_good_month_is_met_only_when_its_lower_bound_reaches_the_target() -> None:
    # 98 of 100 right is the target as a point, but the interval's lower bound is below it: not shown met.
    assert rules.meets_target(rules.wilson(98, 100), 0.98) is False
    assert rules.meets_target(rules.wilson(3000, 3000), 0.98) is True


def test_trends_outside_the_jurisdiction_are_not_found(world: World) -> None:
    with world.session() as session, pytest.raises(NotFound):
        service.monthly_rates(
            session, world.ctx(session, "inspector_zhao"), area_code="420102001", date_from=FROM, date_to=TO
        )


def test_trends_over_http_and_the_command_line(
    world: World, client: TestClient, login: Any, db_url: str
) -> None:
    _inspected(world)
    period = {"area": TOWNSHIP, "from": FROM.isoformat(), "to": TO.isoformat()}
    r = client.get("/inspections/trends", params=period, headers=login("inspector_zhao"))
    assert r.status_code == 200 and r.json()["months"] == ["2026-10", "2026-11"]
    k = client.get("/kpis/trends", params=period, headers=login("station_admin_li"))
    assert k.status_code == 200 and k.json()["months"] == ["2026-10", "2026-11"]
    assert all(len(line["points"]) == 2 for line in k.json()["rates"]) and k.json()["rates"]
    result = CliRunner().invoke(
        app,
        [
            "inspect",
            "trends",
            "--area",
            TOWNSHIP,
            "--from",
            FROM.isoformat(),
            "--to",
            TO.isoformat(),
            "--json",
        ],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rates"][0]["points"][1]["n"] == 10
