"""What every statistical table shares: the communities under an area (its rows), and the xlsx writer that turns
a table's multi-level column labels into merged Chinese headers with a total row and column.

A table is a dict: `table` (its name), `title` / `title_en`, `area`, `on`, `labels` (for each value column, its
header per level as (zh, en); None where the level above runs down), `rows` (code, name, values, total or None)
and `totals`; `keys` may rename the two leading columns (default: the area code and the community). The
same table gives the same workbook byte for byte (no clock in it).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.errors import NotFound
from liangshi.registry import Context
from liangshi.tables import rules

COMMUNITY_LEVELS = ("community", "village")
Label = tuple[str, str] | None


@dataclass(frozen=True)
class Frame:
    """The rows of a table: the area, its communities (id, code, path) by code, and every area under it mapped
    to the community it lies in."""

    root: Area
    communities: list[tuple[int, str, str]]
    community_of: dict[int, int]


def frame(session: Session, ctx: Context, area_code: str) -> Frame:
    """The communities and villages under an area of the actor's jurisdiction (the area itself if it is one)."""
    ctx.actor.ensure("kpi.read")
    root = areas.by_code(session, area_code)
    if root is None or not ctx.actor.covers_path(root.path):
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area_code}
        )
    under = session.execute(
        select(Area.id, Area.code, Area.level, Area.path).where(Area.path.startswith(root.path))
    ).all()
    communities = sorted(
        ((int(i), str(code), str(path)) for i, code, level, path in under if level in COMMUNITY_LEVELS),
        key=lambda c: c[1],
    )
    if root.level in COMMUNITY_LEVELS and all(c[0] != root.id for c in communities):
        communities.insert(0, (root.id, root.code, root.path))
    by_length = sorted(communities, key=lambda c: -len(c[2]))
    community_of: dict[int, int] = {}
    for area_id, _code, _level, path in under:
        for cid, _c, prefix in by_length:
            if str(path).startswith(prefix):
                community_of[int(area_id)] = cid
                break
    return Frame(root, communities, community_of)


def assemble(
    session: Session,
    fr: Frame,
    *,
    name: str,
    title: tuple[str, str],
    on: dt.date,
    columns: list[Any],
    labels: list[list[Label]],
    values: dict[int, list[Any]],
    totals: list[Any] | None = None,
    total_column: bool = True,
) -> dict[str, Any]:
    """A table from its per-community values (communities without any get zeros); totals are the column sums
    unless given (a rate is recomputed from the summed counts, not summed)."""
    names = areas.names_of(session, [c[0] for c in fr.communities] + [fr.root.id], on)
    rows = []
    summed = [0] * len(columns)
    for cid, code, _path in fr.communities:
        line = values.get(cid) or [0] * len(columns)
        if totals is None:
            summed = [a + b for a, b in zip(summed, line, strict=True)]
        rows.append(
            {
                "code": code,
                "name": names.get(cid, ""),
                "values": line,
                "total": sum(line) if total_column else None,
            }
        )
    final = totals if totals is not None else summed
    return {
        "table": name,
        "title": title[0],
        "title_en": title[1],
        "area": {"code": fr.root.code, "name": names.get(fr.root.id, "")},
        "on": on.isoformat(),
        "columns": columns,
        "labels": [[list(x) if x is not None else None for x in col] for col in labels],
        "rows": rows,
        "totals": {"values": final, "total": sum(final) if total_column else None},
    }


def ratio(part: int, whole: int) -> float | None:
    """part ÷ whole to four places, None for an empty whole."""
    return round(part / whole, 4) if whole else None


def workbook(table: dict[str, Any], lang: str = "zh") -> bytes:
    """The table as xlsx: the code and community columns, the multi-level headers merged over their columns and
    down where a level is empty, a total column (合计) if the table has one, and a total row."""
    en = lang.startswith("en")
    pick = 1 if en else 0
    labels: list[list[Any]] = table["labels"]
    depth = max((len(col) for col in labels), default=1)
    wb = Workbook()
    ws = wb.active
    ws.title = (table["title_en"] if en else table["title"])[:31]
    bold, centre = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    title = table["title_en"] if en else table["title"]
    ws.cell(1, 1, f"{title}  {table['area']['name']} {table['area']['code']}  {table['on']}").font = bold
    top, first = 2, 3
    bottom = top + depth - 1
    keys = table.get("keys") or [("区划代码", "Code"), ("社区（村）", "Community")]
    ws.cell(top, 1, keys[0][pick])
    ws.cell(top, 2, keys[1][pick])
    for c in (1, 2):
        if depth > 1:
            ws.merge_cells(start_row=top, start_column=c, end_row=bottom, end_column=c)
    for level, cells in enumerate(rules.header_spans(labels, pick)):
        for col, across, down, text in cells:
            ws.cell(top + level, first + col, text)
            if across > 1 or down > 1:
                ws.merge_cells(
                    start_row=top + level,
                    start_column=first + col,
                    end_row=top + level + down - 1,
                    end_column=first + col + across - 1,
                )
    last = first + len(labels)
    with_total = table["totals"]["total"] is not None
    if with_total:
        ws.cell(top, last, "Total" if en else "合计")
        if depth > 1:
            ws.merge_cells(start_row=top, start_column=last, end_row=bottom, end_column=last)
    for r in range(top, bottom + 1):
        for c in range(1, last + (1 if with_total else 0)):
            ws.cell(r, c).font, ws.cell(r, c).alignment = bold, centre
    row = bottom + 1
    for line in table["rows"]:
        ws.cell(row, 1, line["code"])
        ws.cell(row, 2, line["name"])
        for i, value in enumerate(line["values"]):
            ws.cell(row, first + i, value)
        if with_total:
            ws.cell(row, last, line["total"])
        row += 1
    ws.cell(row, 2, "Total" if en else "合计").font = bold
    for i, value in enumerate(table["totals"]["values"]):
        ws.cell(row, first + i, value).font = bold
    if with_total:
        ws.cell(row, last, table["totals"]["total"]).font = bold
    ws.freeze_panes = ws.cell(bottom + 1, first)
    # Reproducible: the document's own dates are the table's day, not the time it was written.
    stamp = dt.datetime.fromisoformat(table["on"])
    wb.properties.created = wb.properties.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue(), (stamp.year, stamp.month, stamp.day, 0, 0, 0))


def _fixed_zip(body: bytes, when: tuple[int, int, int, int, int, int]) -> bytes:
    """The same archive with every entry dated `when` (openpyxl dates them with the clock)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time as `modified`; keep the table's day.
                data = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", data)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=when), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()
