"""Pure rules of the department exchange: agreements, precedence, feed columns, working-day deadlines, cursors
and the exchange log's hash (no session, no clock)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from liangshi.errors import ValidationFailed
from liangshi.residence.calendar import HolidayCalendar

GENESIS = "0" * 64
CODE = re.compile(r"^[a-z][a-z0-9_]{1,29}$")

# Known department codes and their names (others may be registered with their own names).
DEPARTMENT_NAMES: dict[str, tuple[str, str]] = {
    "police": ("公安", "Police"),
    "health": ("卫生", "Health"),
    "justice": ("司法", "Justice"),
    "civil_affairs": ("民政", "Civil affairs"),
    "family_planning": ("计生", "Family planning"),
    "statistics": ("统计", "Statistics"),
    "housing": ("房产", "Housing"),
    "business_registry": ("工商", "Business registry"),
    "human_resources": ("人社", "Human resources and social security"),
    "education": ("教育", "Education"),
}

# Fields a department may provide that are not versioned attributes of the kind but events on it.
# `birth`: the department sends births (出生医学证明), each proposed as a birth registration (kind `births`).
# `correction`: justice sends community-correction cases (社区矫正), kept beside the person (kind `corrections`).
EVENT_FIELDS: dict[str, tuple[str, ...]] = {"person": ("death_date", "birth", "correction")}
# The kinds of community correction (社区矫正的类别, 《社区矫正法》第二条): code -> (Chinese, English).
CORRECTION_KINDS: dict[str, tuple[str, str]] = {
    "1": ("管制", "Public surveillance"),
    "2": ("缓刑", "Suspended sentence (probation)"),
    "3": ("假释", "Parole"),
    "4": ("暂予监外执行", "Temporary service of sentence outside prison"),
}

# The key columns of a person feed: records are matched to register persons by their document number.
PERSON_KEY = ("id_number", "doc_type")
# Column keys and Chinese headers of a person feed (the key columns, then every field a department may send).
PERSON_COLUMNS: dict[str, str] = {
    "id_number": "证件号码",
    "doc_type": "证件类型",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "nationality": "国籍",
    "hukou_region": "户籍地区划",
    "hukou_address": "户籍地址",
    "education": "文化程度",
    "marital_status": "婚姻状况",
    "occupation": "职业",
    "workplace": "服务处所",
    "phone": "联系电话",
    "death_date": "死亡日期",
}
# Columns of a person feed that route a record rather than describe the person: the community it concerns
# (管辖社区, a 12-digit area code: where a record nobody matched becomes a new person). Key -> Chinese header and
# the other headers departments write it under.
ROUTE_COLUMNS: dict[str, tuple[str, ...]] = {"community_code": ("管辖社区", "社区代码", "所属社区代码")}
# Feed kinds (the import kind on the command line) and the object kind their columns belong to.
FEED_KINDS = {
    "persons": "person",
    "dwellings": "dwelling",
    "births": "person",
    "areas": "area",
    "streets": "street",
    "corrections": "person",
}


def bad(code: str, zh: str, en: str, **data: Any) -> ValidationFailed:
    """A refusal of bad input (422)."""
    return ValidationFailed(code, zh, en, data)


def check_code(code: str) -> str:
    """A department code: lowercase letters, digits and underscores (`civil_affairs`)."""
    if not CODE.match(code):
        raise bad(
            "department.code_invalid",
            "部门代码须为小写字母开头的2至30位小写字母、数字或下划线",
            "A department code is 2 to 30 lowercase letters, digits or '_', starting with a letter",
            field="code",
        )
    return code


@dataclass(frozen=True)
class AgreementSpec:
    """A validated agreement."""

    department: str
    purpose: str
    valid_from: dt.date
    valid_to: dt.date | None
    aggregates_only: bool
    provides: dict[str, list[str]]
    reads: dict[str, list[str]]
    reference: str | None = None
    # Accept or refuse a batch as a whole (else a bad row is reported and the good rows are kept).
    all_or_nothing: bool = False


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise bad("date.invalid", f"日期“{value}”无效", f"Invalid date {value!r}", field=field) from None


def _fields(value: Any, field: str, known: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        why_zh, why_en = "须为“对象类型: 字段列表”", "it must map object kinds to field lists"
        raise bad(
            "agreement.invalid", f"协议格式不正确：{why_zh}", f"Malformed agreement: {why_en}", field=field
        )
    out: dict[str, list[str]] = {}
    for kind, names in value.items():
        if kind not in known:
            raise bad(
                "agreement.kind_unknown",
                f"未知的对象类型：{kind}",
                f"Unknown object kind: {kind}",
                field=f"{field}.{kind}",
                allowed=sorted(known),
            )
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            why_zh, why_en = "字段须为列表", "the fields must be a list"
            raise bad(
                "agreement.invalid",
                f"协议格式不正确：{why_zh}",
                f"Malformed agreement: {why_en}",
                field=f"{field}.{kind}",
            )
        unknown = [n for n in names if n not in known[kind]]
        if unknown:
            raise bad(
                "agreement.field_unknown",
                f"{kind} 没有字段：{', '.join(unknown)}",
                f"{kind} has no field(s): {', '.join(unknown)}",
                field=f"{field}.{kind}",
                allowed=list(known[kind]),
            )
        out[kind] = sorted(set(names))
    return out


def parse_agreement(data: Mapping[str, Any], known: Mapping[str, tuple[str, ...]]) -> AgreementSpec:
    """Validate an agreement document (parsed JSON or TOML) against the registry's kinds and fields."""
    purpose = str(data.get("purpose") or "").strip()
    if not purpose or len(purpose) > 500:
        raise bad(
            "agreement.purpose_required",
            "须写明共享目的（500字以内）",
            "The purpose is required (at most 500 characters)",
            field="purpose",
        )
    department = check_code(str(data.get("department") or ""))
    if "valid_from" not in data:
        raise bad(
            "agreement.valid_from_required", "须给出生效日期", "valid_from is required", field="valid_from"
        )
    start = _date(data["valid_from"], "valid_from")
    end = _date(data["valid_to"], "valid_to") if data.get("valid_to") else None
    if end is not None and end <= start:
        raise bad(
            "agreement.period_invalid",
            "截止日期须晚于生效日期",
            "valid_to must be after valid_from",
            field="valid_to",
        )
    aggregates = bool(data.get("aggregates_only", False))
    provides = _fields(data.get("provides"), "provides", known)
    reads = _fields(data.get("reads"), "reads", known)
    if aggregates and provides:
        raise bad(
            "agreement.aggregates_provide",
            "仅获取统计汇总的协议不能报送数据",
            "An aggregates-only agreement cannot provide records",
            field="provides",
        )
    if not provides and not reads:
        raise bad(
            "agreement.empty", "协议须至少约定报送或读取一项", "An agreement must provide or read something"
        )
    ref = data.get("reference")
    whole = data.get("all_or_nothing", False)
    if not isinstance(whole, bool):
        why_zh, why_en = "all_or_nothing 须为 true 或 false", "all_or_nothing must be true or false"
        raise bad(
            "agreement.invalid",
            f"协议格式不正确：{why_zh}",
            f"Malformed agreement: {why_en}",
            field="all_or_nothing",
        )
    return AgreementSpec(
        department, purpose, start, end, aggregates, provides, reads, str(ref) if ref else None, whole
    )


