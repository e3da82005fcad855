"""Feedback on doubted values (存疑反馈): deadlines for pick-up and decision, overdue items highlighted."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi.departments import service as departments
from liangshi.departments.schemas import FeedbackDecideIn
from liangshi.errors import LiangshiError
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

PAGE_SIZE = 20

add_nav(NavItem("/web/feedback", N_("Feedback"), "feedback.handle", order=41))
register_flash("feedback_picked_up", N_("Feedback picked up."))
register_flash("feedback_decided", N_("Feedback decided; the flag on the value is resolved."))


def _feedback_page(
    request: Request,
    p: Page,
    *,
    overdue: bool,
    offset: int,
    failed: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rows, total = departments.list_feedback(
        p.session, p.ctx, overdue=overdue, offset=max(offset, 0), limit=PAGE_SIZE
    )
    return render(
        request,
        "feedback.html",
        p,
        status=status,
        items=[departments.feedback_view(f, p.ctx.today) for f in rows],
        total=total,
        overdue=overdue,
        offset=max(offset, 0),
        page_size=PAGE_SIZE,
        failed=failed,
        may_handle=p.may("feedback.handle"),
        values=values or {},
        errors=errors or {},
    )


@router.get("/feedback")
def feedback(request: Request, overdue: bool = False, offset: int = 0) -> Response:
    """Feedback items in the jurisdiction (a liaison: the department's own), with their deadlines."""
    with page(request) as p:
        return _feedback_page(request, p, overdue=overdue, offset=offset)


@router.post("/feedback/{feedback_id}/pickup")
def pickup(request: Request, feedback_id: int) -> Response:
    """Pick the feedback up (签收), as POST /feedback/{id}/pickup does."""
    with page(request) as p:
        departments.pick_up_feedback(p.session, p.ctx, feedback_id)
        return redirect("/web/feedback", flash="feedback_picked_up")


@router.post("/feedback/{feedback_id}/decide")
def decide(
    request: Request,
    feedback_id: int,
    outcome: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    value: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Confirm the register's value or correct it (as POST /feedback/{id}/decide does)."""
    with page(request) as p:
        try:
            body = FeedbackDecideIn.model_validate(
                {"outcome": outcome, "note": note, "value": value.strip() or None}
            )
            departments.decide_feedback(
                p.session, p.ctx, feedback_id, outcome=body.outcome, note=body.note, value=body.value
            )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            return _feedback_page(
                request,
                p,
                overdue=False,
                offset=0,
                failed=feedback_id,
                values={"outcome": outcome, "note": note, "value": value},
                errors=form_errors(exc, p.lang),
                status=422,
            )
        return redirect("/web/feedback", flash="feedback_decided")
