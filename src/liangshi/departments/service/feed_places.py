"""Areas and streets from civil affairs (民政: 区划、街路巷名称, issue 15): a civil-affairs office's file of areas
(code, name, parent, level, valid from; a former code for a re-coded area) and one of streets (the community or
township, the name, the kind, start and end, valid from; a former name for a renamed street).

Civil affairs is the authority on names and codes, and areas and streets are changed directly today (no review
desk for them), so an accepted row is written at once through the area and street services: a new area by
`areas.service.create_area`, a rename by `registry.change` as `PATCH /areas/{id}` renames (the former name stays
readable before the date), a new code by `areas.service.recode_area` (the former code kept in `area_codes`); a
new street by `addresses.service.create_street`, a rename or a new kind by `addresses.service.change_street` (the
former name is a version the address matcher still reads). A row the register already holds writes nothing
(`same`), so a re-sent file changes nothing. Each row is checked with all of its problems reported at once (line,
field, code); the good rows are kept unless the agreement says all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.rules import Actor
from liangshi.addresses.models import Street, StreetVersion
from liangshi.addresses.schemas import StreetCreate, StreetPatch, StreetType, Style
from liangshi.addresses.service import change_street, create_street
from liangshi.areas import service as areas
from liangshi.areas.models import AREA, Area, AreaVersion
from liangshi.areas.rules import check_child
from liangshi.areas.schemas import AreaCreate
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
from liangshi.registry import Context, Provenance

AREA_COLUMNS: dict[str, str] = {
    "code": "区划代码",
    "name": "区划名称",
    "parent_code": "上级区划代码",
    "level": "级别",
    "valid_from": "生效日期",
    "former_code": "原区划代码",
}
AREA_REQUIRED = ("code", "name")
# The headers of the police extract's areas (docs/import-formats.md `areas`), which a civil-affairs office may send
# its file under (the synthetic city's civil_affairs_areas.csv does).
AREA_ALIASES: dict[str, str] = {
    "代码": "code",
    "名称": "name",
    "上级代码": "parent_code",
    "起始日期": "valid_from",
}
STREET_COLUMNS: dict[str, str] = {
    "area_code": "所属区划代码",
    "name": "街路巷名称",
    "street_type": "类别",
    "start": "起点",
    "end": "止点",
    "valid_from": "生效日期",
    "former_name": "原名称",
    "numbering_style": "编号样式",
    "bearing_deg": "走向",
}
STREET_REQUIRED = ("area_code", "name")
# Other headers of the same columns, the police extract's streets among them (区县代码: the district, 类型, 起始日期).
STREET_ALIASES: dict[str, str] = {
    "社区代码": "area_code",
    "乡镇街道代码": "area_code",
    "区县代码": "area_code",
    "名称": "name",
    "类型": "street_type",
    "起始日期": "valid_from",
}
# The levels a file names, by code or by Chinese name.
LEVELS: dict[str, str] = {
    **{lv: lv for lv in ("subdistrict", "town", "township", "community", "village", "group", "grid")},
    "街道": "subdistrict",
    "镇": "town",
    "乡": "township",
    "社区": "community",
    "居委会": "community",
    "村": "village",
    "行政村": "village",
    "村民小组": "group",
    "组": "group",
    "网格": "grid",
}
STREET_TYPES: tuple[str, ...] = get_args(StreetType)
STYLES: tuple[str, ...] = get_args(Style)
# What an agreement names among what the department provides for each kind.
PROVIDES = {"areas": ("area", "name"), "streets": ("street", "name")}
_NAMES = {"areas": ("区划", "areas"), "streets": ("街路巷名称", "streets")}


def _bad(code: str, zh: str, en: str, field: str, **data: Any) -> ValidationFailed:
    return ValidationFailed(code, zh, en, {"field": field, **data})


def _required(columns: dict[str, str], key: str) -> ValidationFailed:
    return _bad("department.place_field_required", f"{columns[key]}不能为空", f"{key} is required", key)


def ensure_provides(agreement: Agreement, dept: Department, kind: str) -> None:
    """The agreement must name the areas' (or streets') names among what the department provides."""
    object_kind, name = PROVIDES[kind]
    zh, en = _NAMES[kind]
    require_provided(agreement, dept, object_kind=object_kind, field=name, kind=kind, zh=zh, en=en)


def _date(cells: dict[str, str], today: dt.date, problem: Any) -> dt.date:
    raw = cells.get("valid_from", "").strip()
    if not raw:
        return today
    try:
        day = formats.parse_date(raw, "valid_from")
    except LiangshiError as exc:
        problem(exc)
        return today
    if day > today:
        problem(
            _bad(
                "department.place_date_future",
                "生效日期不能晚于今天",
                "The date cannot be in the future",
                "valid_from",
            )
        )
    return day


def _cells(table: FeedTable, mapping: dict[int, str]) -> list[tuple[int, dict[str, str]]]:
    out = []
    for line, cells in table.rows:
        values = {key: (cells[i].strip() if i < len(cells) else "") for i, key in mapping.items()}
        if any(values.values()):
            out.append((line, values))
    if not out:
        raise ValidationFailed(
            "department.batch_empty", "批次没有记录", "The batch has no records", {"field": "rows"}
        )
    return out


def _refuse_or_keep(
    planned: list[Any], problems: list[RowProblem], whole: bool
) -> tuple[list[Any], list[RowProblem]]:
    problems.sort(key=lambda p: p.line)
    bad = {p.line for p in problems}
    planned = [p for p in planned if p.line not in bad]
    if problems and (whole or not planned):
        raise _refuse_rows(problems, len(bad) + len(planned))
    return planned, problems


# ---- areas ------------------------------------------------------------------------------------------------------


@dataclass
class AreaRow:
    """One checked area row and what it comes to: `new`, `rename`, `recode` (and maybe a rename) or `same`."""

    line: int
    code: str
    name: str
    parent_code: str
    level: str
    valid_from: dt.date
    former_code: str
    action: str = "same"
    area_id: int | None = None
    version: int = 0
    held_name: str = ""
    since: dt.date = dt.date.min


def _code_ok(code: str) -> bool:
    """A street's area: a district (6 digits, as the police extract names it), township, community or village."""
    return code.isdigit() and len(code) in (6, 9, 12, 15)


