"""Findings as work items: the list (masked), a dismissal with a reason, and what the KPIs take from them."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from liangshi.access.models import User
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.checks import rules
from liangshi.checks.models import Finding
from liangshi.checks.service.scope import scope_area
from liangshi.common.idnumber import mask_id_number
from liangshi.errors import NotFound, ValidationFailed
from liangshi.registry import Context
from liangshi.registry.usecases import log

# -- findings as work items -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    """A stored finding as the list shows it (ID numbers masked unless the actor may unmask)."""

    id: int
    check: str
    title: str
    severity: str
    status: str
    keys: dict[str, Any]
    evidence: dict[str, Any]
    area_id: int
    assignee: str | None
    owner: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    dismiss_reason: str | None


# Findings whose list is a read of personal data (audited).
PERSONAL_KINDS = ("person", "residence", "stay", "household")


def _mask(value: Any, unmask: bool) -> Any:
    if unmask:
        return value
    if isinstance(value, dict):
        return {
            k: (
                mask_id_number(v)
                if isinstance(v, str) and (k.endswith("id_number") or k == "id_number") and v
                else _mask(v, unmask)
            )
            for k, v in value.items()
        }
    return value


def _view(f: Finding, users: dict[int, str], lang: str) -> FindingView:
    # Lists always show masked numbers: the object's own page unmasks, with a reason, where the role allows.
    known = rules.CHECKS.get(f.check_code)
    return FindingView(
        id=f.id,
        check=f.check_code,
        title=known.title(lang) if known else f.check_code,
        severity=known.severity if known else "",
        status=f.status,
        keys=_mask(json.loads(f.keys), False),
        evidence=_mask(json.loads(f.evidence), False),
        area_id=f.area_id,
        assignee=users.get(f.assignee_id) if f.assignee_id else None,
        owner=f.owner,
        opened_at=f.opened_at,
        closed_at=f.closed_at,
        dismiss_reason=f.dismiss_reason,
    )


def finding_view(session: Session, finding: Finding, lang: str = "zh") -> FindingView:
    """One stored finding as the list shows it."""
    users: dict[int, str] = {}
    if finding.assignee_id is not None:
        user = session.get(User, finding.assignee_id)
        if user is not None:
            users[user.id] = user.username
    return _view(finding, users, lang)


def list_findings(
    session: Session,
    ctx: Context,
    *,
    check: str | None = None,
    status: str | None = "open",
    mine: bool = False,
    area_code: str | None = None,
    offset: int = 0,
    limit: int = 50,
    lang: str = "zh",
) -> tuple[list[FindingView], int]:
    """A page of the findings in the actor's area (or the named one), filtered by check, status, assignee."""
    ctx.actor.ensure("check.read")
    if check:
        restricted = rules.check(check).permission
        if restricted is not None:
            ctx.actor.ensure(restricted)
    if status and status not in rules.FINDING_STATUSES:
        raise ValidationFailed(
            "check.status_unknown",
            f"未知的问题状态：{status}",
            f"Unknown finding status: {status}",
            {"field": "status", "allowed": list(rules.FINDING_STATUSES)},
        )
    area = scope_area(session, ctx, area_code)
    query = select(Finding).where(Finding.area_id.in_(select(Area.id).where(Area.path.like(area.path + "%"))))
    if check:
        query = query.where(Finding.check_code == check)
    hidden = rules.hidden_checks(ctx.actor.may)
    if hidden:
        # A check whose findings only some readers see (community corrections): left out for the others.
        query = query.where(Finding.check_code.not_in(hidden))
    if status:
        query = query.where(Finding.status == status)
    if mine:
        query = query.where(Finding.assignee_id == ctx.actor.user_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    items = list(session.execute(query.order_by(Finding.id).offset(offset).limit(min(limit, 500))).scalars())
    users = {
        u.id: u.username
        for u in session.execute(
            select(User).where(User.id.in_({f.assignee_id for f in items if f.assignee_id}))
        ).scalars()
    }
    views = [_view(f, users, lang) for f in items]
    # A read of personal data is audited: findings about persons, residences, stays and households, and any whose
    # keys carry a person's number (a rental's departed tenant).
    if items and any(f.object_kind in PERSONAL_KINDS or '"id_number"' in f.keys for f in items):
        log(
            ctx,
            session,
            [audit.Event("check.findings_read", detail={"finding_ids": [f.id for f in items][:500]})],
        )
    return views, int(total)


def dismiss_finding(session: Session, ctx: Context, finding_id: int, *, reason: str | None) -> Finding:
    """Dismiss an open finding with a reason: later runs keep it dismissed."""
    ctx.actor.ensure("check.dismiss")
    why = rules.dismissal_reason(reason)
    finding = session.get(Finding, finding_id)
    area = session.get(Area, finding.area_id) if finding is not None else None
    hidden = finding is not None and finding.check_code in rules.hidden_checks(ctx.actor.may)
    if finding is None or area is None or not ctx.actor.covers_path(area.path) or hidden:
        raise NotFound("check.finding_not_found", "问题不存在", "No such finding", {"id": finding_id})
    if finding.status != "open":
        raise ValidationFailed(
            "check.finding_not_open",
            "只能排除待处理的问题",
            "Only an open finding can be dismissed",
            {"id": finding_id, "status": finding.status},
        )
    finding.status = "dismissed"
    finding.dismissed_by = ctx.actor.user_id
    finding.dismiss_reason = why
    finding.closed_at = ctx.now
    log(
        ctx,
        session,
        [
            audit.Event(
                "check.dismiss",
                "check_finding",
                finding.id,
                detail={"check": finding.check_code, "reason": why},
            )
        ],
    )
    session.flush()
    return finding


# -- what the checks found, for the KPIs ----------------------------------------------------------------------


# The found departures (f: the finding, rv: the residence's current version); counted here, listed by
# `kpis.objects` (the same rows behind the deregistration rate's denominator).
FOUND_DEPARTURES_SQL = """
FROM check_findings f
JOIN residence_versions rv ON rv.entity_id = f.object_id AND rv.superseded_at IS NULL AND rv.valid_to IS NULL
WHERE f.check_code = 'residence.departed_not_deregistered' AND f.status = 'open'
  AND rv.category = :category AND rv.deregistration_date IS NULL
  AND f.opened_at >= :start AND f.opened_at < :end
"""


def found_departures_by_area(
    session: Session, area_ids: Any, start: dt.datetime, end: dt.datetime, category: str = "floating"
) -> dict[int, int]:
    """Per area: departures the checks found (seen at a visit, by the housing department or a landlord) and the
    register has not deregistered, first found in [start, end), of residences of one category.

    They belong in the deregistration KPI's denominator: a departure the register never heard of has no
    departure date, so it cannot enter "departures in the period" any other way.
    """
    rows = session.execute(
        text(f"SELECT f.area_id, COUNT(*) {FOUND_DEPARTURES_SQL} GROUP BY f.area_id"),
        {"category": category, "start": start, "end": end},
    ).all()
    scoped = {int(a) for a in session.execute(area_ids).scalars()}
    return {int(area): int(n) for area, n in rows if int(area) in scoped}
