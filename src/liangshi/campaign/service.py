"""Visits (入户走访): what a collector found at a dwelling, stored once per idempotency key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import User
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.buildings.models import Dwelling, DwellingVersion
from liangshi.campaign import counts, progress, rules
from liangshi.campaign.models import Visit, VisitPerson
from liangshi.campaign.schemas import PersonAtDwelling, VisitCreate, VisitRead
from liangshi.common.idnumber import check_document, parse_id_number
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, ValidationFailed
from liangshi.persons import rules as person_rules
from liangshi.persons import service as persons
from liangshi.persons.models import HouseholdVersion
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import Context, PlannedChange, Provenance, history
from liangshi.registry.changesets import ChangeSet, Proposal, Proposed
from liangshi.rentals import service as rentals
from liangshi.rentals.models import RENTAL
from liangshi.residence import rules as residence_rules
from liangshi.residence import service as residence
from liangshi.residence.models import RESIDENCE, Residence, ResidenceVersion
from liangshi.residence.schemas import DepartureIn, ExtendIn
from liangshi.review import service as review
from liangshi.review.rules import DistrictPolicy

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
        change_set_id=session.execute(
            select(ChangeSet.id).where(ChangeSet.idempotency_key == f"visit:{visit.id}")
        ).scalar_one_or_none(),
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


def check_confirmed(session: Session, ctx: Context, dwelling_id: int, data: VisitCreate) -> list[int]:
    """The persons a visit confirms (each once), or 422 when the visit found nobody or one does not live there."""
    confirmed = list(dict.fromkeys(data.confirmed_person_ids))
    if confirmed:
        if data.outcome != "occupied":
            raise ValidationFailed(
                "visit.confirmed_without_occupants",
                "只有“有人居住”的走访才能确认在住人员",
                "Persons can only be confirmed at a visit that found the dwelling occupied",
                {"field": "confirmed_person_ids"},
            )
        living = residence.current_person_ids(session, dwelling_id, ctx.today)
        strangers = [p for p in confirmed if p not in living]
        if strangers:
            raise ValidationFailed(
                "visit.not_an_occupant",
                "确认的人员不在该房屋登记居住",
                "A confirmed person does not live in this dwelling",
                {"field": "confirmed_person_ids", "person_ids": strangers},
            )
    return confirmed


def check_household_sizes(session: Session, ctx: Context, dwelling_id: int, data: VisitCreate) -> None:
    """422 `visit.household_elsewhere` when a declared size names a household not living at the dwelling."""
    if not data.household_sizes:
        return
    living = {
        int(h)
        for (h,) in session.execute(
            select(HouseholdVersion.entity_id).where(
                HouseholdVersion.dwelling_id == dwelling_id,
                HouseholdVersion.superseded_at.is_(None),
                history.valid_on(HouseholdVersion, ctx.today),
            )
        )
    }
    elsewhere = [s.household_id for s in data.household_sizes if s.household_id not in living]
    if elsewhere:
        raise ValidationFailed(
            "visit.household_elsewhere",
            "所选家庭户不在该房屋",
            "The chosen household does not live in this dwelling",
            {"field": "household_sizes", "household_ids": elsewhere},
        )


def declare_sizes(session: Session, ctx: Context, data: VisitCreate) -> None:
    """Record the household sizes declared at a visit (the latest declaration counts)."""
    for size in data.household_sizes:
        progress.declare_household_count(session, ctx, size.household_id, size.members)


def new_visit(ctx: Context, dwelling: Any, data: VisitCreate) -> Visit:
    """The visit row of a submission (not yet added to the session)."""
    return Visit(
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


def occupancy_proposal(
    ctx: Context, dwelling: Any, current_status: str, visit: Visit, prov: Provenance
) -> Proposal | None:
    """The change set a visit implies for the dwelling's status (rules.dwelling_status_after), or None."""
    new = rules.dwelling_status_after(current_status, visit.outcome)
    if new is None:
        return None
    return Proposal(
        area_id=dwelling.area_id,
        flow="collection",
        action="occupancy",
        summary=f"{current_status} → {new}",
        items=[
            Proposed(
                "change",
                "dwelling",
                entity_id=dwelling.id,
                base_version=dwelling.version,
                attributes={"status": new},
                effective=ctx.today,
                reason=VISIT_REASON,
                permission="dwelling.write",
            )
        ],
        prov=prov,
        tags=[visit.outcome],
        payload={"dwelling_id": dwelling.id, "visit_id": visit.id, "outcome": visit.outcome},
        idempotency_key=f"visit:{visit.id}",
    )


