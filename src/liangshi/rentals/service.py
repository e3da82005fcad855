"""Rental use cases: file, attach tenants, record the security agreement, end; the three rental rates.

A rental is valid from its lease start until it ends. Each tenant is a link (`RentalTenant`) to a person with an
open residence at the rented dwelling, and carries that residence's id, so a residence knows its rental.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from liangshi import registry
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.buildings.models import Dwelling, DwellingVersion
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import PersonVersion
from liangshi.registry import Context, Snapshot, history
from liangshi.rentals import rules
from liangshi.rentals.models import RENTAL as RENTAL
from liangshi.rentals.models import TENANT as TENANT
from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion
from liangshi.rentals.schemas import AgreementIn, RentalCreate, RentalEnd, TenantIn
from liangshi.residence.models import Residence, ResidenceVersion

# ---- lookups -------------------------------------------------------------------------------------------------


def open_rental_of(session: Session, dwelling_id: int) -> int | None:
    """The id of the dwelling's open rental, if any (for the residence side: a tenant needs a rental)."""
    v = RentalVersion
    found = session.execute(
        select(Rental.id)
        .join(v, and_(v.entity_id == Rental.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
        .where(Rental.dwelling_id == dwelling_id)
        .limit(1)
    ).scalar()
    return int(found) if found is not None else None


def status_of(session: Session, rental_id: int) -> str:
    """The rental's status now: its open version's, else ended."""
    row = history.open_row(session, RENTAL, rental_id)
    return str(row.status) if row is not None else "ended"


def _open_residence(session: Session, person_id: int, dwelling_id: int) -> int | None:
    v = ResidenceVersion
    found = session.execute(
        select(Residence.id)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
        .where(Residence.person_id == person_id, Residence.dwelling_id == dwelling_id)
        .order_by(Residence.id.desc())
        .limit(1)
    ).scalar()
    return int(found) if found is not None else None


def _open_links(session: Session, rental_id: int) -> list[tuple[RentalTenant, RentalTenantVersion]]:
    v = RentalTenantVersion
    rows = session.execute(
        select(RentalTenant, v)
        .join(v, and_(v.entity_id == RentalTenant.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
        .where(RentalTenant.rental_id == rental_id)
        .order_by(RentalTenant.id)
    )
    return [(t, row) for t, row in rows]


def tenant_person_ids(session: Session, rental_id: int) -> list[int]:
    """The persons holding an open tenant link to the rental."""
    return [int(t.person_id) for t, _ in _open_links(session, rental_id)]


def _landlord(session: Session, ctx: Context, person_id: int) -> None:
    """The landlord is a person in the registry whom the caller may see, and not retired (dead, merged)."""
    try:
        person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor)
    except NotFound:
        raise NotFound(
            "rental.landlord_not_found",
            "未找到出租人",
            "Landlord not found",
            {"field": "landlord_person_id", "id": person_id},
        ) from None
    if history.open_row(session, persons.PERSON, person.id) is None:
        raise Conflict(
            "rental.landlord_retired",
            "出租人记录已注销",
            "The landlord's record is retired",
            {"field": "landlord_person_id"},
        )


def _filing_taken(session: Session, number: str | None, except_id: int | None) -> None:
    if not number:
        return
    v = RentalVersion
    stmt = select(v.entity_id).where(
        v.filing_number == number, v.superseded_at.is_(None), v.valid_to.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(v.entity_id != except_id)
    if session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(
            "rental.filing_number_taken",
            "该备案号已被另一出租房屋使用",
            "The filing number belongs to another current rental",
            {"field": "filing_number"},
        )


def rental_check(session: Session, ctx: Context, *, correcting: bool = False) -> Any:
    """Validation of a rental's merged attributes on change (and on correction, where the status may be ended)."""

    def check(rental: Any, attrs: dict[str, Any]) -> None:
        if not correcting:
            rules.LIFECYCLE.ensure(status_of(session, rental.id), "change")
        rules.check_lease(lease_start=attrs["lease_start"], lease_end=attrs["lease_end"], today=ctx.today)
        rules.check_agreement(
            signed_on=attrs["agreement_signed_on"], signer=attrs["agreement_signer"], today=ctx.today
        )
        _landlord(session, ctx, attrs["landlord_person_id"])
        if attrs["status"] == "open":
            _filing_taken(session, attrs["filing_number"], rental.id)

    return check


# ---- use cases -----------------------------------------------------------------------------------------------


def file_rental(session: Session, ctx: Context, data: RentalCreate) -> Snapshot:
    """File a rental for a dwelling in scope: not demolished, not already rented, a visible landlord."""
    ctx.actor.ensure("rental.write")
    dwelling = registry.get_entity(session, buildings.DWELLING, data.dwelling_id, ctx.actor)
    drow = history.open_row(session, buildings.DWELLING, dwelling.id)
    if drow is None or drow.status == "demolished":
        raise Conflict(
            "rental.dwelling_unavailable",
            "该房屋已拆除或注销，不能登记出租",
            "The dwelling is demolished or retired",
            {"field": "dwelling_id"},
        )
    existing = open_rental_of(session, dwelling.id)
    if existing is not None:
        raise Conflict(
            "rental.dwelling_already_rented",
            "该房屋已有在租的出租登记",
            "The dwelling already has an open rental",
            {"field": "dwelling_id", "rental_id": existing},
        )
    _landlord(session, ctx, data.landlord_person_id)
    rules.check_lease(lease_start=data.lease_start, lease_end=data.lease_end, today=ctx.today)
    rules.check_agreement(signed_on=data.agreement_signed_on, signer=data.agreement_signer, today=ctx.today)
    _filing_taken(session, data.filing_number, None)
    attrs = {**data.model_dump(include=set(RENTAL.attributes)), "status": "open"}
    rental = Rental(dwelling_id=dwelling.id, area_id=dwelling.area_id, county_code=dwelling.county_code)
    prov = data.provenance.to_domain(ctx.actor.username)
    snapshot = registry.create(session, ctx, RENTAL, rental, attrs, valid_from=data.lease_start, prov=prov)
    _mark_rented(session, ctx, dwelling, drow, data.lease_start, prov)
    return snapshot


def _mark_rented(
    session: Session, ctx: Context, dwelling: Any, drow: Any, lease_start: dt.date, prov: Any
) -> None:
    """A filed rental makes the dwelling's housing status `rented` from the lease start (or from its current
    version's start, when that is later), so the register and the rental KPIs agree."""
    if drow.status == "rented":
        return
    registry.change(
        session,
        ctx,
        buildings.DWELLING,
        dwelling.id,
        {"status": "rented"},
        expected_version=dwelling.version,
        effective=max(lease_start, drow.valid_from),
        prov=prov,
        reason="登记出租",
    )


def _unmark_rented(session: Session, ctx: Context, dwelling_id: int, on: dt.date, prov: Any) -> None:
    """When its rental ends the dwelling is no longer `rented`; who lives there is unknown until the next visit."""
    drow = history.open_row(session, buildings.DWELLING, dwelling_id)
    if drow is None or drow.status != "rented":
        return
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    registry.change(
        session,
        ctx,
        buildings.DWELLING,
        dwelling_id,
        {"status": "unknown"},
        expected_version=dwelling.version,
        effective=max(on, drow.valid_from),
        prov=prov,
        reason="出租终止",
    )


def _open_rental(session: Session, ctx: Context, rental_id: int, action: str) -> tuple[Any, Any]:
    rental = registry.get_entity(session, RENTAL, rental_id, ctx.actor)
    rules.LIFECYCLE.ensure(status_of(session, rental.id), action)
    row = history.open_row(session, RENTAL, rental.id)
    assert row is not None
    return rental, row


def attach_tenant(session: Session, ctx: Context, rental_id: int, data: TenantIn) -> Snapshot:
    """Attach a tenant; their open residence at the rented dwelling is linked, without one they are refused.

    Attaching states who rents the dwelling now, so a tenant must live there (人来登记 first). The rentals importer
    alone keeps a tenant whose residence there ended during the lease, as the housing department's file holds it
    (exchange.loaders.rentals): that is the defect `rental.departed_tenant` finds, not a state to make by hand.
    """
    ctx.actor.ensure("rental.write")
    rental, row = _open_rental(session, ctx, rental_id, "attach_tenant")
    person = registry.get_entity(session, persons.PERSON, data.person_id, ctx.actor)
    residence_id = _open_residence(session, person.id, rental.dwelling_id)
    if residence_id is None:
        raise Conflict(
            "rental.tenant_not_resident",
            "承租人在该房屋没有有效的居住登记，请先办理居住登记",
            "The tenant has no open residence at the rented dwelling; register the arrival first",
            {"field": "person_id", "person_id": person.id},
        )
    links = _open_links(session, rental.id)
    if any(t.person_id == person.id for t, _ in links):
        raise Conflict(
            "rental.tenant_already_attached",
            "该人员已是此出租房屋的承租人",
            "The person already is a tenant of this rental",
            {"field": "person_id"},
        )
    arrival = session.execute(
        select(ResidenceVersion.valid_from).where(
            ResidenceVersion.entity_id == residence_id,
            ResidenceVersion.superseded_at.is_(None),
            ResidenceVersion.valid_to.is_(None),
        )
    ).scalar_one()
    since = data.since or max(row.lease_start, arrival)
    if since < row.lease_start or since > ctx.today:
        raise ValidationFailed(
            "rental.tenant_since_invalid",
            "承租起始日期须在租赁起始日期与今天之间",
            "The tenancy must start between the lease start and today",
            {"field": "since"},
        )
    history.bump_version(session, RENTAL, rental.id, data.expected_version)
    rental_id, person_id = rental.id, person.id
    registry.create_many_audited(
        session,
        ctx,
        TENANT,
        [
            registry.NewItem(
                rental.area_id,
                {"is_primary": not links},
                refs={"rental_id": rental_id, "person_id": person_id, "residence_id": residence_id},
                valid_from=since,
            )
        ],
        prov=data.provenance.to_domain(ctx.actor.username),
        permission="rental.write",
        events=lambda ids: [
            audit.Event(
                "rental.tenant_attach",
                "rental",
                rental_id,
                person_id,
                {"tenant_id": ids[0], "residence_id": residence_id, "since": since.isoformat()},
            )
        ],
    )
    return registry.snapshot(session, RENTAL, rental, today=ctx.today)


def record_agreement(session: Session, ctx: Context, rental_id: int, data: AgreementIn) -> Snapshot:
    """Record the signed security responsibility agreement (治安责任书): from its date, the rental has one."""
    ctx.actor.ensure("rental.write")
    rental, row = _open_rental(session, ctx, rental_id, "record_agreement")
    rules.check_agreement(signed_on=data.signed_on, signer=data.signer, today=ctx.today)
    return registry.change(
        session,
        ctx,
        RENTAL,
        rental.id,
        {"agreement_signed_on": data.signed_on, "agreement_signer": data.signer},
        expected_version=data.expected_version,
        effective=max(data.signed_on, row.valid_from),
        prov=data.provenance.to_domain(ctx.actor.username),
        reason="治安责任书签订",
    )


def _close_links(
    session: Session, ctx: Context, rental: Any, on: dt.date, prov: Any, reason: str, permission: str
) -> None:
    """End the rental's open tenant links at `on` (the caller's `permission`: ending or retiring the rental)."""
    links = _open_links(session, rental.id)
    late = [row.valid_from for _, row in links if row.valid_from > on]
    if late:
        raise ValidationFailed(
            "rental.end_before_tenancy",
            "终止日期早于承租人的承租起始日期",
            "The end date is before a tenant's tenancy started",
            {"field": "ended_on", "tenancy_from": max(late).isoformat()},
        )
    if not links:
        return
    events = [
        audit.Event("rental.tenant_end", "rental", rental.id, link.person_id, {"tenant_id": link.id})
        for link, _ in links
    ]
    expected = {link.id: link.version for link, _ in links}
    current = registry.open_versions(session, TENANT, list(expected))
    registry.retire_many(
        session,
        ctx,
        [registry.Retirement(TENANT, current[i], on, expected_version=v) for i, v in expected.items()],
        prov=prov,
        reason=reason,
        permissions=(permission,),
        events=events,
    )


def end_tenancies_of_residence(
    session: Session, ctx: Context, residence_id: int, on: dt.date, prov: Any, reason: str
) -> list[int]:
    """A departure closes the tenancy: end the open tenant links that carry this residence at `on` (the day the
    tenant left, or the tenancy's own start when it began later), as part of the deregistration (its permission).
    Returns the ids of the links ended."""
    v = RentalTenantVersion
    links = [
        (link, row)
        for link, row in session.execute(
            select(RentalTenant, v)
            .join(v, and_(v.entity_id == RentalTenant.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
            .where(RentalTenant.residence_id == residence_id)
            .order_by(RentalTenant.id)
        )
    ]
    if not links:
        return []
    current = registry.open_versions(session, TENANT, [link.id for link, _ in links])
    registry.retire_many(
        session,
        ctx,
        [
            registry.Retirement(
                TENANT, current[link.id], max(on, row.valid_from), expected_version=link.version
            )
            for link, row in links
        ],
        prov=prov,
        reason=reason,
        permissions=("residence.write",),
        events=[
            audit.Event(
                "rental.tenant_end",
                "rental",
                link.rental_id,
                link.person_id,
                {"tenant_id": link.id, "residence_id": residence_id},
            )
            for link, _ in links
        ],
    )
    return [link.id for link, _ in links]


def end_rental(session: Session, ctx: Context, rental_id: int, data: RentalEnd) -> Snapshot:
    """End a rental on a date (not before its lease start, not after today); its tenants' links end with it."""
    ctx.actor.ensure("rental.write")
    rental, row = _open_rental(session, ctx, rental_id, "end")
    if data.ended_on < row.valid_from or data.ended_on > ctx.today:
        raise ValidationFailed(
            "rental.end_date_invalid",
            "终止日期须在当前版本生效日期与今天之间",
            "The end date must lie between the current version's start and today",
            {"field": "ended_on", "current_valid_from": row.valid_from.isoformat()},
        )
    prov = data.provenance.to_domain(ctx.actor.username)
    reason = data.reason or "租赁终止"
    _close_links(session, ctx, rental, data.ended_on, prov, reason, "rental.write")
    _unmark_rented(session, ctx, rental.dwelling_id, data.ended_on, prov)
    return registry.retire(
        session,
        ctx,
        RENTAL,
        rental.id,
        expected_version=data.expected_version,
        effective=data.ended_on,
        prov=prov,
        reason=reason,
        changes={"status": "ended"},
        permission="rental.write",
    )


def retire_rental(
    session: Session,
    ctx: Context,
    rental_id: int,
    *,
    expected_version: int,
    effective: dt.date | None,
    prov: Any,
    reason: str,
) -> Snapshot:
    """Retire a rental record (filed in error, a duplicate): police only; the tenant links close with it."""
    ctx.actor.ensure("rental.retire")
    rental, _ = _open_rental(session, ctx, rental_id, "retire")
    when = effective or ctx.today
    _close_links(session, ctx, rental, when, prov, reason, "rental.retire")
    _unmark_rented(session, ctx, rental.dwelling_id, when, prov)
    return registry.retire(
        session,
        ctx,
        RENTAL,
        rental.id,
        expected_version=expected_version,
        effective=when,
        prov=prov,
        reason=reason,
        changes={"status": "ended"},
    )


# ---- reads ---------------------------------------------------------------------------------------------------


def tenants_of(
    session: Session, ctx: Context, rental_id: int, on: dt.date | None = None
) -> list[dict[str, Any]]:
    """The tenants of a rental on a date (default: every tenant it had), each with their linked residence.

    Reading the tenants is a read of each tenant's data: audited against the person.
    """
    ctx.actor.ensure("rental.read")
    rental = registry.get_entity(session, RENTAL, rental_id, ctx.actor)
    v = RentalTenantVersion
    stmt = (
        select(RentalTenant, v)
        .join(v, and_(v.entity_id == RentalTenant.id, v.superseded_at.is_(None)))
        .where(RentalTenant.rental_id == rental.id)
        .order_by(RentalTenant.id)
    )
    if on is not None:
        stmt = stmt.where(history.valid_on(v, on))
    rows = session.execute(stmt).all()
    day = on or ctx.today
    names = persons.names_on(session, [t.person_id for t, _ in rows], day)
    docs = {
        pid: d["number"]
        for pid, d in persons.first_documents(session, [t.person_id for t, _ in rows]).items()
    }
    result: list[dict[str, Any]] = [
        {
            "tenant_id": t.id,
            "person_id": t.person_id,
            "name": names.get(t.person_id),
            "document": docs.get(t.person_id),
            "residence_id": t.residence_id,
            "primary": row.is_primary,
            "since": row.valid_from,
            "until": row.valid_to,
        }
        for t, row in rows
    ]
    if result:
        registry.log(
            ctx,
            session,
            [audit.Event("rental.tenant_read", "rental", rental.id, r["person_id"]) for r in result],
        )
    return result


def rental_of_dwelling(session: Session, ctx: Context, dwelling_id: int) -> Snapshot | None:
    """The dwelling's open rental, or None (the dwelling must be in scope)."""
    ctx.actor.ensure("rental.read")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    rental_id = open_rental_of(session, dwelling.id)
    if rental_id is None:
        return None
    return registry.read(session, ctx, RENTAL, rental_id)


def landlord_name(session: Session, person_id: int, on: dt.date) -> str | None:
    """The landlord's name (for display)."""
    pv = PersonVersion
    name = session.execute(
        select(pv.name).where(pv.entity_id == person_id, pv.superseded_at.is_(None), history.valid_on(pv, on))
    ).scalar()
    return str(name) if name is not None else None


def _ratio(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": round(numerator / denominator, 6) if denominator else None,
    }


def rental_registered_join(day: dt.date) -> Any:
    """The rental versions registered on a date (filed, lease started, not ended): join on `Rental`."""
    v = RentalVersion
    return and_(v.entity_id == Rental.id, v.superseded_at.is_(None), history.valid_on(v, day))


def rental_entered(day: dt.date) -> Any:
    """录入: a tenant recorded on or before the date, or the lease end given (on `Rental` and `RentalVersion`)."""
    tv = RentalTenantVersion
    has_tenant = exists(
        select(RentalTenant.id)
        .join(tv, and_(tv.entity_id == RentalTenant.id, tv.superseded_at.is_(None)))
        .where(RentalTenant.rental_id == Rental.id, tv.valid_from <= day)
    )
    return or_(has_tenant, RentalVersion.lease_end.is_not(None))


def rental_signed(day: dt.date) -> Any:
    """签约: the security agreement signed on or before the date (on `RentalVersion`)."""
    v = RentalVersion
    return and_(v.agreement_signed_on.is_not(None), v.agreement_signed_on <= day)


def rented_unregistered(day: dt.date) -> list[Any]:
    """A dwelling (joined to its version valid on the date as `DwellingVersion`) recorded rented with no rental
    registered on the date."""
    dv, rv = DwellingVersion, aliased(RentalVersion)
    return [
        # Written into the SQL, not bound: a plan PostgreSQL caches for a prepared statement must still know
        # it selects the few rented dwellings (by ix_dwelling_versions_status), not half of them.
        dv.status == bindparam("rented_status", "rented", literal_execute=True),
        ~exists(
            select(Rental.id)
            .join(rv, and_(rv.entity_id == Rental.id, rv.superseded_at.is_(None), history.valid_on(rv, day)))
            .where(Rental.dwelling_id == Dwelling.id)
        ),
    ]


def rental_counts_by_area(session: Session, area_ids: Any, day: dt.date) -> dict[int, dict[str, int]]:
    """Per area on a date: `registered`, `entered`, `signed` rentals and `rented_unregistered` dwellings.

    - **registered**: rentals valid on the date (filed, lease started, not ended);
    - **entered** (录入): a registered rental whose content has been entered: at least one tenant recorded on or
      before the date, or the lease dates complete (both start and end);
    - **signed** (签约): the security agreement was signed on or before the date;
    - **rented_unregistered**: dwellings whose status on the date is `rented` with no rental registered.
    """
    v = RentalVersion
    entered = rental_entered(day)
    signed = rental_signed(day)
    out: dict[int, dict[str, int]] = {}

    def slot(area_id: Any) -> dict[str, int]:
        return out.setdefault(
            int(area_id), {"registered": 0, "entered": 0, "signed": 0, "rented_unregistered": 0}
        )

    for area_id, registered, n_entered, n_signed in session.execute(
        select(
            Rental.area_id,
            func.count(Rental.id),
            func.coalesce(func.sum(case((entered, 1), else_=0)), 0),
            func.coalesce(func.sum(case((signed, 1), else_=0)), 0),
        )
        .join(v, rental_registered_join(day))
        .where(Rental.area_id.in_(area_ids))
        .group_by(Rental.area_id)
    ):
        slot(area_id).update(registered=int(registered), entered=int(n_entered), signed=int(n_signed))
    dv = DwellingVersion
    for area_id, unregistered in session.execute(
        select(Dwelling.area_id, func.count(Dwelling.id))
        .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, day)))
        .where(Dwelling.area_id.in_(area_ids), *rented_unregistered(day))
        .group_by(Dwelling.area_id)
    ):
        slot(area_id)["rented_unregistered"] = int(unregistered)
    return out


def rental_rates(session: Session, ctx: Context, area_id: int, on: dt.date | None) -> dict[str, Any]:
    """出租房屋登记率 / 录入率 / 签约率 in an area (and the areas below it) on a date.

    Counted as in `rental_counts_by_area`: **registration rate** = registered ÷ (registered + rented dwellings
    without a rental); **entry rate** = entered ÷ registered; **agreement rate** (签约率) = signed ÷ registered.
    """
    ctx.actor.ensure("rental.read")
    day = on or ctx.today
    area = registry.get_entity(session, areas.AREA, area_id, ctx.actor)
    if not ctx.actor.covers_path(area.path):
        raise history.not_found(areas.AREA, area_id)
    ids = select(Area.id).where(Area.path.startswith(area.path))
    totals = {"registered": 0, "entered": 0, "signed": 0, "rented_unregistered": 0}
    for counts in rental_counts_by_area(session, ids, day).values():
        for key, n in counts.items():
            totals[key] += n
    registered, unregistered = totals["registered"], totals["rented_unregistered"]
    return {
        "area_id": area.id,
        "area_code": area.code,
        "on": day,
        "registered": registered,
        "rented_unregistered": unregistered,
        "registration": _ratio(registered, registered + unregistered),
        "entry": _ratio(totals["entered"], registered),
        "agreement": _ratio(totals["signed"], registered),
    }
