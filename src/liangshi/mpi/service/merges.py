"""Merges, splits and their undo.

Every merge or split is a `PersonLinkEvent` naming exactly which rows moved, so it can be undone exactly; the
retired person comes back as a new version (history is kept).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.departments.models import CorrectionCase
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.mpi import rules
from liangshi.mpi.models import MatchReview, PersonLinkEvent, PersonSourceRecord
from liangshi.mpi.service.records import Norm, chunks, make_person
from liangshi.permits.models import Permit
from liangshi.persons import service as persons
from liangshi.persons.models import Document, Membership, Person, PersonVersion
from liangshi.registry import Context, Provenance, history
from liangshi.rentals.models import RentalTenant
from liangshi.residence.models import Residence
from liangshi.venues.models import Stay

# Rows that belong to a person and move with a merge: label -> (table, its person column). A rental's landlord is
# a versioned attribute of the rental (its history says who was landlord when), so it is not re-pointed here. A
# community-correction case (justice's, every version of it) follows its person like the rest.
MOVABLE: dict[str, tuple[Any, Any]] = {
    "documents": (Document, Document.person_id),
    "memberships": (Membership, Membership.person_id),
    "residences": (Residence, Residence.person_id),
    "permits": (Permit, Permit.person_id),
    "rental_tenants": (RentalTenant, RentalTenant.person_id),
    "stays": (Stay, Stay.person_id),
    "correction_cases": (CorrectionCase, CorrectionCase.person_id),
    "source_records": (PersonSourceRecord, PersonSourceRecord.person_id),
}


# ---- merges, splits, undo ---------------------------------------------------------------------------------------


def reason_given(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            "mpi.reason_required", "请填写理由", "A reason is required", {"field": "reason"}
        )
    return text[:500]


def retired_refusal(person_id: int) -> Conflict:
    return Conflict(
        "mpi.person_retired",
        "该人员已注销（或已被合并），不能再合并或拆分",
        "The person is retired (or merged away) and cannot be merged or split",
        {"id": person_id},
    )


def _doc_numbers(session: Session, person_id: int) -> set[str]:
    return {d.number for d in persons.current_documents(session, person_id) if d.doc_type == "resident_id"}


def _system_prov(what: str) -> Provenance:
    return Provenance(source_kind="system", source_ref=f"mpi.{what}")


def _closing(session: Session, person_id: int, today: dt.date) -> dt.date:
    row = history.open_row(session, persons.PERSON, person_id)
    return max(today, row.valid_from) if row is not None else today


def merge(
    session: Session, ctx: Context, keep_id: int, other_id: int, *, reason: str, force: bool = False
) -> PersonLinkEvent:
    """Merge person `other` into `keep`: other's documents, memberships, residences, permits, tenancies, stays,
    community-correction cases and source records move to keep (exactly which rows is recorded), other is retired
    "merged into <keep>".

    Refused, writing nothing: merging into oneself; a person outside the jurisdiction (404); a retired person;
    two persons with different valid resident ID numbers, unless `force` by a station administrator or above.
    """
    ctx.actor.ensure("person.link")
    if force:
        # Asking to force is itself the station's call, whether or not the numbers turn out to differ.
        ctx.actor.ensure("person.link_force")
    reason = reason_given(reason)
    rules.ensure_not_self(keep_id, other_id)
    keep = registry.get_entity(session, persons.PERSON, keep_id, ctx.actor, write=True)
    other = registry.get_entity(session, persons.PERSON, other_id, ctx.actor, write=True)
    for p in (keep, other):
        if history.open_row(session, persons.PERSON, p.id) is None:
            raise retired_refusal(p.id)
    forced = False
    if rules.conflicting_ids(_doc_numbers(session, keep.id), _doc_numbers(session, other.id), ctx.today):
        if not force:
            raise rules.id_conflict()
        forced = True
    # Retired before its rows move: a person held elsewhere is the officer's to change while living here.
    retired_row_id = _retire(
        session, ctx, other.id, other.version, what="merge", reason=f"merged into {keep.id}"
    )
    moved: dict[str, Any] = {}
    for label, (table, column) in MOVABLE.items():
        ids = sorted(int(i) for (i,) in session.execute(select(table.id).where(column == other.id)))
        if ids:
            for chunk in chunks(ids):
                session.execute(
                    update(table)
                    .where(table.id.in_(chunk))
                    .values({column.key: keep.id})
                    .execution_options(synchronize_session=False)
                )
        moved[label] = ids
    history.bump_version(session, persons.PERSON, keep.id, keep.version)
    moved["retired_row_id"] = retired_row_id
    event = _record_event(session, ctx, "merge", keep, other.id, json.dumps(moved), reason, forced=forced)
    session.expire_all()
    detail = {
        "event_id": event.id,
        "keep": keep_id,
        "other": other_id,
        "moved": {k: len(v) for k, v in moved.items() if isinstance(v, list)},
        "reason": reason,
        "forced": forced,
    }
    registry.log(
        ctx,
        session,
        [
            audit.Event("person.merge", "person", keep_id, keep_id, detail),
            audit.Event("person.merged_away", "person", other_id, other_id, detail),
        ],
    )
    return event


def split(
    session: Session, ctx: Context, person_id: int, *, source_record_ids: Sequence[int], reason: str
) -> PersonLinkEvent:
    """Move some of a person's source records (and the documents whose numbers they carry) to a new person
    made from the first record that can make one; recorded and undoable."""
    ctx.actor.ensure("person.link")
    reason = reason_given(reason)
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor, write=True)
    if history.open_row(session, persons.PERSON, person.id) is None:
        raise retired_refusal(person.id)
    wanted = sorted(set(int(i) for i in source_record_ids))
    if not wanted:
        raise ValidationFailed(
            "mpi.split_empty",
            "请选择要拆出的来源记录",
            "Choose the source records to split off",
            {"field": "source_record_ids"},
        )
    recs = list(
        session.execute(
            select(PersonSourceRecord)
            .where(PersonSourceRecord.id.in_(wanted))
            .order_by(PersonSourceRecord.id)
        ).scalars()
    )
    if len(recs) != len(wanted) or any(r.person_id != person.id for r in recs):
        raise ValidationFailed(
            "mpi.split_record_not_of_person",
            "所选来源记录不属于该人员",
            "A chosen source record does not belong to this person",
            {"field": "source_record_ids"},
        )
    area = session.get(Area, person.area_id)
    assert area is not None
    numbers = {r.id_number for r in recs if r.id_number}
    doc_ids = sorted(
        d.entity_id for d in persons.current_documents(session, person.id) if d.number in numbers
    )
    new_id = None
    for r in recs:
        n = Norm(r.source_record_id, r.name, r.sex, r.birth_date, r.id_number, r.phone, r.address)
        new_id = make_person(session, ctx, n, area, _system_prov("split"), with_document=False)
        if new_id is not None:
            break
    if new_id is None:
        raise ValidationFailed(
            "mpi.split_insufficient",
            "所选来源记录缺少姓名、性别或出生日期，无法建立新人员",
            "The chosen records lack a name, sex or birth date to make a new person",
            {"field": "source_record_ids"},
        )
    for table, ids in ((PersonSourceRecord, wanted), (Document, doc_ids)):
        if ids:
            session.execute(
                update(table)
                .where(table.id.in_(ids))
                .values(person_id=new_id)
                .execution_options(synchronize_session=False)
            )
    history.bump_version(session, persons.PERSON, person.id, person.version)
    moved = {"source_records": wanted, "documents": doc_ids}
    event = _record_event(session, ctx, "split", person, new_id, json.dumps(moved), reason)
    session.expire_all()
    detail = {
        "event_id": event.id,
        "from": person_id,
        "to": new_id,
        "source_records": wanted,
        "reason": reason,
    }
    registry.log(
        ctx,
        session,
        [
            audit.Event("person.split", "person", person_id, person_id, detail),
            audit.Event("person.split_off", "person", new_id, new_id, detail),
        ],
    )
    return event


def _event_in_scope(session: Session, ctx: Context, event_id: int) -> PersonLinkEvent:
    event = session.get(PersonLinkEvent, event_id)
    if event is None or event.kind == "undo":
        raise NotFound(
            "mpi.event_not_found", "未找到该合并/拆分记录", "Merge or split not found", {"id": event_id}
        )
    try:
        registry.get_entity(session, persons.PERSON, event.keep_person_id, ctx.actor, write=True)
    except NotFound:
        raise NotFound(
            "mpi.event_not_found", "未找到该合并/拆分记录", "Merge or split not found", {"id": event_id}
        ) from None
    return event


def _stale(event_id: int, what: str) -> Conflict:
    return Conflict(
        "mpi.undo_stale",
        "合并/拆分之后记录又有变动，不能自动撤销",
        "The records changed after the merge or split; it cannot be undone automatically",
        {"id": event_id, "changed": what},
    )


def _record_event(
    session: Session,
    ctx: Context,
    kind: str,
    keep: Person,
    other_id: int,
    moved: str,
    reason: str,
    *,
    forced: bool = False,
    undoes: PersonLinkEvent | None = None,
) -> PersonLinkEvent:
    """Record a merge, split or undo (which rows moved between which persons, why, by whom), held where the
    kept person is (an undo where the event it undoes was)."""
    event = PersonLinkEvent(
        kind=kind,
        keep_person_id=keep.id,
        other_person_id=other_id,
        moved=moved,
        reason=reason,
        forced=forced,
        actor_id=ctx.actor.user_id,
        actor_name=ctx.actor.username,
        at=ctx.now,
        undoes_id=undoes.id if undoes else None,
        area_id=undoes.area_id if undoes else keep.area_id,
        county_code=undoes.county_code if undoes else keep.county_code,
    )
    session.add(event)
    session.flush()
    return event


def undo(session: Session, ctx: Context, event_id: int, *, reason: str) -> PersonLinkEvent:
    """Reverse a merge (rows move back, the merged person returns as a new version correcting the retirement)
    or a split (records and documents move back, the split-off person is retired); refused if later changes
    touched what moved."""
    ctx.actor.ensure("person.link")
    reason = reason_given(reason)
    event = _event_in_scope(session, ctx, event_id)
    if event.undone_by is not None:
        raise Conflict(
            "mpi.already_undone",
            "该操作已撤销",
            "This was already undone",
            {"id": event_id, "undone_by": event.undone_by},
        )
    moved: dict[str, Any] = json.loads(event.moved)
    keep, other = event.keep_person_id, event.other_person_id
    tables, back_from, back_to = _moved_tables(event, moved)
    retired = _ensure_undoable(session, event, moved, tables, back_from)
    _move_back(session, moved, tables, back_to)
    if event.kind == "merge":
        _unretire(session, ctx, other, retired, f"undo merge #{event.id}: {reason}")
        person = session.get(Person, keep)
        assert person is not None
        history.bump_version(session, persons.PERSON, keep, person.version)
    else:
        new_person = session.get(Person, other)
        assert new_person is not None
        _retire(session, ctx, other, new_person.version, what="undo", reason=f"split #{event.id} undone")
        person = session.get(Person, keep)
        assert person is not None
        history.bump_version(session, persons.PERSON, keep, person.version)
    kept = session.get(Person, keep)
    assert kept is not None
    undo_event = _record_event(session, ctx, "undo", kept, other, event.moved, reason, undoes=event)
    event.undone_by = undo_event.id
    reopened = _reopen_reviews(session, event)
    session.flush()
    session.expire_all()
    detail = {
        "event_id": undo_event.id,
        "undoes": event_id,
        "kind": event.kind,
        "reason": reason,
        "reviews_reopened": reopened,
    }
    registry.log(
        ctx,
        session,
        [
            audit.Event(f"person.{event.kind}_undo", "person", keep, keep, detail),
            audit.Event(f"person.{event.kind}_undo", "person", other, other, detail),
        ],
    )
    return undo_event


def _moved_tables(
    event: PersonLinkEvent, moved: dict[str, Any]
) -> tuple[dict[str, tuple[Any, Any]], int, int]:
    """The tables whose rows an undo moves back, and from which person to which."""
    keep, other = event.keep_person_id, event.other_person_id
    if event.kind == "merge":
        return {label: MOVABLE[label] for label in MOVABLE if moved.get(label)}, keep, other
    tables = {
        "source_records": MOVABLE["source_records"],
        "documents": MOVABLE["documents"],
    }
    return tables, other, keep


def _ensure_undoable(
    session: Session,
    event: PersonLinkEvent,
    moved: dict[str, Any],
    tables: dict[str, tuple[Any, Any]],
    back_from: int,
) -> Any:
    """409 `mpi.undo_stale` unless every moved row is still where the event put it (and, for a merge, the
    retirement is still current knowledge); returns that retirement row (None for a split)."""
    for label, (table, column) in tables.items():
        ids = moved.get(label) or []
        still = (
            session.execute(
                select(func.count()).select_from(table).where(table.id.in_(ids), column == back_from)
            ).scalar_one()
            if ids
            else 0
        )
        if still != len(ids):
            raise _stale(event.id, label)
    if event.kind != "merge":
        return None
    retired = session.get(persons.PERSON.version, moved["retired_row_id"])
    if retired is None or retired.superseded_at is not None:
        raise _stale(event.id, "person")
    return retired


def _move_back(
    session: Session, moved: dict[str, Any], tables: dict[str, tuple[Any, Any]], back_to: int
) -> None:
    for label, (table, column) in tables.items():
        ids = moved.get(label) or []
        for chunk in chunks(ids):
            session.execute(
                update(table)
                .where(table.id.in_(chunk))
                .values({column.key: back_to})
                .execution_options(synchronize_session=False)
            )


def _reopen_reviews(session: Session, event: PersonLinkEvent) -> list[int]:
    """A merge decided in the review queue: undoing it takes the decision back, so the pair waits again."""
    reopened = list(
        session.execute(
            select(MatchReview.id).where(
                MatchReview.link_event_id == event.id, MatchReview.status == rules.LINKED
            )
        ).scalars()
    )
    if reopened:
        session.execute(
            update(MatchReview)
            .where(MatchReview.id.in_(reopened))
            .values(status=rules.PENDING, decided_by=None, decided_at=None, reason=None, link_event_id=None)
            .execution_options(synchronize_session=False)
        )
    return reopened


def _retire(session: Session, ctx: Context, person_id: int, version: int, *, what: str, reason: str) -> int:
    """Retire a person merged away or split off again through the registry (the MPI action's permission; the
    action's own audit entries name it), from today or its open version's start; returns the retirement's row."""
    current = registry.open_versions(session, persons.PERSON, [person_id])[person_id]
    effective = _closing(session, person_id, ctx.today)
    versions = registry.retire_many(
        session,
        ctx,
        [registry.Retirement(persons.PERSON, current, effective, expected_version=version)],
        prov=_system_prov(what),
        reason=reason,
        permissions=["person.link"],
        events=[],  # the MPI action writes its own entries (person.merge / merged_away / *_undo)
    )
    new_version = versions[persons.PERSON][person_id]
    return int(
        session.execute(
            select(PersonVersion.row_id).where(
                PersonVersion.entity_id == person_id,
                PersonVersion.version == new_version,
                PersonVersion.superseded_at.is_(None),
            )
        ).scalar_one()
    )


def _unretire(session: Session, ctx: Context, person_id: int, retired: Any, reason: str) -> None:
    """The retirement was wrong: a new current version with the same facts, open again, corrects it."""
    person = session.get(Person, person_id)
    assert person is not None
    registry.correct_many(
        session,
        ctx,
        persons.PERSON,
        [registry.CorrectItem(person_id, person.version, row_id=retired.row_id, reopen=True)],
        prov=_system_prov("undo"),
        reason=reason[:500],
        permission="person.link",
        audit_mode="caller",
    )


def event_view(event: PersonLinkEvent) -> dict[str, Any]:
    """The API shape of a link event."""
    return {
        "id": event.id,
        "kind": event.kind,
        "keep_person_id": event.keep_person_id,
        "other_person_id": event.other_person_id,
        "moved": json.loads(event.moved),
        "reason": event.reason,
        "forced": event.forced,
        "actor": event.actor_name,
        "at": event.at,
        "undoes_id": event.undoes_id,
        "undone_by": event.undone_by,
    }


def get_event(session: Session, ctx: Context, event_id: int) -> dict[str, Any]:
    """A merge or split as recorded."""
    ctx.actor.ensure("person.link")
    event = _event_in_scope(session, ctx, event_id)
    registry.log(
        ctx, session, [audit.Event("mpi.event_read", "person_link_event", event.id, event.keep_person_id)]
    )
    return event_view(event)
