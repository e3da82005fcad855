"""The review desk: conflicts a batch queued (accept the department's value or reject it) and feedback on doubted
values, with working-day deadlines."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.rules import Actor
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.departments import rules
from liangshi.departments.models import DepartmentBatch, ExchangeConflict, Feedback
from liangshi.departments.service.agreements import _liaison_agreement, kinds
from liangshi.departments.service.batch_rows import _parse_value
from liangshi.departments.service.feeds_in import _feed_writer
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.registry import Context, Provenance
from liangshi.residence import service as residence
from liangshi.residence.calendar import HolidayCalendar
from liangshi.residence.schemas import DeathIn
from liangshi.schemas import ProvenanceIn


def _apply(
    session: Session,
    writer: Context,
    person_id: int,
    changes: dict[str, Any],
    prov: Provenance,
    reason: str,
) -> None:
    """Write a department's values through the registry (change from today; a death through the death use case)."""
    death = changes.pop("death_date", None)
    if changes:
        person = session.get(persons.PERSON.entity, person_id)
        assert person is not None
        registry.change(
            session,
            writer,
            persons.PERSON,
            person_id,
            changes,
            expected_version=person.version,
            effective=writer.today,
            prov=prov,
            reason=reason,
            check=persons.person_check(session, writer),
        )
    if death is not None:
        person = session.get(persons.PERSON.entity, person_id)
        assert person is not None
        residence.register_death(
            session,
            writer,
            person_id,
            DeathIn(
                expected_version=person.version,
                death_date=death,
                note=reason[:500],
                provenance=ProvenanceIn(
                    source_kind="department",
                    source_ref=prov.source_ref,
                    evidence="document",
                    document_ref=prov.document_ref,
                ),
            ),
        )


# ---- conflicts -------------------------------------------------------------------------------------------------


def _in_scope(actor: Actor) -> Any:
    return select(Area.id).where(Area.path.startswith(actor.area_path))


def conflict_view(c: ExchangeConflict) -> dict[str, Any]:
    """A conflict as shown in the review queue."""
    return {
        "id": c.id,
        "object_kind": c.object_kind,
        "object_id": c.object_id,
        "field": c.field,
        "register_value": c.register_value,
        "department_value": c.department_value,
        "department": c.department,
        "batch_id": c.batch_id,
        "line": c.line,
        "status": c.status,
        "created_at": c.created_at.isoformat(),
        "decided_by": c.decided_by,
        "decided_at": c.decided_at.isoformat() if c.decided_at else None,
        "reason": c.reason,
    }


def list_conflicts(
    session: Session,
    ctx: Context,
    *,
    status: str | None,
    department: str | None,
    offset: int,
    limit: int,
    open_first: bool = False,
) -> tuple[list[ExchangeConflict], int]:
    """Conflicts in the caller's jurisdiction, oldest first (`open_first`: the open ones before the decided)."""
    ctx.actor.ensure("conflict.decide")
    stmt = select(ExchangeConflict).where(ExchangeConflict.area_id.in_(_in_scope(ctx.actor)))
    if status:
        stmt = stmt.where(ExchangeConflict.status == status)
    if department:
        stmt = stmt.where(ExchangeConflict.department == department)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order = [ExchangeConflict.id]
    if open_first:
        order.insert(0, case((ExchangeConflict.status == "open", 0), else_=1))  # type: ignore[arg-type]
    rows = session.execute(stmt.order_by(*order).offset(offset).limit(limit)).scalars().all()
    return list(rows), int(total)


def _conflict_in_scope(session: Session, ctx: Context, conflict_id: int) -> ExchangeConflict:
    ctx.actor.ensure("conflict.decide")
    c = session.execute(
        select(ExchangeConflict).where(
            ExchangeConflict.id == conflict_id, ExchangeConflict.area_id.in_(_in_scope(ctx.actor))
        )
    ).scalar_one_or_none()
    if c is None:
        raise NotFound("conflict.not_found", "未找到该冲突", "Conflict not found", {"id": conflict_id})
    return c


def get_conflict(session: Session, ctx: Context, conflict_id: int) -> dict[str, Any]:
    """One conflict with its batch (file, time received), for the side-by-side decision; out of scope: 404."""
    c = _conflict_in_scope(session, ctx, conflict_id)
    batch = session.get(DepartmentBatch, c.batch_id)
    view = conflict_view(c)
    view["batch_file"] = batch.file_name if batch else None
    view["batch_received_at"] = batch.received_at.isoformat() if batch else None
    return view


