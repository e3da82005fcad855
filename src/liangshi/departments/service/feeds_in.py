"""Department exchange use cases: departments and agreements, reads cut to an agreement, feeds in with a review
queue of conflicts, feedback with working-day deadlines, feeds out (changes since a cursor, extracts, aggregates)
and the hash-chained exchange log.

Interfaces others build on:

* `resolve_persons(session, ctx, records)` (and `resolve_person` for one record) is the one place department
  records are matched to register persons (today: the exact normalised document number in the caller's
  jurisdiction, one query per 5,000 records). The master person index replaces its body with fuzzy matching;
  callers do not change.
* `read_cut(session, ctx, kind)` is what `registry.read/search` call for a department liaison.
* A department feed is atomic: a file-level problem (unknown department, no agreement in force, a column the
  agreement does not let it provide, wrong encoding, missing key column) or any bad row refuses the whole batch
  and nothing is written. Accepted values carry provenance `source_kind="department"`, `source_ref="batch:<id>"`.
  A batch is written set-based, in runs of up to 5,000 rows (`history.change_many`: the rows `registry.change`
  writes, a few statements per run); the deaths of a run with `residence.register_deaths` (the death use case
  set-based: the same rows and audit entries, a few statements per run).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import heapq
import io
import itertools
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, and_, case, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.rules import Actor
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.common.idnumber import mask_id_number
from liangshi.departments import rules
from liangshi.departments.models import (
    Agreement,
    Department,
    DepartmentBatch,
    ExchangeConflict,
    ExchangeLogEntry,
    Feedback,
)
from liangshi.errors import Conflict, Forbidden, LiangshiError, NotFound, ValidationFailed
from liangshi.exchange import formats
from liangshi.exchange.reader import open_table
from liangshi.registry import LIAISON_ROLE, Context, Kind, Provenance, ReadCut, ReadCutPolicy, history
from liangshi.residence.calendar import HolidayCalendar

MAX_ROW_ERRORS = 50
# Batch rows matched, compared and written together (a few statements per run instead of a dozen per person).
CHUNK_ROWS = 5000
# The category each kind's aggregates are counted by (statistics gets counts per area and category only).
AGGREGATE_BY = {
    "person": "sex",
    "residence": "category",
    "dwelling": "status",
    "building": "use",
    "address": "status",
    "rental": "use",
}


# ---- kinds -----------------------------------------------------------------------------------------------------


def kinds() -> dict[str, Kind]:
    """The registry kinds an agreement may name."""
    from liangshi.addresses.service import ADDRESS
    from liangshi.buildings.service import BUILDING, DWELLING
    from liangshi.permits.service import PERMIT
    from liangshi.persons.service import DOCUMENT, HOUSEHOLD, MEMBERSHIP, PERSON
    from liangshi.rentals.service import RENTAL
    from liangshi.residence.service import RESIDENCE

    found = (PERSON, DOCUMENT, HOUSEHOLD, MEMBERSHIP, RESIDENCE, DWELLING, BUILDING, ADDRESS, RENTAL, PERMIT)
    return {k.name: k for k in found}


def known_fields() -> dict[str, tuple[str, ...]]:
    """Per kind, the fields an agreement may name (versioned attributes, and events such as a death date)."""
    return {name: k.attributes + rules.EVENT_FIELDS.get(name, ()) for name, k in kinds().items()}


# ---- departments and agreements --------------------------------------------------------------------------------


def _unknown(code: str) -> NotFound:
    return NotFound(
        "department.unknown", f"未登记的部门：{code}", f"Unknown department: {code}", {"department": code}
    )


def get_department(session: Session, code: str) -> Department:
    """A registered department by code, or 404 `department.unknown`."""
    dept = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        raise _unknown(code)
    return dept


def add_department(
    session: Session, ctx: Context, *, code: str, name_zh: str | None, name_en: str | None
) -> Department:
    """Register a partner department (names default to the known ones for standard codes)."""
    ctx.actor.ensure("department.manage")
    rules.check_code(code)
    known = rules.DEPARTMENT_NAMES.get(code)
    zh, en = name_zh or (known[0] if known else None), name_en or (known[1] if known else None)
    if not zh or not en:
        raise ValidationFailed(
            "department.name_required",
            "须给出部门的中英文名称",
            "Chinese and English names are required",
            {"field": "name_zh"},
        )
    if session.execute(select(Department.id).where(Department.code == code)).first() is not None:
        raise Conflict(
            "department.exists", "该部门已登记", "The department is already registered", {"field": "code"}
        )
    dept = Department(code=code, name_zh=zh, name_en=en, created_at=ctx.now, created_by=ctx.actor.user_id)
    session.add(dept)
    session.flush()
    registry.log(ctx, session, [audit.Event("department.add", "department", dept.id, None, {"code": code})])
    return dept


def add_agreement(session: Session, ctx: Context, spec: rules.AgreementSpec) -> Agreement:
    """Register an agreement for a department (a later agreement in force takes over from an earlier one)."""
    ctx.actor.ensure("department.manage")
    dept = get_department(session, spec.department)
    row = Agreement(
        department_id=dept.id,
        reference=spec.reference,
        purpose=spec.purpose,
        valid_from=spec.valid_from,
        valid_to=spec.valid_to,
        aggregates_only=spec.aggregates_only,
        provides=json.dumps(spec.provides, ensure_ascii=False, sort_keys=True),
        reads=json.dumps(spec.reads, ensure_ascii=False, sort_keys=True),
        created_at=ctx.now,
        created_by=ctx.actor.user_id,
    )
    session.add(row)
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "department.agreement",
                "department_agreement",
                row.id,
                None,
                {
                    "department": dept.code,
                    "purpose": spec.purpose,
                    "valid_from": spec.valid_from.isoformat(),
                    "valid_to": spec.valid_to.isoformat() if spec.valid_to else None,
                    "provides": spec.provides,
                    "reads": spec.reads,
                    "aggregates_only": spec.aggregates_only,
                },
            )
        ],
    )
    return row


def agreement_view(a: Agreement, today: dt.date) -> dict[str, Any]:
    """An agreement as shown to administrators."""
    return {
        "id": a.id,
        "reference": a.reference,
        "purpose": a.purpose,
        "valid_from": a.valid_from.isoformat(),
        "valid_to": a.valid_to.isoformat() if a.valid_to else None,
        "aggregates_only": a.aggregates_only,
        "provides": json.loads(a.provides),
        "reads": json.loads(a.reads),
        "in_force": rules.in_force(a.valid_from, a.valid_to, a.revoked_at is not None, today),
    }


def list_departments(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """Every department with its agreements (administrators)."""
    ctx.actor.ensure("department.manage")
    depts = session.execute(select(Department).order_by(Department.code)).scalars().all()
    agreements: dict[int, list[Agreement]] = {}
    for a in session.execute(select(Agreement).order_by(Agreement.id)).scalars():
        agreements.setdefault(a.department_id, []).append(a)
    return [
        {
            "code": d.code,
            "name_zh": d.name_zh,
            "name_en": d.name_en,
            "agreements": [agreement_view(a, ctx.today) for a in agreements.get(d.id, [])],
        }
        for d in depts
    ]


def agreement_in_force(session: Session, dept: Department, today: dt.date) -> Agreement:
    """The department's agreement in force today (the latest registered), else 403 with why."""
    rows = (
        session.execute(
            select(Agreement).where(Agreement.department_id == dept.id).order_by(Agreement.id.desc())
        )
        .scalars()
        .all()
    )
    for a in rows:
        if rules.in_force(a.valid_from, a.valid_to, a.revoked_at is not None, today):
            return a
    if rows:
        raise Forbidden(
            "department.agreement_expired",
            "该部门的共享协议已过期或尚未生效",
            "The department's agreement has expired or is not yet in force",
            {"department": dept.code},
        )
    raise _no_agreement(dept.code)


