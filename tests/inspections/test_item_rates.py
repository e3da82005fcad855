"""一般项目齐全准确率 counts items, 流动人口采集录入率 counts the registered entered in the system beside
人来登记率, and each target is read statistically in three: the service, the web form, the command line and the
migration."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from liangshi import migrate
from liangshi.cli.main import app
from liangshi.db import make_engine
from liangshi.errors import ValidationFailed
from liangshi.inspections import rules, service
from liangshi.inspections.models import InspectionResult
from liangshi.inspections.schemas import ResultCreate
from liangshi.persons import rules as person_rules
from tests.conftest import INSIDE, World
from tests.inspections.test_service import _households, _plan

ITEMS = len(person_rules.GENERAL_ITEMS)
MIGRATION = importlib.import_module("liangshi.migrations.versions.0055_rates16_inspection_items")


def _drawn(world: World, count: int = 6) -> tuple[int, list[int]]:
    _households(world, INSIDE, count)
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        plan = service.create_plan(session, ctx, _plan(world, margin=0.3, aql=0.05, lq=0.5))
        return plan.id, [d.household_id for d in service.sample_of(session, ctx, plan.id)]


def _results(world: World) -> int:
    with world.session() as session:
        return int(session.execute(select(func.count(InspectionResult.id))).scalar_one())


def test_the_general_items_rate_counts_items_and_the_floating_rates_are_three(world: World) -> None:
    plan_id, sampled = _drawn(world)
    answers = [
        # 2 persons, one with 3 of the general items wrong: 7 of 10 items right, 1 of 2 persons.
        dict(
            general_right=1,
            general_items_wrong=3,
            floating_found=2,
            floating_registered=2,
            floating_entered=1,
        ),
        # every item right, left out as the service allows
        dict(general_right=2, floating_found=1, floating_registered=0),
    ]
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        for household, answer in zip(sampled, answers, strict=False):
            base = dict(persons_registered=2, persons_present=2, main_right=2, count_matches=True)
            service.record_result(
                session,
                ctx,
                plan_id,
                household,
                ResultCreate.model_validate({**base, "floating_right": 0, **answer}),
            )
        stored = session.execute(select(InspectionResult).order_by(InspectionResult.id)).scalars().all()
        overall = {r.key: r for r in service.rates(session, ctx, plan_id)["overall"]}
    assert [(r.general_items_wrong, r.general_items_expected, r.general_items_right) for r in stored] == [
        (3, 2 * ITEMS, 2 * ITEMS - 3),
        (0, 2 * ITEMS, 2 * ITEMS),
    ]
    assert (overall["general_items"].x, overall["general_items"].n) == (4 * ITEMS - 3, 4 * ITEMS)
    assert (overall["floating_registration"].x, overall["floating_registration"].n) == (2, 3)
    assert (overall["floating_collected"].x, overall["floating_collected"].n) == (1, 2)
    assert (overall["floating_items"].x, overall["floating_items"].n) == (0, 1)
    assert all(r.households == 2 for r in overall.values() if r.key != "floating_items")
    # A household whose floating persons were all found unregistered counts in 人来登记率 only.
    assert overall["floating_items"].households == 2  # the second household counts there with nobody to count
    assert (
        stored[0].defective is True
    )  # a registered floating person not entered is a defect of the household


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (dict(general_right=1), "inspection.general_items_wrong_required"),
        (dict(general_right=1, general_items_wrong=0), "inspection.general_items_wrong_range"),
        (dict(general_right=1, general_items_wrong=ITEMS + 1), "inspection.general_items_wrong_range"),
        (dict(general_right=2, general_items_wrong=1), "inspection.general_items_wrong_range"),
        (
            dict(general_right=2, floating_found=1, floating_registered=1),
            "inspection.floating_entered_required",
        ),
        (
            dict(general_right=2, floating_found=1, floating_registered=1, floating_entered=2),
            "inspection.count_exceeds",
        ),
    ],
)
def test_counts_that_do_not_add_up_are_refused_and_nothing_is_stored(
    world: World, answer: dict[str, int], code: str
) -> None:
    plan_id, sampled = _drawn(world, 3)
    data = ResultCreate.model_validate(
        {"persons_registered": 2, "persons_present": 2, "main_right": 2, "count_matches": True, **answer}
    )
    with world.session() as session, pytest.raises(ValidationFailed) as caught:
        service.record_result(session, world.ctx(session, "inspector_zhao"), plan_id, sampled[0], data)
    assert caught.value.code == code
    assert _results(world) == 0


def test_the_target_is_read_in_three_and_a_100_percent_target_is_never_shown_met() -> None:
    assert rules.target_reading(rules.wilson(1000, 1000), 0.98) == "met"
    assert rules.target_reading(rules.wilson(50, 50), 1.0) == "undecided"
    assert rules.target_reading(rules.wilson(49, 50), 1.0) == "missed"
    assert rules.target_reading(rules.wilson(90, 100), 0.98) == "missed"
    assert rules.target_reading(rules.wilson(97, 100), 0.98) == "undecided"
    assert rules.RATES["general_items"][4] == 0.98
    assert all(target == 1.0 for key, (*_f, target) in rules.RATES.items() if key != "general_items")


def test_the_command_line_takes_the_items_wrong_and_the_age_bands(world: World, db_url: str) -> None:
    plan_id, sampled = _drawn(world, 3)
    env = {"LIANGSHI_DATABASE_URL": db_url}
    runner = CliRunner()
    base = ["inspect", "result", str(plan_id), str(sampled[0]), "--registered", "2", "--present", "2"]
    base += ["--main", "2", "--general", "1", "--as", "inspector_zhao", "--json"]
    refused = runner.invoke(app, base, env=env)
    assert refused.exit_code == 2 and "inspection.general_items_wrong_required" in refused.output
    bad_band = runner.invoke(app, [*base, "--general-wrong", "1", "--band", "18-34:2"], env=env)
    assert bad_band.exit_code == 2 and "inspection.band_format" in bad_band.output
    assert _results(world) == 0
    bands = ["--band", "18-34:1:1:0", "--band", "60+:1:1:0"]
    done = runner.invoke(app, [*base, "--general-wrong", "1", *bands], env=env)
    assert done.exit_code == 0, done.output
    read = json.loads(done.stdout)
    assert read["general_items_right"] == 2 * ITEMS - 1
    assert [b["age_band"] for b in read["bands"]] == ["18-34", "60+"]
    table = runner.invoke(app, ["inspect", "rates", str(plan_id), "--as", "inspector_zhao"], env=env)
    assert table.exit_code == 0 and "未达标" in table.stdout and "未能判定" in table.stdout


def test_the_migration_counts_the_items_it_can_and_leaves_the_others_unknown(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine)
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, MIGRATION.down_revision)
    # The rows below have no plan, lot or sample: written and migrated without the foreign keys the app turns on.
    bare = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with bare.connect() as conn:
        for i, (present, general, floating) in enumerate([(2, 2, 1), (2, 1, 0), (0, 0, 0)], start=1):
            conn.execute(
                text(
                    "INSERT INTO inspection_results (id, sample_id, lot_id, county_code, inspected_at,"
                    " persons_registered, persons_present, main_right, general_right, floating_found,"
                    " floating_registered, floating_right, persons_missed, count_matches, defective)"
                    " VALUES (:i, :i, 1, '420704', '2026-11-02 00:00:00', 2, :p, :p, :g, :f, :f, :f, 0, 1, 0)"
                ),
                {"i": i, "p": present, "g": general, "f": floating},
            )
        conn.commit()
    with bare.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, MIGRATION.revision)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT general_items_wrong, general_items_expected, general_items_right, floating_entered"
                " FROM inspection_results ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(0, 10, 10, 1), (None, None, None, 0), (0, 0, 0, 0)]
    with bare.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, MIGRATION.down_revision)
    bare.dispose()
    with engine.connect() as conn:
        columns = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(inspection_results)")]
        count = conn.exec_driver_sql("SELECT COUNT(*) FROM inspection_results").scalar_one()
    assert "floating_entered" not in columns and "general_items_right" not in columns and count == 3
    engine.dispose()
