"""Residence lifecycle use cases: arrival, departure, retirement, extension, move and birth."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.schemas import MemberAdd, PersonCreate
from liangshi.registry import Context, Kind, Provenance, Snapshot, history
from liangshi.rentals import service as rentals
from liangshi.residence.models import RESIDENCE, Residence, ResidenceVersion
from liangshi.residence.rules import (
    LIFECYCLE,
    check_dates,
    check_departure,
    check_extension,
    status_of,
)
from liangshi.residence.schemas import ArrivalIn, BirthIn, DepartureIn, ExtendIn, MoveIn


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


def residence_change_check(session: Session, ctx: Context) -> Any:
    """A change from a date (PATCH) is an extension or a change of category: the lifecycle must allow it."""
    dates = residence_check(ctx)

    def check(residence: Any, attrs: dict[str, Any]) -> None:
        status, row = residence_status(session, residence.id)
        if attrs["category"] != row.category:
            LIFECYCLE.ensure(status, "change_category", id=residence.id)
        if attrs["intended_stay_until"] != row.intended_stay_until:
            LIFECYCLE.ensure(status, "extend_stay", id=residence.id)
        dates(residence, attrs)

    return check


def residence_correct_check(session: Session, ctx: Context) -> Any:
    """A correction must be allowed in the residence's status and keep the dates consistent."""
    dates = residence_check(ctx)

    def check(residence: Any, attrs: dict[str, Any]) -> None:
        status, _ = residence_status(session, residence.id)
        LIFECYCLE.ensure(status, "correct", id=residence.id)
        dates(residence, attrs)

    return check


def residence_status(session: Session, residence_id: int) -> tuple[str, ResidenceVersion]:
    """The lifecycle status of a residence from its current version, and that version."""
    row = history.latest_row(session, RESIDENCE, residence_id)
    if row is None:
        raise history.not_found(RESIDENCE, residence_id)
    status = status_of(
        valid_to=row.valid_to,
        departure_date=row.departure_date,
        deregistration_date=row.deregistration_date,
    )
    return status, row


def _open_residences(session: Session, person_id: int) -> list[tuple[Residence, ResidenceVersion]]:
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
        .where(Residence.person_id == person_id)
    )
    return [(r, row) for r, row in rows]


def _available_dwelling(session: Session, ctx: Context, dwelling_id: int) -> Any:
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    drow = history.open_row(session, buildings.DWELLING, dwelling.id)
    if drow is None or drow.status == "demolished":
        raise Conflict(
            "residence.dwelling_unavailable",
            "该房屋已拆除或注销，不能登记居住",
            "The dwelling is demolished or retired",
            {"field": "dwelling_id"},
        )
    return dwelling


def register_arrival(session: Session, ctx: Context, data: ArrivalIn) -> Snapshot:
    """Register a person at a dwelling from the arrival date; one main residence at a time (lodging aside)."""
    ctx.actor.ensure("residence.write")
    person = registry.get_entity(session, persons.PERSON, data.person_id, ctx.actor)
    dwelling = _available_dwelling(session, ctx, data.dwelling_id)
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
        "stay_reason": data.stay_reason,
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
    status, row = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "deregister", id=residence.id)
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
    prov = data.provenance.to_domain(ctx.actor.username)
    if row.valid_to is not None:
        # Departed, not deregistered, and already closed at its departure (as an import writes it): the
        # deregistration is added to the closing version by a correction (same valid time, new record time).
        if data.departure_date != row.departure_date:
            raise ValidationFailed(
                "residence.departure_recorded",
                f"离开日期已登记为{row.departure_date}，如有误请先更正",
                f"The departure is recorded as {row.departure_date}; correct it first if it is wrong",
                {"field": "departure_date", "recorded": str(row.departure_date)},
            )
        snap = registry.correct(
            session,
            ctx,
            RESIDENCE,
            residence.id,
            changes,
            expected_version=data.expected_version,
            row_id=row.row_id,
            prov=prov,
            reason=data.note or data.reason,
        )
    else:
        snap = registry.retire(
            session,
            ctx,
            RESIDENCE,
            residence.id,
            expected_version=data.expected_version,
            effective=data.departure_date,
            prov=prov,
            reason=data.note or data.reason,
            changes=changes,
            permission="residence.write",
        )
    # 人走注销 closes the tenancy too: a tenant who left no longer rents the dwelling (the rental itself stays open
    # for the landlord's other tenants; ending it is the landlord's or housing officer's act).
    rentals.end_tenancies_of_residence(session, ctx, residence.id, data.departure_date, prov, "人走注销")
    return snap