def _no_agreement(code: str) -> Forbidden:
    return Forbidden(
        "department.no_agreement",
        "该部门没有共享协议",
        "The department has no sharing agreement",
        {"department": code},
    )


def _liaison_agreement(
    session: Session, ctx: Context, code: str | None = None
) -> tuple[Department, Agreement]:
    """The department a liaison acts for and its agreement in force; a liaison acts only for their own."""
    actor = ctx.actor
    own = actor.department
    if not actor.may("department.manage"):
        actor.ensure("department.exchange")  # the role first: other roles get the usual 403
    if code is None:
        if not own:
            raise Forbidden(
                "department.user_without_department",
                "该用户未关联任何部门",
                "The user belongs to no department",
                {"user": actor.username},
            )
        # A liaison of a department that is not registered has no agreement, whatever it wants to read.
        registered = session.execute(select(Department).where(Department.code == own)).scalar_one_or_none()
        if registered is None:
            raise _no_agreement(own)
        code = own
    dept = get_department(session, code or "")
    if not (actor.may("department.manage") or own == code):
        raise Forbidden(
            "department.not_yours",
            "只能代表本部门交换数据",
            "You may exchange data only for your own department",
            {"department": code},
        )
    return dept, agreement_in_force(session, dept, ctx.today)


def _with_purpose(ctx: Context, dept: Department, agreement: Agreement) -> Context:
    # The audit entry of a department's read names the agreement and its purpose (purpose limitation, PIPL).
    purpose = f"{dept.code} 协议#{agreement.id}: {agreement.purpose}"[: audit_purpose_max()]
    return dataclasses.replace(ctx, purpose=purpose)


def audit_purpose_max() -> int:
    """The audit log's purpose length."""
    return 200


def read_cut(session: Session, ctx: Context, kind: str) -> tuple[ReadCut, Context]:
    """A liaison's read of a kind: the agreement's readable fields and a context carrying its purpose; 403
    without an agreement in force, for an aggregates-only agreement, or when the kind is not readable."""
    dept, agreement = _liaison_agreement(session, ctx)
    if agreement.aggregates_only:
        raise Forbidden(
            "department.aggregates_only",
            "该部门的协议只提供统计汇总，不能读取个案记录",
            "The department's agreement gives aggregates only, not records",
            {"department": dept.code},
        )
    reads = {k: frozenset(v) for k, v in json.loads(agreement.reads).items()}
    if not reads.get(kind):
        raise Forbidden(
            "department.kind_not_readable",
            "共享协议不允许读取该类对象",
            "The agreement does not let the department read this kind of object",
            {"department": dept.code, "kind": kind},
        )
    return ReadCut(reads), _with_purpose(ctx, dept, agreement)


def read_policy(actor: Actor) -> ReadCutPolicy | None:
    """The read-cut policy an entry point puts on the context it builds: `read_cut` for a department liaison
    (the registry refuses a liaison's read without it), none for everyone else."""
    return read_cut if actor.role == LIAISON_ROLE else None


# ---- feeds in --------------------------------------------------------------------------------------------------


@dataclass
class FeedTable:
    """A department file or JSON body as header and rows (line number, cells) plus its content hash."""

    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    sha256: str


def table_from_file(path: Path) -> FeedTable:
    """A CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX file; wrong encodings and empty files refused."""
    table = open_table(path)
    return FeedTable(path.name, table.header, list(table.rows), table.sha256)


def table_from_upload(name: str, content: bytes) -> FeedTable:
    """An uploaded file, read through the same reader as files on disk."""
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in (".csv", ".xlsx", ".xlsm") else ".csv"
    with tempfile.TemporaryDirectory(prefix="liangshi-feed-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        table = table_from_file(path)
    return dataclasses.replace(table, name=Path(name).name or "upload")


def table_from_records(records: Sequence[Mapping[str, Any]], name: str = "body.json") -> FeedTable:
    """A JSON body: a list of records keyed by column."""
    if not records:
        raise ValidationFailed(
            "department.batch_empty", "批次没有记录", "The batch has no records", {"field": "records"}
        )
    header: list[str] = []
    for rec in records:
        for key in rec:
            if key not in header:
                header.append(key)
    rows = [
        (n, ["" if rec.get(k) is None else str(rec.get(k)) for k in header])
        for n, rec in enumerate(records, 1)
    ]
    return FeedTable(name, header, rows, rules.content_hash([dict(r) for r in records]))


@dataclass
class RowProblem:
    """A bad row of a refused batch."""

    line: int
    field: str
    code: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return dataclasses.asdict(self)


@dataclass
class BatchResult:
    """What an accepted batch came to."""

    batch_id: int
    department: str
    kind: str
    rows: int = 0
    matched: int = 0
    unmatched_lines: list[int] = field(default_factory=list)
    applied: int = 0
    same: int = 0
    conflicts: list[int] = field(default_factory=list)
    # Through the master person index, of the records no register person's document number matched exactly:
    linked: int = 0  # joined an existing person (a confident fuzzy match)
    created: int = 0  # became a new register person
    queued: int = 0  # wait in the review queue (their rows stay unmatched)


def _column_map(header: list[str]) -> dict[int, str]:
    names = {k: k for k in rules.PERSON_COLUMNS} | {zh: k for k, zh in rules.PERSON_COLUMNS.items()}
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for i, name in enumerate(header):
        if not name:
            continue
        key = names.get(name) or names.get(name.lower())
        if key is None:
            unknown.append(name)
        elif key in mapping.values():
            raise ValidationFailed(
                "department.column_repeated", f"列重复：{name}", f"Column given twice: {name}", {"field": key}
            )
        else:
            mapping[i] = key
    if unknown:
        raise ValidationFailed(
            "department.column_unknown",
            f"无法识别的列：{', '.join(unknown)}",
            f"Unknown column(s): {', '.join(unknown)}",
            {"field": unknown[0], "unknown": unknown, "allowed": list(rules.PERSON_COLUMNS)},
        )
    if "id_number" not in mapping.values():
        raise ValidationFailed(
            "import.columns_missing",
            "缺少必需的列：id_number（证件号码）",
            "Required columns missing: id_number",
            {"field": "id_number", "missing": ["id_number"]},
        )
    return mapping


def _parse_value(name: str, raw: str, today: dt.date) -> Any:
    """A cell as the register's value, checked with the API's rules."""
    from liangshi.persons.schemas import PersonPatch

    if name == "death_date":
        return formats.parse_date(raw, name)
    if name == "sex":
        value: Any = formats.parse_sex(raw)
    elif name in ("ethnicity", "education", "marital_status"):
        value = formats.code_or_name(name, raw, name)
    elif name == "birth_date":
        value = formats.parse_date(raw, name)
    else:
        value = raw
    data = PersonPatch.model_validate({"expected_version": 1, name: value})
    return getattr(data, name)


def _row_problem(line: int, exc: LiangshiError | ValidationError, default: str) -> RowProblem:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ())) or default
        ctx = err.get("ctx") or {}
        return RowProblem(
            line,
            loc,
            str(err.get("type")),
            str(ctx.get("zh") or err["msg"]),
            str(ctx.get("en") or err["msg"]),
        )
    return RowProblem(line, str(exc.data.get("field", default)), exc.code, exc.message_zh, exc.message_en)


