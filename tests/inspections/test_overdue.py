"""An overdue rectification item: the deadline counts working days across a weekend, and the 通报 list shows the
item overdue in the service, the API, the web page and `liangshi inspect notices` until it is fixed and passes
its re-inspection.

The clock moves: the service and the CLI read it through the test's World and `liangshi.cli.common.Clock`, the
API and the web pages through the app built on it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from liangshi.cli import common
from liangshi.cli.main import app as cli
from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.http.app import create_app
from liangshi.inspections import rules, service
from liangshi.inspections.models import Rectification
from liangshi.residence import calendar
from tests.conftest import INSIDE, NOW, PASSWORD, World
from tests.inspections.test_service import _households, _plan, _wrong
from tests.web.conftest import form_login

runner = CliRunner()
FRIDAY = NOW.date()  # Friday 27 November 2026: the lot is rejected and its items opened
DUE = dt.date(2026, 12, 2)  # three working days on: Monday 30, Tuesday 1, Wednesday 2 December


class Moving:
    """A clock the test moves: every reader asks it for now."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def to(self, day: dt.date) -> None:
        """Move to this day at the time of day the tests start from (10:00 in China)."""
        self.at = NOW + dt.timedelta(days=(day - FRIDAY).days)

    def clock(self) -> Clock:
        return Clock(lambda: self.at)


@pytest.fixture
def moving(world: World, monkeypatch: pytest.MonkeyPatch) -> Moving:
    state = Moving(NOW)
    world.clock = state.clock()
    monkeypatch.setattr(common, "Clock", state.clock)
    return state


@pytest.fixture
def http(world: World, engine: Engine, moving: Moving) -> TestClient:
    app = create_app(Settings(database_url="sqlite://"), clock=moving.clock(), engine=engine)
    return TestClient(app, follow_redirects=False)


def _open_items(world: World, db_url: str, http: TestClient, username: str) -> dict[str, dict[int, bool]]:
    """Item id → overdue, as each face of the 通报 list shows the open items today."""
    with world.session() as session:
        listed = service.notices(session, world.ctx(session, username))
    faces = {"service": {i.id: i.overdue for i in listed}}
    token = http.post("/auth/token", json={"username": username, "password": PASSWORD}).json()["access_token"]
    r = http.get("/inspections/rectifications", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    faces["api"] = {i["id"]: i["overdue"] for i in r.json()}
    http.cookies.clear()
    assert form_login(http, username).status_code == 303
    page = http.get("/web/rectifications")
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr data-item="(\d+)">(.*?)</tr>', page.text, flags=re.S)
    faces["web"] = {int(i): 'data-testid="overdue"' in row for i, row in rows}
    env = {"LIANGSHI_DATABASE_URL": db_url}
    shown = runner.invoke(cli, ["inspect", "notices", "--as", username, "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    faces["cli"] = {i["id"]: i["overdue"] for i in json.loads(shown.stdout)}
    return faces


def _same_everywhere(faces: dict[str, dict[int, bool]]) -> dict[int, bool]:
    assert faces["api"] == faces["service"] and faces["web"] == faces["service"], faces
    assert faces["cli"] == faces["service"], faces
    return faces["service"]


def test_an_overdue_item_shows_overdue_everywhere_until_fixed_and_reinspected(
    world: World, db_url: str, moving: Moving, http: TestClient
) -> None:
    entered = _households(world, INSIDE, 3, "collector_zhang")
    with world.session() as session:
        plan = service.create_plan(
            session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01, rectify_days=3)
        )
    (lot,) = plan.lots
    assert lot.model == "full" and lot.ac == 0
    for household_id in entered[:2]:
        with world.session() as session:
            service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, _wrong()
            )
    with world.session() as session:
        items = list(session.execute(select(Rectification).order_by(Rectification.id)).scalars())
        first, second = (i.id for i in items)
    assert [(i.household_id, i.opened_on, i.due_on, i.status) for i in items] == [
        (entered[0], FRIDAY, DUE, "open"),
        (entered[1], FRIDAY, DUE, "open"),
    ]
    # Three working days from a Friday skip the weekend: five calendar days, three working days.
    assert FRIDAY.weekday() == 4 and (DUE - FRIDAY).days == 5
    assert calendar.working_days_between(FRIDAY, DUE, calendar.default_calendar()) == 3
    assert rules.add_working_days(FRIDAY, 3, calendar.default_calendar().is_working_day) == DUE

    # Counted in calendar days the items would be overdue from Tuesday; in working days they are due Wednesday.
    for day in (FRIDAY, dt.date(2026, 11, 28), dt.date(2026, 11, 30), dt.date(2026, 12, 1), DUE):
        moving.to(day)
        for username in ("station_admin_li", "collector_zhang"):
            shown = _same_everywhere(_open_items(world, db_url, http, username))
            assert shown == {first: False, second: False}, (day, username)

    moving.to(dt.date(2026, 12, 3))  # Thursday: the day after the due date
    shown = _same_everywhere(_open_items(world, db_url, http, "station_admin_li"))
    assert shown == {first: True, second: True}
    assert _same_everywhere(_open_items(world, db_url, http, "collector_zhang")) == shown
    env = {"LIANGSHI_DATABASE_URL": db_url, "COLUMNS": "200"}
    table = runner.invoke(cli, ["inspect", "notices", "--as", "station_admin_li"], env=env)
    assert table.exit_code == 0 and table.stdout.count("逾期 overdue") == 2 and "2026-12-02" in table.stdout

    # The owner reports the first item rectified: it stays on the list (and overdue) until it passes re-inspection.
    fixed = runner.invoke(cli, ["inspect", "fix", str(first), "--as", "collector_zhang", "--json"], env=env)
    assert fixed.exit_code == 0, fixed.output
    assert {k: json.loads(fixed.stdout)[k] for k in ("status", "fixed_on", "overdue")} == {
        "status": "fixed",
        "fixed_on": "2026-12-03",
        "overdue": True,
    }
    assert _same_everywhere(_open_items(world, db_url, http, "station_admin_li")) == {
        first: True,
        second: True,
    }
    # A failed re-inspection opens it again, still overdue; fixed again, it passes and leaves the list.
    failed = runner.invoke(
        cli, ["inspect", "reinspect", str(first), "--failed", "--as", "inspector_zhao"], env=env
    )
    assert failed.exit_code == 0 and "复查未通过" in failed.stdout and "逾期 overdue" in failed.stdout
    moving.to(dt.date(2026, 12, 7))  # the Monday after
    again = runner.invoke(cli, ["inspect", "fix", str(first), "--as", "collector_zhang"], env=env)
    assert again.exit_code == 0 and "待复查" in again.stdout, again.output
    passed = runner.invoke(
        cli, ["inspect", "reinspect", str(first), "--passed", "--as", "inspector_zhao", "--json"], env=env
    )
    assert passed.exit_code == 0, passed.output
    read = json.loads(passed.stdout)
    assert (read["status"], read["overdue"], read["fixed_on"], read["reinspected_on"]) == (
        "closed",
        False,
        "2026-12-07",
        "2026-12-07",
    )
    for username in ("station_admin_li", "collector_zhang"):
        assert _same_everywhere(_open_items(world, db_url, http, username)) == {second: True}
    closed = runner.invoke(
        cli, ["inspect", "notices", "--all", "--as", "station_admin_li", "--json"], env=env
    )
    listed = {i["id"]: (i["status"], i["overdue"]) for i in json.loads(closed.stdout)}
    assert listed == {first: ("closed", False), second: ("open", True)}


def _login_token(http: TestClient, username: str) -> Any:
    r = http.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _one_item_due_monday(world: World) -> None:
    """A rejected lot on Friday opens one item, owned by collector_zhang, due one working day on (Monday)."""
    entered = _households(world, INSIDE, 2, "collector_zhang")
    with world.session() as session:
        plan = service.create_plan(
            session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01, rectify_days=1)
        )
        service.record_result(session, world.ctx(session, "inspector_zhao"), plan.id, entered[0], _wrong())