def record_visit(
    session: Session,
    ctx: Context,
    dwelling_id: int,
    data: VisitCreate,
    *,
    policy: DistrictPolicy | None = None,
) -> VisitRead:
    """Record a visit and the occupancy found; the same idempotency key again returns the first visit unchanged.

    The dwelling status the occupancy implies (rules.dwelling_status_after) is proposed as a change set for the
    station's review (`change_set_id`), not written: it becomes the register's only when approved. The building's
    visit status (how many of its dwellings have been visited, rules.building_visit_status) is the campaign's
    progress and follows at once.
    """
    ctx.actor.ensure("dwelling.write")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor, write=True)
    existing = _by_key(session, data.idempotency_key)
    if existing is not None:
        return _replay(session, ctx, existing, dwelling.id)
    confirmed = check_confirmed(session, ctx, dwelling.id, data)
    check_household_sizes(session, ctx, dwelling.id, data)
    visit = new_visit(ctx, dwelling, data)
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
    counts.mark_dirty(session, [visit.building_id])
    declare_sizes(session, ctx, data)
    prov = Provenance("collector", ctx.actor.username, "observed", None)
    _follow_status(session, ctx, dwelling, visit, data.outcome, prov, policy)
    registry.log(ctx, session, visit_events(visit, confirmed))
    return _read(session, visit)


def _follow_status(
    session: Session,
    ctx: Context,
    dwelling: Any,
    visit: Visit,
    outcome: str,
    prov: Provenance,
    policy: DistrictPolicy | None,
) -> None:
    row = history.open_row(session, buildings.DWELLING, dwelling.id)
    proposal = occupancy_proposal(ctx, dwelling, row.status, visit, prov) if row is not None else None
    if proposal is not None:
        review.propose_many(session, ctx, [proposal], policy=policy)
    registry.get_entity(session, buildings.BUILDING, dwelling.building_id, ctx.actor)
    follow_buildings(session, ctx, [dwelling.building_id], prov)


def follow_buildings(session: Session, ctx: Context, building_ids: list[int], prov: Provenance) -> None:
    """Bring the buildings' visit status (how many of their dwellings have a visit, rules.building_visit_status)
    up to date, set-based: three queries and one `change_many` for those whose status moved."""
    ids = sorted(set(building_ids))
    if not ids or not ctx.actor.may("building.write"):
        return
    rows = history.current_rows(session, buildings.BUILDING, ids)
    dv = DwellingVersion
    current: dict[int, set[int]] = {}
    for building_id, dwelling_id in session.execute(
        select(Dwelling.building_id, Dwelling.id)
        .join(
            dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, ctx.today))
        )
        .where(Dwelling.building_id.in_(ids))
    ):
        current.setdefault(int(building_id), set()).add(int(dwelling_id))
    visited: dict[int, set[int]] = {}
    for building_id, dwelling_id in session.execute(
        select(Visit.building_id, Visit.dwelling_id).where(Visit.building_id.in_(ids)).distinct()
    ):
        visited.setdefault(int(building_id), set()).add(int(dwelling_id))
    planned = []
    for building_id in ids:
        open_rows = [r for r in rows.get(building_id, []) if r["valid_to"] is None]
        if not open_rows:
            continue
        row = open_rows[0]
        dwellings = current.get(building_id, set())
        status = rules.building_visit_status(len(dwellings), len(visited.get(building_id, set()) & dwellings))
        if status != row["visit_status"]:
            planned.append(
                PlannedChange(
                    building_id,
                    row["entity_county_code"],
                    row["entity_version"],
                    row,
                    {"visit_status": status},
                )
            )
    registry.change_many(
        session, ctx, buildings.BUILDING, planned, effective=ctx.today, prov=prov, reason=VISIT_REASON
    )


def visit_events(visit: Visit, confirmed: list[int]) -> list[audit.Event]:
    """The audit entries of a recorded visit."""
    return [
        audit.Event(
            "visit.create",
            "dwelling",
            visit.dwelling_id,
            None,
            {"visit_id": visit.id, "outcome": visit.outcome},
        )
    ] + [
        audit.Event("visit.confirm_person", "dwelling", visit.dwelling_id, p, {"visit_id": visit.id})
        for p in confirmed
    ]


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


def _open_main_residence(session: Session, person_id: int) -> int | None:
    v = ResidenceVersion
    row = session.execute(
        select(Residence.id)
        .join(v, v.entity_id == Residence.id)
        .where(
            Residence.person_id == person_id,
            v.superseded_at.is_(None),
            v.valid_to.is_(None),
            v.category != "lodging",
        )
    ).first()
    return int(row[0]) if row else None


