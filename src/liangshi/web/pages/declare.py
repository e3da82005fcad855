"""A scanned QR door plate (二维码门牌): a collector lands on the building's page, anybody else on the public
self-declaration form (自主申报); the collectors' desk of declarations awaiting a visit (上门核录); plate sheets."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from liangshi.addresses import service as addresses
from liangshi.addresses.api import base_url, pdf_response
from liangshi.addresses.batch import MATCH_LEVEL_LABELS
from liangshi.buildings.models import Building
from liangshi.campaign import declarations
from liangshi.campaign.schemas import DeclarationIn
from liangshi.db import session_scope
from liangshi.errors import LiangshiError
from liangshi.residence.rules import CATEGORIES
from liangshi.review import service as review
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, render
from liangshi.web.session import PRE_CSRF_COOKIE, SESSION_COOKIE, LoginRequired, Page, page, pre_login_csrf

router = web_router()
# The short address a plate's QR code holds (`/q/<code>`), outside /web so that the code stays short.
public_router = APIRouter(include_in_schema=False)
add_nav(NavItem("/web/declarations", N_("Self-declarations"), "residence.write", order=46))

MAX_PERSONS = 6
# The form's fields as the page names them when one is wrong (the schema's own messages are English only).
FIELD_LABELS = {
    "kind": ("申报事项", "what happened"),
    "date": ("日期", "the date"),
    "room": ("楼栋、单元、房号", "building, unit and room"),
    "persons": ("姓名（至少填写申报人）", "the names (at least yours)"),
    "note": ("备注", "the note"),
}


@public_router.get("/q/{code}")
def scanned(code: str) -> Response:
    """A scanned plate: on to the page that decides what the scanner sees."""
    return RedirectResponse(f"/web/q/{quote(code[:30], safe='')}", status_code=303)


def _collector_target(p: Page, code: str) -> str | None:
    """Where a collector of the plate's area lands: its building (one), else the area's buildings."""
    plate = addresses.plate_by_code(p.session, code, p.ctx.today)
    if (
        plate is None
        or not p.may("residence.write")
        or not plate["area_path"].startswith(p.ctx.actor.area_path)
    ):
        return None
    ids = list(
        p.session.execute(select(Building.id).where(Building.address_id == plate["address_id"])).scalars()
    )
    if len(ids) == 1:
        return f"/web/collect/buildings/{ids[0]}"
    return f"/web/collect?area_id={plate['area_id']}"


def _form(request: Request, code: str, *, error: str | None = None, status: int = 200) -> Response:
    with session_scope(request.app.state.sessions) as session:
        plate = declarations.plate_for_scan(session, code, request.app.state.clock.today())
    token, fresh = pre_login_csrf(request)
    response = render(
        request,
        "declare/form.html",
        status=status,
        csrf_token=token,
        plate=plate,
        error=error,
        persons=range(MAX_PERSONS),
        today=request.app.state.clock.today().isoformat(),
    )
    if fresh:
        response.set_cookie(PRE_CSRF_COOKIE, token, path="/web", httponly=True, samesite="lax")
    return response


@router.get("/q/{code}")
def scan(request: Request, code: str) -> Response:
    """A collector of the plate's area goes to its building; anyone else gets the self-declaration form."""
    if request.cookies.get(SESSION_COOKIE):
        try:
            with page(request, purpose="二维码门牌") as p:
                target = _collector_target(p, code)
            if target is not None:
                return redirect(target)
        except LoginRequired:
            pass
    return _form(request, code)


