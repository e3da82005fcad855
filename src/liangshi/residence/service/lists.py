"""Lists users live in: floating arrivals of a month, due to leave, overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from liangshi import registry
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.errors import ValidationFailed
from liangshi.persons import service as persons
from liangshi.registry import Context
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.service.counts import status_expression
from liangshi.residence.service.views import registration_lateness

MAX_LIST = 500


def _parse_month(month: str) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat(f"{month.strip()}-01")
    except ValueError:
        raise ValidationFailed(
            "residence.month_invalid", "月份格式须为 YYYY-MM", "The month must be YYYY-MM", {"field": "month"}
        ) from None
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


def _floating_list(
    session: Session,
    ctx: Context,
    area_id: int,
    *,
    list_name: str,
    conditions: list[Any],
    order_by: Any,
    offset: int,
    limit: int,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """Floating residences (latest current version) under an area of the caller's jurisdiction; audited."""
    ctx.actor.ensure("residence.read")
    area = registry.ensure_area_in_scope(session, ctx, area_id)
    v = ResidenceVersion
    later = aliased(ResidenceVersion)
    base = (
        select(Residence, v)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None)))
        .where(
            ~exists().where(
                later.entity_id == v.entity_id, later.superseded_at.is_(None), later.valid_from > v.valid_from
            ),
            Residence.area_id.in_(select(Area.id).where(Area.path.startswith(area.path))),
            v.category == "floating",
            *conditions,
        )
    )
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    limit = max(1, min(limit, MAX_LIST))
    rows = session.execute(base.order_by(order_by, Residence.id).offset(offset).limit(limit)).all()
    person_ids = [res.person_id for res, _ in rows]
    names = persons.names_on(session, person_ids, ctx.today)
    documents = persons.first_documents(session, person_ids)
    where_is = buildings.describe_dwellings(session, [res.dwelling_id for res, _ in rows], ctx.today)
    items: list[dict[str, Any]] = []
    for res, row in rows:
        until = row.intended_stay_until
        items.append(
            {
                "residence_id": res.id,
                "version": res.version,
                "person_id": res.person_id,
                "name": names.get(res.person_id),
                "document": documents.get(res.person_id),
                "dwelling_id": res.dwelling_id,
                "address": where_is.get(res.dwelling_id, {}).get("text"),
                "arrival_date": row.arrival_date,
                "registration_date": row.registration_date,
                "registration_lateness_working_days": registration_lateness(row),
                "intended_stay_until": until,
                "departure_date": row.departure_date,
                "deregistration_date": row.deregistration_date,
                "days_to_leave": (until - ctx.today).days if until is not None else None,
            }
        )
    registry.log(
        ctx,
        session,
        [audit.Event(f"residence.{list_name}", "area", area.id, item["person_id"], detail) for item in items],
    )
    return {
        "area_id": area.id,
        "on": ctx.today,
        **detail,
        "items": items,
        "total": total,
        "offset": offset,
        "limit": limit,
    }


def floating_arrivals(
    session: Session, ctx: Context, area_id: int, month: str, *, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Floating persons who arrived in a month (YYYY-MM) under an area, whatever happened since."""
    first, following = _parse_month(month)
    v = ResidenceVersion
    return _floating_list(
        session,
        ctx,
        area_id,
        list_name="floating_arrivals",
        conditions=[v.arrival_date >= first, v.arrival_date < following],
        order_by=v.arrival_date,
        offset=offset,
        limit=limit,
        detail={"month": f"{first:%Y-%m}"},
    )


def due_to_leave(
    session: Session, ctx: Context, area_id: int, within_days: int, *, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Floating persons still registered whose intended stay ends within the next `within_days` days."""
    if not 0 <= within_days <= 366:
        raise ValidationFailed(
            "residence.within_days_invalid",
            "天数须在0到366之间",
            "within_days must lie between 0 and 366",
            {"field": "within_days"},
        )
    v = ResidenceVersion
    return _floating_list(
        session,
        ctx,
        area_id,
        list_name="due_to_leave",
        conditions=[
            v.valid_to.is_(None),
            status_expression(v) == "open",
            v.intended_stay_until >= ctx.today,
            v.intended_stay_until <= ctx.today + dt.timedelta(days=within_days),
        ],
        order_by=v.intended_stay_until,
        offset=offset,
        limit=limit,
        detail={"within_days": within_days},
    )


def overdue(
    session: Session, ctx: Context, area_id: int, *, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Floating persons whose intended stay has ended without an extension or a deregistration."""
    v = ResidenceVersion
    return _floating_list(
        session,
        ctx,
        area_id,
        list_name="overdue",
        conditions=[
            v.valid_to.is_(None),
            status_expression(v) == "open",
            v.intended_stay_until < ctx.today,
        ],
        order_by=v.intended_stay_until,
        offset=offset,
        limit=limit,
        detail={},
    )


# ---- counts per area for the KPIs (set-based: one GROUP BY, no per-person work) ------------------------------
