"""Venues in the web (旅馆、网吧): the hotels and internet cafés of the jurisdiction and each one's guest register,
with the foreign guests reported late (境外人员迟报); over the venues service (masked, each listed guest an
audited read)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.venues import service as venues
from liangshi.venues.schemas import VenueCreate
from liangshi.web.forms import Field, attempt, blank_none, form_page, values_of
from liangshi.web.i18n import N_
from liangshi.web.labels import STAY_KINDS
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/venues", N_("Venues"), "venue.read", order=45))
register_flash("venue_registered", N_("Venue registered."))

VENUE_STATUS = {"open": N_("Open"), "closed": N_("Closed")}


@router.get("/venues")
def venue_list(request: Request, offset: int = 0) -> Response:
    """The venues of the jurisdiction, 100 a page: kind, name, address, status."""
    with page(request) as p:
        found = registry.search(p.session, p.ctx, venues.VENUE, offset=max(0, offset), limit=100)
        rows = [
            {
                "snap": snap,
                "address": addresses.describe(p.session, snap.entity.address_id, p.ctx.today).get("text", ""),
            }
            for snap in found.items
        ]
        return render(
            request,
            "venues.html",
            p,
            rows=rows,
            total=found.total,
            offset=found.offset,
            venue_status=VENUE_STATUS,
        )


@router.get("/venues/{venue_id}")
def venue(request: Request, venue_id: int, late: int = 0) -> Response:
    """A venue and its guest register (the latest 100 stays, or the late foreign reports), masked and audited."""
    with page(request) as p:
        snap = registry.read(p.session, p.ctx, venues.VENUE, venue_id)
        stays = venues.stays_at_venue(p.session, p.ctx, venue_id, late_only=bool(late))
        address = addresses.describe(p.session, snap.entity.address_id, p.ctx.today).get("text", "")
        return render(
            request,
            "venue.html",
            p,
            venue=snap,
            stays=stays,
            late=bool(late),
            address=address,
            venue_status=VENUE_STATUS,
        )


VENUE_FIELDS = [
    Field("venue_kind", N_("Kind"), "select", required=True, options=STAY_KINDS),
    Field("name", N_("Name"), required=True, attrs={"maxlength": "100"}),
    Field("licence_number", N_("Licence"), attrs={"maxlength": "50"}),
]


def _venue_form(
    request: Request, p: Page, address_id: int, values: dict[str, str], errors: Any = None
) -> Response:
    return form_page(
        request,
        p,
        title=N_("Register a venue"),
        action=f"/web/addresses/{address_id}/venues",
        fields=VENUE_FIELDS,
        values=values,
        submit=N_("Save"),
        testid="venue-form",
        back=("/web/venues", p.gettext("Venues")),
        errors=errors,
        status=422 if errors else 200,
    )


@router.get("/addresses/{address_id}/venues/new")
def new_venue(request: Request, address_id: int) -> Response:
    """The form: a hotel or internet café on this door plate (station admins and above)."""
    with page(request) as p:
        p.ctx.actor.ensure("venue.write")
        registry.get_entity(p.session, addresses.ADDRESS, address_id, p.ctx.actor)
        return _venue_form(request, p, address_id, {"venue_kind": "hotel"})


@router.post("/addresses/{address_id}/venues")
async def register_venue(request: Request, address_id: int) -> Response:
    """Register the venue; then its page."""
    values = values_of(await request.form(), VENUE_FIELDS)
    with page(request) as p:

        def write() -> Response:
            data = VenueCreate.model_validate({"address_id": address_id, **blank_none(values)})
            snap = venues.register_venue(p.session, p.ctx, data)
            return redirect(f"/web/venues/{snap.entity.id}", flash="venue_registered")

        return attempt(p, write, lambda errors: _venue_form(request, p, address_id, values, errors))
