"""Residence views: 查人知住 (where a person lives), 查房知人 (who lives in a dwelling), a person's timeline."""

from __future__ import annotations

import datetime as dt
import importlib
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.errors import NotFound
from liangshi.permits.models import Permit, PermitVersion
from liangshi.persons import service as persons
from liangshi.registry import Context, history
from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion
from liangshi.residence import calendar
from liangshi.residence.models import RESIDENCE, Residence, ResidenceVersion
from liangshi.residence.rules import status_of


def _residence_view(res: Residence, row: ResidenceVersion, address: dict[str, Any]) -> dict[str, Any]:
    return {
        "residence_id": res.id,
        "version": res.version,
        "person_id": res.person_id,
        "dwelling_id": res.dwelling_id,
        "address": address,
        **{name: getattr(row, name) for name in RESIDENCE.attributes},
        "registration_lateness_working_days": registration_lateness(row),
        "current": row.valid_to is None,
        # The one definition of its state (rules.STATUS_RULES), as the KPIs count it.
        "status": status_of(
            valid_to=row.valid_to,
            departure_date=row.departure_date,
            deregistration_date=row.deregistration_date,
        ),
    }


def registration_lateness(row: ResidenceVersion) -> int | None:
    """Working days from the arrival to its registration (None when the registration date is unknown)."""
    if row.registration_date is None:
        return None
    return calendar.lateness(row.arrival_date, row.registration_date, calendar.default_calendar())


def where_lives(
    session: Session, ctx: Context, person_id: int, *, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    """查人知住: a person's current residences and their full residence history (audited)."""
    ctx.actor.ensure("residence.read")
    return _where_lives(
        session, ctx, registry.get_entity(session, persons.PERSON, person_id, ctx.actor), detail
    )


def _where_lives(
    session: Session, ctx: Context, person: Any, detail: dict[str, Any] | None
) -> dict[str, Any]:
    # `where_lives` for a person already read within the actor's scope (and the permission checked).
    views = _residence_views(session, person.id, ctx.today)
    registry.log(
        ctx, session, [audit.Event("person.where_lives", "person", person.id, person.id, detail or {})]
    )
    return {
        "person_id": person.id,
        "current": [x for x in views if x["current"]],
        "history": sorted(views, key=lambda x: x["arrival_date"], reverse=True),
    }


def _residence_views(session: Session, person_id: int, today: dt.date) -> list[dict[str, Any]]:
    """Every residence of a person in its latest known state (not audited: the callers log their own read)."""
    rows = session.execute(_residences_stmt(), {"person_id": person_id}).all()
    latest: dict[int, tuple[Residence, ResidenceVersion]] = {}
    for res, row in rows:
        latest.setdefault(res.id, (res, row))
    where_is = buildings.describe_dwellings(session, [res.dwelling_id for res, _ in latest.values()], today)
    return [_residence_view(res, row, where_is.get(res.dwelling_id, {})) for res, row in latest.values()]


@cache
def _residences_stmt() -> Any:
    # Built once (issue 19: on every 查人知住 building the statement cost more than running it).
    v = ResidenceVersion
    return (
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(Residence.person_id == bindparam("person_id"), v.superseded_at.is_(None))
        .order_by(v.valid_from.desc(), v.row_id.desc())
    )


def current_residences(session: Session, ctx: Context, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Where each of these persons lives today (their latest open residence): address text, category, dwelling.
    For a list the caller has already read and audited (a search's results): not audited again."""
    ctx.actor.ensure("residence.read")
    if not person_ids:
        return {}
    v = ResidenceVersion
    rows = session.execute(
        select(Residence.person_id, Residence.dwelling_id, v.category)
        .join(v, v.entity_id == Residence.id)
        .where(
            Residence.person_id.in_(person_ids),
            v.superseded_at.is_(None),
            history.valid_on(v, ctx.today),
        )
        .order_by(Residence.person_id, v.arrival_date.desc())
    ).all()
    latest: dict[int, tuple[int, Any]] = {}
    for person_id, dwelling_id, category in rows:
        latest.setdefault(int(person_id), (int(dwelling_id), category))
    # Each person's dwelling described in one batch (a search page lists up to 100 persons).
    where_is = buildings.describe_dwellings(session, [d for d, _ in latest.values()], ctx.today)
    return {
        person_id: {
            "dwelling_id": dwelling_id,
            "address": where_is.get(dwelling_id, {}).get("text"),
            "category": category,
        }
        for person_id, (dwelling_id, category) in latest.items()
    }


def where_lives_by_document(session: Session, ctx: Context, number: str) -> dict[str, Any]:
    """查人知住 by ID number: the person in the caller's jurisdiction holding it, and where they live."""
    # The person is read once, within the actor's scope (`person_by_document` reads it as `registry.get_entity`
    # would), not found by id and then read again: one statement fewer per lookup (issue 19).
    person = persons.person_by_document(session, ctx, number)
    if person is None:
        raise NotFound("person.not_found", "未找到该人员", "Person not found", {"field": "id_number"})
    ctx.actor.ensure("residence.read")
    person_id = int(person.id)
    result = _where_lives(session, ctx, person, {"by": "document"})
    result["name"] = persons.names_on(session, [person_id], ctx.today).get(person_id)
    result["documents"] = persons.documents_view(session, ctx, person_id, unmask_reason=None)
    return result


def occupants(session: Session, ctx: Context, dwelling_id: int, on: dt.date | None) -> dict[str, Any]:
    """查房知人: who lived in a dwelling on a date (default today), with masked documents (audited)."""
    ctx.actor.ensure("residence.read")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    day = on or ctx.today
    rows = session.execute(_occupants_stmt(), {"dwelling_id": dwelling.id, "on": day}).all()
    names = persons.names_on(session, [res.person_id for res, _ in rows], day)
    people: list[dict[str, Any]] = [
        {
            "residence_id": res.id,
            "person_id": res.person_id,
            "name": names.get(res.person_id),
            "category": row.category,
            "arrival_date": row.arrival_date,
            "registration_date": row.registration_date,
            "registration_lateness_working_days": registration_lateness(row),
            "departure_date": row.departure_date,
            "documents": persons.documents_view(session, ctx, res.person_id, unmask_reason=None),
        }
        for res, row in rows
    ]
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "dwelling.occupants", "dwelling", dwelling.id, p["person_id"], {"on": day.isoformat()}
            )
            for p in people
        ],
    )
    past = _past_occupants(session, dwelling.id, day)
    registry.log(
        ctx,
        session,
        [audit.Event("dwelling.past_occupants", "dwelling", dwelling.id, p["person_id"]) for p in past],
    )
    return {
        "dwelling_id": dwelling.id,
        "on": day,
        "address": buildings.describe_dwelling(session, dwelling.id, day),
        "occupants": people,
        "past_occupants": past,
        "rental": _rental_summary(session, ctx, dwelling.id, day),
    }


