"""Campaign pages, bad input: returning work without a reason, reassigning to nobody; the page comes back with the
error beside the form and nothing is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.campaign import organisation, rules
from liangshi.campaign.models import Assignment
from liangshi.campaign.schemas import AssignmentCreate
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.conftest import csrf_of


def _assigned(world: World) -> tuple[int, int]:
    with world.session() as session:
        factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
        ctx = world.ctx(session, "station_admin_li")
        c = organisation.create_campaign(
            session,
            ctx,
            rules.parse_campaign({"name": "采集", "area": "420704001", "starts_on": "2026-11-01"}),
        )
        a = organisation.assign(
            session,
            ctx,
            c.id,
            AssignmentCreate(
                collector="collector_zhang", unit="community", area_code=INSIDE, due_on=dt.date(2026, 12, 20)
            ),
        )
        return c.id, a.id


def test_returning_work_without_a_reason_keeps_it_and_says_why(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    campaign_id, assignment_id = _assigned(world)
    collector = web_as("collector_zhang")
    page = collector.get(f"/web/campaigns/{campaign_id}")
    r = collector.post(
        f"/web/assignments/{assignment_id}/return", data={"csrf_token": csrf_of(page.text), "reason": " "}
    )
    assert r.status_code == 422, r.text[:300]
    assert 'data-testid="form-error"' in r.text
    with world.session() as session:
        assert session.execute(select(Assignment.status)).scalar_one() == "open"


def test_reassigning_to_an_unknown_collector_keeps_the_work_and_says_why(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    campaign_id, assignment_id = _assigned(world)
    admin = web_as("station_admin_li")
    page = admin.get(f"/web/campaigns/{campaign_id}")
    r = admin.post(
        f"/web/assignments/{assignment_id}/reassign",
        data={"csrf_token": csrf_of(page.text), "collector": "nobody_here"},
    )
    assert r.status_code == 422, r.text[:300]
    assert 'data-testid="form-error"' in r.text
    zhang = _user_id(world, "collector_zhang")
    with world.session() as session:
        a = session.execute(select(Assignment)).scalar_one()
        assert a.status == "open" and a.collector_id == zhang


def _user_id(world: World, username: str) -> int:
    from liangshi.access.models import User  # the check compares the assignment's collector by id

    with world.session() as session:
        return int(session.execute(select(User.id).where(User.username == username)).scalar_one())
