"""The conflicts queue (数据冲突待审): department values that disagree with the register, decided side by side."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi import registry
from liangshi.departments import service as departments
from liangshi.departments.schemas import DecideIn
from liangshi.errors import LiangshiError
from liangshi.persons import service as persons
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

PAGE_SIZE = 20
STATUSES = ("open", "accepted", "rejected")

add_nav(NavItem("/web/conflicts", N_("Conflicts"), "conflict.decide", order=40))
register_flash("conflict_accepted", N_("The department's value was accepted."))
register_flash("conflict_rejected", N_("The department's value was rejected; the register stands."))


@router.get("/conflicts")
def conflicts(request: Request, status: str | None = None, offset: int = 0) -> Response:
    """The review queue of department conflicts in the jurisdiction, open ones first."""
    with page(request) as p:
        chosen = status if status in STATUSES else None
        rows, total = departments.list_conflicts(
            p.session,
            p.ctx,
            status=chosen,
            department=None,
            offset=max(offset, 0),
            limit=PAGE_SIZE,
            open_first=True,
        )
        return render(
            request,
            "conflicts.html",
            p,
            items=[departments.conflict_view(c) for c in rows],
            total=total,
            current=chosen,
            statuses=STATUSES,
            offset=max(offset, 0),
            page_size=PAGE_SIZE,
        )


def _conflict_page(
    request: Request,
    p: Page,
    conflict_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    conflict = departments.get_conflict(p.session, p.ctx, conflict_id)
    subject = None
    if conflict["object_kind"] == "person" and p.may("person.read"):
        subject = registry.read(p.session, p.ctx, persons.PERSON, conflict["object_id"])
    return render(
        request,
        "conflict.html",
        p,
        status=status,
        conflict=conflict,
        subject=subject,
        values=values or {},
        errors=errors or {},
    )


@router.get("/conflicts/{conflict_id}")
def conflict(request: Request, conflict_id: int) -> Response:
    """One conflict side by side: the register's value and the department's, with the decision form."""
    with page(request) as p:
        return _conflict_page(request, p, conflict_id)


@router.post("/conflicts/{conflict_id}")
def decide(
    request: Request,
    conflict_id: int,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Accept or reject the department's value with a reason (as POST /conflicts/{id}/decide does)."""
    with page(request) as p:
        try:
            body = DecideIn.model_validate({"decision": decision, "reason": reason})
            departments.decide_conflict(
                p.session, p.ctx, conflict_id, accept=body.decision == "accept", reason=body.reason
            )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            values = {"decision": decision, "reason": reason}
            return _conflict_page(
                request, p, conflict_id, values=values, errors=form_errors(exc, p.lang), status=422
            )
        flash = "conflict_accepted" if body.decision == "accept" else "conflict_rejected"
        return redirect("/web/conflicts", flash=flash)
