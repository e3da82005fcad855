"""The exact rows a merge, a split and their undo write: every version row of the persons involved (its
bookkeeping column by column), the persons' lock counters and the audit entries in order. Written out literally,
so that the path these writes take (the registry's bulk forms) cannot change what history and the audit log say.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.access.models import User
from liangshi.audit.models import AuditEntry
from liangshi.mpi import service
from liangshi.mpi.models import PersonSourceRecord
from liangshi.persons import service as persons
from liangshi.persons.models import Person, PersonVersion
from liangshi.registry import history
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World
from tests.mpi.helpers import bare_person, rec

BORN = dt.date(1990, 1, 1)
BOOKKEEPING = (
    "version",
    "valid_from",
    "valid_to",
    "superseded",
    "change",
    "reason",
    "source_kind",
    "source_ref",
    "evidence",
    "document_ref",
    "actor",
    "corrects",
    "replaces",
)


def _versions(s: Session, person_id: int) -> list[dict[str, Any]]:
    """A person's version rows in record order; row ids as positions in that list, actors by user name."""
    rows = list(
        s.execute(
            select(PersonVersion).where(PersonVersion.entity_id == person_id).order_by(PersonVersion.row_id)
        ).scalars()
    )
    position = {r.row_id: i for i, r in enumerate(rows)}
    names = dict(s.execute(select(User.id, User.username)).all())
    return [
        {
            "version": r.version,
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "superseded": r.superseded_at is not None,
            "change": r.change,
            "reason": r.reason,
            "source_kind": r.source_kind,
            "source_ref": r.source_ref,
            "evidence": r.evidence,
            "document_ref": r.document_ref,
            "actor": names.get(r.actor_id),
            "corrects": position.get(r.corrects_row_id),
            "replaces": position.get(r.replaces_row_id),
            "name": r.name,
        }
        for r in rows
    ]


def _row(*values: Any, name: str) -> dict[str, Any]:
    return {**dict(zip(BOOKKEEPING, values, strict=True)), "name": name}


def _audit_after(
    s: Session, seq: int
) -> list[tuple[str, str | None, int | None, int | None, dict[str, Any]]]:
    entries = s.execute(select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)).scalars()
    return [
        (e.action, e.object_kind, e.object_id, e.subject_person_id, json.loads(e.detail)) for e in entries
    ]


def _last_seq(s: Session) -> int:
    return int(s.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)).scalar() or 0)


def _lock(s: Session, person_id: int) -> int:
    return int(s.execute(select(Person.version).where(Person.id == person_id)).scalar_one())


def test_a_merge_and_its_undo_write_exactly_these_rows(world: World) -> None:
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        keep = bare_person(s, ctx, area_id=area, name="孙甲")
        other = bare_person(s, ctx, area_id=area, name="孙甲")
        mark = _last_seq(s)
    today = world.clock.today()

    def created(superseded: bool) -> tuple[Any, ...]:
        # bare_person: created by the system operator today, as observed by a collector.
        return (
            1,
            today,
            None,
            superseded,
            "create",
            None,
            "collector",
            "system",
            "observed",
            None,
            None,
            None,
            None,
        )

    with world.session() as s:
        event_id = service.merge(s, world.ctx(s, "police_liu"), keep, other, reason="重复登记").id
    with world.session() as s:
        merged_audit = _audit_after(s, mark)
        mark = _last_seq(s)
        assert (_lock(s, keep), _lock(s, other)) == (2, 2)
        assert _versions(s, keep) == [_row(*created(False), name="孙甲")]
    detail = {
        "event_id": event_id,
        "keep": keep,
        "other": other,
        "moved": {label: 0 for label in service.MOVABLE},
        "reason": "重复登记",
        "forced": False,
    }
    assert merged_audit == [
        ("person.merge", "person", keep, keep, detail),
        ("person.merged_away", "person", other, other, detail),
    ]
    with world.session() as s:
        undo_id = service.undo(s, world.ctx(s, "police_liu"), event_id, reason="合并错误").id
    with world.session() as s:
        assert (_lock(s, keep), _lock(s, other)) == (3, 3)
        assert _versions(s, other) == [
            _row(*created(True), name="孙甲"),
            _row(
                2, today, today, True, "retire", f"merged into {keep}", "system", "mpi.merge", "observed", None,
                "police_liu", None, 0, name="孙甲",
            ),
            _row(
                3, today, None, False, "correct", f"undo merge #{event_id}: 合并错误", "system", "mpi.undo",
                "observed", None, "police_liu", 1, None, name="孙甲",
            ),
        ]  # fmt: skip
        undo_detail = {
            "event_id": undo_id,
            "undoes": event_id,
            "kind": "merge",
            "reason": "合并错误",
            "reviews_reopened": [],
        }
        assert _audit_after(s, mark) == [
            ("person.merge_undo", "person", keep, keep, undo_detail),
            ("person.merge_undo", "person", other, other, undo_detail),
        ]


