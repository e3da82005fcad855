"""Streets and door plates in the web (街路巷、门牌): the streets of the jurisdiction, naming a street and
renaming it from a date (its former names kept), and a plate's steps along its lifecycle (assigned → made →
installed → retired) or a damage report; over the addresses service (jurisdiction, history, audit unchanged)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.addresses.models import Address
from liangshi.addresses.rules import PLATE_LIFECYCLE
from liangshi.addresses.schemas import AddressPatch, StreetCreate, StreetPatch
from liangshi.areas import service as areas
from liangshi.web.forms import Field, attempt, blank_none, form_page, values_of
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/streets", N_("Streets"), "street.read", order=40))
register_flash("street_saved", N_("Street saved."))
register_flash("plate_changed", N_("Plate status changed."))
register_flash("plate_damaged", N_("Damage reported: the plate is flagged for replacement."))

STREET_TYPES = {
    t: t for t in ("路", "街", "巷", "大道", "道", "大街", "胡同", "弄", "里", "村道", "湾", "组")
}
# Sub-numbers as written on the plates (examples, not words to translate).
STYLES = {"dash": "12-1", "fu": "12附1", "zhiyi": "12之1", "jia": "12甲"}
NAME_FIELDS = [
    Field("name", N_("Street name"), required=True, attrs={"maxlength": "50"}),
    Field("street_type", N_("Street type"), "select", required=True, options=STREET_TYPES, translate=False),
]
STREET_FIELDS = [
    *NAME_FIELDS,
    Field("numbering_style", N_("Numbering style"), "select", required=True, options=STYLES, translate=False),
    Field("start_description", N_("Starts at"), attrs={"maxlength": "200"}),
]
RENAME_FIELDS = [
    *NAME_FIELDS,
    Field("effective", N_("Effective from (empty: today)"), "date"),
    Field("reason", N_("Reason (e.g. the naming decision's number)"), attrs={"maxlength": "500"}),
]


def plate_steps(status: str) -> tuple[str, ...]:
    """The statuses a plate may move to from `status` (the plate lifecycle table)."""
    return tuple(PLATE_LIFECYCLE.table.get(status, ()))


def plate_versions(p: Page, address_ids: list[int]) -> dict[int, int]:
    """The current version of each plate (the expected version of its status forms)."""
    return {
        int(a.id): int(a.version)
        for a in p.session.execute(select(Address).where(Address.id.in_(address_ids))).scalars()
    }


@router.get("/streets")
def streets(request: Request) -> Response:
    """The streets the user may see (those of their district), each linking to its plates."""
    with page(request) as p:
        p.ctx.actor.ensure("street.read")
        found = registry.search(p.session, p.ctx, addresses.STREET, offset=0, limit=500)
        names = areas.names_of(p.session, {s.entity.area_id for s in found.items}, p.ctx.today)
        return render(
            request,
            "streets.html",
            p,
            streets=sorted(found.items, key=lambda s: s.row.name),
            total=found.total,
            area_names=names,
        )


def _districts(p: Page) -> dict[str, str]:
    own = areas.by_id(p.session, p.ctx.actor.area_id)
    assert own is not None
    choices = {str(own.id): p.area_name}
    for child, name in areas.children_of(p.session, own.id, p.ctx.today):
        choices[str(child.id)] = name
    return choices


def _new_form(request: Request, p: Page, values: dict[str, Any], errors: Any = None) -> Response:
    fields = [
        Field("area_id", N_("District"), "select", True, _districts(p), translate=False),
        *STREET_FIELDS,
    ]
    return form_page(
        request,
        p,
        title=N_("Name a street"),
        action="/web/streets",
        fields=fields,
        values=values,
        submit=N_("Save"),
        testid="street-form",
        back=("/web/streets", p.gettext("Streets")),
        errors=errors,
        status=422 if errors else 200,
    )


@router.get("/areas/{area_id}/streets/new")
def new_street(request: Request, area_id: int) -> Response:
    """The form: a new street in a district (民政 names 街路巷 at district level)."""
    with page(request) as p:
        p.ctx.actor.ensure("street.write")
        return _new_form(request, p, {"area_id": str(area_id), "numbering_style": "dash"})


@router.post("/streets")
async def create_street(request: Request) -> Response:
    """Name the street; then its page."""
    values = values_of(await request.form(), [Field("area_id", ""), *STREET_FIELDS])
    with page(request) as p:

        def write() -> Response:
            snap = addresses.create_street(p.session, p.ctx, StreetCreate.model_validate(blank_none(values)))
            return redirect(f"/web/streets/{snap.entity.id}", flash="street_saved")

        return attempt(p, write, lambda errors: _new_form(request, p, values, errors))


def _rename_form(
    request: Request, p: Page, street_id: int, values: dict[str, Any] | None, errors: Any = None
) -> Response:
    snap = registry.read(p.session, p.ctx, addresses.STREET, street_id)
    _entity, rows = registry.versions(p.session, p.ctx, addresses.STREET, street_id)
    current = {"name": snap.row.name, "street_type": snap.row.street_type}
    former = [
        r for r in rows if r.superseded_at is None and r.valid_to is not None and r.name != snap.row.name
    ]
    return render(
        request,
        "street_rename.html",
        p,
        status=422 if errors else 200,
        street=snap,
        former=sorted(former, key=lambda r: r.valid_from),
        fields=RENAME_FIELDS,
        values=values if values is not None else current,
        errors=errors or {},
    )


@router.get("/streets/{street_id}/rename")
def rename_form(request: Request, street_id: int) -> Response:
    """The form: a new name from a date; the street's former names below."""
    with page(request) as p:
        p.ctx.actor.ensure("street.write")
        return _rename_form(request, p, street_id, None)