def _parse_area(line: int, cells: dict[str, str], today: dt.date) -> tuple[AreaRow, list[RowProblem]]:
    problems: list[RowProblem] = []

    def problem(exc: LiangshiError) -> None:
        problems.append(_row_problem(line, exc, str(exc.data.get("field", ""))))

    code, name = cells.get("code", ""), cells.get("name", "")
    parent, former = cells.get("parent_code", ""), cells.get("former_code", "")
    for key, value in (("code", code), ("parent_code", parent), ("former_code", former)):
        if key == "code" and not value:
            problem(_required(AREA_COLUMNS, "code"))
        elif value and not (
            value.isdigit() and len(value) in ((6, 9, 12) if key == "parent_code" else (9, 12, 15))
        ):
            problem(
                _bad(
                    "department.area_code_invalid",
                    f"{AREA_COLUMNS[key]}须为区划代码（县级以下为9、12或15位，上级区划可为6位）",
                    f"{key} must be an area code (9, 12 or 15 digits below county level; a parent may have 6)",
                    key,
                    input=value,
                )
            )
    if not name:
        problem(_required(AREA_COLUMNS, "name"))
    elif len(name) > 50:
        problem(_bad("department.area_name_too_long", "区划名称过长", "The area name is too long", "name"))
    raw_level = cells.get("level", "")
    level = LEVELS.get(raw_level) or LEVELS.get(raw_level.lower(), "")
    if raw_level and not level:
        problem(
            _bad(
                "department.area_level_unknown",
                f"未知的区划级别：{raw_level}（可用：街道、镇、乡、社区、村、村民小组、网格）",
                f"Unknown area level: {raw_level} (subdistrict, town, township, community, village, group, grid)",
                "level",
                input=raw_level,
            )
        )
    day = _date(cells, today, problem)
    return AreaRow(line, code, name, parent, level, day, former), problems


@dataclass
class _Held:
    id: int
    code: str
    level: str
    path: str
    version: int
    name: str
    valid_from: dt.date