def _dwelling_available(session: Session, dwelling_id: int) -> None:
    drow = history.open_row(session, buildings.DWELLING, dwelling_id)
    if drow is None or drow.status == "demolished":
        raise Conflict(
            "residence.dwelling_unavailable",
            "该房屋已拆除或注销，不能登记居住",
            "The dwelling is demolished or retired",
            {"field": "dwelling_id"},
        )


def propose_or_resubmit(
    session: Session,
    ctx: Context,
    change_set_id: int | None,
    *,
    policy: DistrictPolicy | None,
    **fields: Any,
) -> ChangeSet:
    """Store a collector's proposal (`review.propose`), or with `change_set_id` their fixed resubmission of a
    returned set of the same action (404 for anyone else's or another action's): the one path of every
    proposal of the collection."""
    if change_set_id is None:
        return review.propose(session, ctx, policy=policy, **fields)
    cs = review.returned_change_set(session, ctx, change_set_id)
    if cs.action != fields["action"]:
        raise review.changesets_not_found(change_set_id)
    return review.resubmit(
        session,
        ctx,
        change_set_id,
        items=fields["items"],
        summary=fields["summary"],
        payload=fields.get("payload"),
        tags=fields.get("tags", ()),
        subject_person_id=fields.get("subject_person_id"),
        policy=policy,
    )


def add_person_at_dwelling(
    session: Session,
    ctx: Context,
    dwelling_id: int,
    data: PersonAtDwelling,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """A person found living at a dwelling (the complete form), proposed for review (not yet a registry fact):
    the holder of the document if visible, else a new person with the document and the form's items (民族,
    户籍地, education, marital status, occupation, workplace); their arrival there (人来登记); their household
    (joined, or created with them as its first member) and, for a tenant, their link to the dwelling's open
    rental. Sex, birth date and 户籍地 default to what a resident ID number says (GB 11643). Checked now as the
    direct registration would be; written when the station (and, where district policy names it, the district)
    approves. `change_set_id` resubmits a returned proposal, fixed."""
    ctx.actor.ensure("residence.write")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor, write=True)
    _dwelling_available(session, dwelling.id)
    prov = Provenance("collector", ctx.actor.username, "document" if data.id_number else "observed", None)
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
    residence_rules.check_dates(
        arrival=data.arrival_date,
        registration=ctx.today,
        intended_until=data.intended_stay_until,
        today=ctx.today,
    )
    items: list[Proposed] = []
    person_ref: Any
    requires: list[Any] = [["dwelling", dwelling.id, {"status": ["demolished"]}]]
    if person_id is None:
        ctx.actor.ensure("person.write")
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
        create = PersonCreate.model_validate(
            {
                "area_id": dwelling.area_id,
                "name": data.name,
                "sex": sex,
                "birth_date": birth,
                "phone": data.phone,
                "nationality": _nationality(data),
                "documents": [document] if document else [],
                **{k: v for k, v in fields.items() if v is not None},
            },
            context=validation_context(ctx.today),
        )
        attrs = create.model_dump(include=set(persons.PERSON.attributes))
        items.append(Proposed("create", "person", key="person", area_id=dwelling.area_id, attributes=attrs))
        for doc in create.documents:
            person_rules.check_document_agrees(
                doc.doc_type, doc.number, birth_date=attrs["birth_date"], sex=attrs["sex"], today=ctx.today
            )
            country = doc.country or "CHN"
            items.append(
                Proposed(
                    "create",
                    "document",
                    key="document",
                    area_id=dwelling.area_id,
                    attributes={"doc_type": doc.doc_type, "number": doc.number, "country": country},
                    refs={"person_id": {"key": "person"}},
                    permission="person.write",
                )
            )
        person_ref = {"key": "person"}
    else:
        if data.category != "lodging" and _open_main_residence(session, person_id) is not None:
            raise Conflict(
                "residence.already_open",
                "该人员已有未注销的居住登记，请先注销或办理迁移",
                "The person already has an open residence; deregister it first",
                {"field": "person_id", "residence_id": _open_main_residence(session, person_id)},
            )
        person_ref = person_id
        requires.append(["person", person_id, {}])
    items.append(
        Proposed(
            "create",
            "residence",
            key="residence",
            area_id=dwelling.area_id,
            attributes={
                "category": data.category,
                "arrival_date": data.arrival_date,
                "registration_date": ctx.today,
                "intended_stay_until": data.intended_stay_until,
                "departure_date": None,
                "deregistration_date": None,
                "deregistration_reason": None,
                "destination": None,
                "stay_reason": data.stay_reason,
            },
            refs={"person_id": person_ref, "dwelling_id": dwelling.id},
            # The residence is valid in the world from the arrival, whenever it was registered.
            valid_from=data.arrival_date,
            requires=requires,
        )
    )
    if data.household is not None:
        items.extend(_household_items(session, ctx, dwelling, person_id, person_ref, data))
    if data.tenant:
        items.append(_tenant_item(session, ctx, dwelling.id, person_id, person_ref, data))
    tags: list[str] = [data.category]
    if data.household is not None:
        tags.append(f"household_{data.household.mode}")
    if data.tenant:
        tags.append("tenant")
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=dwelling.area_id,
        action="person_at_dwelling" if person_id is None else "arrival",
        summary=data.name,
        items=items,
        prov=prov,
        tags=tags,
        subject_person_id=person_id,
        payload={"dwelling_id": dwelling.id, **data.model_dump(mode="json")},
    )


