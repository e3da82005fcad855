"""Dwelling statuses from housing (房管, issue 15): a department's file of dwellings keyed by the standard address
code of their plate (标准地址编码), building, unit and room, each with the status the housing office records
(自住 occupied, 空置 vacant, 出租 rented, 已拆除 demolished).

The housing office is the authority on a dwelling's housing status, so an accepted row is written at once as a
new dwelling version through the registry (`registry.change`, provenance `department`, the batch as source), not
held as a change set: a change set would wait for a reviewer who has nothing better to compare it with. A row
whose status the register already holds writes nothing (`same`), so a re-sent file changes nothing. Each row is
validated with all of its problems reported at once (line, field, code); the good rows are kept unless the
agreement says all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.rules import Actor
from liangshi.addresses.models import Address
from liangshi.areas.models import Area
from liangshi.buildings.models import DWELLING, Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.departments.models import Agreement, Department
from liangshi.departments.service.batch_rows import (
    FeedTable,
    RowProblem,
    _refuse_rows,
    _row_problem,
    feed_column_map,
    require_provided,
)
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.exchange import formats

# The file's columns: key -> Chinese header (the English key is accepted too).
DWELLING_COLUMNS: dict[str, str] = {
    "address_code": "标准地址编码",
    "building": "楼栋",
    "unit": "单元",
    "room": "房号",
    "status": "房屋状态",
    "effective": "变动日期",
}
REQUIRED = ("address_code", "room", "status")
# The statuses a housing office sends, by code or by Chinese name.
HOUSING_STATUSES: dict[str, str] = {
    "occupied": "occupied",
    "自住": "occupied",
    "在住": "occupied",
    "vacant": "vacant",
    "空置": "vacant",
    "rented": "rented",
    "出租": "rented",
    "demolished": "demolished",
    "已拆除": "demolished",
    "拆除": "demolished",
}


@dataclass
class _Row:
    line: int
    address_code: str
    building: str | None
    unit: int | None
    room: str
    status: str
    effective: dt.date


def _bad(code: str, zh: str, en: str, field: str, **data: Any) -> ValidationFailed:
    return ValidationFailed(code, zh, en, {"field": field, **data})


def _required(key: str) -> ValidationFailed:
    return ValidationFailed(
        "department.dwelling_field_required",
        f"{DWELLING_COLUMNS[key]}不能为空",
        f"{key} is required",
        {"field": key},
    )


def _column_map(header: list[str]) -> dict[int, str]:
    """The file's columns (position -> key); unknown, repeated or missing required columns refuse the file."""
    return feed_column_map(header, DWELLING_COLUMNS, REQUIRED)


def _parse_row(line: int, cells: dict[str, str], today: dt.date) -> tuple[_Row | None, list[RowProblem]]:
    """One row, or every problem it has."""
    problems: list[RowProblem] = []

    def problem(exc: LiangshiError) -> None:
        problems.append(_row_problem(line, exc, str(exc.data.get("field", ""))))

    code = cells.get("address_code", "").strip()
    if not code:
        problem(_required("address_code"))
    room = cells.get("room", "").strip()
    if not room:
        problem(_required("room"))
    elif len(room) > 20:
        problem(_bad("department.dwelling_room_too_long", "房号过长", "The room is too long", "room"))
    raw_status = cells.get("status", "").strip()
    status = HOUSING_STATUSES.get(raw_status) or HOUSING_STATUSES.get(raw_status.lower())
    if status is None:
        problem(
            _bad(
                "department.dwelling_status_unknown",
                f"未知的房屋状态：{raw_status or '（空）'}（可用：自住、空置、出租、已拆除）",
                f"Unknown dwelling status: {raw_status or '(empty)'} (occupied, vacant, rented, demolished)",
                "status",
                input=raw_status,
            )
        )
    unit: int | None = None
    raw_unit = cells.get("unit", "").strip().removesuffix("单元")
    if raw_unit:
        if raw_unit.isdigit() and 0 < int(raw_unit) < 1000:
            unit = int(raw_unit)
        else:
            problem(
                _bad(
                    "department.dwelling_unit_invalid",
                    "单元须为正整数",
                    "The unit must be a whole number",
                    "unit",
                )
            )
    effective = today
    raw_date = cells.get("effective", "").strip()
    if raw_date:
        try:
            effective = formats.parse_date(raw_date, "effective")
        except LiangshiError as exc:
            problem(exc)
        else:
            if effective > today:
                problem(
                    _bad(
                        "department.dwelling_date_future",
                        "变动日期不能晚于今天",
                        "The date cannot be in the future",
                        "effective",
                    )
                )
    if problems or status is None:
        return None, problems
    building = cells.get("building", "").strip() or None
    return _Row(line, code, building, unit, room, status, effective), []


def _read_rows(table: FeedTable, today: dt.date) -> tuple[list[_Row], list[RowProblem]]:
    mapping = _column_map(table.header)
    rows: list[_Row] = []
    problems: list[RowProblem] = []
    for line, cells in table.rows:
        values = {key: (cells[i] if i < len(cells) else "") for i, key in mapping.items()}
        if not any(v.strip() for v in values.values()):
            continue
        row, found = _parse_row(line, values, today)
        if row is not None:
            rows.append(row)
        problems.extend(found)
    return rows, problems


# A dwelling as a file names it: address code, building label (None: any), unit, room.
_Key = tuple[str, str | None, int | None, str]


@dataclass
class _Dwelling:
    id: int
    version: int
    status: str
    valid_from: dt.date


