"""The review queue: uncertain pairs listed, shown side by side, and decided by a person."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.common.idnumber import mask_id_number
from liangshi.errors import NotFound, ValidationFailed
from liangshi.mpi import rules
from liangshi.mpi.models import MatchReview, PersonSourceRecord
from liangshi.mpi.service.merges import merge, reason_given, retired_refusal
from liangshi.mpi.service.records import MasterRow, Norm, document_holders, master_rows, person_input
from liangshi.persons import service as persons
from liangshi.persons.models import Person
from liangshi.registry import Context, history
from liangshi.review import service as review_desk

FIELDS = ("name", "sex", "birth_date", "id_number", "phone", "address")


# ---- the review queue ------------------------------------------------------------------------------------------


def _visible_persons(ctx: Context) -> Any:
    return registry.scoped(select(Person.id), persons.PERSON, ctx.actor)


def list_reviews(
    session: Session, ctx: Context, *, status: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Reviews whose candidate person is in the jurisdiction, pending first, oldest first; audited."""
    ctx.actor.ensure("person.link")
    if status is not None and status not in rules.REVIEW_STATUSES:
        raise ValidationFailed(
            "mpi.review_status_unknown",
            "审核状态无效",
            "Unknown review status",
            {"field": "status", "allowed": list(rules.REVIEW_STATUSES)},
        )
    base = select(MatchReview).where(MatchReview.candidate_person_id.in_(_visible_persons(ctx)))
    if status is not None:
        base = base.where(MatchReview.status == status)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    order = case((MatchReview.status == rules.PENDING, 0), else_=1)
    reviews = list(
        session.execute(
            base.order_by(order, MatchReview.created_at, MatchReview.id).offset(offset).limit(limit)
        ).scalars()
    )
    records = _records_of(session, [r.source_record_pk for r in reviews if r.source_record_pk])
    names = persons.names_on(
        session,
        [p for r in reviews for p in (r.candidate_person_id, r.left_person_id) if p is not None],
        ctx.today,
    )
    items = []
    for r in reviews:
        rec = records.get(r.source_record_pk or 0)
        items.append(
            {
                "id": r.id,
                "status": r.status,
                "probability": r.probability,
                "source": rec.source if rec else "register",
                "source_record_id": rec.source_record_id if rec else None,
                "left_person_id": r.left_person_id,
                "left_name": rec.name if rec else names.get(r.left_person_id or 0),
                "candidate_person_id": r.candidate_person_id,
                "candidate_name": names.get(r.candidate_person_id),
                "created_at": r.created_at,
                "decided_at": r.decided_at,
            }
        )
    registry.log(
        ctx,
        session,
        [audit.Event("mpi.review_list", "match_review", r.id, r.candidate_person_id) for r in reviews],
    )
    return items, int(total)


def _records_of(session: Session, pks: Sequence[int]) -> dict[int, PersonSourceRecord]:
    if not pks:
        return {}
    return {
        r.id: r
        for r in session.execute(
            select(PersonSourceRecord).where(PersonSourceRecord.id.in_(set(pks)))
        ).scalars()
    }


def _review_in_scope(session: Session, ctx: Context, review_id: int) -> MatchReview:
    review = session.execute(
        select(MatchReview).where(
            MatchReview.id == review_id, MatchReview.candidate_person_id.in_(_visible_persons(ctx))
        )
    ).scalar_one_or_none()
    if review is None:
        raise NotFound("mpi.review_not_found", "未找到该比对审核", "Review not found", {"id": review_id})
    return review


def _side(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: values.get(k) for k in FIELDS}
    if out["birth_date"] is not None:
        out["birth_date"] = str(out["birth_date"])
    if out["id_number"]:
        out["id_number"] = mask_id_number(str(out["id_number"]))
    return out