@router.post("/q/{code}")
def declare(
    request: Request,
    code: str,
    kind: Annotated[str, Form(max_length=20)] = "",
    date: Annotated[str, Form(max_length=20)] = "",
    room: Annotated[str, Form(max_length=60)] = "",
    tenant: Annotated[str, Form(max_length=5)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[list[str] | None, Form(max_length=MAX_PERSONS)] = None,
    id_number: Annotated[list[str] | None, Form(max_length=MAX_PERSONS)] = None,
    phone: Annotated[list[str] | None, Form(max_length=MAX_PERSONS)] = None,
) -> Response:
    """Store the declaration for a collector's visit; the receipt shows the address and a reference only."""
    names, numbers, phones = name or [], id_number or [], phone or []
    persons = [
        {
            "name": n.strip(),
            "id_number": (numbers[i].strip() if i < len(numbers) else "") or None,
            "phone": (phones[i].strip() if i < len(phones) else "") or None,
        }
        for i, n in enumerate(names)
        if n.strip()
    ]
    lang = "en" if request.cookies.get("ls_lang") == "en" else "zh"
    clock = request.app.state.clock
    try:
        data = DeclarationIn.model_validate(
            {
                "kind": kind,
                "date": date or None,
                "room": room.strip() or None,
                "tenant": tenant == "on",
                "note": note.strip() or None,
                "persons": persons,
            }
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        zh, en = FIELD_LABELS.get(field, (field, field))
        message = f"Please check: {en}" if lang == "en" else f"请检查填写内容：{zh}"
        return _form(request, code, error=message, status=422)
    client = request.client.host if request.client else "unknown"
    try:
        with session_scope(request.app.state.sessions) as session:
            declarations.plate_for_scan(session, code, clock.today())
        declarations.limiter_of(request.app.state).take(
            client, code
        )  # its own transaction, shared by all workers
        with session_scope(request.app.state.sessions) as session:
            receipt = declarations.declare(
                session, code=code, data=data, now=clock.now(), today=clock.today()
            )
    except LiangshiError as exc:
        if exc.code == "declaration.plate_not_found":
            raise
        return _form(request, code, error=exc.message(lang), status=exc.http_status)
    return render(request, "declare/done.html", status=201, receipt=receipt)


def _desk(request: Request, p: Page, *, error: str | None = None, status: int = 200) -> Response:
    rows = declarations.declarations(p.session, p.ctx)
    places = {r["address_id"]: declarations.dwellings_at(p.session, p.ctx, r["address_id"]) for r in rows}
    residents = {
        r["id"]: declarations.residents_at(
            p.session, p.ctx, r["address_id"], [person["name"] for person in r["persons"]]
        )
        for r in rows
        if r["kind"] == "departure"
    }
    return render(
        request,
        "declare/desk.html",
        p,
        status=status,
        rows=rows,
        places=places,
        residents=residents,
        error=error,
        categories=CATEGORIES,
        match_levels=MATCH_LEVEL_LABELS,
    )


@router.get("/declarations")
def desk(request: Request) -> Response:
    """Self-declarations of the collector's area awaiting a visit, oldest first."""
    with page(request, purpose="上门核录") as p:
        return _desk(request, p)


@router.post("/declarations/{declaration_id}/arrival")
def verify_arrival(
    request: Request,
    declaration_id: int,
    dwelling_id: Annotated[int, Form()],
    category: Annotated[str, Form(max_length=20)] = "floating",
    sex: Annotated[list[str] | None, Form(max_length=MAX_PERSONS)] = None,
) -> Response:
    """Verified at the door as declared: each person proposed at the dwelling for the station's review."""
    with page(request, purpose="上门核录") as p:
        policy = review.policy_of(request.app.state.settings)
        declarations.verify_arrival_as_declared(
            p.session,
            p.ctx,
            declaration_id,
            dwelling_id=dwelling_id,
            category=category,
            sexes=sex or [],
            policy=policy,
        )
    return redirect("/web/declarations")


@router.post("/declarations/{declaration_id}/departure")
def verify_departure(
    request: Request,
    declaration_id: int,
    residence_id: Annotated[list[int] | None, Form(max_length=10)] = None,
    reason: Annotated[str, Form(max_length=30)] = "",
    destination: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Verified at the door: each resident ticked as gone proposed as a departure on the declared date (for the
    station's review); the declaration verified."""
    with page(request, purpose="上门核录") as p:
        try:
            declarations.verify_departure_as_declared(
                p.session,
                p.ctx,
                declaration_id,
                residence_ids=residence_id or [],
                reason=reason,
                destination=destination.strip() or None,
                policy=review.policy_of(request.app.state.settings),
            )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            message = "；".join(form_errors(exc, p.lang).values())
            return _desk(request, p, error=message, status=422)
    return redirect("/web/declarations")


@router.post("/declarations/{declaration_id}/decline")
def decline(
    request: Request, declaration_id: int, reason: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Close a declaration the visit found untrue."""
    with page(request, purpose="上门核录") as p:
        declarations.decline(p.session, p.ctx, declaration_id, reason.strip() or "上门核录不实")
    return redirect("/web/declarations")


@router.get("/areas/{area_id}/plates.pdf")
def area_sheet(request: Request, area_id: int) -> Response:
    """The printable QR plates of an area (a community or a street office)."""
    with page(request, purpose="门牌打印") as p:
        title, body = addresses.plate_sheet(p.session, p.ctx, base_url=base_url(request), area_id=area_id)
    return pdf_response(title, body, f"plates-area-{area_id}.pdf")


@router.get("/streets/{street_id}/plates.pdf")
def street_sheet(request: Request, street_id: int) -> Response:
    """The printable QR plates of a street."""
    with page(request, purpose="门牌打印") as p:
        title, body = addresses.plate_sheet(p.session, p.ctx, base_url=base_url(request), street_id=street_id)
    return pdf_response(title, body, f"plates-street-{street_id}.pdf")
