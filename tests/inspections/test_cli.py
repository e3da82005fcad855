"""`liangshi inspect`: draw a plan, list its sample, record a result, read the rates, from the command line."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.inspections.models import InspectionPlan
from tests.conftest import INSIDE, World
from tests.inspections.test_service import TOWNSHIP, _households

runner = CliRunner()


def test_inspect_from_the_command_line(world: World, db_url: str) -> None:
    households = _households(world, INSIDE, 5)
    env = {"LIANGSHI_DATABASE_URL": db_url}
    base = ["inspect", "plan", "--area", TOWNSHIP, "--name", "抽查", "--seed", "5", "--margin", "0.3"]
    drawn = runner.invoke(
        app, [*base, "--aql", "0.05", "--lq", "0.5", "--as", "inspector_zhao", "--json"], env=env
    )
    assert drawn.exit_code == 0, drawn.output
    plan = json.loads(drawn.stdout)
    assert plan["seed"] == 5 and plan["lots"][0]["households"] == 5
    pid = str(plan["id"])
    sample = json.loads(
        runner.invoke(app, ["inspect", "sample", pid, "--as", "inspector_zhao", "--json"], env=env).stdout
    )
    assert {s["household_id"] for s in sample} <= set(households)
    recorded = runner.invoke(
        app,
        [
            *[
                "inspect",
                "result",
                pid,
                str(sample[0]["household_id"]),
                "--registered",
                "2",
                "--present",
                "1",
            ],
            *["--main", "1", "--general", "1", "--as", "inspector_zhao", "--json"],
        ],
        env=env,
    )
    assert recorded.exit_code == 0, recorded.output
    assert json.loads(recorded.stdout)["defective"] is True
    rates = json.loads(
        runner.invoke(app, ["inspect", "rates", pid, "--as", "inspector_zhao", "--json"], env=env).stdout
    )
    headcount = next(r for r in rates["overall"] if r["key"] == "headcount")
    assert (headcount["x"], headcount["n"]) == (1, 2)
    redrawn = runner.invoke(app, ["inspect", "redraw", pid], env=env)
    assert redrawn.exit_code == 0 and json.loads(redrawn.stdout)["same"] is True
    table = runner.invoke(app, ["inspect", "show", pid], env=env)
    assert table.exit_code == 0 and f"#{pid} 抽查  {TOWNSHIP}" in table.stdout


def test_bad_plans_exit_2_and_store_nothing(world: World, db_url: str) -> None:
    env = {"LIANGSHI_DATABASE_URL": db_url}
    base = ["inspect", "plan", "--area", TOWNSHIP, "--name", "抽查"]
    refused = runner.invoke(app, [*base, "--aql", "0.2", "--lq", "0.1"], env=env)
    assert refused.exit_code == 2 and "stats.aql_not_below_lq" in refused.stderr
    forbidden = runner.invoke(app, [*base, "--as", "collector_zhang"], env=env)
    assert forbidden.exit_code == 2 and "access.forbidden" in forbidden.stderr
    with world.session() as session:
        assert session.execute(select(func.count(InspectionPlan.id))).scalar_one() == 0