def load_agreement_file(path: Path, known: Mapping[str, tuple[str, ...]]) -> AgreementSpec:
    """An agreement from a JSON or TOML file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise bad("file.not_found", "文件不存在", "File not found", file=str(path)) from None
    except UnicodeDecodeError:
        raise bad(
            "agreement.encoding", "协议文件须为UTF-8编码", "The agreement file must be UTF-8", file=str(path)
        ) from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise bad(
            "file.unreadable",
            f"无法读取文件“{path}”：{exc}",
            f"Cannot read file {str(path)!r}: {exc}",
            file=str(path),
        ) from None
    if not isinstance(data, dict):
        why_zh, why_en = "协议须为一个对象", "it must be an object"
        raise bad(
            "agreement.invalid", f"协议格式不正确：{why_zh}", f"Malformed agreement: {why_en}", file=str(path)
        )
    return parse_agreement(data, known)


def in_force(valid_from: dt.date, valid_to: dt.date | None, revoked: bool, on: dt.date) -> bool:
    """Whether an agreement is in force on a date (valid_to is exclusive)."""
    return not revoked and valid_from <= on and (valid_to is None or on < valid_to)


# ---- precedence ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Precedence:
    """Which department is authoritative for which field; everything else defers to the base (police) record."""

    base: str
    fill_empty: bool
    never_fill: frozenset[str]
    authoritative: dict[str, frozenset[str]]  # "kind.field" -> departments

    def decide(self, kind: str, field: str, department: str, register: Any, incoming: Any) -> str:
        """`same`, `apply` (the department's value replaces or fills the register's) or `conflict` (review)."""
        if register == incoming:
            return "same"
        key = f"{kind}.{field}"
        if department == self.base or department in self.authoritative.get(key, frozenset()):
            return "apply"
        if register is None and self.fill_empty and key not in self.never_fill:
            return "apply"
        return "conflict"


def parse_precedence(text: str) -> Precedence:
    """Precedence rules from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise bad(
            "precedence.invalid", f"优先规则文件无效：{exc}", f"Invalid precedence file: {exc}"
        ) from None
    auth: dict[str, frozenset[str]] = {}
    for kind, fields in (data.get("authoritative") or {}).items():
        for field, departments in fields.items():
            if not isinstance(departments, list):
                why_zh, why_en = "权威部门须为列表", "authoritative departments must be a list"
                raise bad(
                    "precedence.invalid",
                    f"优先规则文件无效：{why_zh}",
                    f"Invalid precedence file: {why_en}",
                    field=f"{kind}.{field}",
                )
            auth[f"{kind}.{field}"] = frozenset(str(d) for d in departments)
    return Precedence(
        base=str(data.get("base", "police")),
        fill_empty=bool(data.get("fill_empty", True)),
        never_fill=frozenset(str(x) for x in data.get("never_fill", [])),
        authoritative=auth,
    )


