"""KPI routes: the dashboard's rates as JSON and as an xlsx workbook."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from liangshi.http.errors import language
from liangshi.http.tx import reporting, unit
from liangshi.kpis import objects, service
from liangshi.kpis.schemas import KpiReport

router = APIRouter(tags=["kpis 指标"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(
    request: Request,
    session: Any,
    ctx: Any,
    area: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    reads: Any,
    source: Any,
) -> tuple[Any, dt.date, dt.date]:
    """The KPI report of the area and period asked (counted on `reads`, the replica when one serves), with its
    period's first and last day."""
    start, end = service.default_period(date_from, date_to, ctx.today)
    report = service.compute_cached(
        session,
        ctx,
        request.app.state.kpi_cache,
        area_code=area,
        date_from=start,
        date_to=end,
        reads=reads,
        source=source,
    )
    return report, start, end


@router.get("/kpis", response_model=KpiReport, response_model_by_alias=True, summary="KPIs of an area")
def kpis(
    request: Request,
    area: str | None = Query(None, description="Area code (default: your own area)"),
    date_from: dt.date | None = Query(None, alias="from", description="First day (default: 1 January)"),
    date_to: dt.date | None = Query(None, alias="to", description="Last day (default: today)"),
) -> KpiReport:
    """Every KPI with numerator, denominator, rate and target, and the same for each child area."""
    with unit(request) as (session, ctx), reporting(request, session) as (reads, source):
        report, _, _ = _report(request, session, ctx, area, date_from, date_to, reads, source)
        return KpiReport.model_validate(report.to_json())


@router.get("/kpis.xlsx", summary="KPIs of an area as an xlsx workbook", response_class=Response)
def kpis_xlsx(
    request: Request,
    area: str | None = Query(None, description="Area code (default: your own area)"),
    date_from: dt.date | None = Query(None, alias="from", description="First day (default: 1 January)"),
    date_to: dt.date | None = Query(None, alias="to", description="Last day (default: today)"),
) -> Response:
    """One sheet per level (the area, its children, theirs …); Chinese headers unless Accept-Language: en."""
    with unit(request) as (session, ctx), reporting(request, session) as (reads, source):
        report, start, end = _report(request, session, ctx, area, date_from, date_to, reads, source)
        body = service.workbook(report, language(request))
    name = f"kpis-{report.root.code}-{start}-{end}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"},
    )


@router.get("/kpis/trends", summary="The rates of an area month by month")
def kpi_trends(
    request: Request,
    area: str | None = Query(None, description="Area code (default: your own area)"),
    date_from: dt.date | None = Query(None, alias="from", description="First day (default: 1 January)"),
    date_to: dt.date | None = Query(None, alias="to", description="Last day (default: today)"),
) -> dict[str, Any]:
    """Every rate KPI per month of the period (the last twelve months of it), numerator and denominator."""
    with unit(request) as (session, ctx), reporting(request, session) as (reads, source):
        start, end = service.default_period(date_from, date_to, ctx.today)
        return service.monthly(
            session,
            ctx,
            request.app.state.kpi_cache,
            area_code=area,
            date_from=start,
            date_to=end,
            reads=reads,
            source=source,
        )


@router.get("/kpis/{key}/objects", summary="The objects behind a KPI's numerator, denominator or the gap")
def kpi_objects(
    request: Request,
    key: str,
    area: str | None = Query(None, description="Area code (default: your own area)"),
    date_from: dt.date | None = Query(None, alias="from", description="First day (default: 1 January)"),
    date_to: dt.date | None = Query(None, alias="to", description="Last day (default: today)"),
    part: str = Query(
        "missing", description="numerator, denominator or missing (denominator minus numerator)"
    ),
    page: int = Query(1, description="Page, from 1"),
    page_size: int = Query(objects.PAGE_SIZE, ge=1, le=500),
) -> dict[str, Any]:
    """One page of the plates, rentals, dwellings, residences or stays the KPI counts, with the same definition as
    its number; ID numbers masked, listed persons audited."""
    with unit(request) as (session, ctx):
        start, end = service.default_period(date_from, date_to, ctx.today)
        return objects.objects(
            session,
            ctx,
            key,
            area_code=area,
            date_from=start,
            date_to=end,
            part=part,
            page=page,
            page_size=page_size,
        )
