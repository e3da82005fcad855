"""The registry's bulk forms write what the row use cases write, with the same refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.errors import Conflict, Forbidden, NotFound
from liangshi.persons import service as persons
from liangshi.persons.models import Document, Person, PersonVersion
from liangshi.persons.rules import name_keys
from liangshi.registry import ChangeItem, FastCreate, NewItem, PlannedChange, Provenance, history
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World

PROV = Provenance("collector", "collector_zhang", "observed")
ATTRS: dict[str, Any] = {
    "name": "王芳",
    "sex": "2",
    "birth_date": dt.date(1988, 3, 4),
    "ethnicity": "01",
    "nationality": "CHN",
    "hukou_region": None,
    "hukou_address": None,
    "education": None,
    "marital_status": None,
    "occupation": "教师",
    "workplace": None,
    "phone": None,
}
# Columns that differ between two objects by construction: their ids and the writing transaction.
IDS = {"id", "row_id", "entity_id", "xact_id", "replaces_row_id", "corrects_row_id"}


def _columns(row: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in row.__table__.columns if c.name not in IDS}


def _rows(world: World, entity_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with world.session() as s:
        person = s.get(Person, entity_id)
        assert person is not None
        return _columns(person), [_columns(r) for r in history.history(s, persons.PERSON, entity_id)]


def _audit(world: World, entity_id: int, kind: str = "person") -> list[tuple[str, str | None, Any, Any]]:
    with world.session() as s:
        entries = (
            select(AuditEntry)
            .where(AuditEntry.object_kind == kind, AuditEntry.object_id == entity_id)
            .order_by(AuditEntry.seq)
        )
        # Whose data: the object itself (a person) is written as "self", so two persons' entries compare equal.
        return [
            (
                e.action,
                e.object_kind,
                "self" if e.subject_person_id == entity_id else e.subject_person_id,
                e.detail,
            )
            for e in s.execute(entries).scalars()
        ]


def _counts(world: World) -> tuple[int, int, int]:
    with world.session() as s:
        return (
            s.execute(select(func.count()).select_from(Person)).scalar_one(),
            s.execute(select(func.count()).select_from(PersonVersion)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def test_create_many_of_one_person_writes_exactly_the_rows_create_writes(world: World) -> None:
    start = dt.date(2021, 5, 6)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        area = registry.ensure_area_in_scope(s, ctx, world.area(INSIDE))
        one = registry.create(
            s,
            ctx,
            persons.PERSON,
            Person(area_id=area.id, county_code=area.county_code),
            dict(ATTRS),
            valid_from=start,
            prov=PROV,
        ).entity.id
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        created = registry.create_many(
            s, ctx, persons.PERSON, [NewItem(world.area(INSIDE), dict(ATTRS), valid_from=start)], prov=PROV
        )
    (many,) = created.ids
    assert many != one
    assert _rows(world, many) == _rows(world, one)
    assert _audit(world, many) == _audit(world, one)
    assert len(created.audit_seqs) == 1


def test_create_many_of_documents_gives_each_the_person_as_subject(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        created = registry.create_many(
            s,
            ctx,
            persons.DOCUMENT,
            [
                NewItem(
                    world.area(INSIDE),
                    {"doc_type": "passport", "number": "E12345678", "country": "CHN"},
                    refs={"person_id": pid},
                )
            ],
            prov=PROV,
        )
    with world.session() as s:
        (doc_id,) = created.ids
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.person_id == pid
        row = history.open_row(s, persons.DOCUMENT, doc_id)
        assert (
            row is not None and row.number == "E12345678" and row.actor_id == world.users["collector_zhang"]
        )
    assert [(a, k, subject) for a, k, subject, _ in _audit(world, doc_id, "document")] == [
        ("document.create", "document", pid)
    ]


@pytest.mark.parametrize("username", ["auditor_sun", "inspector_zhao", "health_liaison_wang"])
def test_create_many_by_a_role_that_may_not_write_persons_is_refused_and_writes_nothing(
    world: World, username: str
) -> None:
    before = _counts(world)
    with pytest.raises(Forbidden) as refused, world.session() as s:
        registry.create_many(
            s, world.ctx(s, username), persons.PERSON, [NewItem(world.area(INSIDE), dict(ATTRS))], prov=PROV
        )
    assert refused.value.http_status == 403
    assert _counts(world) == before


def test_create_many_fast_by_a_role_that_may_not_write_is_refused_and_writes_nothing(world: World) -> None:
    before = _counts(world)
    rows = FastCreate(area_ids=[world.area(INSIDE)], version_columns=["name"], version_values=[("王芳",)])
    with pytest.raises(Forbidden), world.session() as s:
        registry.create_many_fast(s, world.ctx(s, "auditor_sun"), persons.PERSON, rows, prov=PROV)
    assert _counts(world) == before


def test_create_many_with_one_item_outside_the_jurisdiction_is_refused_and_writes_nothing(
    world: World,
) -> None:
    before = _counts(world)
    items = [NewItem(world.area(INSIDE), dict(ATTRS)), NewItem(world.area(OUTSIDE), dict(ATTRS))]
    with pytest.raises(NotFound) as refused, world.session() as s:
        registry.create_many(s, world.ctx(s, "collector_zhang"), persons.PERSON, items, prov=PROV)
    assert refused.value.code == "area.not_found"
    assert refused.value.data == {"field": "area_id", "id": world.area(OUTSIDE)}
    assert _counts(world) == before


def test_create_many_under_another_permission_checks_that_one(world: World) -> None:
    with pytest.raises(Forbidden), world.session() as s:
        registry.create_many(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            [NewItem(world.area(INSIDE), dict(ATTRS))],
            prov=PROV,
            permission="mpi.review",
        )


def test_create_many_fast_writes_the_rows_create_many_writes(world: World) -> None:
    start = dt.date(2022, 1, 2)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        slow = registry.create_many(
            s, ctx, persons.PERSON, [NewItem(world.area(INSIDE), dict(ATTRS), valid_from=start)], prov=PROV
        ).ids[0]
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        columns = [*persons.PERSON.attributes, "name_pinyin", "name_initials"]
        values = tuple(v.isoformat() if isinstance(v, dt.date) else v for v in ATTRS.values())
        rows = FastCreate(
            area_ids=[world.area(INSIDE)],
            version_columns=columns,
            version_values=[(*values, *name_keys(ATTRS["name"]))],
            valid_from=start,
        )
        created = registry.create_many_fast(s, ctx, persons.PERSON, rows, prov=PROV, audit_mode="row")
    (fast,) = created.ids
    assert _rows(world, fast) == _rows(world, slow)
    assert _audit(world, fast) == _audit(world, slow)


def test_create_many_audits_one_entry_per_chunk_when_asked(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        items = [NewItem(world.area(INSIDE), {**ATTRS, "name": name}) for name in ("甲一", "乙二", "丙三")]
        created = registry.create_many(
            s, ctx, persons.PERSON, items, prov=PROV, audit_mode="chunk", audit_detail={"batch": 7}
        )
    with world.session() as s:
        (entry,) = [s.get(AuditEntry, seq) for seq in created.audit_seqs]
        assert entry is not None
        assert entry.action == "person.create"
        assert json.loads(entry.detail) == {
            "batch": 7,
            "count": 3,
            "ids": created.ids,
            "persons": sorted(created.ids),
        }


def _planned(world: World, pid: int, expected: int, changes: dict[str, Any]) -> PlannedChange:
    with world.session() as s:
        (current,) = [r for r in history.current_rows(s, persons.PERSON, [pid])[pid] if r["valid_to"] is None]
        return PlannedChange(pid, current["entity_county_code"], expected, current, changes)


def test_change_many_writes_the_rows_change_writes(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        one = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵一")
        two = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵一")
    effective = dt.date(2026, 6, 1)
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            one,
            {"phone": "+8613800000009"},
            expected_version=1,
            effective=effective,
            prov=PROV,
            reason="新电话",
        )
    item = _planned(world, two, 1, {"phone": "+8613800000009"})
    with world.session() as s:
        versions = registry.change_many(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            [item],
            effective=effective,
            prov=PROV,
            reason="新电话",
        )
    assert versions == {two: 2}
    assert _rows(world, two) == _rows(world, one)
    changed = [a for a in _audit(world, two) if a[0] == "person.change"]
    assert changed == [a for a in _audit(world, one) if a[0] == "person.change"]


def test_change_many_refuses_a_stale_version_and_keeps_nothing(world: World) -> None:
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE))
    stale = _planned(world, pid, 1, {"phone": "+8613800000008"})
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            pid,
            {"occupation": "医生"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason=None,
        )
    before = _rows(world, pid)
    with pytest.raises(Conflict) as refused, world.session() as s:
        registry.change_many(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            [stale],
            effective=None,
            prov=PROV,
            reason=None,
        )
    assert refused.value.code == "version.stale"
    assert _rows(world, pid) == before


def test_change_many_by_a_role_that_may_not_write_is_refused(world: World) -> None:
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE))
    item = _planned(world, pid, 1, {"phone": "+8613800000007"})
    before = _rows(world, pid)
    with pytest.raises(Forbidden), world.session() as s:
        registry.change_many(
            s, world.ctx(s, "auditor_sun"), persons.PERSON, [item], effective=None, prov=PROV, reason=None
        )
    assert _rows(world, pid) == before


def test_change_many_outside_the_jurisdiction_is_refused_as_not_found(world: World) -> None:
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE))
    item = _planned(world, pid, 1, {"phone": "+8613800000006"})
    before = _rows(world, pid)
    with pytest.raises(NotFound) as refused, world.session() as s:
        registry.change_many(
            s, world.ctx(s, "collector_zhou"), persons.PERSON, [item], effective=None, prov=PROV, reason=None
        )
    assert refused.value.code == "person.not_found"
    assert _rows(world, pid) == before


def test_a_liaisons_read_without_a_read_cut_policy_is_refused_not_served_uncut(world: World) -> None:
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE))
    with world.session() as s:
        ctx = dataclasses.replace(world.ctx(s, "health_liaison_wang"), read_cut=None)
        with pytest.raises(Forbidden) as refused:
            registry.read(s, ctx, persons.PERSON, pid)
        assert refused.value.code == "department.read_cut_missing"
        with pytest.raises(Forbidden):
            registry.search(s, ctx, persons.PERSON, offset=0, limit=10)


def test_a_stored_change_set_applies_through_change_many_with_the_approver_as_actor_and_the_proposer_as_source(
    world: World,
) -> None:
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE))
    # What a change set stores: plain data, serialised, read back at approval.
    stored = json.dumps(dataclasses.asdict(ChangeItem(pid, 1, {"occupation": "护士"})))
    proposer = Provenance("collector", "collector_zhang", "observed")
    with world.session() as s:
        approver = world.ctx(s, "station_admin_li")
        planned = registry.plan_changes(s, persons.PERSON, [ChangeItem(**json.loads(stored))])
        registry.change_many(
            s, approver, persons.PERSON, planned, effective=None, prov=proposer, reason="change set approved"
        )
    with world.session() as s:
        row = history.open_row(s, persons.PERSON, pid)
        assert row is not None
        assert (row.occupation, row.actor_id, row.source_ref) == (
            "护士",
            world.users["station_admin_li"],
            "collector_zhang",
        )


def test_plan_changes_refuses_an_unknown_entity_and_an_unknown_attribute(world: World) -> None:
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE))
    with world.session() as s:
        with pytest.raises(NotFound):
            registry.plan_changes(s, persons.PERSON, [ChangeItem(pid + 1000, 1, {"occupation": "护士"})])
        with pytest.raises(ValueError, match="salary"):
            registry.plan_changes(s, persons.PERSON, [ChangeItem(pid, 1, {"salary": 1})])
