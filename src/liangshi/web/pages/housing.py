"""Buildings and dwellings in the web (楼栋、房屋): record a building on a door plate, a dwelling in a building,
and change their facts and statuses from a date; over the buildings service and the registry's change path
(jurisdiction, history and audit unchanged). Linked from the street page, the building grid and the dwelling."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, BuildingPatch, DwellingCreate, DwellingPatch
from liangshi.rentals import service as rentals
from liangshi.rentals.models import RentalVersion
from liangshi.web.forms import Field, attempt, blank_none, change, form_page, values_of
from liangshi.web.i18n import N_
from liangshi.web.labels import DWELLING_STATUS, VISIT_STATUS
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/rentals", N_("Rentals"), "rental.write", order=38))
register_flash("building_saved", N_("Building saved."))
register_flash("dwelling_saved", N_("Dwelling saved."))

BUILDING_USES = {
    "residential": N_("Residential"),
    "commercial": N_("Commercial"),
    "office": N_("Office"),
    "mixed": N_("Mixed use"),
    "industrial": N_("Industrial"),
    "public": N_("Public building"),
    "key_unit": N_("Key unit"),
    "other": N_("Other"),
}
DWELLING_USES = {
    "residential": N_("Residential"),
    "shop": N_("Shop"),
    "office": N_("Office"),
    "collective": N_("Collective housing"),
    "key_unit": N_("Key unit"),
    "other": N_("Other"),
}
BUILDING_FIELDS = [
    Field("label", N_("Building label (as on its plate)"), required=True, attrs={"maxlength": "30"}),
    Field("floors_above", N_("Floors above ground"), "number", attrs={"min": "1", "max": "200"}),
    Field("floors_below", N_("Floors below ground"), "number", attrs={"min": "0", "max": "20"}),
    Field("units", N_("Entrances (units)"), "number", attrs={"min": "1", "max": "50"}),
    Field("use", N_("Use"), "select", required=True, options=BUILDING_USES),
    Field("structure", N_("Structure"), attrs={"maxlength": "20"}),
    Field("year_built", N_("Year built"), "number", attrs={"min": "1000", "max": "2100"}),
]
DWELLING_FIELDS = [
    Field("unit", N_("Entrance (unit)"), "number", attrs={"min": "1", "max": "50"}),
    Field("floor", N_("Floor"), "number", attrs={"min": "-5", "max": "200"}),
    Field("room", N_("Room"), required=True, attrs={"maxlength": "20"}),
    Field("use", N_("Use"), "select", required=True, options=DWELLING_USES),
    Field("status", N_("Status"), "select", required=True, options=DWELLING_STATUS),
    Field("floor_area_m2", N_("Floor area (m²)"), "number", attrs={"min": "0", "step": "any"}),
    Field("owner_name", N_("Owner"), attrs={"maxlength": "100"}),
]
_EFFECTIVE = Field("effective", N_("Effective from (empty: today)"), "date")
_REASON = Field("reason", N_("Reason"), attrs={"maxlength": "500"})
_VISIT = Field("visit_status", N_("Visit status"), "select", required=True, options=VISIT_STATUS)


def _plate_text(p: Page, address_id: int) -> str:
    return str(addresses.describe(p.session, address_id, p.ctx.today).get("text") or "")


# ---- buildings -----------------------------------------------------------------------------------------------


@router.get("/addresses/{address_id}/buildings/new")
def new_building(request: Request, address_id: int) -> Response:
    """The form: a building on this door plate."""
    with page(request) as p:
        p.ctx.actor.ensure("building.write")
        registry.get_entity(p.session, addresses.ADDRESS, address_id, p.ctx.actor)
        return _building_form(request, p, address_id, {"use": "residential"})


def _building_form(
    request: Request, p: Page, address_id: int, values: dict[str, Any], errors: Any = None, status: int = 200
) -> Response:
    return form_page(
        request,
        p,
        title=N_("Record a building"),
        action=f"/web/addresses/{address_id}/buildings",
        fields=BUILDING_FIELDS,
        values=values,
        submit=N_("Save"),
        testid="building-form",
        back=(f"/web/streets/{_street_of(p, address_id)}", _plate_text(p, address_id)),
        errors=errors,
        status=status,
    )


def _street_of(p: Page, address_id: int) -> int:
    return int(registry.get_entity(p.session, addresses.ADDRESS, address_id, p.ctx.actor).street_id)


@router.post("/addresses/{address_id}/buildings")
async def create_building(request: Request, address_id: int) -> Response:
    """Record the building; then its grid."""
    values = values_of(await request.form(), BUILDING_FIELDS)
    with page(request) as p:

        def write() -> Response:
            data = BuildingCreate.model_validate({"address_id": address_id, **blank_none(values)})
            snap = buildings.create_building(p.session, p.ctx, data)
            return redirect(f"/web/buildings/{snap.entity.id}/grid", flash="building_saved")

        return attempt(
            p, write, lambda errors: _building_form(request, p, address_id, values, errors, status=422)
        )


def _building_edit(
    request: Request, p: Page, building_id: int, values: dict[str, Any] | None, errors: Any = None
) -> Response:
    snap = registry.read(p.session, p.ctx, buildings.BUILDING, building_id)
    current = {k: getattr(snap.row, k) for k in (*(f.name for f in BUILDING_FIELDS), "visit_status")}
    return form_page(
        request,
        p,
        title=N_("Change the building"),
        action=f"/web/buildings/{building_id}",
        fields=[*BUILDING_FIELDS, _VISIT, _EFFECTIVE, _REASON],
        values=values if values is not None else current,
        hidden={"expected_version": snap.entity.version},
        submit=N_("Save"),
        testid="building-form",
        back=(f"/web/buildings/{building_id}/grid", p.gettext("Building grid")),
        errors=errors,
        status=422 if errors else 200,
    )


@router.get("/buildings/{building_id}/edit")
def edit_building(request: Request, building_id: int) -> Response:
    """The form: the building's facts, changed from a date."""
    with page(request) as p:
        p.ctx.actor.ensure("building.write")
        return _building_edit(request, p, building_id, None)