def _dwellings(session: Session, actor: Actor, rows: list[_Row]) -> dict[_Key, list[_Dwelling]]:
    """The current dwellings on the rows' plates inside the submitter's jurisdiction, by (address code, building
    label, unit, room); each also under a None building label, for files that name no building."""
    codes = sorted({r.address_code for r in rows})
    found: dict[_Key, list[_Dwelling]] = {}
    for start in range(0, len(codes), 1000):
        stmt = (
            select(
                Address.code,
                Area.path,
                BuildingVersion.label,
                DwellingVersion.unit,
                DwellingVersion.room,
                DwellingVersion.status,
                DwellingVersion.valid_from,
                Dwelling.id,
                Dwelling.version,
            )
            .join(Area, Area.id == Address.area_id)
            .join(Building, Building.address_id == Address.id)
            .join(
                BuildingVersion,
                (BuildingVersion.entity_id == Building.id)
                & BuildingVersion.superseded_at.is_(None)
                & BuildingVersion.valid_to.is_(None),
            )
            .join(Dwelling, Dwelling.building_id == Building.id)
            .join(
                DwellingVersion,
                (DwellingVersion.entity_id == Dwelling.id)
                & DwellingVersion.superseded_at.is_(None)
                & DwellingVersion.valid_to.is_(None),
            )
            .where(Address.code.in_(codes[start : start + 1000]))
        )
        for code, path, label, unit, room, status, valid_from, did, version in session.execute(stmt):
            if not actor.covers_path(str(path)):
                continue
            item = _Dwelling(int(did), int(version), str(status), valid_from)
            keys: tuple[_Key, _Key] = ((str(code), label, unit, room), (str(code), None, unit, room))
            for key in keys:
                found.setdefault(key, []).append(item)
    return found


def _not_found(line: int, row: _Row) -> RowProblem:
    return _row_problem(
        line,
        _bad(
            "department.dwelling_not_found",
            f"本辖区内没有该房屋：{row.address_code} {row.building or ''} {row.unit or ''}单元 {row.room}",
            f"No such dwelling in your jurisdiction: {row.address_code} {row.building or ''} "
            f"unit {row.unit or '-'} room {row.room}",
            "room",
        ),
        "room",
    )


def _ambiguous(line: int) -> RowProblem:
    return _row_problem(
        line,
        _bad(
            "department.dwelling_ambiguous",
            "该门牌下有多处同号房屋，请填写楼栋和单元",
            "Several dwellings on this plate have this room: give the building and the unit",
            "building",
        ),
        "building",
    )


def ensure_provides_status(agreement: Agreement, dept: Department) -> None:
    """The agreement must name the dwelling status among what the department provides."""
    require_provided(
        agreement,
        dept,
        object_kind="dwelling",
        field="status",
        kind="dwellings",
        zh="房屋状态",
        en="dwelling statuses",
    )


def plan_dwellings(
    session: Session, actor: Actor, table: FeedTable, today: dt.date, whole: bool
) -> tuple[list[tuple[_Row, _Dwelling]], list[RowProblem]]:
    """Every row matched to its dwelling, or refused (all of the batch's problems at once)."""
    rows, problems = _read_rows(table, today)
    index = _dwellings(session, actor, rows)
    planned: list[tuple[_Row, _Dwelling]] = []
    seen: dict[int, int] = {}
    for row in rows:
        hits = index.get((row.address_code, row.building, row.unit, row.room)) or []
        if row.unit is None and not hits:
            hits = [
                d
                for (c, b, _u, r), ds in index.items()
                if (c, b, r) == (row.address_code, row.building, row.room)
                for d in ds
            ]
        unique = {d.id: d for d in hits}
        if not unique:
            problems.append(_not_found(row.line, row))
        elif len(unique) > 1:
            problems.append(_ambiguous(row.line))
        else:
            dwelling = next(iter(unique.values()))
            if dwelling.id in seen:
                problems.append(
                    _row_problem(
                        row.line,
                        _bad(
                            "department.dwelling_repeated",
                            f"同一房屋在第{seen[dwelling.id]}行已出现",
                            f"The same dwelling is already on line {seen[dwelling.id]}",
                            "room",
                        ),
                        "room",
                    )
                )
                continue
            if row.effective < dwelling.valid_from and row.status != dwelling.status:
                problems.append(
                    _row_problem(
                        row.line,
                        _bad(
                            "department.dwelling_date_before_current",
                            "变动日期早于房屋当前状态的生效日期",
                            "The date is before the dwelling's current status began",
                            "effective",
                        ),
                        "effective",
                    )
                )
                continue
            seen[dwelling.id] = row.line
            planned.append((row, dwelling))
    problems.sort(key=lambda p: p.line)
    bad_lines = {p.line for p in problems}
    planned = [(r, d) for r, d in planned if r.line not in bad_lines]
    if problems and (whole or not planned):
        raise _refuse_rows(problems, len(bad_lines) + len(planned))
    return planned, problems


def write_dwellings(
    session: Session,
    writer: registry.Context,
    planned: list[tuple[_Row, _Dwelling]],
    prov: registry.Provenance,
    reason: str,
) -> tuple[int, int]:
    """The changed statuses written through the registry; returns (applied, same)."""
    applied = same = 0
    for row, dwelling in planned:
        if row.status == dwelling.status:
            same += 1
            continue
        registry.change(
            session,
            writer,
            DWELLING,
            dwelling.id,
            {"status": row.status},
            expected_version=dwelling.version,
            effective=max(row.effective, dwelling.valid_from),
            prov=prov,
            reason=reason,
        )
        applied += 1
    return applied, same
