"""`liangshi review list / approve / return` against the test database."""

from __future__ import annotations

import datetime as dt
import json

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
