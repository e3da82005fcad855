"""Visit vocabularies and what a visit changes (pure functions)."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from liangshi.common.lifecycle import Lifecycle
from liangshi.errors import ValidationFailed

# Occupancy as found at the door: every dwelling gets one (楼栋不漏户).
OUTCOMES: dict[str, tuple[str, str]] = {
    "occupied": ("有人居住", "Occupied"),
    "vacant": ("空置", "Vacant"),
    "nobody_home": ("无人在家", "Nobody home"),
    "refused": ("拒绝配合", "Refused"),
}


def dwelling_status_after(current: str, outcome: str) -> str | None:
    """The dwelling status a visit implies, or None when it stays as it is.

    A rented dwelling found occupied stays 'rented' (the rental is the stronger fact); a demolished one is never
    revived by a visit (it is corrected, not visited).
    """
    if current == "demolished":
        return None
    if outcome == "occupied" and current == "rented":
        return None
    return outcome if outcome != current else None


def building_visit_status(dwellings: int, visited: int) -> str:
    """A building's visit status from how many of its dwellings have a visit (辖区不漏楼)."""
    if visited <= 0:
        return "not_visited"
    return "visited" if visited >= dwellings else "partly_visited"


# ---- the campaign's organisation (pure: no session, no clock) -------------------------------------------------

# The seed's five phases, in order (2010: March; April; May–October; November; from December).
# key -> (zh, en, length in months; None = open-ended)
DEFAULT_PHASES: tuple[tuple[str, str, str, int | None], ...] = (
    ("prepare", "准备宣传", "Preparation and publicity", 1),
    ("plates", "门牌摸排", "Street names and door plates", 1),
    ("collect", "集中采集", "Door-to-door collection", 6),
    ("inspect", "检查验收", "Inspection and acceptance", 1),
    ("maintain", "长效管理", "Keeping it up", None),
)
PHASE_STATUSES: dict[str, tuple[str, str]] = {
    "planned": ("未开始", "Not started"),
    "active": ("进行中", "In progress"),
    "done": ("已结束", "Finished"),
}
# Team member roles (专班): the leader is a flag beside the role.
TEAM_ROLES: dict[str, tuple[str, str]] = {
    "community_police": ("社区民警", "Community police officer"),
    "auxiliary": ("协管员", "Auxiliary officer"),
    "grid_worker": ("网格员", "Grid worker"),
    "enumerator": ("普查员", "Enumerator"),
    "family_planning": ("计生专干", "Family-planning officer"),
}
UNIT_KINDS: dict[str, tuple[str, str]] = {
    "community": ("社区", "Community"),
    "grid": ("网格", "Grid"),
    "street": ("街路巷", "Street"),
    "buildings": ("楼栋清单", "List of buildings"),
}
ASSIGNMENT_STATUSES: dict[str, tuple[str, str]] = {
    "open": ("进行中", "Open"),
    "returned": ("已退回", "Returned"),
    "reassigned": ("已改派", "Reassigned"),
}
ASSIGNMENT_LIFECYCLE = Lifecycle(
    label_zh="任务",
    label_en="assignment",
    statuses=ASSIGNMENT_STATUSES,
    actions={"reassign": ("改派", "reassign"), "return": ("退回", "return")},
    table={"open": ("reassign", "return"), "returned": ("reassign",), "reassigned": ()},
    code="assignment.not_open",
    message_en="An assignment that is {status} cannot be given the action {action}",
)
CARDS: dict[str, tuple[str, str]] = {
    "green": ("正常", "On time"),
    "yellow": ("黄牌", "Yellow card: due soon"),
    "red": ("红牌", "Red card: overdue"),
}
DEFAULT_YELLOW_DAYS = 3
# Occupancy as the completeness check reads it (楼栋不漏户): the visits' outcomes plus demolished.
OCCUPANCY: dict[str, tuple[str, str]] = {
    **OUTCOMES,
    "demolished": ("已拆除", "Demolished"),
    "no_status": ("未走访", "Not visited"),
}
BUILDING_VISIT_STATUSES: dict[str, tuple[str, str]] = {
    "not_visited": ("未走访", "Not visited"),
    "partly_visited": ("部分走访", "Partly visited"),
    "visited": ("已走访", "Visited"),
}


