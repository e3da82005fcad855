"""The bulk forms of the registry's writes: many new objects (`create_many`) or many changes (`change_many`) in a
few statements, with the same checks as the row use cases: the actor's permission for the kind, every object
inside the actor's jurisdiction (one set-based query), the bookkeeping of `history.version_meta` and the audit.

Items are plain data (ids, dates, attribute values), so that a stored, reviewed change set can be applied through
these same functions later: the approver is the context's actor (record time is the approval), the proposer stays
the source in the Provenance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

import liangshi.registry.history as history
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.bulk import allocate_ids, bulk_insert, insert_tuples, stamp
from liangshi.errors import NotFound
from liangshi.registry.context import Context
from liangshi.registry.history import BULK_CHUNK, META_COLUMNS, PlannedChange, entity_row, version_meta
from liangshi.registry.kinds import PERSONAL_KINDS, Kind, Provenance, perm_kind
from liangshi.registry.usecases import log, scoped

__all__ = [
    "Created",
    "FastCreate",
    "NewItem",
    "PlannedChange",
    "change_many",
    "create_many",
    "create_many_audited",
    "create_many_fast",
]

# How the bulk writes are audited: one entry per object (as the row use cases do) or one entry per call naming
# all the objects (the imports: a hash-chained entry per imported row would cost more than the rows themselves).
AuditMode = Literal["row", "chunk"]


@dataclass(frozen=True)
class NewItem:
    """One new object for `create_many`, as plain data.

    `area_id` is its jurisdiction (its county code is the area's), `attributes` the versioned attributes of its
    first version, `refs` the identity row's own columns (a document's `person_id`, an address's `street_id`),
    `valid_from`/`valid_to` its first version's validity (default: from the context's today, open), `subject`
    the person whose data it is when that is not the object itself or its `person_id`.
    """

    area_id: int
    attributes: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    subject: int | None = None


@dataclass(frozen=True)
class FastCreate:
    """Pre-built rows for `create_many_fast` (the imports): per new object its area id, and the values of the
    identity row's own columns and of the version row's attribute columns, already in storage form (dates as ISO
    text, times as `liangshi.bulk.stamp` gives them). Derived columns (a name's search keys) are the caller's."""

    area_ids: Sequence[int]
    version_columns: Sequence[str]
    version_values: Sequence[tuple[Any, ...]]
    identity_columns: Sequence[str] = ()
    identity_values: Sequence[tuple[Any, ...]] = ()
    valid_from: dt.date | None = None
    subjects: Sequence[int | None] | None = None


@dataclass(frozen=True)
class Created:
    """What a bulk create wrote: the new ids in item order and the audit entries' sequence numbers."""

    ids: list[int]
    audit_seqs: list[int]


def _ensure_may_write(ctx: Context, kind: Kind, permission: str | None) -> None:
    ctx.actor.ensure(permission or f"{perm_kind(kind)}.write")


# Built once: building the statement per call (its coercions) cost an import chunk more than running it.
_AREAS_IN_SCOPE = select(Area.id, Area.county_code).where(
    Area.id.in_(bindparam("ids", expanding=True)), Area.path.startswith(bindparam("prefix"))
)


def _counties_in_scope(session: Session, ctx: Context, area_ids: Sequence[int]) -> dict[int, str]:
    """The county code of each area, in one query per 5,000 areas; 404 `area.not_found` (as
    `ensure_area_in_scope`) for the first area that is unknown or outside the actor's jurisdiction."""
    wanted = sorted(set(area_ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), BULK_CHUNK):
        part = wanted[i : i + BULK_CHUNK]
        rows = session.execute(_AREAS_IN_SCOPE, {"ids": part, "prefix": ctx.actor.area_path})
        found.update({int(a): str(c) for a, c in rows})
    for area_id in wanted:
        if area_id not in found:
            raise NotFound(
                "area.not_found", "未找到该区划", "Area not found", {"field": "area_id", "id": area_id}
            )
    return found


def _subjects(
    kind: Kind, ids: list[int], refs: Sequence[dict[str, Any]], given: Sequence[int | None]
) -> list[int | None]:
    if kind.name == "person":
        return list(ids)
    if kind.name not in PERSONAL_KINDS:
        return list(given)
    return [g if g is not None else r.get("person_id") for g, r in zip(given, refs, strict=True)]


def _audit_created(
    session: Session,
    ctx: Context,
    kind: Kind,
    ids: list[int],
    subjects: list[int | None],
    starts: Sequence[dt.date],
    mode: AuditMode,
    detail: dict[str, Any] | None,
    item_details: Sequence[dict[str, Any]] | None = None,
) -> list[int]:
    if mode == "row":
        each: Sequence[dict[str, Any]] = item_details if item_details is not None else [{}] * len(ids)
        events = [
            audit.Event(
                f"{kind.name}.create",
                kind.name,
                entity_id,
                subject,
                {"valid_from": start.isoformat(), **(detail or {}), **own},
            )
            for entity_id, subject, start, own in zip(ids, subjects, starts, each, strict=True)
        ]
    else:
        persons = sorted({s for s in subjects if s is not None})
        chunk: dict[str, Any] = {**(detail or {}), "count": len(ids), "ids": ids}
        if persons:
            chunk["persons"] = persons
        events = [audit.Event(f"{kind.name}.create", kind.name, None, None, chunk)]
    return audit.record(session, ctx.actor, events, purpose=ctx.purpose, now=ctx.now)


def create_many(
    session: Session,
    ctx: Context,
    kind: Kind,
    items: Sequence[NewItem],
    *,
    prov: Provenance,
    permission: str | None = None,
    reason: str | None = None,
    identity: Callable[[int, NewItem], dict[str, Any]] | None = None,
    audit_mode: AuditMode = "row",
    audit_detail: dict[str, Any] | None = None,
    item_details: Sequence[dict[str, Any]] | None = None,
) -> Created:
    """Create many objects of one kind: the rows `create` writes for each, in one bulk insert per table.

    Refused before anything is written: 403 unless the actor may `permission` (default `{kind}.write`, documents
    and memberships as persons and households); 404 `area.not_found` when an item's area is outside the actor's
    jurisdiction. Ids are allocated in item order; `identity(id, item)` adds identity columns that depend on the
    id (an address code). The first versions' bookkeeping is `history.version_meta` (actor: the context's, source:
    `prov`). Audited per object (`audit_mode="row"`, as `create`) or in one entry naming all (`"chunk"`, as the
    imports); `audit_detail` is added to each entry's detail, and per object (row mode) `item_details` in item
    order (a change set's id on the object it created). Returns the ids and the audit entries' seqs.
    """
    if item_details is not None and len(item_details) != len(items):
        raise ValueError("create_many takes one audit detail per item")
    written = _write_created(
        session, ctx, kind, items, prov=prov, permission=permission, reason=reason, identity=identity
    )
    if written is None:
        return Created([], [])
    ids, subjects, starts = written
    seqs = _audit_created(session, ctx, kind, ids, subjects, starts, audit_mode, audit_detail, item_details)
    return Created(ids, seqs)


def _storage(session: Session, value: Any) -> Any:
    # The form `insert_tuples` expects: dates as ISO text, times as their column stores them.
    if isinstance(value, dt.datetime):
        return stamp(session, value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def create_many_fast(
    session: Session,
    ctx: Context,
    kind: Kind,
    rows: FastCreate,
    *,
    prov: Provenance,
    permission: str | None = None,
    reason: str | None = None,
    audit_mode: AuditMode = "chunk",
    audit_detail: dict[str, Any] | None = None,
) -> Created:
    """`create_many` for pre-built rows (the imports' speed: values in storage form, no per-value conversion).

    The same refusals (permission, jurisdiction: one query), the same bookkeeping (`history.version_meta`, spelt
    once for all rows, which share `rows.valid_from`, default today, and are open), the same audit choices
    (default: one entry for the call). Returns the ids in row order and the audit entries' seqs.
    """
    _ensure_may_write(ctx, kind, permission)
    if kind.entity is Area:
        raise ValueError("create_many_fast does not create areas")
    n = len(rows.area_ids)
    if len(rows.version_values) != n or (rows.identity_columns and len(rows.identity_values) != n):
        raise ValueError("create_many_fast takes one version row (and identity row) per area id")
    if n == 0:
        return Created([], [])
    counties = _counties_in_scope(session, ctx, rows.area_ids)
    ids = allocate_ids(session, kind.entity, n)
    start = rows.valid_from or ctx.today
    history.check_not_future(start, ctx.today, "valid_from")
    meta = version_meta(
        entity_id=0,
        county="",
        valid_from=start,
        valid_to=None,
        now=ctx.now,
        prov=prov,
        actor_id=ctx.actor.user_id,
        reason=reason,
    )
    tail_columns = [c for c in META_COLUMNS if c not in ("entity_id", "county_code")]
    tail = tuple(_storage(session, meta[c]) for c in tail_columns)
    now = stamp(session, ctx.now)
    # Rows are joined by tuple concatenation, not `(a, *b, *c)` (unpacking builds a growing list and copies it into
    # the tuple), and handed to the writer as generators, not lists (each row is freed once written, so the chunk's
    # rows never sit in the collector's youngest generation): the port of the person import to this function had
    # cost it 1.2 % more instructions than the writer it replaced (callgrind; docs/benchmarks.md, issue 12).
    entity_columns = ["id", "county_code", "version", "created_at", "area_id", *rows.identity_columns]
    if rows.identity_columns:
        insert_tuples(
            session,
            kind.entity,
            entity_columns,
            (
                (entity_id, counties[area_id], 1, now, area_id) + refs  # noqa: RUF005 (see above)
                for entity_id, area_id, refs in zip(ids, rows.area_ids, rows.identity_values, strict=True)
            ),
        )
    else:
        insert_tuples(
            session,
            kind.entity,
            entity_columns,
            (
                (entity_id, counties[area_id], 1, now, area_id)
                for entity_id, area_id in zip(ids, rows.area_ids, strict=True)
            ),
        )
    insert_tuples(
        session,
        kind.version,
        ["entity_id", "county_code", *rows.version_columns, *tail_columns],
        (
            (entity_id, counties[area_id]) + values + tail  # noqa: RUF005 (see above)
            for entity_id, area_id, values in zip(ids, rows.area_ids, rows.version_values, strict=True)
        ),
    )
    subjects = _fast_subjects(kind, ids, rows)
    seqs = _audit_created(session, ctx, kind, ids, subjects, [start] * n, audit_mode, audit_detail)
    return Created(ids, seqs)


def _fast_subjects(kind: Kind, ids: list[int], rows: FastCreate) -> list[int | None]:
    # `_subjects` for pre-built rows, read from the `person_id` identity column in place: a dict per row would
    # cost the import as much as its audit (measured: 4 ms per 2,000 rows).
    if kind.name == "person":
        return list(ids)
    given: list[int | None] = list(rows.subjects) if rows.subjects is not None else [None] * len(ids)
    if kind.name not in PERSONAL_KINDS or "person_id" not in rows.identity_columns:
        return given
    at = list(rows.identity_columns).index("person_id")
    return [g if g is not None else values[at] for g, values in zip(given, rows.identity_values, strict=True)]


@dataclass(frozen=True)
class ChangeItem:
    """One entity's change as plain data (what a stored change set holds): the entity, the version its proposer
    saw and the new attribute values. `plan_changes` turns these into the PlannedChanges `change_many` takes."""

    entity_id: int
    expected_version: int
    changes: dict[str, Any]


def _ensure_attributes(kind: Kind, names: Any) -> None:
    unknown = sorted(set(names) - set(kind.attributes))
    if unknown:
        raise ValueError(f"not attributes of {kind.name}: {', '.join(unknown)}")


def plan_changes(session: Session, kind: Kind, items: Sequence[ChangeItem]) -> list[PlannedChange]:
    """The PlannedChanges for `change_many` from plain change items: each entity's open version row as read now
    (one query per 5,000 entities); 404 `{kind}.not_found` for an unknown entity, 409 `{kind}.retired` for one
    without an open version. A stale `expected_version` is refused by `change_many` itself."""
    for item in items:
        _ensure_attributes(kind, item.changes)
    rows = history.current_rows(session, kind, [item.entity_id for item in items])
    planned = []
    for item in items:
        found = rows.get(item.entity_id)
        if not found:
            raise history.not_found(kind, item.entity_id)
        current = [r for r in found if r["valid_to"] is None]
        if not current:
            raise history.retired(kind, item.entity_id)
        row = current[0]
        planned.append(
            PlannedChange(
                item.entity_id, row["entity_county_code"], item.expected_version, row, dict(item.changes)
            )
        )
    return planned


def _writable_entities(
    session: Session, ctx: Context, kind: Kind, entity_ids: list[int]
) -> dict[int, int | None]:
    """Of these entities, those the actor may change (inside the jurisdiction, or for a kind whose
    `also_visible` may be written, visible there), with the person whose data each is; one query per 5,000."""
    e = kind.entity
    person = getattr(e, "person_id", None) if kind.name in PERSONAL_KINDS else None
    found: dict[int, int | None] = {}
    for i in range(0, len(entity_ids), BULK_CHUNK):
        part = entity_ids[i : i + BULK_CHUNK]
        stmt = select(e.id, person if person is not None else e.id).where(e.id.in_(part))
        if kind.write_where_visible:
            stmt = scoped(stmt, kind, ctx.actor)
        else:
            stmt = stmt.where(e.area_id.in_(select(Area.id).where(Area.path.startswith(ctx.actor.area_path))))
        for entity_id, subject in session.execute(stmt):
            found[int(entity_id)] = (
                int(subject) if subject is not None and kind.name in PERSONAL_KINDS else None
            )
    return found


def change_many(
    session: Session,
    ctx: Context,
    kind: Kind,
    items: Sequence[PlannedChange],
    *,
    effective: dt.date | None,
    prov: Provenance,
    reason: str | None,
    permission: str | None = None,
    audit_mode: AuditMode = "row",
    audit_detail: dict[str, Any] | None = None,
    item_details: Sequence[dict[str, Any]] | None = None,
) -> dict[int, int]:
    """`change` for many entities of one kind: the same rows (`history.change_many`), checks and audit.

    Refused before anything is written: 403 unless the actor may `permission` (default `{kind}.write`); 404
    `{kind}.not_found` for an entity outside the actor's jurisdiction (as `get_entity(..., write=True)`). Then
    409 `version.stale` when an entity moved since its `expected_version` (nothing kept once the caller rolls
    back), 409 `{kind}.retired`, 422 `version.change_before_current`. The change takes effect from `effective`
    (default: the context's today). Audited per entity (as `change`; `item_details`, in item order, are added to
    each entity's entry) or in one entry naming all (`"chunk"`). Returns entity id -> new version.
    """
    _ensure_may_write(ctx, kind, permission)
    if kind.entity is Area:
        raise ValueError("change_many does not change areas")
    if not items:
        return {}
    if item_details is not None and len(item_details) != len(items):
        raise ValueError("change_many takes one audit detail per item")
    for item in items:
        _ensure_attributes(kind, item.changes)
    wanted = [item.entity_id for item in items]
    writable = _writable_entities(session, ctx, kind, sorted(set(wanted)))
    for entity_id in wanted:
        if entity_id not in writable:
            raise history.not_found(kind, entity_id)
    when = effective or ctx.today
    history.check_not_future(when, ctx.today)
    versions = history.change_many(
        session,
        kind,
        list(items),
        effective=when,
        prov=prov,
        actor_id=ctx.actor.user_id,
        now=ctx.now,
        reason=reason,
    )
    if audit_mode == "row":
        each: Sequence[dict[str, Any]] = item_details if item_details is not None else [{}] * len(items)
        events = [
            audit.Event(
                f"{kind.name}.change",
                kind.name,
                item.entity_id,
                item.entity_id if kind.name == "person" else writable[item.entity_id],
                {
                    "fields": sorted(item.changes),
                    "effective": when.isoformat(),
                    **(audit_detail or {}),
                    **own,
                },
            )
            for item, own in zip(items, each, strict=True)
        ]
        log(ctx, session, events)
    else:
        subjects = [i.entity_id if kind.name == "person" else writable[i.entity_id] for i in items]
        persons = sorted({s for s in subjects if s is not None})
        chunk: dict[str, Any] = {
            **(audit_detail or {}),
            "count": len(items),
            "ids": wanted,
            "effective": when.isoformat(),
        }
        if persons:
            chunk["persons"] = persons
        log(ctx, session, [audit.Event(f"{kind.name}.change", kind.name, None, None, chunk)])
    return versions


# ---- creating objects for a compound action that writes its own audit entries: create_many_audited -------------


def _write_created(
    session: Session,
    ctx: Context,
    kind: Kind,
    items: Sequence[NewItem],
    *,
    prov: Provenance,
    permission: str | None,
    reason: str | None,
    identity: Callable[[int, NewItem], dict[str, Any]] | None,
) -> tuple[list[int], list[int | None], list[dt.date]] | None:
    """The checks and rows of `create_many` (its audit aside): the new ids, whose data each is, their starts."""
    _ensure_may_write(ctx, kind, permission)
    if kind.entity is Area:
        raise ValueError("create_many does not create areas (they have no jurisdiction area of their own)")
    if not items:
        return None
    for item in items:
        _ensure_attributes(kind, item.attributes)
    counties = _counties_in_scope(session, ctx, [item.area_id for item in items])
    ids = allocate_ids(session, kind.entity, len(items))
    entities: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    starts: list[dt.date] = []
    for entity_id, item in zip(ids, items, strict=True):
        county = counties[item.area_id]
        extra = identity(entity_id, item) if identity is not None else {}
        entities.append(
            entity_row(
                entity_id=entity_id, county=county, area_id=item.area_id, now=ctx.now, **item.refs, **extra
            )
        )
        start = item.valid_from or ctx.today
        history.check_not_future(start, ctx.today, "valid_from")
        starts.append(start)
        meta = version_meta(
            entity_id=entity_id,
            county=county,
            valid_from=start,
            valid_to=item.valid_to,
            now=ctx.now,
            prov=prov,
            actor_id=ctx.actor.user_id,
            reason=reason,
        )
        versions.append({**meta, **item.attributes})
    bulk_insert(session, kind.entity, entities)
    history.insert_rows(session, kind, versions)
    subjects = _subjects(kind, ids, [item.refs for item in items], [item.subject for item in items])
    return ids, subjects, starts


def create_many_audited(
    session: Session,
    ctx: Context,
    kind: Kind,
    items: Sequence[NewItem],
    *,
    prov: Provenance,
    events: Callable[[list[int]], Sequence[audit.Event]],
    permission: str | None = None,
    reason: str | None = None,
    identity: Callable[[int, NewItem], dict[str, Any]] | None = None,
) -> Created:
    """`create_many` for a compound action that writes its own audit entries (a tenant attached to a rental is
    audited as `rental.tenant_attach`, not as a new tenant link): the same refusals (permission, jurisdiction),
    ids and rows; then `events(ids)` is audited instead of one `{kind}.create` entry per object. Returns the
    ids in item order and the audit entries' seqs."""
    written = _write_created(
        session, ctx, kind, items, prov=prov, permission=permission, reason=reason, identity=identity
    )
    if written is None:
        return Created([], [])
    ids = written[0]
    seqs = audit.record(session, ctx.actor, list(events(ids)), purpose=ctx.purpose, now=ctx.now)
    return Created(ids, seqs)