def _nationality(data: PersonAtDwelling) -> str:
    # A passport holder's nationality is the issuing country; the other documents are held by Chinese citizens,
    # except the foreigner's permanent residence card, whose holder's nationality the form does not know.
    if data.doc_type == "passport" and data.country:
        return data.country
    return "CHN"


def _household_items(
    session: Session,
    ctx: Context,
    dwelling: Any,
    person_id: int | None,
    person_ref: Any,
    data: PersonAtDwelling,
) -> list[Proposed]:
    """The household part of the complete form as change set items: a new actual household at the dwelling
    with the person as its member, or the person's membership of a household living there."""
    choice = data.household
    assert choice is not None
    ctx.actor.ensure("household.write")
    items: list[Proposed] = []
    household_ref: Any
    requires: list[Any] = [["dwelling", dwelling.id, {"status": ["demolished"]}]]
    if choice.mode == "create":
        items.append(
            Proposed(
                "create",
                "household",
                key="household",
                area_id=dwelling.area_id,
                attributes={"dwelling_id": dwelling.id, "household_number": None},
                refs={"household_kind": "actual"},
                valid_from=data.arrival_date,
                permission="household.write",
                requires=requires,
            )
        )
        household_ref = {"key": "household"}
        area_id = dwelling.area_id
    else:
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
        household = registry.get_entity(
            session, persons.HOUSEHOLD, choice.household_id, ctx.actor, write=True
        )
        if person_id is not None or choice.relationship == person_rules.HEAD:
            # The household's own checks (already a member, a second head) now, as the direct join would.
            persons.check_new_member(session, ctx, household, person_id, choice.relationship)
        household_ref = household.id
        area_id = household.area_id
        requires = [["household", household.id, {}]]
    items.append(
        Proposed(
            "create",
            "membership",
            key="membership",
            area_id=area_id,
            attributes={"relationship": choice.relationship},
            refs={"household_id": household_ref, "person_id": person_ref},
            valid_from=data.arrival_date,
            permission="household.write",
            requires=requires,
        )
    )
    return items


def _tenant_item(
    session: Session,
    ctx: Context,
    dwelling_id: int,
    person_id: int | None,
    person_ref: Any,
    data: PersonAtDwelling,
) -> Proposed:
    """A tenant joining the dwelling's open rental as a change set item: linked to the residence the same set
    creates, from the later of the lease start and the arrival."""
    ctx.actor.ensure("rental.write")
    rental = rentals.rental_of_dwelling(session, ctx, dwelling_id)
    if rental is None:
        raise ValidationFailed(
            "visit.no_rental",
            "该房屋没有有效的出租登记，无法登记为承租人",
            "This dwelling has no open rental to attach the tenant to",
            {"field": "tenant"},
        )
    rental_id = int(rental.entity.id)
    tenants = rentals.tenant_person_ids(session, rental_id)
    if person_id is not None and person_id in tenants:
        raise Conflict(
            "rental.tenant_already_attached",
            "该人员已是此出租房屋的承租人",
            "The person already is a tenant of this rental",
            {"field": "person_id"},
        )
    row = history.open_row(session, RENTAL, rental_id)
    assert row is not None
    return Proposed(
        "create",
        "rental_tenant",
        key="tenant",
        area_id=int(rental.entity.area_id),
        attributes={"is_primary": not tenants},
        refs={"rental_id": rental_id, "person_id": person_ref, "residence_id": {"key": "residence"}},
        valid_from=max(row.lease_start, data.arrival_date),
        permission="rental.write",
        requires=[["rental", rental_id, {"status": ["ended"]}]],
        # Audited on approval as the direct attach is (rentals.service.attach_tenant).
        audit_as={
            "action": "rental.tenant_attach",
            "entity_kind": "rental",
            "entity_ref": "rental_id",
            "subject_ref": "person_id",
            "id_as": "tenant_id",
        },
    )