def decide_conflict(
    session: Session, ctx: Context, conflict_id: int, *, accept: bool, reason: str
) -> ExchangeConflict:
    """Accept the department's value (written through the registry with the batch as provenance) or reject it."""
    c = _conflict_in_scope(session, ctx, conflict_id)
    if c.status != "open":
        raise Conflict(
            "conflict.already_decided",
            "该冲突已处理",
            "The conflict was already decided",
            {"status": c.status},
        )
    if accept:
        batch = session.get(DepartmentBatch, c.batch_id)
        assert batch is not None
        value = _parse_value(c.field, c.department_value or "", ctx.today) if c.department_value else None
        prov = Provenance(
            "department", f"batch:{c.batch_id}", "document", f"{c.department} {batch.file_name}"[:200]
        )
        _apply(
            session, ctx, c.object_id, {c.field: value}, prov, f"采纳部门数据 {c.department}: {reason}"[:500]
        )
    c.status = "accepted" if accept else "rejected"
    c.decided_by = ctx.actor.user_id
    c.decided_at = ctx.now
    c.reason = reason
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                f"conflict.{c.status}",
                c.object_kind,
                c.object_id,
                c.object_id if c.object_kind == "person" else None,
                {"conflict_id": c.id, "field": c.field, "department": c.department, "reason": reason},
            )
        ],
    )
    return c


# ---- feedback --------------------------------------------------------------------------------------------------


def feedback_view(f: Feedback, today: dt.date) -> dict[str, Any]:
    """A feedback item with its deadlines and which of them passed."""
    return {
        "id": f.id,
        "department": f.department,
        "object_kind": f.object_kind,
        "object_id": f.object_id,
        "attribute": f.attribute,
        "reason": f.reason,
        "suggested_value": f.suggested_value,
        "flag_id": f.flag_id,
        "filed_at": f.filed_at.isoformat(),
        "pickup_due": f.pickup_due.isoformat(),
        "decision_due": f.decision_due.isoformat(),
        "picked_up_at": f.picked_up_at.isoformat() if f.picked_up_at else None,
        "decided_at": f.decided_at.isoformat() if f.decided_at else None,
        "outcome": f.outcome,
        "note": f.note,
        "status": "decided" if f.decided_at else "picked_up" if f.picked_up_at else "open",
        "overdue": rules.overdue(
            today=today,
            pickup_due=f.pickup_due,
            decision_due=f.decision_due,
            picked_up=f.picked_up_at is not None,
            decided=f.decided_at is not None,
        ),
    }


def file_feedback(
    session: Session,
    ctx: Context,
    *,
    object_kind: str,
    object_id: int,
    attribute: str,
    reason: str,
    suggested_value: str | None,
    calendar: HolidayCalendar,
    decision_days: int,
) -> Feedback:
    """A department doubts a value: the attribute is flagged under investigation (存疑待查) with deadlines —
    pick-up within 2 working days, a decision within `decision_days` working days."""
    ctx.actor.ensure("department.exchange")
    dept, agreement = _liaison_agreement(session, ctx)
    kind = kinds().get(object_kind)
    allowed = set(json.loads(agreement.reads).get(object_kind, [])) | set(
        json.loads(agreement.provides).get(object_kind, [])
    )
    if kind is None or attribute not in allowed or attribute not in kind.attributes:
        raise Forbidden(
            "department.field_not_shared",
            "只能对协议约定读取或报送的字段提出反馈",
            "Feedback is possible only on fields the agreement lets the department read or provide",
            {"field": "attribute", "kind": object_kind, "attribute": attribute},
        )
    writer = _feed_writer(ctx, f"{dept.code} 反馈: {agreement.purpose}")
    entity = registry.get_entity(session, kind, object_id, ctx.actor)
    flag = registry.flag(
        session,
        writer,
        kind,
        object_id,
        attribute=attribute,
        reason=f"[{dept.code}] {reason}"[:500],
        expected_version=entity.version,
    )
    row = Feedback(
        department=dept.code,
        object_kind=object_kind,
        object_id=object_id,
        attribute=attribute,
        reason=reason,
        suggested_value=suggested_value,
        flag_id=flag.id,
        filed_by=ctx.actor.user_id,
        filed_at=ctx.now,
        pickup_due=rules.add_working_days(ctx.today, 2, calendar),
        decision_due=rules.add_working_days(ctx.today, decision_days, calendar),
        area_id=entity.area_id,
        county_code=entity.county_code,
    )
    session.add(row)
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "feedback.file",
                object_kind,
                object_id,
                registry.subject_of(kind, entity),
                {"feedback_id": row.id},
            )
        ],
    )
    return row


