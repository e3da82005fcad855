"""Feeds in: a department's batch matched to register persons, compared with the register under the precedence
rules and written set-based through the registry (`registry.change_many`), disagreements queued as conflicts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from liangshi import registry, sealed
from liangshi.access.rules import Actor
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.bulk import allocate_ids, analyse, bulk_insert, take_loaded
from liangshi.common.fieldcrypt import Keyring
from liangshi.departments import rules
from liangshi.departments.models import Agreement, Department, DepartmentBatch, ExchangeConflict
from liangshi.departments.service import feed_births, feed_corrections, feed_dwellings, feed_places
from liangshi.departments.service.agreements import _liaison_agreement, audit_purpose_max, get_department
from liangshi.departments.service.batch_rows import (
    FeedTable,
    RowProblem,
    _column_map,
    _parse_rows,
    _refuse_rows,
    _row_problem,
    _text,
    community_problem,
)
from liangshi.departments.service.exchange_log import log_exchange
from liangshi.errors import Forbidden, LiangshiError, ValidationFailed
from liangshi.linkage.api import LinkRecord
from liangshi.mpi import service as mpi
from liangshi.persons.models import PERSON, Document, DocumentVersion, Person
from liangshi.persons.rules import check_document_agrees
from liangshi.persons.service import document_query
from liangshi.registry import Context, Provenance, history
from liangshi.residence import service as residence

# Batch rows matched, compared and written together (a few statements per run instead of a dozen per person).
CHUNK_ROWS = 5000


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
    created: int = 0  # became a new register person (none since issue 14: such records wait for a claim)
    claims: int = 0  # nobody known: held for the community to claim (认领), a change set
    queued: int = 0  # wait in the review queue (their rows stay unmatched)
    # The change sets a batch opened for review (a birth: its proposal in the mother's community).
    proposals: list[int] = field(default_factory=list)
    # The rows refused (each problem: line, field, code), the good rows being kept (issue 15).
    rejected: list[RowProblem] = field(default_factory=list)


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
                v.number_idx.in_(
                    list(sealed.keys_for(session, v.number, values[i : i + history.BULK_CHUNK]))
                ),
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


def _register_values(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """A person's latest current row (as `history.latest_row` answers), its values with the death date of a
    retirement, and whether the person is retired."""
    row = history.latest_of(rows)
    attrs = {name: row[name] for name in PERSON.attributes}
    retired = row["valid_to"] is not None
    attrs["death_date"] = row["valid_to"] if retired and row["change"] == "retire" else None
    return row, attrs, retired


def _documents_of(session: Session, person_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Per person, the type and number of their current documents (for the check of `persons.person_check`)."""
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
    # Refuse the batch at the first bad row (an all-or-nothing agreement); else leave the row out and report it.
    whole: bool = False
    # Line -> id of the community the row names (管辖社区): where a record nobody matched becomes a person.
    areas: Mapping[int, int] = field(default_factory=dict)


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


# The field name of the department record id's keyed hash (liangshi.sealed): its own, so that it equals no other
# index of the same number.
RECORD_ID_FIELD = "department.record_number"


def department_record_id(ring: Keyring, doc_type: str, number: str) -> str:
    """A department record's id in the master person index: its document type and the keyed hash of its number,
    never the number itself — the id is written into the audit log's details and shown on the review desk, and
    the number is in clear nowhere else in the logs (issue 18). Stable for a number, so a record sent again is
    recognised."""
    return f"{doc_type}:{ring.index(RECORD_ID_FIELD, number)[:48]}"


