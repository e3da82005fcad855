"""The person page (查人知住): main and general items by name with their provenance, the households and each
member's relationship to the head, residence with 人走注销 in place, timeline, access log; any past date ("as of")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi import registry
from liangshi.common import codes
from liangshi.departments import service as departments
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.persons import rules as person_rules
from liangshi.persons import service as persons
from liangshi.residence import service as residence
from liangshi.residence.schemas import DepartureIn
from liangshi.review import service as review
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.pages import as_of, read_as_of, web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

register_flash("person_departed", N_("Departure recorded; the registration and any tenancy are closed."))

MAIN_ITEMS = person_rules.MAIN_ITEMS
GENERAL_ITEMS = person_rules.GENERAL_ITEMS
# Rentals let as landlord shown per page of the timeline (a landlord may let thousands of dwellings).
LET_PAGE = 20
HOUSEHOLD_KINDS = {"registered": N_("Registered household (hukou)"), "actual": N_("Actual living household")}


def _person_page(
    request: Request,
    p: Page,
    person_id: int,
    *,
    unmask_reason: str | None = None,
    on: dt.date | None = None,
    departure: dict[str, Any] | None = None,
    status: int = 200,
    let_offset: int = 0,
) -> Response:
    snap, not_yet = read_as_of(p, persons.PERSON, person_id, on)
    if snap.cut is None:
        documents = persons.documents_view(p.session, p.ctx, person_id, unmask_reason=unmask_reason)
        provenance = persons.provenance_of(p.session, p.ctx, person_id) if on is None else {}
        approvals = review.approvals_of(p.session, p.ctx, person_id) if on is None else []
    else:
        # A department reads only its agreement's fields: documents only if it names them, no version history.
        readable = bool(snap.cut.fields("document"))
        documents = (
            persons.documents_view(p.session, p.ctx, person_id, unmask_reason=None) if readable else []
        )
        provenance = {}
        approvals = []
    day = on or p.ctx.today
    lives: dict[str, Any] | None = None
    timeline: list[dict[str, Any]] = []
    let: dict[str, int] = {"total": 0, "offset": 0, "limit": LET_PAGE}
    if p.may("residence.read"):
        lives = residence.where_lives(p.session, p.ctx, person_id)
        found = residence.timeline(p.session, p.ctx, person_id, let_limit=LET_PAGE, let_offset=let_offset)
        timeline = found["events"]
        let = {"total": found["let_total"], "offset": found["let_offset"], "limit": LET_PAGE}
        if on is not None:
            # As of a past date: the residences valid that day (the history holds every one).
            lives["current"] = [
                r
                for r in lives["history"]
                if r["arrival_date"] <= day and (r["departure_date"] is None or r["departure_date"] > day)
            ]
    households: list[dict[str, Any]] = []
    if snap.cut is None and p.may("household.read"):
        households = persons.households_of(p.session, p.ctx, person_id, day)
    # Community-correction cases (社区矫正) only for those who handle them (`correction.read`), read audited.
    corrections: list[dict[str, Any]] | None = None
    if on is None and p.may("correction.read"):
        corrections = departments.person_cases(p.session, p.ctx, person_id)
    access: list[Any] = []
    access_total = 0
    if p.may("person.access_log"):
        access, access_total = persons.access_log(p.session, p.ctx, person_id, limit=50, offset=0)
    return render(
        request,
        "person.html",
        p,
        status=status,
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
        let=let,
        households=households,
        corrections=corrections,
        household_kinds=HOUSEHOLD_KINDS,
        relationships=codes.table("relationship").entries,
        access=access,
        access_total=access_total,
        on=on,
        not_yet=not_yet,
        day=day,
        today=p.ctx.today.isoformat(),
        departure=departure or {},
        may_deregister=on is None and p.may("residence.write"),
    )


@router.get("/persons/{person_id}")
def person(request: Request, person_id: int, on: str | None = None, let: int = 0) -> Response:
    """查人知住: who the person is, their household, where they live and lived, and who looked at the record; as
    of a past date with `?on=YYYY-MM-DD`; `let` pages the rentals let as landlord (20 a page, latest first)."""
    with page(request) as p:
        return _person_page(request, p, person_id, on=as_of(on), let_offset=max(0, let))


@router.post("/persons/{person_id}/residences/{residence_id}/departure")
def depart(
    request: Request,
    person_id: int,
    residence_id: int,
    expected_version: Annotated[int, Form()],
    departure_date: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=30)] = "",
    destination: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """人走注销 from the person page: the residence service closes the registration and the tenancy it carries."""
    values = {"departure_date": departure_date, "reason": reason, "destination": destination}
    with page(request) as p:
        snap = registry.read(p.session, p.ctx, residence.RESIDENCE, residence_id)
        if snap.entity.person_id != person_id:
            # A form posted for another person's residence (an edited URL): refused, nothing written.
            raise ValidationFailed(
                "residence.not_this_person",
                "该居住登记不属于此人",
                "The residence is not this person's",
                {"field": "residence_id"},
            )
        try:
            data = DepartureIn.model_validate(
                {
                    "expected_version": expected_version,
                    "departure_date": departure_date or None,
                    "reason": reason or None,
                    "destination": destination.strip() or None,
                }
            )
            residence.deregister_departure(p.session, p.ctx, residence_id, data)
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            errors = form_errors(exc, p.lang)
            return _person_page(
                request,
                p,
                person_id,
                departure={"residence_id": residence_id, "values": values, "errors": errors},
                status=422,
            )
        return redirect(f"/web/persons/{person_id}", flash="person_departed")


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
