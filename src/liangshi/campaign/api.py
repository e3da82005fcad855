"""Visit routes: record a visit of a dwelling (idempotent), list a dwelling's visits."""

from typing import Any

from fastapi import APIRouter, Request, Response

from liangshi.campaign import service, sync
from liangshi.campaign.schemas import SyncBatch, SyncResult, VisitCreate, VisitRead
from liangshi.http.tx import unit

router = APIRouter(tags=["campaign 入户采集"])


@router.post(
    "/dwellings/{dwelling_id}/visits",
    response_model=VisitRead,
    status_code=201,
    summary="Record a visit (入户走访), idempotent",
)
def record_visit(dwelling_id: int, body: VisitCreate, request: Request, response: Response) -> VisitRead:
    """The occupancy found and the persons confirmed; a repeated idempotency key answers 200 with the first visit."""
    with unit(request) as (session, ctx):
        visit = service.record_visit(session, ctx, dwelling_id, body)
        if visit.replayed:
            response.status_code = 200
        return visit


@router.get("/dwellings/{dwelling_id}/visits", response_model=list[VisitRead], summary="A dwelling's visits")
def list_visits(dwelling_id: int, request: Request) -> list[VisitRead]:
    """Visits of a dwelling in your jurisdiction, newest first."""
    with unit(request) as (session, ctx):
        return service.visits_of(session, ctx, dwelling_id)


@router.get("/sync/work", summary="Download the work for offline collection (离线采集任务)")
def download_work(request: Request, area_id: int | None = None) -> dict[str, Any]:
    """The buildings, dwellings (with versions), persons (masked), households and rentals of your area."""
    with unit(request) as (session, ctx):
        return sync.work_for(session, ctx, area_id)


@router.post(
    "/sync", response_model=SyncResult, summary="Sync an offline outbox, item by item, idempotent by UUID"
)
def sync_outbox(body: SyncBatch, request: Request) -> SyncResult:
    """Each item is stored in its own savepoint: a malformed, reused, unassigned or conflicting item is answered on
    its own and the rest are stored; sending the same items again stores nothing twice."""
    parts = []
    for offset, part in sync.chunks(body.items):
        with unit(request) as (session, ctx):
            parts.append(sync.sync_outbox(session, ctx, part, offset=offset))
    return sync.merged(parts)
