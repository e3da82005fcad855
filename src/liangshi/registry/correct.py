"""Corrections in bulk (`correct_many`): the rows `correct` writes for many entities of one kind, with its checks;
`reopen` takes a retirement back with a correcting row that is open again (the master person index's undo)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

import liangshi.registry.history as history
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.registry.bulk import (
    _ensure_attributes,
    _ensure_may_write,
    _writable_entities,
)
from liangshi.registry.context import Context
from liangshi.registry.history import BULK_CHUNK
from liangshi.registry.kinds import Kind, Provenance
from liangshi.registry.usecases import log

# ---- correct_many: corrections in bulk (the master person index's undo of a merge; general for any kind) ---------

# How `correct_many` is audited: as `create_many` ("row", "chunk"), or "caller": the use case
# that calls it appends its own entries for these writes in the same transaction (`log`), naming what they were
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
    item_details: Sequence[dict[str, Any]] | None = None,
) -> Written:
    """`correct` for many entities of one kind: the same rows (the target closed in record time, a correcting row
    for the same interval pointing at it), the same checks and audit; `reopen` takes a retirement back.

    Refused before anything is written: 403 unless the actor may `permission` (default `{kind}.write`); 404
    `{kind}.not_found` outside the jurisdiction; 404 `version.not_found` for a row that is not a current row of
    the entity; 422 `version.start_after_end`; then 409 `version.stale` when an entity moved since its
    `expected_version`. Each entity at most once. Audited per entity as `correct` (`{kind}.correct`; with
    `item_details`, in item order, added to each entity's entry), in one entry (`"chunk"`) or by the caller.
    """
    _ensure_may_write(ctx, kind, permission)
    if kind.entity is Area:
        raise ValueError("correct_many does not correct areas")
    if not items:
        return Written({}, {})
    ids = [item.entity_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("correct_many takes each entity once")
    if item_details is not None and len(item_details) != len(items):
        raise ValueError("correct_many takes one audit detail per item")
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
            **own,
        }
        for item, own in zip(
            items, item_details if item_details is not None else [{}] * len(items), strict=True
        )
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
