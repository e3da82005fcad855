"""The review desk (审核台): collected work field by field against the register, approved item by item or
returned with a reason; and the collector's outbox of returned work."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from liangshi.errors import LiangshiError
from liangshi.review import rules as review_rules
from liangshi.review import service as review
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

PAGE_SIZE = 50

add_nav(NavItem("/web/changesets", N_("Review desk"), "changeset.review", order=41))
add_nav(NavItem("/web/collect/outbox", N_("My submissions"), "dwelling.write", order=11))
register_flash("cs_approved", N_("Approved."))
register_flash("cs_returned", N_("Returned to the collector with your reason."))
register_flash("cs_bulk", N_("Bulk approval done: see each item's outcome."))


def _fix_url(item: Any) -> str | None:
    """Where the collector fixes a returned change set: the form it was made in."""
    t = item.target
    if item.action in ("person_at_dwelling", "arrival") and "dwelling_id" in t:
        return f"/web/collect/dwellings/{t['dwelling_id']}/persons/new?change_set={item.id}"
    if item.action == "departure" and "residence_id" in t:
        return f"/web/collect/residences/{t['residence_id']}/departure?change_set={item.id}"
    if item.action == "correction" and "person_id" in t:
        return f"/web/collect/persons/{t['person_id']}/correction?change_set={item.id}"
    if item.action in ("extension", "move") and "residence_id" in t:
        return f"/web/collect/residences/{t['residence_id']}/{item.action}?change_set={item.id}"
    if item.action == "document" and "person_id" in t:
        return f"/web/collect/persons/{t['person_id']}/document?change_set={item.id}"
    if item.action in ("member", "birth") and "household_id" in t:
        return f"/web/collect/households/{t['household_id']}/{item.action}?change_set={item.id}"
    if item.action == "member_end" and "household_id" in t:
        return f"/web/households/{t['household_id']}"
    if item.action == "household" and "dwelling_id" in t:
        return f"/web/dwellings/{t['dwelling_id']}/households/new"
    if "dwelling_id" in t:
        return f"/web/collect/dwellings/{t['dwelling_id']}"
    return None


def _desk_page(
    request: Request,
    p: Page,
    *,
    status: str | None,
    action: str | None,
    proposer: str | None,
    tag: str | None,
    offset: int,
    outcomes: list[Any] | None = None,
) -> Response:
    desk = review.desk(
        p.session,
        p.ctx,
        status=status,
        action=action,
        proposer=proposer,
        tag=tag,
        offset=offset,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "changesets.html",
        p,
        desk=desk,
        filters={
            "status": status or "",
            "action": action or "",
            "proposer": proposer or "",
            "tag": tag or "",
        },
        actions=review_rules.ACTIONS,
        offset=offset,
        page_size=PAGE_SIZE,
        outcomes=outcomes or [],
    )


@router.get("/changesets")
def desk(
    request: Request,
    status: str | None = None,
    action: str | None = None,
    proposer: str | None = None,
    tag: str | None = None,
    offset: int = 0,
) -> Response:
    """Change sets awaiting the reviewer's stage in their jurisdiction, oldest first, with filters."""
    with page(request) as p:
        chosen = status if status in ("pending_station", "pending_district") else None
        return _desk_page(
            request,
            p,
            status=chosen,
            action=action if action in review_rules.ACTIONS else None,
            proposer=(proposer or "").strip() or None,
            tag=(tag or "").strip() or None,
            offset=max(offset, 0),
        )


@router.post("/changesets/approve")
def bulk_approve(request: Request, ids: Annotated[list[int] | None, Form()] = None) -> Response:
    """Approve the ticked change sets item by item: each outcome is shown (a stale one stays pending)."""
    with page(request) as p:
        outcomes = review.approve_many(p.session, p.ctx, ids or [], lang=p.lang) if ids else []
        return _desk_page(
            request, p, status=None, action=None, proposer=None, tag=None, offset=0, outcomes=outcomes
        )