def load_precedence(path: str | Path | None = None) -> Precedence:
    """The precedence rules from a file, or the packaged `precedence.toml`."""
    if path:
        return parse_precedence(Path(path).read_text(encoding="utf-8"))
    text = resources.files("liangshi.departments").joinpath("precedence.toml").read_text(encoding="utf-8")
    return parse_precedence(text)


# ---- deadlines -------------------------------------------------------------------------------------------------


def add_working_days(start: dt.date, days: int, calendar: HolidayCalendar) -> dt.date:
    """The date `days` working days after `start` (China's holiday calendar with its make-up working days)."""
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day


def overdue(
    *,
    today: dt.date,
    pickup_due: dt.date,
    decision_due: dt.date,
    picked_up: bool,
    decided: bool,
) -> list[str]:
    """Which deadlines of a feedback item have passed: `pickup`, `decision` (a deadline day itself is in time)."""
    late = []
    if not picked_up and today > pickup_due:
        late.append("pickup")
    if not decided and today > decision_due:
        late.append("decision")
    return late


# ---- cursors ---------------------------------------------------------------------------------------------------

# Per kind, the last version row delivered: (writing transaction, row id). Rows come in this order per kind, and a
# row committed later never sorts before one already delivered (see service.pull_changes).
Position = tuple[int, int]
CURSOR_VERSION = 2


@dataclass(frozen=True)
class LegacyCursor:
    """A cursor of the first form, a point in record time: [recorded_at, kind, row id]."""

    recorded_at: dt.datetime
    kind: str
    row_id: int


def encode_cursor(after: Mapping[str, Position]) -> str:
    """An opaque cursor: per kind, the position of the last row delivered."""
    body = {"v": CURSOR_VERSION, "after": {k: list(after[k]) for k in sorted(after)}}
    raw = json.dumps(body, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def decode_cursor(cursor: str) -> dict[str, Position] | LegacyCursor:
    """The positions a cursor names, or a legacy cursor's point in record time; a malformed one is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if isinstance(data, list):
            at, kind, row_id = data
            moment = dt.datetime.fromisoformat(at)
            if moment.tzinfo is None:
                raise ValueError(at)
            return LegacyCursor(moment, str(kind), _count(row_id))
        if data.get("v") != CURSOR_VERSION or not isinstance(data.get("after"), dict):
            raise ValueError(data)
        out: dict[str, Position] = {}
        for kind, (xact, row_id) in data["after"].items():
            out[str(kind)] = (_count(xact), _count(row_id))
        return out
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError, binascii.Error):
        raise bad("department.cursor_invalid", "游标无效", "Invalid cursor", field="cursor") from None


# ---- exchange log ----------------------------------------------------------------------------------------------


def entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over an exchange-log entry's canonical JSON and the previous entry's hash."""
    payload = json.dumps(
        {**fields, "prev_hash": prev_hash},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def content_hash(rows: Any) -> str:
    """SHA-256 of exchanged content given as JSON-serialisable rows."""
    payload = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