def _refuse_rows(problems: list[RowProblem], total: int) -> ValidationFailed:
    first = problems[0]
    return ValidationFailed(
        "department.batch_rows_invalid",
        f"批次有{len(problems)}行数据无效，整批未接收（第{first.line}行 {first.field}：{first.message_zh}）",
        f"{len(problems)} row(s) of the batch are invalid; nothing was accepted "
        f"(line {first.line}, {first.field}: {first.message_en})",
        {
            "rejected": len(problems),
            "rows": total,
            "errors": [p.as_dict() for p in problems[:MAX_ROW_ERRORS]],
        },
    )


def resolve_persons(
    session: Session, ctx: Context, records: Sequence[tuple[str | None, str]]
) -> dict[str, int]:
    """The register persons department records refer to: document number as given -> person id (numbers that
    match nobody are left out).

    The seam for the master person index: today an exact match on the normalised document number (15-digit IDs
    upgraded, full-width digits and a lowercase x fixed) among current documents of persons in the caller's
    jurisdiction (the lowest person id when several hold it); the document type of each record is accepted for
    the fuzzy matcher and not used by the exact one. One query per 5,000 numbers.
    """
    from liangshi.persons.models import Document, DocumentVersion, Person
    from liangshi.persons.service import PERSON, document_query

    wanted = {number: document_query(number, ctx.today) for _, number in records}
    values = sorted(set(wanted.values()))
    v = DocumentVersion
    holder: dict[str, int] = {}
    for i in range(0, len(values), history.BULK_CHUNK):
        held: Select[Any] = (
            select(v.number, Document.person_id)  # type: ignore[assignment]
            .join(Document, Document.id == v.entity_id)
            .join(Person, Person.id == Document.person_id)
            .where(
                v.number.in_(values[i : i + history.BULK_CHUNK]),
                v.superseded_at.is_(None),
                v.valid_to.is_(None),
            )
        )
        stmt = registry.scoped(held, PERSON, ctx.actor).order_by(Document.person_id)
        for number, person_id in session.execute(stmt):
            holder.setdefault(str(number), int(person_id))
    return {number: holder[value] for number, value in wanted.items() if value in holder}


def resolve_person(session: Session, ctx: Context, *, doc_type: str | None, number: str) -> int | None:
    """The register person one department record refers to, or None (`resolve_persons` for one record)."""
    return resolve_persons(session, ctx, [(doc_type, number)]).get(number)