def _detail_page(
    request: Request, p: Page, change_set_id: int, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    item = review.show(p.session, p.ctx, change_set_id)
    return render(request, "changeset.html", p, status=status, cs=item, errors=errors or {})


@router.get("/changesets/{change_set_id}")
def detail(request: Request, change_set_id: int) -> Response:
    """One change set field by field against the current register (ID numbers masked)."""
    with page(request) as p:
        return _detail_page(request, p, change_set_id)


@router.post("/changesets/{change_set_id}/approve")
def approve(request: Request, change_set_id: int) -> Response:
    """Approve at the stage the set awaits (as POST /change-sets/{id}/approve and /approve-district do)."""
    with page(request) as p:
        try:
            review.approve(p.session, p.ctx, change_set_id)
        except LiangshiError as exc:
            if exc.http_status not in (403, 409, 422) or exc.code == "access.forbidden":
                raise
            p.session.rollback()
            return _detail_page(
                request, p, change_set_id, errors=form_errors(exc, p.lang), status=exc.http_status
            )
        return redirect("/web/changesets", flash="cs_approved")


@router.post("/changesets/{change_set_id}/return")
def return_(
    request: Request, change_set_id: int, reason: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    """Return to the collector with a reason (required)."""
    with page(request) as p:
        try:
            review.return_(p.session, p.ctx, change_set_id, reason)
        except LiangshiError as exc:
            if exc.http_status not in (403, 409, 422) or exc.code == "access.forbidden":
                raise
            p.session.rollback()
            return _detail_page(
                request, p, change_set_id, errors=form_errors(exc, p.lang), status=exc.http_status
            )
        return redirect("/web/changesets", flash="cs_returned")


@router.get("/collect/outbox")
def outbox(request: Request) -> Response:
    """The collector's own submissions not yet approved: returned ones first with the reviewer's reason."""
    with page(request) as p:
        items = review.outbox(p.session, p.ctx)
        return render(request, "collect/outbox.html", p, items=items, fix={i.id: _fix_url(i) for i in items})


add_nav(NavItem("/web/claims", N_("Department records to claim"), "department.claim", order=43))
register_flash("claim_claimed", N_("Claimed: the person is registered in your community."))
register_flash("claim_elsewhere", N_("Handed to the community it belongs to."))
register_flash("claim_duplicate", N_("Marked as a duplicate."))
register_flash("claim_undone", N_("Undone."))


def _claims_page(
    request: Request, p: Page, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    items = review.claim_desk(p.session, p.ctx)
    return render(request, "claims.html", p, status=status, items=items, errors=errors or {})


@router.get("/claims")
def claims(request: Request) -> Response:
    """Department records of persons who match nobody, waiting for a community of the jurisdiction (认领)."""
    with page(request) as p:
        return _claims_page(request, p)


@router.post("/claims/{change_set_id}")
def decide_claim(
    request: Request,
    change_set_id: int,
    decision: Annotated[str, Form(max_length=20)] = "",
    area_code: Annotated[str, Form(max_length=12)] = "",
    duplicate_of: Annotated[int | None, Form()] = None,
) -> Response:
    """Claimed, belongs elsewhere (the community's code), or a duplicate (of a person id)."""
    with page(request) as p:
        try:
            area_id = review.area_id_of(p.session, area_code.strip()) if area_code.strip() else None
            review.claim(
                p.session, p.ctx, change_set_id, decision, area_id=area_id, duplicate_of=duplicate_of
            )
        except LiangshiError as exc:
            if exc.http_status not in (404, 409, 422) or exc.code == "changeset.not_found":
                raise
            p.session.rollback()
            return _claims_page(request, p, errors=form_errors(exc, p.lang), status=exc.http_status)
        return redirect("/web/claims", flash=f"claim_{decision}")


@router.post("/claims/{change_set_id}/undo")
def undo_claim(request: Request, change_set_id: int) -> Response:
    """Take back a duplicate mark or a hand-over."""
    with page(request) as p:
        try:
            review.undo_claim(p.session, p.ctx, change_set_id)
        except LiangshiError as exc:
            if exc.http_status != 409:
                raise
            p.session.rollback()
            return _claims_page(request, p, errors=form_errors(exc, p.lang), status=409)
        return redirect("/web/claims", flash="claim_undone")


add_nav(NavItem("/web/coordination", N_("Cross-unit changes"), "person.write", order=44))
register_flash("holder_agreed", N_("Agreed: the change is in the register."))
register_flash("holder_refused", N_("Refused: the station above both units will rule."))
register_flash("ruled", N_("Ruling recorded."))


def _coordination_page(
    request: Request, p: Page, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    items = review.coordination_desk(p.session, p.ctx)
    return render(request, "coordination.html", p, status=status, items=items, errors=errors or {})


@router.get("/coordination")
def coordination(request: Request) -> Response:
    """业务协同: other units' changes to persons you hold, and refused ones for the station above both to rule."""
    with page(request) as p:
        return _coordination_page(request, p)


@router.post("/coordination/{change_set_id}/holder")
def holder(
    request: Request,
    change_set_id: int,
    agree: Annotated[str, Form(max_length=5)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Agree, or refuse with a reason."""
    with page(request) as p:
        try:
            review.holder_decision(p.session, p.ctx, change_set_id, agree=agree == "yes", reason=reason)
        except LiangshiError as exc:
            if exc.http_status not in (403, 409, 422) or exc.code == "access.forbidden":
                raise
            p.session.rollback()
            return _coordination_page(request, p, errors=form_errors(exc, p.lang), status=exc.http_status)
        return redirect("/web/coordination", flash="holder_agreed" if agree == "yes" else "holder_refused")


@router.post("/coordination/{change_set_id}/ruling")
def rule(
    request: Request,
    change_set_id: int,
    ruling: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """The station's ruling: initiator right, holder right, both, or neither."""
    with page(request) as p:
        try:
            review.rule_dispute(p.session, p.ctx, change_set_id, ruling, reason)
        except LiangshiError as exc:
            if exc.http_status not in (403, 409, 422) or exc.code == "access.forbidden":
                raise
            p.session.rollback()
            return _coordination_page(request, p, errors=form_errors(exc, p.lang), status=exc.http_status)
        return redirect("/web/coordination", flash="ruled")
