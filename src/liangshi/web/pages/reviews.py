"""The master person index review queue (比对审核): uncertain pairs decided side by side, with a reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi.errors import LiangshiError
from liangshi.mpi import rules as mpi_rules
from liangshi.mpi import service as mpi
from liangshi.mpi.schemas import DecisionIn
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

PAGE_SIZE = 20

add_nav(NavItem("/web/reviews", N_("Match reviews"), "person.link", order=42))
register_flash("review_same", N_("Decided: the same person."))
register_flash("review_distinct", N_("Decided: different persons."))


@router.get("/reviews")
def reviews(request: Request, status: str | None = None, offset: int = 0) -> Response:
    """Uncertain pairs whose candidate is in the jurisdiction, pending first."""
    with page(request) as p:
        chosen = status if status in mpi_rules.REVIEW_STATUSES else None
        items, total = mpi.list_reviews(
            p.session, p.ctx, status=chosen, offset=max(offset, 0), limit=PAGE_SIZE
        )
        return render(
            request,
            "reviews.html",
            p,
            items=items,
            total=total,
            current=chosen,
            statuses=mpi_rules.REVIEW_STATUSES,
            offset=max(offset, 0),
            page_size=PAGE_SIZE,
        )


def _review_page(
    request: Request,
    p: Page,
    review_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    detail = mpi.review_detail(p.session, p.ctx, review_id)
    return render(
        request,
        "review.html",
        p,
        status=status,
        review=detail,
        pending=detail["status"] == mpi_rules.PENDING,
        values=values or {},
        errors=errors or {},
    )


@router.get("/reviews/{review_id}")
def review(request: Request, review_id: int) -> Response:
    """Both records field by field (ID numbers masked), each field's evidence and weight, the probability."""
    with page(request) as p:
        return _review_page(request, p, review_id)


@router.post("/reviews/{review_id}")
def decide(
    request: Request,
    review_id: int,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Same person or distinct, with a reason (as POST /mpi/reviews/{id}/decision does)."""
    with page(request) as p:
        try:
            body = DecisionIn.model_validate({"decision": decision, "reason": reason})
            mpi.decide(p.session, p.ctx, review_id, decision=body.decision, reason=body.reason)
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            values = {"decision": decision, "reason": reason}
            return _review_page(
                request, p, review_id, values=values, errors=form_errors(exc, p.lang), status=422
            )
        return redirect("/web/reviews", flash=f"review_{body.decision}")