def _feed_writer(ctx: Context, purpose: str) -> Context:
    # The agreement, not the liaison's role, authorises a department's values: they are written under the
    # liaison's own name and jurisdiction with the registry's write permissions, audited with the batch.
    a = ctx.actor
    writer = Actor(
        user_id=a.user_id,
        username=a.username,
        role="city_admin",
        area_id=a.area_id,
        area_path=a.area_path,
        county_code=a.county_code,
        department=a.department,
    )
    return dataclasses.replace(ctx, actor=writer, purpose=purpose[: audit_purpose_max()])


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _register_values(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """A person's latest current row (as `history.latest_row` answers), its values with the death date of a
    retirement, and whether the person is retired."""
    from liangshi.persons.service import PERSON

    row = history.latest_of(rows)
    attrs = {name: row[name] for name in PERSON.attributes}
    retired = row["valid_to"] is not None
    attrs["death_date"] = row["valid_to"] if retired and row["change"] == "retire" else None
    return row, attrs, retired


def _documents_of(session: Session, person_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Per person, the type and number of their current documents (for the check of `persons.person_check`)."""
    from liangshi.persons.models import Document, DocumentVersion

    v = DocumentVersion
    found: dict[int, list[tuple[str, str]]] = {}
    ids = sorted(set(person_ids))
    for i in range(0, len(ids), history.BULK_CHUNK):
        stmt = (
            select(Document.person_id, v.doc_type, v.number)
            .join(v, v.entity_id == Document.id)
            .where(
                Document.person_id.in_(ids[i : i + history.BULK_CHUNK]),
                v.superseded_at.is_(None),
                v.valid_to.is_(None),
            )
            .order_by(v.entity_id)
        )
        for person_id, doc_type, number in session.execute(stmt):
            found.setdefault(int(person_id), []).append((str(doc_type), str(number)))
    return found


def _apply(
    session: Session,
    writer: Context,
    person_id: int,
    changes: dict[str, Any],
    prov: Provenance,
    reason: str,
) -> None:
    """Write a department's values through the registry (change from today; a death through the death use case)."""
    from liangshi.persons import service as persons
    from liangshi.residence import service as residence
    from liangshi.residence.schemas import DeathIn
    from liangshi.schemas import ProvenanceIn

    death = changes.pop("death_date", None)
    if changes:
        person = session.get(persons.PERSON.entity, person_id)
        assert person is not None
        registry.change(
            session,
            writer,
            persons.PERSON,
            person_id,
            changes,
            expected_version=person.version,
            effective=writer.today,
            prov=prov,
            reason=reason,
            check=persons.person_check(session, writer),
        )
    if death is not None:
        person = session.get(persons.PERSON.entity, person_id)
        assert person is not None
        residence.register_death(
            session,
            writer,
            person_id,
            DeathIn(
                expected_version=person.version,
                death_date=death,
                note=reason[:500],
                provenance=ProvenanceIn(
                    source_kind="department",
                    source_ref=prov.source_ref,
                    evidence="document",
                    document_ref=prov.document_ref,
                ),
            ),
        )


@dataclass(frozen=True)
class _Feed:
    """What every chunk of an accepted batch is written with."""

    department: str
    object_kind: str
    batch_id: int
    precedence: rules.Precedence
    prov: Provenance
    reason: str
    writer: Context
    rows: int


@dataclass
class _Plan:
    """The values a batch row applies to its person."""

    line: int
    person_id: int
    current: dict[str, Any]  # the person's latest current version row, with the identity row's columns
    values: dict[str, Any]  # merged register values after the change
    changes: dict[str, Any]  # versioned attributes
    death: dt.date | None


def _refuse_at(line: int, exc: LiangshiError, default: str, total: int) -> ValidationFailed:
    return _refuse_rows([_row_problem(line, exc, default)], total)


def _resolve_unknown(
    session: Session,
    writer: Context,
    feed: _Feed,
    rows: list[tuple[int, str, str, dict[str, Any]]],
    result: BatchResult,
) -> dict[str, int]:
    """Records whose document number no register person holds go to the master person index (liangshi.mpi).

    A confident match joins that person and keeps their id (a mistyped or old 15-digit number, say); an
    uncertain one waits in the review queue and its row stays unmatched; a record that is nobody known becomes a
    new register person when it carries a name, a sex and a birth date. The department's document number is
    its record id, so a record sent again resolves as before and creates nobody twice.
    """
    from liangshi.linkage.api import LinkRecord
    from liangshi.mpi import service as mpi

    records: dict[str, LinkRecord] = {}
    for _, doc_type, number, record in rows:
        records.setdefault(
            f"{doc_type}:{number}",
            LinkRecord(
                record_id=f"{doc_type}:{number}",
                source=feed.department,
                name=_text(record.get("name")),
                sex=_text(record.get("sex")),
                birth_date=_text(record.get("birth_date")),
                id_number=number,
                phone=_text(record.get("phone")),
                address=_text(record.get("hukou_address")),
            ),
        )
    found: dict[str, int] = {}
    resolutions = mpi.resolve(
        session, writer, list(records.values()), source=feed.department, batch_ref=f"batch:{feed.batch_id}"
    )
    for res in resolutions:
        if res.person_id is None or res.status not in ("linked", "new"):
            result.queued += res.status == "review"
            continue
        found[records[res.record_id].id_number or ""] = res.person_id
        result.linked += res.status == "linked"
        result.created += res.status == "new"
    return found


def _submit_chunk(
    session: Session,
    ctx: Context,
    feed: _Feed,
    rows: list[tuple[int, str, str, dict[str, Any]]],
    result: BatchResult,
) -> int:
    """Match, compare and write a run of batch rows with a few statements: returns how many rows it took.

    The run stops before the first row whose person already appeared in it, so that a later row about the same
    person is compared with what the earlier one wrote (as if the rows were applied one by one). Values are
    written with `history.change_many` (the rows `registry.change` writes, one audit entry per person), conflicts
    with one bulk insert, the deaths of the run with `residence.register_deaths` (the rows and audit entries of
    the death use case for each, residences and memberships closed too).
    """
    from liangshi.bulk import allocate_ids, bulk_insert
    from liangshi.persons.rules import check_document_agrees
    from liangshi.persons.service import PERSON
    from liangshi.residence import service as residence

    writer = feed.writer
    matched = resolve_persons(session, ctx, [(doc_type, number) for _, doc_type, number, _ in rows])
    unknown = [row for row in rows if row[2] not in matched]
    if unknown:
        matched |= _resolve_unknown(session, writer, feed, unknown, result)
    seen: set[int] = set()
    take = len(rows)
    for i, (_, _, number, _) in enumerate(rows):
        person_id = matched.get(number)
        if person_id is None:
            continue
        if person_id in seen:
            take = i
            break
        seen.add(person_id)
    rows = rows[:take]
    states = history.current_rows(session, PERSON, list(seen))
    plans: list[_Plan] = []
    conflicts: list[dict[str, Any]] = []
    for line, _, number, record in rows:
        person_id = matched.get(number)
        if person_id is None:
            result.unmatched_lines.append(line)
            continue
        result.matched += 1
        current_row, current, retired = _register_values(states[person_id])
        changes: dict[str, Any] = {}
        for name, incoming in record.items():
            verdict = feed.precedence.decide(
                feed.object_kind, name, feed.department, current.get(name), incoming
            )
            if verdict == "apply" and retired:
                verdict = "conflict"  # a retired person's record is not changed by a feed
            if verdict == "same":
                result.same += 1
            elif verdict == "apply":
                changes[name] = incoming
            else:
                conflicts.append(
                    {
                        "object_kind": feed.object_kind,
                        "object_id": person_id,
                        "field": name,
                        "register_value": _text(current.get(name)),
                        "department_value": _text(incoming),
                        "department": feed.department,
                        "batch_id": feed.batch_id,
                        "line": line,
                        "status": "open",
                        "created_at": ctx.now,
                        "decided_by": None,
                        "decided_at": None,
                        "reason": None,
                        "area_id": current_row["entity_area_id"],
                        "county_code": current_row["entity_county_code"],
                    }
                )
        if changes:
            death = changes.pop("death_date", None)
            values = {k: v for k, v in current.items() if k != "death_date"} | changes
            plans.append(_Plan(line, person_id, current_row, values, changes, death))
            result.applied += len(changes) + (death is not None)

    # The checks `registry.change` makes, in row order, before anything of the run is written.
    documents = _documents_of(session, [p.person_id for p in plans if p.changes])
    for plan in plans:
        if not plan.changes:
            continue
        try:
            # persons.person_check: the person must still agree with their ID documents.
            for doc_type, doc_number in documents.get(plan.person_id, []):
                check_document_agrees(
                    doc_type,
                    doc_number,
                    birth_date=plan.values["birth_date"],
                    sex=plan.values["sex"],
                    today=writer.today,
                )
            history.check_change_date(plan.current["valid_from"], writer.today)
        except LiangshiError as exc:
            raise _refuse_at(plan.line, exc, next(iter(plan.changes)), feed.rows) from None

    changed = [p for p in plans if p.changes]
    try:
        versions = history.change_many(
            session,
            PERSON,
            [
                history.PlannedChange(
                    p.person_id,
                    p.current["entity_county_code"],
                    p.current["entity_version"],
                    p.current,
                    p.changes,
                )
                for p in changed
            ],
            effective=writer.today,
            prov=feed.prov,
            actor_id=writer.actor.user_id,
            now=writer.now,
            reason=feed.reason,
        )
    except LiangshiError as exc:
        line_of = {p.person_id: p for p in changed}
        plan = line_of.get(exc.data.get("id", -1), changed[0])
        raise _refuse_at(plan.line, exc, next(iter(plan.changes)), feed.rows) from None
    registry.log(
        writer,
        session,
        [
            audit.Event(
                f"{PERSON.name}.change",
                PERSON.name,
                p.person_id,
                p.person_id,
                {"fields": sorted(p.changes), "effective": writer.today.isoformat()},
            )
            for p in changed
        ],
    )
    if conflicts:
        ids = allocate_ids(session, ExchangeConflict, len(conflicts))
        bulk_insert(session, ExchangeConflict, [{"id": i, **c} for i, c in zip(ids, conflicts, strict=True)])
        result.conflicts.extend(ids)
    # Deaths after the values (as `_apply` orders them), all of the run at once, from the version each person
    # was read at (or that the values above gave them): a person changed meanwhile refuses the batch.
    dying = [p for p in plans if p.death is not None]
    if dying:
        residence.register_deaths(
            session,
            writer,
            [
                residence.Death(p.person_id, p.death, versions.get(p.person_id, p.current["entity_version"]))
                for p in dying
                if p.death is not None
            ],
            feed.prov,
            feed.reason[:500],
            refused=lambda i, exc: _refuse_at(dying[i].line, exc, "death_date", feed.rows),
        )
    return len(rows)


def _ensure_may_submit(actor: Actor, dept: Department, object_kind: str) -> None:
    """Refuse (403) a batch its submitter may not write, before anything of it is written.

    A department's own liaison writes under the agreement, which names the fields the department provides (checked
    next, column by column); anyone else who may submit for a department (`department.manage`) acts under their
    role, so the role must write the kind: `{kind}.write`, and `person.link` because records that match nobody
    by document go to the master person index (which links them, queues reviews or registers new persons).
    """
    if actor.may("department.exchange") and actor.department == dept.code:
        return
    actor.ensure(f"{object_kind}.write")
    actor.ensure("person.link")


def submit_batch(
    session: Session,
    ctx: Context,
    *,
    department: str,
    kind: str,
    table: FeedTable,
    precedence: rules.Precedence,
) -> BatchResult:
    """Accept a department's batch as a whole or refuse it as a whole (nothing of a refused batch is written)."""
    dept = get_department(session, department)
    dept, agreement = _liaison_agreement(session, ctx, dept.code)
    if kind not in rules.FEED_KINDS:
        raise ValidationFailed(
            "import.kind_unknown",
            f"部门数据不支持该类型：{kind}",
            f"Department feeds do not take this kind: {kind}",
            {"field": "kind", "allowed": list(rules.FEED_KINDS)},
        )
    object_kind = rules.FEED_KINDS[kind]
    _ensure_may_submit(ctx.actor, dept, object_kind)
    mapping = _column_map(table.header)
    fields = [k for k in mapping.values() if k not in rules.PERSON_KEY]
    provided = set(json.loads(agreement.provides).get(object_kind, []))
    refused = [f for f in fields if f not in provided]
    if refused:
        raise Forbidden(
            "department.field_not_provided",
            f"共享协议不允许本部门报送：{', '.join(refused)}",
            f"The agreement does not let the department provide: {', '.join(refused)}",
            {"field": refused[0], "fields": refused, "provides": sorted(provided)},
        )
    if not fields:
        raise ValidationFailed(
            "department.no_fields",
            "批次除证件号码外没有数据列",
            "The batch has no data columns besides the ID",
            {},
        )
    from liangshi.persons.service import document_query

    parsed: list[tuple[int, str, str, dict[str, Any]]] = []
    problems: list[RowProblem] = []
    known: dict[tuple[str, str], Any] = {}
    for line, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue
        values = formats.row_values(mapping, cells)
        try:
            number = values.get("id_number")
            if not number:
                raise ValidationFailed(
                    "value.required", "证件号码不能为空", "The ID number is required", {"field": "id_number"}
                )
            normalised = document_query(number, ctx.today)
            doc_type = values.get("doc_type") or "resident_id"
            if doc_type == "resident_id":
                from liangshi.common.types import document_number

                try:
                    normalised = document_number("resident_id", normalised, None)
                except ValidationFailed as exc:
                    raise ValidationFailed(
                        exc.code, exc.message_zh, exc.message_en, {**exc.data, "field": "id_number"}
                    ) from None
            record: dict[str, Any] = {}
            for name in fields:
                raw = values.get(name)
                if raw is None:
                    continue
                try:
                    # Feeds repeat values (occupations, dates): each distinct cell is checked once.
                    cell = (name, raw)
                    if cell not in known:
                        known[cell] = _parse_value(name, raw, ctx.today)
                    record[name] = known[cell]
                except (LiangshiError, ValidationError) as exc:
                    problems.append(_row_problem(line, exc, name))
                    break
            else:
                parsed.append((line, doc_type, normalised, record))
        except (LiangshiError, ValidationError) as exc:
            problems.append(_row_problem(line, exc, "id_number"))
    if problems:
        raise _refuse_rows(problems, len(problems) + len(parsed))
    if not parsed:
        raise ValidationFailed(
            "department.batch_empty", "批次没有记录", "The batch has no records", {"field": "rows"}
        )

    batch = DepartmentBatch(
        department_id=dept.id,
        agreement_id=agreement.id,
        kind=kind,
        file_name=table.name[:300],
        content_sha256=table.sha256,
        actor_id=ctx.actor.user_id,
        actor_name=ctx.actor.username,
        received_at=ctx.now,
    )
    session.add(batch)
    session.flush()
    result = BatchResult(batch_id=batch.id, department=dept.code, kind=kind, rows=len(parsed))
    reason = f"部门数据 {dept.code} 批次 {batch.id}"
    writer = _feed_writer(ctx, f"{reason}: {agreement.purpose}")
    prov = Provenance(
        "department",
        f"batch:{batch.id}",
        "document",
        f"{dept.code} {table.name} sha256:{table.sha256[:16]}"[:200],
    )
    feed = _Feed(dept.code, object_kind, batch.id, precedence, prov, reason, writer, len(parsed))
    done = 0
    while done < len(parsed):
        done += _submit_chunk(session, ctx, feed, parsed[done : done + CHUNK_ROWS], result)
    session.flush()
    batch.rows_total = result.rows
    batch.rows_matched = result.matched
    batch.rows_unmatched = len(result.unmatched_lines)
    batch.values_applied = result.applied
    batch.values_same = result.same
    batch.conflicts = len(result.conflicts)
    log_exchange(
        session,
        ctx,
        direction="in",
        operation="batch",
        department=dept.code,
        agreement_id=agreement.id,
        kinds=[object_kind],
        row_count=result.rows,
        sha256=table.sha256,
        detail={"batch_id": batch.id, "file": table.name},
    )
    registry.log(
        dataclasses.replace(ctx, purpose=f"{reason}: {agreement.purpose}"[: audit_purpose_max()]),
        session,
        [
            audit.Event(
                "department.batch",
                "department_batch",
                batch.id,
                None,
                {
                    "department": dept.code,
                    "kind": kind,
                    "rows": result.rows,
                    "matched": result.matched,
                    "applied": result.applied,
                    "conflicts": len(result.conflicts),
                    "sha256": table.sha256,
                },
            )
        ],
    )
    return result


# ---- conflicts -------------------------------------------------------------------------------------------------


def _in_scope(actor: Actor) -> Any:
    return select(Area.id).where(Area.path.startswith(actor.area_path))


def conflict_view(c: ExchangeConflict) -> dict[str, Any]:
    """A conflict as shown in the review queue."""
    return {
        "id": c.id,
        "object_kind": c.object_kind,
        "object_id": c.object_id,
        "field": c.field,
        "register_value": c.register_value,
        "department_value": c.department_value,
        "department": c.department,
        "batch_id": c.batch_id,
        "line": c.line,
        "status": c.status,
        "created_at": c.created_at.isoformat(),
        "decided_by": c.decided_by,
        "decided_at": c.decided_at.isoformat() if c.decided_at else None,
        "reason": c.reason,
    }


def list_conflicts(
    session: Session,
    ctx: Context,
    *,
    status: str | None,
    department: str | None,
    offset: int,
    limit: int,
    open_first: bool = False,
) -> tuple[list[ExchangeConflict], int]:
    """Conflicts in the caller's jurisdiction, oldest first (`open_first`: the open ones before the decided)."""
    ctx.actor.ensure("conflict.decide")
    stmt = select(ExchangeConflict).where(ExchangeConflict.area_id.in_(_in_scope(ctx.actor)))
    if status:
        stmt = stmt.where(ExchangeConflict.status == status)
    if department:
        stmt = stmt.where(ExchangeConflict.department == department)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order = [ExchangeConflict.id]
    if open_first:
        order.insert(0, case((ExchangeConflict.status == "open", 0), else_=1))  # type: ignore[arg-type]
    rows = session.execute(stmt.order_by(*order).offset(offset).limit(limit)).scalars().all()
    return list(rows), int(total)


def _conflict_in_scope(session: Session, ctx: Context, conflict_id: int) -> ExchangeConflict:
    ctx.actor.ensure("conflict.decide")
    c = session.execute(
        select(ExchangeConflict).where(
            ExchangeConflict.id == conflict_id, ExchangeConflict.area_id.in_(_in_scope(ctx.actor))
        )
    ).scalar_one_or_none()
    if c is None:
        raise NotFound("conflict.not_found", "未找到该冲突", "Conflict not found", {"id": conflict_id})
    return c


def get_conflict(session: Session, ctx: Context, conflict_id: int) -> dict[str, Any]:
    """One conflict with its batch (file, time received), for the side-by-side decision; out of scope: 404."""
    c = _conflict_in_scope(session, ctx, conflict_id)
    batch = session.get(DepartmentBatch, c.batch_id)
    view = conflict_view(c)
    view["batch_file"] = batch.file_name if batch else None
    view["batch_received_at"] = batch.received_at.isoformat() if batch else None
    return view


def decide_conflict(
    session: Session, ctx: Context, conflict_id: int, *, accept: bool, reason: str
) -> ExchangeConflict:
    """Accept the department's value (written through the registry with the batch as provenance) or reject it."""
    c = _conflict_in_scope(session, ctx, conflict_id)
    if c.status != "open":
        raise Conflict(
            "conflict.already_decided",
            "该冲突已处理",
            "The conflict was already decided",
            {"status": c.status},
        )
    if accept:
        batch = session.get(DepartmentBatch, c.batch_id)
        assert batch is not None
        value = _parse_value(c.field, c.department_value or "", ctx.today) if c.department_value else None
        prov = Provenance(
            "department", f"batch:{c.batch_id}", "document", f"{c.department} {batch.file_name}"[:200]
        )
        _apply(
            session, ctx, c.object_id, {c.field: value}, prov, f"采纳部门数据 {c.department}: {reason}"[:500]
        )
    c.status = "accepted" if accept else "rejected"
    c.decided_by = ctx.actor.user_id
    c.decided_at = ctx.now
    c.reason = reason
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                f"conflict.{c.status}",
                c.object_kind,
                c.object_id,
                c.object_id if c.object_kind == "person" else None,
                {"conflict_id": c.id, "field": c.field, "department": c.department, "reason": reason},
            )
        ],
    )
    return c


