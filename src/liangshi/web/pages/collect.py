"""Collector pages (mobile first): my area → streets and buildings → a building's dwellings → the visit."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.campaign import organisation, sync
from liangshi.campaign import rules as campaign_rules
from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling, SyncBatch, VisitCreate
from liangshi.common import codes
from liangshi.common.idnumber import DOCUMENT_TYPE_NAMES, check_id_number, parse_id_number, region_name
from liangshi.common.types import validation_context
from liangshi.errors import LiangshiError
from liangshi.persons import service as persons
from liangshi.persons.schemas import PersonCorrect
from liangshi.rentals import service as rentals
from liangshi.residence import service as residence
from liangshi.residence.schemas import DepartureIn
from liangshi.review import service as review
from liangshi.web import i18n, labels
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/collect/app", N_("Offline collection"), "collect.sync", order=11))
STATIC = Path(__file__).resolve().parents[1] / "static"

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
        # The collector's own open work with its yellow and red cards (the station sees them on the campaign).
        work = (
            organisation.assignments(p.session, p.ctx, collector_id=p.ctx.actor.user_id, status="open")
            if p.may("campaign.read") and p.ctx.actor.user_id is not None
            else []
        )
        return render(
            request,
            "collect/area.html",
            p,
            streets=streets,
            total=total,
            visited=visited,
            work=work,
            cards=campaign_rules.CARDS,
            units=campaign_rules.UNIT_KINDS,
            area_id=target,
        )


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
    households = (
        persons.households_at_dwelling(p.session, p.ctx, dwelling_id, p.ctx.today)
        if p.may("household.read")
        else []
    )
    return render(
        request,
        "collect/dwelling.html",
        p,
        status=status,
        households=households,
        occupants=occupants["occupants"],
        visits=visits,
        key=uuid.uuid4().hex,
        started_at=p.ctx.now.isoformat(),
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
    started_at: Annotated[str, Form(max_length=40)] = "",
    latitude: Annotated[str, Form(max_length=30)] = "",
    longitude: Annotated[str, Form(max_length=30)] = "",
    position_accuracy: Annotated[str, Form(max_length=30)] = "",
    household_id: Annotated[list[int] | None, Form()] = None,
    household_size: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Save the visit once per idempotency key (a double tap or a retry stores nothing new), with its paradata:
    when the form was opened and saved, the browser, and the position when the collector allowed it."""
    with page(request) as p:
        try:
            data = VisitCreate.model_validate(
                {
                    "outcome": outcome,
                    "idempotency_key": idempotency_key,
                    "note": note.strip() or None,
                    "confirmed_person_ids": confirmed or [],
                    "started_at": started_at or None,
                    "ended_at": p.ctx.now,
                    "device": (request.headers.get("user-agent") or "")[:300] or None,
                    "latitude": latitude or None,
                    "longitude": longitude or None,
                    "position_accuracy": position_accuracy or None,
                    # The size each household living here declares (住户不漏人); a blank one is not asked.
                    "household_sizes": [
                        {"household_id": h, "members": n.strip()}
                        for h, n in zip(household_id or [], household_size or [], strict=False)
                        if n.strip()
                    ],
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
    defaults = {"arrival_date": p.ctx.today.isoformat(), "category": "resident", "doc_type": "resident_id"}
    households = persons.households_at_dwelling(p.session, p.ctx, dwelling_id, p.ctx.today)
    rental = rentals.rental_of_dwelling(p.session, p.ctx, dwelling_id)
    return render(
        request,
        "collect/person_new.html",
        p,
        status=status,
        values={**defaults, **(values or {})},
        errors=errors or {},
        returned=returned,
        households=households,
        has_rental=rental is not None,
        code_tables=_code_tables(p.lang),
        **head,
    )


def _returned(p: Page, change_set_id: int | None) -> Any:
    """The collector's own returned change set being fixed (its typed values and the reviewer's reason)."""
    if change_set_id is None:
        return None
    return review.returned_change_set(p.session, p.ctx, change_set_id)


def _code_tables(lang: str) -> dict[str, dict[str, str]]:
    """The code tables of the complete form, code → name in the page language (the tables name in Chinese;
    English pages show the code beside it)."""
    zh = i18n.short(lang) == "zh"
    tables: dict[str, dict[str, str]] = {
        name: {c: (n if zh else f"{c} {n}") for c, n in codes.table(name).entries.items()}
        for name in ("ethnicity", "education", "marital_status", "relationship", "stay_reason")
    }
    tables["doc_type"] = {k: (v[0] if zh else v[1]) for k, v in DOCUMENT_TYPE_NAMES.items()}
    return tables


@router.get("/collect/dwellings/{dwelling_id}/persons/new")
def new_person(request: Request, dwelling_id: int, change_set: int | None = None) -> Response:
    """Add a person living at the dwelling (ID number checked as you type); `change_set` fixes a returned one."""
    with page(request) as p:
        p.ctx.actor.ensure("residence.write")
        returned = _returned(p, change_set)
        values = None
        if returned is not None:
            typed = review.payload_of(returned)
            skip = {"dwelling_id", "household", "tenant"}
            values = {k: ("" if v is None else str(v)) for k, v in typed.items() if k not in skip}
            # The complete form's household choice and tenant box, as the form sends them.
            choice = typed.get("household")
            if isinstance(choice, dict):
                joined = choice.get("mode") == "join"
                values["household"] = str(choice.get("household_id")) if joined else "new"
                values["relationship"] = str(choice.get("relationship") or "")
            if typed.get("tenant"):
                values["tenant"] = "on"
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
    doc_type: Annotated[str, Form(max_length=30)] = "resident_id",
    country: Annotated[str, Form(max_length=10)] = "",
    ethnicity: Annotated[str, Form(max_length=4)] = "",
    hukou_region: Annotated[str, Form(max_length=12)] = "",
    hukou_address: Annotated[str, Form(max_length=200)] = "",
    education: Annotated[str, Form(max_length=4)] = "",
    marital_status: Annotated[str, Form(max_length=4)] = "",
    occupation: Annotated[str, Form(max_length=100)] = "",
    workplace: Annotated[str, Form(max_length=200)] = "",
    intended_stay_until: Annotated[str, Form(max_length=10)] = "",
    stay_reason: Annotated[str, Form(max_length=4)] = "",
    household: Annotated[str, Form(max_length=20)] = "",
    relationship: Annotated[str, Form(max_length=4)] = "",
    tenant: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Submit the person (or the one holding the ID number), their arrival at this dwelling, their household
    and, for a tenant, their link to the dwelling's rental (the complete form) for review."""
    values = {
        "name": name,
        "id_number": id_number,
        "sex": sex,
        "birth_date": birth_date,
        "phone": phone,
        "category": category,
        "arrival_date": arrival_date,
        "doc_type": doc_type,
        "country": country,
        "ethnicity": ethnicity,
        "hukou_region": hukou_region,
        "hukou_address": hukou_address,
        "education": education,
        "marital_status": marital_status,
        "occupation": occupation,
        "workplace": workplace,
        "intended_stay_until": intended_stay_until,
        "stay_reason": stay_reason,
    }
    with page(request) as p:
        try:
            fields: dict[str, Any] = {k: (v.strip() or None) for k, v in values.items()}
            fields["doc_type"] = fields["doc_type"] or "resident_id"
            if household:
                create = household == "new"
                fields["household"] = {
                    "mode": "create" if create else "join",
                    "household_id": None if create else household,
                    "relationship": relationship or ("02" if create else ""),
                }
            fields["tenant"] = tenant == "on"
            data = PersonAtDwelling.model_validate(fields, context=validation_context(p.ctx.today))
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
            kept = {**values, "household": household, "relationship": relationship, "tenant": tenant}
            returned = _returned(p, change_set_id)
            return _person_form(
                request,
                p,
                dwelling_id,
                values=kept,
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


# The offline app (PWA): its shell, its service worker and manifest, the work download and the outbox sync.


@router.get("/collect/app")
def offline_app(request: Request) -> Response:
    """The offline collection app (离线采集): works from the downloaded work, keeps an outbox, syncs when online."""
    with page(request) as p:
        p.ctx.actor.ensure("collect.sync")
        texts = {k: p.gettext(v) for k, v in APP_TEXTS.items()}
        vocab = {
            "outcomes": {k: p.gettext(v) for k, v in labels.OUTCOMES.items()},
            "dwelling_status": {k: p.gettext(v) for k, v in labels.DWELLING_STATUS.items()},
            "visit_status": {k: p.gettext(v) for k, v in labels.VISIT_STATUS.items()},
            "categories": {k: p.gettext(v) for k, v in labels.CATEGORIES.items()},
            "sex": {k: p.gettext(v) for k, v in labels.SEX.items()},
            **_code_tables(p.lang),
        }
        config = {"texts": texts, "labels": vocab, "lang": i18n.short(p.lang), "user": p.user.username}
        return render(request, "collect/app.html", p, config=json.dumps(config, ensure_ascii=False))


@router.get("/collect/work.json")
def work_json(request: Request) -> Response:
    """The work of the collector's area for offline use (masked as the role requires; the read is logged)."""
    with page(request) as p:
        return JSONResponse(sync.work_for(p.session, p.ctx))


@router.post("/collect/sync")
def sync_outbox(request: Request, body: SyncBatch) -> Response:
    """Sync the phone's outbox (the same use case as POST /sync): one result per item, committed in parts."""
    parts = []
    policy = review.policy_of(request.app.state.settings)
    for offset, part in sync.chunks(body.items):
        with page(request) as p:
            parts.append(sync.sync_outbox(p.session, p.ctx, part, offset=offset, policy=policy))
    return JSONResponse(sync.merged(parts).model_dump(mode="json"))


@router.get("/collect/sw.js")
def service_worker() -> Response:
    """The service worker, served from /web/collect/ so that its scope covers the collector's pages."""
    return Response(
        (STATIC / "collect-sw.js").read_text(encoding="utf-8"),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/collect/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """The web app manifest: installable on the phone's home screen, opening the offline app."""
    lang = i18n.short(i18n.language(request))
    name = "liangshi collection" if lang == "en" else "两实入户采集"
    body = {
        "name": name,
        "short_name": "Collect" if lang == "en" else "入户采集",
        "start_url": "/web/collect/app",
        "scope": "/web/collect/",
        "display": "standalone",
        "background_color": "#f5f6f8",
        "theme_color": "#b3261e",
        "lang": "en" if lang == "en" else "zh-CN",
        "icons": [
            {"src": f"/web/static/icons/collect-{n}.png", "sizes": f"{n}x{n}", "type": "image/png"}
            for n in (192, 512)
        ]
        + [{"src": "/web/static/icons/collect.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")


APP_TEXTS = {
    "download": N_("Download my work"),
    "downloaded": N_("Work downloaded"),
    "no_work": N_("No work downloaded yet. Download it while online."),
    "online": N_("Online"),
    "offline": N_("Offline"),
    "outbox": N_("Outbox"),
    "sync": N_("Sync now"),
    "waiting": N_("Waiting"),
    # Stored on the server as a change set: it counts once the station approves it.
    "sent": N_("Sent for review"),
    "refused": N_("Sent back"),
    "conflict": N_("Conflict with the server"),
    "send_as_is": N_("Send as is"),
    "edit": N_("Edit and resend"),
    "server_has": N_("The server now has"),
    "save_visit": N_("Save visit"),
    "save_person": N_("Save person"),
    "saved_offline": N_("Saved in the outbox."),
    "visit": N_("Visit"),
    "person": N_("Person"),
    "room": N_("Room"),
    "back": N_("Back"),
    "add_person": N_("Add a person"),
    "occupancy": N_("Occupancy found"),
    "occupants": N_("Persons living here"),
    "household_size": N_("Household size"),
    "note": N_("Note"),
    "name": N_("Name"),
    "doc_type": N_("Document type"),
    "id_number": N_("ID number"),
    "country": N_("Issuing country (GB/T 2659)"),
    "sex": N_("Sex"),
    "birth_date": N_("Birth date"),
    "ethnicity": N_("Ethnicity"),
    "hukou_region": N_("Hukou region"),
    "hukou_address": N_("Hukou address"),
    "education": N_("Education"),
    "marital_status": N_("Marital status"),
    "stay_reason": N_("Reason for stay"),
    "occupation": N_("Occupation"),
    "workplace": N_("Workplace"),
    "phone": N_("Phone"),
    "category": N_("Category"),
    "arrival_date": N_("Arrival date"),
    "intended_stay": N_("Intended stay until"),
    "household": N_("Household"),
    "no_household": N_("No household"),
    "new_household": N_("New household (this person is the head)"),
    "relationship": N_("Relationship to the head"),
    "tenant": N_("Tenant of this dwelling's rental"),
    "id_valid": N_("Valid ID number"),
    "id_invalid": N_("The ID number's check character does not match"),
    "use_position": N_("Record my position"),
    "my_area": N_("My area"),
    "items": N_("items"),
    # A move, document, member or birth typed offline: proposed for review on sync (issue 14).
    "k_move": N_("Move within the city"),
    "k_document": N_("New document of a person"),
    "k_member": N_("New member of a household"),
    "k_birth": N_("Birth"),
    "move_date": N_("Move date"),
    "move_to": N_("New dwelling"),
    "doc_number": N_("Document number"),
    "valid_from": N_("Valid from"),
    "effective": N_("From (default today)"),
    "resident_id": N_("Resident ID number (if already issued)"),
    "save_outbox": N_("Save in the outbox"),
}
