"""Statistical table routes: each standard table (统计表格) as JSON and as xlsx."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from liangshi.http.errors import language
from liangshi.http.tx import reporting, unit
from liangshi.tables import service

router = APIRouter(tags=["tables 统计表格"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/tables", summary="The standard statistical tables")
def tables() -> list[dict[str, str]]:
    """The names and titles of the tables (`/tables/{name}` gives one)."""
    return [{"name": k, "title": zh, "title_en": en} for k, (_f, zh, en) in service.TABLES.items()]


@router.get("/tables/{name}.xlsx", summary="A statistical table as xlsx", response_class=Response)
def table_xlsx(
    request: Request,
    name: str,
    area: str = Query(..., description="Area code"),
    on: dt.date | None = Query(None, description="Day the table is valid on (default: today)"),
) -> Response:
    """Chinese multi-level headers and a total row (English with Accept-Language: en); the same day gives the
    same bytes."""
    with unit(request) as (session, ctx), reporting(request, session) as (reads, source):
        day = on or ctx.today
        table = service.build(session, ctx, name, area_code=area, on=day, reads=reads, source=source)
    body = service.workbook(table, language(request))
    filename = f"{name}-{area}-{day}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
        },
    )


@router.get("/tables/{name}", summary="A statistical table per community, with totals")
def table(
    request: Request,
    name: str,
    area: str = Query(..., description="Area code"),
    on: dt.date | None = Query(None, description="Day the table is valid on (default: today)"),
) -> dict[str, Any]:
    """One row per community under the area, its columns (with their header labels) and the totals row."""
    with unit(request) as (session, ctx), reporting(request, session) as (reads, source):
        return service.build(
            session, ctx, name, area_code=area, on=on or ctx.today, reads=reads, source=source
        )