def _held_areas(session: Session, codes: set[str], today: dt.date) -> dict[str, _Held]:
    found: dict[str, _Held] = {}
    wanted = sorted(c for c in codes if c)
    for start in range(0, len(wanted), 1000):
        stmt = (
            select(Area, AreaVersion.name, AreaVersion.valid_from)
            .join(
                AreaVersion,
                (AreaVersion.entity_id == Area.id)
                & AreaVersion.superseded_at.is_(None)
                & AreaVersion.valid_to.is_(None),
            )
            .where(Area.code.in_(wanted[start : start + 1000]))
        )
        for a, name, since in session.execute(stmt):
            found[a.code] = _Held(a.id, a.code, a.level, a.path, a.version, str(name), since)
    return found


def _place_problem(line: int, exc: ValidationFailed) -> RowProblem:
    return _row_problem(line, exc, str(exc.data["field"]))


def _plan_area(
    row: AreaRow, held: dict[str, _Held], new: dict[str, AreaRow], actor: Actor
) -> RowProblem | None:
    """What the row comes to, or its problem; `new` holds the areas the file creates so far (by code)."""
    current = held.get(row.code)
    recoded_already = row.former_code not in held and current is not None  # a re-sent file
    if row.former_code and row.former_code != row.code and not recoded_already:
        former = held.get(row.former_code)
        if former is None or not actor.covers_path(former.path):
            return _place_problem(
                row.line,
                _bad(
                    "department.area_not_found",
                    f"本辖区内没有原区划代码为{row.former_code}的区划",
                    f"No area of former code {row.former_code} in your jurisdiction",
                    "former_code",
                ),
            )
        if current is not None or row.code in new:
            return _place_problem(
                row.line,
                _bad("department.area_code_taken", "区划代码已存在", "The area code exists already", "code"),
            )
        row.action, row.area_id, row.version = "recode", former.id, former.version
        row.held_name, row.since = former.name, former.valid_from
        return _dated(row, former)
    if current is not None:
        if not actor.covers_path(current.path):
            return _place_problem(
                row.line,
                _bad(
                    "department.area_not_yours",
                    "该区划不在本辖区内",
                    "The area is outside your jurisdiction",
                    "code",
                ),
            )
        if row.level and row.level != current.level:
            return _place_problem(
                row.line,
                _bad(
                    "department.area_level_differs",
                    "级别与登记的区划级别不一致",
                    "The level differs from the area's recorded level",
                    "level",
                ),
            )
        row.area_id, row.version = current.id, current.version
        row.held_name, row.since = current.name, current.valid_from
        row.action = "same" if row.name == current.name else "rename"
        return _dated(row, current) if row.action == "rename" else None
    # A new area: its parent is held (in the jurisdiction) or is a new area earlier in the file.
    if not row.parent_code or not row.level:
        key = "parent_code" if not row.parent_code else "level"
        return _row_problem(row.line, _required(AREA_COLUMNS, key), key)
    parent = held.get(row.parent_code)
    parent_level = (
        parent.level if parent is not None else (new[row.parent_code].level if row.parent_code in new else "")
    )
    if (parent is None or not actor.covers_path(parent.path)) and row.parent_code not in new:
        return _place_problem(
            row.line,
            _bad(
                "department.area_parent_unknown",
                f"本辖区内没有上级区划{row.parent_code}",
                f"No parent area {row.parent_code} in your jurisdiction",
                "parent_code",
            ),
        )
    try:
        check_child(row.parent_code, parent_level, row.code, row.level)
    except ValidationFailed as exc:
        return _row_problem(row.line, exc, "code")
    row.action = "new"
    new[row.code] = row
    return None


def _before_current(line: int) -> RowProblem:
    return _place_problem(
        line,
        _bad(
            "department.place_date_before_current",
            "生效日期须晚于当前登记的生效日期（更名须保留原名称）",
            "The date must be after the current record began (a rename keeps the former name)",
            "valid_from",
        ),
    )


def _dated(row: AreaRow, held: _Held) -> RowProblem | None:
    # A rename must start after the current name did, so the former name stays readable before it.
    renamed = row.name != held.name
    if row.valid_from < held.valid_from or (renamed and row.valid_from <= held.valid_from):
        return _before_current(row.line)
    return None


