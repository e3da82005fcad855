"""What a batch's sender is offered and has sent: the departments they may send for (each with its agreement in
force) and their own recent batches, as the web upload page shows them (the batch itself goes through
`feeds_in.submit_batch`, as over the API)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.departments import rules
from liangshi.departments.models import Agreement, Department, DepartmentBatch
from liangshi.registry import Context

RECENT_BATCHES = 20


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


def recent_batches(session: Session, ctx: Context, limit: int = RECENT_BATCHES) -> list[dict[str, Any]]:
    """The user's own accepted batches, newest first (a refused batch leaves no row): department, kind, file,
    when, and its counts."""
    ensure_may_send(ctx)
    stmt = (
        select(DepartmentBatch, Department)
        .join(Department, Department.id == DepartmentBatch.department_id)
        .where(DepartmentBatch.actor_id == ctx.actor.user_id)
        .order_by(DepartmentBatch.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": b.id,
            "department": d.code,
            "department_zh": d.name_zh,
            "department_en": d.name_en,
            "kind": b.kind,
            "file_name": b.file_name,
            "received_at": b.received_at,
            "accepted": b.rows_total,
            "rejected": b.rows_rejected,
            "applied": b.values_applied,
            "conflicts": b.conflicts,
        }
        for b, d in session.execute(stmt)
    ]
