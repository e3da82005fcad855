"""Rental routes: file, list, tenants, agreement, end, the dwelling's rental and the rental rates of an area."""

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.http.crud import object_read, object_routes, page_read, paging
from liangshi.http.tx import unit
from liangshi.registry import Context, Snapshot
from liangshi.rentals import service
from liangshi.rentals.models import Rental
from liangshi.rentals.schemas import (
    AgreementIn,
    RentalCorrect,
    RentalCreate,
    RentalEnd,
    RentalPatch,
    TenantIn,
)
from liangshi.schemas import ObjectRead, PageRead, RetireIn

router = APIRouter()
rentals = APIRouter(prefix="/rentals", tags=["rentals 出租房屋"])
views = APIRouter(tags=["rentals 出租房屋"])


def _extra(session: Session, ctx: Context, snap: Snapshot) -> dict[str, Any]:
    on = snap.row.valid_from if snap.retired else ctx.today
    return {
        "status": service.status_of(session, snap.entity.id),
        "landlord_name": service.landlord_name(session, snap.row.landlord_person_id, on),
        "tenants": service.tenants_of(session, ctx, snap.entity.id),
    }


@rentals.post("", response_model=ObjectRead, status_code=201, summary="File a rental (出租房屋登记)")
def file_rental(body: RentalCreate, request: Request) -> ObjectRead:
    """A rented dwelling in your jurisdiction with its landlord (治安责任人); one open rental per dwelling."""
    with unit(request) as (session, ctx):
        snap = service.file_rental(session, ctx, body)
        return object_read(snap, _extra(session, ctx, snap))


@rentals.get("", response_model=PageRead, summary="List rentals")
def list_rentals(
    request: Request,
    dwelling_id: int | None = None,
    area_id: int | None = None,
    include_ended: bool = False,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Rentals in your jurisdiction, by dwelling or area (open ones unless `include_ended`)."""
    with unit(request) as (session, ctx):
        where: list[Any] = []
        if dwelling_id is not None:
            where.append(Rental.dwelling_id == dwelling_id)
        if area_id is not None:
            where.append(Rental.area_id == area_id)
        result = registry.search(
            session,
            ctx,
            service.RENTAL,
            where=where,
            offset=page[0],
            limit=page[1],
            include_retired=include_ended,
        )
        return page_read(result)


@rentals.post("/{object_id}/tenants", response_model=ObjectRead, status_code=201, summary="Attach a tenant")
def attach_tenant(object_id: int, body: TenantIn, request: Request) -> ObjectRead:
    """A tenant with an open residence at the rented dwelling; the residence is linked to the rental."""
    with unit(request) as (session, ctx):
        snap = service.attach_tenant(session, ctx, object_id, body)
        return object_read(snap, _extra(session, ctx, snap))


@rentals.get("/{object_id}/tenants", summary="The tenants of a rental")
def tenants(
    object_id: int, request: Request, on: dt.date | None = Query(None, description="Date (default: all)")
) -> dict[str, Any]:
    """Every tenant (or those on a date) with masked documents and linked residences."""
    with unit(request) as (session, ctx):
        return {"rental_id": object_id, "tenants": service.tenants_of(session, ctx, object_id, on)}


@rentals.post("/{object_id}/agreement", response_model=ObjectRead, summary="Record the security agreement")
def record_agreement(object_id: int, body: AgreementIn, request: Request) -> ObjectRead:
    """The landlord signed the 治安责任书: date (not in the future) and signer."""
    with unit(request) as (session, ctx):
        snap = service.record_agreement(session, ctx, object_id, body)
        return object_read(snap, _extra(session, ctx, snap))


@rentals.post("/{object_id}/end", response_model=ObjectRead, summary="End a rental")
def end_rental(object_id: int, body: RentalEnd, request: Request) -> ObjectRead:
    """The lease ended on a date; the tenants' links end with it."""
    with unit(request) as (session, ctx):
        snap = service.end_rental(session, ctx, object_id, body)
        return object_read(snap, _extra(session, ctx, snap))


@rentals.post("/{object_id}/retire", response_model=ObjectRead, summary="Retire a rental record")
def retire_rental(object_id: int, body: RetireIn, request: Request) -> ObjectRead:
    """Retire a record filed in error (police); the tenants' links close with it."""
    with unit(request) as (session, ctx):
        snap = service.retire_rental(
            session,
            ctx,
            object_id,
            expected_version=body.expected_version,
            effective=body.effective,
            prov=body.provenance.to_domain(ctx.actor.username),
            reason=body.reason,
        )
        return object_read(snap, _extra(session, ctx, snap))


object_routes(
    rentals,
    service.RENTAL,
    patch=RentalPatch,
    correct=RentalCorrect,
    extra=_extra,
    check=lambda session, ctx: service.rental_check(session, ctx),
    correct_check=lambda session, ctx: service.rental_check(session, ctx, correcting=True),
    retire=False,
)


@views.get("/dwellings/{object_id}/rental", summary="The dwelling's open rental")
def dwelling_rental(object_id: int, request: Request) -> dict[str, Any]:
    """The open rental of a dwelling (`rental` is null when it has none)."""
    with unit(request) as (session, ctx):
        snap = service.rental_of_dwelling(session, ctx, object_id)
        return {
            "dwelling_id": object_id,
            "rental": None if snap is None else object_read(snap, _extra(session, ctx, snap)).model_dump(),
        }


@views.get("/areas/{object_id}/rental-rates", summary="出租房屋登记率、录入率、签约率")
def rental_rates(
    object_id: int, request: Request, on: dt.date | None = Query(None, description="Date (default today)")
) -> dict[str, Any]:
    """Registration, entry and agreement rates of an area's rentals, each with numerator and denominator."""
    with unit(request) as (session, ctx):
        return service.rental_rates(session, ctx, object_id, on)


router.include_router(rentals)
router.include_router(views)
