"""Residence routes: arrival, extension, move and departure; births and deaths; per-area floating lists."""

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from liangshi import registry
from liangshi.http.crud import object_read, object_routes, page_read, paging
from liangshi.http.tx import unit
from liangshi.residence import service
from liangshi.residence.models import Residence
from liangshi.residence.schemas import (
    ArrivalIn,
    BirthIn,
    DeathIn,
    DepartureIn,
    ExtendIn,
    MoveIn,
    ResidenceCorrect,
    ResidencePatch,
)
from liangshi.schemas import ObjectRead, PageRead

router = APIRouter(prefix="/residences", tags=["residences 居住登记"])
# Births, deaths and the per-area lists live outside /residences: they start from a person or an area.
lifecycle = APIRouter(tags=["population lifecycle 人口变动"])


@router.post("", response_model=ObjectRead, status_code=201, summary="人来登记: register an arrival")
def register_arrival(body: ArrivalIn, request: Request) -> ObjectRead:
    """Register a person living in a dwelling from the arrival date, with category and intended stay."""
    with unit(request, writes="residence") as (session, ctx):
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
        return page_read(result)


@router.post("/{object_id}/deregister", response_model=ObjectRead, summary="人走注销: deregister a departure")
def deregister(object_id: int, body: DepartureIn, request: Request) -> ObjectRead:
    """Close the residence at the departure date with reason and destination."""
    with unit(request, writes="residence") as (session, ctx):
        return object_read(service.deregister_departure(session, ctx, object_id, body))


@router.post("/{object_id}/extend", response_model=ObjectRead, summary="续住: extend the intended stay")
def extend(object_id: int, body: ExtendIn, request: Request) -> ObjectRead:
    """A later end of the intended stay from `effective` (default today); stale `expected_version` gets 409. A
    collector proposes it instead (POST /residences/{id}/extension-proposals, for review)."""
    with unit(request, writes="residence") as (session, ctx):
        return object_read(service.extend_stay(session, ctx, object_id, body))


@router.post("/{object_id}/move", summary="市内迁移: move within the city")
def move(object_id: int, body: MoveIn, request: Request) -> dict[str, ObjectRead]:
    """Close this residence at the move date and open one at the new dwelling from it: both or neither. A
    collector proposes it instead (POST /residences/{id}/move-proposals, for review)."""
    with unit(request, writes="residence") as (session, ctx):
        closed, opened = service.move(session, ctx, object_id, body)
        return {"closed": object_read(closed), "opened": object_read(opened)}


object_routes(
    router,
    service.RESIDENCE,
    patch=ResidencePatch,
    correct=ResidenceCorrect,
    check=service.residence_change_check,
    correct_check=service.residence_correct_check,
    retire_with=service.retire_residence,
)


@lifecycle.post("/births", status_code=201, summary="出生登记: register a newborn")
def register_birth(body: BirthIn, request: Request) -> dict[str, ObjectRead]:
    """Create the newborn, add them to the household and register their residence from the birth date. A
    collector proposes it instead (POST /birth-proposals, for review)."""
    with unit(request, writes="person") as (session, ctx):
        result = service.register_birth(session, ctx, body)
        return {name: object_read(snap) for name, snap in result.items()}


@lifecycle.post("/persons/{object_id}/death", summary="死亡注销: register a death")
def register_death(object_id: int, body: DeathIn, request: Request) -> dict[str, Any]:
    """Retire the person at the death date; close their residences and household memberships there."""
    with unit(request) as (session, ctx):
        result = service.register_death(session, ctx, object_id, body)
        return {**result, "person": object_read(result["person"])}


@lifecycle.get("/areas/{area_id}/floating/arrivals", summary="流动人口: arrivals of a month")
def floating_arrivals(
    area_id: int,
    request: Request,
    month: str = Query(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM"),
    page: tuple[int, int] = Depends(paging),
) -> dict[str, Any]:
    """Floating persons who arrived in the month under the area (audited per person)."""
    with unit(request) as (session, ctx):
        return service.floating_arrivals(session, ctx, area_id, month, offset=page[0], limit=page[1])


@lifecycle.get("/areas/{area_id}/floating/due", summary="流动人口: due to leave")
def floating_due(
    area_id: int,
    request: Request,
    within_days: int = Query(30, ge=0, le=366),
    page: tuple[int, int] = Depends(paging),
) -> dict[str, Any]:
    """Floating persons whose intended stay ends within the next `within_days` days."""
    with unit(request) as (session, ctx):
        return service.due_to_leave(session, ctx, area_id, within_days, offset=page[0], limit=page[1])


@lifecycle.get(
    "/areas/{area_id}/floating/overdue", summary="流动人口: stay ended, not renewed or deregistered"
)
def floating_overdue(
    area_id: int, request: Request, page: tuple[int, int] = Depends(paging)
) -> dict[str, Any]:
    """Floating persons whose intended stay has ended without an extension or a deregistration."""
    with unit(request) as (session, ctx):
        return service.overdue(session, ctx, area_id, offset=page[0], limit=page[1])


@lifecycle.get(
    "/persons/{person_id}/timeline", summary="查人知住: residences, rentals, permits and stays by date"
)
def person_timeline(person_id: int, request: Request) -> dict[str, Any]:
    """Every residence, rental (as landlord or tenant), residence permit and venue stay of a person, newest first."""
    with unit(request) as (session, ctx):
        return service.timeline(session, ctx, person_id)
