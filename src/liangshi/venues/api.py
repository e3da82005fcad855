"""Venue routes: register venues, their keys, stays posted by the venue, the follow-up list, a person's stays."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.clock import Clock
from liangshi.db import session_scope
from liangshi.http.crud import object_read, object_routes, page_read, paging
from liangshi.http.tx import bearer, unit
from liangshi.registry import Context, Snapshot
from liangshi.schemas import ObjectRead, PageRead
from liangshi.venues import service
from liangshi.venues.models import Venue
from liangshi.venues.schemas import KeyIn, StaysIn, VenueCorrect, VenueCreate, VenuePatch

router = APIRouter()
venues = APIRouter(prefix="/venues", tags=["venues 旅店网吧实名登记"])
views = APIRouter(tags=["venues 旅店网吧实名登记"])


def _extra(session: Session, ctx: Context, snap: Snapshot) -> dict[str, Any]:
    return {"status": service.status_of(session, snap.entity.id), "venue_kind": snap.entity.venue_kind}


@contextmanager
def venue_unit(request: Request, venue_id: int) -> Iterator[tuple[Session, Context, Venue]]:
    """One transaction for a venue's request, acting as the synthetic actor `venue:<id>`."""
    clock: Clock = request.app.state.clock
    with session_scope(request.app.state.sessions) as session:
        ctx, venue = service.venue_context(
            session, bearer(request), venue_id, now=clock.now(), today=clock.today()
        )
        yield session, ctx, venue


@venues.post(
    "", response_model=ObjectRead, status_code=201, summary="Register a venue (hotel / internet café)"
)
def register_venue(body: VenueCreate, request: Request) -> ObjectRead:
    """A hotel or internet café on a door plate in your jurisdiction (station administrators and above)."""
    with unit(request) as (session, ctx):
        snap = service.register_venue(session, ctx, body)
        return object_read(snap, _extra(session, ctx, snap))


@venues.get("", response_model=PageRead, summary="List venues")
def list_venues(
    request: Request,
    area_id: int | None = None,
    venue_kind: str | None = None,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Venues in your jurisdiction, by area or kind."""
    with unit(request) as (session, ctx):
        where: list[Any] = []
        if area_id is not None:
            where.append(Venue.area_id == area_id)
        if venue_kind is not None:
            where.append(Venue.venue_kind == venue_kind)
        result = registry.search(session, ctx, service.VENUE, where=where, offset=page[0], limit=page[1])
        return page_read(result)


@venues.post("/{object_id}/keys", status_code=201, summary="Issue a venue API key")
def issue_key(object_id: int, request: Request, body: KeyIn | None = None) -> dict[str, Any]:
    """A new `vk_…` key for the venue's front-desk system: shown in this answer only, stored as SHA-256."""
    with unit(request) as (session, ctx):
        return service.issue_key(session, ctx, object_id, body or KeyIn())


@venues.get("/{object_id}/keys", summary="A venue's API keys")
def list_keys(object_id: int, request: Request) -> dict[str, Any]:
    """The venue's keys: prefix, name, issue and revocation times (never the keys)."""
    with unit(request) as (session, ctx):
        return {"venue_id": object_id, "keys": service.list_keys(session, ctx, object_id)}


@venues.delete("/{object_id}/keys/{key_id}", summary="Revoke a venue API key")
def revoke_key(object_id: int, key_id: int, request: Request) -> dict[str, Any]:
    """From now on the key authenticates nothing."""
    with unit(request) as (session, ctx):
        return service.revoke_key(session, ctx, object_id, key_id)


@venues.post("/{object_id}/stays", summary="Post check-ins and check-outs (venue key)")
def post_stays(
    object_id: int,
    body: StaysIn,
    request: Request,
    idempotency_key: str | None = Header(None, max_length=100),
) -> JSONResponse:
    """Authenticate with `Authorization: Bearer vk_…`; one item or up to 1,000 as `{"items": [...]}`.

    Each item is accepted, rejected (with a code) or a duplicate on its own; check-ins are matched to persons by
    document. A repeated `Idempotency-Key` answers the stored summary with `duplicate: true` and writes nothing.
    """
    with venue_unit(request, object_id) as (session, ctx, venue):
        summary = service.record_stays(session, ctx, venue, body.items, idempotency_key=idempotency_key)
    # The summary is plain JSON already: skip the generic encoder's walk over 1,000 items.
    return JSONResponse(summary)


object_routes(venues, service.VENUE, patch=VenuePatch, correct=VenueCorrect, extra=_extra)


@views.get("/areas/{object_id}/venue-followups", summary="旅店住宿 follow-up list")
def venue_followups(
    object_id: int,
    request: Request,
    days: int = Query(7, ge=1, le=30, description="List guests with more nights than this in 30 days"),
) -> dict[str, Any]:
    """Hotel guests seen in the area with more than `days` nights in the city's hotels in the last 30 days and no
    open residence: name, masked document, last venue, nights. Each listed guest is an audited read.
    """
    with unit(request) as (session, ctx):
        return service.followups(session, ctx, object_id, days)


@venues.get("/{object_id}/stays", summary="A venue's guest register (住宿/上网登记)")
def venue_stays(object_id: int, request: Request, late: bool = False) -> dict[str, Any]:
    """The venue's stays, newest first, masked (late=true: foreign guests reported late); audited."""
    with unit(request) as (session, ctx):
        return {
            "venue_id": object_id,
            "stays": service.stays_at_venue(session, ctx, object_id, late_only=late),
        }


@views.get("/persons/{object_id}/stays", summary="A person's hotel and internet-café stays")
def person_stays(object_id: int, request: Request) -> dict[str, Any]:
    """The person's venue stays, newest first (audited)."""
    with unit(request) as (session, ctx):
        return {"person_id": object_id, "stays": service.stays_of_person(session, ctx, object_id)}


router.include_router(venues)
router.include_router(views)
