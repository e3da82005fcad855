"""The findings of the quality checks (检查问题): a list per area and per assignee, filtered by check, dismissed
with a reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from liangshi.checks import rules
from liangshi.checks import service as checks
from liangshi.errors import LiangshiError
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

PAGE_SIZE = 30

add_nav(NavItem("/web/checks", N_("Findings"), "check.read", order=45))
register_flash("finding_dismissed", N_("The finding was dismissed; later runs keep it dismissed."))


def _list(
    request: Request,
    p: Page,
    *,
    check: str | None,
    status: str | None,
    mine: bool,
    offset: int,
    errors: dict[str, str] | None = None,
    http_status: int = 200,
) -> Response:
    hidden = set(rules.hidden_checks(p.ctx.actor.may))
    chosen = check if check in rules.CHECKS and check not in hidden else None
    state = status if status in rules.FINDING_STATUSES else "open"
    items, total = checks.list_findings(
        p.session,
        p.ctx,
        check=chosen,
        status=state,
        mine=mine,
        offset=max(offset, 0),
        limit=PAGE_SIZE,
        lang=p.lang,
    )
    return render(
        request,
        "checks.html",
        p,
        status=http_status,
        items=items,
        total=total,
        # A check only some readers see (community corrections) is not offered to the others.
        checks=[(c.code, c.title(p.lang)) for c in rules.CHECKS.values() if c.code not in hidden],
        statuses=[
            (s, zh if not p.lang.startswith("en") else en) for s, (zh, en) in rules.FINDING_STATUSES.items()
        ],
        current_check=chosen,
        current_status=state,
        mine=mine,
        offset=max(offset, 0),
        page_size=PAGE_SIZE,
        errors=errors or {},
    )


@router.get("/checks")
def findings(
    request: Request, check: str | None = None, status: str | None = None, mine: bool = False, offset: int = 0
) -> Response:
    """The findings of the jurisdiction (or those assigned to me), open ones by default."""
    with page(request) as p:
        return _list(request, p, check=check, status=status, mine=mine, offset=offset)


@router.post("/checks/{finding_id}/dismiss")
def dismiss(request: Request, finding_id: int, reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Dismiss a finding with a reason (as POST /checks/findings/{id}/dismiss does)."""
    with page(request) as p:
        try:
            checks.dismiss_finding(p.session, p.ctx, finding_id, reason=reason)
        except LiangshiError as exc:
            if exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            errors = {str(finding_id): next(iter(form_errors(exc, p.lang).values()))}
            return _list(
                request, p, check=None, status="open", mine=False, offset=0, errors=errors, http_status=422
            )
        return redirect("/web/checks", flash="finding_dismissed")