# ---- feedback --------------------------------------------------------------------------------------------------


def feedback_view(f: Feedback, today: dt.date) -> dict[str, Any]:
    """A feedback item with its deadlines and which of them passed."""
    return {
        "id": f.id,
        "department": f.department,
        "object_kind": f.object_kind,
        "object_id": f.object_id,
        "attribute": f.attribute,
        "reason": f.reason,
        "suggested_value": f.suggested_value,
        "flag_id": f.flag_id,
        "filed_at": f.filed_at.isoformat(),
        "pickup_due": f.pickup_due.isoformat(),
        "decision_due": f.decision_due.isoformat(),
        "picked_up_at": f.picked_up_at.isoformat() if f.picked_up_at else None,
        "decided_at": f.decided_at.isoformat() if f.decided_at else None,
        "outcome": f.outcome,
        "note": f.note,
        "status": "decided" if f.decided_at else "picked_up" if f.picked_up_at else "open",
        "overdue": rules.overdue(
            today=today,
            pickup_due=f.pickup_due,
            decision_due=f.decision_due,
            picked_up=f.picked_up_at is not None,
            decided=f.decided_at is not None,
        ),
    }


def file_feedback(
    session: Session,
    ctx: Context,
    *,
    object_kind: str,
    object_id: int,
    attribute: str,
    reason: str,
    suggested_value: str | None,
    calendar: HolidayCalendar,
    decision_days: int,
) -> Feedback:
    """A department doubts a value: the attribute is flagged under investigation (存疑待查) with deadlines —
    pick-up within 2 working days, a decision within `decision_days` working days."""
    ctx.actor.ensure("department.exchange")
    dept, agreement = _liaison_agreement(session, ctx)
    kind = kinds().get(object_kind)
    allowed = set(json.loads(agreement.reads).get(object_kind, [])) | set(
        json.loads(agreement.provides).get(object_kind, [])
    )
    if kind is None or attribute not in allowed or attribute not in kind.attributes:
        raise Forbidden(
            "department.field_not_shared",
            "只能对协议约定读取或报送的字段提出反馈",
            "Feedback is possible only on fields the agreement lets the department read or provide",
            {"field": "attribute", "kind": object_kind, "attribute": attribute},
        )
    writer = _feed_writer(ctx, f"{dept.code} 反馈: {agreement.purpose}")
    entity = registry.get_entity(session, kind, object_id, ctx.actor)
    flag = registry.flag(
        session,
        writer,
        kind,
        object_id,
        attribute=attribute,
        reason=f"[{dept.code}] {reason}"[:500],
        expected_version=entity.version,
    )
    row = Feedback(
        department=dept.code,
        object_kind=object_kind,
        object_id=object_id,
        attribute=attribute,
        reason=reason,
        suggested_value=suggested_value,
        flag_id=flag.id,
        filed_by=ctx.actor.user_id,
        filed_at=ctx.now,
        pickup_due=rules.add_working_days(ctx.today, 2, calendar),
        decision_due=rules.add_working_days(ctx.today, decision_days, calendar),
        area_id=entity.area_id,
        county_code=entity.county_code,
    )
    session.add(row)
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "feedback.file",
                object_kind,
                object_id,
                registry.subject_of(kind, entity),
                {"feedback_id": row.id},
            )
        ],
    )
    return row


