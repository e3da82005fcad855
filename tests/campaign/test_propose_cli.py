"""`liangshi collect propose`: a collector's proposal from the command line is a change set (issue 14)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import ResidenceVersion
from tests import factories
from tests.conftest import INSIDE, World

runner = CliRunner()


def test_a_collector_proposes_an_extension_from_the_command_line(
    world: World, db_url: str, tmp_path: Path
) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        p = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵磊")
        rid = factories.arrival(s, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 5, 1))
    env = {"LIANGSHI_DATABASE_URL": db_url}
    body = tmp_path / "body.json"

    def sets() -> int:
        with world.session() as s:
            return int(s.execute(select(func.count()).select_from(ChangeSet)).scalar_one())

    body.write_text(
        json.dumps({"expected_version": 1, "intended_stay_until": "2026-04-01"}), encoding="utf-8"
    )
    args = ["collect", "propose", "extension", str(rid), "--file", str(body), "--as", "collector_zhang"]
    bad = runner.invoke(app, args, env=env)
    assert bad.exit_code == 2 and "residence.intended_stay_invalid" in bad.output
    unknown = runner.invoke(
        app, ["collect", "propose", "adoption", "1", "--file", str(body), "--as", "x"], env=env
    )
    assert unknown.exit_code == 2 and "changeset.action_unknown" in unknown.output
    assert sets() == 0
    body.write_text(
        json.dumps({"expected_version": 1, "intended_stay_until": "2028-06-30"}), encoding="utf-8"
    )
    done = runner.invoke(app, [*args, "--json"], env=env)
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert (shown["action"], shown["status"], shown["proposer"]) == (
        "extension",
        "pending_station",
        "collector_zhang",
    )
    with world.session() as s:
        until = s.execute(
            select(ResidenceVersion.intended_stay_until).where(
                ResidenceVersion.entity_id == rid, ResidenceVersion.superseded_at.is_(None)
            )
        ).scalar_one()
    assert until is None  # nothing live until the station approves
    approved = runner.invoke(
        app, ["review", "approve", str(shown["id"]), "--as", "station_admin_li"], env=env
    )
    assert approved.exit_code == 0 and f"{shown['id']}: approved" in approved.output


def test_a_collector_proposes_a_member_leaving_and_a_household_from_the_command_line(
    world: World, db_url: str, tmp_path: Path
) -> None:
    from liangshi.persons.models import Household, Membership, MembershipVersion

    with world.session() as s:
        ctx = world.ctx(s)
        p = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        head = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵磊")
        other = factories.person(s, ctx, area_id=world.area(INSIDE), name="王芳", male=False)
        hid = factories.household(
            s, ctx, area_id=world.area(INSIDE), dwelling_id=p.dwelling_id, members=[(head, "02")]
        )
        mid = s.execute(select(Membership.id).where(Membership.household_id == hid)).scalar_one()
        households = s.execute(select(func.count()).select_from(Household)).scalar_one()
    env = {"LIANGSHI_DATABASE_URL": db_url}
    body = tmp_path / "end.json"
    body.write_text(json.dumps({"expected_version": 1, "reason": "迁出"}), encoding="utf-8")
    args = [
        "collect",
        "propose",
        "member-end",
        str(mid),
        "--file",
        str(body),
        "--as",
        "collector_zhang",
        "--json",
    ]
    done = runner.invoke(app, args, env=env)
    assert done.exit_code == 0, done.output
    assert (json.loads(done.output)["action"], json.loads(done.output)["status"]) == (
        "member_end",
        "pending_station",
    )
    new = tmp_path / "household.json"
    new.write_text(
        json.dumps({"area_id": world.area(INSIDE), "members": [{"person_id": other, "relationship": "02"}]}),
        encoding="utf-8",
    )
    made = runner.invoke(
        app,
        ["collect", "propose", "household", "--file", str(new), "--as", "collector_zhang", "--json"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["action"] == "household"
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Household)).scalar_one() == households
        open_rows = s.execute(
            select(func.count())
            .select_from(MembershipVersion)
            .where(MembershipVersion.entity_id == mid, MembershipVersion.valid_to.is_(None))
        ).scalar_one()
    assert open_rows == 1  # nothing live until the station approves
