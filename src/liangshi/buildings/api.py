"""Building and dwelling routes, including 查房知人."""

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.buildings import service
from liangshi.buildings.models import Building, Dwelling
from liangshi.buildings.schemas import (
    BuildingCorrect,
    BuildingCreate,
    BuildingPatch,
    DwellingCorrect,
    DwellingCreate,
    DwellingPatch,
)
from liangshi.http.crud import json_answer, object_read, object_routes, page_read, paging
from liangshi.http.tx import unit
from liangshi.registry import Context, Snapshot
from liangshi.residence import service as residence
from liangshi.schemas import ObjectRead, PageRead

buildings = APIRouter(prefix="/buildings", tags=["buildings 楼栋"])
dwellings = APIRouter(prefix="/dwellings", tags=["dwellings 房屋"])


@buildings.post("", response_model=ObjectRead, status_code=201, summary="Record a building")
def create_building(body: BuildingCreate, request: Request) -> ObjectRead:
    """A building on a door plate in your jurisdiction."""
    with unit(request) as (session, ctx):
        return object_read(service.create_building(session, ctx, body))


@buildings.get("", response_model=PageRead, summary="List buildings")
def list_buildings(
    request: Request,
    address_id: int | None = None,
    area_id: int | None = None,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Buildings in your jurisdiction, by plate or area."""
    with unit(request) as (session, ctx):
        where = []
        if address_id is not None:
            where.append(Building.address_id == address_id)
        if area_id is not None:
            where.append(Building.area_id == area_id)
        result = registry.search(session, ctx, service.BUILDING, where=where, offset=page[0], limit=page[1])
        return page_read(result)


@buildings.get("/{object_id}/grid", summary="楼盘表: units × floors × rooms with occupancy")
def building_grid(
    object_id: int, request: Request, on: dt.date | None = Query(None, description="Date (default today)")
) -> dict[str, Any]:
    """The building grid: each cell a dwelling with its status and occupant count."""
    with unit(request) as (session, ctx):
        return service.grid(session, ctx, object_id, on)


object_routes(buildings, service.BUILDING, patch=BuildingPatch, correct=BuildingCorrect)


def _dwelling_extra(session: Session, ctx: Context, snap: Snapshot) -> dict[str, Any]:
    return {"address": service.describe_dwelling(session, snap.entity.id, ctx.today)}


@dwellings.post("", response_model=ObjectRead, status_code=201, summary="Record a dwelling")
def create_dwelling(body: DwellingCreate, request: Request) -> ObjectRead:
    """A dwelling in a building; one room number per unit."""
    with unit(request) as (session, ctx):
        snap = service.create_dwelling(session, ctx, body)
        return object_read(snap, _dwelling_extra(session, ctx, snap))


@dwellings.get("", response_model=PageRead, summary="List dwellings")
def list_dwellings(
    request: Request, building_id: int | None = None, page: tuple[int, int] = Depends(paging)
) -> PageRead:
    """Dwellings in your jurisdiction, by building."""
    with unit(request) as (session, ctx):
        where = [Dwelling.building_id == building_id] if building_id is not None else []
        result = registry.search(session, ctx, service.DWELLING, where=where, offset=page[0], limit=page[1])
        return page_read(result)


@dwellings.get(
    "/{object_id}/occupants",
    response_model=dict[str, object],
    summary="查房知人: who lives in a dwelling on a date",
)
def dwelling_occupants(
    object_id: int, request: Request, on: dt.date | None = Query(None, description="Date (default today)")
) -> Response:
    """The occupants of a dwelling on a date, with masked documents."""
    with unit(request) as (session, ctx):
        found = residence.occupants(session, ctx, object_id, on)
    # Serialised once, after the audited commit (http.crud.json_answer).
    return json_answer(found)


object_routes(
    dwellings,
    service.DWELLING,
    patch=DwellingPatch,
    correct=DwellingCorrect,
    extra=_dwelling_extra,
    check=lambda session, ctx: service.dwelling_check(session),
)