def plan_areas(
    session: Session, actor: Actor, table: FeedTable, today: dt.date, whole: bool
) -> tuple[list[AreaRow], list[RowProblem]]:
    """Every row checked and matched to the area it names (or refused: all the batch's problems at once)."""
    mapping = feed_column_map(table.header, AREA_COLUMNS, AREA_REQUIRED, AREA_ALIASES)
    rows: list[AreaRow] = []
    problems: list[RowProblem] = []
    for line, cells in _cells(table, mapping):
        row, found = _parse_area(line, cells, today)
        problems += found
        if not found:
            rows.append(row)
    held = _held_areas(session, {c for r in rows for c in (r.code, r.parent_code, r.former_code)}, today)
    new: dict[str, AreaRow] = {}
    seen: dict[str, int] = {}
    planned: list[AreaRow] = []
    for row in rows:
        if row.code in seen:
            problems.append(
                _place_problem(
                    row.line,
                    _bad(
                        "department.area_repeated",
                        f"同一区划在第{seen[row.code]}行已出现",
                        f"The same area is already on line {seen[row.code]}",
                        "code",
                    ),
                )
            )
            continue
        seen[row.code] = row.line
        found_problem = _plan_area(row, held, new, actor)
        if found_problem is not None:
            problems.append(found_problem)
        else:
            planned.append(row)
    kept, problems = _refuse_or_keep(planned, problems, whole)
    # A new area whose new parent's row was refused is refused too.
    kept_codes = {r.code for r in kept}
    orphans = [
        r for r in kept if r.action == "new" and r.parent_code in new and r.parent_code not in kept_codes
    ]
    for r in orphans:
        problems.append(
            _place_problem(
                r.line,
                _bad(
                    "department.area_parent_unknown",
                    f"本辖区内没有上级区划{r.parent_code}",
                    f"No parent area {r.parent_code} in your jurisdiction",
                    "parent_code",
                ),
            )
        )
    return _refuse_or_keep(kept, problems, whole) if orphans else (kept, problems)


def write_areas(
    session: Session, writer: Context, planned: list[AreaRow], prov: Provenance, reason: str
) -> tuple[int, int]:
    """The new, renamed and re-coded areas written through the area service and the registry; (applied, same)."""
    applied = same = 0
    for row in planned:
        if row.action == "same":
            same += 1
            continue
        if row.action == "new":
            areas.create_area(
                session,
                writer,
                AreaCreate.model_validate(
                    {
                        "code": row.code,
                        "name": row.name,
                        "level": row.level,
                        "parent_code": row.parent_code,
                        "valid_from": row.valid_from,
                        "provenance": {"source_kind": prov.source_kind, "source_ref": prov.source_ref},
                    }
                ),
            )
        else:
            assert row.area_id is not None
            if row.action == "recode":
                areas.recode_area(session, writer, row.area_id, row.code, row.valid_from)
            if row.held_name != row.name:
                registry.change(
                    session,
                    writer,
                    AREA,
                    row.area_id,
                    {"name": row.name},
                    expected_version=row.version,
                    effective=row.valid_from,
                    prov=prov,
                    reason=reason,
                )
        applied += 1
    return applied, same


# ---- streets ----------------------------------------------------------------------------------------------------


@dataclass
class StreetRow:
    """One checked street row and what it comes to: `new`, `change` (a rename or new facts) or `same`."""

    line: int
    area_code: str
    name: str
    street_type: str
    start: str
    end: str
    valid_from: dt.date
    former_name: str
    numbering_style: str = ""
    bearing_deg: int | None = None
    action: str = "same"
    area_id: int = 0
    street_id: int | None = None
    version: int = 0
    changes: dict[str, Any] = field(default_factory=dict)

    def described(self) -> str | None:
        """The start and end as the street's start description (起于…，止于…); a start that already says it is one
        (起于…, or 起点… as the police extract writes it) is kept as written."""
        start = self.start if self.start.startswith(("起于", "起点")) else f"起于{self.start}"
        parts = [start if self.start else "", f"止于{self.end}" if self.end else ""]
        text = "，".join(p for p in parts if p)
        return text or None


