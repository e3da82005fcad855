"""Who may act on the master person index: every role × every action (issue 12, "Behaviour").

The expected table is the specification, written out literally. Every action needs `person.link`; a forced
merge needs `person.link_force` too; resolving a source's records also registers persons, so it needs
`person.write` as well (a department feed resolves with the writer its agreement authorises). A refused action
raises `access.forbidden` naming the missing permission before anything is written: not one row in any table,
review queue and source records included. Each use case is checked in the service for every role, and the
entry points (API, `liangshi link persons --as`, the review web page) for a sample of refused roles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liangshi.cli.main import app as cli
from liangshi.db import Base
from liangshi.errors import Forbidden
from liangshi.mpi import service
from liangshi.mpi.models import MatchReview, PersonLinkEvent, PersonSourceRecord
from liangshi.registry import Context
from tests import factories
from tests.conftest import INSIDE, World
from tests.mpi.helpers import bare_person, rec
from tests.web.conftest import csrf_of, form_login

# ---------------------------------------------------------------------------------------------------------
# The specification
# ---------------------------------------------------------------------------------------------------------

PERSONA_ROLES: dict[str, str] = {
    "collector_zhang": "collector",
    "police_liu": "community_police",
    "station_admin_li": "station_admin",
    "district_admin_chen": "district_admin",
    "city_admin_wang": "city_admin",
    "health_liaison_wang": "department_liaison",
    "inspector_zhao": "inspector",
    "auditor_sun": "auditor",
    "housing_officer_he": "housing_officer",
}
ACTIONS = ("resolve", "link_persons", "decide", "merge", "merge_force", "split", "undo")

# Y: allowed; otherwise the permission whose lack refuses it.
EXPECTED_TABLE = """
role                resolve      link_persons decide       merge        merge_force       split        undo
collector           person.link  person.link  person.link  person.link  person.link       person.link  person.link
community_police    Y            Y            Y            Y            person.link_force Y            Y
station_admin       Y            Y            Y            Y            Y                 Y            Y
district_admin      Y            Y            Y            Y            Y                 Y            Y
city_admin          Y            Y            Y            Y            Y                 Y            Y
department_liaison  person.link  person.link  person.link  person.link  person.link       person.link  person.link
inspector           person.link  person.link  person.link  person.link  person.link       person.link  person.link
auditor             person.link  person.link  person.link  person.link  person.link       person.link  person.link
housing_officer     person.link  person.link  person.link  person.link  person.link       person.link  person.link
"""


def _parse(table: str) -> dict[str, dict[str, str]]:
    header, *lines = [line.split() for line in table.strip().splitlines()]
    assert tuple(header[1:]) == ACTIONS
    return {role: dict(zip(ACTIONS, cells, strict=True)) for role, *cells in lines}


EXPECTED = _parse(EXPECTED_TABLE)
BORN = dt.date(1990, 1, 1)


def counts(world: World) -> dict[str, int]:
    """Rows in every table of the schema."""
    with world.session() as s:
        return {
            t.name: int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables
        }


# ---------------------------------------------------------------------------------------------------------
# Each action on a fresh target made by the system operator: prepare() -> target, act(session, ctx, target)
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Action:
    """How to set an action up and do it, and what an allowed one leaves behind."""

    prepare: Callable[[World], Any]
    act: Callable[[Session, Context, Any], Any]
    done: Callable[[World, Any], None]


def _numbered(world: World, name: str, seq: int) -> tuple[int, str]:
    number = factories.make_id("420704", BORN, seq)
    with world.session() as s:
        pid = factories.person(
            s, world.ctx(s), area_id=world.area(INSIDE), name=name, birth=BORN, id_number=number
        )
    return pid, number


def _twins(world: World, name: str = "陈静") -> tuple[int, int]:
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        return (bare_person(s, ctx, area_id=area, name=name), bare_person(s, ctx, area_id=area, name=name))


def _review(world: World) -> int:
    """A pending review: a health record named like a register person, no ID number."""
    with world.session() as s:
        ctx = world.ctx(s)
        factories.person(s, ctx, area_id=world.area(INSIDE), name="赵六", birth=BORN)
        service.resolve(
            s, ctx, [rec("r1", name="赵六")], source="health", batch_ref="b0", area_id=world.area(INSIDE)
        )
        return int(s.execute(select(MatchReview.id)).scalar_one())


def _split_target(world: World) -> tuple[int, int]:
    pid, number = _numbered(world, "郑十", 301)
    with world.session() as s:
        service.resolve(
            s,
            world.ctx(s),
            [
                rec("s1", name="郑十", id_number=number),
                rec("s2", name="郑十", phone="13900001111", id_number=number),
            ],
            source="health",
            batch_ref="b0",
            area_id=world.area(INSIDE),
        )
        pk = s.execute(select(PersonSourceRecord.id).where(PersonSourceRecord.source_record_id == "s2"))
        return pid, int(pk.scalar_one())


def _different_ids(world: World) -> tuple[int, int]:
    """Two persons of one name with different valid ID numbers: only a forced merge joins them."""
    return _numbered(world, "孙甲", 401)[0], _numbered(world, "孙甲", 403)[0]


def _merged(world: World) -> int:
    keep, other = _twins(world, "孙甲")
    with world.session() as s:
        return int(service.merge(s, world.ctx(s), keep, other, reason="重复登记").id)


def _count(world: World, model: Any, *where: Any) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


ACTS: dict[str, Action] = {
    "resolve": Action(
        lambda w: _numbered(w, "王芳", 201),
        lambda s, ctx, t: service.resolve(
            s, ctx, [rec("h1", name="王芳", id_number=t[1])], source="health", batch_ref="b1"
        ),
        lambda w, t: (
            None
            if _count(w, PersonSourceRecord, PersonSourceRecord.person_id == t[0]) == 1
            else pytest.fail()
        ),
    ),
    "link_persons": Action(
        _twins,
        lambda s, ctx, t: service.link_persons(s, ctx, county="420704"),
        lambda w, t: None if _count(w, MatchReview, MatchReview.status == "pending") == 1 else pytest.fail(),
    ),
    "decide": Action(
        _review,
        lambda s, ctx, t: service.decide(s, ctx, t, decision="distinct", reason="电话核实，非同一人"),
        lambda w, t: None if _count(w, MatchReview, MatchReview.status == "distinct") == 1 else pytest.fail(),
    ),
    "merge": Action(
        _twins,
        lambda s, ctx, t: service.merge(s, ctx, t[0], t[1], reason="同一人重复登记"),
        lambda w, t: None if _count(w, PersonLinkEvent) == 1 else pytest.fail(),
    ),
    "merge_force": Action(
        _different_ids,
        lambda s, ctx, t: service.merge(s, ctx, t[0], t[1], reason="证件登记错误，已核实", force=True),
        lambda w, t: (
            None if _count(w, PersonLinkEvent, PersonLinkEvent.forced.is_(True)) == 1 else pytest.fail()
        ),
    ),
    "split": Action(
        _split_target,
        lambda s, ctx, t: service.split(s, ctx, t[0], source_record_ids=[t[1]], reason="双胞胎，误合"),
        lambda w, t: None if _count(w, PersonLinkEvent) == 1 else pytest.fail(),
    ),
    "undo": Action(
        _merged,
        lambda s, ctx, t: service.undo(s, ctx, t, reason="合并错误"),
        lambda w, t: (
            None if _count(w, PersonLinkEvent, PersonLinkEvent.undone_by.is_not(None)) == 1 else pytest.fail()
        ),
    ),
}


def test_the_specification_covers_every_role() -> None:
    from liangshi.access.rules import ROLES

    assert set(EXPECTED) == set(ROLES) == set(PERSONA_ROLES.values())
    assert set(ACTS) == set(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", list(PERSONA_ROLES))
def test_mpi_permission(world: World, persona: str, action: str) -> None:
    spec = ACTS[action]
    target = spec.prepare(world)
    expected = EXPECTED[PERSONA_ROLES[persona]][action]
    before = counts(world)
    if expected == "Y":
        with world.session() as s:
            spec.act(s, world.ctx(s, persona), target)
        spec.done(world, target)
        return
    with world.session() as s, pytest.raises(Forbidden) as refused:
        spec.act(s, world.ctx(s, persona), target)
    assert (refused.value.code, refused.value.data["action"]) == ("access.forbidden", expected)
    assert counts(world) == before  # nothing written: no person, record, review, event or audit entry


# ---------------------------------------------------------------------------------------------------------
# The entry points
# ---------------------------------------------------------------------------------------------------------

REFUSED_SAMPLE = ("collector_zhang", "health_liaison_wang", "inspector_zhao", "auditor_sun")


@pytest.mark.parametrize("persona", REFUSED_SAMPLE)
def test_the_api_refuses_decisions_splits_and_undo_and_writes_nothing(
    world: World, client: TestClient, login: Any, persona: str
) -> None:
    review_id = _review(world)
    pid, pk = _split_target(world)
    event_id = _merged(world)
    headers = login(persona)
    before = counts(world)
    calls = [
        (f"/mpi/reviews/{review_id}/decision", {"decision": "distinct", "reason": "核实"}),
        (f"/persons/{pid}/split", {"source_record_ids": [pk], "reason": "误合"}),
        (f"/mpi/events/{event_id}/undo", {"reason": "合并错误"}),
    ]
    for url, body in calls:
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == 403, (url, r.text)
        assert r.json()["error"]["code"] == "access.forbidden"
    assert counts(world) == before


@pytest.mark.parametrize("persona", REFUSED_SAMPLE)
def test_link_persons_as_a_refused_user_exits_2_and_queues_nothing(
    world: World, db_url: str, persona: str
) -> None:
    _twins(world)
    before = counts(world)
    result = CliRunner().invoke(
        cli, ["link", "persons", "--as", persona], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 2, result.output
    assert "access.forbidden" in result.output and "person.link" in result.output
    assert counts(world) == before


def test_link_persons_as_a_community_officer_queues_within_the_jurisdiction(
    world: World, db_url: str
) -> None:
    _twins(world)
    result = CliRunner().invoke(
        cli, ["link", "persons", "--as", "police_liu", "--json"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    assert '"queued": 1' in result.stdout
    with world.session() as s:
        review = s.execute(select(MatchReview)).scalar_one()
        assert review.status == "pending"


def test_link_persons_as_an_unknown_user_exits_2(world: World, db_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["link", "persons", "--as", "nobody"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 2 and "user.not_found" in result.output


@pytest.mark.parametrize("persona", REFUSED_SAMPLE)
def test_the_review_page_refuses_a_decision_and_writes_nothing(world: World, app: Any, persona: str) -> None:
    review_id = _review(world)
    client = TestClient(app, follow_redirects=False)
    assert form_login(client, persona).status_code == 303
    token = csrf_of(client.get("/web/").text)
    before = counts(world)
    r = client.post(
        f"/web/reviews/{review_id}", data={"decision": "distinct", "reason": "核实", "csrf_token": token}
    )
    assert r.status_code == 403
    assert counts(world) == before
    with world.session() as s:
        assert s.get(MatchReview, review_id).status == "pending"  # type: ignore[union-attr]