def _bad(code: str, zh: str, en: str, **data: Any) -> ValidationFailed:
    return ValidationFailed(code, zh, en, data)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the last day of a shorter month)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class PhaseSpec:
    """A phase of a campaign: its key, names and dates (ends_on None: open-ended)."""

    key: str
    name_zh: str
    name_en: str
    starts_on: dt.date
    ends_on: dt.date | None


def default_phases(starts_on: dt.date) -> list[PhaseSpec]:
    """The seed's five phases from a start date, each as long as in the seed (1, 1, 6, 1 months, then open)."""
    phases: list[PhaseSpec] = []
    start = starts_on
    for key, zh, en, months in DEFAULT_PHASES:
        end = None if months is None else add_months(start, months) - dt.timedelta(days=1)
        phases.append(PhaseSpec(key, zh, en, start, end))
        if end is not None:
            start = end + dt.timedelta(days=1)
    return phases


def phase_status(starts_on: dt.date, ends_on: dt.date | None, today: dt.date) -> str:
    """A phase's status on a day: planned before it starts, active while it runs, done after it ends."""
    if today < starts_on:
        return "planned"
    if ends_on is not None and today > ends_on:
        return "done"
    return "active"


@dataclass(frozen=True)
class WorkCalendar:
    """Public holidays and the weekend days made working days (调休) of a holiday calendar."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def to_json(self) -> dict[str, list[str]]:
        """The calendar as lists of ISO dates."""
        return {
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
        }


def _day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _bad(
            "campaign.bad_date",
            "日期格式须为 YYYY-MM-DD",
            "A date is written YYYY-MM-DD",
            field=field,
            value=str(value),
        ) from None


def _days(values: Any, field: str) -> set[dt.date]:
    """Dates from a list of ISO dates or ranges `2026-10-01..2026-10-07`."""
    if values is None:
        return set()
    if not isinstance(values, list):
        raise _bad(
            "campaign.calendar_not_a_list", "节假日须为日期列表", "Holidays are a list of dates", field=field
        )
    days: set[dt.date] = set()
    for item in values:
        first, sep, last = str(item).partition("..")
        start = _day(first.strip(), field)
        end = _day(last.strip(), field) if sep else start
        if end < start or (end - start).days > 366:
            raise _bad(
                "campaign.bad_date_range",
                "日期区间无效",
                "The date range is not valid",
                field=field,
                value=item,
            )
        days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return days


def parse_calendar(data: Mapping[str, Any]) -> WorkCalendar:
    """A holiday calendar from `{"holidays": [...], "workdays": [...]}` (ISO dates or `a..b` ranges)."""
    unknown = sorted(set(data) - {"holidays", "workdays"})
    if unknown:
        raise _bad(
            "campaign.calendar_unknown_field",
            "节假日文件含未知项",
            "Unknown keys in the calendar",
            keys=unknown,
        )
    holidays, workdays = _days(data.get("holidays"), "holidays"), _days(data.get("workdays"), "workdays")
    both = holidays & workdays
    if both:
        raise _bad(
            "campaign.calendar_day_twice",
            "同一天既是节假日又是调休工作日",
            "A day is both a holiday and a working day",
            days=sorted(d.isoformat() for d in both),
        )
    return WorkCalendar(frozenset(holidays), frozenset(workdays))


def is_working_day(day: dt.date, cal: WorkCalendar) -> bool:
    """Monday to Friday unless a holiday; a weekend day only when the calendar makes it a working day."""
    if day in cal.workdays:
        return True
    return day.weekday() < 5 and day not in cal.holidays


def working_days_between(start: dt.date, end: dt.date, cal: WorkCalendar) -> int:
    """Working days after `start` up to and including `end` (negative when `end` is before `start`)."""
    if end < start:
        return -working_days_between(end, start, cal)
    return sum(
        1 for i in range(1, (end - start).days + 1) if is_working_day(start + dt.timedelta(days=i), cal)
    )


def card(due_on: dt.date, today: dt.date, cal: WorkCalendar, yellow_days: int = DEFAULT_YELLOW_DAYS) -> str:
    """An assignment's card: red when overdue, yellow when due within `yellow_days` working days, else green."""
    if today > due_on:
        return "red"
    return "yellow" if working_days_between(today, due_on, cal) <= yellow_days else "green"