def _row_values(row: MasterRow | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {k: getattr(row, k) for k in FIELDS}


def review_detail(session: Session, ctx: Context, review_id: int) -> dict[str, Any]:
    """One review side by side: both records field by field (ID numbers masked) with the per-field evidence."""
    ctx.actor.ensure("person.link")
    review = _review_in_scope(session, ctx, review_id)
    rec = session.get(PersonSourceRecord, review.source_record_pk) if review.source_record_pk else None
    wanted = [review.candidate_person_id] + ([review.left_person_id] if review.left_person_id else [])
    rows = master_rows(session, wanted)
    if rows.get(review.candidate_person_id) is None:
        # A retired candidate (merged away since): its last known facts.
        rows.update(_retired_rows(session, wanted))
    left = {k: getattr(rec, k) for k in FIELDS} if rec else _row_values(rows.get(review.left_person_id or 0))
    right = _row_values(rows.get(review.candidate_person_id))
    evidence = json.loads(review.evidence)
    by_field = {e["field"]: e for e in evidence}
    fields = [
        {
            "field": f,
            "left": _side(left)[f],
            "right": _side(right)[f],
            "level": by_field.get(f, {}).get("level"),
            "weight": by_field.get(f, {}).get("weight"),
        }
        for f in FIELDS
    ]
    subjects = [p for p in wanted if p is not None]
    registry.log(
        ctx,
        session,
        [audit.Event("mpi.review_read", "match_review", review.id, p) for p in subjects],
    )
    return {
        "id": review.id,
        "status": review.status,
        "probability": review.probability,
        "weight": review.weight,
        "left": {
            "kind": "source_record" if rec else "person",
            "source": rec.source if rec else "register",
            "source_record_id": rec.source_record_id if rec else None,
            "person_id": review.left_person_id,
        },
        "right": {"kind": "person", "person_id": review.candidate_person_id},
        "fields": fields,
        "evidence": evidence,
        "decided_by": review.decided_by,
        "decided_at": review.decided_at,
        "reason": review.reason,
    }


def _retired_rows(session: Session, ids: Sequence[int]) -> dict[int, MasterRow]:
    out: dict[int, MasterRow] = {}
    for pid in ids:
        person = session.get(Person, pid)
        row = history.latest_row(session, persons.PERSON, pid)
        if person is None or row is None:
            continue
        docs = [(d.doc_type, d.number) for d in persons.current_documents(session, pid)]
        out[pid] = MasterRow(
            pid,
            person.area_id,
            person.county_code,
            row.name,
            row.sex,
            row.birth_date,
            docs[0][1] if docs else None,
            row.phone,
            None,
            docs,
        )
    return out


def decide(
    session: Session, ctx: Context, review_id: int, *, decision: str, reason: str, force: bool = False
) -> dict[str, Any]:
    """Decide a review: `same` links the record to the candidate (or merges two register persons; `force` merges
    them even when their valid ID numbers differ, as `merge` allows), `distinct` keeps them apart (a record with
    no pending candidate left then becomes a new person). Reason required."""
    ctx.actor.ensure("person.link")
    rules.ensure_decision(decision)
    reason = reason_given(reason)
    review = _review_in_scope(session, ctx, review_id)
    rules.ensure_pending(review.status, review.id)
    registry.get_entity(session, persons.PERSON, review.candidate_person_id, ctx.actor, write=True)
    event_id: int | None = None
    outcome: dict[str, Any] = {}
    if review.source_record_pk is not None:
        rec = session.get(PersonSourceRecord, review.source_record_pk)
        assert rec is not None
        if decision == "same":
            if history.open_row(session, persons.PERSON, review.candidate_person_id) is None:
                raise retired_refusal(review.candidate_person_id)
            rec.person_id = review.candidate_person_id
            rec.status = rules.LINKED
            rec.probability = review.probability
            rec.updated_at = ctx.now
            session.execute(
                update(MatchReview)
                .where(
                    MatchReview.source_record_pk == rec.id,
                    MatchReview.status == rules.PENDING,
                    MatchReview.id != review.id,
                )
                .values(status=rules.CLOSED, decided_by=ctx.actor.user_id, decided_at=ctx.now, reason=reason)
            )
        else:
            others = session.execute(
                select(func.count()).where(
                    MatchReview.source_record_pk == rec.id,
                    MatchReview.status == rules.PENDING,
                    MatchReview.id != review.id,
                )
            ).scalar_one()
            if not others:
                _settle_distinct(session, ctx, rec)
        outcome = {"record_status": rec.status, "person_id": rec.person_id}
    else:
        assert review.left_person_id is not None
        if decision == "same":
            keep, other = sorted((review.left_person_id, review.candidate_person_id))
            event = merge(session, ctx, keep, other, reason=reason, force=force)
            event_id = event.id
            outcome = {"person_id": keep, "merged": other, "event_id": event.id}
    review.status = rules.LINKED if decision == "same" else rules.DISTINCT
    review.decided_by = ctx.actor.user_id
    review.decided_at = ctx.now
    review.reason = reason
    review.link_event_id = event_id
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "mpi.review_decide",
                "match_review",
                review.id,
                review.candidate_person_id,
                {"decision": decision, "reason": reason, **outcome},
            )
        ],
    )
    return {"id": review.id, "status": review.status, "decision": decision, **outcome}


def _settle_distinct(session: Session, ctx: Context, rec: PersonSourceRecord) -> None:
    """A record every candidate of which was judged distinct is nobody known: it waits for its community to
    claim it (认领, issue 14) if it can make a person, else it is rejected."""
    n = Norm(rec.source_record_id, rec.name, rec.sex, rec.birth_date, rec.id_number, rec.phone, rec.address)
    held = document_holders(session, [rec.id_number]) if rec.id_number else {}
    data = person_input(n, rec.area_id, ctx.today, with_document=not held)
    if data is not None:
        review_desk.open_claims(
            session,
            ctx,
            [review_desk.ClaimRecord(rec.area_id, data, rec.source, rec.source_record_id, (rec.id,))],
            source_ref=rec.batch_ref or rec.source,
        )
    rec.person_id = None
    rec.status = rules.CLAIM if data is not None else rules.REJECTED
    rec.updated_at = ctx.now
