"""Births from health (出生医学证明, issue 15): a health office's file of newborns (name, sex, birth date, the
mother's ID number, the place of birth), each proposed as a birth registration for the mother's community.

A department's birth is not a registry fact yet: each accepted row becomes a birth proposal through the use case
a collector's `POST /birth-proposals` goes through (`campaign.proposals.propose_birth`: the newborn, their
membership of the mother's household and their residence at its dwelling from the birth date), a change set that
waits in the household's community for the station's review; approved, it is written through the kernel with the
department as source. The mother is found by her document number among the register's persons of the sender's
jurisdiction; a mother nobody holds, or one without a household, is a row error. Each row is checked with all of
its problems reported at once (line, field, code); the good rows are kept unless the agreement is all-or-nothing.
A row already proposed (the same department, mother, birth date and name) opens no second proposal (`same`), so
a re-sent file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.campaign import proposals
from liangshi.common.types import PersonName, document_number, validation_context
from liangshi.departments.models import Agreement, Department
from liangshi.departments.service.batch_rows import (
    FeedTable,
    RowProblem,
    _refuse_rows,
    _row_problem,
    feed_column_map,
    read_feed_rows,
    require_provided,
)
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.exchange import formats
from liangshi.persons.models import Household, Membership, MembershipVersion
from liangshi.persons.service import document_query
from liangshi.registry import Context, Provenance
from liangshi.residence.schemas import BirthIn
from liangshi.schemas import ProvenanceIn
from liangshi.versioned import ChangeSet

# The file's columns: key -> Chinese header (the English key is accepted too).
BIRTH_COLUMNS: dict[str, str] = {
    "name": "新生儿姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "mother_id": "母亲证件号码",
    "place": "出生地点",
    "certificate": "出生医学证明编号",
    "resident_id": "新生儿身份证号",
    "relationship": "与户主关系",
}
# Also accepted as headers.
BIRTH_ALIASES: dict[str, str] = {"姓名": "name", "母亲身份证号": "mother_id", "出生医学证明号": "certificate"}
REQUIRED = ("name", "sex", "birth_date", "mother_id")
# What an agreement names among what the department provides to send births.
PROVIDES_FIELD = "birth"
_NAME: TypeAdapter[str] = TypeAdapter(PersonName)


@dataclass
class BirthRow:
    """One checked row of a births file."""

    line: int
    name: str
    sex: str
    birth_date: dt.date
    mother_number: str
    place: str | None
    certificate: str | None
    resident_id: str | None
    relationship: str | None


@dataclass
class Mother:
    """The household a newborn joins: the mother's open membership."""

    person_id: int
    household_id: int
    household_version: int
    relationship: str


def _bad(code: str, zh: str, en: str, field: str, **data: Any) -> ValidationFailed:
    return ValidationFailed(code, zh, en, {"field": field, **data})


def _required(key: str) -> ValidationFailed:
    return _bad("department.birth_field_required", f"{BIRTH_COLUMNS[key]}不能为空", f"{key} is required", key)


def column_map(header: list[str]) -> dict[int, str]:
    """The file's columns (position -> key); unknown, repeated or missing required columns refuse the file."""
    return feed_column_map(header, BIRTH_COLUMNS, REQUIRED, BIRTH_ALIASES)


def _text(cells: dict[str, str], key: str) -> str:
    return cells.get(key, "").strip()


