"""Review desk routes: the desk, one change set field by field, approve (one or many, item by item), return with a
reason, and the collector's outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from liangshi.http.tx import unit
from liangshi.review import service
from liangshi.review.schemas import (
    BulkApproveIn,
    ChangeSetPage,
    ChangeSetRead,
    ClaimDecisionIn,
    ClaimRecordIn,
    CrossUnitIn,
    HolderDecisionIn,
    Outcome,
    ReturnIn,
    RulingIn,
)

router = APIRouter(prefix="/change-sets", tags=["review 审核"])
claims = APIRouter(prefix="/claims", tags=["review 审核"])
cross_unit = APIRouter(tags=["review 审核"])


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


@router.post(
    "/{change_set_id}/holder-decision", response_model=ChangeSetRead, summary="The holder agrees or refuses"
)
def holder_decision(change_set_id: int, body: HolderDecisionIn, request: Request) -> ChangeSetRead:
    """Another unit's change to a person you hold: agree (it becomes a registry fact) or refuse with a reason."""
    with unit(request) as (session, ctx):
        return service.holder_decision(session, ctx, change_set_id, agree=body.agree, reason=body.reason)


@router.post(
    "/{change_set_id}/ruling", response_model=ChangeSetRead, summary="Rule on a refused cross-unit change"
)
def ruling(change_set_id: int, body: RulingIn, request: Request) -> ChangeSetRead:
    """The station above both units: initiator right, holder right, both, or neither."""
    with unit(request) as (session, ctx):
        return service.rule_dispute(session, ctx, change_set_id, body.ruling, body.reason)


@claims.post(
    "", response_model=ChangeSetRead, status_code=201, summary="Send a record for its community to claim"
)
def send_claim(body: ClaimRecordIn, request: Request) -> ChangeSetRead:
    """A department's record of a person who matches nobody waits for the community it names (认领)."""
    with unit(request) as (session, ctx):
        cs = service.propose_claim(
            session,
            ctx,
            area_id=body.area_id,
            person=body.person,
            documents=body.documents,
            source=ctx.actor.department or ctx.actor.username,
            record_id=body.record_id,
        )
        return service.show(session, ctx, cs.id)


@claims.get("", response_model=list[ChangeSetRead], summary="Department records awaiting your claim")
def claim_desk(request: Request) -> list[ChangeSetRead]:
    """Records for the communities of your jurisdiction, field by field, oldest first."""
    with unit(request) as (session, ctx):
        return service.claim_desk(session, ctx)


@claims.post("/{change_set_id}/decision", response_model=ChangeSetRead, summary="Claim a department record")
def decide_claim(change_set_id: int, body: ClaimDecisionIn, request: Request) -> ChangeSetRead:
    """Claimed, belongs elsewhere (handed to that community), or a duplicate."""
    with unit(request) as (session, ctx):
        return service.claim(
            session, ctx, change_set_id, body.decision, area_id=body.area_id, duplicate_of=body.duplicate_of
        )


@claims.post("/{change_set_id}/undo", response_model=ChangeSetRead, summary="Undo a claim decision")
def undo_claim(change_set_id: int, request: Request) -> ChangeSetRead:
    """A duplicate back to awaiting its claim, or a record handed elsewhere back."""
    with unit(request) as (session, ctx):
        return service.undo_claim(session, ctx, change_set_id)


@cross_unit.post(
    "/persons/{person_id}/cross-unit-changes",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a change to a person another unit holds",
)
def propose_cross_unit(person_id: int, body: CrossUnitIn, request: Request) -> ChangeSetRead:
    """It goes to the holder to agree or refuse (业务协同); a refusal goes to the station above both."""
    with unit(request) as (session, ctx):
        cs = service.propose_cross_unit(
            session, ctx, person_id, body.changes, expected_version=body.expected_version, reason=body.reason
        )
        return service.as_read(session, cs)
