"""Collector pages (mobile first): my area → streets and buildings → a building's dwellings → the visit."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling, VisitCreate
from liangshi.common.idnumber import check_id_number, parse_id_number, region_name
from liangshi.common.types import validation_context
from liangshi.errors import LiangshiError
from liangshi.persons import service as persons
from liangshi.persons.schemas import PersonCorrect
from liangshi.residence import service as residence
from liangshi.residence.schemas import DepartureIn
from liangshi.review import service as review
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

register_flash("visit_saved", N_("Visit saved."))
register_flash("visit_replayed", N_("This visit was already saved; it is stored once."))
register_flash("person_added", N_("Person submitted: they count once the station approves them."))
register_flash("departed", N_("Departure submitted for review."))
register_flash("corrected", N_("Correction submitted for review."))

CORRECTABLE = ("name", "phone", "occupation", "workplace", "hukou_address")


def _dwelling_header(p: Page, dwelling_id: int) -> dict[str, Any]:
    snap = registry.read(p.session, p.ctx, buildings.DWELLING, dwelling_id)
    address = buildings.describe_dwelling(p.session, dwelling_id, p.ctx.today)
    return {"dwelling": snap, "address": address, "building_id": snap.entity.building_id}


@router.get("/collect")
def my_area(request: Request, area_id: int | None = None) -> Response:
    """The collector's area: its streets and buildings in plate order, with visit status."""
    with page(request) as p:
        target = area_id or p.ctx.actor.area_id
        streets = buildings.buildings_in_area(p.session, p.ctx, target)
        total = sum(len(s["buildings"]) for s in streets)
        visited = sum(1 for s in streets for b in s["buildings"] if b["visit_status"] == "visited")
        return render(request, "collect/area.html", p, streets=streets, total=total, visited=visited)


@router.get("/collect/buildings/{building_id}")
def building_dwellings(request: Request, building_id: int) -> Response:
    """A building's dwellings by unit and floor, with status and the last visit's outcome."""
    with page(request) as p:
        grid = buildings.grid(p.session, p.ctx, building_id, None)
        snap = registry.read(p.session, p.ctx, buildings.BUILDING, building_id)
        ids = [room["dwelling_id"] for u in grid["units"] for f in u["floors"] for room in f["rooms"]]
        last = campaign.last_outcomes(p.session, ids)
        return render(request, "collect/building.html", p, grid=grid, building=snap, last=last)


