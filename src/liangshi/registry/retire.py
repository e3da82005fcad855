"""Retirements in bulk (`retire_many`): the rows `retire` writes for many objects, of one kind or several retired
together (a death: the person, their residences and memberships), with its checks and audit."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import liangshi.registry.history as history
from liangshi.audit import service as audit
from liangshi.errors import Conflict, LiangshiError
from liangshi.registry.bulk import (
    _ensure_attributes,
    _writable_entities,
)
from liangshi.registry.context import Context
from liangshi.registry.history import BULK_CHUNK
from liangshi.registry.kinds import PERSONAL_KINDS, Kind, Provenance, perm_kind
from liangshi.registry.usecases import log

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
        raise history.retire_before_current(cur["valid_from"])


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
