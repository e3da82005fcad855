"""Residence permit use cases: check eligibility, issue, endorse yearly, cancel, lapse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.errors import Conflict, ValidationFailed
from liangshi.permits import rules
from liangshi.permits.models import PERMIT as PERMIT
from liangshi.permits.models import Permit, PermitVersion
from liangshi.permits.schemas import PermitCancel, PermitEndorse, PermitIssue
from liangshi.persons.models import PERSON
from liangshi.registry import Context, Provenance, Snapshot, history
from liangshi.residence import service as residence


def _residence_state(session: Session, ctx: Context, residence_id: int) -> tuple[Any, Any]:
    res = registry.get_entity(session, residence.RESIDENCE, residence_id, ctx.actor)
    row = history.latest_row(session, residence.RESIDENCE, res.id)
    assert row is not None
    return res, row


def check_eligibility(
    session: Session, ctx: Context, residence_id: int, basis: str, on: dt.date | None = None
) -> dict[str, Any]:
    """Whether the resident may have a permit on a date, why not, and from when (six months after arrival)."""
    ctx.actor.ensure("residence.read")
    res, row = _residence_state(session, ctx, residence_id)
    day = on or ctx.today
    reasons = rules.eligibility(
        arrival=row.arrival_date,
        category=row.category,
        open_residence=row.valid_to is None,
        basis=basis,
        on=day,
    )
    return {
        "residence_id": res.id,
        "person_id": res.person_id,
        "eligible": not reasons,
        "reasons": reasons,
        "eligible_from": rules.add_months(row.arrival_date, 6),
    }


def _held(session: Session, person_id: int) -> list[PermitVersion]:
    v = PermitVersion
    return list(
        session.execute(
            select(v)
            .join(Permit, Permit.id == v.entity_id)
            .where(
                Permit.person_id == person_id,
                v.superseded_at.is_(None),
                v.valid_to.is_(None),
                v.status == "issued",
            )
        ).scalars()
    )


def issue_permit(session: Session, ctx: Context, data: PermitIssue) -> Snapshot:
    """Issue a permit valid for a year; the resident must be eligible and hold no other valid permit."""
    ctx.actor.ensure("permit.write")
    res, row = _residence_state(session, ctx, data.residence_id)
    issued = data.issued_on or ctx.today
    if issued > ctx.today:
        raise ValidationFailed(
            "permit.issued_in_future",
            "签发日期不能晚于今天",
            "The issue date cannot be in the future",
            {"field": "issued_on"},
        )
    reasons = rules.eligibility(
        arrival=row.arrival_date,
        category=row.category,
        open_residence=row.valid_to is None,
        basis=data.basis,
        on=issued,
    )
    if reasons:
        raise Conflict(
            "permit.not_eligible",
            "不符合申领居住证的条件（居住满半年且有稳定就业、住所或就读）",
            "Not eligible: six months' residence and a stable job, home or school place are required",
            {
                "field": "residence_id",
                "reasons": reasons,
                "eligible_from": rules.add_months(row.arrival_date, 6).isoformat(),
            },
        )
    if any(p.valid_until >= issued for p in _held(session, res.person_id)):
        raise Conflict(
            "permit.already_held",
            "该人员已持有有效居住证",
            "The person already holds a valid permit",
            {"field": "residence_id"},
        )
    permit = Permit(
        person_id=res.person_id, residence_id=res.id, area_id=res.area_id, county_code=res.county_code
    )
    attrs = {
        "permit_number": "",
        "basis": data.basis,
        "basis_detail": data.basis_detail,
        "issued_on": issued,
        "valid_until": rules.valid_until(issued),
        "last_endorsed_on": None,
        "status": "issued",
    }
    snap = registry.create(
        session,
        ctx,
        PERMIT,
        permit,
        attrs,
        valid_from=issued,
        prov=data.provenance.to_domain(ctx.actor.username),
    )
    # The number: issuing county, year, running number (never reused).
    snap.row.permit_number = f"{res.county_code}{issued:%Y}{permit.id:08d}"
    session.flush()
    return snap


def endorse_permit(session: Session, ctx: Context, permit_id: int, data: PermitEndorse) -> Snapshot:
    """The yearly endorsement: in the permit's last month, while the residence is still open; adds a year."""
    ctx.actor.ensure("permit.write")
    permit = registry.get_entity(session, PERMIT, permit_id, ctx.actor, write=True)
    row = history.open_row(session, PERMIT, permit.id)
    if row is None:
        raise Conflict(
            "permit.retired",
            "该居住证已注销，不能再修改",
            "The residence permit is retired and cannot be changed",
            {"id": permit_id},
        )
    rules.LIFECYCLE.ensure(row.status, "endorse")
    day = data.endorsed_on or ctx.today
    if day > ctx.today or not rules.endorsement_open(valid_until=row.valid_until, on=day):
        raise Conflict(
            "permit.endorsement_closed",
            "不在签注期内（有效期届满前30日内）",
            "Endorsement is open only in the last 30 days of the permit's year",
            {"field": "endorsed_on", "valid_until": row.valid_until.isoformat()},
        )
    _, res_row = _residence_state(session, ctx, permit.residence_id)
    if res_row.valid_to is not None:
        raise Conflict(
            "permit.residence_closed",
            "居住登记已注销，不能签注",
            "The residence was deregistered",
            {"field": "permit_id"},
        )
    return registry.change(
        session,
        ctx,
        PERMIT,
        permit.id,
        {"valid_until": rules.valid_until(row.valid_until), "last_endorsed_on": day},
        expected_version=data.expected_version,
        effective=day,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason="endorsement",
    )