# The statements of 查房知人, built once (issue 19, as 查人知住's): `:dwelling_id`, and `:on` the date.
@cache
def _occupants_stmt() -> Any:
    v, on = ResidenceVersion, bindparam("on", type_=ResidenceVersion.valid_from.type)
    return (
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(
            Residence.dwelling_id == bindparam("dwelling_id"),
            v.superseded_at.is_(None),
            history.valid_on(v, on),
        )
        .order_by(v.arrival_date, Residence.id)
    )


@cache
def _past_occupants_stmt() -> Any:
    v, on = ResidenceVersion, bindparam("on", type_=ResidenceVersion.valid_to.type)
    return (
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(
            Residence.dwelling_id == bindparam("dwelling_id"),
            v.superseded_at.is_(None),
            v.valid_to.is_not(None),
            v.valid_to <= on,
            v.change == "retire",
        )
        .order_by(v.valid_to.desc(), Residence.id)
        .limit(100)
    )


@cache
def _rental_stmt() -> Any:
    rv, on = RentalVersion, bindparam("on", type_=RentalVersion.valid_from.type)
    return (
        select(Rental.id, rv)
        .join(rv, rv.entity_id == Rental.id)
        .where(
            Rental.dwelling_id == bindparam("dwelling_id"),
            rv.superseded_at.is_(None),
            history.valid_on(rv, on),
        )
    )


def current_person_ids(session: Session, dwelling_id: int, on: dt.date) -> set[int]:
    """Ids of the persons with a residence at the dwelling valid on the date (no audit: ids only)."""
    v = ResidenceVersion
    return {
        int(pid)
        for (pid,) in session.execute(
            select(Residence.person_id)
            .join(v, v.entity_id == Residence.id)
            .where(Residence.dwelling_id == dwelling_id, v.superseded_at.is_(None), history.valid_on(v, on))
        )
    }


def _past_occupants(session: Session, dwelling_id: int, day: dt.date) -> list[dict[str, Any]]:
    """Who lived in the dwelling before the date (residences that ended on or before it), newest first."""
    rows = session.execute(_past_occupants_stmt(), {"dwelling_id": dwelling_id, "on": day}).all()
    names = persons.names_on(session, [res.person_id for res, _ in rows], day)
    return [
        {
            "residence_id": res.id,
            "person_id": res.person_id,
            "name": names.get(res.person_id),
            "category": row.category,
            "arrival_date": row.arrival_date,
            "departure_date": row.departure_date,
            "deregistration_reason": row.deregistration_reason,
        }
        for res, row in rows
    ]