def parse_row(line: int, cells: dict[str, str], today: dt.date) -> tuple[BirthRow | None, list[RowProblem]]:
    """One row, or every problem it has (each cell checked, the newborn's ID against the sex and birth date)."""
    problems: list[RowProblem] = []

    def problem(exc: LiangshiError | ValidationError, key: str) -> None:
        problems.append(_row_problem(line, exc, key))

    name = ""
    if not _text(cells, "name"):
        problem(_required("name"), "name")
    else:
        try:
            name = _NAME.validate_python(_text(cells, "name"))
        except ValidationError as exc:
            problem(exc, "name")
    sex = ""
    if not _text(cells, "sex"):
        problem(_required("sex"), "sex")
    else:
        try:
            sex = formats.parse_sex(_text(cells, "sex"))
        except LiangshiError as exc:
            problem(exc, "sex")
    birth: dt.date | None = None
    if not _text(cells, "birth_date"):
        problem(_required("birth_date"), "birth_date")
    else:
        try:
            birth = formats.parse_date(_text(cells, "birth_date"), "birth_date")
        except LiangshiError as exc:
            problem(exc, "birth_date")
        else:
            if birth > today:
                problem(
                    _bad(
                        "person.birth_in_future",
                        "出生日期不能晚于今天",
                        "The birth date cannot be in the future",
                        "birth_date",
                    ),
                    "birth_date",
                )
                birth = None
    mother = ""
    if not _text(cells, "mother_id"):
        problem(_required("mother_id"), "mother_id")
    else:
        try:
            mother = document_query(_text(cells, "mother_id"), today)
        except LiangshiError as exc:
            problem(exc, "mother_id")
    resident_id: str | None = None
    if _text(cells, "resident_id"):
        try:
            resident_id = document_number("resident_id", _text(cells, "resident_id"), None, today=today)
        except LiangshiError as exc:
            problem(_bad(exc.code, exc.message_zh, exc.message_en, "resident_id"), "resident_id")
    relationship = _text(cells, "relationship") or None
    if relationship is not None:
        try:
            relationship = formats.code_or_name("relationship", relationship, "relationship")
        except LiangshiError as exc:
            problem(exc, "relationship")
    place = _text(cells, "place") or None
    if place is not None and len(place) > 100:
        problem(
            _bad("department.birth_place_too_long", "出生地点过长", "The place is too long", "place"), "place"
        )
    certificate = _text(cells, "certificate") or None
    if certificate is not None and len(certificate) > 30:
        problem(
            _bad(
                "department.birth_certificate_invalid",
                "出生医学证明编号过长",
                "The certificate number is too long",
                "certificate",
            ),
            "certificate",
        )
    if problems or birth is None:
        return None, problems
    return BirthRow(line, name, sex, birth, mother, place, certificate, resident_id, relationship), []


def read_rows(table: FeedTable, today: dt.date) -> tuple[list[BirthRow], list[RowProblem]]:
    """Every non-empty row checked: the good rows and the problems of the bad ones."""
    return read_feed_rows(table, column_map(table.header), parse_row, today)


def ensure_provides_births(agreement: Agreement, dept: Department) -> None:
    """The agreement must name births (`person = ["birth"]`) among what the department provides."""
    require_provided(
        agreement, dept, object_kind="person", field=PROVIDES_FIELD, kind="births", zh="出生登记", en="births"
    )


def _mothers(session: Session, person_ids: list[int]) -> dict[int, Mother]:
    """Each person's open household membership (the lowest household id when several are open)."""
    found: dict[int, Mother] = {}
    mv = MembershipVersion
    for start in range(0, len(person_ids), 1000):
        stmt = (
            select(Membership.person_id, Membership.household_id, Household.version, mv.relationship)
            .join(mv, (mv.entity_id == Membership.id) & mv.superseded_at.is_(None) & mv.valid_to.is_(None))
            .join(Household, Household.id == Membership.household_id)
            .where(Membership.person_id.in_(person_ids[start : start + 1000]))
            .order_by(Membership.household_id)
        )
        for person_id, household_id, version, relationship in session.execute(stmt):
            found.setdefault(
                int(person_id), Mother(int(person_id), int(household_id), int(version), str(relationship))
            )
    return found


def child_relationship(mother: str, sex: str) -> str | None:
    """The newborn's relationship to the household's head (GB/T 4761) from the mother's: the head or the head's
    spouse has a son (20) or daughter (30); a daughter a grandson (43) or granddaughter (44) through her; a
    daughter-in-law a grandson (41) or granddaughter (42). Otherwise the file must say (与户主关系)."""
    male = sex == "1"
    if mother in ("01", "02") or mother.startswith("1"):
        return "20" if male else "30" if sex == "2" else None
    if mother.startswith("3") and mother != "38":
        return "43" if male else "44" if sex == "2" else None
    if mother == "38":
        return "41" if male else "42" if sex == "2" else None
    return None


def idempotency_key(department: str, row: BirthRow) -> str:
    """The proposal's key: one per department, mother, birth date and name (a hash: no personal data in clear)."""
    raw = f"{department}|{row.mother_number}|{row.birth_date.isoformat()}|{row.name}"
    return "birth:" + hashlib.sha256(raw.encode()).hexdigest()[:58]


