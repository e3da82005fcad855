"""The standard statistical tables (统计表格): pick a table, an area and a day, read it with its multi-level
headers and totals, download it as xlsx."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from liangshi.areas import service as areas
from liangshi.db import reporting
from liangshi.tables import rules as table_rules
from liangshi.tables import service as tables
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import read_source, web_router
from liangshi.web.render import render
from liangshi.web.session import page

router = web_router()
add_nav(NavItem("/web/tables", N_("Statistical tables"), "kpi.read", order=37))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _header_rows(table: dict[str, Any], en: bool) -> list[list[dict[str, Any]]]:
    """The table's column labels as HTML header rows: each cell with its colspan and rowspan (the xlsx merges)."""
    return [
        [{"text": text, "colspan": across, "rowspan": down} for _col, across, down, text in level]
        for level in table_rules.header_spans(table["labels"], 1 if en else 0)
    ]


def _day(on: str | None, today: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(on) if on else today
    except ValueError:
        return today


@router.get("/tables")
def tables_page(
    request: Request,
    name: str = Query("population", max_length=20),
    area: str | None = Query(None, max_length=15),
    on: str | None = Query(None, max_length=10),
) -> Response:
    """One table at a time for an area of the user's jurisdiction (default: the user's own), on a day."""
    with page(request) as p, reporting(p.session, request.app.state.replica) as (reads, source):
        en = i18n.short(p.lang) == "en"
        name = name if name in tables.TABLES else "population"
        if area is None:
            own = areas.by_id(p.session, p.ctx.actor.area_id)
            area = own.code if own is not None else ""
        day = _day(on, p.ctx.today)
        table = tables.build(p.session, p.ctx, name, area_code=area, on=day, reads=reads, source=source)
        query = urlencode({"area": area, "on": day.isoformat()})
        return render(
            request,
            "tables.html",
            p,
            choices=[(k, en_t if en else zh) for k, (_f, zh, en_t) in tables.TABLES.items()],
            name=name,
            area=area,
            on=day.isoformat(),
            table=table,
            header_rows=_header_rows(table, en),
            depth=max((len(c) for c in table["labels"]), default=1),
            xlsx=f"/web/tables/{name}.xlsx?{query}",
            read_source=read_source(source),
        )


@router.get("/tables/{name}.xlsx")
def table_xlsx(
    request: Request,
    name: str,
    area: str = Query(..., max_length=15),
    on: str | None = Query(None, max_length=10),
) -> Response:
    """The table as xlsx in the page language."""
    with page(request) as p, reporting(p.session, request.app.state.replica) as (reads, source):
        day = _day(on, p.ctx.today)
        table = tables.build(p.session, p.ctx, name, area_code=area, on=day, reads=reads, source=source)
        body = tables.workbook(table, i18n.short(p.lang))
    filename = f"{name}-{area}-{day}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
        },
    )
