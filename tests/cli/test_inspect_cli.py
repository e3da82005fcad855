"""`liangshi inspect fix`, `reinspect` and `oc`: the rectification items and a lot's OC curve from the command line,
through the same service functions as the API, with the service's refusals as clear errors that store nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.audit.models import AuditEntry
from liangshi.cli.main import app
from liangshi.inspections import rules, service
from liangshi.inspections.models import Rectification
from tests.conftest import INSIDE, World
from tests.inspections.test_service import OTHER, _households, _plan, _wrong

runner = CliRunner()


def _env(db_url: str) -> dict[str, str]:
    return {"LIANGSHI_DATABASE_URL": db_url, "COLUMNS": "200"}


def _rejected(world: World, entered_by: str, count: int = 2) -> tuple[int, list[int]]:
    """A plan over `count` households entered by `entered_by`, wholly inspected and each found wrong: the lot is
    rejected and every household gets a rectification item. (plan id, item ids)"""
    households = _households(world, INSIDE, count, entered_by)
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
    for household_id in households:
        with world.session() as session:
            service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, _wrong()
            )
    with world.session() as session:
        items = list(session.execute(select(Rectification.id).order_by(Rectification.id)).scalars())
    assert len(items) == count
    return plan.id, items


def _state(world: World) -> tuple[list[tuple[Any, ...]], int]:
    """The items as stored and the number of rectification audit entries."""
    with world.session() as session:
        items = session.execute(
            select(
                Rectification.id,
                Rectification.status,
                Rectification.fixed_on,
                Rectification.reinspected_on,
                Rectification.reinspected_by,
            ).order_by(Rectification.id)
        ).all()
        logged = session.execute(
            select(func.count(AuditEntry.seq)).where(
                AuditEntry.action.in_(("inspection.rectification_fix", "inspection.reinspect"))
            )
        ).scalar_one()
    return [tuple(i) for i in items], logged


def test_fix_then_reinspect_from_the_command_line(world: World, db_url: str) -> None:
    _, (first, second) = _rejected(world, "collector_zhang")
    env = _env(db_url)
    fixed = runner.invoke(app, ["inspect", "fix", str(first), "--as", "collector_zhang"], env=env)
    assert fixed.exit_code == 0, fixed.output
    assert f"已报告整改 reported rectified #{first}" in fixed.stdout and "待复查" in fixed.stdout
    passed = runner.invoke(
        app, ["inspect", "reinspect", str(first), "--passed", "--as", "inspector_zhao", "--json"], env=env
    )
    assert passed.exit_code == 0, passed.output
    read = json.loads(passed.stdout)
    assert (read["id"], read["status"], read["owner"]) == (first, "closed", "collector_zhang")
    runner.invoke(app, ["inspect", "fix", str(second), "--as", "police_liu"], env=env)
    failed = runner.invoke(
        app, ["inspect", "reinspect", str(second), "--failed", "--as", "inspector_zhao"], env=env
    )
    assert (
        failed.exit_code == 0
        and "复查未通过 re-inspection failed" in failed.stdout
        and "待整改" in failed.stdout
    )
    with world.session() as session:
        assert [(i.id, i.status) for i in service.notices(session, world.ctx(session, "police_liu"))] == [
            (second, "open")
        ]
    items, logged = _state(world)
    assert logged == 4 and [i[1] for i in items] == ["closed", "open"]


def test_reinspect_needs_passed_or_failed(world: World, db_url: str) -> None:
    _, (item, _) = _rejected(world, "collector_zhang")
    runner.invoke(app, ["inspect", "fix", str(item), "--as", "collector_zhang"], env=_env(db_url))
    before = _state(world)
    missing = runner.invoke(
        app, ["inspect", "reinspect", str(item), "--as", "inspector_zhao"], env=_env(db_url)
    )
    assert missing.exit_code == 2 and "--passed" in missing.stderr
    assert _state(world) == before


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["fix", "999999", "--as", "collector_zhang"], "inspection.rectification_not_found"),
        (["reinspect", "999999", "--passed", "--as", "inspector_zhao"], "inspection.rectification_not_found"),
        # 南浦社区's collector does not see 滨湖社区's items: not found, not forbidden.
        (["fix", "{first}", "--as", "collector_zhou"], "inspection.rectification_not_found"),
        (["reinspect", "{fixed}", "--passed", "--as", "collector_zhou"], "access.forbidden"),
        # Wrong state: re-inspecting an item not reported rectified, reporting a rectified item again.
        (
            ["reinspect", "{first}", "--passed", "--as", "inspector_zhao"],
            "inspection.rectification_not_fixed",
        ),
        (["fix", "{fixed}", "--as", "collector_zhang"], "inspection.rectification_not_open"),
        # Inspectors re-inspect; fixing is the owners' work.
        (["fix", "{first}", "--as", "inspector_zhao"], "access.forbidden"),
        (["fix", "{first}", "--as", "no_such_user"], "user.not_found"),
    ],
)
def test_bad_rectification_commands_exit_2_and_store_nothing(
    world: World, db_url: str, args: list[str], code: str
) -> None:
    _, (first, fixed) = _rejected(world, "collector_zhang")
    assert (
        runner.invoke(
            app, ["inspect", "fix", str(fixed), "--as", "collector_zhang"], env=_env(db_url)
        ).exit_code
        == 0
    )
    before = _state(world)
    argv = [a.format(first=first, fixed=fixed) for a in args]
    refused = runner.invoke(app, ["inspect", *argv, "--json"], env=_env(db_url))
    assert refused.exit_code == 2 and code in refused.stderr, refused.output
    assert refused.stdout == ""
    assert _state(world) == before


def test_an_inspector_may_not_reinspect_what_they_collected(world: World, db_url: str) -> None:
    # The station's administrator inspects, and also entered these households: the items are theirs to fix, but
    # their re-inspection is refused.
    _, (item, _) = _rejected(world, "station_admin_li")
    env = _env(db_url)
    assert (
        runner.invoke(app, ["inspect", "fix", str(item), "--as", "station_admin_li"], env=env).exit_code == 0
    )
    before = _state(world)
    own = runner.invoke(
        app, ["inspect", "reinspect", str(item), "--passed", "--as", "station_admin_li"], env=env
    )
    assert own.exit_code == 2 and "inspection.own_collection" in own.stderr
    assert "检查人员不能检查本人采集录入的信息" in own.stderr
    assert _state(world) == before
    other = runner.invoke(
        app, ["inspect", "reinspect", str(item), "--passed", "--as", "inspector_zhao"], env=env
    )
    assert other.exit_code == 0, other.output


def test_the_oc_curve_of_each_lot_with_aql_and_lq_marked(world: World, db_url: str) -> None:
    _households(world, INSIDE, 40)
    _households(world, OTHER, 12)
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        plan = service.create_plan(session, ctx, _plan(world))
        curves = {lot.community_code: service.oc_curve(session, ctx, plan.id, lot.id) for lot in plan.lots}
    env = _env(db_url)
    shown = runner.invoke(app, ["inspect", "oc", str(plan.id), "--as", "inspector_zhao", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert (data["plan_id"], data["aql"], data["lq"], data["alpha"], data["beta"]) == (
        plan.id,
        0.02,
        0.1,
        0.05,
        0.1,
    )
    lots = {lot["community_code"]: lot for lot in data["lots"]}
    assert set(lots) == {INSIDE, OTHER}
    for read in plan.lots:
        lot = lots[read.community_code]
        assert (lot["lot_id"], lot["n"], lot["ac"], lot["model"]) == (
            read.id,
            read.plan_n,
            read.ac,
            read.model,
        )
        assert (lot["households"], lot["sample_size"]) == (read.households, read.sample_size)
        assert [(x["p"], x["accept"]) for x in lot["curve"]] == curves[read.community_code]
        assert lot["producer_risk"] == pytest.approx(1 - read.accept_at_aql)
        assert lot["consumer_risk"] == pytest.approx(read.accept_at_lq)
        if read.model != "full":
            # The risks the plan was drawn for, as scipy gives them for the lot's (n, Ac).
            shape = rules.Plan(read.plan_n, read.ac, read.model, read.households, 0.0, 0.0)  # type: ignore[arg-type]
            at_lq = rules.accept_probability(shape.n, shape.ac, 0.1, model=shape.model, lot=shape.lot)
            assert lot["consumer_risk"] == pytest.approx(at_lq) and at_lq <= 0.1
            assert lot["producer_risk"] <= 0.05
        assert lot["curve"][0] == {"p": 0.0, "accept": 1.0} and lot["curve"][-1]["p"] == pytest.approx(0.2)
    one = runner.invoke(
        app,
        ["inspect", "oc", str(plan.id), "--community", OTHER, "--as", "inspector_zhao", "--json"],
        env=env,
    )
    assert [lot["community_code"] for lot in json.loads(one.stdout)["lots"]] == [OTHER]
    table = runner.invoke(app, ["inspect", "oc", str(plan.id), "--community", INSIDE], env=env)
    assert table.exit_code == 0, table.output
    inside = lots[INSIDE]
    assert f"n={inside['n']} Ac={inside['ac']}" in table.stdout and "OC 抽检特性曲线" in table.stdout
    assert f"AQL 生产方风险 producer's risk α = {inside['producer_risk']:.2%}" in table.stdout
    assert f"LQ 使用方风险 consumer's risk β = {inside['consumer_risk']:.2%}" in table.stdout
    assert "2.00%" in table.stdout and "10.00%" in table.stdout and "20.00%" in table.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--community", "420704002001"], "inspection.lot_not_found"),
        (["--as", "collector_zhang"], "access.forbidden"),
    ],
)
def test_bad_oc_requests_exit_2(world: World, db_url: str, args: list[str], code: str) -> None:
    _households(world, INSIDE, 5)
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world))
    refused = runner.invoke(app, ["inspect", "oc", str(plan.id), *args, "--json"], env=_env(db_url))
    assert refused.exit_code == 2 and code in refused.stderr and refused.stdout == ""


def test_a_plan_outside_the_jurisdiction_has_no_oc_curve(world: World, db_url: str) -> None:
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session), _plan(world, area_id=world.area("420102001")))
    refused = runner.invoke(app, ["inspect", "oc", str(plan.id), "--as", "inspector_zhao"], env=_env(db_url))
    assert refused.exit_code == 2 and "inspection.not_found" in refused.stderr
