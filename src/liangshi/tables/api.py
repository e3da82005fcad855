"""Statistical table routes: the population table as JSON and as xlsx."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from liangshi.http.errors import language
from liangshi.http.tx import unit
from liangshi.tables import service

router = APIRouter(tags=["tables 统计表格"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/tables/population", summary="Population by category × sex × age band per community")
def population(
    request: Request,
    area: str = Query(..., description="Area code"),
    on: dt.date | None = Query(None, description="Day the table is valid on (default: today)"),
) -> dict[str, Any]:
    """人口统计表 as JSON: one row per community, the columns category × sex × age band, and the totals."""
    with unit(request) as (session, ctx):
        return service.population(session, ctx, area_code=area, on=on or ctx.today)


@router.get("/tables/population.xlsx", summary="The population table as xlsx", response_class=Response)
def population_xlsx(
    request: Request,
    area: str = Query(..., description="Area code"),
    on: dt.date | None = Query(None, description="Day the table is valid on (default: today)"),
) -> Response:
    """Chinese three-level headers and a total row (English with Accept-Language: en)."""
    with unit(request) as (session, ctx):
        day = on or ctx.today
        table = service.population(session, ctx, area_code=area, on=day)
    body = service.population_workbook(table, language(request))
    name = f"population-{area}-{day}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"},
    )