@router.post("/streets/{street_id}/rename")
async def rename(request: Request, street_id: int) -> Response:
    """Rename the street from the date (a new version; the old name stays in its history)."""
    form = await request.form()
    values = values_of(form, RENAME_FIELDS)
    with page(request) as p:

        def write() -> Response:
            data = StreetPatch.model_validate(
                {
                    "expected_version": str(form.get("expected_version") or ""),
                    **blank_none(values, RENAME_FIELDS),
                }
            )
            addresses.change_street(p.session, p.ctx, street_id, data)
            return redirect(f"/web/streets/{street_id}", flash="street_saved")

        return attempt(p, write, lambda errors: _rename_form(request, p, street_id, values, errors))


def _street_of_plate(p: Page, address_id: int) -> int:
    return int(registry.get_entity(p.session, addresses.ADDRESS, address_id, p.ctx.actor).street_id)


@router.post("/addresses/{address_id}/status")
async def plate_status(request: Request, address_id: int) -> Response:
    """Move a plate one step along its lifecycle (a refused step is named with its from and to)."""
    form = await request.form()
    with page(request) as p:
        data = AddressPatch.model_validate(
            {
                "expected_version": str(form.get("expected_version") or ""),
                "status": str(form.get("status") or ""),
                "effective": str(form.get("effective") or "") or None,
                "reason": str(form.get("reason") or "").strip() or None,
            }
        )
        addresses.change_address(p.session, p.ctx, address_id, data)
        return redirect(f"/web/streets/{_street_of_plate(p, address_id)}", flash="plate_changed")


@router.post("/addresses/{address_id}/damage")
async def plate_damage(request: Request, address_id: int) -> Response:
    """Report a damaged plate: its status is flagged 存疑待查 with the reason until it is replaced."""
    form = await request.form()
    with page(request) as p:
        reason = str(form.get("reason") or "").strip() or p.gettext("Plate damaged, to be replaced")
        registry.flag(
            p.session,
            p.ctx,
            addresses.ADDRESS,
            address_id,
            attribute="status",
            reason=reason[:500],
            expected_version=int(str(form.get("expected_version") or "0") or 0),
        )
        return redirect(f"/web/streets/{_street_of_plate(p, address_id)}", flash="plate_damaged")