def _handled_feedback(session: Session, ctx: Context, feedback_id: int) -> Feedback:
    ctx.actor.ensure("feedback.handle")
    f = session.execute(
        select(Feedback).where(Feedback.id == feedback_id, Feedback.area_id.in_(_in_scope(ctx.actor)))
    ).scalar_one_or_none()
    if f is None:
        raise NotFound("feedback.not_found", "未找到该反馈", "Feedback not found", {"id": feedback_id})
    if f.decided_at is not None:
        raise Conflict(
            "feedback.already_decided", "该反馈已办结", "The feedback was already decided", {"id": f.id}
        )
    return f


def pick_up_feedback(session: Session, ctx: Context, feedback_id: int) -> Feedback:
    """The holder of the value takes the feedback up (签收)."""
    f = _handled_feedback(session, ctx, feedback_id)
    if f.picked_up_at is not None:
        raise Conflict(
            "feedback.already_picked_up", "该反馈已签收", "The feedback was already picked up", {"id": f.id}
        )
    f.picked_up_at = ctx.now
    f.picked_up_by = ctx.actor.user_id
    session.flush()
    registry.log(
        ctx,
        session,
        [audit.Event("feedback.pickup", f.object_kind, f.object_id, None, {"feedback_id": f.id})],
    )
    return f


def decide_feedback(
    session: Session, ctx: Context, feedback_id: int, *, outcome: str, note: str, value: str | None
) -> Feedback:
    """Settle a feedback: `confirmed` (the register stands) or `corrected` (with the right value, a correction);
    the 'under investigation' flag is resolved either way."""
    f = _handled_feedback(session, ctx, feedback_id)
    kind = kinds()[f.object_kind]
    if outcome not in ("confirmed", "corrected"):
        raise ValidationFailed(
            "feedback.outcome_invalid",
            "结论须为 confirmed 或 corrected",
            "Outcome must be confirmed or corrected",
            {"field": "outcome"},
        )
    if outcome == "corrected":
        if value is None:
            raise ValidationFailed(
                "feedback.value_required",
                "更正须给出正确的值",
                "A correction needs the right value",
                {"field": "value"},
            )
        entity = registry.get_entity(session, kind, f.object_id, ctx.actor, write=True)
        new = _parse_value(f.attribute, value, ctx.today) if f.object_kind == "person" else value
        from liangshi.persons import service as persons

        registry.correct(
            session,
            ctx,
            kind,
            f.object_id,
            {f.attribute: new},
            expected_version=entity.version,
            row_id=None,
            prov=Provenance("department", f"feedback:{f.id}", "document", f.department),
            reason=f"部门反馈 {f.department}: {note}"[:500],
            check=persons.person_check(session, ctx) if f.object_kind == "person" else None,
        )
    entity = registry.get_entity(session, kind, f.object_id, ctx.actor, write=True)
    registry.resolve_flag(
        session,
        ctx,
        kind,
        f.object_id,
        flag_id=f.flag_id,
        resolution=f"{outcome}: {note}"[:500],
        expected_version=entity.version,
    )
    if f.picked_up_at is None:
        f.picked_up_at, f.picked_up_by = ctx.now, ctx.actor.user_id
    f.decided_at, f.decided_by, f.outcome, f.note = ctx.now, ctx.actor.user_id, outcome, note
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "feedback.decide", f.object_kind, f.object_id, None, {"feedback_id": f.id, "outcome": outcome}
            )
        ],
    )
    return f


def list_feedback(
    session: Session, ctx: Context, *, overdue: bool, offset: int, limit: int
) -> tuple[list[Feedback], int]:
    """Feedback a liaison filed for their department, or feedback in a handler's jurisdiction; `overdue`: only
    items whose pick-up or decision deadline has passed."""
    stmt = select(Feedback)
    if ctx.actor.may("feedback.handle"):
        stmt = stmt.where(Feedback.area_id.in_(_in_scope(ctx.actor)))
    else:
        ctx.actor.ensure("department.exchange")
        stmt = stmt.where(Feedback.department == (ctx.actor.department or ""))
    if overdue:
        stmt = stmt.where(
            Feedback.decided_at.is_(None),
            or_(
                Feedback.decision_due < ctx.today,
                and_(Feedback.picked_up_at.is_(None), Feedback.pickup_due < ctx.today),
            ),
        )
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Feedback.id).offset(offset).limit(limit)).scalars().all()
    return list(rows), int(total)