def cancel_permit(session: Session, ctx: Context, permit_id: int, data: PermitCancel) -> Snapshot:
    """Cancel a permit from a date (left the city, issued in error)."""
    ctx.actor.ensure("permit.retire")
    permit = registry.get_entity(session, PERMIT, permit_id, ctx.actor, write=True)
    row = history.open_row(session, PERMIT, permit.id)
    if row is None:
        raise Conflict(
            "permit.retired",
            "该居住证已注销，不能再修改",
            "The residence permit is retired and cannot be changed",
            {"id": permit_id},
        )
    rules.LIFECYCLE.ensure(row.status, "cancel")
    return registry.retire(
        session,
        ctx,
        PERMIT,
        permit.id,
        expected_version=data.expected_version,
        effective=data.effective,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.reason,
        changes={"status": "cancelled"},
    )


def lapse_permits(
    session: Session, ctx: Context, *, on: dt.date | None = None, limit: int = 10_000
) -> list[int]:
    """Mark as lapsed the permits in the jurisdiction whose year ran out without endorsement."""
    ctx.actor.ensure("permit.write")
    day = on or ctx.today
    v = PermitVersion
    due = list(
        session.execute(
            select(Permit.id, Permit.version)
            .join(v, and_(v.entity_id == Permit.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
            .join(Area, Area.id == Permit.area_id)
            .where(v.status == "issued", v.valid_until < day, Area.path.startswith(ctx.actor.area_path))
            .order_by(Permit.id)
            .limit(limit)
        ).all()
    )
    for permit_id, version in due:
        row = history.open_row(session, PERMIT, permit_id)
        assert row is not None
        effective = max(row.valid_from, row.valid_until + dt.timedelta(days=1))
        registry.change(
            session,
            ctx,
            PERMIT,
            permit_id,
            {"status": "lapsed"},
            expected_version=version,
            effective=min(effective, day),
            prov=Provenance("system", "permit-lapse"),
            reason="not endorsed in time",
        )
    return [int(p) for p, _ in due]


def permits_of(session: Session, ctx: Context, person_id: int) -> list[dict[str, Any]]:
    """A person's permits, newest first."""
    ctx.actor.ensure("permit.read")
    person = registry.get_entity(session, PERSON, person_id, ctx.actor)
    v = PermitVersion
    rows = session.execute(
        select(Permit, v)
        .join(v, and_(v.entity_id == Permit.id, v.superseded_at.is_(None)))
        .where(Permit.person_id == person.id)
        .order_by(v.valid_from.desc(), v.row_id.desc())
    ).all()
    seen: dict[int, dict[str, Any]] = {}
    for permit, row in rows:
        seen.setdefault(
            permit.id,
            {
                "permit_id": permit.id,
                "version": permit.version,
                "residence_id": permit.residence_id,
                **{k: getattr(row, k) for k in PERMIT.attributes},
            },
        )
    registry.log(ctx, session, [audit.Event("permit.list", "person", person.id, person.id)])
    return list(seen.values())
