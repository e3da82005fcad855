"""Visits (入户走访): what a collector found at a dwelling, stored once per idempotency key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import User
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.campaign import rules
from liangshi.campaign.models import Visit, VisitPerson
from liangshi.campaign.schemas import PersonAtDwelling, VisitCreate, VisitRead
from liangshi.common.idnumber import check_document, parse_id_number
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.schemas import HouseholdCreate, MemberAdd, PersonCreate
from liangshi.registry import Context, Provenance, Snapshot, history
from liangshi.rentals import service as rentals
from liangshi.rentals.schemas import TenantIn
from liangshi.residence import service as residence
from liangshi.residence.schemas import ArrivalIn

VISIT_REASON = "入户走访"


def _read(session: Session, visit: Visit, *, replayed: bool = False) -> VisitRead:
    collector = session.get(User, visit.collector_id) if visit.collector_id is not None else None
    confirmed = session.execute(
        select(VisitPerson.person_id).where(VisitPerson.visit_id == visit.id).order_by(VisitPerson.id)
    ).scalars()
    return VisitRead(
        id=visit.id,
        dwelling_id=visit.dwelling_id,
        building_id=visit.building_id,
        county_code=visit.county_code,
        collector=collector.username if collector else None,
        outcome=visit.outcome,
        note=visit.note,
        visited_at=visit.visited_at,
        idempotency_key=visit.idempotency_key,
        confirmed_person_ids=[int(p) for p in confirmed],
        started_at=visit.started_at,
        ended_at=visit.ended_at,
        device=visit.device,
        latitude=visit.latitude,
        longitude=visit.longitude,
        position_accuracy=visit.position_accuracy,
        replayed=replayed,
    )


def _by_key(session: Session, key: str) -> Visit | None:
    return session.execute(select(Visit).where(Visit.idempotency_key == key)).scalar_one_or_none()


def _replay(session: Session, ctx: Context, existing: Visit, dwelling_id: int) -> VisitRead:
    if existing.dwelling_id != dwelling_id or existing.collector_id != ctx.actor.user_id:
        raise Conflict(
            "visit.key_reused",
            "该提交编号已用于另一次走访，请刷新页面后重新填写",
            "This idempotency key was used for another visit; reload the form and fill it in again",
            {"field": "idempotency_key"},
        )
    return _read(session, existing, replayed=True)


def record_visit(session: Session, ctx: Context, dwelling_id: int, data: VisitCreate) -> VisitRead:
    """Record a visit and the occupancy found; the same idempotency key again returns the first visit unchanged.

    The dwelling's status follows the occupancy found (rules.dwelling_status_after) and the building's visit
    status follows how many of its dwellings have been visited (rules.building_visit_status).
    """
    ctx.actor.ensure("dwelling.write")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor, write=True)
    existing = _by_key(session, data.idempotency_key)
    if existing is not None:
        return _replay(session, ctx, existing, dwelling.id)
    confirmed = list(dict.fromkeys(data.confirmed_person_ids))
    if confirmed:
        if data.outcome != "occupied":
            raise ValidationFailed(
                "visit.confirmed_without_occupants",
                "只有“有人居住”的走访才能确认在住人员",
                "Persons can only be confirmed at a visit that found the dwelling occupied",
                {"field": "confirmed_person_ids"},
            )
        living = residence.current_person_ids(session, dwelling.id, ctx.today)
        strangers = [p for p in confirmed if p not in living]
        if strangers:
            raise ValidationFailed(
                "visit.not_an_occupant",
                "确认的人员不在该房屋登记居住",
                "A confirmed person does not live in this dwelling",
                {"field": "confirmed_person_ids", "person_ids": strangers},
            )
    visit = Visit(
        dwelling_id=dwelling.id,
        building_id=dwelling.building_id,
        area_id=dwelling.area_id,
        county_code=dwelling.county_code,
        collector_id=ctx.actor.user_id,
        outcome=data.outcome,
        note=data.note,
        visited_at=ctx.now,
        idempotency_key=data.idempotency_key,
        started_at=data.started_at,
        ended_at=data.ended_at,
        device=data.device,
        latitude=data.latitude,
        longitude=data.longitude,
        position_accuracy=data.position_accuracy,
    )
    try:
        # A concurrent submission of the same key (double tap on two connections) loses here, not later.
        with session.begin_nested():
            session.add(visit)
            session.flush()
    except IntegrityError:
        existing = _by_key(session, data.idempotency_key)
        if existing is None:
            raise
        return _replay(session, ctx, existing, dwelling.id)
    for person_id in confirmed:
        session.add(VisitPerson(visit_id=visit.id, person_id=person_id, county_code=visit.county_code))
    session.flush()
    prov = Provenance("collector", ctx.actor.username, "observed", None)
    _follow_status(session, ctx, dwelling, data.outcome, prov)
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "visit.create",
                "dwelling",
                dwelling.id,
                None,
                {"visit_id": visit.id, "outcome": visit.outcome},
            )
        ]
        + [
            audit.Event("visit.confirm_person", "dwelling", dwelling.id, p, {"visit_id": visit.id})
            for p in confirmed
        ],
    )
    return _read(session, visit)


def _follow_status(session: Session, ctx: Context, dwelling: Any, outcome: str, prov: Provenance) -> None:
    row = history.open_row(session, buildings.DWELLING, dwelling.id)
    if row is not None:
        new = rules.dwelling_status_after(row.status, outcome)
        if new is not None:
            registry.change(
                session,
                ctx,
                buildings.DWELLING,
                dwelling.id,
                {"status": new},
                expected_version=dwelling.version,
                effective=ctx.today,
                prov=prov,
                reason=VISIT_REASON,
                check=buildings.dwelling_check(session),
            )
    building = registry.get_entity(session, buildings.BUILDING, dwelling.building_id, ctx.actor)
    brow = history.open_row(session, buildings.BUILDING, building.id)
    if brow is None:
        return
    ids = buildings.current_dwelling_ids(session, building.id, ctx.today)
    visited = session.execute(
        select(func.count(func.distinct(Visit.dwelling_id))).where(
            Visit.building_id == building.id, Visit.dwelling_id.in_(ids)
        )
    ).scalar_one()
    status = rules.building_visit_status(len(ids), int(visited))
    if status != brow.visit_status and ctx.actor.may("building.write"):
        registry.change(
            session,
            ctx,
            buildings.BUILDING,
            building.id,
            {"visit_status": status},
            expected_version=building.version,
            effective=ctx.today,
            prov=prov,
            reason=VISIT_REASON,
        )


def visits_of(session: Session, ctx: Context, dwelling_id: int, *, limit: int = 100) -> list[VisitRead]:
    """A dwelling's visits in the caller's jurisdiction, newest first."""
    ctx.actor.ensure("dwelling.read")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    rows = session.execute(
        select(Visit)
        .where(Visit.dwelling_id == dwelling.id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(limit)
    ).scalars()
    return [_read(session, v) for v in rows]


def last_outcomes(session: Session, dwelling_ids: list[int]) -> dict[int, str]:
    """The outcome of each dwelling's latest visit (for lists and grids)."""
    if not dwelling_ids:
        return {}
    latest = (
        select(Visit.dwelling_id, func.max(Visit.id).label("last"))
        .where(Visit.dwelling_id.in_(dwelling_ids))
        .group_by(Visit.dwelling_id)
        .subquery()
    )
    rows = session.execute(select(Visit.dwelling_id, Visit.outcome).join(latest, latest.c.last == Visit.id))
    return {int(d): str(o) for d, o in rows}


