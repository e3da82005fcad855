"""Community-correction cases from justice (司法: 社区矫正, issue 15): a judicial office's file of the persons under
community correction (管制, 缓刑, 假释, 暂予监外执行), each kept as a case beside its register person.

The person is found by their document number among the register's persons of the sender's jurisdiction (the
sealed number's index, `feeds_in.resolve_persons`); a number nobody holds is a row problem, never a new person.
The case is its department, person, kind and start date: a re-sent file changes nothing (`same`), a later row for
the same case with another end date, office or community closes the current version and adds one (the history
stays in `correction_cases`). Each row is checked with all of its problems reported at once (line, field, code);
the good rows are kept unless the agreement is all-or-nothing. No ID number is stored, and the cases are read
only with `correction.read` (`person_cases`), scoped to the reader's jurisdiction and audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.common.types import PersonName, document_number
from liangshi.departments import rules
from liangshi.departments.models import Agreement, CorrectionCase, Department
from liangshi.departments.service.batch_rows import (
    FeedTable,
    RowProblem,
    _refuse_rows,
    _row_problem,
    community_problem,
    feed_column_map,
    read_feed_rows,
    require_provided,
)
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.exchange import formats
from liangshi.persons.models import PERSON
from liangshi.persons.service import document_query
from liangshi.registry import Context

# The file's columns: key -> Chinese header (the English key is accepted too).
CORRECTION_COLUMNS: dict[str, str] = {
    "doc_type": "证件类型",
    "id_number": "证件号码",
    "name": "姓名",
    "case_kind": "矫正类别",
    "start_date": "矫正开始日期",
    "end_date": "矫正结束日期",
    "office": "负责司法所",
    "community_code": "管辖社区",
}
# Also accepted as headers.
CORRECTION_ALIASES: dict[str, str] = {
    "身份证号": "id_number",
    "公民身份号码": "id_number",
    "社区矫正类别": "case_kind",
    "司法所": "office",
    "社区代码": "community_code",
    "所属社区代码": "community_code",
}
REQUIRED = ("id_number", "case_kind", "start_date", "office", "community_code")
# What an agreement names among what the department provides to send the cases.
PROVIDES_FIELD = "correction"
RESIDENT_ID_NAMES = ("resident_id", "居民身份证", "身份证")
_NAME: TypeAdapter[str] = TypeAdapter(PersonName)


@dataclass
class CorrectionRow:
    """One checked row of a corrections file."""

    line: int
    doc_type: str
    number: str
    case_kind: str
    start_date: dt.date
    end_date: dt.date | None
    office: str
    community_code: str


def _bad(code: str, zh: str, en: str, field: str, **data: Any) -> ValidationFailed:
    return ValidationFailed(code, zh, en, {"field": field, **data})


def _required(key: str) -> ValidationFailed:
    return _bad(
        "department.correction_field_required",
        f"{CORRECTION_COLUMNS[key]}不能为空",
        f"{key} is required",
        key,
    )


def column_map(header: list[str]) -> dict[int, str]:
    """The file's columns (position -> key); unknown, repeated or missing required columns refuse the file."""
    return feed_column_map(header, CORRECTION_COLUMNS, REQUIRED, CORRECTION_ALIASES)


def case_kind(text: str) -> str:
    """A kind of correction given as its code (1–4) or its Chinese name (管制, 缓刑, 假释, 暂予监外执行)."""
    value = text.strip()
    if value in rules.CORRECTION_KINDS:
        return value
    for code, (zh, en) in rules.CORRECTION_KINDS.items():
        if value in (zh, en):
            return code
    raise _bad(
        "department.correction_kind_unknown",
        f"矫正类别“{value}”无效（管制、缓刑、假释、暂予监外执行）",
        f"Unknown kind of correction {value!r} (管制, 缓刑, 假释, 暂予监外执行 or 1–4)",
        "case_kind",
        input=value,
        allowed=list(rules.CORRECTION_KINDS),
    )


