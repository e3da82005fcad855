"""`liangshi review list / approve / return` against the test database."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from typer.testing import CliRunner

from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling
from liangshi.cli.main import app
from liangshi.common.types import validation_context
from liangshi.registry.changesets import ChangeSet
from tests import factories
from tests.conftest import INSIDE, World

runner = CliRunner()


def _two_proposals(world: World) -> list[int]:
    with world.session() as session:
        place = factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
        ctx = world.ctx(session, "collector_zhang")
        ids = []
        for seq, name in ((21, "钱一"), (23, "孙二")):
            data = PersonAtDwelling.model_validate(
                {
                    "name": name,
                    "id_number": factories.make_id("420704", dt.date(1985, 3, 4), seq=seq),
                    "arrival_date": "2026-10-01",
                },
                context=validation_context(dt.date(2026, 11, 27)),
            )
            ids.append(campaign.add_person_at_dwelling(session, ctx, place.dwelling_id, data).id)
        return ids


def test_review_from_the_command_line(world: World, db_url: str) -> None:
    first, second = _two_proposals(world)
    env = {"LIANGSHI_DATABASE_URL": db_url}
    listed = runner.invoke(app, ["review", "list", "--as", "station_admin_li", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.output)
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [first, second]

    blank = runner.invoke(
        app, ["review", "return", str(second), "--reason", " ", "--as", "station_admin_li"], env=env
    )
    assert blank.exit_code == 2 and "changeset.reason_required" in blank.output
    returned = runner.invoke(
        app, ["review", "return", str(second), "--reason", "姓名有误", "--as", "station_admin_li"], env=env
    )
    assert returned.exit_code == 0, returned.output

    approved = runner.invoke(app, ["review", "approve", str(first), "--as", "station_admin_li"], env=env)
    assert approved.exit_code == 0 and f"{first}: approved" in approved.output
    again = runner.invoke(app, ["review", "approve", str(first), "--as", "station_admin_li"], env=env)
    assert again.exit_code == 2 and "changeset.already_approved" in again.output
    own = runner.invoke(app, ["review", "approve", str(second), "--as", "collector_zhang"], env=env)
    assert own.exit_code == 2 and "access.forbidden" in own.output
    with world.session() as session:
        assert session.get(ChangeSet, first).status == "approved"
        assert session.get(ChangeSet, second).status == "returned"


def test_department_records_are_claimed_from_the_command_line(world: World, db_url: str) -> None:
    """Issue 14: the claims of department records (认领) from the CLI: claimed, elsewhere, duplicate and undo."""
    from liangshi.persons.models import PersonVersion
    from liangshi.review import service as review

    with world.session() as session:
        ctx = world.ctx(session, "health_liaison_wang")
        known = factories.person(session, world.ctx(session), area_id=world.area(INSIDE), name="何三")
        sent = [
            review.propose_claim(
                session,
                ctx,
                area_id=world.area(INSIDE),
                person={"name": name, "sex": "1", "birth_date": "1980-01-02"},
                documents=[],
                source="health",
                record_id=record_id,
            ).id
            for record_id, name in (("c1", "周甲"), ("c2", "吴乙"), ("c3", "郑丙"))
        ]
    env = {"LIANGSHI_DATABASE_URL": db_url}
    listed = runner.invoke(app, ["review", "claims", "--as", "police_liu", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert [i["id"] for i in json.loads(listed.output)] == sent
    claimed = runner.invoke(app, ["review", "claim", str(sent[0]), "claimed", "--as", "police_liu"], env=env)
    assert claimed.exit_code == 0 and f"{sent[0]}: approved" in claimed.output
    moved = runner.invoke(
        app,
        ["review", "claim", str(sent[1]), "elsewhere", "--area", "420704001002", "--as", "police_liu"],
        env=env,
    )
    assert moved.exit_code == 0, moved.output
    dup = ["review", "claim", str(sent[2]), "duplicate", "--duplicate-of", str(known), "--as", "police_liu"]
    assert runner.invoke(app, dup, env=env).exit_code == 0
    undone = runner.invoke(app, ["review", "undo-claim", str(sent[2]), "--as", "police_liu"], env=env)
    assert undone.exit_code == 0 and f"{sent[2]}: pending_claim" in undone.output
    again = runner.invoke(app, ["review", "claim", str(sent[0]), "claimed", "--as", "police_liu"], env=env)
    assert again.exit_code != 0 and "changeset.already_approved" in again.output
    unknown = runner.invoke(app, ["review", "claim", str(sent[2]), "maybe", "--as", "police_liu"], env=env)
    assert unknown.exit_code != 0 and "changeset.decision_unknown" in unknown.output
    with world.session() as session:
        names = set(session.execute(select(PersonVersion.name)).scalars())
        statuses = [session.get(ChangeSet, i).status for i in sent]  # type: ignore[union-attr]
    assert "周甲" in names and "吴乙" not in names and "郑丙" not in names
    assert statuses == ["approved", "pending_claim", "pending_claim"]