def add_person_at_dwelling(
    session: Session, ctx: Context, dwelling_id: int, data: PersonAtDwelling
) -> Snapshot:
    """A person found living at a dwelling (the complete form): the holder of the document if visible, else a new
    person; their arrival there (人来登记); their household (joined or created) and, for a tenant, the dwelling's
    open rental. Sex, birth date and 户籍地 default to what a resident ID number says (GB 11643)."""
    ctx.actor.ensure("residence.write")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor, write=True)
    prov = Provenance("collector", ctx.actor.username, "document" if data.id_number else "observed", None)
    provenance = {"source_kind": prov.source_kind, "evidence": prov.evidence}
    person_id: int | None = None
    sex, birth, hukou_region = data.sex, data.birth_date, data.hukou_region
    document: dict[str, Any] | None = None
    if data.id_number:
        number = check_document(
            data.doc_type, data.id_number, country=data.country, today=ctx.today, field="id_number"
        )
        document = {"doc_type": data.doc_type, "number": number}
        if data.doc_type == "passport":
            document["country"] = data.country
        elif (
            data.doc_type in ("resident_id", "hmt_residence_permit", "foreign_pr_card") and len(number) == 18
        ):
            check = parse_id_number(number, today=ctx.today, field="id_number")
            sex = sex or ("1" if check.sex == "male" else "2")
            birth = birth or check.birth_date
            if data.doc_type == "resident_id" and hukou_region is None and check.region:
                hukou_region = check.region
        person_id = persons.person_id_by_document(session, ctx, number)
    if person_id is None:
        if sex is None:
            raise ValidationFailed(
                "person.sex_required",
                "请选择性别（或填写身份证号码自动带出）",
                "Choose the sex (or enter the ID number to fill it in)",
                {"field": "sex"},
            )
        fields = {
            "ethnicity": data.ethnicity,
            "hukou_region": hukou_region,
            "hukou_address": data.hukou_address,
            "education": data.education,
            "marital_status": data.marital_status,
            "occupation": data.occupation,
            "workplace": data.workplace,
        }
        created = persons.create_person(
            session,
            ctx,
            PersonCreate.model_validate(
                {
                    "area_id": dwelling.area_id,
                    "name": data.name,
                    "sex": sex,
                    "birth_date": birth,
                    "phone": data.phone,
                    "nationality": _nationality(data),
                    "documents": [document] if document else [],
                    "provenance": provenance,
                    **{k: v for k, v in fields.items() if v is not None},
                },
                context=validation_context(ctx.today),
            ),
        )
        person_id = int(created.entity.id)
    snap = residence.register_arrival(
        session,
        ctx,
        ArrivalIn.model_validate(
            {
                "person_id": person_id,
                "dwelling_id": dwelling.id,
                "category": data.category,
                "arrival_date": data.arrival_date,
                "intended_stay_until": data.intended_stay_until,
                "provenance": provenance,
            },
            context=validation_context(ctx.today),
        ),
    )
    if data.household is not None:
        _join_household(session, ctx, dwelling, person_id, data, provenance)
    if data.tenant:
        _join_rental(session, ctx, dwelling.id, person_id, provenance)
    return snap