def open_residence(session: Session, ctx: Context, residence_id: int, step: str) -> tuple[Any, Any, str]:
    """The residence a collector's proposal is about, as the direct use case would check it: residence.write,
    in the jurisdiction, its lifecycle allowing `step` (409 otherwise); with its open row and the person's name."""
    ctx.actor.ensure("residence.write")
    res = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor, write=True)
    status, row = residence.residence_status(session, res.id)
    residence_rules.LIFECYCLE.ensure(status, step, id=res.id)
    name = persons.names_on(session, [res.person_id], ctx.today).get(res.person_id, "")
    return res, row, name


def propose_on_residence(
    session: Session,
    ctx: Context,
    res: Any,
    name: str,
    data: Any,
    *,
    action: str,
    items: list[Proposed],
    tags: list[str],
    change_set_id: int | None,
    policy: DistrictPolicy | None,
) -> ChangeSet:
    """A proposal about one residence (departure, extension, move): about its person, from what the form held."""
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=res.area_id,
        action=action,
        summary=name,
        items=items,
        prov=data.provenance.to_domain(ctx.actor.username),
        tags=tags,
        subject_person_id=res.person_id,
        payload={"residence_id": res.id, **data.model_dump(mode="json")},
    )


def propose_departure(
    session: Session,
    ctx: Context,
    residence_id: int,
    data: DepartureIn,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """A departure (人走注销) the collector found, proposed for review: checked now as the deregistration would be,
    written on approval."""
    res, row, name = open_residence(session, ctx, residence_id, "deregister")
    dereg = data.deregistration_date or ctx.today
    residence_rules.check_departure(
        arrival=row.arrival_date, departure=data.departure_date, deregistration=dereg, today=ctx.today
    )
    item = Proposed(
        "retire",
        "residence",
        entity_id=res.id,
        base_version=data.expected_version,
        attributes={
            "departure_date": data.departure_date,
            "deregistration_date": dereg,
            "deregistration_reason": data.reason,
            "destination": data.destination,
        },
        effective=data.departure_date,
        reason=data.note or data.reason,
        permission="residence.write",
    )
    return propose_on_residence(
        session,
        ctx,
        res,
        name,
        data,
        action="departure",
        items=[item],
        tags=[row.category, data.reason],
        change_set_id=change_set_id,
        policy=policy,
    )


def propose_extension(
    session: Session,
    ctx: Context,
    residence_id: int,
    data: ExtendIn,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """An extension of the intended stay (续住) the collector was told of, proposed for review: checked now as
    `residence.extend_stay` would check it, written on approval (from `effective`, default today)."""
    res, row, name = open_residence(session, ctx, residence_id, "extend_stay")
    effective = data.effective or ctx.today
    residence_rules.check_extension(
        arrival=row.arrival_date,
        current_until=row.intended_stay_until,
        new_until=data.intended_stay_until,
        effective=effective,
        today=ctx.today,
    )
    item = Proposed(
        "change",
        "residence",
        entity_id=res.id,
        base_version=data.expected_version,
        attributes={"intended_stay_until": data.intended_stay_until},
        effective=effective,
        reason=data.reason or "extend_stay",
        permission="residence.write",
    )
    return propose_on_residence(
        session,
        ctx,
        res,
        name,
        data,
        action="extension",
        items=[item],
        tags=[row.category],
        change_set_id=change_set_id,
        policy=policy,
    )


def propose_correction(
    session: Session,
    ctx: Context,
    person_id: int,
    changes: dict[str, Any],
    *,
    expected_version: int,
    reason: str,
    prov: Provenance,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """A correction of a person's recorded items (a wrong value), proposed for review and checked now against
    the person's documents as the correction would be."""
    ctx.actor.ensure("person.write")
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor, write=True)
    row = history.open_row(session, persons.PERSON, person.id)
    if row is None:
        raise history.retired(persons.PERSON, person.id)
    attrs = {**history.attributes_of(persons.PERSON, row), **changes}
    persons.person_check(session, ctx)(person, attrs)
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=person.area_id,
        action="correction",
        summary=str(attrs.get("name") or ""),
        items=[
            Proposed(
                "correct",
                "person",
                entity_id=person.id,
                base_version=expected_version,
                attributes=dict(changes),
                reason=reason,
                permission="person.write",
            )
        ],
        prov=prov,
        tags=sorted(changes),
        subject_person_id=person.id,
        payload={"person_id": person.id, "expected_version": expected_version, "reason": reason, **changes},
    )
