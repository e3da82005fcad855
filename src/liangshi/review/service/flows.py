"""The flows the same desk carries besides collected work: department records waiting for the community they
concern to claim them (认领), and one unit's change to a person another unit holds (业务协同: the holder agrees or
refuses, the station above both rules on a refusal)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.areas.models import Area
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.mpi.models import PersonSourceRecord  # the link row a claim settles (mpi's service imports us)
from liangshi.persons.models import PERSON
from liangshi.persons.rules import check_document_agrees
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import Context, Provenance, changesets, get_entity
from liangshi.registry.changesets import ChangeSet, Proposed
from liangshi.review.schemas import ChangeSetRead
from liangshi.review.service.desk import _applied, _reads, changesets_not_found, payload_of, stale_reasons

# ---- 认领: a department record for a person who lives in a community waits for that community ----------------


def _of_flow(cs: ChangeSet, flow: str) -> ChangeSet:
    if cs.flow != flow:
        raise changesets_not_found(cs.id)
    return cs


def _payload_set(cs: ChangeSet, **values: Any) -> None:
    cs.payload = json.dumps({**payload_of(cs), **values}, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ClaimRecord:
    """A department record to hold for its community's claim: the validated person (with documents), where it
    waits, and which record it is (`source_record_pks`: the master index's rows it settles, when it came through
    the master index: the records of one batch that are one person)."""

    area_id: int
    person: PersonCreate
    source: str
    record_id: str
    source_record_pks: tuple[int, ...] = ()


def open_claims(
    session: Session, ctx: Context, records: Sequence[ClaimRecord], *, source_ref: str | None = None
) -> list[ChangeSet]:
    """Hold validated department records for their communities to claim (认领): one change set each (a person and
    their documents), status `pending_claim`, the department as source. The caller checked the sender's right
    to send them (a department under its agreement, the master index); the kernel checks the area is in scope."""
    made: list[ChangeSet] = []
    for r in records:
        attrs = r.person.model_dump(include=set(PERSON.attributes))
        items = [Proposed("create", "person", key="person", area_id=r.area_id, attributes=attrs)]
        for n, doc in enumerate(r.person.documents):
            check_document_agrees(
                doc.doc_type, doc.number, birth_date=attrs["birth_date"], sex=attrs["sex"], today=ctx.today
            )
            items.append(
                Proposed(
                    "create",
                    "document",
                    key=f"document{n}",
                    area_id=r.area_id,
                    attributes={
                        "doc_type": doc.doc_type,
                        "number": doc.number,
                        "country": doc.country or "CHN",
                    },
                    refs={"person_id": {"key": "person"}},
                    permission="person.write",
                )
            )
        payload: dict[str, Any] = {"source": r.source, "record_id": r.record_id}
        if r.source_record_pks:
            payload["source_record_pks"] = list(r.source_record_pks)
        made.append(
            changesets.propose(
                session,
                ctx,
                area_id=r.area_id,
                flow="claim",
                action="department_record",
                summary=str(attrs.get("name") or r.record_id),
                items=items,
                prov=Provenance("department", (source_ref or f"{r.source}:{r.record_id}")[:100], "document"),
                tags=[r.source[:30]],
                payload=payload,
                status="pending_claim",
            )
        )
    return made


def propose_claim(
    session: Session,
    ctx: Context,
    *,
    area_id: int,
    person: dict[str, Any],
    documents: Sequence[dict[str, Any]],
    source: str,
    record_id: str,
) -> ChangeSet:
    """A department record of a person who matches nobody, held for the community it names to claim (认领)
    instead of becoming a person at once. `person` are the person's items and `documents` their documents, as
    `POST /persons` takes them (validated here: 422 on bad input). Sent by a department (`department.exchange`);
    404 outside the sender's jurisdiction."""
    ctx.actor.ensure("department.exchange")
    data = PersonCreate.model_validate(
        {**person, "area_id": area_id, "documents": list(documents)}, context=validation_context(ctx.today)
    )
    return open_claims(session, ctx, [ClaimRecord(area_id, data, source, record_id)])[0]


