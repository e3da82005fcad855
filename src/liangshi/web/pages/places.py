"""Housing on the ground: the building grid (楼盘表), a street's door plates, the map of an area."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from liangshi.addresses import service as addresses
from liangshi.areas import service as areas
from liangshi.buildings import rules as building_rules
from liangshi.buildings import service as buildings
from liangshi.errors import LiangshiError
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import as_of, web_router
from liangshi.web.pages.streets import plate_steps, plate_versions
from liangshi.web.render import redirect, render, to_json
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/map", N_("Map"), "address.read", order=40))

OCCUPANCY = {
    "occupied": N_("Occupied"),
    "rented": N_("Rented"),
    "vacant": N_("Vacant"),
    "unknown": N_("Unknown"),
}
PLATE_STATUS = {
    "planned": N_("Planned"),
    "assigned": N_("Assigned"),
    "made": N_("Made"),
    "installed": N_("Installed"),
    "retired": N_("Retired"),
}
# A building's visit status (campaign.rules.building_visit_status), for the map coloured by visits.
VISIT_STATUS = {
    "not_visited": N_("Not visited"),
    "partly_visited": N_("Partly visited"),
    "visited": N_("Visited"),
}
DEFECTS = {
    "missing_odd": N_("Missing odd numbers"),
    "missing_even": N_("Missing even numbers"),
    "duplicates": N_("Duplicate numbers"),
    "parity_violations": N_("On the wrong side"),
    "order_violations": N_("Out of order along the street"),
}


def script_json(value: Any) -> str:
    """JSON to put inside a <script type="application/json"> element (no "</script>" can close it early)."""
    return to_json(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _crumbs(p: Page, area_id: int, on: dt.date | None = None) -> list[dict[str, Any]]:
    """The areas from the user's jurisdiction down to this one (named as on the day), each linking to its map."""
    return [
        {"id": line.id, "name": line.name, "code": line.code}
        for line in areas.cached_lineage(p.session, area_id, on or p.ctx.today)
        if p.ctx.actor.covers_path(line.path)
    ]


@router.get("/buildings/{building_id}/grid")
def building_grid(request: Request, building_id: int, on: str | None = None) -> Response:
    """楼盘表: units × floors × rooms, each dwelling coloured by occupancy, linking to its page; as of a past date
    with `?on=YYYY-MM-DD`."""
    with page(request) as p:
        day = as_of(on)
        grid = buildings.grid(p.session, p.ctx, building_id, day)
        counts = {key: 0 for key in OCCUPANCY}
        width = 1
        for unit in grid["units"]:
            for floor in unit["floors"]:
                width = max(width, len(floor["rooms"]))
                for cell in floor["rooms"]:
                    counts[cell["occupancy"]] += 1
        return render(
            request,
            "grid.html",
            p,
            grid=grid,
            counts=counts,
            width=width,
            occupancy=OCCUPANCY,
            occupancy_labels=building_rules.OCCUPANCY_LABELS,
            crumbs=_crumbs(p, grid["area_id"], day),
            on=day,
            today=p.ctx.today.isoformat(),
        )


# Plates listed on one street page (issue 17, stop 30): a street of a city's size holds thousands of plates, each
# with its forms; the page shows them in number order this many at a time (both sides), the check covers them all.
STREET_PAGE_PLATES = 200


@router.get("/streets/{street_id}")
def street(request: Request, street_id: int, at: int = Query(0, ge=0, le=10_000_000)) -> Response:
    """A street's plates by side along the street, gaps and defects highlighted, and a number proposal form; the
    plates `STREET_PAGE_PLATES` at a time in number order from the `at`-th (the numbering check is the street's)."""
    with page(request) as p:
        view = addresses.street_view(p.session, p.ctx, street_id, None)
        every = sorted(
            (plate for side in ("odd", "even") for plate in view["plates"][side]),
            key=lambda plate: (plate["base"], plate["sub"] or 0),
        )
        total = len(every)
        at = min(at, max(0, total - 1))
        shown = every[at : at + STREET_PAGE_PLATES]
        keep = {plate["address_id"] for plate in shown}
        low, high = (shown[0]["base"], shown[-1]["base"]) if shown else (0, -1)
        sides = {}
        for side, missing_key in (("odd", "missing_odd"), ("even", "missing_even")):
            items: list[dict[str, Any]] = [
                {"kind": "plate", **plate} for plate in view["plates"][side] if plate["address_id"] in keep
            ]
            items += [
                {"kind": "gap", "base": n, "sub": None, "number": str(n)}
                for n in view["defects"][missing_key]
                if low <= n <= high
            ]
            # In number order, so each gap shows where it belongs between its neighbours.
            items.sort(key=lambda i: (i["base"], i["sub"] or 0, i["kind"] == "gap"))
            sides[side] = items
        options = [p_["number"] for p_ in shown]
        ids = [p_["address_id"] for p_ in shown]
        return render(
            request,
            "street.html",
            p,
            street=view,
            sides=sides,
            options=options,
            defects=DEFECTS,
            plate_status=PLATE_STATUS,
            versions=plate_versions(p, ids) if p.may("address.write") else {},
            steps=plate_steps,
            plate_total=total,
            plate_from=at + 1 if shown else 0,
            plate_to=at + len(shown),
            previous_at=max(0, at - STREET_PAGE_PLATES) if at > 0 else None,
            next_at=at + STREET_PAGE_PLATES if at + STREET_PAGE_PLATES < total else None,
        )


