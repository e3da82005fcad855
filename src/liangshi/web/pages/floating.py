"""Floating population lists (流动人口): who arrived in a month, who is due to leave, who stayed past their
intended end — for an area of the user's jurisdiction, each person linking to their page (人走注销 there)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from liangshi.areas import service as areas
from liangshi.residence import service as residence
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, render
from liangshi.web.session import page

router = web_router()
add_nav(NavItem("/web/floating", N_("Floating population"), "residence.read", order=35))

LISTS = {
    "arrivals": N_("Arrived in the month"),
    "due": N_("Due to leave"),
    "overdue": N_("Overdue to leave"),
}


@router.get("/floating")
def my_floating(request: Request) -> Response:
    """The lists of the user's own area."""
    with page(request) as p:
        return redirect(f"/web/areas/{p.ctx.actor.area_id}/floating")


@router.get("/areas/{area_id}/floating")
def floating(
    request: Request, area_id: int, show: str = "overdue", month: str = "", days: int = 30
) -> Response:
    """流入 / 拟离开 / 逾期未离开: one list at a time, 100 persons per page, masked; the read is audited."""
    with page(request) as p:
        show = show if show in LISTS else "overdue"
        month = month or f"{p.ctx.today:%Y-%m}"
        result: dict[str, Any]
        if show == "arrivals":
            result = residence.floating_arrivals(p.session, p.ctx, area_id, month)
        elif show == "due":
            result = residence.due_to_leave(p.session, p.ctx, area_id, max(0, min(days, 366)))
        else:
            result = residence.overdue(p.session, p.ctx, area_id)
        area = areas.by_id(p.session, area_id)
        names = areas.names_of(p.session, [area_id], p.ctx.today) if area is not None else {}
        return render(
            request,
            "floating.html",
            p,
            area_id=area_id,
            area_name=names.get(area_id, ""),
            lists=LISTS,
            show=show,
            month=month,
            days=days,
            result=result,
        )