def _parse_street(line: int, cells: dict[str, str], today: dt.date) -> tuple[StreetRow, list[RowProblem]]:
    problems: list[RowProblem] = []

    def problem(exc: LiangshiError) -> None:
        problems.append(_row_problem(line, exc, str(exc.data.get("field", ""))))

    code, name = cells.get("area_code", ""), cells.get("name", "")
    if not code:
        problem(_required(STREET_COLUMNS, "area_code"))
    elif not _code_ok(code):
        problem(
            _bad(
                "department.area_code_invalid",
                f"{STREET_COLUMNS['area_code']}须为区划代码（县级以下为9、12或15位，上级区划可为6位）",
                f"{'area_code'} must be an area code (9, 12 or 15 digits below county level; a parent may have 6)",
                "area_code",
                input=code,
            )
        )
    for key, value in (("name", name), ("former_name", cells.get("former_name", ""))):
        if key == "name" and not value:
            problem(_required(STREET_COLUMNS, "name"))
        elif len(value) > 50:
            problem(
                _bad("department.street_name_too_long", "街路巷名称过长", "The street name is too long", key)
            )
    kind = cells.get("street_type", "")
    if kind and kind not in STREET_TYPES:
        problem(
            _bad(
                "department.street_type_unknown",
                f"未知的街路巷类别：{kind}（可用：{'、'.join(STREET_TYPES)}）",
                f"Unknown street kind: {kind} ({', '.join(STREET_TYPES)})",
                "street_type",
                input=kind,
            )
        )
    style = cells.get("numbering_style", "")
    if style and style not in STYLES:
        problem(
            _bad(
                "department.street_style_unknown",
                f"未知的门牌编号样式：{style}（可用：{'、'.join(STYLES)}）",
                f"Unknown numbering style: {style} ({', '.join(STYLES)})",
                "numbering_style",
                input=style,
            )
        )
    raw_bearing = cells.get("bearing_deg", "")
    bearing = int(raw_bearing) if raw_bearing.isdigit() and int(raw_bearing) < 360 else None
    if raw_bearing and bearing is None:
        problem(
            _bad(
                "department.street_bearing_invalid",
                "走向须为0至359的整数（度）",
                "The bearing must be a whole number of degrees from 0 to 359",
                "bearing_deg",
                input=raw_bearing,
            )
        )
    start, end = cells.get("start", ""), cells.get("end", "")
    if len(start) + len(end) > 190:
        problem(
            _bad(
                "department.street_ends_too_long", "起止点描述过长", "The start and end are too long", "start"
            )
        )
    day = _date(cells, today, problem)
    row = StreetRow(line, code, name, kind, start, end, day, cells.get("former_name", ""), style, bearing)
    return row, problems


@dataclass
class _HeldStreet:
    id: int
    version: int
    street_type: str
    start_description: str | None
    valid_from: dt.date
    numbering_style: str
    bearing_deg: int | None


def _current_streets(session: Session, counties: set[str]) -> dict[tuple[str, str], _HeldStreet]:
    """The current streets of the counties by (county, name)."""
    sv = StreetVersion
    stmt = (
        select(sv, Street.version)
        .join(Street, Street.id == sv.entity_id)
        .where(sv.county_code.in_(sorted(counties)), sv.superseded_at.is_(None), sv.valid_to.is_(None))
    )
    return {
        (str(v.county_code), str(v.name)): _HeldStreet(
            int(v.entity_id),
            int(version),
            str(v.street_type),
            v.start_description,
            v.valid_from,
            str(v.numbering_style),
            v.bearing_deg,
        )
        for v, version in session.execute(stmt)
    }