def _resolve_unknown(
    session: Session,
    writer: Context,
    feed: _Feed,
    rows: list[tuple[int, str, str, dict[str, Any]]],
    result: BatchResult,
) -> dict[str, int]:
    """Records whose document number no register person holds go to the master person index (liangshi.mpi).

    A confident match joins that person and keeps their id (a mistyped or old 15-digit number, say); an
    uncertain one waits in the review queue and its row stays unmatched; a record that is nobody known waits for
    its community to claim it (认领: a change set, applied through the kernel when claimed) when it carries a
    name, a sex and a birth date — the community its row names (管辖社区), else the submitter's area — and its row
    stays unmatched. The department's document number, keyed-hashed, is its record id, so a record sent again
    resolves as before and opens no second claim.
    """
    by_area: dict[int | None, dict[str, LinkRecord]] = {}
    ring = sealed.session_keyring(session)
    for line, doc_type, number, record in rows:
        record_id = department_record_id(ring, doc_type, number)
        by_area.setdefault(feed.areas.get(line), {}).setdefault(
            record_id,
            LinkRecord(
                record_id=record_id,
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
    for area_id, records in by_area.items():
        resolutions = mpi.resolve(
            session,
            writer,
            list(records.values()),
            source=feed.department,
            batch_ref=f"batch:{feed.batch_id}",
            area_id=area_id,
        )
        for res in resolutions:
            if res.person_id is None or res.status not in ("linked", "new"):
                result.queued += res.status == "review"
                result.claims += res.status == "claim"
                continue
            found[records[res.record_id].id_number or ""] = res.person_id
            result.linked += res.status == "linked"
            result.created += res.status == "new"
    return found


_Rows = list[tuple[int, str, str, dict[str, Any]]]


def _match_run(
    session: Session, ctx: Context, feed: _Feed, rows: _Rows, result: BatchResult
) -> tuple[_Rows, dict[str, int], set[int]]:
    """The run's records matched to persons (by document number, else through the master person index), cut
    before the first row whose person already appeared in it; with the persons it names."""
    matched = resolve_persons(session, ctx, [(doc_type, number) for _, doc_type, number, _ in rows])
    unknown = [row for row in rows if row[2] not in matched]
    if unknown:
        matched |= _resolve_unknown(session, feed.writer, feed, unknown, result)
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
    return rows[:take], matched, seen


def _compare(
    ctx: Context,
    feed: _Feed,
    rows: _Rows,
    matched: dict[str, int],
    states: Mapping[int, list[dict[str, Any]]],
    result: BatchResult,
) -> tuple[list[_Plan], list[dict[str, Any]]]:
    """Each matched row's values compared with its person's register values under the precedence rules: the
    values to apply (a plan per person) and the disagreements to queue (conflict rows)."""
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
    return plans, conflicts


def _check_plans(session: Session, feed: _Feed, plans: list[_Plan]) -> list[tuple[_Plan, RowProblem]]:
    """The checks `registry.change` makes, in row order, before anything of the run is written: the plans that
    fail them, each with its problem."""
    writer = feed.writer
    documents = _documents_of(session, [p.person_id for p in plans if p.changes])
    failed: list[tuple[_Plan, RowProblem]] = []
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
            failed.append((plan, _row_problem(plan.line, exc, next(iter(plan.changes)))))
    return failed


def _leave_out(
    feed: _Feed,
    plans: list[_Plan],
    conflicts: list[dict[str, Any]],
    failed: list[tuple[_Plan, RowProblem]],
    result: BatchResult,
) -> tuple[list[_Plan], list[dict[str, Any]]]:
    """Drop the rows that failed the checks (their values and their conflicts), reporting them; with an
    all-or-nothing agreement, refuse the batch instead."""
    if not failed:
        return plans, conflicts
    if feed.whole:
        raise _refuse_rows([p for _, p in failed], feed.rows)
    lines = {plan.line for plan, _ in failed}
    for plan, problem in failed:
        result.rejected.append(problem)
        result.matched -= 1
        result.applied -= len(plan.changes) + (plan.death is not None)
    return [p for p in plans if p.line not in lines], [c for c in conflicts if c["line"] not in lines]


def _write_values(session: Session, feed: _Feed, plans: list[_Plan]) -> dict[int, int]:
    """The run's values through `registry.change_many` (the rows `registry.change` writes, one audit entry per
    person, the writer's permission and jurisdiction checked); a refusal names the row. Person id -> version."""
    writer = feed.writer
    changed = [p for p in plans if p.changes]
    try:
        return registry.change_many(
            session,
            writer,
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
            reason=feed.reason,
        )
    except Forbidden:
        raise  # the writer may not write persons: the whole batch is refused (403), not a row of it
    except LiangshiError as exc:
        line_of = {p.person_id: p for p in changed}
        plan = line_of.get(exc.data.get("id", -1), changed[0])
        raise _refuse_at(plan.line, exc, next(iter(plan.changes)), feed.rows) from None


def _add_conflicts(session: Session, conflicts: list[dict[str, Any]], result: BatchResult) -> None:
    """The run's disagreements into the review queue, in one bulk insert."""
    if conflicts:
        ids = allocate_ids(session, ExchangeConflict, len(conflicts))
        bulk_insert(session, ExchangeConflict, [{"id": i, **c} for i, c in zip(ids, conflicts, strict=True)])
        result.conflicts.extend(ids)


def _write_deaths(session: Session, feed: _Feed, plans: list[_Plan], versions: dict[int, int]) -> None:
    """Deaths after the values (as `_apply` orders them), all of the run at once, from the version each person
    was read at (or that the values above gave them): a person changed meanwhile refuses the batch."""
    dying = [p for p in plans if p.death is not None]
    if dying:
        residence.register_deaths(
            session,
            feed.writer,
            [
                residence.Death(p.person_id, p.death, versions.get(p.person_id, p.current["entity_version"]))
                for p in dying
                if p.death is not None
            ],
            feed.prov,
            feed.reason[:500],
            refused=lambda i, exc: _refuse_at(dying[i].line, exc, "death_date", feed.rows),
        )


def _submit_chunk(session: Session, ctx: Context, feed: _Feed, rows: _Rows, result: BatchResult) -> int:
    """Match, compare and write a run of batch rows with a few statements: returns how many rows it took.

    The run stops before the first row whose person already appeared in it, so that a later row about the same
    person is compared with what the earlier one wrote (as if the rows were applied one by one). Values are
    written with `registry.change_many` (the rows `registry.change` writes, one audit entry per person),
    conflicts with one bulk insert, the deaths of the run with `residence.register_deaths` (the rows and audit
    entries of the death use case for each, residences and memberships closed too).
    """
    rows, matched, seen = _match_run(session, ctx, feed, rows, result)
    states = history.current_rows(session, PERSON, list(seen))
    plans, conflicts = _compare(ctx, feed, rows, matched, states, result)
    plans, conflicts = _leave_out(feed, plans, conflicts, _check_plans(session, feed, plans), result)
    versions = _write_values(session, feed, plans)
    _add_conflicts(session, conflicts, result)
    _write_deaths(session, feed, plans, versions)
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


def _batch_columns(
    table: FeedTable, agreement: Agreement, object_kind: str
) -> tuple[dict[int, str], list[str]]:
    """The batch's columns (position -> field) and its data fields; 403 for a field the agreement does not let the
    department provide, 422 without any data field."""
    mapping = _column_map(table.header)
    fields = [k for k in mapping.values() if k not in rules.PERSON_KEY and k not in rules.ROUTE_COLUMNS]
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
    return mapping, fields


def _open_batch(
    session: Session,
    ctx: Context,
    dept: Department,
    agreement: Agreement,
    kind: str,
    object_kind: str,
    table: FeedTable,
    precedence: rules.Precedence,
    rows: int,
    areas: Mapping[int, int],
) -> tuple[DepartmentBatch, _Feed]:
    """The batch record of an accepted batch and what its chunks are written with."""
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
    reason = f"部门数据 {dept.code} 批次 {batch.id}"
    writer = _feed_writer(ctx, f"{reason}: {agreement.purpose}")
    prov = Provenance(
        "department",
        f"batch:{batch.id}",
        "document",
        f"{dept.code} {table.name} sha256:{table.sha256[:16]}"[:200],
    )
    feed = _Feed(
        dept.code,
        object_kind,
        batch.id,
        precedence,
        prov,
        reason,
        writer,
        rows,
        whole=agreement.all_or_nothing,
        areas=areas,
    )
    return batch, feed


def _close_batch(
    session: Session,
    ctx: Context,
    batch: DepartmentBatch,
    result: BatchResult,
    agreement: Agreement,
    table: FeedTable,
    feed: _Feed,
) -> None:
    """The batch record's counts, its exchange log entry and its audit entry."""
    dept_code, object_kind, kind, reason = feed.department, feed.object_kind, batch.kind, feed.reason
    session.flush()
    batch.rows_total = result.rows
    batch.rows_matched = result.matched
    batch.rows_unmatched = len(result.unmatched_lines)
    batch.values_applied = result.applied
    batch.values_same = result.same
    batch.conflicts = len(result.conflicts)
    batch.rows_rejected = len({p.line for p in result.rejected})
    log_exchange(
        session,
        ctx,
        direction="in",
        operation="batch",
        department=dept_code,
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
                    "department": dept_code,
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


def _planned_batch(
    session: Session,
    ctx: Context,
    dept: Department,
    agreement: Agreement,
    kind: str,
    object_kind: str,
    table: FeedTable,
    precedence: rules.Precedence,
    count: int,
    problems: list[RowProblem],
    write: Callable[[DepartmentBatch, _Feed, BatchResult], None],
) -> BatchResult:
    """A planned feed's batch: opened, its `count` planned rows written by `write` (which sets the result's
    counts), closed (counts, exchange log, audit); the plan's row problems are the batch's rejected rows."""
    batch, feed = _open_batch(session, ctx, dept, agreement, kind, object_kind, table, precedence, count, {})
    result = BatchResult(
        batch_id=batch.id, department=dept.code, kind=kind, rows=count, rejected=list(problems)
    )
    result.matched = count
    write(batch, feed, result)
    _close_batch(session, ctx, batch, result, agreement, table, feed)
    return result


def _community_areas(
    session: Session, actor: Actor, communities: Mapping[int, str]
) -> tuple[dict[int, int], list[RowProblem]]:
    """The area of each row's 管辖社区 (line -> area id) and a problem for each row naming a code that is not a
    community or village of the submitter's jurisdiction."""
    codes = sorted(set(communities.values()))
    found: dict[str, int] = {}
    for i in range(0, len(codes), history.BULK_CHUNK):
        for area_id, code, level, path in session.execute(
            select(Area.id, Area.code, Area.level, Area.path).where(
                Area.code.in_(codes[i : i + history.BULK_CHUNK])
            )
        ):
            if level in ("community", "village") and actor.covers_path(str(path)):
                found[str(code)] = int(area_id)
    areas = {line: found[code] for line, code in communities.items() if code in found}
    problems = [community_problem(line, code) for line, code in communities.items() if code not in found]
    return areas, problems


def submit_batch(
    session: Session,
    ctx: Context,
    *,
    department: str,
    kind: str,
    table: FeedTable,
    precedence: rules.Precedence,
) -> BatchResult:
    """Accept a department's batch: each bad row is reported (line, field, code — all of its problems at once)
    and the good rows are written; under an all-or-nothing agreement any bad row refuses the batch as a whole
    (nothing of a refused batch is written), as does a batch with no good row."""
    dept = get_department(session, department)
    dept, agreement = _liaison_agreement(session, ctx, dept.code)
    if kind not in rules.FEED_KINDS:
        raise ValidationFailed(
            "department.kind_unsupported",
            f"部门数据不支持该类型：{kind}",
            f"Department feeds do not take this kind: {kind}",
            {"field": "kind", "allowed": list(rules.FEED_KINDS)},
        )
    object_kind = rules.FEED_KINDS[kind]
    if kind == "dwellings":
        return _submit_dwellings(session, ctx, dept, agreement, table, precedence)
    if kind == "births":
        return _submit_births(session, ctx, dept, agreement, table, precedence)
    if kind == "corrections":
        return _submit_corrections(session, ctx, dept, agreement, table, precedence)
    if kind in ("areas", "streets"):
        return _submit_places(session, ctx, dept, agreement, kind, table, precedence)
    _ensure_may_submit(ctx.actor, dept, object_kind)
    mapping, fields = _batch_columns(table, agreement, object_kind)
    parsed, problems, communities = _parse_rows(table, mapping, fields, ctx.today)
    areas, unknown_areas = _community_areas(session, ctx.actor, communities)
    if unknown_areas:
        problems = sorted([*problems, *unknown_areas], key=lambda p: p.line)
        bad_lines = {p.line for p in unknown_areas}
        parsed = [row for row in parsed if row[0] not in bad_lines]
    if problems and (agreement.all_or_nothing or not parsed):
        raise _refuse_rows(problems, len({p.line for p in problems}) + len(parsed))
    batch, feed = _open_batch(
        session, ctx, dept, agreement, kind, object_kind, table, precedence, len(parsed), areas
    )
    result = BatchResult(
        batch_id=batch.id, department=dept.code, kind=kind, rows=len(parsed), rejected=list(problems)
    )
    done = 0
    while done < len(parsed):
        done += _submit_chunk(session, ctx, feed, parsed[done : done + CHUNK_ROWS], result)
    _close_batch(session, ctx, batch, result, agreement, table, feed)
    # A large batch's new versions are visible to the planner at once, not once autovacuum gets to them (issue 19).
    analyse(session, take_loaded(session))
    return result


def _submit_dwellings(
    session: Session,
    ctx: Context,
    dept: Department,
    agreement: Agreement,
    table: FeedTable,
    precedence: rules.Precedence,
) -> BatchResult:
    """A housing office's dwelling statuses (`feed_dwellings`): matched by address code, building, unit and room,
    written as dwelling versions through the registry, the batch recorded, logged and audited like a person feed."""
    if not (ctx.actor.may("department.exchange") and ctx.actor.department == dept.code):
        ctx.actor.ensure("dwelling.write")
    feed_dwellings.ensure_provides_status(agreement, dept)
    planned, problems = feed_dwellings.plan_dwellings(
        session, ctx.actor, table, ctx.today, agreement.all_or_nothing
    )

    def write(_batch: DepartmentBatch, feed: _Feed, result: BatchResult) -> None:
        result.applied, result.same = feed_dwellings.write_dwellings(
            session, feed.writer, planned, feed.prov, feed.reason
        )

    return _planned_batch(
        session,
        ctx,
        dept,
        agreement,
        "dwellings",
        "dwelling",
        table,
        precedence,
        len(planned),
        problems,
        write,
    )


def _submit_births(
    session: Session,
    ctx: Context,
    dept: Department,
    agreement: Agreement,
    table: FeedTable,
    precedence: rules.Precedence,
) -> BatchResult:
    """A health office's births (`feed_births`): each mother found by her document number in the submitter's
    jurisdiction, each newborn proposed as a birth registration in her household's community (a change set for
    the station's review), the batch recorded, logged and audited like a person feed."""
    if not (ctx.actor.may("department.exchange") and ctx.actor.department == dept.code):
        for permission in ("person.write", "household.write", "residence.write"):
            ctx.actor.ensure(permission)
    feed_births.ensure_provides_births(agreement, dept)
    rows, problems = feed_births.read_rows(table, ctx.today)
    mothers = resolve_persons(session, ctx, [("resident_id", r.mother_number) for r in rows])
    planned, problems = feed_births.plan_births(session, rows, problems, mothers, agreement.all_or_nothing)

    def write(_batch: DepartmentBatch, feed: _Feed, result: BatchResult) -> None:
        result.proposals, result.same, refused = feed_births.propose_births(
            session, feed.writer, dept.code, planned, feed.prov, agreement.all_or_nothing
        )
        if refused:
            result.rejected = sorted([*result.rejected, *refused], key=lambda p: p.line)
            result.matched -= len(refused)
        result.applied = len(result.proposals)

    return _planned_batch(
        session, ctx, dept, agreement, "births", "person", table, precedence, len(planned), problems, write
    )


def _submit_places(
    session: Session,
    ctx: Context,
    dept: Department,
    agreement: Agreement,
    kind: str,
    table: FeedTable,
    precedence: rules.Precedence,
) -> BatchResult:
    """A civil-affairs office's areas or streets (`feed_places`): matched by code (areas) or by district and name
    (streets), written through the area and street services and the registry, the batch recorded, logged and
    audited like a person feed."""
    object_kind = rules.FEED_KINDS[kind]
    if not (ctx.actor.may("department.exchange") and ctx.actor.department == dept.code):
        ctx.actor.ensure(f"{object_kind}.write")
    feed_places.ensure_provides(agreement, dept, kind)
    whole = agreement.all_or_nothing
    if kind == "areas":
        areas, problems = feed_places.plan_areas(session, ctx.actor, table, ctx.today, whole)
        count = len(areas)
    else:
        streets, problems = feed_places.plan_streets(session, ctx.actor, table, ctx.today, whole)
        count = len(streets)

    def write(_batch: DepartmentBatch, feed: _Feed, result: BatchResult) -> None:
        if kind == "areas":
            result.applied, result.same = feed_places.write_areas(
                session, feed.writer, areas, feed.prov, feed.reason
            )
        else:
            result.applied, result.same = feed_places.write_streets(
                session, feed.writer, streets, feed.prov, feed.reason
            )

    return _planned_batch(
        session, ctx, dept, agreement, kind, object_kind, table, precedence, count, problems, write
    )


def _submit_corrections(
    session: Session,
    ctx: Context,
    dept: Department,
    agreement: Agreement,
    table: FeedTable,
    precedence: rules.Precedence,
) -> BatchResult:
    """A judicial office's community-correction cases (`feed_corrections`): each person found by their document
    number in the submitter's jurisdiction, each case kept beside them (versioned when a later row changes it),
    the batch recorded, logged and audited like a person feed. Sent by the department's liaison, or by one who
    may write persons (the operator's `liangshi import`); the batch's answer holds counts and row problems only,
    and reading the cases needs `correction.read`."""
    if not (ctx.actor.may("department.exchange") and ctx.actor.department == dept.code):
        ctx.actor.ensure("person.write")
    feed_corrections.ensure_provides(agreement, dept)
    rows, problems = feed_corrections.read_rows(table, ctx.today)
    persons = resolve_persons(session, ctx, [(r.doc_type, r.number) for r in rows])
    areas, _ = _community_areas(session, ctx.actor, {r.line: r.community_code for r in rows})
    planned, problems = feed_corrections.plan_cases(rows, problems, persons, areas, agreement.all_or_nothing)

    def write(batch: DepartmentBatch, _feed: _Feed, result: BatchResult) -> None:
        result.applied, result.same = feed_corrections.write_cases(
            session, dept.code, planned, batch.id, ctx.now
        )

    return _planned_batch(
        session,
        ctx,
        dept,
        agreement,
        "corrections",
        "person",
        table,
        precedence,
        len(planned),
        problems,
        write,
    )
