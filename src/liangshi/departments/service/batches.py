"""What a batch's sender is offered and has sent: the departments they may send for (each with its agreement in
force) and their own recent batches, as the web upload page shows them (the batch itself goes through
`feeds_in.submit_batch`, as over the API)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.departments import rules
from liangshi.departments.models import Agreement, Department, DepartmentBatch
from liangshi.departments.service.batch_rows import MAX_ROW_ERRORS
from liangshi.errors import Forbidden, LiangshiError, NotFound
from liangshi.registry import Context

RECENT_BATCHES = 20
# The refusals of a batch (its file, its rows, its size) kept as refused batches (`record_refused`).
KEPT_REFUSALS = (413, 422)


def ensure_may_send(ctx: Context) -> None:
    """403 unless the user may send a batch at all: a department's liaison (`department.exchange`) or an
    administrator who may act for any department (`department.manage`), as `submit_batch` requires."""
    if not ctx.actor.may("department.manage"):
        ctx.actor.ensure("department.exchange")


def senders(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """The departments the user may send a batch for, each with its agreement in force (a department without one
    is left out): a liaison's own department, every department for an administrator."""
    ensure_may_send(ctx)
    stmt = select(Department).order_by(Department.code)
    if not ctx.actor.may("department.manage"):
        stmt = stmt.where(Department.code == (ctx.actor.department or ""))
    depts = list(session.execute(stmt).scalars())
    found: list[dict[str, Any]] = []
    for d in depts:
        agreements = session.execute(
            select(Agreement).where(Agreement.department_id == d.id).order_by(Agreement.id.desc())
        ).scalars()
        for a in agreements:
            if rules.in_force(a.valid_from, a.valid_to, a.revoked_at is not None, ctx.today):
                found.append(
                    {
                        "code": d.code,
                        "name_zh": d.name_zh,
                        "name_en": d.name_en,
                        "agreement_id": a.id,
                        "purpose": a.purpose,
                        "all_or_nothing": a.all_or_nothing,
                    }
                )
                break
    return found


def _in_force(session: Session, dept: Department, ctx: Context) -> Agreement | None:
    for a in session.execute(
        select(Agreement).where(Agreement.department_id == dept.id).order_by(Agreement.id.desc())
    ).scalars():
        if rules.in_force(a.valid_from, a.valid_to, a.revoked_at is not None, ctx.today):
            return a
    return None


def record_refused(
    session: Session,
    ctx: Context,
    *,
    department: str,
    kind: str,
    file_name: str,
    sha256: str,
    refusal: LiangshiError,
) -> int | None:
    """Keep a batch refused as a whole (status `refused`, nothing applied) with its report: the refusal's code,
    status and messages and, for bad rows, their problems (line, field, code, messages). Called in a transaction
    of its own after the refused one was rolled back, so the refusal changes nothing else. Only a batch its
    sender may send (a department's own liaison, an administrator) of a registered department is kept, and only
    a refusal of the batch itself (422: its file, its rows; 413: over a limit); a refusal of the sender (403: the
    role, the agreement's fields) or of the request writes nothing (None)."""
    actor = ctx.actor
    if refusal.http_status not in KEPT_REFUSALS:
        return None
    if not (
        actor.may("department.manage")
        or (actor.may("department.exchange") and actor.department == department)
    ):
        return None
    dept = session.execute(select(Department).where(Department.code == department)).scalar_one_or_none()
    if dept is None:
        return None
    data = refusal.data or {}
    report = {
        "code": refusal.code,
        "status": refusal.http_status,
        "message_zh": refusal.message_zh,
        "message_en": refusal.message_en,
        "rows": int(data.get("rows", 0) or 0),
        "rejected": int(data.get("rejected", 0) or 0),
        "errors": list(data.get("errors", []))[:MAX_ROW_ERRORS],
    }
    # A body over the size limit (`http.oversized`): its size and the limit, nothing of the body.
    report.update({k: data[k] for k in ("limit_bytes", "size_bytes") if k in data})
    agreement = _in_force(session, dept, ctx)
    batch = DepartmentBatch(
        department_id=dept.id,
        agreement_id=agreement.id if agreement is not None else None,
        kind=kind[:20],
        file_name=(file_name or "upload")[:300],
        content_sha256=sha256,
        rows_total=report["rows"],
        rows_rejected=report["rejected"],
        actor_id=actor.user_id,
        actor_name=actor.username,
        received_at=ctx.now,
        status="refused",
        report=json.dumps(report, ensure_ascii=False),
    )
    session.add(batch)
    session.flush()
    return batch.id


def _batch_view(b: DepartmentBatch, d: Department) -> dict[str, Any]:
    report = json.loads(b.report) if b.report else None
    return {
        "id": b.id,
        "department": d.code,
        "department_zh": d.name_zh,
        "department_en": d.name_en,
        "kind": b.kind,
        "file_name": b.file_name,
        "received_at": b.received_at,
        "status": b.status,
        "accepted": b.rows_total if b.status == "accepted" else 0,
        "rejected": b.rows_rejected,
        "applied": b.values_applied,
        "conflicts": b.conflicts,
        "actor": b.actor_name,
        "report": report,
    }


def list_batches(
    session: Session, ctx: Context, department: str, *, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """A department's batches, newest first, accepted and refused (`status`), each refused one with its report:
    for the department's own liaison or an administrator."""
    actor = ctx.actor
    if not actor.may("department.manage"):
        actor.ensure("department.exchange")
        if actor.department != department:
            raise Forbidden(
                "department.not_yours",
                "只能代表本部门交换数据",
                "You may exchange data only for your own department",
                {"department": department},
            )
    dept = session.execute(select(Department).where(Department.code == department)).scalar_one_or_none()
    if dept is None:
        raise NotFound(
            "department.unknown",
            f"未登记的部门：{department}",
            f"Unknown department: {department}",
            {"department": department},
        )
    stmt = select(DepartmentBatch).where(DepartmentBatch.department_id == dept.id)
    if status:
        stmt = stmt.where(DepartmentBatch.status == status)
    rows = session.execute(stmt.order_by(DepartmentBatch.id.desc()).limit(limit)).scalars()
    return [_batch_view(b, dept) for b in rows]


def recent_batches(session: Session, ctx: Context, limit: int = RECENT_BATCHES) -> list[dict[str, Any]]:
    """The user's own batches, newest first, accepted or refused as a whole: department, kind, file, when, its
    counts, and for a refused one its report."""
    ensure_may_send(ctx)
    stmt = (
        select(DepartmentBatch, Department)
        .join(Department, Department.id == DepartmentBatch.department_id)
        .where(DepartmentBatch.actor_id == ctx.actor.user_id)
        .order_by(DepartmentBatch.id.desc())
        .limit(limit)
    )
    return [_batch_view(b, d) for b, d in session.execute(stmt)]