@router.post("/buildings/{building_id}")
async def change_building(request: Request, building_id: int) -> Response:
    """Change the building from the date given (a new version; history kept)."""
    form = await request.form()
    fields = [*BUILDING_FIELDS, _VISIT, _EFFECTIVE, _REASON]
    values = values_of(form, fields)
    with page(request) as p:

        def write() -> Response:
            data = BuildingPatch.model_validate(
                {"expected_version": str(form.get("expected_version") or ""), **blank_none(values, fields)}
            )
            change(p, buildings.BUILDING, building_id, data)
            return redirect(f"/web/buildings/{building_id}/grid", flash="building_saved")

        return attempt(p, write, lambda errors: _building_edit(request, p, building_id, values, errors))


# ---- dwellings -----------------------------------------------------------------------------------------------


def _dwelling_form(
    request: Request, p: Page, building_id: int, values: dict[str, Any], errors: Any = None, status: int = 200
) -> Response:
    return form_page(
        request,
        p,
        title=N_("Record a dwelling"),
        action=f"/web/buildings/{building_id}/dwellings",
        fields=DWELLING_FIELDS,
        values=values,
        submit=N_("Save"),
        testid="dwelling-form",
        back=(f"/web/buildings/{building_id}/grid", p.gettext("Building grid")),
        errors=errors,
        status=status,
    )


@router.get("/buildings/{building_id}/dwellings/new")
def new_dwelling(request: Request, building_id: int) -> Response:
    """The form: a dwelling in this building."""
    with page(request) as p:
        p.ctx.actor.ensure("dwelling.write")
        registry.get_entity(p.session, buildings.BUILDING, building_id, p.ctx.actor)
        return _dwelling_form(request, p, building_id, {"use": "residential", "status": "unknown"})


