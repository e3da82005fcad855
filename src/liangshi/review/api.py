"""Review desk routes: the desk, one change set field by field, approve (one or many, item by item), return with a
reason, and the collector's outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from liangshi.http.tx import unit
from liangshi.review import service
from liangshi.review.schemas import BulkApproveIn, ChangeSetPage, ChangeSetRead, Outcome, ReturnIn

router = APIRouter(prefix="/change-sets", tags=["review 审核"])


@router.get("", response_model=ChangeSetPage, summary="The review desk: change sets awaiting your review")
def desk(
    request: Request,
    status: Annotated[str | None, Query(pattern="^(pending_station|pending_district)$")] = None,
    action: Annotated[str | None, Query(max_length=30)] = None,
    proposer: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=30)] = None,
    area_id: int | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ChangeSetPage:
    """Pending change sets of your jurisdiction at the stages your role reviews, oldest first, each with whether
    it still applies (`stale`)."""
    with unit(request) as (session, ctx):
        return service.desk(
            session,
            ctx,
            status=status,
            action=action,
            proposer=proposer,
            tag=tag,
            area_id=area_id,
            offset=offset,
            limit=limit,
        )


@router.get("/outbox", response_model=list[ChangeSetRead], summary="Your own change sets not yet approved")
def outbox(request: Request) -> list[ChangeSetRead]:
    """Returned ones first, with the reviewer's reason; then those awaiting review."""
    with unit(request) as (session, ctx):
        return service.outbox(session, ctx)


@router.post("/approve", response_model=list[Outcome], summary="Approve several change sets, item by item")
def approve_many(body: BulkApproveIn, request: Request) -> list[Outcome]:
    """Each change set is approved or refused on its own (a stale one stays pending with its refusal)."""
    lang = request.headers.get("accept-language", "zh")
    with unit(request) as (session, ctx):
        return service.approve_many(session, ctx, body.ids, lang=lang)


@router.get("/{change_set_id}", response_model=ChangeSetRead, summary="A change set against the register")
def show(change_set_id: int, request: Request) -> ChangeSetRead:
    """Each proposed item field by field: the register's current value beside the proposed one (IDs masked)."""
    with unit(request) as (session, ctx):
        return service.show(session, ctx, change_set_id)


@router.post(
    "/{change_set_id}/approve", response_model=ChangeSetRead, summary="Approve a change set (station)"
)
def approve(change_set_id: int, request: Request) -> ChangeSetRead:
    """The station's approval; unless district policy names the set, it becomes registry facts now (source: the
    collector, actor: you)."""
    with unit(request) as (session, ctx):
        return service.approve(session, ctx, change_set_id, stage="station")


@router.post(
    "/{change_set_id}/approve-district",
    response_model=ChangeSetRead,
    summary="Approve a change set (district)",
)
def approve_district(change_set_id: int, request: Request) -> ChangeSetRead:
    """The district's approval of what its policy names, after the station's: the set becomes registry facts."""
    with unit(request) as (session, ctx):
        return service.approve(session, ctx, change_set_id, stage="district")


@router.post(
    "/{change_set_id}/return", response_model=ChangeSetRead, summary="Return a change set with a reason"
)
def return_(change_set_id: int, body: ReturnIn, request: Request) -> ChangeSetRead:
    """Back to the collector's outbox with the reason."""
    with unit(request) as (session, ctx):
        return service.return_(session, ctx, change_set_id, body.reason)
