"""Areas in the web (行政区划): an area with its level, its codes through time (历史区划代码), its former names,
the areas above and below it, and links to its map, streets and lists; over the areas service."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from liangshi import registry
from liangshi.areas import service as areas
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, render
from liangshi.web.session import page

router = web_router()
add_nav(NavItem("/web/areas", N_("Areas"), "area.read", order=60))

LEVELS = {
    "province": N_("Province"),
    "city": N_("City"),
    "district": N_("District"),
    "subdistrict": N_("Subdistrict"),
    "town": N_("Town"),
    "township": N_("Township"),
    "community": N_("Community"),
    "village": N_("Village"),
    "group": N_("Village group"),
    "grid": N_("Grid"),
}
SCHEMES = {"gb2260": N_("Division code (GB/T 2260)"), "stats": N_("Statistical code")}


@router.get("/areas")
def my_area(request: Request) -> Response:
    """The user's own area."""
    with page(request) as p:
        return redirect(f"/web/areas/{p.ctx.actor.area_id}")


@router.get("/areas/{area_id}")
def area(request: Request, area_id: int) -> Response:
    """An area: codes through time, former names, parents and children."""
    with page(request) as p:
        snap = registry.read(p.session, p.ctx, areas.AREA, area_id)
        codes = areas.codes_of(p.session, p.ctx, area_id)
        _entity, rows = registry.versions(p.session, p.ctx, areas.AREA, area_id)
        former = sorted(
            (
                r
                for r in rows
                if r.superseded_at is None and r.valid_to is not None and r.name != snap.row.name
            ),
            key=lambda r: r.valid_from,
        )
        # The process's cached lineage (issue 19): the same answer, refreshed when any area changes.
        lineage = [(line, line.name) for line in areas.cached_lineage(p.session, area_id, p.ctx.today)[:-1]]
        children = areas.children_of(p.session, area_id, p.ctx.today)
        inside = p.ctx.actor.covers_path(snap.entity.path)
        return render(
            request,
            "area.html",
            p,
            area=snap,
            codes=codes,
            former=former,
            lineage=lineage,
            children=[(a, name) for a, name in children if inside],
            schemes=SCHEMES,
            levels=LEVELS,
            inside=inside,
        )
