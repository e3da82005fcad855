"""Visit routes: record a visit of a dwelling (idempotent), list a dwelling's visits."""

from fastapi import APIRouter, Request, Response

from liangshi.campaign import service
from liangshi.campaign.schemas import PersonAtDwelling, VisitCreate, VisitRead
from liangshi.http.tx import unit
from liangshi.residence.schemas import DepartureIn
from liangshi.review import service as review
from liangshi.review.schemas import ChangeSetRead

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
        policy = review.policy_of(request.app.state.settings)
        visit = service.record_visit(session, ctx, dwelling_id, body, policy=policy)
        if visit.replayed:
            response.status_code = 200
        return visit


@router.get("/dwellings/{dwelling_id}/visits", response_model=list[VisitRead], summary="A dwelling's visits")
def list_visits(dwelling_id: int, request: Request) -> list[VisitRead]:
    """Visits of a dwelling in your jurisdiction, newest first."""
    with unit(request) as (session, ctx):
        return service.visits_of(session, ctx, dwelling_id)


@router.post(
    "/dwellings/{dwelling_id}/found-persons",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a person found living at a dwelling (for review)",
)
def propose_person(
    dwelling_id: int, body: PersonAtDwelling, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set (new person or the one holding the ID number, and the arrival) for the station's review;
    `change_set_id` resubmits one of your returned change sets, fixed."""
    with unit(request) as (session, ctx):
        cs = service.add_person_at_dwelling(
            session,
            ctx,
            dwelling_id,
            body,
            change_set_id=change_set_id,
            policy=review.policy_of(request.app.state.settings),
        )
        return review.show(session, ctx, cs.id)


@router.post(
    "/residences/{residence_id}/departure-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a departure found at a visit (for review)",
)
def propose_departure(
    residence_id: int, body: DepartureIn, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set deregistering the residence, for the station's (and by default the district's) review."""
    with unit(request) as (session, ctx):
        cs = service.propose_departure(
            session,
            ctx,
            residence_id,
            body,
            change_set_id=change_set_id,
            policy=review.policy_of(request.app.state.settings),
        )
        return review.show(session, ctx, cs.id)