def parse_row(
    line: int, cells: dict[str, str], today: dt.date
) -> tuple[CorrectionRow | None, list[RowProblem]]:
    """One row, or every problem it has (each cell checked, the end not before the start)."""
    problems: list[RowProblem] = []

    def text(key: str) -> str:
        return cells.get(key, "").strip()

    def problem(exc: LiangshiError | ValidationError, key: str) -> None:
        problems.append(_row_problem(line, exc, key))

    for key in REQUIRED:
        if not text(key):
            problem(_required(key), key)
    doc_type = text("doc_type") or "resident_id"
    if doc_type in RESIDENT_ID_NAMES:
        doc_type = "resident_id"
    number = ""
    if text("id_number"):
        try:
            number = document_query(text("id_number"), today)
            if doc_type == "resident_id":
                number = document_number("resident_id", number, None, today=today)
        except LiangshiError as exc:
            problem(_bad(exc.code, exc.message_zh, exc.message_en, "id_number"), "id_number")
            number = ""
    if text("name"):
        try:
            _NAME.validate_python(text("name"))
        except ValidationError as exc:
            problem(exc, "name")
    kind = ""
    if text("case_kind"):
        try:
            kind = case_kind(text("case_kind"))
        except LiangshiError as exc:
            problem(exc, "case_kind")
    dates: dict[str, dt.date | None] = {"start_date": None, "end_date": None}
    for key in dates:
        if text(key):
            try:
                dates[key] = formats.parse_date(text(key), key)
            except LiangshiError as exc:
                problem(exc, key)
    start, end = dates["start_date"], dates["end_date"]
    if start is not None and start > today:
        problem(
            _bad(
                "department.correction_start_in_future",
                "矫正开始日期不能晚于今天",
                "The correction cannot start after today",
                "start_date",
            ),
            "start_date",
        )
    if start is not None and end is not None and end < start:
        problem(
            _bad(
                "department.correction_end_before_start",
                "矫正结束日期不能早于开始日期",
                "The correction cannot end before it starts",
                "end_date",
            ),
            "end_date",
        )
    office = text("office")
    if len(office) > 100:
        problem(
            _bad(
                "department.correction_office_too_long",
                "负责司法所名称过长",
                "The office is too long",
                "office",
            ),
            "office",
        )
    community = text("community_code")
    if community and not (len(community) == 12 and community.isdigit()):
        problems.append(community_problem(line, community))
    if problems or start is None or not number or not kind:
        return None, problems
    return CorrectionRow(line, doc_type, number, kind, start, end, office, community), []


def read_rows(table: FeedTable, today: dt.date) -> tuple[list[CorrectionRow], list[RowProblem]]:
    """Every non-empty row checked: the good rows and the problems of the bad ones."""
    return read_feed_rows(table, column_map(table.header), parse_row, today)


def ensure_provides(agreement: Agreement, dept: Department) -> None:
    """The agreement must name the cases (`person = ["correction"]`) among what the department provides."""
    require_provided(
        agreement,
        dept,
        object_kind="person",
        field=PROVIDES_FIELD,
        kind="corrections",
        zh="社区矫正",
        en="community corrections",
    )


@dataclass
class CasePlan:
    """An accepted row with its person and community."""

    row: CorrectionRow
    person_id: int
    area_id: int


