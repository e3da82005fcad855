"""Residence permits in the web (居住证): a person's permits, issuing one on an open residence, the yearly
endorsement (签注, renew) and cancelling (end); over the permits service (eligibility, jurisdiction, audit
unchanged). Linked from the person page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from liangshi import registry
from liangshi.errors import NotFound
from liangshi.permits import service as permits
from liangshi.permits.schemas import PermitCancel, PermitEndorse, PermitIssue
from liangshi.persons import service as persons
from liangshi.residence import service as residence
from liangshi.web.forms import attempt
from liangshi.web.i18n import N_
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
register_flash("permit_issued", N_("Residence permit issued."))
register_flash("permit_endorsed", N_("Residence permit endorsed for another year."))
register_flash("permit_cancelled", N_("Residence permit cancelled."))

BASES = {"job": N_("Stable job"), "home": N_("Stable home"), "school": N_("School place")}


def _page(
    request: Request, p: Page, person_id: int, errors: dict[str, str] | None = None, values: Any = None
) -> Response:
    snap = registry.read(p.session, p.ctx, persons.PERSON, person_id)
    held = permits.permits_of(p.session, p.ctx, person_id)
    current = residence.where_lives(p.session, p.ctx, person_id)["current"] if p.may("permit.write") else []
    return render(
        request,
        "permits.html",
        p,
        status=422 if errors else 200,
        person=snap,
        permits=held,
        residences=current,
        bases=BASES,
        errors=errors or {},
        values=values or {"basis": "job"},
        today=p.ctx.today.isoformat(),
    )


@router.get("/persons/{person_id}/permits")
def person_permits(request: Request, person_id: int) -> Response:
    """A person's residence permits, newest first, with the issue, endorse and cancel forms (police)."""
    with page(request) as p:
        p.ctx.actor.ensure("permit.read")
        return _page(request, p, person_id)


@router.post("/persons/{person_id}/permits")
def issue(
    request: Request,
    person_id: int,
    residence_id: Annotated[int, Form()],
    basis: Annotated[str, Form(max_length=10)] = "job",
    basis_detail: Annotated[str, Form(max_length=200)] = "",
    issued_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Issue a permit on one of the person's open residences (eligibility checked by the service)."""
    values = {
        "residence_id": residence_id,
        "basis": basis,
        "basis_detail": basis_detail,
        "issued_on": issued_on,
    }
    with page(request) as p:

        def write() -> Response:
            lives = residence.where_lives(p.session, p.ctx, person_id)["current"]
            if residence_id not in {int(r["residence_id"]) for r in lives}:
                # Not one of this person's open residences: answered as the API answers an unknown one.
                raise NotFound(
                    "residence.not_found", "未找到该居住登记", "Residence not found", {"id": residence_id}
                )
            data = PermitIssue.model_validate(
                {
                    "residence_id": residence_id,
                    "basis": basis,
                    "basis_detail": basis_detail.strip(),
                    "issued_on": issued_on or None,
                }
            )
            permits.issue_permit(p.session, p.ctx, data)
            return redirect(f"/web/persons/{person_id}/permits", flash="permit_issued")

        return attempt(p, write, lambda errors: _page(request, p, person_id, errors, values))


@router.post("/permits/{permit_id}/endorse")
def endorse(
    request: Request,
    permit_id: int,
    person_id: Annotated[int, Form()],
    expected_version: Annotated[int, Form()],
) -> Response:
    """The yearly endorsement (签注): the permit runs a year longer."""
    with page(request) as p:

        def write() -> Response:
            data = PermitEndorse.model_validate({"expected_version": expected_version})
            permits.endorse_permit(p.session, p.ctx, permit_id, data)
            return redirect(f"/web/persons/{person_id}/permits", flash="permit_endorsed")

        return attempt(p, write, lambda errors: _page(request, p, person_id, errors))


@router.post("/permits/{permit_id}/cancel")
def cancel(
    request: Request,
    permit_id: int,
    person_id: Annotated[int, Form()],
    expected_version: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
    effective: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Cancel the permit from a date, with a reason (left the city, issued in error)."""
    with page(request) as p:

        def write() -> Response:
            data = PermitCancel.model_validate(
                {
                    "expected_version": expected_version,
                    "reason": reason.strip(),
                    "effective": effective or None,
                }
            )
            permits.cancel_permit(p.session, p.ctx, permit_id, data)
            return redirect(f"/web/persons/{person_id}/permits", flash="permit_cancelled")

        return attempt(p, write, lambda errors: _page(request, p, person_id, errors))
