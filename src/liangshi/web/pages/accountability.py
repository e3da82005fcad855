"""Collector scores (采集员考核, 谁采集、谁录入、谁负责): a period's defects traced to each collector, their rates with
intervals, timeliness, the score on the default sheet, the 奖惩 lists, and the xlsx."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Form, Query, Request
from fastapi.responses import Response

from liangshi.areas import service as areas
from liangshi.errors import LiangshiError
from liangshi.inspections import rules
from liangshi.inspections import service as inspections
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/accountability", N_("Collector scores"), "inspection.read", order=38))
SHEET_MAX = 20_000
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


def _page(
    request: Request,
    p: Page,
    code: str,
    start: dt.date,
    end: dt.date,
    sheet_text: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """The report on the sheet given (the default when there is none or it is refused), with the sheet's text."""
    sheet = None
    if sheet_text is not None and not errors:
        sheet = rules.parse_sheet(sheet_text)
    report: dict[str, Any] = inspections.collector_report(
        p.session, p.ctx, area_code=code, date_from=start, date_to=end, sheet=sheet
    )
    query = urlencode({"area": code, "from": start.isoformat(), "to": end.isoformat()})
    return render(
        request,
        "accountability.html",
        p,
        status=422 if errors else 200,
        report=report,
        area=code,
        date_from=start.isoformat(),
        date_to=end.isoformat(),
        reasons=REASONS,
        default_sheet=rules.DEFAULT_SHEET_NAME,
        xlsx=f"/web/accountability.xlsx?{query}",
        sheet_text=sheet_text if sheet_text is not None else rules.sheet_toml(rules.scoring_sheet()),
        sheet_errors=errors or {},
        custom=sheet is not None,
    )


@router.get("/accountability")
def accountability_page(
    request: Request,
    area: str | None = Query(None, max_length=15),
    date_from: str | None = Query(None, alias="from", max_length=10),
    date_to: str | None = Query(None, alias="to", max_length=10),
) -> Response:
    """The collectors of an area over a period, best score first, with the 奖惩 lists, on the default sheet."""
    with page(request) as p:
        code, start, end = _query(p, area, date_from, date_to)
        return _page(request, p, code, start, end)


@router.post("/accountability")
def accountability_with_sheet(
    request: Request,
    area: Annotated[str, Form(max_length=15)] = "",
    date_from: Annotated[str, Form(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Form(alias="to", max_length=10)] = "",
    sheet: Annotated[str, Form(max_length=SHEET_MAX)] = "",
) -> Response:
    """The same report on a scoring sheet edited on the page (TOML, as the CLI reads it; POST /accountability).
    A bad sheet is shown with the field and the reason, and the report stays on the default sheet; the sheet
    is used for this report only, never stored."""
    with page(request) as p:
        code, start, end = _query(p, area, date_from, date_to)
        try:
            rules.parse_sheet(sheet)
        except LiangshiError as exc:
            return _page(request, p, code, start, end, sheet, form_errors(exc, p.lang))
        return _page(request, p, code, start, end, sheet)


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


@router.post("/accountability.xlsx")
def accountability_xlsx_with_sheet(
    request: Request,
    area: Annotated[str, Form(max_length=15)] = "",
    date_from: Annotated[str, Form(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Form(alias="to", max_length=10)] = "",
    sheet: Annotated[str, Form(max_length=SHEET_MAX)] = "",
) -> Response:
    """The scores on the sheet edited on the page as xlsx; a bad sheet shows the page with the error instead."""
    with page(request) as p:
        code, start, end = _query(p, area, date_from, date_to)
        try:
            parsed = rules.parse_sheet(sheet)
        except LiangshiError as exc:
            return _page(request, p, code, start, end, sheet, form_errors(exc, p.lang))
        report = inspections.collector_report(
            p.session, p.ctx, area_code=code, date_from=start, date_to=end, sheet=parsed
        )
        body = inspections.report_workbook(report, i18n.short(p.lang))
    name = f"accountability-{code}-{start}-{end}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"},
    )
