"""Area routes."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.areas import service
from liangshi.areas.models import Area
from liangshi.areas.schemas import AreaCorrect, AreaCreate, AreaPatch
from liangshi.http.crud import object_read, object_routes, page_read, paging
from liangshi.http.tx import unit
from liangshi.registry import Context, Snapshot
from liangshi.schemas import ObjectRead, PageRead

router = APIRouter(prefix="/areas", tags=["areas 区划"])


def _extra(session: Session, ctx: Context, snap: Snapshot) -> dict[str, Any]:
    a = snap.entity
    return {"code": a.code, "level": a.level, "parent_id": a.parent_id}


@router.post("", response_model=ObjectRead, status_code=201, summary="Create an area")
def create_area(body: AreaCreate, request: Request) -> ObjectRead:
    """Create an area under a parent; its code must extend the parent's code."""
    with unit(request) as (session, ctx):
        snap = service.create_area(session, ctx, body)
        return object_read(snap, _extra(session, ctx, snap))


@router.get("", response_model=PageRead, summary="List areas")
def list_areas(
    request: Request,
    parent_code: str | None = None,
    level: str | None = None,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Areas in your jurisdiction (and those above it), optionally under a parent or of a level."""
    with unit(request) as (session, ctx):
        where: list[Any] = []
        if parent_code:
            where.append(Area.parent_id.in_(select(Area.id).where(Area.code == parent_code)))
        if level:
            where.append(Area.level == level)
        result = registry.search(
            session, ctx, service.AREA, where=where, offset=page[0], limit=page[1], order_by=Area.code
        )
        return page_read(result, lambda snap: _extra(session, ctx, snap))


@router.get("/{object_id}/codes", summary="An area's codes through time")
def area_codes(object_id: int, request: Request) -> list[dict[str, Any]]:
    """Every code the area held (GB/T 2260, statistical), with the years it held it; the current one last."""
    with unit(request) as (session, ctx):
        return service.codes_of(session, ctx, object_id)


object_routes(router, service.AREA, patch=AreaPatch, correct=AreaCorrect, extra=_extra)
