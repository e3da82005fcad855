"""The bulk forms of the registry's writes: many new objects (`create_many`) or many changes (`change_many`) in a
few statements, with the same checks as the row use cases: the actor's permission for the kind, every object
inside the actor's jurisdiction (one set-based query), the bookkeeping of `history.version_meta` and the audit.

Items are plain data (ids, dates, attribute values), so that a stored, reviewed change set can be applied through
these same functions later: the approver is the context's actor (record time is the approval), the proposer stays
the source in the Provenance.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

import liangshi.registry.history as history
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.bulk import allocate_ids, bulk_insert, insert_tuples, stamp
from liangshi.errors import Conflict, LiangshiError, NotFound, ValidationFailed
from liangshi.registry.context import Context
from liangshi.registry.history import BULK_CHUNK, META_COLUMNS, PlannedChange, entity_row, version_meta
from liangshi.registry.kinds import PERSONAL_KINDS, Kind, Provenance, perm_kind
from liangshi.registry.usecases import log, scoped

__all__ = [
    "Created",
    "FastCreate",
    "NewItem",
    "PlannedChange",
    "Retirement",
    "change_many",
    "create_many",
    "create_many_audited",
    "create_many_fast",
    "open_versions",
    "retire_many",
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
) -> list[int]:
    if mode == "row":
        events = [
            audit.Event(
                f"{kind.name}.create",
                kind.name,
                entity_id,
                subject,
                {"valid_from": start.isoformat(), **(detail or {})},
            )
            for entity_id, subject, start in zip(ids, subjects, starts, strict=True)
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
) -> Created:
    """Create many objects of one kind: the rows `create` writes for each, in one bulk insert per table.

    Refused before anything is written: 403 unless the actor may `permission` (default `{kind}.write`, documents
    and memberships as persons and households); 404 `area.not_found` when an item's area is outside the actor's
    jurisdiction. Ids are allocated in item order; `identity(id, item)` adds identity columns that depend on the
    id (an address code). The first versions' bookkeeping is `history.version_meta` (actor: the context's, source:
    `prov`). Audited per object (`audit_mode="row"`, as `create`) or in one entry naming all (`"chunk"`, as the
    imports); `audit_detail` is added to each entry's detail. Returns the ids and the audit entries' seqs.
    """
    written = _write_created(
        session, ctx, kind, items, prov=prov, permission=permission, reason=reason, identity=identity
    )
    if written is None:
        return Created([], [])
    ids, subjects, starts = written
    seqs = _audit_created(session, ctx, kind, ids, subjects, starts, audit_mode, audit_detail)
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
    identity_refs: Sequence[tuple[Any, ...]] = rows.identity_values or [()] * n
    insert_tuples(
        session,
        kind.entity,
        ["id", "county_code", "version", "created_at", "area_id", *rows.identity_columns],
        [
            (entity_id, counties[area_id], 1, now, area_id, *refs)
            for entity_id, area_id, refs in zip(ids, rows.area_ids, identity_refs, strict=True)
        ],
    )
    insert_tuples(
        session,
        kind.version,
        ["entity_id", "county_code", *rows.version_columns, *tail_columns],
        [
            (entity_id, counties[area_id], *values, *tail)
            for entity_id, area_id, values in zip(ids, rows.area_ids, rows.version_values, strict=True)
        ],
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
) -> dict[int, int]:
    """`change` for many entities of one kind: the same rows (`history.change_many`), checks and audit.

    Refused before anything is written: 403 unless the actor may `permission` (default `{kind}.write`); 404
    `{kind}.not_found` for an entity outside the actor's jurisdiction (as `get_entity(..., write=True)`). Then
    409 `version.stale` when an entity moved since its `expected_version` (nothing kept once the caller rolls
    back), 409 `{kind}.retired`, 422 `version.change_before_current`. The change takes effect from `effective`
    (default: the context's today). Audited per entity (as `change`) or in one entry naming all (`"chunk"`).
    Returns entity id -> new version.
    """
    _ensure_may_write(ctx, kind, permission)
    if kind.entity is Area:
        raise ValueError("change_many does not change areas")
    if not items:
        return {}
    for item in items:
        _ensure_attributes(kind, item.changes)
    wanted = [item.entity_id for item in items]
    writable = _writable_entities(session, ctx, kind, sorted(set(wanted)))
    for entity_id in wanted:
        if entity_id not in writable:
            raise history.not_found(kind, entity_id)
    when = effective or ctx.today
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
        events = [
            audit.Event(
                f"{kind.name}.change",
                kind.name,
                item.entity_id,
                item.entity_id if kind.name == "person" else writable[item.entity_id],
                {"fields": sorted(item.changes), "effective": when.isoformat(), **(audit_detail or {})},
            )
            for item in items
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


# ---- retire_many, correct_many: retirements and corrections in bulk (added for the master person index's merges,
# splits and their undo; general for any kind) ---------------------------------------------------------------------

# How `retire_many` and `correct_many` are audited: as `create_many` ("row", "chunk"), or "caller": the use case
# that calls them appends its own entries for these writes in the same transaction (`log`), naming what they were
# part of (a merge names both persons and the event), so no second, vaguer entry is written for the same fact.
WriteAudit = Literal["row", "chunk", "caller"]


@dataclass(frozen=True)
class CorrectItem:
    """One entity's correction for `correct_many`: the version its writer read, the row to correct (default: the
    latest, as `correct`), the corrected attribute values and, with `reopen`, an open validity: the row's end was
    the mistake (a retirement taken back), so the correcting row has no `valid_to`."""

    entity_id: int
    expected_version: int
    row_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    reopen: bool = False


@dataclass(frozen=True)
class Written:
    """What a bulk retire or correct wrote: per entity its new version and the row id of the row it inserted."""

    versions: dict[int, int]
    row_ids: dict[int, int]


def _ensure_writable(
    session: Session, ctx: Context, kind: Kind, entity_ids: Sequence[int]
) -> dict[int, int | None]:
    writable = _writable_entities(session, ctx, kind, sorted(set(entity_ids)))
    for entity_id in entity_ids:
        if entity_id not in writable:
            raise history.not_found(kind, entity_id)
    return writable


def _take_writes(
    session: Session, kind: Kind, expected: dict[int, int], row_ids: list[int], now: dt.datetime
) -> dict[int, int]:
    """Bump the lock counters (409 `version.stale` for any that moved) and close the rows being replaced."""
    session.flush()
    versions = history.bump_versions(session, kind, dict.fromkeys(expected, 1))
    for entity_id, want in expected.items():
        history.check_bumped(kind, entity_id, want, versions.get(entity_id))
    closed = history.supersede(session, kind, row_ids, now)
    if len(closed) != len(row_ids):
        raise Conflict(
            "version.stale",
            "记录已被他人修改，请刷新后重试",
            "The record was changed by someone else; reload and try again",
            {"rows": len(row_ids), "closed": len(closed)},
        )
    return versions


def _new_row_ids(session: Session, kind: Kind, versions: dict[int, int]) -> dict[int, int]:
    """The current row of each entity at its new version (the one just inserted), one query per 5,000."""
    v = kind.version
    found: dict[int, int] = {}
    ids = sorted(versions)
    for i in range(0, len(ids), BULK_CHUNK):
        rows = session.execute(
            select(v.entity_id, v.version, v.row_id).where(
                v.entity_id.in_(ids[i : i + BULK_CHUNK]), v.superseded_at.is_(None)
            )
        )
        found.update({int(e): int(r) for e, n, r in rows if versions[int(e)] == n})
    return found


# Builds one audit entry of a bulk write: (object id, subject person, detail) -> Event; the callers spell the action
# f"{kind.name}.verb", as the row use cases do.
EventOf = Callable[[int | None, int | None, dict[str, Any]], audit.Event]


def _audit_writes(
    session: Session,
    ctx: Context,
    event: EventOf,
    details: dict[int, dict[str, Any]],
    subjects: dict[int, int | None],
    mode: WriteAudit,
    extra: dict[str, Any] | None,
) -> None:
    if mode == "caller":
        return
    if mode == "row":
        events = [
            event(entity_id, subjects[entity_id], {**detail, **(extra or {})})
            for entity_id, detail in details.items()
        ]
    else:
        persons = sorted({s for s in subjects.values() if s is not None})
        chunk: dict[str, Any] = {**(extra or {}), "count": len(details), "ids": list(details)}
        if persons:
            chunk["persons"] = persons
        events = [event(None, None, chunk)]
    log(ctx, session, events)


# ---- retiring many objects: retire_many (deaths, ended memberships and tenancies) ---------------------------------


@dataclass(frozen=True)
class Retirement:
    """One object for `retire_many`, as plain data: its kind, its open version row as read (a column dict from
    `history.current_rows`, `history.open_rows_of` or `open_versions`, with `entity_version` and
    `entity_county_code`), where its validity ends and the values that record why.

    `expected_version` is the lock counter its writer saw (default: the one read with the row). `parents` are
    identity rows whose lock counter the retirement moves on, as (kind, id, counter as read): a household when
    one of its memberships ends. `group` is the index of the caller's item it belongs to (refusals name it).
    `follows` marks an object retired because another one of its group is (a dead person's residences and
    memberships, wherever they are): its jurisdiction is that object's, checked there.
    """

    kind: Kind
    current: dict[str, Any]
    effective: dt.date
    changes: dict[str, Any] = field(default_factory=dict)
    expected_version: int | None = None
    parents: tuple[tuple[Kind, int, int], ...] = ()
    group: int = 0
    follows: bool = False

    @property
    def entity_id(self) -> int:
        return int(self.current["entity_id"])


def open_versions(session: Session, kind: Kind, entity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each entity's open version row as read now (`history.current_rows`, one query per 5,000 entities), for
    `Retirement.current`; 404 `{kind}.not_found` for an unknown entity, 409 `{kind}.retired` for one without an
    open version (first in the given order)."""
    rows = history.current_rows(session, kind, list(entity_ids))
    found: dict[int, dict[str, Any]] = {}
    for entity_id in entity_ids:
        if entity_id not in rows:
            raise history.not_found(kind, entity_id)
        current = [r for r in rows[entity_id] if r["valid_to"] is None]
        if not current:
            raise history.retired(kind, entity_id)
        found[entity_id] = current[0]
    return found


