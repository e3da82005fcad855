"""Venues in the web (旅馆、网吧): the hotels and internet cafés of the jurisdiction and each one's guest register,
with the foreign guests reported late (境外人员迟报); over the venues service (masked, each listed guest an
audited read)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.venues import service as venues
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import page

router = web_router()
add_nav(NavItem("/web/venues", N_("Venues"), "venue.read", order=45))

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