def _visit_page(
    request: Request, p: Page, dwelling_id: int, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    head = _dwelling_header(p, dwelling_id)
    occupants = residence.occupants(p.session, p.ctx, dwelling_id, None)
    visits = campaign.visits_of(p.session, p.ctx, dwelling_id, limit=10)
    return render(
        request,
        "collect/dwelling.html",
        p,
        status=status,
        occupants=occupants["occupants"],
        visits=visits,
        key=uuid.uuid4().hex,
        errors=errors or {},
        **head,
    )


@router.get("/collect/dwellings/{dwelling_id}")
def visit_form(request: Request, dwelling_id: int) -> Response:
    """The visit of a dwelling: occupancy found, the persons living there, add / correct / departed."""
    with page(request) as p:
        return _visit_page(request, p, dwelling_id)


@router.post("/collect/dwellings/{dwelling_id}/visits")
def save_visit(
    request: Request,
    dwelling_id: int,
    outcome: Annotated[str, Form(max_length=20)] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    confirmed: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """Save the visit once per idempotency key (a double tap or a retry stores nothing new)."""
    with page(request) as p:
        try:
            data = VisitCreate.model_validate(
                {
                    "outcome": outcome,
                    "idempotency_key": idempotency_key,
                    "note": note.strip() or None,
                    "confirmed_person_ids": confirmed or [],
                }
            )
            visit = campaign.record_visit(
                p.session, p.ctx, dwelling_id, data, policy=review.policy_of(request.app.state.settings)
            )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            return _visit_page(request, p, dwelling_id, errors=form_errors(exc, p.lang), status=422)
        dwelling = registry.get_entity(p.session, buildings.DWELLING, dwelling_id, p.ctx.actor)
        return redirect(
            f"/web/collect/buildings/{dwelling.building_id}",
            flash="visit_replayed" if visit.replayed else "visit_saved",
        )


def _person_form(
    request: Request,
    p: Page,
    dwelling_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    returned: Any = None,
) -> Response:
    head = _dwelling_header(p, dwelling_id)
    defaults = {"arrival_date": p.ctx.today.isoformat(), "category": "resident"}
    return render(
        request,
        "collect/person_new.html",
        p,
        status=status,
        values={**defaults, **(values or {})},
        errors=errors or {},
        returned=returned,
        **head,
    )


def _returned(p: Page, change_set_id: int | None) -> Any:
    """The collector's own returned change set being fixed (its typed values and the reviewer's reason)."""
    if change_set_id is None:
        return None
    return review.returned_change_set(p.session, p.ctx, change_set_id)


@router.get("/collect/dwellings/{dwelling_id}/persons/new")
def new_person(request: Request, dwelling_id: int, change_set: int | None = None) -> Response:
    """Add a person living at the dwelling (ID number checked as you type); `change_set` fixes a returned one."""
    with page(request) as p:
        p.ctx.actor.ensure("residence.write")
        returned = _returned(p, change_set)
        values = None
        if returned is not None:
            typed = review.payload_of(returned)
            values = {k: ("" if v is None else str(v)) for k, v in typed.items() if k != "dwelling_id"}
        return _person_form(request, p, dwelling_id, values=values, returned=returned)


@router.post("/collect/dwellings/{dwelling_id}/persons")
def add_person(
    request: Request,
    dwelling_id: int,
    name: Annotated[str, Form(max_length=60)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    sex: Annotated[str, Form(max_length=2)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
    category: Annotated[str, Form(max_length=20)] = "resident",
    arrival_date: Annotated[str, Form(max_length=10)] = "",
    change_set_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Submit the person (or the one holding the ID number) and their arrival at this dwelling for review."""
    values = {
        "name": name,
        "id_number": id_number,
        "sex": sex,
        "birth_date": birth_date,
        "phone": phone,
        "category": category,
        "arrival_date": arrival_date,
    }
    with page(request) as p:
        try:
            data = PersonAtDwelling.model_validate(
                {k: (v.strip() or None) for k, v in values.items()}, context=validation_context(p.ctx.today)
            )
            campaign.add_person_at_dwelling(
                p.session,
                p.ctx,
                dwelling_id,
                data,
                change_set_id=change_set_id,
                policy=review.policy_of(request.app.state.settings),
            )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            returned = _returned(p, change_set_id)
            return _person_form(
                request,
                p,
                dwelling_id,
                values=values,
                errors=form_errors(exc, p.lang),
                status=422,
                returned=returned,
            )
        return redirect(f"/web/collect/dwellings/{dwelling_id}", flash="person_added")


@router.post("/collect/idcheck")
def id_check(request: Request, id_number: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Validation as you type (htmx): the ID number's verdict, and birth date and sex filled in from it."""
    with page(request) as p:
        text = id_number.strip()
        result = check_id_number(text, today=p.ctx.today) if text else None
        message = None
        if result is not None and not result.valid:
            try:
                parse_id_number(text, today=p.ctx.today)
            except LiangshiError as exc:
                message = exc.message(i18n.short(p.lang))
        region = region_name(result.region) if result is not None and result.region else None
        return render(
            request, "collect/_idcheck.html", p, result=result, message=message, typed=text, region=region
        )


@router.get("/collect/residences/{residence_id}/departure")
def departure_form(request: Request, residence_id: int, change_set: int | None = None) -> Response:
    """Mark a person departed (人走注销): date, reason, destination; `change_set` fixes a returned one."""
    with page(request) as p:
        returned = _returned(p, change_set)
        values = None
        if returned is not None:
            typed = review.payload_of(returned)
            values = {k: typed.get(k) or "" for k in ("departure_date", "reason", "destination")}
        return _departure_page(request, p, residence_id, values=values, returned=returned)


def _departure_page(
    request: Request,
    p: Page,
    residence_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    returned: Any = None,
) -> Response:
    snap = registry.read(p.session, p.ctx, residence.RESIDENCE, residence_id)
    name = persons.names_on(p.session, [snap.entity.person_id], p.ctx.today).get(snap.entity.person_id)
    head = _dwelling_header(p, snap.entity.dwelling_id)
    return render(
        request,
        "collect/departure.html",
        p,
        status=status,
        res=snap,
        name=name,
        values={"departure_date": p.ctx.today.isoformat(), **(values or {})},
        errors=errors or {},
        returned=returned,
        **head,
    )


@router.post("/collect/residences/{residence_id}/departure")
def depart(
    request: Request,
    residence_id: int,
    expected_version: Annotated[int, Form()],
    departure_date: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=30)] = "",
    destination: Annotated[str, Form(max_length=200)] = "",
    change_set_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Submit the departure for review (deregistered once approved)."""
    values = {"departure_date": departure_date, "reason": reason, "destination": destination}
    with page(request) as p:
        try:
            data = DepartureIn.model_validate(
                {
                    "expected_version": expected_version,
                    "departure_date": departure_date or None,
                    "reason": reason or None,
                    "destination": destination.strip() or None,
                }
            )
            campaign.propose_departure(
                p.session,
                p.ctx,
                residence_id,
                data,
                change_set_id=change_set_id,
                policy=review.policy_of(request.app.state.settings),
            )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            return _departure_page(
                request,
                p,
                residence_id,
                values=values,
                errors=form_errors(exc, p.lang),
                status=422,
                returned=_returned(p, change_set_id),
            )
        snap = registry.read(p.session, p.ctx, residence.RESIDENCE, residence_id)
        return redirect(f"/web/collect/dwellings/{snap.entity.dwelling_id}", flash="departed")


def _correction_page(
    request: Request,
    p: Page,
    person_id: int,
    dwelling_id: int | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    returned: Any = None,
) -> Response:
    snap = registry.read(p.session, p.ctx, persons.PERSON, person_id)
    current = {k: getattr(snap.row, k) or "" for k in CORRECTABLE}
    return render(
        request,
        "collect/correction.html",
        p,
        status=status,
        person=snap,
        dwelling_id=dwelling_id,
        values={**current, **(values or {})},
        errors=errors or {},
        returned=returned,
    )


@router.get("/collect/persons/{person_id}/correction")
def correction_form(
    request: Request, person_id: int, dwelling_id: int | None = None, change_set: int | None = None
) -> Response:
    """Correct a person's recorded items (a wrong value; the old one stays in history); `change_set` fixes a
    returned correction."""
    with page(request) as p:
        p.ctx.actor.ensure("person.write")
        returned = _returned(p, change_set)
        values = None
        if returned is not None:
            typed = review.payload_of(returned)
            values = {k: typed[k] or "" for k in CORRECTABLE if k in typed}
            values["reason"] = typed.get("reason") or ""
        return _correction_page(request, p, person_id, dwelling_id, values=values, returned=returned)


@router.post("/collect/persons/{person_id}/correction")
def correct(
    request: Request,
    person_id: int,
    expected_version: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
    name: Annotated[str, Form(max_length=60)] = "",
    phone: Annotated[str, Form(max_length=30)] = "",
    occupation: Annotated[str, Form(max_length=100)] = "",
    workplace: Annotated[str, Form(max_length=200)] = "",
    hukou_address: Annotated[str, Form(max_length=200)] = "",
    dwelling_id: Annotated[int | None, Form()] = None,
    change_set_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Submit the correction for review (validated as POST /persons/{id}/corrections is; written once approved)."""
    typed = {
        "name": name,
        "phone": phone,
        "occupation": occupation,
        "workplace": workplace,
        "hukou_address": hukou_address,
    }
    with page(request) as p:
        try:
            current = registry.read(p.session, p.ctx, persons.PERSON, person_id)
            changed = {
                k: v.strip() or None
                for k, v in typed.items()
                if (v.strip() or None) != getattr(current.row, k)
            }
            body = PersonCorrect.model_validate(
                {"expected_version": expected_version, "reason": reason.strip() or None, **changed},
                context=validation_context(p.ctx.today),
            )
            changes = body.model_dump(exclude_unset=True, include=set(persons.PERSON.attributes))
            campaign.propose_correction(
                p.session,
                p.ctx,
                person_id,
                changes,
                expected_version=body.expected_version,
                reason=body.reason,
                prov=body.provenance.to_domain(p.ctx.actor.username),
                change_set_id=change_set_id,
                policy=review.policy_of(request.app.state.settings),
            )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            return _correction_page(
                request,
                p,
                person_id,
                dwelling_id,
                values=typed,
                errors=form_errors(exc, p.lang),
                status=422,
                returned=_returned(p, change_set_id),
            )
        target = f"/web/collect/dwellings/{dwelling_id}" if dwelling_id else f"/web/persons/{person_id}"
        return redirect(target, flash="corrected")