def occupancy(dwelling_status: str, last_outcome: str | None, nobody_home_tries: int) -> dict[str, Any]:
    """A dwelling's occupancy for the completeness check, with the tries and whether a revisit is needed."""
    status = "demolished" if dwelling_status == "demolished" else last_outcome or "no_status"
    return {
        "status": status,
        "tries": nobody_home_tries if status == "nobody_home" else 0,
        "revisit": status in ("nobody_home", "no_status"),
    }


# ---- the campaign file ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignSpec:
    """A validated campaign file: where, when, its phases, pilot areas and the yellow-card threshold."""

    name: str
    area_code: str
    starts_on: dt.date
    phases: list[PhaseSpec]
    pilot_area_codes: list[str]
    rollout_on: dt.date | None
    yellow_days: int
    calendar: WorkCalendar = field(default_factory=WorkCalendar)


CAMPAIGN_KEYS = {"name", "area", "starts_on", "phases", "pilots", "rollout_on", "yellow_days", "calendar"}
PHASE_KEYS = {"key", "name_zh", "name_en", "starts_on", "ends_on"}


CAMPAIGN_FILE_LIMIT = 64 * 1024


def read_campaign_document(raw: bytes, filename: str) -> dict[str, Any]:
    """A campaign file's bytes read into a mapping: TOML when the name ends in .toml, JSON when in .json, UTF-8
    (a BOM allowed); an unreadable file is refused naming the field `file`."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix not in ("toml", "json"):
        raise _bad(
            "campaign.file_kind",
            "活动文件须为TOML或JSON文件",
            "The campaign file must be a .toml or .json file",
            field="file",
            filename=filename,
        )
    if not raw.strip():
        raise _bad("campaign.file_empty", "活动文件为空", "The campaign file is empty", field="file")
    if len(raw) > CAMPAIGN_FILE_LIMIT:
        raise _bad(
            "campaign.file_too_large",
            "活动文件过大（至多64 KB）",
            "The campaign file is too large (at most 64 KB)",
            field="file",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(
            "campaign.file_encoding", "活动文件须为UTF-8编码", "The campaign file must be UTF-8", field="file"
        ) from None
    try:
        data = tomllib.loads(text) if suffix == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise _bad(
            "campaign.file_syntax",
            f"活动文件格式有误：{exc}",
            f"The campaign file cannot be read: {exc}",
            field="file",
        ) from None
    if not isinstance(data, dict):
        raise _bad(
            "campaign.file_not_object",
            "活动文件须为一个对象",
            "The campaign file must hold one object",
            field="file",
        )
    return data


def parse_campaign(data: Mapping[str, Any]) -> CampaignSpec:
    """Validate a campaign file (TOML or JSON, already read into a mapping); every error names its field.

    Phases default to the seed's five from `starts_on`; given, they must follow each other without overlap.
    Pilot areas (先试点) start with the campaign; the rest (后展开) from `rollout_on`.
    """
    unknown = sorted(set(data) - CAMPAIGN_KEYS)
    if unknown:
        raise _bad(
            "campaign.unknown_field", "活动文件含未知项", "Unknown keys in the campaign file", keys=unknown
        )
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise _bad(
            "campaign.name_required",
            "请填写活动名称（至多100字）",
            "Name the campaign (≤ 100 characters)",
            field="name",
        )
    area = str(data.get("area") or "").strip()
    if not area.isdigit() or len(area) not in (6, 9, 12):
        raise _bad(
            "campaign.bad_area",
            "区划代码须为6、9或12位数字",
            "An area code has 6, 9 or 12 digits",
            field="area",
            value=area,
        )
    if "starts_on" not in data:
        raise _bad("campaign.start_required", "请填写开始日期", "Give the start date", field="starts_on")
    starts_on = _day(data["starts_on"], "starts_on")
    phases = _phases(data.get("phases"), starts_on)
    pilots = [str(p).strip() for p in data.get("pilots") or []]
    for code in pilots:
        if not code.isdigit() or len(code) not in (9, 12) or not code.startswith(area):
            raise _bad(
                "campaign.bad_pilot",
                "试点区划须为本活动区域内的乡镇或社区",
                "A pilot area is a township or community inside the campaign's area",
                field="pilots",
                value=code,
            )
    rollout = _day(data["rollout_on"], "rollout_on") if data.get("rollout_on") else None
    if rollout is not None and rollout < starts_on:
        raise _bad(
            "campaign.rollout_before_start",
            "全面展开日期不能早于开始日期",
            "The roll-out cannot start before the campaign",
            field="rollout_on",
        )
    if rollout is not None and not pilots:
        raise _bad(
            "campaign.rollout_without_pilots",
            "有全面展开日期时须指定试点区划",
            "A roll-out date needs pilot areas",
            field="pilots",
        )
    yellow = data.get("yellow_days", DEFAULT_YELLOW_DAYS)
    if not isinstance(yellow, int) or isinstance(yellow, bool) or not 0 <= yellow <= 30:
        raise _bad(
            "campaign.bad_yellow_days",
            "黄牌天数须为0至30的整数",
            "Yellow-card days are a whole number from 0 to 30",
            field="yellow_days",
        )
    cal_data = data.get("calendar") or {}
    if not isinstance(cal_data, Mapping):
        raise _bad(
            "campaign.calendar_not_a_table", "节假日须为对象", "The calendar is a table", field="calendar"
        )
    return CampaignSpec(
        name, area, starts_on, phases, list(dict.fromkeys(pilots)), rollout, yellow, parse_calendar(cal_data)
    )


def _phases(raw: Any, starts_on: dt.date) -> list[PhaseSpec]:
    if raw is None:
        return default_phases(starts_on)
    if not isinstance(raw, list) or not raw:
        raise _bad("campaign.phases_empty", "阶段须为非空列表", "Phases are a non-empty list", field="phases")
    phases: list[PhaseSpec] = []
    for i, item in enumerate(raw):
        where = f"phases[{i}]"
        if not isinstance(item, Mapping) or set(item) - PHASE_KEYS:
            raise _bad("campaign.bad_phase", "阶段项无效", "A phase entry is not valid", field=where)
        key = str(item.get("key") or "").strip()
        if not key or len(key) > 20:
            raise _bad(
                "campaign.phase_key_required",
                "阶段须有代码（至多20字）",
                "A phase needs a key (≤ 20 characters)",
                field=f"{where}.key",
            )
        known = {k: (zh, en) for k, zh, en, _ in DEFAULT_PHASES}
        zh = str(item.get("name_zh") or known.get(key, ("", ""))[0]).strip()
        en = str(item.get("name_en") or known.get(key, ("", ""))[1] or zh).strip()
        if not zh:
            raise _bad(
                "campaign.phase_name_required", "请填写阶段名称", "Name the phase", field=f"{where}.name_zh"
            )
        start = _day(item.get("starts_on"), f"{where}.starts_on")
        end = _day(item["ends_on"], f"{where}.ends_on") if item.get("ends_on") else None
        if end is not None and end < start:
            raise _bad(
                "campaign.phase_ends_before_start",
                "阶段结束日期早于开始日期",
                "A phase ends before it starts",
                field=f"{where}.ends_on",
            )
        if phases:
            prev = phases[-1]
            if prev.ends_on is None or start <= prev.ends_on:
                raise _bad(
                    "campaign.phases_overlap",
                    "阶段日期重叠或次序颠倒",
                    "Phases overlap or are out of order",
                    field=f"{where}.starts_on",
                )
        if any(p.key == key for p in phases):
            raise _bad(
                "campaign.phase_key_repeated", "阶段代码重复", "A phase key is repeated", field=f"{where}.key"
            )
        phases.append(PhaseSpec(key, zh, en[:100], start, end))
    if phases[0].starts_on < starts_on:
        raise _bad(
            "campaign.phase_before_start",
            "第一阶段早于活动开始日期",
            "The first phase starts before the campaign",
            field="phases[0].starts_on",
        )
    return phases


# ---- bulk assignment from CSV (pure parsing; names are resolved by the use case) -----------------------------

ASSIGNMENT_CSV_COLUMNS = ("collector", "unit", "target", "due_on")


@dataclass(frozen=True)
class AssignmentRow:
    """One parsed line of an assignment CSV: who, what kind of work unit, which, and by when."""

    line: int
    collector: str
    unit: str
    target: str
    due_on: dt.date


@dataclass(frozen=True)
class RowError:
    """A problem on one line of a bulk file."""

    line: int
    field: str
    reason_zh: str
    reason_en: str

    def to_json(self) -> dict[str, Any]:
        """The error as data."""
        return {
            "line": self.line,
            "field": self.field,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }


def parse_assignment_csv(text: str) -> tuple[list[AssignmentRow], list[RowError]]:
    """Rows of `collector,unit,target,due_on` (header first); every bad line and field is reported.

    `target` is an area code (community, grid), a street name, or building ids separated by `;` (buildings).
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[AssignmentRow] = []
    errors: list[RowError] = []
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(ASSIGNMENT_CSV_COLUMNS):
        return [], [
            RowError(
                1,
                "header",
                "表头须为 " + ",".join(ASSIGNMENT_CSV_COLUMNS),
                "The header must be " + ",".join(ASSIGNMENT_CSV_COLUMNS),
            )
        ]
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(ASSIGNMENT_CSV_COLUMNS):
            errors.append(
                RowError(number, "line", "列数不对", f"Expected {len(ASSIGNMENT_CSV_COLUMNS)} fields")
            )
            continue
        collector, unit, target, due = (c.strip() for c in cells)
        line_errors: list[RowError] = []
        if not collector:
            line_errors.append(
                RowError(number, "collector", "请填写采集员用户名", "The collector is missing")
            )
        if unit not in UNIT_KINDS:
            line_errors.append(
                RowError(
                    number,
                    "unit",
                    "工作单元须为 community/grid/street/buildings",
                    "The unit is community, grid, street or buildings",
                )
            )
        if not target:
            line_errors.append(RowError(number, "target", "请填写工作单元", "The target is missing"))
        elif unit == "buildings" and not all(p.strip().isdigit() for p in target.split(";")):
            line_errors.append(
                RowError(
                    number, "target", "楼栋编号须为以;分隔的数字", "Building ids are numbers separated by ;"
                )
            )
        due_on: dt.date | None = None
        try:
            due_on = dt.date.fromisoformat(due)
        except ValueError:
            line_errors.append(RowError(number, "due_on", "日期格式须为 YYYY-MM-DD", "A date is YYYY-MM-DD"))
        if line_errors or due_on is None:
            errors.extend(line_errors)
            continue
        rows.append(AssignmentRow(number, collector, unit, target, due_on))
    return rows, errors
