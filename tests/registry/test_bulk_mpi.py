"""`retire_many` (for one kind, as the master person index retires a person merged away) and `correct_many`
write what `retire` and `correct` write, with the same refusals; `reopen` takes a retirement back with a
correcting row that is open again (the master person index's undo of a merge)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Person, PersonVersion
from liangshi.registry import CorrectItem, Provenance, Written, history
from tests.conftest import INSIDE, OUTSIDE, World
from tests.registry.test_bulk import ATTRS, _audit, _counts, _rows

PROV = Provenance("collector", "police_liu", "document", "户籍证明 2026-17")
START = dt.date(2020, 3, 1)
END = dt.date(2026, 6, 30)


@dataclass(frozen=True)
class RetireItem:
    """The tests' shorthand for one person's retirement: the version read, the end of validity, why."""

    entity_id: int
    expected_version: int
    effective: dt.date | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def _retire_persons(
    s: Any,
    ctx: registry.Context,
    items: Any,
    *,
    prov: Provenance,
    reason: str,
    permission: str | None = None,
    audit_mode: str = "row",
) -> Written:
    """`registry.retire_many` for persons read now (as the MPI's merge calls it), with the new rows' ids."""
    current = registry.open_versions(s, persons.PERSON, [i.entity_id for i in items])
    versions = registry.retire_many(
        s,
        ctx,
        [
            registry.Retirement(
                persons.PERSON,
                current[i.entity_id],
                i.effective or ctx.today,
                dict(i.changes),
                expected_version=i.expected_version,
            )
            for i in items
        ],
        prov=prov,
        reason=reason,
        permissions=[permission] if permission else None,
        events=[] if audit_mode == "caller" else None,
    )[persons.PERSON]
    rows = s.execute(
        select(PersonVersion.entity_id, PersonVersion.version, PersonVersion.row_id).where(
            PersonVersion.entity_id.in_(list(versions)), PersonVersion.superseded_at.is_(None)
        )
    )
    return Written(versions, {int(e): int(r) for e, v, r in rows if versions[int(e)] == v})


def _twins(world: World, where: str = INSIDE) -> tuple[int, int]:
    with world.session() as s:
        ctx = world.ctx(s)
        made = registry.create_many(
            s,
            ctx,
            persons.PERSON,
            [registry.NewItem(world.area(where), dict(ATTRS), valid_from=START) for _ in range(2)],
            prov=Provenance("collector", "system", "observed"),
        )
    one, two = made.ids
    return one, two


def _pointers(world: World, entity_id: int) -> list[tuple[int | None, int | None]]:
    """Each row's corrects/replaces pointers as positions in the entity's history."""
    with world.session() as s:
        rows = history.history(s, persons.PERSON, entity_id)
    at = {r.row_id: i for i, r in enumerate(rows)}
    return [(at.get(r.corrects_row_id), at.get(r.replaces_row_id)) for r in rows]


def _entries(world: World, entity_id: int) -> list[tuple[Any, ...]]:
    """The entity's audit entries, a corrected row id given as its position in the entity's history."""
    with world.session() as s:
        at = {r.row_id: i for i, r in enumerate(history.history(s, persons.PERSON, entity_id))}
    out = []
    for action, kind, subject, detail in _audit(world, entity_id):
        data = json.loads(detail)
        if "corrects_row_id" in data:
            data["corrects_row_id"] = at[data["corrects_row_id"]]
        out.append((action, kind, subject, data))
    return out


def _same(world: World, a: int, b: int) -> None:
    assert _rows(world, a) == _rows(world, b)
    assert _pointers(world, a) == _pointers(world, b)
    assert _entries(world, a) == _entries(world, b)


def test_retire_many_writes_the_rows_and_the_audit_entry_retire_writes(world: World) -> None:
    one, two = _twins(world)
    changes = {"occupation": "已故"}
    with world.session() as s:
        registry.retire(
            s,
            world.ctx(s, "police_liu"),
            persons.PERSON,
            one,
            expected_version=1,
            effective=END,
            prov=PROV,
            reason="死亡",
            changes=changes,
        )
    with world.session() as s:
        written = _retire_persons(
            s,
            world.ctx(s, "police_liu"),
            [RetireItem(two, 1, END, changes)],
            prov=PROV,
            reason="死亡",
        )
    assert written.versions == {two: 2}
    _same(world, one, two)
    with world.session() as s:
        latest = history.latest_row(s, persons.PERSON, two)
        assert latest is not None
        assert (written.row_ids[two], latest.change, latest.valid_to) == (latest.row_id, "retire", END)


def test_correct_many_writes_the_rows_and_the_audit_entry_correct_writes(world: World) -> None:
    one, two = _twins(world)
    with world.session() as s:
        registry.correct(
            s,
            world.ctx(s, "police_liu"),
            persons.PERSON,
            one,
            {"name": "王方"},
            expected_version=1,
            row_id=None,
            prov=PROV,
            reason="录入错误",
        )
    with world.session() as s:
        written = registry.correct_many(
            s,
            world.ctx(s, "police_liu"),
            persons.PERSON,
            [CorrectItem(two, 1, changes={"name": "王方"})],
            prov=PROV,
            reason="录入错误",
        )
    assert written.versions == {two: 2}
    _same(world, one, two)


def test_correct_many_reopens_a_retirement_with_a_correcting_row_open_again(world: World) -> None:
    (pid, _) = _twins(world)
    with world.session() as s:
        retired = _retire_persons(
            s, world.ctx(s), [RetireItem(pid, 1, END)], prov=PROV, reason="合并"
        ).row_ids[pid]
    with world.session() as s:
        written = registry.correct_many(
            s,
            world.ctx(s, "police_liu"),
            persons.PERSON,
            [CorrectItem(pid, 2, row_id=retired, reopen=True)],
            prov=PROV,
            reason="撤销合并",
            audit_mode="chunk",
        )
    with world.session() as s:
        rows = history.history(s, persons.PERSON, pid)
        assert [(r.change, r.valid_from, r.valid_to, r.superseded_at is None) for r in rows] == [
            ("create", START, None, False),
            ("retire", START, END, False),
            ("correct", START, None, True),
        ]
        assert rows[2].corrects_row_id == retired and rows[2].row_id == written.row_ids[pid]
        assert history.attributes_of(persons.PERSON, rows[2]) == ATTRS
        assert history.open_row(s, persons.PERSON, pid).row_id == rows[2].row_id  # type: ignore[union-attr]
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.object_id) == ("person.correct", None)
    assert json.loads(last.detail) == {"count": 1, "ids": [pid], "persons": [pid]}


def test_the_caller_may_audit_the_writes_itself(world: World) -> None:
    one, two = _twins(world)
    before = _counts(world)
    with world.session() as s:
        _retire_persons(
            s,
            world.ctx(s, "police_liu"),
            [RetireItem(one, 1), RetireItem(two, 1)],
            prov=PROV,
            reason="合并",
            permission="person.link",
            audit_mode="caller",
        )
    # Two new version rows, no audit entry: the calling use case writes its own in the same transaction.
    assert _counts(world) == (before[0], before[1] + 2, before[2])


def _locks(world: World) -> dict[int, int]:
    with world.session() as s:
        return {int(i): int(v) for i, v in s.execute(select(Person.id, Person.version))}


def _refused(world: World, call: Any, exc: type[Exception], code: str) -> None:
    """The call is refused with `code` and, once the boundary rolls back, nothing of it is kept."""
    before = (_counts(world), _locks(world))
    with pytest.raises(exc) as err, world.session() as s:
        call(s)
    assert err.value.code == code  # type: ignore[attr-defined]
    assert (_counts(world), _locks(world)) == before


def test_retire_many_and_correct_many_refuse_and_write_nothing(world: World) -> None:
    one, two = _twins(world)
    outside, _ = _twins(world, OUTSIDE)

    def retire(user: str, *items: RetireItem, permission: str | None = None) -> Any:
        return lambda s: _retire_persons(
            s, world.ctx(s, user), items, prov=PROV, reason="x", permission=permission
        )

    def correct(user: str, *items: CorrectItem) -> Any:
        return lambda s: registry.correct_many(
            s, world.ctx(s, user), persons.PERSON, items, prov=PROV, reason="x"
        )

    # A collector may write persons but not retire them; an auditor may do neither.
    _refused(world, retire("collector_zhang", RetireItem(one, 1)), Forbidden, "access.forbidden")
    _refused(
        world,
        retire("police_liu", RetireItem(one, 1), permission="person.link_force"),
        Forbidden,
        "access.forbidden",
    )
    _refused(world, correct("auditor_sun", CorrectItem(one, 1)), Forbidden, "access.forbidden")
    # One item outside the jurisdiction refuses the whole call.
    _refused(
        world, retire("police_liu", RetireItem(one, 1), RetireItem(outside, 1)), NotFound, "person.not_found"
    )
    _refused(
        world,
        correct("police_liu", CorrectItem(two, 1), CorrectItem(outside, 1)),
        NotFound,
        "person.not_found",
    )
    # A stale version, a retirement before the open version starts, a row that is not the person's.
    _refused(world, retire("police_liu", RetireItem(one, 1), RetireItem(two, 7)), Conflict, "version.stale")
    _refused(world, correct("police_liu", CorrectItem(one, 3)), Conflict, "version.stale")
    early = RetireItem(one, 1, START - dt.timedelta(days=1))
    _refused(world, retire("police_liu", early), ValidationFailed, "version.retire_before_current")
    with world.session() as s:
        row_of_two = history.open_row(s, persons.PERSON, two).row_id  # type: ignore[union-attr]
    _refused(
        world, correct("police_liu", CorrectItem(one, 1, row_id=row_of_two)), NotFound, "version.not_found"
    )
    with world.session() as s:
        _retire_persons(s, world.ctx(s), [RetireItem(one, 1)], prov=PROV, reason="x")
    _refused(world, retire("police_liu", RetireItem(one, 2)), Conflict, "person.retired")
    with world.session() as s:
        assert s.get(Person, two).version == 1  # type: ignore[union-attr]
