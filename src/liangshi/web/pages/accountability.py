"""Collector scores (采集员考核, 谁采集、谁录入、谁负责): a period's defects traced to each collector, their rates with
intervals, timeliness, the score on the default sheet, the 奖惩 lists, and the xlsx."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from liangshi.areas import service as areas
from liangshi.inspections import service as inspections
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/accountability", N_("Collector scores"), "inspection.read", order=38))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REASONS = {
    "below_score": N_("score below the line"),
    "defect_rate": N_("defect rate above tolerance (lower bound)"),
    "return_rate": N_("return rate above tolerance (lower bound)"),
    "min_score": N_("score reached"),
    "max_defect_rate": N_("defect rate low enough (upper bound)"),
}


def _query(
    p: Page, area: str | None, date_from: str | None, date_to: str | None
) -> tuple[str, dt.date, dt.date]:
    """The area (default: the user's own) and the period (default: this month so far)."""
    if not area:
        own = areas.by_id(p.session, p.ctx.actor.area_id)
        area = own.code if own is not None else ""

    def day(value: str | None, default: dt.date) -> dt.date:
        try:
            return dt.date.fromisoformat(value) if value else default
        except ValueError:
            return default

    return area, day(date_from, p.ctx.today.replace(day=1)), day(date_to, p.ctx.today)


@router.get("/accountability")
def accountability_page(
    request: Request,
    area: str | None = Query(None, max_length=15),
    date_from: str | None = Query(None, alias="from", max_length=10),
    date_to: str | None = Query(None, alias="to", max_length=10),
) -> Response:
    """The collectors of an area over a period, best score first, with the 奖惩 lists."""
    with page(request) as p:
        code, start, end = _query(p, area, date_from, date_to)
        report: dict[str, Any] = inspections.collector_report(
            p.session, p.ctx, area_code=code, date_from=start, date_to=end
        )
        query = urlencode({"area": code, "from": start.isoformat(), "to": end.isoformat()})
        return render(
            request,
            "accountability.html",
            p,
            report=report,
            area=code,
            date_from=start.isoformat(),
            date_to=end.isoformat(),
            reasons=REASONS,
            xlsx=f"/web/accountability.xlsx?{query}",
        )


@router.get("/accountability.xlsx")
def accountability_xlsx(
    request: Request,
    area: str | None = Query(None, max_length=15),
    date_from: str | None = Query(None, alias="from", max_length=10),
    date_to: str | None = Query(None, alias="to", max_length=10),
) -> Response:
    """The scores as xlsx in the page language."""
    with page(request) as p:
        code, start, end = _query(p, area, date_from, date_to)
        report = inspections.collector_report(p.session, p.ctx, area_code=code, date_from=start, date_to=end)
        body = inspections.report_workbook(report, i18n.short(p.lang))
    name = f"accountability-{code}-{start}-{end}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"},
    )