def plan_streets(
    session: Session, actor: Actor, table: FeedTable, today: dt.date, whole: bool
) -> tuple[list[StreetRow], list[RowProblem]]:
    """Every row checked and matched to the street it names (or refused: all the batch's problems at once)."""
    mapping = feed_column_map(table.header, STREET_COLUMNS, STREET_REQUIRED, STREET_ALIASES)
    rows: list[StreetRow] = []
    problems: list[RowProblem] = []
    for line, cells in _cells(table, mapping):
        row, found = _parse_street(line, cells, today)
        problems += found
        if not found:
            rows.append(row)
    held = {
        a.code: a
        for a in session.execute(
            select(Area).where(Area.code.in_(sorted({r.area_code for r in rows})))
        ).scalars()
    }
    streets = _current_streets(session, {a.county_code for a in held.values()})
    seen: dict[tuple[str, str], int] = {}
    planned: list[StreetRow] = []
    for row in rows:
        area = held.get(row.area_code)
        if area is None or not actor.covers_path(area.path):
            problems.append(
                _place_problem(
                    row.line,
                    _bad(
                        "department.street_area_unknown",
                        f"本辖区内没有区划{row.area_code}",
                        f"No area {row.area_code} in your jurisdiction",
                        "area_code",
                    ),
                )
            )
            continue
        key = (area.county_code, row.name)
        if key in seen:
            problems.append(
                _place_problem(
                    row.line,
                    _bad(
                        "department.street_repeated",
                        f"同一街路巷在第{seen[key]}行已出现",
                        f"The same street is already on line {seen[key]}",
                        "name",
                    ),
                )
            )
            continue
        seen[key] = row.line
        # A street belongs to the township or subdistrict (a community's or village's parent).
        row.area_id = (
            int(area.parent_id)
            if area.level in ("community", "village", "group", "grid") and area.parent_id
            else area.id
        )
        renamed = bool(row.former_name) and row.former_name != row.name
        if renamed and (area.county_code, row.former_name) not in streets and key in streets:
            renamed = False  # renamed already (a re-sent file)
        held_street = streets.get((area.county_code, row.former_name if renamed else row.name))
        if renamed and held_street is None:
            problems.append(
                _place_problem(
                    row.line,
                    _bad(
                        "department.street_not_found",
                        f"本区没有名为“{row.former_name}”的街路巷",
                        f"No street named {row.former_name!r} in the district",
                        "former_name",
                    ),
                )
            )
            continue
        if renamed and key in streets:
            problems.append(
                _place_problem(
                    row.line,
                    _bad(
                        "department.street_name_taken",
                        "本区已有同名街路巷",
                        "A street with this name exists in the district",
                        "name",
                    ),
                )
            )
            continue
        if held_street is None:
            if not row.street_type:
                problems.append(
                    _row_problem(row.line, _required(STREET_COLUMNS, "street_type"), "street_type")
                )
                continue
            row.action = "new"
            planned.append(row)
            continue
        changes: dict[str, Any] = {"name": row.name} if renamed else {}
        if row.street_type and row.street_type != held_street.street_type:
            changes["street_type"] = row.street_type
        described = row.described()
        if described and described != held_street.start_description:
            changes["start_description"] = described
        if row.numbering_style and row.numbering_style != held_street.numbering_style:
            changes["numbering_style"] = row.numbering_style
        if row.bearing_deg is not None and row.bearing_deg != held_street.bearing_deg:
            changes["bearing_deg"] = row.bearing_deg
        row.street_id, row.version, row.changes = held_street.id, held_street.version, changes
        row.action = "change" if changes else "same"
        since = held_street.valid_from
        if changes and (row.valid_from < since or (renamed and row.valid_from <= since)):
            problems.append(_before_current(row.line))
            continue
        planned.append(row)
    return _refuse_or_keep(planned, problems, whole)


def write_streets(
    session: Session, writer: Context, planned: list[StreetRow], prov: Provenance, reason: str
) -> tuple[int, int]:
    """The new and changed streets written through the street service and the registry; (applied, same)."""
    applied = same = 0
    for row in planned:
        if row.action == "same":
            same += 1
            continue
        if row.action == "new":
            create_street(
                session,
                writer,
                StreetCreate.model_validate(
                    {
                        "area_id": row.area_id,
                        "name": row.name,
                        "street_type": row.street_type,
                        "start_description": row.described(),
                        "numbering_style": row.numbering_style or "dash",
                        "bearing_deg": row.bearing_deg,
                        "valid_from": row.valid_from,
                        "provenance": {"source_kind": prov.source_kind, "source_ref": prov.source_ref},
                    }
                ),
            )
        else:
            assert row.street_id is not None
            change_street(
                session,
                writer,
                row.street_id,
                StreetPatch.model_validate(
                    {
                        **row.changes,
                        "expected_version": row.version,
                        "effective": row.valid_from,
                        "reason": reason[:500],
                        "provenance": {"source_kind": prov.source_kind, "source_ref": prov.source_ref},
                    }
                ),
            )
        applied += 1
    return applied, same