def test_a_split_and_its_undo_write_exactly_these_rows(world: World) -> None:
    number = factories.make_id("420704", BORN, 301)
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        pid = factories.person(s, ctx, area_id=area, name="郑十", birth=BORN, id_number=number)
        service.resolve(
            s,
            ctx,
            [rec("s1", name="郑十", id_number=number), rec("s2", name="郑十", id_number=number)],
            source="health",
            batch_ref="b0",
            area_id=area,
        )
        pk = int(
            s.execute(
                select(PersonSourceRecord.id).where(PersonSourceRecord.source_record_id == "s2")
            ).scalar_one()
        )
        mark = _last_seq(s)
        lock = _lock(s, pid)
    today = world.clock.today()
    with world.session() as s:
        event = service.split(s, world.ctx(s, "police_liu"), pid, source_record_ids=[pk], reason="双胞胎")
        event_id, new_id = event.id, event.other_person_id
    with world.session() as s:
        split_audit = _audit_after(s, mark)
        mark = _last_seq(s)
        assert (_lock(s, pid), _lock(s, new_id)) == (lock + 1, 1)
    detail = {"event_id": event_id, "from": pid, "to": new_id, "source_records": [pk], "reason": "双胞胎"}
    assert [a[0] for a in split_audit] == ["person.create", "person.split", "person.split_off"]
    assert split_audit[0][1:4] == ("person", new_id, new_id)
    assert split_audit[1:] == [
        ("person.split", "person", pid, pid, detail),
        ("person.split_off", "person", new_id, new_id, detail),
    ]
    with world.session() as s:
        undo_id = service.undo(s, world.ctx(s, "police_liu"), event_id, reason="拆错了").id
    with world.session() as s:
        assert (_lock(s, pid), _lock(s, new_id)) == (lock + 2, 2)
        assert _versions(s, new_id) == [
            _row(
                1, BORN, None, True, "create", None, "system", "mpi.split", "observed", None, "police_liu", None,
                None, name="郑十",
            ),
            _row(
                2, BORN, today, False, "retire", f"split #{event_id} undone", "system", "mpi.undo", "observed",
                None, "police_liu", None, 0, name="郑十",
            ),
        ]  # fmt: skip
        undo_detail = {
            "event_id": undo_id,
            "undoes": event_id,
            "kind": "split",
            "reason": "拆错了",
            "reviews_reopened": [],
        }
        assert _audit_after(s, mark) == [
            ("person.split_undo", "person", pid, pid, undo_detail),
            ("person.split_undo", "person", new_id, new_id, undo_detail),
        ]


def test_an_officer_merges_and_unmerges_a_person_held_elsewhere_who_lives_in_the_jurisdiction(
    world: World,
) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        keep = bare_person(s, ctx, area_id=world.area(INSIDE), name="钱一")
        # Registered in another city, living here: the officer may see and change the person (as persons.PERSON
        # says), and so merge them, although the merge moves the residence that makes them visible.
        other = bare_person(s, ctx, area_id=world.area(OUTSIDE), name="钱一")
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        factories.arrival(s, ctx, person_id=other, dwelling_id=place.dwelling_id, arrived=dt.date(2026, 1, 5))
    with world.session() as s:
        event = service.merge(s, world.ctx(s, "police_liu"), keep, other, reason="重复登记")
        event_id = event.id
        assert json.loads(event.moved)["residences"]
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, other) is None
        service.undo(s, world.ctx(s, "police_liu"), event_id, reason="合并错误")
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, other) is not None
