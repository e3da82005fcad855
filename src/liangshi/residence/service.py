"""Residence use cases: register arrival, deregister departure, 查人知住 and 查房知人."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from liangshi import history, registry
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.errors import Conflict, NotFound
from liangshi.history import Kind
from liangshi.persons import service as persons
from liangshi.registry import Context, Snapshot
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.rules import check_dates, check_departure
from liangshi.residence.schemas import ArrivalIn, DepartureIn

RESIDENCE = Kind(
    "residence",
    Residence,
    ResidenceVersion,
    (
        "category",
        "arrival_date",
        "registration_date",
        "intended_stay_until",
        "departure_date",
        "deregistration_date",
        "deregistration_reason",
        "destination",
    ),
    "居住登记",
    "Residence",
    start_attribute="arrival_date",
)


def residence_check(ctx: Context) -> Any:
    """On change or correction the residence dates must stay consistent."""

    def check(residence: Any, attrs: dict[str, Any]) -> None:
        check_dates(
            arrival=attrs["arrival_date"],
            registration=attrs["registration_date"],
            intended_until=attrs["intended_stay_until"],
            today=ctx.today,
        )

    return check


def _open_residences(session: Session, person_id: int) -> list[tuple[Residence, ResidenceVersion]]:
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
        .where(Residence.person_id == person_id)
    )
    return [(r, row) for r, row in rows]


def register_arrival(session: Session, ctx: Context, data: ArrivalIn) -> Snapshot:
    """Register a person at a dwelling from the arrival date; one main residence at a time (lodging aside)."""
    ctx.actor.ensure("residence.write")
    person = registry.get_entity(session, persons.PERSON, data.person_id, ctx.actor)
    dwelling = registry.get_entity(session, buildings.DWELLING, data.dwelling_id, ctx.actor)
    drow = history.open_row(session, buildings.DWELLING, dwelling.id)
    if drow is None or drow.status == "demolished":
        raise Conflict(
            "residence.dwelling_unavailable",
            "该房屋已拆除或注销，不能登记居住",
            "The dwelling is demolished or retired",
            {"field": "dwelling_id"},
        )
    registration = data.registration_date or ctx.today
    check_dates(
        arrival=data.arrival_date,
        registration=registration,
        intended_until=data.intended_stay_until,
        today=ctx.today,
    )
    if data.category != "lodging":
        for res, row in _open_residences(session, person.id):
            if row.category != "lodging":
                raise Conflict(
                    "residence.already_open",
                    "该人员已有未注销的居住登记，请先注销或办理迁移",
                    "The person already has an open residence; deregister it first",
                    {"field": "person_id", "residence_id": res.id},
                )
    attrs = {
        "category": data.category,
        "arrival_date": data.arrival_date,
        "registration_date": registration,
        "intended_stay_until": data.intended_stay_until,
        "departure_date": None,
        "deregistration_date": None,
        "deregistration_reason": None,
        "destination": None,
    }
    residence = Residence(
        person_id=person.id,
        dwelling_id=dwelling.id,
        area_id=dwelling.area_id,
        county_code=dwelling.county_code,
    )
    # The residence is valid in the world from the arrival, whenever it was registered.
    return registry.create(
        session,
        ctx,
        RESIDENCE,
        residence,
        attrs,
        valid_from=data.arrival_date,
        prov=data.provenance.to_domain(ctx.actor.username),
    )


def deregister_departure(session: Session, ctx: Context, residence_id: int, data: DepartureIn) -> Snapshot:
    """Close a residence at the departure date with reason and destination."""
    ctx.actor.ensure("residence.write")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    row = history.open_row(session, RESIDENCE, residence.id)
    if row is None:
        raise Conflict(
            "residence.already_deregistered",
            "该居住登记已注销",
            "The residence is already deregistered",
            {"id": residence_id},
        )
    dereg = data.deregistration_date or ctx.today
    check_departure(
        arrival=row.arrival_date, departure=data.departure_date, deregistration=dereg, today=ctx.today
    )
    changes = {
        "departure_date": data.departure_date,
        "deregistration_date": dereg,
        "deregistration_reason": data.reason,
        "destination": data.destination,
    }
    return registry.retire(
        session,
        ctx,
        RESIDENCE,
        residence.id,
        expected_version=data.expected_version,
        effective=data.departure_date,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.note or data.reason,
        changes=changes,
        permission="residence.write",
    )


def _residence_view(
    session: Session, res: Residence, row: ResidenceVersion, today: dt.date
) -> dict[str, Any]:
    return {
        "residence_id": res.id,
        "version": res.version,
        "person_id": res.person_id,
        "dwelling_id": res.dwelling_id,
        "address": buildings.describe_dwelling(session, res.dwelling_id, today),
        **{name: getattr(row, name) for name in RESIDENCE.attributes},
        "current": row.valid_to is None,
    }


def where_lives(
    session: Session, ctx: Context, person_id: int, *, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    """查人知住: a person's current residences and their full residence history (audited)."""
    ctx.actor.ensure("residence.read")
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor)
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(Residence.person_id == person.id, v.superseded_at.is_(None))
        .order_by(v.valid_from.desc(), v.row_id.desc())
    ).all()
    latest: dict[int, tuple[Residence, ResidenceVersion]] = {}
    for res, row in rows:
        latest.setdefault(res.id, (res, row))
    views = [_residence_view(session, res, row, ctx.today) for res, row in latest.values()]
    registry.log(
        ctx, session, [audit.Event("person.where_lives", "person", person.id, person.id, detail or {})]
    )
    return {
        "person_id": person.id,
        "current": [x for x in views if x["current"]],
        "history": sorted(views, key=lambda x: x["arrival_date"], reverse=True),
    }


def where_lives_by_document(session: Session, ctx: Context, number: str) -> dict[str, Any]:
    """查人知住 by ID number: the person in the caller's jurisdiction holding it, and where they live."""
    person_id = persons.person_id_by_document(session, ctx, number)
    if person_id is None:
        raise NotFound("person.not_found", "未找到该人员", "Person not found", {"field": "id_number"})
    result = where_lives(session, ctx, person_id, detail={"by": "document"})
    result["name"] = persons.names_on(session, [person_id], ctx.today).get(person_id)
    result["documents"] = persons.documents_view(session, ctx, person_id, unmask_reason=None)
    return result


def occupants(session: Session, ctx: Context, dwelling_id: int, on: dt.date | None) -> dict[str, Any]:
    """查房知人: who lived in a dwelling on a date (default today), with masked documents (audited)."""
    ctx.actor.ensure("residence.read")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    day = on or ctx.today
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(Residence.dwelling_id == dwelling.id, v.superseded_at.is_(None), history.valid_on(v, day))
        .order_by(v.arrival_date, Residence.id)
    ).all()
    names = persons.names_on(session, [res.person_id for res, _ in rows], day)
    people: list[dict[str, Any]] = [
        {
            "residence_id": res.id,
            "person_id": res.person_id,
            "name": names.get(res.person_id),
            "category": row.category,
            "arrival_date": row.arrival_date,
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
    return {
        "dwelling_id": dwelling.id,
        "on": day,
        "address": buildings.describe_dwelling(session, dwelling.id, day),
        "occupants": people,
    }