def _rental_summary(session: Session, ctx: Context, dwelling_id: int, day: dt.date) -> dict[str, Any] | None:
    """The dwelling's rental valid on the date: landlord, lease, agreement."""
    if not ctx.actor.may("rental.read"):
        return None
    found = session.execute(_rental_stmt(), {"dwelling_id": dwelling_id, "on": day}).first()
    if found is None:
        return None
    rental_id, row = found
    landlord = persons.names_on(session, [row.landlord_person_id], day).get(row.landlord_person_id)
    return {
        "rental_id": rental_id,
        "landlord_person_id": row.landlord_person_id,
        "landlord_name": landlord,
        "lease_start": row.lease_start,
        "lease_end": row.lease_end,
        "filing_number": row.filing_number,
        "agreement_signed_on": row.agreement_signed_on,
        "status": row.status,
    }


def timeline(
    session: Session, ctx: Context, person_id: int, *, let_limit: int | None = None, let_offset: int = 0
) -> dict[str, Any]:
    """查人知住 in full: a person's residences, rentals (as landlord or tenant), permits and venue stays, by date.
    A landlord may let thousands of dwellings: `let_limit` pages the rentals let (latest first; `let_total` counts
    them all), the rest of the timeline is whole."""
    ctx.actor.ensure("residence.read")
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor)
    events: list[dict[str, Any]] = []
    # The residences are part of this one read: its own audit entry below covers them (no second where_lives).
    for view in _residence_views(session, person.id, ctx.today):
        events.append(
            {
                "kind": "residence",
                "id": view["residence_id"],
                "from": view["arrival_date"],
                "to": view["departure_date"],
                "what": view["category"],
                "where": view["address"].get("text"),
            }
        )
    rv = RentalVersion
    let_query = (
        select(Rental.id, Rental.dwelling_id, rv)
        .join(rv, and_(rv.entity_id == Rental.id, rv.superseded_at.is_(None)))
        .where(rv.landlord_person_id == person.id)
        .order_by(rv.valid_from.desc(), rv.row_id.desc())
    )
    let_offset = max(0, let_offset)
    if let_limit is None:
        let = session.execute(let_query).all()
        let_total = len(let)
    else:
        let = session.execute(let_query.offset(let_offset).limit(max(1, let_limit))).all()
        let_total = session.execute(
            select(func.count())
            .select_from(rv)
            .where(rv.landlord_person_id == person.id, rv.superseded_at.is_(None))
        ).scalar_one()
    # A landlord may let many dwellings: their addresses are described in one batch, not one by one.
    let_addresses = buildings.describe_dwellings(session, [d for _, d, _ in let], ctx.today)
    for rental_id, dwelling_id, row in let:
        events.append(
            {
                "kind": "rental_landlord",
                "id": rental_id,
                "from": row.valid_from,
                "to": row.valid_to,
                "what": row.status,
                "where": let_addresses.get(dwelling_id, {}).get("text"),
            }
        )
    tv = RentalTenantVersion
    for link_id, rental_id, link in session.execute(
        select(RentalTenant.id, RentalTenant.rental_id, tv)
        .join(tv, and_(tv.entity_id == RentalTenant.id, tv.superseded_at.is_(None)))
        .where(RentalTenant.person_id == person.id)
        .order_by(tv.valid_from)
    ).all():
        events.append(
            {
                "kind": "rental_tenant",
                "id": link_id,
                "rental_id": rental_id,
                "from": link.valid_from,
                "to": link.valid_to,
                "what": "tenant",
                "where": None,
            }
        )
    pv = PermitVersion
    for permit_id, permit in session.execute(
        select(Permit.id, pv)
        .join(pv, and_(pv.entity_id == Permit.id, pv.superseded_at.is_(None), pv.valid_to.is_(None)))
        .where(Permit.person_id == person.id)
    ).all():
        events.append(
            {
                "kind": "permit",
                "id": permit_id,
                "from": permit.issued_on,
                "to": permit.valid_until,
                "what": permit.status,
                "where": permit.permit_number,
            }
        )
    events.extend(_stays_of(session, person.id))
    events.sort(key=lambda e: e["from"] or dt.date.min, reverse=True)
    registry.log(ctx, session, [audit.Event("person.timeline", "person", person.id, person.id)])
    return {
        "person_id": person.id,
        "events": events,
        "let_total": let_total,
        "let_offset": let_offset if let_limit is not None else 0,
        "let_limit": let_limit,
    }


def _stays_of(session: Session, person_id: int) -> list[dict[str, Any]]:
    """Venue stays, when the venues module is there (hotel and internet-café registrations)."""
    try:
        venues = importlib.import_module("liangshi.venues.service")
    except ImportError:
        return []
    finder = getattr(venues, "stays_for_timeline", None)
    return list(finder(session, person_id)) if finder is not None else []
