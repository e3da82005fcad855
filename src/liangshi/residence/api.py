"""Residence routes: arrival registration and departure deregistration."""

from fastapi import APIRouter, Depends, Request

from liangshi import registry
from liangshi.http.crud import object_read, object_routes, paging
from liangshi.http.tx import unit
from liangshi.residence import service
from liangshi.residence.models import Residence
from liangshi.residence.schemas import ArrivalIn, DepartureIn, ResidenceCorrect, ResidencePatch
from liangshi.schemas import ObjectRead, PageRead

router = APIRouter(prefix="/residences", tags=["residences 居住登记"])


@router.post("", response_model=ObjectRead, status_code=201, summary="人来登记: register an arrival")
def register_arrival(body: ArrivalIn, request: Request) -> ObjectRead:
    """Register a person living in a dwelling from the arrival date, with category and intended stay."""
    with unit(request) as (session, ctx):
        return object_read(service.register_arrival(session, ctx, body))


@router.get("", response_model=PageRead, summary="List residences")
def list_residences(
    request: Request,
    dwelling_id: int | None = None,
    person_id: int | None = None,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Open residences in your jurisdiction, by dwelling or person."""
    with unit(request) as (session, ctx):
        where = []
        if dwelling_id is not None:
            where.append(Residence.dwelling_id == dwelling_id)
        if person_id is not None:
            where.append(Residence.person_id == person_id)
        result = registry.search(session, ctx, service.RESIDENCE, where=where, offset=page[0], limit=page[1])
        return PageRead(
            items=[object_read(s) for s in result.items],
            total=result.total,
            offset=result.offset,
            limit=result.limit,
        )


@router.post("/{object_id}/deregister", response_model=ObjectRead, summary="人走注销: deregister a departure")
def deregister(object_id: int, body: DepartureIn, request: Request) -> ObjectRead:
    """Close the residence at the departure date with reason and destination."""
    with unit(request) as (session, ctx):
        return object_read(service.deregister_departure(session, ctx, object_id, body))


object_routes(
    router,
    service.RESIDENCE,
    patch=ResidencePatch,
    correct=ResidenceCorrect,
    check=lambda session, ctx: service.residence_check(ctx),
)
