"""Applying approved change sets: every item of every set written through the kernel's one write path (bulk
create, change, correct and retire per kind, version bumps), references between items resolved, or nothing.

Split from `registry.changesets` (proposals, their lifecycle and the desk's reads), which it builds on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

import liangshi.registry.history as history
from liangshi.audit import service as audit
from liangshi.errors import Conflict
from liangshi.registry.bulk import (
    ChangeItem,
    NewItem,
    _ensure_may_write,
    _writable_entities,
    change_many,
    create_many,
    create_many_audited,
    plan_changes,
)
from liangshi.registry.changesets import Proposed, items_of
from liangshi.registry.context import Context
from liangshi.registry.correct import CorrectItem, correct_many
from liangshi.registry.kinds import Kind, Provenance
from liangshi.registry.retire import Retirement, open_versions, retire_many
from liangshi.versioned import ChangeSet

__all__ = ["apply_many"]


def _resolve(value: Any, created: Mapping[tuple[int, str], int], cs_id: int) -> tuple[Any, bool]:
    if isinstance(value, dict) and set(value) == {"key"}:
        found = created.get((cs_id, str(value["key"])))
        return found, found is not None
    return value, True


def apply_many(
    session: Session,
    ctx: Context,
    sets: Sequence[ChangeSet],
    kinds: Mapping[str, Kind],
    *,
    reason: str | None = None,
) -> dict[int, dict[str, list[int]]]:
    """Write the items of approved change sets through the one write path, all or nothing.

    Items of the same op and kind across the sets go in one bulk call (`create_many`, `change_many`,
    `correct_many`, `retire_many`), in dependency order (a residence after the person it names). The actor is
    the context's (the approver: record time is now), the source each set's proposer. Refusals are the write
    path's (403, 404, 409 `version.stale`, ...): the caller rolls back. Returns per set: kind -> written ids.
    """
    groups: dict[tuple[str, str, str, str], list[tuple[ChangeSet, Proposed]]] = {}
    order: list[tuple[str, str, str, str]] = []
    for cs in sets:
        for item in items_of(cs, kinds):
            # One bulk call per op, kind and provenance (the source is each proposer's).
            gkey = (item.op, item.kind, cs.proposer, cs.evidence)
            if gkey not in groups:
                groups[gkey] = []
                order.append(gkey)
            groups[gkey].append((cs, item))
    created: dict[tuple[int, str], int] = {}
    written: dict[int, dict[str, list[int]]] = {cs.id: {} for cs in sets}
    pending = list(order)
    while pending:
        ready = next((g for g in pending if _resolvable(groups[g], created, groups, pending)), None)
        if ready is None:
            raise ValueError("change set items refer to each other in a cycle")
        pending.remove(ready)
        _apply_group(session, ctx, ready, groups[ready], kinds, created, written, reason)
    return written


def _resolvable(
    members: list[tuple[ChangeSet, Proposed]],
    created: Mapping[tuple[int, str], int],
    groups: Mapping[tuple[str, str, str, str], list[tuple[ChangeSet, Proposed]]],
    pending: list[tuple[str, str, str, str]],
) -> bool:
    # A group is ready when every key it refers to is created or made by no other pending group.
    later = {(cs.id, item.key) for g in pending for cs, item in groups[g] if item.key is not None}
    own = {(cs.id, item.key) for cs, item in members if item.key is not None}
    for cs, item in members:
        for value in item.refs.values():
            if isinstance(value, dict) and set(value) == {"key"}:
                ref = (cs.id, str(value["key"]))
                if ref not in created and ref in later - own:
                    return False
    return True


def _apply_group(
    session: Session,
    ctx: Context,
    gkey: tuple[str, str, str, str],
    members: list[tuple[ChangeSet, Proposed]],
    kinds: Mapping[str, Kind],
    created: dict[tuple[int, str], int],
    written: dict[int, dict[str, list[int]]],
    reason: str | None,
) -> None:
    op, name, proposer, evidence = gkey
    kind = kinds[name]
    first = members[0][0]
    prov = Provenance(first.source_kind, proposer, evidence, first.document_ref)
    # Each object's entry names the change set it came from (a single approval's entries as before); naming the
    # whole group in every entry made a bulk approval's audit quadratic (1,000 sets: 3,000 entries of 1,000 ids).
    permission = members[0][1].permission
    why = reason or members[0][1].reason
    if op == "bump":
        _bump_group(session, ctx, kind, members, permission)
        for cs, item in members:
            written[cs.id].setdefault(name, []).append(int(item.entity_id or 0))
    elif op == "create":
        plain = [(cs, item) for cs, item in members if not item.audit_as]
        compound = [(cs, item) for cs, item in members if item.audit_as]
        for part in (plain, compound):
            if part:
                _create_group(session, ctx, kind, part, prov, permission, why, created, written)
    elif op in ("change", "correct"):
        if op == "change":
            by_date: dict[dt.date | None, list[tuple[ChangeSet, Proposed]]] = {}
            for cs, item in members:
                by_date.setdefault(item.effective, []).append((cs, item))
            for effective, part in by_date.items():
                planned = plan_changes(
                    session,
                    kind,
                    [
                        ChangeItem(int(i.entity_id or 0), int(i.base_version or 0), i.attributes)
                        for _, i in part
                    ],
                )
                change_many(
                    session,
                    ctx,
                    kind,
                    planned,
                    effective=effective,
                    prov=prov,
                    reason=why,
                    permission=permission,
                    item_details=[{"change_sets": [cs.id]} for cs, _ in part],
                )
        else:
            correct_many(
                session,
                ctx,
                kind,
                [
                    CorrectItem(int(i.entity_id or 0), int(i.base_version or 0), None, i.attributes)
                    for _, i in members
                ],
                prov=prov,
                reason=why or "更正",
                permission=permission,
                item_details=[{"change_sets": [cs.id]} for cs, _ in members],
            )
        for cs, item in members:
            written[cs.id].setdefault(name, []).append(int(item.entity_id or 0))
    else:
        ids = [int(i.entity_id or 0) for _, i in members]
        rows = open_versions(session, kind, ids)
        retire_many(
            session,
            ctx,
            [
                Retirement(
                    kind,
                    rows[int(i.entity_id or 0)],
                    i.effective or ctx.today,
                    dict(i.attributes),
                    expected_version=i.base_version,
                    group=n,
                )
                for n, (_, i) in enumerate(members)
            ],
            prov=prov,
            reason=why or "注销",
            permissions=[permission] if permission else None,
        )
        for cs, item in members:
            written[cs.id].setdefault(name, []).append(int(item.entity_id or 0))


def _bump_group(
    session: Session,
    ctx: Context,
    kind: Kind,
    members: list[tuple[ChangeSet, Proposed]],
    permission: str | None,
) -> None:
    """Raise the lock counters of a group's objects (`Proposed` op `bump`): 403 without the permission, 404 for
    an object outside the actor's jurisdiction, 409 `version.stale` when one moved since its base version (each
    object once per set: two sets made against the same version cannot both apply)."""
    _ensure_may_write(ctx, kind, permission)
    bases: dict[int, int] = {}
    for _, item in members:
        entity_id, base = int(item.entity_id or 0), int(item.base_version or 0)
        if entity_id in bases:
            # The second set made against the same object: the first one's write moved it on.
            raise Conflict(
                "version.stale",
                "记录已被他人修改，请刷新后重试",
                "The record was changed by someone else; reload and try again",
                {"id": entity_id, "expected_version": base},
            )
        bases[entity_id] = base
    writable = _writable_entities(session, ctx, kind, sorted(bases))
    for entity_id in bases:
        if entity_id not in writable:
            raise history.not_found(kind, entity_id)
    got = history.bump_versions(session, kind, dict.fromkeys(bases, 1))
    for entity_id, base in bases.items():
        history.check_bumped(kind, entity_id, base, got.get(entity_id))


def _create_group(
    session: Session,
    ctx: Context,
    kind: Kind,
    members: list[tuple[ChangeSet, Proposed]],
    prov: Provenance,
    permission: str | None,
    why: str | None,
    created: dict[tuple[int, str], int],
    written: dict[int, dict[str, list[int]]],
) -> None:
    """One bulk create of a group's new objects; those of a compound action (`Proposed.audit_as`) audited as
    that action, the others as `{kind}.create`."""
    news, resolved_refs = [], []
    for cs, item in members:
        refs = {}
        for col, value in item.refs.items():
            resolved, ok = _resolve(value, created, cs.id)
            if not ok:
                raise ValueError(f"change set {cs.id} refers to an object it does not create: {value}")
            refs[col] = resolved
        assert item.area_id is not None
        news.append(NewItem(item.area_id, dict(item.attributes), refs, item.valid_from))
        resolved_refs.append(refs)
    if members[0][1].audit_as:

        def events(ids: list[int]) -> list[audit.Event]:
            out = []
            for (cs, item), refs, new_id in zip(members, resolved_refs, ids, strict=True):
                how = item.audit_as or {}
                extra = {k: v for k, v in refs.items() if k not in (how["entity_ref"], how["subject_ref"])}
                since = item.valid_from.isoformat() if item.valid_from else None
                out.append(
                    audit.Event(
                        how["action"],
                        how["entity_kind"],
                        int(refs[how["entity_ref"]]),
                        int(refs[how["subject_ref"]]) if refs.get(how["subject_ref"]) else None,
                        {how["id_as"]: new_id, **extra, "since": since, "change_set": cs.id},
                    )
                )
            return out

        done = create_many_audited(
            session, ctx, kind, news, prov=prov, events=events, permission=permission, reason=why
        )
    else:
        done = create_many(
            session,
            ctx,
            kind,
            news,
            prov=prov,
            permission=permission,
            reason=why,
            item_details=[{"change_sets": [cs.id]} for cs, _ in members],
        )
    for (cs, item), new_id in zip(members, done.ids, strict=True):
        if item.key is not None:
            created[(cs.id, item.key)] = new_id
        written[cs.id].setdefault(kind.name, []).append(new_id)