@router.post("/buildings/{building_id}/dwellings")
async def create_dwelling(request: Request, building_id: int) -> Response:
    """Record the dwelling (one room number per entrance); then its page."""
    values = values_of(await request.form(), DWELLING_FIELDS)
    with page(request) as p:

        def write() -> Response:
            data = DwellingCreate.model_validate({"building_id": building_id, **blank_none(values)})
            snap = buildings.create_dwelling(p.session, p.ctx, data)
            return redirect(f"/web/dwellings/{snap.entity.id}", flash="dwelling_saved")

        return attempt(
            p, write, lambda errors: _dwelling_form(request, p, building_id, values, errors, status=422)
        )


def _dwelling_edit(
    request: Request, p: Page, dwelling_id: int, values: dict[str, Any] | None, errors: Any = None
) -> Response:
    snap = registry.read(p.session, p.ctx, buildings.DWELLING, dwelling_id)
    current = {f.name: getattr(snap.row, f.name) for f in DWELLING_FIELDS}
    return form_page(
        request,
        p,
        title=N_("Change the dwelling"),
        action=f"/web/dwellings/{dwelling_id}/edit",
        fields=[*DWELLING_FIELDS, _EFFECTIVE, _REASON],
        values=values if values is not None else current,
        hidden={"expected_version": snap.entity.version},
        submit=N_("Save"),
        testid="dwelling-form",
        back=(
            f"/web/dwellings/{dwelling_id}",
            str(buildings.describe_dwelling(p.session, dwelling_id, p.ctx.today)["text"]),
        ),
        errors=errors,
        status=422 if errors else 200,
    )


@router.get("/dwellings/{dwelling_id}/edit")
def edit_dwelling(request: Request, dwelling_id: int) -> Response:
    """The form: the dwelling's facts and status (vacant, rented, demolished …), changed from a date."""
    with page(request) as p:
        p.ctx.actor.ensure("dwelling.write")
        return _dwelling_edit(request, p, dwelling_id, None)


@router.post("/dwellings/{dwelling_id}/edit")
async def change_dwelling(request: Request, dwelling_id: int) -> Response:
    """Change the dwelling from the date given (a new version; history kept)."""
    form = await request.form()
    fields = [*DWELLING_FIELDS, _EFFECTIVE, _REASON]
    values = values_of(form, fields)
    with page(request) as p:

        def write() -> Response:
            data = DwellingPatch.model_validate(
                {"expected_version": str(form.get("expected_version") or ""), **blank_none(values, fields)}
            )
            change(p, buildings.DWELLING, dwelling_id, data, buildings.dwelling_check(p.session))
            return redirect(f"/web/dwellings/{dwelling_id}", flash="dwelling_saved")

        return attempt(p, write, lambda errors: _dwelling_edit(request, p, dwelling_id, values, errors))


# ---- rentals of the jurisdiction ---------------------------------------------------------------------------------


@router.get("/rentals")
def rental_list(request: Request, unsigned: int = 0, offset: int = 0) -> Response:
    """The open rentals of the jurisdiction, 100 a page, by dwelling (no personal data): lease, filing number and
    whether the security agreement is signed (`unsigned=1`: only those without); each links to its dwelling."""
    with page(request) as p:
        where = [RentalVersion.status == "open"]
        if unsigned:
            where.append(RentalVersion.agreement_signed_on.is_(None))
        found = registry.search(
            p.session, p.ctx, rentals.RENTAL, where=where, offset=max(0, offset), limit=100
        )
        # The page's dwellings described in one batch, not one by one.
        where_is = buildings.describe_dwellings(
            p.session, [snap.entity.dwelling_id for snap in found.items], p.ctx.today
        )
        rows = [
            {"snap": snap, "address": where_is.get(snap.entity.dwelling_id, {}).get("text")}
            for snap in found.items
        ]
        return render(
            request,
            "rentals.html",
            p,
            rows=rows,
            total=found.total,
            offset=found.offset,
            unsigned=bool(unsigned),
        )