# ---- feeds out -------------------------------------------------------------------------------------------------


def _show(kind: str, name: str, value: Any) -> Any:
    # Departments get document numbers masked, like every other reader without an unmask right.
    if kind == "document" and name == "number" and isinstance(value, str):
        return mask_id_number(value)
    return value


def _readable(agreement: Agreement) -> dict[str, list[str]]:
    known = kinds()
    return {
        k: [f for f in fields if f in known[k].attributes]
        for k, fields in json.loads(agreement.reads).items()
        if k in known
    }


def _records_only(dept: Department, agreement: Agreement) -> None:
    if agreement.aggregates_only:
        raise Forbidden(
            "department.aggregates_only",
            "该部门的协议只提供统计汇总，不能获取个案记录",
            "The department's agreement gives aggregates only, not records",
            {"department": dept.code},
        )


# How long a writer may take, at most, from the clock reading that stamps its rows to its commit: a legacy cursor
# (a point in record time) resumes this far before it. A repeat is better than a miss.
LEGACY_CURSOR_MARGIN = dt.timedelta(days=7)


# The oldest transaction of this database still running, from one snapshot: the snapshot's in-progress ids, less
# those pg_stat_activity shows running in another database of the server (they cannot write these tables, and
# must not hold the feed back); without one, the first id not yet handed out. Ids are compared as 32-bit xids there.
_HORIZON = text(
    """
    SELECT coalesce(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x
         WHERE x::text::bigint % 4294967296 NOT IN (
            SELECT a.backend_xid::text::bigint FROM pg_stat_activity AS a
            WHERE a.backend_xid IS NOT NULL AND a.datname <> current_database())),
        pg_snapshot_xmax(s)::text::bigint)
    FROM pg_current_snapshot() AS s
    """
)


def _horizon(session: Session) -> int | None:
    """On PostgreSQL, a transaction id below which every transaction that could write version rows has ended: its
    rows are final (visible to any later statement) and rows not yet committed always carry this id or a larger
    one. A transaction still running holds back the rows of later ones until it ends. None on SQLite, where
    writers are serialised (a version row's id grows in commit order and `xact_id` is 0)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.execute(_HORIZON).scalar_one())


def _frontier(session: Session, kind: Kind, horizon: int | None) -> rules.Position:
    """A position that every row of the kind committed from now on comes after."""
    if horizon is not None:
        return (horizon, 0)
    top = session.execute(select(func.max(kind.version.row_id))).scalar()
    return (0, int(top or 0))


def _from_legacy(
    session: Session, cursor: rules.LegacyCursor, horizon: int | None
) -> dict[str, rules.Position]:
    """Positions for a cursor of the first form, conservatively: per kind, before the first row recorded less than
    LEGACY_CURSOR_MARGIN before the cursor's record time (rows of a still-open transaction come after, too)."""
    since = cursor.recorded_at - LEGACY_CURSOR_MARGIN
    out: dict[str, rules.Position] = {}
    for name, kind in kinds().items():
        v = kind.version
        later = (
            v.recorded_at >= since if horizon is None else or_(v.recorded_at >= since, v.xact_id >= horizon)
        )
        first = session.execute(
            select(v.xact_id, v.row_id).where(later).order_by(v.xact_id, v.row_id).limit(1)
        ).first()
        frontier = _frontier(session, kind, horizon)
        out[name] = frontier if first is None else min((int(first[0]), int(first[1]) - 1), frontier)
    return out