def _handled_feedback(session: Session, ctx: Context, feedback_id: int) -> Feedback:
    ctx.actor.ensure("feedback.handle")
    f = session.execute(
        select(Feedback).where(Feedback.id == feedback_id, Feedback.area_id.in_(_in_scope(ctx.actor)))
    ).scalar_one_or_none()
    if f is None:
        raise NotFound("feedback.not_found", "未找到该反馈", "Feedback not found", {"id": feedback_id})
    if f.decided_at is not None:
        raise Conflict(
            "feedback.already_decided", "该反馈已办结", "The feedback was already decided", {"id": f.id}
        )
    return f


def pick_up_feedback(session: Session, ctx: Context, feedback_id: int) -> Feedback:
    """The holder of the value takes the feedback up (签收)."""
    f = _handled_feedback(session, ctx, feedback_id)
    if f.picked_up_at is not None:
        raise Conflict(
            "feedback.already_picked_up", "该反馈已签收", "The feedback was already picked up", {"id": f.id}
        )
    f.picked_up_at = ctx.now
    f.picked_up_by = ctx.actor.user_id
    session.flush()
    registry.log(
        ctx,
        session,
        [audit.Event("feedback.pickup", f.object_kind, f.object_id, None, {"feedback_id": f.id})],
    )
    return f


def decide_feedback(
    session: Session, ctx: Context, feedback_id: int, *, outcome: str, note: str, value: str | None
) -> Feedback:
    """Settle a feedback: `confirmed` (the register stands) or `corrected` (with the right value, a correction);
    the 'under investigation' flag is resolved either way."""
    f = _handled_feedback(session, ctx, feedback_id)
    kind = kinds()[f.object_kind]
    if outcome not in ("confirmed", "corrected"):
        raise ValidationFailed(
            "feedback.outcome_invalid",
            "结论须为 confirmed 或 corrected",
            "Outcome must be confirmed or corrected",
            {"field": "outcome"},
        )
    if outcome == "corrected":
        if value is None:
            raise ValidationFailed(
                "feedback.value_required",
                "更正须给出正确的值",
                "A correction needs the right value",
                {"field": "value"},
            )
        entity = registry.get_entity(session, kind, f.object_id, ctx.actor, write=True)
        new = _parse_value(f.attribute, value, ctx.today) if f.object_kind == "person" else value

        registry.correct(
            session,
            ctx,
            kind,
            f.object_id,
            {f.attribute: new},
            expected_version=entity.version,
            row_id=None,
            prov=Provenance("department", f"feedback:{f.id}", "document", f.department),
            reason=f"部门反馈 {f.department}: {note}"[:500],
            check=persons.person_check(session, ctx) if f.object_kind == "person" else None,
        )
    entity = registry.get_entity(session, kind, f.object_id, ctx.actor, write=True)
    registry.resolve_flag(
        session,
        ctx,
        kind,
        f.object_id,
        flag_id=f.flag_id,
        resolution=f"{outcome}: {note}"[:500],
        expected_version=entity.version,
    )
    if f.picked_up_at is None:
        f.picked_up_at, f.picked_up_by = ctx.now, ctx.actor.user_id
    f.decided_at, f.decided_by, f.outcome, f.note = ctx.now, ctx.actor.user_id, outcome, note
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "feedback.decide", f.object_kind, f.object_id, None, {"feedback_id": f.id, "outcome": outcome}
            )
        ],
    )
    return f


def list_feedback(
    session: Session, ctx: Context, *, overdue: bool, offset: int, limit: int
) -> tuple[list[Feedback], int]:
    """Feedback a liaison filed for their department, or feedback in a handler's jurisdiction; `overdue`: only
    items whose pick-up or decision deadline has passed."""
    stmt = select(Feedback)
    if ctx.actor.may("feedback.handle"):
        stmt = stmt.where(Feedback.area_id.in_(_in_scope(ctx.actor)))
    else:
        ctx.actor.ensure("department.exchange")
        stmt = stmt.where(Feedback.department == (ctx.actor.department or ""))
    if overdue:
        stmt = stmt.where(
            Feedback.decided_at.is_(None),
            or_(
                Feedback.decision_due < ctx.today,
                and_(Feedback.picked_up_at.is_(None), Feedback.pickup_due < ctx.today),
            ),
        )
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Feedback.id).offset(offset).limit(limit)).scalars().all()
    return list(rows), int(total)