@router.get("/streets/{street_id}/propose")
def propose(
    request: Request,
    street_id: int,
    lower: Annotated[str, Query(max_length=20)],
    upper: Annotated[str, Query(max_length=20)],
) -> Response:
    """The number proposed for a new door between two plates (an htmx fragment)."""
    with page(request) as p:
        try:
            proposal = addresses.propose_for_street(p.session, p.ctx, street_id, lower, upper, [])
            error = None
        except LiangshiError as exc:
            if exc.http_status == 404:
                raise
            proposal, error = None, exc.message(i18n.short(p.lang))
        return render(
            request,
            "_proposal.html",
            p,
            status=200 if error is None else 422,
            proposal=proposal,
            error=error,
            lower=lower,
            upper=upper,
        )


@router.get("/map")
def my_map(request: Request) -> Response:
    """The map of the user's own area."""
    with page(request) as p:
        return redirect(f"/web/areas/{p.ctx.actor.area_id}/map")


@router.get("/areas/{area_id}/map")
def area_map(request: Request, area_id: int, by: str | None = None, on: str | None = None) -> Response:
    """Plates and buildings of an area on a Leaflet map (as of a day), coloured by plate status or (by=visit) by the
    visit status of the buildings on them (辖区不漏楼); tiles only when configured."""
    settings = request.app.state.settings
    tiles = settings.map_tile_url or None
    # Chinese web tiles are drawn in GCJ-02: the WGS-84 points are shifted to match them (addresses.maps).
    crs = settings.map_tile_crs if tiles else "wgs84"
    with page(request) as p:
        day = as_of(on)
        features = addresses.geojson(p.session, p.ctx, area_id, crs=crs, on=day)
        crumbs = _crumbs(p, area_id, day)
        children = [{"id": c.id, "name": name} for c, name in _children(p, area_id, day)]
        counts: dict[str, int] = {}
        for f in features["features"]:
            counts[f["properties"]["status"]] = counts.get(f["properties"]["status"], 0) + 1
        by_visit = by == "visit"
        visit_counts: dict[str, int] = {}
        for f in features["features"]:
            for b in f["properties"]["buildings"]:
                visit_counts[b["visit_status"]] = visit_counts.get(b["visit_status"], 0) + 1
        config = {
            "tiles": tiles,
            "attribution": settings.map_tile_attribution,
            "subdomains": settings.map_tile_subdomains,
            "status": {key: p.gettext(label) for key, label in PLATE_STATUS.items()},
            "buildings": p.gettext("Buildings"),
            "grid": p.gettext("Building grid"),
            # The building grid needs dwelling.read: without it the buildings are named, not linked.
            "grid_links": p.ctx.actor.may("dwelling.read"),
            "by": "visit" if by_visit else "plate",
            "visit_status": {key: p.gettext(label) for key, label in VISIT_STATUS.items()},
        }
        return render(
            request,
            "map.html",
            p,
            area_name=crumbs[-1]["name"] if crumbs else "",
            crumbs=crumbs,
            children=children,
            features=features["features"],
            geojson=script_json(features),
            map_config=script_json(config),
            counts=counts,
            plate_status=PLATE_STATUS,
            crs=crs,
            grid_links=config["grid_links"],
            by_visit=by_visit,
            visit_status=VISIT_STATUS,
            visit_counts=visit_counts,
            on=day,
            today=p.ctx.today.isoformat(),
            area_id=area_id,
        )


def _children(p: Page, area_id: int, on: dt.date | None = None) -> list[tuple[Any, str]]:
    return [
        (a, name)
        for a, name in areas.children_of(p.session, area_id, on or p.ctx.today)
        if p.ctx.actor.covers_path(a.path)
    ]
