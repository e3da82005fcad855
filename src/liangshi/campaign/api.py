"""Visit routes: record a visit of a dwelling (idempotent), list a dwelling's visits."""

from fastapi import APIRouter, Request, Response

from liangshi.campaign import service
from liangshi.campaign.schemas import VisitCreate, VisitRead
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
