"""`retire_many` and `create_many_audited` write what the row use cases write, with the same refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.audit.models import AuditEntry
from liangshi.errors import Conflict, Forbidden, LiangshiError, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Household, Membership, Person
from liangshi.persons.schemas import HouseholdCreate, MemberIn
from liangshi.registry import NewItem, Provenance, Retirement, history
from tests import factories
from tests.conftest import INSIDE, World
from tests.registry.test_bulk import ATTRS, _audit, _columns, _counts, _rows

PROV = Provenance("collector", "police_liu", "observed")
SIBLING = "420704001002"  # a community outside police_liu's jurisdiction (collector_zhou's)
D = dt.date


def _person(world: World, area: str = INSIDE) -> int:
    with world.session() as s:
        return factories.person(s, world.ctx(s), area_id=world.area(area))


def _open(world: World, kind: registry.Kind, entity_id: int) -> dict[str, Any]:
    with world.session() as s:
        return registry.open_versions(s, kind, [entity_id])[entity_id]


def test_retire_many_of_one_person_writes_exactly_the_rows_and_audit_retire_writes(world: World) -> None:
    one, many = _person(world), _person(world)
    with world.session() as s:
        registry.retire(
            s,
            world.ctx(s, "police_liu"),
            persons.PERSON,
            one,
            expected_version=1,
            effective=D(2024, 5, 6),
            prov=PROV,
            reason="注销",
        )
    current = _open(world, persons.PERSON, many)
    with world.session() as s:
        versions = registry.retire_many(
            s,
            world.ctx(s, "police_liu"),
            [Retirement(persons.PERSON, current, D(2024, 5, 6))],
            prov=PROV,
            reason="注销",
        )
    assert versions == {persons.PERSON: {many: 2}}
    assert _rows(world, many) == _rows(world, one)
    assert _audit(world, many) == _audit(world, one)


def _family(world: World) -> tuple[int, int, int]:
    """A household of two; returns the household and the two memberships."""
    head, child = _person(world), _person(world)
    with world.session() as s:
        snap = persons.create_household(
            s,
            world.ctx(s, "police_liu"),
            HouseholdCreate(
                area_id=world.area(INSIDE),
                members=[
                    MemberIn(person_id=head, relationship="02"),
                    MemberIn(person_id=child, relationship="20"),
                ],
                valid_from=D(2021, 1, 1),
            ),
        )
        hid = snap.entity.id
        ids = s.execute(select(Membership.id).where(Membership.household_id == hid).order_by(Membership.id))
        first, second = ids.scalars().all()
    return hid, first, second


def _membership_rows(world: World, membership_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    with world.session() as s:
        m = s.get(Membership, membership_id)
        household = s.get(Household, m.household_id) if m is not None else None
        assert m is not None and household is not None
        rows = [_columns(r) for r in history.history(s, persons.MEMBERSHIP, membership_id)]
        identity = {k: v for k, v in _columns(m).items() if k not in ("household_id", "person_id")}
        return identity, rows, household.version


def test_retire_many_of_memberships_moves_the_household_on_as_bump_version_and_retire_do(
    world: World,
) -> None:
    hid_a, one, two = _family(world)
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        household = s.get(Household, hid_a)
        assert household is not None
        for membership_id in (one, two):
            history.bump_version(s, persons.HOUSEHOLD, hid_a, household.version)
            m = s.get(Membership, membership_id)
            history.retire(
                s,
                persons.MEMBERSHIP,
                m,
                expected_version=m.version,
                effective=D(2024, 2, 3),
                prov=PROV,
                actor_id=ctx.actor.user_id,
                now=ctx.now,
                reason="分户",
            )
    hid_b, three, four = _family(world)
    with world.session() as s:
        household = s.get(Household, hid_b)
        assert household is not None
        seen = household.version
        items = [
            Retirement(
                persons.MEMBERSHIP,
                registry.open_versions(s, persons.MEMBERSHIP, [m])[m],
                D(2024, 2, 3),
                parents=((persons.HOUSEHOLD, hid_b, seen),),
            )
            for m in (three, four)
        ]
        registry.retire_many(
            s,
            world.ctx(s, "police_liu"),
            items,
            prov=PROV,
            reason="分户",
            permissions=("household.write",),
            events=[audit.Event("household.change", "household", hid_b, None)],
        )
    assert _membership_rows(world, three) == _membership_rows(world, one)
    assert _membership_rows(world, four) == _membership_rows(world, two)
    with world.session() as s:
        retired = select(AuditEntry.action).where(AuditEntry.action == "membership.retire")
        assert list(s.execute(retired).scalars()) == []  # the caller's entries replace the per-object ones
        split = select(AuditEntry.object_id).where(AuditEntry.action == "household.change")
        assert list(s.execute(split).scalars()) == [hid_b]


def test_retire_many_by_a_role_that_may_not_retire_is_refused_and_writes_nothing(world: World) -> None:
    pid = _person(world)
    current = _open(world, persons.PERSON, pid)
    before = _counts(world)
    with pytest.raises(Forbidden), world.session() as s:
        registry.retire_many(
            s,
            world.ctx(s, "collector_zhang"),
            [Retirement(persons.PERSON, current, D(2024, 1, 1))],
            prov=PROV,
            reason="注销",
        )
    assert _counts(world) == before


def test_retire_many_outside_the_jurisdiction_is_refused_as_not_found_naming_the_group(world: World) -> None:
    inside, outside = _person(world), _person(world, SIBLING)
    items = [
        Retirement(persons.PERSON, _open(world, persons.PERSON, inside), D(2024, 1, 1), group=0),
        Retirement(persons.PERSON, _open(world, persons.PERSON, outside), D(2024, 1, 1), group=1),
    ]
    before = _counts(world)
    seen: list[int] = []

    def refused(group: int, exc: LiangshiError) -> LiangshiError:
        seen.append(group)
        return exc

    with pytest.raises(NotFound) as refusal, world.session() as s:
        registry.retire_many(s, world.ctx(s, "police_liu"), items, prov=PROV, reason="注销", refused=refused)
    assert refusal.value.code == "person.not_found" and refusal.value.data == {"id": outside}
    assert seen == [1]
    assert _counts(world) == before


def test_retire_many_refuses_a_stale_version_a_retired_object_and_a_date_before_the_open_row(
    world: World,
) -> None:
    pid = _person(world)
    current = _open(world, persons.PERSON, pid)
    cases: list[tuple[Retirement, type[LiangshiError], str]] = [
        (Retirement(persons.PERSON, current, D(2024, 1, 1), expected_version=7), Conflict, "version.stale"),
        (
            Retirement(persons.PERSON, current, D(2019, 1, 1)),
            ValidationFailed,
            "version.retire_before_current",
        ),
        (
            Retirement(persons.PERSON, {**current, "valid_to": D(2023, 1, 1)}, D(2024, 1, 1)),
            Conflict,
            "person.retired",
        ),
    ]
    for item, error, code in cases:
        before = _counts(world)
        with pytest.raises(error) as refusal, world.session() as s:
            registry.retire_many(s, world.ctx(s, "police_liu"), [item], prov=PROV, reason="注销")
        assert refusal.value.code == code
        assert _counts(world) == before
    with world.session() as s:
        person = s.get(Person, pid)
        assert person is not None and person.version == 1


def test_retire_many_refuses_a_row_someone_closed_since_it_was_read(world: World) -> None:
    pid = _person(world)
    current = _open(world, persons.PERSON, pid)
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "police_liu"),
            persons.PERSON,
            pid,
            {"occupation": "司机"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason=None,
        )
    # The counter as read is one behind: stale, as `retire` with the version the writer saw.
    with pytest.raises(Conflict) as refusal, world.session() as s:
        registry.retire_many(
            s,
            world.ctx(s, "police_liu"),
            [Retirement(persons.PERSON, current, D(2024, 1, 1))],
            prov=PROV,
            reason="x",
        )
    assert refusal.value.code == "version.stale"
    # The counter matches (a writer that did not move it), but the row was closed meanwhile.
    moved = dataclasses.replace(Retirement(persons.PERSON, current, D(2024, 1, 1)), expected_version=2)
    with pytest.raises(Conflict) as refusal, world.session() as s:
        registry.retire_many(s, world.ctx(s, "police_liu"), [moved], prov=PROV, reason="x")
    assert refusal.value.code == "version.stale"
    assert refusal.value.data == {"id": pid, "kind": "person"}


def test_retire_many_takes_each_object_once_and_a_following_one_only_with_its_leader(world: World) -> None:
    _, one, _ = _family(world)
    pid = _person(world)
    person = _open(world, persons.PERSON, pid)
    membership = _open(world, persons.MEMBERSHIP, one)
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        with pytest.raises(ValueError, match="once"):
            registry.retire_many(
                s,
                ctx,
                [Retirement(persons.PERSON, person, D(2024, 1, 1))] * 2,
                prov=PROV,
                reason="x",
            )
        with pytest.raises(ValueError, match="needs that one"):
            registry.retire_many(
                s,
                ctx,
                [Retirement(persons.MEMBERSHIP, membership, D(2024, 1, 1), group=3, follows=True)],
                prov=PROV,
                reason="x",
                permissions=("household.write",),
            )
        with pytest.raises(ValueError, match="not attributes"):
            registry.retire_many(
                s,
                ctx,
                [Retirement(persons.PERSON, person, D(2024, 1, 1), {"colour": "red"})],
                prov=PROV,
                reason="x",
            )
        with pytest.raises(ValueError, match="at least one permission"):
            registry.retire_many(
                s,
                ctx,
                [Retirement(persons.PERSON, person, D(2024, 1, 1))],
                prov=PROV,
                reason="x",
                permissions=(),
            )
        assert registry.retire_many(s, ctx, [], prov=PROV, reason="x") == {}


def test_create_many_audited_writes_the_rows_create_many_writes_and_only_the_callers_entries(
    world: World,
) -> None:
    start = D(2021, 5, 6)
    with world.session() as s:
        (one,) = registry.create_many(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            [NewItem(world.area(INSIDE), dict(ATTRS), valid_from=start)],
            prov=PROV,
        ).ids
    with world.session() as s:
        created = registry.create_many_audited(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            [NewItem(world.area(INSIDE), dict(ATTRS), valid_from=start)],
            prov=PROV,
            events=lambda ids: [audit.Event("person.death", "person", ids[0], ids[0], {"why": "test"})],
        )
    (many,) = created.ids
    assert _rows(world, many) == _rows(world, one)
    [(action, kind, subject, detail)] = _audit(world, many)
    assert (action, kind, subject) == ("person.death", "person", "self")
    assert (json.loads(detail) if isinstance(detail, str) else detail) == {"why": "test"}
    assert len(created.audit_seqs) == 1


def test_create_many_audited_by_a_role_that_may_not_write_is_refused_and_writes_nothing(world: World) -> None:
    before = _counts(world)
    with pytest.raises(Forbidden), world.session() as s:
        registry.create_many_audited(
            s,
            world.ctx(s, "auditor_sun"),
            persons.PERSON,
            [NewItem(world.area(INSIDE), dict(ATTRS))],
            prov=PROV,
            events=lambda ids: [],
        )
    assert _counts(world) == before