@dataclass
class BirthPlan:
    """An accepted row with the household its newborn joins."""

    row: BirthRow
    mother: Mother
    relationship: str


def plan_births(
    session: Session,
    rows: list[BirthRow],
    problems: list[RowProblem],
    mothers_by_number: dict[str, int],
    whole: bool,
) -> tuple[list[BirthPlan], list[RowProblem]]:
    """Every row matched to its mother's household, or refused (all of the batch's problems at once)."""
    households = _mothers(session, sorted(set(mothers_by_number.values())))
    planned: list[BirthPlan] = []
    for row in rows:
        person_id = mothers_by_number.get(row.mother_number)
        if person_id is None:
            problems.append(
                _row_problem(
                    row.line,
                    _bad(
                        "department.birth_mother_unknown",
                        "本辖区内没有持该证件号码的母亲",
                        "No mother with this document number in your jurisdiction",
                        "mother_id",
                    ),
                    "mother_id",
                )
            )
            continue
        mother = households.get(person_id)
        if mother is None:
            problems.append(
                _row_problem(
                    row.line,
                    _bad(
                        "department.birth_mother_no_household",
                        "母亲未登记在任何户中，无法登记新生儿",
                        "The mother belongs to no household: the newborn cannot join one",
                        "mother_id",
                    ),
                    "mother_id",
                )
            )
            continue
        relationship = row.relationship or child_relationship(mother.relationship, row.sex)
        if relationship is None:
            problems.append(
                _row_problem(
                    row.line,
                    _bad(
                        "department.birth_relationship_required",
                        "无法从母亲与户主的关系推定新生儿与户主的关系，请填写与户主关系",
                        "The newborn's relationship to the head cannot be told from the mother's: give it",
                        "relationship",
                    ),
                    "relationship",
                )
            )
            continue
        planned.append(BirthPlan(row, mother, relationship))
    problems.sort(key=lambda p: p.line)
    bad_lines = {p.line for p in problems}
    if problems and (whole or not planned):
        raise _refuse_rows(problems, len(bad_lines) + len(planned))
    return planned, problems


def _birth_in(plan: BirthPlan, prov: Provenance, today: dt.date) -> BirthIn:
    """The birth registration a collector would propose for the row (the department as source)."""
    return BirthIn.model_validate(
        {
            "name": plan.row.name,
            "sex": plan.row.sex,
            "birth_date": plan.row.birth_date,
            "resident_id": plan.row.resident_id,
            "household_id": plan.mother.household_id,
            "household_expected_version": plan.mother.household_version,
            "relationship": plan.relationship,
            "provenance": ProvenanceIn(
                source_kind="department",
                source_ref=prov.source_ref,
                evidence="document",
                document_ref=(plan.row.certificate or prov.document_ref or "")[:200] or None,
            ),
        },
        context=validation_context(today),
    )


def propose_births(
    session: Session,
    writer: Context,
    department: str,
    planned: list[BirthPlan],
    prov: Provenance,
    whole: bool,
) -> tuple[list[int], int, list[RowProblem]]:
    """Each planned birth proposed (`campaign.proposals.propose_birth`) in its own savepoint; returns (the change
    sets proposed, how many rows were already proposed, the rows the use case refused). Under an all-or-nothing
    agreement a refusal refuses all."""
    proposed: list[int] = []
    same = 0
    refused: list[RowProblem] = []
    for plan in planned:
        key = idempotency_key(department, plan.row)
        if session.execute(select(ChangeSet.id).where(ChangeSet.idempotency_key == key)).first():
            same += 1
            continue
        try:
            with session.begin_nested():
                cs = proposals.propose_birth(session, writer, _birth_in(plan, prov, writer.today))
                cs.idempotency_key = key
                if plan.row.place:
                    payload = json.loads(cs.payload or "{}")
                    cs.payload = json.dumps({**payload, "birth_place": plan.row.place}, ensure_ascii=False)
                session.flush()
        except (LiangshiError, ValidationError) as exc:
            problem = _row_problem(plan.row.line, exc, "mother_id")
            if whole:
                raise _refuse_rows([problem], len(planned)) from None
            refused.append(problem)
            continue
        proposed.append(cs.id)
    return proposed, same, refused
