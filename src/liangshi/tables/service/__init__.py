"""Standard statistical tables (统计表格): the face callers import (`from liangshi.tables import service`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from liangshi.db import PRIMARY, ReadSource
from liangshi.errors import NotFound
from liangshi.registry import Context
from liangshi.tables.service.frame import frame, workbook
from liangshi.tables.service.population import population, population_workbook
from liangshi.tables.service.register import (
    campaign_progress,
    floating,
    floating_by_reason,
    housing,
    rental_table,
    venue_stays,
)

Builder = Callable[..., dict[str, Any]]
# Name → (builder, Chinese title, English title), in the order the tables page lists them.
TABLES: dict[str, tuple[Builder, str, str]] = {
    "population": (population, "人口统计表", "Population by category, sex and age band"),
    "floating": (floating, "流动人口统计表", "Floating population by province of origin"),
    "floating_reason": (
        floating_by_reason,
        "流动人口暂住事由统计表",
        "Floating population by province of origin and reason for stay",
    ),
    "housing": (housing, "住房统计表", "Housing by use and status"),
    "rentals": (rental_table, "出租房屋统计表", "Rentals and their rates"),
    "venues": (venue_stays, "场所住宿统计表", "Venue stays by type"),
    "progress": (campaign_progress, "采集进度统计表", "Campaign progress"),
}


def build(
    session: Session,
    ctx: Context,
    name: str,
    *,
    area_code: str,
    on: dt.date,
    reads: Session | None = None,
    source: ReadSource = PRIMARY,
) -> dict[str, Any]:
    """The named table for an area on a day. With `reads` (the reporting replica's read-only session) the
    jurisdiction is checked on `session` (the primary) first and the table counted on `reads`; the table says
    where it was read (`read_from`, and `as_of` for the replica)."""
    entry = TABLES.get(name)
    if entry is None:
        raise NotFound(
            "table.not_found", "未找到该统计表", "No such statistical table", {"field": "name", "name": name}
        )
    if reads is not None and reads is not session:
        frame(session, ctx, area_code)
    table = entry[0](reads if reads is not None else session, ctx, area_code=area_code, on=on)
    table["read_from"] = "replica" if source.replica else "primary"
    table["as_of"] = source.as_of.isoformat() if source.as_of is not None else None
    return table


__all__ = [
    "TABLES",
    "build",
    "campaign_progress",
    "floating",
    "floating_by_reason",
    "housing",
    "population",
    "population_workbook",
    "rental_table",
    "venue_stays",
    "workbook",
]