def _nationality(data: PersonAtDwelling) -> str:
    # A passport holder's nationality is the issuing country; the other documents are held by Chinese citizens,
    # except the foreigner's permanent residence card, whose holder's nationality the form does not know.
    if data.doc_type == "passport" and data.country:
        return data.country
    return "CHN"


def _join_household(
    session: Session, ctx: Context, dwelling: Any, person_id: int, data: PersonAtDwelling, provenance: Any
) -> None:
    choice = data.household
    assert choice is not None
    if choice.mode == "create":
        persons.create_household(
            session,
            ctx,
            HouseholdCreate.model_validate(
                {
                    "household_kind": "actual",
                    "area_id": dwelling.area_id,
                    "dwelling_id": dwelling.id,
                    "members": [{"person_id": person_id, "relationship": choice.relationship}],
                    "valid_from": data.arrival_date,
                    "provenance": provenance,
                },
                context=validation_context(ctx.today),
            ),
        )
        return
    assert choice.household_id is not None
    here = {
        h["household_id"]: h for h in persons.households_at_dwelling(session, ctx, dwelling.id, ctx.today)
    }
    if choice.household_id not in here:
        raise ValidationFailed(
            "visit.household_elsewhere",
            "所选家庭户不在该房屋",
            "The chosen household does not live in this dwelling",
            {"field": "household_id"},
        )
    persons.add_member(
        session,
        ctx,
        choice.household_id,
        MemberAdd.model_validate(
            {
                "expected_version": here[choice.household_id]["version"],
                "person_id": person_id,
                "relationship": choice.relationship,
                "effective": data.arrival_date,
                "provenance": provenance,
            },
            context=validation_context(ctx.today),
        ),
    )


def _join_rental(session: Session, ctx: Context, dwelling_id: int, person_id: int, provenance: Any) -> None:
    rental = rentals.rental_of_dwelling(session, ctx, dwelling_id)
    if rental is None:
        raise ValidationFailed(
            "visit.no_rental",
            "该房屋没有有效的出租登记，无法登记为承租人",
            "This dwelling has no open rental to attach the tenant to",
            {"field": "tenant"},
        )
    rentals.attach_tenant(
        session,
        ctx,
        int(rental.entity.id),
        TenantIn.model_validate(
            {"expected_version": rental.entity.version, "person_id": person_id, "provenance": provenance},
            context=validation_context(ctx.today),
        ),
    )
