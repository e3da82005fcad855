"""The person page (查人知住): main and general items with their provenance, residence, timeline, access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from liangshi import registry
from liangshi.errors import ValidationFailed
from liangshi.persons import service as persons
from liangshi.residence import service as residence
from liangshi.review import service as review
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import Page, page

router = web_router()

MAIN_ITEMS = ("name", "sex", "birth_date", "ethnicity", "nationality", "hukou_region", "hukou_address")
GENERAL_ITEMS = ("education", "marital_status", "occupation", "workplace", "phone")


def _person_page(request: Request, p: Page, person_id: int, *, unmask_reason: str | None = None) -> Response:
    snap = registry.read(p.session, p.ctx, persons.PERSON, person_id)
    if snap.cut is None:
        documents = persons.documents_view(p.session, p.ctx, person_id, unmask_reason=unmask_reason)
        provenance = persons.provenance_of(p.session, p.ctx, person_id)
        approvals = review.approvals_of(p.session, p.ctx, person_id)
    else:
        # A department reads only its agreement's fields: documents only if it names them, no version history.
        readable = bool(snap.cut.fields("document"))
        documents = (
            persons.documents_view(p.session, p.ctx, person_id, unmask_reason=None) if readable else []
        )
        provenance = {}
        approvals = []
    lives: dict[str, Any] | None = None
    timeline: list[dict[str, Any]] = []
    if p.may("residence.read"):
        lives = residence.where_lives(p.session, p.ctx, person_id)
        timeline = residence.timeline(p.session, p.ctx, person_id)["events"]
    access: list[Any] = []
    access_total = 0
    if p.may("person.access_log"):
        access, access_total = persons.access_log(p.session, p.ctx, person_id, limit=50, offset=0)
    return render(
        request,
        "person.html",
        p,
        person=snap,
        values=snap.attributes(),
        main_items=MAIN_ITEMS,
        general_items=GENERAL_ITEMS,
        documents=documents,
        unmasked=unmask_reason is not None,
        provenance=provenance,
        approvals=approvals,
        lives=lives,
        timeline=timeline,
        access=access,
        access_total=access_total,
    )


@router.get("/persons/{person_id}")
def person(request: Request, person_id: int) -> Response:
    """查人知住: who the person is, where they live and lived, and who looked at the record."""
    with page(request) as p:
        return _person_page(request, p, person_id)


@router.post("/persons/{person_id}/unmask")
def unmask(request: Request, person_id: int, reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Show the full ID numbers once, for roles that may, with a reason that goes into the audit log."""
    with page(request, purpose=reason.strip()[:200] or None) as p:
        p.ctx.actor.ensure("person.unmask")
        if not reason.strip():
            raise ValidationFailed(
                "person.unmask_reason_required",
                "查看完整证件号码须填写事由",
                "A reason is required to see full document numbers",
                {"field": "reason"},
            )
        return _person_page(request, p, person_id, unmask_reason=reason.strip())
