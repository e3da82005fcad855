"""Residence permit routes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request

from liangshi.http.crud import object_read, object_routes
from liangshi.http.tx import unit
from liangshi.permits import service
from liangshi.permits.schemas import PermitCancel, PermitCorrect, PermitEndorse, PermitIssue, PermitPatch
from liangshi.schemas import ObjectRead

router = APIRouter(prefix="/permits", tags=["permits 居住证"])
person_permits = APIRouter(tags=["permits 居住证"])


@router.get("/eligibility", summary="May this resident have a permit?")
def eligibility(
    request: Request,
    residence_id: int = Query(..., ge=1),
    basis: str = Query("job", pattern="^(job|home|school)$"),
    on: dt.date | None = Query(None),
) -> dict[str, Any]:
    """Six months' residence plus a stable job, home or school place; the reasons when not, and from when."""
    with unit(request) as (session, ctx):
        return service.check_eligibility(session, ctx, residence_id, basis, on)


@router.post("", response_model=ObjectRead, status_code=201, summary="Issue a residence permit")
def issue(body: PermitIssue, request: Request) -> ObjectRead:
    """Issue a permit valid for one year."""
    with unit(request) as (session, ctx):
        return object_read(service.issue_permit(session, ctx, body))


@router.post("/lapse", summary="Lapse permits not endorsed in time")
def lapse(request: Request, on: dt.date | None = Query(None)) -> dict[str, Any]:
    """Mark permits in your jurisdiction whose year ran out without endorsement as lapsed."""
    with unit(request) as (session, ctx):
        ids = service.lapse_permits(session, ctx, on=on)
        return {"lapsed": len(ids), "permit_ids": ids}


@router.post("/{object_id}/endorse", response_model=ObjectRead, summary="Yearly endorsement (签注)")
def endorse(object_id: int, body: PermitEndorse, request: Request) -> ObjectRead:
    """Extend the permit by a year, in the last 30 days of its year, while the residence is open."""
    with unit(request) as (session, ctx):
        return object_read(service.endorse_permit(session, ctx, object_id, body))


@router.post("/{object_id}/cancel", response_model=ObjectRead, summary="Cancel a permit")
def cancel(object_id: int, body: PermitCancel, request: Request) -> ObjectRead:
    """Cancel a permit from a date."""
    with unit(request) as (session, ctx):
        return object_read(service.cancel_permit(session, ctx, object_id, body))


@person_permits.get("/persons/{object_id}/permits", summary="A person's residence permits")
def of_person(object_id: int, request: Request) -> list[dict[str, Any]]:
    """Every permit the person held, newest first."""
    with unit(request) as (session, ctx):
        return service.permits_of(session, ctx, object_id)


object_routes(router, service.PERMIT, patch=PermitPatch, correct=PermitCorrect, retire=False)