def retire_residence(
    session: Session,
    ctx: Context,
    kind: Kind,
    residence_id: int,
    *,
    expected_version: int,
    effective: dt.date | None,
    prov: Provenance,
    reason: str,
) -> Snapshot:
    """作废: retire a residence recorded in error (police); the lifecycle must allow it (not once deregistered)."""
    ctx.actor.ensure("residence.retire")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    status, _ = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "retire", id=residence.id)
    return registry.retire(
        session,
        ctx,
        kind,
        residence.id,
        expected_version=expected_version,
        effective=effective,
        prov=prov,
        reason=reason,
    )


def extend_stay(session: Session, ctx: Context, residence_id: int, data: ExtendIn) -> Snapshot:
    """续住: a later end of the intended stay from a date (default today); the earlier end stays in history."""
    ctx.actor.ensure("residence.write")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    status, row = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "extend_stay", id=residence.id)
    effective = data.effective or ctx.today
    check_extension(
        arrival=row.arrival_date,
        current_until=row.intended_stay_until,
        new_until=data.intended_stay_until,
        effective=effective,
        today=ctx.today,
    )
    return registry.change(
        session,
        ctx,
        RESIDENCE,
        residence.id,
        {"intended_stay_until": data.intended_stay_until},
        expected_version=data.expected_version,
        effective=effective,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.reason or "extend_stay",
        check=residence_check(ctx),
    )


@dataclass(frozen=True)
class MovePlan:
    """A move within the city as checked before it is written: the residence and its open row, the new dwelling,
    the registration date, the old residence's destination text and the new one's intended stay."""

    residence: Any
    row: ResidenceVersion
    target: Any
    registration: dt.date
    destination: str | None
    until: dt.date | None
    category: str

    def closing(self, data: MoveIn) -> dict[str, Any]:
        """The old residence's deregistration attributes."""
        return {
            "departure_date": data.move_date,
            "deregistration_date": self.registration,
            "deregistration_reason": "moved_within_city",
            "destination": self.destination[:200] if self.destination else None,
        }


def move_plan(session: Session, ctx: Context, residence_id: int, data: MoveIn) -> MovePlan:
    """What a move stands on, checked as it would be written (residence.write, the lifecycle, another dwelling
    not demolished, the dates). Shared by the move and a collector's proposal of it (campaign.proposals)."""
    ctx.actor.ensure("residence.write")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    status, row = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "move", id=residence.id)
    if data.dwelling_id == residence.dwelling_id:
        raise ValidationFailed(
            "residence.move_same_dwelling",
            "迁入房屋与原房屋相同",
            "The new dwelling is the one the person already lives in",
            {"field": "dwelling_id"},
        )
    target = _available_dwelling(session, ctx, data.dwelling_id)
    registration = data.registration_date or ctx.today
    check_departure(
        arrival=row.arrival_date, departure=data.move_date, deregistration=registration, today=ctx.today
    )
    destination = buildings.describe_dwelling(session, target.id, data.move_date).get("text") or None
    until = data.intended_stay_until
    if until is None and row.intended_stay_until is not None and row.intended_stay_until > data.move_date:
        until = row.intended_stay_until
    return MovePlan(residence, row, target, registration, destination, until, data.category or row.category)