Refusal = Callable[[int, LiangshiError], LiangshiError]


def _by_kind(items: Sequence[Retirement]) -> dict[Kind, list[Retirement]]:
    # Kinds in the order they first appear (the statements' order), items in the given order.
    grouped: dict[Kind, list[Retirement]] = {}
    for item in items:
        grouped.setdefault(item.kind, []).append(item)
    return grouped


def _check_retirements(items: Sequence[Retirement]) -> None:
    keys = [(item.kind.name, item.entity_id) for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("retire_many takes each object once")
    leading = {item.group for item in items if not item.follows}
    for item in items:
        _ensure_attributes(item.kind, item.changes)
        if item.follows and item.group not in leading:
            raise ValueError("a retirement that follows another needs that one in its group")


def _ensure_retirable(item: Retirement) -> None:
    """The refusals of `history.retire` after its lock counter: retired (409), before the open row (422)."""
    cur = item.current
    if cur["valid_to"] is not None or cur["superseded_at"] is not None:
        raise history.retired(item.kind, item.entity_id)
    if item.effective < cur["valid_from"]:
        raise ValidationFailed(
            "version.retire_before_current",
            "注销日期早于当前版本的生效日期",
            "The retirement date is before the current version's start",
            {"field": "effective", "current_valid_from": cur["valid_from"].isoformat()},
        )


def _bump_retirements(
    session: Session, items: Sequence[Retirement], refuse: Refusal
) -> dict[Kind, dict[int, int]]:
    """The lock counters: one UPDATE per kind and 5,000 objects (the parents' by the number of their retired
    children), then the refusals of `bump_version` item by item, in the given order."""
    session.flush()
    bumped = {
        kind: history.bump_versions(session, kind, {item.entity_id: 1 for item in mine})
        for kind, mine in _by_kind(items).items()
    }
    steps: dict[Kind, Counter[int]] = {}
    for item in items:
        for parent, parent_id, _ in item.parents:
            steps.setdefault(parent, Counter())[parent_id] += 1
    parents = {kind: history.bump_versions(session, kind, dict(n)) for kind, n in steps.items()}
    for item in items:
        try:
            for parent, parent_id, seen in item.parents:
                history.check_bumped(
                    parent, parent_id, seen, parents[parent].get(parent_id), steps[parent][parent_id]
                )
            expected = (
                item.current["entity_version"] if item.expected_version is None else item.expected_version
            )
            history.check_bumped(item.kind, item.entity_id, expected, bumped[item.kind].get(item.entity_id))
            _ensure_retirable(item)
        except LiangshiError as exc:
            raise refuse(item.group, exc) from None
    return bumped


def _supersede_retirements(
    session: Session, ctx: Context, by_kind: dict[Kind, list[Retirement]], refuse: Refusal
) -> None:
    """Close the open rows in record time (one UPDATE per kind and 5,000 rows); a row someone else closed since it
    was read refuses the call (409 `version.stale`, for the first group with one, naming its lowest row)."""
    for kind, mine in by_kind.items():
        closed = history.supersede(session, kind, [item.current["row_id"] for item in mine], ctx.now)
        missing = [item for item in mine if item.current["row_id"] not in closed]
        if missing:
            group = min(item.group for item in missing)
            first = min((i for i in missing if i.group == group), key=lambda i: i.current["row_id"])
            raise refuse(
                group,
                Conflict(
                    "version.stale",
                    "记录已被他人修改，请刷新后重试",
                    "The record was changed by someone else; reload and try again",
                    {"id": first.entity_id, "kind": kind.name},
                ),
            )


def _retire_events(session: Session, items: Sequence[Retirement], reason: str) -> list[audit.Event]:
    """One `{kind}.retire` entry per object, as `retire` writes it (the person whose data it is as subject)."""
    subjects: dict[tuple[str, int], int | None] = {}
    for kind, mine in _by_kind(items).items():
        ids = [item.entity_id for item in mine]
        if kind.name == "person" or kind.name not in PERSONAL_KINDS:
            subjects.update({(kind.name, i): i if kind.name == "person" else None for i in ids})
            continue
        for i in range(0, len(ids), BULK_CHUNK):
            stmt = select(kind.entity.id, kind.entity.person_id).where(
                kind.entity.id.in_(ids[i : i + BULK_CHUNK])
            )
            subjects.update({(kind.name, int(e)): p for e, p in session.execute(stmt)})
    events = []
    for item in items:
        kind = item.kind
        detail = {"effective": item.effective.isoformat(), "reason": reason}
        events.append(
            audit.Event(
                f"{kind.name}.retire",
                kind.name,
                item.entity_id,
                subjects[(kind.name, item.entity_id)],
                detail,
            )
        )
    return events


def retire_many(
    session: Session,
    ctx: Context,
    items: Sequence[Retirement],
    *,
    prov: Provenance,
    reason: str,
    permissions: Sequence[str] | None = None,
    events: Sequence[audit.Event] | None = None,
    refused: Refusal | None = None,
) -> dict[Kind, dict[int, int]]:
    """`retire` for many objects, of one kind or several retired together (a death): the same rows
    (`history.retire_row`, the bookkeeping of `version_meta`), lock counters, refusals and audit, in a few
    statements per kind and 5,000 objects.

    Refused before anything is written: 403 unless the actor may every one of `permissions` (default
    `{kind}.retire` for each kind); 404 `{kind}.not_found` for an object outside the actor's jurisdiction (but
    those that follow another, see `Retirement`). Then, object by object in the given order, as `history.retire`
    after its lock counter: 404 when gone, 409 `version.stale` when its counter (or a parent's) moved since it
    was read, 409 `{kind}.retired`, 422 `version.retire_before_current`; and 409 `version.stale` when a row was
    closed by someone else meanwhile. These come after the counters are bumped: the caller rolls back, as for
    `change_many`. A refusal is raised as is or as `refused(item's group, refusal)` says.

    Audited with `events` when given (a compound action writes its own entries: a death), else one
    `{kind}.retire` entry per object as `retire`. Returns kind -> entity id -> new version. ORM objects of the
    session are expired afterwards.
    """
    kinds = _by_kind(items)
    if permissions is not None and not permissions:
        raise ValueError("retire_many checks at least one permission")
    for permission in permissions if permissions is not None else [f"{perm_kind(k)}.retire" for k in kinds]:
        ctx.actor.ensure(permission)
    _check_retirements(items)
    if not items:
        return {}

    def refuse(group: int, exc: LiangshiError) -> LiangshiError:
        return refused(group, exc) if refused is not None else exc

    for kind, mine in kinds.items():
        leading = [item for item in mine if not item.follows]
        writable = _writable_entities(session, ctx, kind, sorted({item.entity_id for item in leading}))
        for item in leading:
            if item.entity_id not in writable:
                raise refuse(item.group, history.not_found(kind, item.entity_id))
    bumped = _bump_retirements(session, items, refuse)
    _supersede_retirements(session, ctx, kinds, refuse)
    for kind, mine in kinds.items():
        rows = [
            history.retire_row(
                kind,
                item.entity_id,
                item.current["entity_county_code"],
                item.current,
                version=bumped[kind][item.entity_id],
                effective=item.effective,
                prov=prov,
                actor_id=ctx.actor.user_id,
                now=ctx.now,
                reason=reason,
                changes=item.changes or None,
            )
            for item in mine
        ]
        history.insert_rows(session, kind, rows)
    log(ctx, session, list(events) if events is not None else _retire_events(session, items, reason))
    session.expire_all()
    return bumped


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


def _correction_target(kind: Kind, item: CorrectItem, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row `correct` would correct: the given current row of the entity, else its latest (404 otherwise)."""
    if item.row_id is None:
        target = history.latest_of(rows) if rows else None
    else:
        target = next((r for r in rows if r["row_id"] == item.row_id), None)
    if target is None:
        raise NotFound(
            "version.not_found",
            "要更正的版本不存在或已被取代",
            "The version to correct does not exist or was already superseded",
            {"field": "row_id", "row_id": item.row_id},
        )
    if item.reopen and target is not history.latest_of(rows):
        raise ValueError("correct_many reopens only an entity's latest row")
    return target


def correct_row(
    kind: Kind,
    item: CorrectItem,
    target: dict[str, Any],
    *,
    version: int,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str,
) -> dict[str, Any]:
    """The version row `correct` inserts for one entity, as a column dict: the target's attributes with the
    corrections, for the same valid interval (a corrected start attribute moves its start, as in `correct`;
    `reopen` leaves it open), pointing at the row it corrects."""
    start = target["valid_from"]
    valid_to = None if item.reopen else target["valid_to"]
    name = kind.start_attribute
    if name is not None and name in item.changes and target["valid_from"] == target[name]:
        start = item.changes[name]
        if valid_to is not None and start >= valid_to:
            raise ValidationFailed(
                "version.start_after_end",
                "更正后的开始日期不能晚于结束日期",
                "The corrected start date must be before the end date",
                {"field": name, "valid_to": valid_to.isoformat()},
            )
    meta = history.version_meta(
        entity_id=item.entity_id,
        county=target["entity_county_code"],
        valid_from=start,
        valid_to=valid_to,
        now=now,
        prov=prov,
        actor_id=actor_id,
        version=version,
        change="correct",
        reason=reason,
        corrects=target["row_id"],
    )
    return {**meta, **{a: target[a] for a in kind.attributes}, **item.changes}


def correct_many(
    session: Session,
    ctx: Context,
    kind: Kind,
    items: Sequence[CorrectItem],
    *,
    prov: Provenance,
    reason: str,
    permission: str | None = None,
    audit_mode: WriteAudit = "row",
    audit_detail: dict[str, Any] | None = None,
) -> Written:
    """`correct` for many entities of one kind: the same rows (the target closed in record time, a correcting row
    for the same interval pointing at it), the same checks and audit; `reopen` takes a retirement back.

    Refused before anything is written: 403 unless the actor may `permission` (default `{kind}.write`); 404
    `{kind}.not_found` outside the jurisdiction; 404 `version.not_found` for a row that is not a current row of
    the entity; 422 `version.start_after_end`; then 409 `version.stale` when an entity moved since its
    `expected_version`. Each entity at most once. Audited per entity as `correct` (`{kind}.correct`), in one
    entry (`"chunk"`) or by the caller.
    """
    _ensure_may_write(ctx, kind, permission)
    if kind.entity is Area:
        raise ValueError("correct_many does not correct areas")
    if not items:
        return Written({}, {})
    ids = [item.entity_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("correct_many takes each entity once")
    for item in items:
        _ensure_attributes(kind, item.changes)
    writable = _ensure_writable(session, ctx, kind, ids)
    rows = history.current_rows(session, kind, ids)
    targets = {item.entity_id: _correction_target(kind, item, rows.get(item.entity_id, [])) for item in items}
    new_rows = [
        # Built before anything is written, so that a refused correction writes nothing; versions filled in below.
        correct_row(
            kind,
            item,
            targets[item.entity_id],
            version=0,
            prov=prov,
            actor_id=ctx.actor.user_id,
            now=ctx.now,
            reason=reason,
        )
        for item in items
    ]
    expected = {item.entity_id: item.expected_version for item in items}
    versions = _take_writes(session, kind, expected, [targets[i]["row_id"] for i in ids], ctx.now)
    for row in new_rows:
        row["version"] = versions[row["entity_id"]]
    history.insert_rows(session, kind, new_rows)
    session.expire_all()
    details = {
        item.entity_id: {
            "fields": sorted(item.changes),
            "corrects_row_id": targets[item.entity_id]["row_id"],
            "reason": reason,
        }
        for item in items
    }
    subjects = {i: i if kind.name == "person" else writable[i] for i in ids}
    _audit_writes(
        session,
        ctx,
        lambda object_id, subject, detail: audit.Event(
            f"{kind.name}.correct", kind.name, object_id, subject, detail
        ),
        details,
        subjects,
        audit_mode,
        audit_detail,
    )
    return Written(versions, _new_row_ids(session, kind, versions))


# ---- exch: new rows of an unversioned record table (a venue's guest log) -------------------------------------


def create_records(
    session: Session,
    ctx: Context,
    name: str,
    model: type[Any],
    rows: list[dict[str, Any]],
    *,
    permission: str | None,
    audit_mode: Literal["chunk"] | None = "chunk",
    audit_detail: dict[str, Any] | None = None,
) -> Created:
    """New rows of a record table without history whose rows carry their `area_id` (a venue's stays), in one
    bulk insert.

    Refused before anything is written: 403 unless the actor may `permission` (None only where the caller has
    authorised the writer by other means: a venue's own key); 404 `area.not_found` when a row's area is outside
    the actor's jurisdiction (one query per 5,000 areas). Ids are allocated in row order and set on the rows
    (`id`). Audited in one entry `{name}.create` naming all rows and the persons among their `person_id`s
    (`"chunk"`, as the imports), or not here (None: the caller appends entries of its own through `log`).
    """
    if permission is not None:
        ctx.actor.ensure(permission)
    if not rows:
        return Created([], [])
    _counties_in_scope(session, ctx, [row["area_id"] for row in rows])
    ids = allocate_ids(session, model, len(rows))
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    bulk_insert(session, model, rows)
    if audit_mode is None:
        return Created(ids, [])
    persons = sorted({row["person_id"] for row in rows if row.get("person_id") is not None})
    chunk: dict[str, Any] = {**(audit_detail or {}), "count": len(ids), "ids": ids}
    if persons:
        chunk["persons"] = persons
    event = audit.Event(f"{name}.create", name, None, None, chunk)
    return Created(ids, audit.record(session, ctx.actor, [event], purpose=ctx.purpose, now=ctx.now))