def test_the_api_fixes_and_reinspects_an_overdue_item_on_the_moved_clock(
    world: World, moving: Moving, http: TestClient
) -> None:
    _one_item_due_monday(world)
    # One working day from Friday is Monday 30 November; on Tuesday the item is overdue.
    moving.to(dt.date(2026, 12, 1))
    owner = _login_token(http, "collector_zhang")
    (item,) = http.get("/inspections/rectifications", headers=owner).json()
    assert (item["due_on"], item["overdue"]) == ("2026-11-30", True)
    r = http.post(f"/inspections/rectifications/{item['id']}/fix", headers=owner)
    assert r.status_code == 200 and r.json()["status"] == "fixed" and r.json()["overdue"] is True
    inspector = _login_token(http, "inspector_zhao")
    r = http.post(
        f"/inspections/rectifications/{item['id']}/reinspect", json={"passed": True}, headers=inspector
    )
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["overdue"] is False
    assert http.get("/inspections/rectifications", headers=owner).json() == []


def test_the_inspector_finds_the_items_to_reinspect_on_the_web_list_and_cannot_report_them_fixed(
    world: World, moving: Moving, http: TestClient
) -> None:
    _one_item_due_monday(world)
    assert form_login(http, "inspector_zhao").status_code == 303
    page = http.get("/web/rectifications")
    assert page.status_code == 200 and 'href="/web/rectifications"' in page.text
    (item_id,) = (int(i) for i in re.findall(r'<tr data-item="(\d+)">', page.text))
    assert f"/web/rectifications/{item_id}/fix" not in page.text  # the owner's to report, not the inspector's
    with world.session() as session:
        service.fix_rectification(session, world.ctx(session, "collector_zhang"), item_id)
    page = http.get("/web/rectifications")
    assert f"/web/rectifications/{item_id}/reinspect" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    done = http.post(
        f"/web/rectifications/{item_id}/reinspect", data={"csrf_token": csrf.group(1), "passed": "yes"}
    )
    assert done.status_code == 303
    with world.session() as session:
        assert session.get(Rectification, item_id).status == "closed"  # type: ignore[union-attr]
    refused = http.post(f"/web/rectifications/{item_id}/fix", data={"csrf_token": csrf.group(1)})
    assert refused.status_code == 403
