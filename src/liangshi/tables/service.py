"""Standard statistical tables: population by category × sex × age band per community, and its xlsx.

The counts come from the register as valid on the table's day: open residences (category) joined with the
person's current sex and birth date, one GROUP BY per table; the rows are the communities and villages under the
area, then a total. The same day and area give the same workbook (rows by area code, no timestamps in cells).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import defaultdict
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.errors import NotFound
from liangshi.persons.models import PersonVersion
from liangshi.registry import Context
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.rules import CATEGORIES
from liangshi.tables import rules

COMMUNITY_LEVELS = ("community", "village")


def population(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """人口统计表: for each community under the area, persons by residence category × sex × age band on `on`."""
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
    stmt = (
        select(
            Residence.area_id,
            ResidenceVersion.category,
            PersonVersion.sex,
            PersonVersion.birth_date,
            func.count(),
        )
        .join(ResidenceVersion, ResidenceVersion.entity_id == Residence.id)
        .join(PersonVersion, PersonVersion.entity_id == Residence.person_id)
        .where(
            Residence.area_id.in_(list(community_of)),
            ResidenceVersion.superseded_at.is_(None),
            ResidenceVersion.valid_from <= on,
            or_(ResidenceVersion.valid_to.is_(None), ResidenceVersion.valid_to > on),
            PersonVersion.superseded_at.is_(None),
            PersonVersion.valid_from <= on,
            or_(PersonVersion.valid_to.is_(None), PersonVersion.valid_to > on),
        )
        .group_by(Residence.area_id, ResidenceVersion.category, PersonVersion.sex, PersonVersion.birth_date)
    )
    counts: dict[int, dict[tuple[str, str, str], int]] = defaultdict(lambda: defaultdict(int))
    for area_id, category, sex, birth, n in session.execute(stmt):
        community = community_of.get(int(area_id))
        if community is not None:
            counts[community][(str(category), rules.sex_key(str(sex)), rules.age_band(birth, on))] += int(n)
    names = areas.names_of(session, [c[0] for c in communities], on)
    columns = [
        (cat, sex, band)
        for cat in CATEGORIES
        for sex, _zh, _en in rules.SEXES
        for band, *_r in rules.AGE_BANDS
    ]
    rows = []
    totals = [0] * len(columns)
    for cid, code, _path in communities:
        values = [counts[cid].get(col, 0) for col in columns]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        rows.append({"code": code, "name": names.get(cid, ""), "values": values, "total": sum(values)})
    return {
        "area": {"code": root.code, "name": areas.names_of(session, [root.id], on).get(root.id, "")},
        "on": on.isoformat(),
        "columns": [{"category": c, "sex": s, "age_band": b} for c, s, b in columns],
        "rows": rows,
        "totals": {"values": totals, "total": sum(totals)},
    }


def population_workbook(table: dict[str, Any], lang: str = "zh") -> bytes:
    """The population table as xlsx: three header rows (category, sex, age band) merged over their columns, a
    total column per row and a total row (合计)."""
    en = lang.startswith("en")
    wb = Workbook()
    ws = wb.active
    ws.title = "Population" if en else "人口统计表"
    bold, centre = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.cell(1, 1, f"{table['area']['name']} {table['area']['code']}  {table['on']}").font = bold
    top = 2
    ws.cell(top, 1, "Code" if en else "区划代码")
    ws.cell(top, 2, "Community" if en else "社区（村）")
    ws.merge_cells(start_row=top, start_column=1, end_row=top + 2, end_column=1)
    ws.merge_cells(start_row=top, start_column=2, end_row=top + 2, end_column=2)
    per_sex = len(rules.AGE_BANDS)
    per_cat = per_sex * len(rules.SEXES)
    col = 3
    for key, (zh, label_en) in CATEGORIES.items():
        ws.cell(top, col, label_en if en else zh)
        ws.merge_cells(start_row=top, start_column=col, end_row=top, end_column=col + per_cat - 1)
        for s, (_sex, sex_zh, sex_en) in enumerate(rules.SEXES):
            start = col + s * per_sex
            ws.cell(top + 1, start, sex_en if en else sex_zh)
            ws.merge_cells(
                start_row=top + 1, start_column=start, end_row=top + 1, end_column=start + per_sex - 1
            )
            for b, (band, band_zh, *_r) in enumerate(rules.AGE_BANDS):
                ws.cell(top + 2, start + b, band if en else band_zh)
        del key
        col += per_cat
    ws.cell(top, col, "Total" if en else "合计")
    ws.merge_cells(start_row=top, start_column=col, end_row=top + 2, end_column=col)
    for r in range(top, top + 3):
        for c in range(1, col + 1):
            ws.cell(r, c).font, ws.cell(r, c).alignment = bold, centre
    row = top + 3
    for line in table["rows"]:
        ws.cell(row, 1, line["code"])
        ws.cell(row, 2, line["name"])
        for i, value in enumerate(line["values"]):
            ws.cell(row, 3 + i, value)
        ws.cell(row, col, line["total"])
        row += 1
    ws.cell(row, 2, "Total" if en else "合计").font = bold
    for i, value in enumerate(table["totals"]["values"]):
        ws.cell(row, 3 + i, value).font = bold
    ws.cell(row, col, table["totals"]["total"]).font = bold
    ws.freeze_panes = ws.cell(top + 3, 3)
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