def move(session: Session, ctx: Context, residence_id: int, data: MoveIn) -> tuple[Snapshot, Snapshot]:
    """市内迁移: close the residence at the move date (moved_within_city, destination = the new address) and
    register the same person at the new dwelling from that date; both or neither (one transaction)."""
    plan = move_plan(session, ctx, residence_id, data)
    prov = data.provenance.to_domain(ctx.actor.username)
    closed = registry.retire(
        session,
        ctx,
        RESIDENCE,
        plan.residence.id,
        expected_version=data.expected_version,
        effective=data.move_date,
        prov=prov,
        reason=data.note or "moved_within_city",
        changes=plan.closing(data),
        permission="residence.write",
    )
    opened = register_arrival(
        session,
        ctx,
        ArrivalIn(
            person_id=plan.residence.person_id,
            dwelling_id=plan.target.id,
            category=plan.category,
            arrival_date=data.move_date,
            registration_date=plan.registration,
            intended_stay_until=plan.until,
            stay_reason=plan.row.stay_reason,
            provenance=data.provenance,
        ),
    )
    return closed, opened


def birth_plan(session: Session, ctx: Context, data: BirthIn) -> tuple[Any, int, PersonCreate]:
    """What a birth registration stands on, checked as it would be written: the household (open, in the
    jurisdiction), the dwelling the newborn lives in (not demolished) and the newborn as a person to create.
    Shared by the registration and a collector's proposal of it (campaign.proposals.propose_birth)."""
    for permission in ("person.write", "household.write", "residence.write"):
        ctx.actor.ensure(permission)
    if data.birth_date > ctx.today:
        raise ValidationFailed(
            "person.birth_in_future",
            "出生日期不能晚于今天",
            "The birth date cannot be in the future",
            {"field": "birth_date"},
        )
    if data.relationship in ("01", "02") or data.relationship.startswith("1"):
        raise ValidationFailed(
            "birth.relationship_invalid",
            "新生儿不能是户主、本人或配偶",
            "A newborn cannot be the head, self or spouse",
            {"field": "relationship"},
        )
    household = registry.get_entity(session, persons.HOUSEHOLD, data.household_id, ctx.actor)
    hrow = history.open_row(session, persons.HOUSEHOLD, household.id)
    if hrow is None:
        raise Conflict(
            "household.retired",
            "该户已注销，不能再修改",
            "The household is retired and cannot be changed",
            {"field": "household_id"},
        )
    dwelling_id = data.dwelling_id or hrow.dwelling_id
    if dwelling_id is None:
        raise ValidationFailed(
            "birth.dwelling_unknown",
            "该户没有登记房屋，请填写新生儿居住的房屋",
            "The household has no dwelling; give the dwelling the newborn lives in",
            {"field": "dwelling_id"},
        )
    _available_dwelling(session, ctx, dwelling_id)
    docs = [{"doc_type": "resident_id", "number": data.resident_id}] if data.resident_id else []
    newborn = PersonCreate.model_validate(
        {
            "area_id": household.area_id,
            "name": data.name,
            "sex": data.sex,
            "birth_date": data.birth_date,
            "ethnicity": data.ethnicity,
            "hukou_region": data.hukou_region,
            "documents": docs,
            "valid_from": data.birth_date,
            "provenance": data.provenance,
        },
        context=validation_context(ctx.today),
    )
    return household, int(dwelling_id), newborn


def register_birth(session: Session, ctx: Context, data: BirthIn) -> dict[str, Snapshot]:
    """A newborn: the person, membership of a household and a residence at its dwelling from the birth date."""
    household, dwelling_id, newborn = birth_plan(session, ctx, data)
    person = persons.create_person(session, ctx, newborn)
    snap_household = persons.add_member(
        session,
        ctx,
        household.id,
        MemberAdd(
            expected_version=data.household_expected_version,
            person_id=person.entity.id,
            relationship=data.relationship,
            effective=data.birth_date,
            provenance=data.provenance,
        ),
    )
    snap_residence = register_arrival(
        session,
        ctx,
        ArrivalIn(
            person_id=person.entity.id,
            dwelling_id=dwelling_id,
            category=data.category,
            arrival_date=data.birth_date,
            registration_date=data.registration_date,
            provenance=data.provenance,
        ),
    )
    return {"person": person, "household": snap_household, "residence": snap_residence}
