"""Who may submit a department's batch: every role, over HTTP and through `liangshi import … --source DEPT`
(issue 12, "Behaviour").

The expected table is the specification, written out literally. A batch writes register persons (the values
the department provides; a record nobody holds goes to the master person index, which may register a person).
A department's own liaison submits under its agreement (the agreement names the fields); a district or city
administrator may submit on a department's behalf under their role (`department.manage`, and their role must
write persons and link records); every other role is refused before anything is written — no batch record, no
exchange log entry, no audit entry, no row in any table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi import history
from liangshi.access import rules as access_rules
from liangshi.cli.main import app
from liangshi.db import Base
from liangshi.departments.models import DepartmentBatch
from liangshi.mpi.models import PersonSourceRecord
from liangshi.persons import service as persons
from tests import factories
from tests.conftest import World
from tests.departments.helpers import csv_bytes, department, person

# persona -> (role, expected status, expected error code or None)
EXPECTED: dict[str, tuple[str, int, str | None]] = {
    "collector_zhang": ("collector", 403, "access.forbidden"),
    "police_liu": ("community_police", 403, "access.forbidden"),
    "station_admin_li": ("station_admin", 403, "access.forbidden"),
    "district_admin_chen": ("district_admin", 201, None),
    "city_admin_wang": ("city_admin", 201, None),
    "health_liaison_wang": ("department_liaison", 201, None),  # the health department's own liaison
    "inspector_zhao": ("inspector", 403, "access.forbidden"),
    "auditor_sun": ("auditor", 403, "access.forbidden"),
}
PHONE = "13812345678"


def counts(world: World) -> dict[str, int]:
    """Rows in every table of the schema."""
    with world.session() as s:
        return {
            t.name: int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables
        }


def _batch(world: World) -> tuple[int, bytes]:
    """The health department with its agreement, a registered person, and a batch: their phone, and a record
    of somebody the register does not hold (so the master person index is asked too)."""
    department(world)
    pid, number = person(world)
    unknown = factories.make_id("420704", dt.date(1985, 5, 5), 777)
    return pid, csv_bytes([["证件号码", "联系电话"], [number, PHONE], [unknown, "13900000000"]])


def _upload(client: TestClient, headers: dict[str, str], content: bytes) -> Any:
    return client.post(
        "/departments/health/batches",
        files={"file": ("health.csv", content, "text/csv")},
        data={"kind": "persons"},
        headers=headers,
    )


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_batch_permission_over_http(world: World, client: TestClient, login: Any, persona: str) -> None:
    role, status, code = EXPECTED[persona]
    with world.session() as s:
        assert world.actor(s, persona).role == role
    pid, content = _batch(world)
    headers = login(persona)
    before = counts(world)
    r = _upload(client, headers, content)
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["error"]["code"] == code
        assert counts(world) == before  # no batch record, no log entry, no audit entry, no row anywhere
        return
    assert (r.json()["matched"], r.json()["applied"]) == (1, 1)
    after = counts(world)
    assert after[DepartmentBatch.__tablename__] == before[DepartmentBatch.__tablename__] + 1
    assert after[PersonSourceRecord.__tablename__] == before[PersonSourceRecord.__tablename__] + 1
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, pid).phone == "+86" + PHONE


def test_a_liaison_of_another_department_is_refused_and_nothing_is_written(
    world: World, client: TestClient, login: Any
) -> None:
    _, content = _batch(world)
    department(world, "justice")
    from liangshi.access import service as access
    from liangshi.access.service import SYSTEM
    from tests.conftest import PASSWORD

    with world.session() as s:
        access.create_user(
            s,
            username="justice_liaison_he",
            display_name="justice_liaison_he",
            password=PASSWORD,
            role="department_liaison",
            area_code="420704",
            department="justice",
            actor=SYSTEM,
            now=world.clock.now(),
        )
    headers = login("justice_liaison_he")
    before = counts(world)
    r = _upload(client, headers, content)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "department.not_yours")
    assert counts(world) == before


def test_an_administrator_whose_role_may_not_write_persons_is_refused_before_the_batch_is_recorded(
    world: World, client: TestClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No role of today's table manages departments without writing persons: take the right away to see that a
    # batch submitted on a department's behalf is refused as a whole by the role's write permission.
    _, content = _batch(world)
    headers = login("district_admin_chen")
    before = counts(world)
    for missing in ("person.write", "person.link"):
        reduced = access_rules.PERMISSIONS["district_admin"] - {missing}
        with monkeypatch.context() as m:
            m.setitem(access_rules.PERMISSIONS, "district_admin", reduced)
            r = _upload(client, headers, content)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "access.forbidden"
        assert r.json()["error"]["data"]["action"] == missing
        assert counts(world) == before


@pytest.mark.parametrize("persona", ["auditor_sun", "inspector_zhao", "collector_zhang"])
def test_a_refused_department_feed_on_the_command_line_exits_2_and_writes_nothing(
    world: World, db_url: str, tmp_path: Path, persona: str
) -> None:
    _, content = _batch(world)
    feed = tmp_path / "health.csv"
    feed.write_bytes(content)
    before = counts(world)
    result = CliRunner().invoke(
        app,
        ["import", "persons", str(feed), "--source", "health", "--as", persona],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 2, result.output
    assert "access.forbidden" in result.output
    assert counts(world) == before


def test_the_liaisons_feed_on_the_command_line_is_accepted(world: World, db_url: str, tmp_path: Path) -> None:
    pid, content = _batch(world)
    feed = tmp_path / "health.csv"
    feed.write_bytes(content)
    result = CliRunner().invoke(
        app,
        ["import", "persons", str(feed), "--source", "health", "--as", "health_liaison_wang"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert "applied 1" in result.output
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, pid).phone == "+86" + PHONE
        batch = s.execute(select(DepartmentBatch)).scalar_one()
        assert batch.actor_name == "health_liaison_wang"