def plan_cases(
    rows: list[CorrectionRow],
    problems: list[RowProblem],
    persons_by_number: Mapping[str, int],
    areas_by_line: Mapping[int, int],
    whole: bool,
) -> tuple[list[CasePlan], list[RowProblem]]:
    """Every row matched to its register person and community (`areas_by_line`: the 管辖社区 of each row inside
    the sender's jurisdiction), or refused (all of the batch's problems at once):
    a number nobody in the jurisdiction holds is a row problem, not a new person."""
    planned: list[CasePlan] = []
    for row in rows:
        person_id = persons_by_number.get(row.number)
        area_id = areas_by_line.get(row.line)
        found: list[RowProblem] = []
        if person_id is None:
            found.append(
                _row_problem(
                    row.line,
                    _bad(
                        "department.correction_person_unknown",
                        "本辖区内没有持该证件号码的人员",
                        "No person with this document number in your jurisdiction",
                        "id_number",
                    ),
                    "id_number",
                )
            )
        if area_id is None:
            found.append(community_problem(row.line, row.community_code))
        if found or person_id is None or area_id is None:
            problems.extend(found)
            continue
        planned.append(CasePlan(row, person_id, area_id))
    problems.sort(key=lambda p: p.line)
    bad_lines = {p.line for p in problems}
    if problems and (whole or not planned):
        raise _refuse_rows(problems, len(bad_lines) + len(planned))
    return planned, problems


def write_cases(
    session: Session, department: str, planned: list[CasePlan], batch_id: int, now: dt.datetime
) -> tuple[int, int]:
    """Each planned case kept: a new case added, a changed one versioned (the current row closed, a new one
    added), an unchanged one left as it is. Returns (written, same)."""
    written = same = 0
    for plan in planned:
        row = plan.row
        # Usually one current row; two when a merge brought the same case of both persons together.
        current = list(
            session.execute(
                select(CorrectionCase).where(
                    CorrectionCase.person_id == plan.person_id,
                    CorrectionCase.department == department,
                    CorrectionCase.case_kind == row.case_kind,
                    CorrectionCase.start_date == row.start_date,
                    CorrectionCase.superseded_at.is_(None),
                )
            ).scalars()
        )
        if len(current) == 1 and (current[0].end_date, current[0].office, current[0].area_id) == (
            row.end_date,
            row.office,
            plan.area_id,
        ):
            same += 1
            continue
        for case in current:
            case.superseded_at = now
        session.add(
            CorrectionCase(
                person_id=plan.person_id,
                department=department,
                case_kind=row.case_kind,
                start_date=row.start_date,
                end_date=row.end_date,
                office=row.office,
                area_id=plan.area_id,
                batch_id=batch_id,
                line=row.line,
                recorded_at=now,
            )
        )
        written += 1
    session.flush()
    return written, same


def _kind_names(code: str) -> dict[str, str]:
    zh, en = rules.CORRECTION_KINDS.get(code, (code, code))
    return {"zh": zh, "en": en}


def person_cases(session: Session, ctx: Context, person_id: int) -> list[dict[str, Any]]:
    """A person's current community-correction cases, for those who handle them (`correction.read`: 403 for any
    other role, 404 for a person outside the reader's jurisdiction); only the cases of communities inside the
    jurisdiction; every read audited (`correction.read`), even of a person with no case."""
    ctx.actor.ensure("correction.read")
    entity = registry.get_entity(session, PERSON, person_id, ctx.actor)
    stmt = (
        select(CorrectionCase, Area.code, Area.path)
        .join(Area, Area.id == CorrectionCase.area_id)
        .where(CorrectionCase.person_id == entity.id, CorrectionCase.superseded_at.is_(None))
        .order_by(CorrectionCase.start_date.desc(), CorrectionCase.id)
    )
    cases = [
        {
            "id": case.id,
            "department": case.department,
            "case_kind": case.case_kind,
            "case_kind_label": _kind_names(case.case_kind),
            "start_date": case.start_date,
            "end_date": case.end_date,
            "office": case.office,
            "community_code": str(code),
            "batch_id": case.batch_id,
            "recorded_at": case.recorded_at,
        }
        for case, code, path in session.execute(stmt)
        if ctx.actor.covers_path(str(path))
    ]
    registry.log(
        ctx,
        session,
        [audit.Event("correction.read", "person", int(entity.id), int(entity.id), {"cases": len(cases)})],
    )
    return cases
