"""The feed out delivers every committed version row exactly once, whatever order writers took their clock in.

`recorded_at` is read when a writing request starts; a writer that took it earlier may commit later (on SQLite while
waiting for the write lock, on PostgreSQL concurrently). A cursor in record time would skip its rows."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from liangshi import registry
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.errors import ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import DocumentVersion, PersonVersion
from liangshi.persons.schemas import DocumentIn, PersonCreate
from liangshi.registry import Context, history
from tests import factories
from tests.conftest import INSIDE, NOW, World
from tests.departments.helpers import department, person

PRECEDENCE = rules.load_precedence()
Row = tuple[str, int]  # kind, row id


def _pull(world: World, *, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    with world.session() as s:
        ctx = world.ctx(s, "health_liaison_wang")
        return departments.pull_changes(s, ctx, department="health", cursor=cursor, limit=limit)


def _drain(world: World, *, limit: int = 100) -> list[Row]:
    """Pull (resuming after the last pull) until nothing more is waiting; every delivered row in order."""
    got: list[Row] = []
    while True:
        page = _pull(world, limit=limit)
        got += [(i["kind"], i["row_id"]) for i in page["items"]]
        if not page["has_more"]:
            return got


def _rows_since(world: World, moment: dt.datetime) -> set[Row]:
    """The person and document version rows (the kinds health reads) recorded after a moment."""
    with world.session() as s:
        return {
            (kind, int(row_id))
            for kind, v in (("person", PersonVersion), ("document", DocumentVersion))
            for row_id in s.execute(select(v.row_id).where(v.recorded_at > moment)).scalars()
        }


def _at(ctx: Context, moment: dt.datetime) -> Context:
    return dataclasses.replace(ctx, now=moment)


def _rename(world: World, person_id: int, name: str, moment: dt.datetime) -> None:
    with world.session() as s:
        ent = s.get(persons.PERSON.entity, person_id)
        registry.change(
            s,
            _at(world.ctx(s, "police_liu"), moment),
            persons.PERSON,
            person_id,
            {"name": name},
            expected_version=ent.version,
            effective=None,
            prov=history.Provenance(),
            reason="改名",
        )


def test_a_write_stamped_before_a_pull_but_committed_after_it_is_delivered_exactly_once(world: World) -> None:
    department(world)
    a, _ = person(world)
    _, number_b = person(world, name="李娜", male=False)
    assert len(_drain(world)) == 4  # the two persons and their documents
    earlier, later = NOW + dt.timedelta(minutes=1), NOW + dt.timedelta(minutes=2)
    # The later writer: a department batch (the bulk path: executemany on SQLite, COPY on PostgreSQL).
    table = departments.FeedTable(
        "feed.csv", ["id_number", "phone"], [(2, [number_b, "13912345678"])], "0" * 64
    )
    with world.session() as s:
        ctx = _at(world.ctx(s, "health_liaison_wang"), later)
        result = departments.submit_batch(
            s, ctx, department="health", kind="persons", table=table, precedence=PRECEDENCE
        )
        assert result.applied == 1
    first = _drain(world)
    assert first and all(kind == "person" for kind, _ in first)
    # The earlier writer commits only now, after a department has pulled past `later`: ordered by record time,
    # its rows would sort behind that pull's cursor and never be delivered.
    _rename(world, a, "张伟伟", earlier)
    late_rows = _rows_since(world, NOW) - set(first)
    with world.session() as s:
        stamps = {
            r.recorded_at
            for r in s.execute(select(PersonVersion).where(PersonVersion.recorded_at > NOW)).scalars()
        }
    assert late_rows and min(stamps) == earlier < later == max(stamps)
    second = _drain(world, limit=1)  # a page at a time
    assert set(second) == late_rows
    delivered = first + second + _drain(world)
    assert len(delivered) == len(set(delivered)), "a row was delivered twice"
    assert set(delivered) == _rows_since(world, NOW)


def test_on_postgresql_a_row_of_a_transaction_still_open_at_a_pull_is_delivered_once_it_commits(
    world: World, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("two concurrent writers need PostgreSQL (SQLite serialises them; see the test above)")
    department(world)
    a, _ = person(world)
    b, _ = person(world, name="李娜", male=False)
    _drain(world)
    earlier, later = NOW + dt.timedelta(minutes=1), NOW + dt.timedelta(minutes=2)
    # Writer A takes its clock first and writes, and its transaction stays open (a real second connection).
    slow = world.sessions()
    try:
        ent = slow.get(persons.PERSON.entity, a)
        history.change(
            slow,
            persons.PERSON,
            ent,
            {"name": "张伟伟"},
            expected_version=ent.version,
            effective=NOW.date(),
            prov=history.Provenance(),
            actor_id=None,
            now=earlier,
        )
        slow.flush()
        # Writer B, later in record time, commits first; then the department pulls.
        _rename(world, b, "李娜娜", later)
        during = _drain(world)
        slow_rows = {
            ("person", r.row_id) for r in history.history(slow, persons.PERSON, a) if r.recorded_at > NOW
        }
        assert len(slow_rows) == 2 and not slow_rows & set(during)
        slow.commit()
    finally:
        slow.close()
    expected = _rows_since(world, NOW)
    delivered = list(during)
    # Other transactions on the server (any database) may hold the horizon back for a moment; never forever.
    deadline = time.monotonic() + 30
    while set(delivered) != expected and time.monotonic() < deadline:
        delivered += _drain(world)
        time.sleep(0.1)
    assert len(delivered) == len(set(delivered)), "a row was delivered twice"
    assert set(delivered) == expected and slow_rows <= expected
    assert _drain(world) == []


def test_on_postgresql_a_transaction_open_in_another_database_does_not_hold_the_feed_back(
    world: World, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("transactions of other databases exist only on a PostgreSQL server")
    import psycopg

    from tests.conftest import _pg_server_url

    department(world)
    a, _ = person(world)
    _drain(world)
    # A transaction in another database of the same server takes the newest transaction id and stays open.
    other = psycopg.connect(_pg_server_url())
    try:
        other_xid = other.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert other_xid is not None
        _rename(world, a, "张伟伟", NOW + dt.timedelta(minutes=1))
        expected = _rows_since(world, NOW)
        with world.session() as s:
            ours = {
                r.xact_id
                for r in s.execute(select(PersonVersion).where(PersonVersion.recorded_at > NOW)).scalars()
            }
        assert ours and min(ours) > other_xid[0]  # written after the other transaction took its id
        # Delivered at the first pull, without waiting for the other database's transaction to end.
        assert set(_drain(world)) == expected
    finally:
        other.close()
    assert _drain(world) == []


def _legacy(moment: dt.datetime, kind: str, row_id: int) -> str:
    raw = json.dumps([moment.astimezone(dt.UTC).isoformat(timespec="microseconds"), kind, row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_cursor_of_the_earlier_form_resumes_a_week_before_its_record_time(world: World) -> None:
    department(world)
    month_ago = NOW - dt.timedelta(days=30)
    birth = dt.date(1985, 3, 3)
    with world.session() as s:
        persons.create_person(
            s,
            _at(world.ctx(s, "police_liu"), month_ago),
            PersonCreate(
                area_id=world.area(INSIDE),
                name="王强",
                sex="1",
                birth_date=birth,
                documents=[DocumentIn(doc_type="resident_id", number=factories.make_id("420704", birth, 11))],
                valid_from=dt.date(2020, 1, 1),
            ),
        )
    person(world)
    recent = _rows_since(world, NOW - dt.timedelta(days=1))
    assert len(recent) == 2
    # Handed out before the upgrade, after everything up to NOW: the month-old rows stay delivered, the rows of
    # the last week come again (a repeat is better than a miss), and the cursor handed back is of the new form.
    page = _pull(world, cursor=_legacy(NOW, "person", 10**9))
    assert {(i["kind"], i["row_id"]) for i in page["items"]} == recent and page["has_more"] is False
    assert isinstance(rules.decode_cursor(page["next_cursor"]), dict)
    assert _pull(world, cursor=page["next_cursor"])["items"] == []
    # The last pull logged before the upgrade: a pull without a cursor resumes from its cursor the same way.
    with world.session() as s:
        departments.log_exchange(
            s,
            world.ctx(s, "health_liaison_wang"),
            direction="out",
            operation="pull",
            department="health",
            agreement_id=None,
            kinds=[],
            row_count=0,
            sha256=rules.content_hash([]),
            detail={"cursor": None, "next_cursor": _legacy(NOW, "document", 1)},
        )
    assert set(_drain(world)) == recent


@pytest.mark.parametrize(
    "body",
    [
        {"v": 3, "after": {}},
        {"v": 2, "after": {"person": [-1, 5]}},
        {"v": 2, "after": {"person": [True, 5]}},
        {"v": 2, "after": {"person": [1]}},
        {"v": 2, "after": []},
        ["2026-11-27T02:00:00", "person", 1],  # a legacy cursor without a time zone
        "person",
    ],
)
def test_a_malformed_cursor_is_refused(body: Any) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(ValidationFailed) as exc:
        rules.decode_cursor(cursor)
    assert exc.value.code == "department.cursor_invalid"


def test_a_cursor_round_trips() -> None:
    after = {"person": (0, 12), "document": (7_000_000_123, 4)}
    assert rules.decode_cursor(rules.encode_cursor(after)) == after