def _last_cursor(session: Session, dept: Department) -> str | None:
    row = session.execute(
        select(ExchangeLogEntry.detail)
        .where(ExchangeLogEntry.department == dept.code, ExchangeLogEntry.operation == "pull")
        .order_by(ExchangeLogEntry.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return json.loads(row).get("next_cursor") if row else None


@dataclass(frozen=True)
class _Pulled:
    kind: str
    position: rules.Position
    order: tuple[dt.datetime, str, int]  # how kinds interleave on a page: record time, kind, row id
    item: dict[str, Any]
    subject: int | None


def pull_changes(
    session: Session, ctx: Context, *, department: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Version rows committed after the cursor (without one: after the department's last pull), cut to the
    agreement's readable fields and the caller's jurisdiction.

    The cursor holds a position per kind, (writing transaction, row id) of the last row delivered, and each kind is
    read in that order. On SQLite writers are serialised, so row ids grow in commit order. On PostgreSQL a row is
    delivered only once its transaction id is below the oldest transaction of the database still running
    (`_horizon`): every row committed later has a larger id than any already delivered. So every committed row is
    delivered exactly once across successive pulls, whatever its `recorded_at`. A page merges the kinds by record
    time, taking each kind's rows in order (a page holds a prefix of every kind)."""
    dept, agreement = _liaison_agreement(session, ctx, department)
    _records_only(dept, agreement)
    start = cursor if cursor is not None else _last_cursor(session, dept)
    decoded = rules.decode_cursor(start) if start else {}
    horizon = _horizon(session)
    after = _from_legacy(session, decoded, horizon) if isinstance(decoded, rules.LegacyCursor) else decoded
    known = kinds()
    readable = _readable(agreement)
    runs: list[list[_Pulled]] = []
    for name, fields in sorted(readable.items()):
        kind = known[name]
        v, e = kind.version, kind.entity
        stmt: Select[Any] = select(v, e).join(e, e.id == v.entity_id)
        if name in after:
            stmt = stmt.where(tuple_(v.xact_id, v.row_id) > tuple_(*after[name]))
        if horizon is not None:
            stmt = stmt.where(v.xact_id < horizon)
        stmt = registry.scoped(stmt, kind, ctx.actor).order_by(v.xact_id, v.row_id).limit(limit + 1)
        run: list[_Pulled] = []
        for row, ent in session.execute(stmt):
            item = {
                "kind": name,
                "id": ent.id,
                "row_id": row.row_id,
                "version": row.version,
                "change": row.change,
                "valid_from": row.valid_from.isoformat(),
                "valid_to": row.valid_to.isoformat() if row.valid_to else None,
                "recorded_at": row.recorded_at.isoformat(),
                "superseded_at": row.superseded_at.isoformat() if row.superseded_at else None,
                "attributes": {f: _text(_show(name, f, getattr(row, f))) for f in fields},
            }
            position = (int(row.xact_id), int(row.row_id))
            order = (row.recorded_at, name, row.row_id)
            run.append(_Pulled(name, position, order, item, registry.subject_of(kind, ent)))
        runs.append(run)
    # heapq.merge only ever takes the head of a run, so each kind's part of the page is a prefix of its run.
    merged = list(itertools.islice(heapq.merge(*runs, key=lambda p: p.order), limit + 1))
    page = merged[:limit]
    positions = {k: p for k, p in after.items() if k in known}
    positions.update({p.kind: p.position for p in page})
    for name, kind in known.items():
        if name not in readable:
            # Kinds the agreement does not let it read move on too: if it later may, it gets what comes after.
            frontier = _frontier(session, kind, horizon)
            positions[name] = max(positions.get(name, frontier), frontier)
    next_cursor = rules.encode_cursor(positions)
    items = [p.item for p in page]
    purposed = _with_purpose(ctx, dept, agreement)
    log_exchange(
        session,
        ctx,
        direction="out",
        operation="pull",
        department=dept.code,
        agreement_id=agreement.id,
        kinds=sorted({i["kind"] for i in items}),
        row_count=len(items),
        sha256=rules.content_hash(items),
        detail={"cursor": start, "next_cursor": next_cursor},
    )
    registry.log(
        purposed,
        session,
        [
            audit.Event("department.pull", p.kind, p.item["id"], p.subject, {"row_id": p.item["row_id"]})
            for p in page
            if p.kind in registry.PERSONAL_KINDS
        ],
    )
    return {"items": items, "next_cursor": next_cursor, "has_more": len(merged) > limit}


def _area_names(session: Session, area_ids: set[int]) -> dict[int, tuple[str, str]]:
    from liangshi.areas.models import AreaVersion

    if not area_ids:
        return {}
    rows = session.execute(
        select(Area.id, Area.code, AreaVersion.name)
        .join(AreaVersion, and_(AreaVersion.entity_id == Area.id, AreaVersion.superseded_at.is_(None)))
        .where(Area.id.in_(area_ids))
        .order_by(AreaVersion.valid_from)
    )
    return {int(i): (str(code), str(name)) for i, code, name in rows}


@dataclass
class Sheet:
    """One kind's rows of an extract (or the aggregates)."""

    name: str
    header: list[str]
    rows: list[list[Any]]


def extract(session: Session, ctx: Context, *, department: str, kind: str | None = None) -> list[Sheet]:
    """The current state cut to the agreement: one sheet per readable kind; aggregates only for an
    aggregates-only (statistics) agreement — counts per area and category, never person rows."""
    dept, agreement = _liaison_agreement(session, ctx, department)
    readable = _readable(agreement)
    if kind is not None and kind not in readable:
        raise Forbidden(
            "department.kind_not_readable",
            "共享协议不允许读取该类对象",
            "The agreement does not let the department read this kind of object",
            {"department": dept.code, "kind": kind},
        )
    wanted = [kind] if kind else sorted(readable)
    known = kinds()
    sheets: list[Sheet] = []
    events: list[audit.Event] = []
    for name in wanted:
        k = known[name]
        v, e = k.version, k.entity
        current = and_(v.entity_id == e.id, v.superseded_at.is_(None), v.valid_to.is_(None))
        if agreement.aggregates_only:
            by = AGGREGATE_BY.get(name)
            category = getattr(v, by) if by else None
            cols = [e.area_id, *([category] if category is not None else [])]
            stmt = (
                registry.scoped(select(*cols, func.count()).select_from(e).join(v, current), k, ctx.actor)
                .group_by(*cols)
                .order_by(*cols)
            )
            counted = session.execute(stmt).all()
            names = _area_names(session, {int(r[0]) for r in counted})
            rows = [
                [name, *names.get(int(r[0]), ("", "")), by or "", _text(r[1]) if by else "", int(r[-1])]
                for r in counted
            ]
            sheets.append(
                Sheet(name, ["kind", "area_code", "area_name", "category_field", "category", "count"], rows)
            )
            continue
        fields = readable[name]
        stmt = registry.scoped(select(e, v).join(v, current), k, ctx.actor).order_by(e.id)
        rows = []
        for ent, row in session.execute(stmt):
            rows.append([ent.id, ent.version, *(_text(_show(name, f, getattr(row, f))) for f in fields)])
            if name in registry.PERSONAL_KINDS:
                events.append(audit.Event("department.extract", name, ent.id, registry.subject_of(k, ent)))
        sheets.append(Sheet(name, ["id", "version", *fields], rows))
    log_exchange(
        session,
        ctx,
        direction="out",
        operation="aggregates" if agreement.aggregates_only else "extract",
        department=dept.code,
        agreement_id=agreement.id,
        kinds=wanted,
        row_count=sum(len(s.rows) for s in sheets),
        sha256=rules.content_hash([[s.name, s.header, s.rows] for s in sheets]),
        detail={"kinds": wanted},
    )
    registry.log(_with_purpose(ctx, dept, agreement), session, events)
    return sheets


def sheets_csv(sheets: Sequence[Sheet]) -> bytes:
    """Sheets as one CSV (UTF-8 with BOM for Excel): one block per sheet, the kind in the first column."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for i, sheet in enumerate(sheets):
        if len(sheets) > 1 and i:
            writer.writerow([])
        writer.writerow(sheet.header)
        writer.writerows(sheet.rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def sheets_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """Sheets as an XLSX workbook, one worksheet per kind."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name[:31])
        ws.append(sheet.header)
        for row in sheet.rows:
            ws.append(row)
    if not sheets:
        wb.create_sheet("empty")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- exchange log ----------------------------------------------------------------------------------------------


def _entry_fields(e: ExchangeLogEntry | Mapping[str, Any]) -> dict[str, Any]:
    def get(key: str) -> Any:
        return e[key] if isinstance(e, Mapping) else getattr(e, key)

    return {
        "seq": get("seq"),
        "at": get("at").astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "direction": get("direction"),
        "department": get("department"),
        "agreement_id": get("agreement_id"),
        "operation": get("operation"),
        "object_kinds": get("object_kinds"),
        "row_count": get("row_count"),
        "content_sha256": get("content_sha256"),
        "actor_id": get("actor_id"),
        "actor_name": get("actor_name"),
        "detail": get("detail"),
    }


def log_exchange(
    session: Session,
    ctx: Context,
    *,
    direction: str,
    operation: str,
    department: str,
    agreement_id: int | None,
    kinds: Iterable[str],
    row_count: int,
    sha256: str,
    detail: dict[str, Any],
) -> ExchangeLogEntry:
    """Append one exchange to the hash-chained exchange log (in the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7400002)"))
    last = session.execute(
        select(ExchangeLogEntry.seq, ExchangeLogEntry.hash).order_by(ExchangeLogEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, rules.GENESIS)
    values: dict[str, Any] = {
        "seq": seq + 1,
        "at": ctx.now.astimezone(dt.UTC),
        "direction": direction,
        "department": department,
        "agreement_id": agreement_id,
        "operation": operation,
        "object_kinds": ",".join(kinds)[:200],
        "row_count": row_count,
        "content_sha256": sha256,
        "actor_id": ctx.actor.user_id,
        "actor_name": ctx.actor.username,
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
    }
    entry = ExchangeLogEntry(**values, prev_hash=prev, hash=rules.entry_hash(_entry_fields(values), prev))
    session.add(entry)
    session.flush()
    return entry


def verify_log(session: Session, ctx: Context) -> dict[str, Any]:
    """Recompute the exchange log's chain: an altered entry breaks its hash, a deleted one a link or the sequence."""
    ctx.actor.ensure("exchange_log.verify")
    problems: list[dict[str, Any]] = []
    expected, prev, count = 1, rules.GENESIS, 0
    for entry in session.execute(select(ExchangeLogEntry).order_by(ExchangeLogEntry.seq)).scalars():
        count += 1
        if entry.seq != expected:
            problems.append({"seq": entry.seq, "problem": "missing", "missing_from": expected})
        if entry.prev_hash != prev:
            problems.append({"seq": entry.seq, "problem": "broken_link"})
        if rules.entry_hash(_entry_fields(entry), entry.prev_hash) != entry.hash:
            problems.append({"seq": entry.seq, "problem": "altered"})
        prev, expected = entry.hash, entry.seq + 1
    registry.log(
        ctx,
        session,
        [audit.Event("exchange_log.verify", None, None, None, {"entries": count, "problems": len(problems)})],
    )
    return {"ok": not problems, "entries": count, "problems": problems}