def area_id_of(session: Session, code: str) -> int:
    """The area with this code (a community the record belongs to), or 404 `area.not_found`."""
    found = session.execute(select(Area.id).where(Area.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area_code", "code": code}
        )
    return int(found)


def claim_desk(session: Session, ctx: Context, *, limit: int = 200) -> list[ChangeSetRead]:
    """Department records waiting for a claim by a community of the actor's jurisdiction, oldest first."""
    ctx.actor.ensure("department.claim")
    c = ChangeSet
    rows = list(
        session.execute(
            select(c)
            .where(
                c.flow == "claim", c.status == "pending_claim", c.area_path.startswith(ctx.actor.area_path)
            )
            .order_by(c.proposed_at, c.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return _reads(session, rows, items=True)


def claim(
    session: Session,
    ctx: Context,
    change_set_id: int,
    decision: str,
    *,
    area_id: int | None = None,
    duplicate_of: int | None = None,
) -> ChangeSetRead:
    """Decide a department record held for a claim: `claimed` (the person becomes a registry fact in this
    community, the department as source), `elsewhere` (handed to the community it belongs to, `area_id`),
    `duplicate` (the person is already registered: `duplicate_of`; nothing is written). 404 for a record outside
    the actor's jurisdiction; 409 when already decided."""
    ctx.actor.ensure("department.claim")
    cs = _of_flow(changesets.load(session, ctx, change_set_id), "claim")
    if decision == "claimed":
        changesets.LIFECYCLE.ensure(cs.status, "claim", id=cs.id)
        reasons = stale_reasons(session, cs)
        if reasons:
            raise changesets.conflict_stale(cs, reasons)
        changesets.decide(session, ctx, cs, "claim", "approved")
        _applied(session, ctx, [cs])
        made = json.loads(cs.result or "{}").get("person") or [None]
        _settle_source_record(session, ctx, cs, "new", made[0])
    elif decision == "elsewhere":
        if area_id is None:
            raise ValidationFailed(
                "changeset.area_required",
                "请选择该记录所属的社区",
                "Choose the community the record belongs to",
                {"field": "area_id"},
            )
        moved_from = [*payload_of(cs).get("moved_from", []), cs.area_id]
        changesets.move(session, ctx, cs, area_id)
        _payload_set(cs, moved_from=moved_from)
    elif decision == "duplicate":
        if duplicate_of is not None:
            registry_read_check(session, ctx, duplicate_of)
        changesets.decide(session, ctx, cs, "mark_duplicate", "duplicate", {"duplicate_of": duplicate_of})
        _payload_set(cs, duplicate_of=duplicate_of)
        _settle_source_record(
            session, ctx, cs, "linked" if duplicate_of is not None else "claim", duplicate_of
        )
    else:
        raise ValidationFailed(
            "changeset.decision_unknown",
            "处理决定无效",
            "Unknown decision",
            {"field": "decision", "allowed": ["claimed", "elsewhere", "duplicate"]},
        )
    session.flush()
    return _reads(session, [cs])[0]


def _settle_source_record(
    session: Session, ctx: Context, cs: ChangeSet, status: str, person_id: int | None
) -> None:
    """A claim decided on a record that came through the master person index settles its link row: claimed, the
    person it made (`new`); a duplicate, the person it duplicates (`linked`); undone, back to `claim`. The link
    row is the index's bookkeeping, not a registry fact (no version row)."""
    for pk in payload_of(cs).get("source_record_pks", []):
        record = session.get(PersonSourceRecord, int(pk))
        if record is not None:
            record.status, record.person_id, record.updated_at = status, person_id, ctx.now


def registry_read_check(session: Session, ctx: Context, person_id: int) -> None:
    """The person a record duplicates must be one the actor can see (404 otherwise)."""
    get_entity(session, PERSON, person_id, ctx.actor)


def undo_claim(session: Session, ctx: Context, change_set_id: int) -> ChangeSetRead:
    """Take back a claim decision that wrote nothing: a duplicate goes back to awaiting its claim; a record
    handed elsewhere comes back to the community that handed it on (from either side). A claimed record is a
    registry fact: it is corrected or retired as such (409 `changeset.nothing_to_undo`)."""
    ctx.actor.ensure("department.claim")
    c = ChangeSet
    cs = session.execute(select(c).where(c.id == change_set_id, c.flow == "claim")).scalar_one_or_none()
    if cs is None:
        raise changesets_not_found(change_set_id)
    moved_from = list(payload_of(cs).get("moved_from", []))
    covers_now = cs.area_path.startswith(ctx.actor.area_path)
    if cs.status == "duplicate" and covers_now:
        changesets.decide(session, ctx, cs, "reopen", "pending_claim")
        _settle_source_record(session, ctx, cs, "claim", None)
    elif cs.status == "pending_claim" and moved_from:
        back = session.get(Area, moved_from[-1])
        if back is None or not (covers_now or back.path.startswith(ctx.actor.area_path)):
            raise changesets_not_found(change_set_id)
        changesets.move(session, ctx, cs, back.id)
        _payload_set(cs, moved_from=moved_from[:-1])
    elif covers_now:
        raise Conflict(
            "changeset.nothing_to_undo",
            "该记录没有可撤销的处理（已认领的记录已成为登记信息，请更正或注销）",
            "Nothing to undo (a claimed record is a registry fact now: correct or retire it)",
            {"id": cs.id, "status": cs.status},
        )
    else:
        raise changesets_not_found(change_set_id)
    session.flush()
    return _reads(session, [cs])[0]


# ---- 业务协同: one unit's change to a person another unit holds --------------------------------------------------


def propose_cross_unit(
    session: Session,
    ctx: Context,
    person_id: int,
    changes: dict[str, Any],
    *,
    expected_version: int,
    reason: str,
) -> ChangeSet:
    """A change to a person another unit holds (the person lives in the proposer's area but is registered
    elsewhere): it goes to the holder to agree or refuse (业务协同). 422 `changeset.not_cross_unit` for a person
    the proposer holds (they change it themselves); 404 for a person they cannot see."""
    ctx.actor.ensure("person.write")
    person = get_entity(session, PERSON, person_id, ctx.actor)
    holder = session.get(Area, person.area_id)
    assert holder is not None
    if holder.path.startswith(ctx.actor.area_path):
        raise ValidationFailed(
            "changeset.not_cross_unit",
            "该人员由本单位持有，请直接修改",
            "Your unit holds this person: change it directly",
            {"field": "person_id"},
        )
    unknown = sorted(set(changes) - set(PERSON.attributes))
    if unknown or not changes:
        raise ValidationFailed(
            "changeset.fields_invalid",
            "变更内容无效",
            "The changed fields are not a person's items",
            {"field": "changes", "unknown": unknown},
        )
    return changesets.propose(
        session,
        ctx,
        area_id=holder.id,
        flow="cross_unit",
        action="cross_unit_change",
        summary=str(changes.get("name") or "") or f"#{person.id}",
        items=[
            Proposed(
                "change",
                "person",
                entity_id=person.id,
                base_version=expected_version,
                attributes=dict(changes),
                effective=ctx.today,
                reason=reason,
                permission="person.write",
            )
        ],
        prov=Provenance("collector", ctx.actor.username, "observed"),
        tags=sorted(changes),
        subject_person_id=person.id,
        payload={
            "person_id": person.id,
            "initiator_area_id": ctx.actor.area_id,
            "initiator_area_path": ctx.actor.area_path,
            "reason": reason,
        },
        status="pending_holder",
        require_scope=False,
    )


def coordination_desk(session: Session, ctx: Context, *, limit: int = 200) -> list[ChangeSetRead]:
    """Cross-unit changes waiting for the actor's unit to agree or refuse (persons it holds), and, for a role
    that rules, the refused ones of its jurisdiction; field by field, oldest first."""
    ctx.actor.ensure("person.write")
    statuses = ["pending_holder"] + (["disputed"] if ctx.actor.may("dispute.rule") else [])
    c = ChangeSet
    rows = list(
        session.execute(
            select(c)
            .where(
                c.flow == "cross_unit", c.status.in_(statuses), c.area_path.startswith(ctx.actor.area_path)
            )
            .order_by(c.proposed_at, c.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return _reads(session, rows, items=True)


def _reason_given(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            "changeset.reason_required",
            "必须填写原因（退回、拒绝或裁决）",
            "A reason is required (to return, refuse or rule)",
            {"field": "reason"},
        )
    return text[:1000]


def holder_decision(
    session: Session, ctx: Context, change_set_id: int, *, agree: bool, reason: str | None = None
) -> ChangeSetRead:
    """The holder agrees (the change becomes a registry fact) or refuses with a reason (a dispute for the
    station above both). 404 outside the holder's jurisdiction; the proposer never decides their own."""
    ctx.actor.ensure("person.write")
    cs = _of_flow(changesets.load(session, ctx, change_set_id), "cross_unit")
    changesets.ensure_not_own(ctx, cs)
    if agree:
        changesets.LIFECYCLE.ensure(cs.status, "agree", id=cs.id)
        reasons = stale_reasons(session, cs)
        if reasons:
            raise changesets.conflict_stale(cs, reasons)
        changesets.decide(session, ctx, cs, "agree", "approved")
        _applied(session, ctx, [cs])
    else:
        text = _reason_given(reason)
        changesets.decide(session, ctx, cs, "refuse", "disputed", {"reason": text})
        cs.return_reason, cs.returned_by, cs.returned_at = text, ctx.actor.user_id, ctx.now
    session.flush()
    return _reads(session, [cs])[0]


RULINGS = ("initiator", "holder", "both", "neither")


def rule_dispute(
    session: Session, ctx: Context, change_set_id: int, ruling: str, reason: str | None
) -> ChangeSetRead:
    """The station above both units rules on a refused cross-unit change: `initiator` or `both` right (the change
    becomes a registry fact), `holder` or `neither` (closed, nothing written). 403 `dispute.not_above_both` for a
    station that does not cover both units, 403 `dispute.party` for the initiator or the holder who refused."""
    ctx.actor.ensure("dispute.rule")
    if ruling not in RULINGS:
        raise ValidationFailed(
            "dispute.ruling_unknown",
            "裁决结果无效",
            "Unknown ruling",
            {"field": "ruling", "allowed": list(RULINGS)},
        )
    text = _reason_given(reason)
    cs = _of_flow(changesets.load(session, ctx, change_set_id), "cross_unit")
    changesets.LIFECYCLE.ensure(cs.status, "rule", id=cs.id)
    initiator = str(payload_of(cs).get("initiator_area_path") or "")
    if not initiator.startswith(ctx.actor.area_path):
        raise Forbidden(
            "dispute.not_above_both",
            "只有同时管辖双方单位的上级派出所才能裁决",
            "Only the station above both units may rule",
            {"id": cs.id},
        )
    if ctx.actor.user_id in (cs.proposer_id, cs.returned_by):
        raise Forbidden(
            "dispute.party",
            "争议一方不能裁决本争议",
            "A party to the dispute cannot rule on it",
            {"id": cs.id},
        )
    if ruling in ("initiator", "both"):
        reasons = stale_reasons(session, cs)
        if reasons:
            raise changesets.conflict_stale(cs, reasons)
        changesets.decide(session, ctx, cs, "rule", "approved", {"ruling": ruling, "reason": text})
        _applied(session, ctx, [cs])
    else:
        changesets.decide(session, ctx, cs, "rule", "closed", {"ruling": ruling, "reason": text})
    _payload_set(cs, ruling=ruling, ruling_reason=text)
    session.flush()
    return _reads(session, [cs])[0]
