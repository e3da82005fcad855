"""Master person index routes: the review queue, merges, splits and undo."""

from fastapi import APIRouter, Depends, Query, Request

from liangshi.http.crud import paging
from liangshi.http.tx import unit
from liangshi.mpi import service
from liangshi.mpi.schemas import (
    DecisionIn,
    DecisionRead,
    LinkEventRead,
    MergeIn,
    ReviewDetail,
    ReviewPage,
    ReviewSummary,
    SplitIn,
    UndoIn,
)

router = APIRouter(prefix="/mpi", tags=["mpi 人员主索引"])
person_links = APIRouter(prefix="/persons", tags=["mpi 人员主索引"])


@router.get("/reviews", response_model=ReviewPage, summary="The review queue (pending first)")
def list_reviews(
    request: Request,
    status: str | None = Query(None, max_length=10, description="pending, linked, distinct or closed"),
    page: tuple[int, int] = Depends(paging),
) -> ReviewPage:
    """Uncertain pairs whose candidate person is in your jurisdiction, pending first, oldest first."""
    with unit(request) as (session, ctx):
        items, total = service.list_reviews(session, ctx, status=status, offset=page[0], limit=page[1])
        return ReviewPage(
            items=[ReviewSummary(**i) for i in items], total=total, offset=page[0], limit=page[1]
        )


@router.get("/reviews/{review_id}", response_model=ReviewDetail, summary="One review side by side")
def read_review(review_id: int, request: Request) -> ReviewDetail:
    """Both records field by field (ID numbers masked) with the per-field evidence and weights."""
    with unit(request) as (session, ctx):
        return ReviewDetail(**service.review_detail(session, ctx, review_id))


@router.post("/reviews/{review_id}/decision", response_model=DecisionRead, summary="Decide a review")
def decide(review_id: int, body: DecisionIn, request: Request) -> DecisionRead:
    """Same person (link, or merge two register persons) or distinct, with a reason; audited."""
    with unit(request) as (session, ctx):
        return DecisionRead(
            **service.decide(
                session, ctx, review_id, decision=body.decision, reason=body.reason, force=body.force
            )
        )


@router.get("/events/{event_id}", response_model=LinkEventRead, summary="A merge or split as recorded")
def read_event(event_id: int, request: Request) -> LinkEventRead:
    """Which rows moved between which persons, why and by whom."""
    with unit(request) as (session, ctx):
        return LinkEventRead(**service.get_event(session, ctx, event_id))


@router.post("/events/{event_id}/undo", response_model=LinkEventRead, summary="Undo a merge or split")
def undo(event_id: int, body: UndoIn, request: Request) -> LinkEventRead:
    """Reverse a merge or split exactly (refused when later changes touched what moved)."""
    with unit(request) as (session, ctx):
        event = service.undo(session, ctx, event_id, reason=body.reason)
        return LinkEventRead(**service.event_view(event))


@person_links.post(
    "/{object_id}/merge",
    response_model=LinkEventRead,
    status_code=201,
    summary="Merge a person into this one",
)
def merge(object_id: int, body: MergeIn, request: Request) -> LinkEventRead:
    """Person `other` becomes this person: their rows move here, `other` is retired; recorded and undoable."""
    with unit(request) as (session, ctx):
        event = service.merge(session, ctx, object_id, body.other, reason=body.reason, force=body.force)
        return LinkEventRead(**service.event_view(event))


@person_links.post(
    "/{object_id}/split", response_model=LinkEventRead, status_code=201, summary="Split records off a person"
)
def split(object_id: int, body: SplitIn, request: Request) -> LinkEventRead:
    """The chosen source records (and documents with their numbers) move to a new person; undoable."""
    with unit(request) as (session, ctx):
        event = service.split(
            session, ctx, object_id, source_record_ids=body.source_record_ids, reason=body.reason
        )
        return LinkEventRead(**service.event_view(event))
