"""Offline collection (离线采集): the work a collector's phone downloads, and the sync of its outbox.

Each outbox item carries a client-generated UUID and is answered on its own: a malformed item, a UUID reused with
other content, a dwelling outside the collector's assignment or a conflict is refused on that item alone, and the
rest of the batch is stored (set-based: checked together, the visits written together, see `sync_outbox`). The
same UUID with the same content answers with the first result (idempotent), so a phone that lost the answer
simply sends its outbox again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.buildings.models import Dwelling
from liangshi.campaign import batch, organisation, service, sync_kinds
from liangshi.campaign.models import SyncItem
from liangshi.campaign.schemas import (
    SyncAny,
    SyncItemIn,
    SyncItemResult,
    SyncPerson,
    SyncResult,
    SyncVisit,
    VisitCreate,
)
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, Forbidden, LiangshiError, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Person
from liangshi.registry import Context, history
from liangshi.rentals import service as rentals
from liangshi.residence import service as residence
from liangshi.residence.models import Residence
from liangshi.review.rules import DistrictPolicy

_ITEM: TypeAdapter[SyncAny] = TypeAdapter(SyncItemIn)


def _refusal(code: str, data: dict[str, Any]) -> LiangshiError:
    """The error an item is answered with (not raised: the other items of the batch go on)."""
    if code == "sync.uuid_reused":
        return Conflict(
            "sync.uuid_reused",
            "该记录编号已用于内容不同的另一条记录，未保存",
            "This item's UUID was already used for different content; it was not stored",
            data,
        )
    if code == "sync.conflict":
        return Conflict(
            "sync.conflict",
            "下载后该房屋的登记已被他人修改，请核对后处理",
            "The dwelling was changed by someone else since you downloaded it; check it and decide",
            data,
        )
    if code == "sync.item_invalid":
        return ValidationFailed(
            "sync.item_invalid",
            "该条记录格式不正确，未保存",
            "This item is malformed and was not stored",
            data,
        )
    # The assignment check's refusal (any reason code it gives is kept in the data).
    return Forbidden(
        "sync.not_assigned",
        "该房屋不在您的采集任务范围内，未保存",
        "This dwelling is not in your assignment; the item was not stored",
        {**data, "reason": code},
    )


def _assignment_refusal(session: Session, ctx: Context, dwelling_id: int) -> str | None:
    """Why the actor may not submit work for this dwelling (a reason code), or None when they may.

    The dwelling must lie in the actor's area (where they may write) and in one of their open campaign
    assignments (`organisation.is_assigned`: where no assignment covers the building yet, the jurisdiction
    suffices). Work reassigned to another collector while the phone was offline is refused here.
    """
    try:
        registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor, write=True)
    except NotFound:
        return "sync.not_assigned"
    if ctx.actor.user_id is None or not organisation.is_assigned(
        session, user_id=ctx.actor.user_id, dwelling_id=dwelling_id, today=ctx.today
    ):
        return "sync.not_assigned"
    return None


def _content_hash(item: SyncAny) -> str:
    # What the item says, without how it is sent (the base version and "send as is" change on a resolved conflict).
    content = item.model_dump(mode="json", exclude={"base_version", "force"})
    if isinstance(item, SyncVisit) and not item.visit.household_sizes:
        # Items sent before visits took household sizes keep the hash they were stored with.
        del content["visit"]["household_sizes"]
    if isinstance(item, SyncPerson) and item.person.stay_reason is None:
        # Likewise for person forms sent before they took the reason for stay.
        del content["person"]["stay_reason"]
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _dwelling_version(session: Session, dwelling_id: int) -> int:
    return int(session.execute(select(Dwelling.version).where(Dwelling.id == dwelling_id)).scalar_one())


def _moved_by_others(session: Session, ctx: Context, dwelling_id: int, base: int, current: int) -> bool:
    """Whether the dwelling moved from the downloaded version to the current one by anyone but this collector's
    own synced items (which chain version_before → version_after)."""
    version = base
    while version != current:
        step = session.execute(
            select(SyncItem.version_after)
            .where(
                SyncItem.collector_id == ctx.actor.user_id,
                SyncItem.dwelling_id == dwelling_id,
                SyncItem.version_before == version,
                SyncItem.version_after > version,
            )
            .order_by(SyncItem.version_after.desc())
            .limit(1)
        ).scalar_one_or_none()
        if step is None:
            return True
        version = int(step)
    return False


def _refused(
    index: int, raw: Any, code: str, data: dict[str, Any] | None = None, **extra: Any
) -> SyncItemResult:
    error = _refusal(code, data or {})
    status = "conflict" if error.code == "sync.conflict" else "refused"
    return _result(
        index, raw, status, error.code, error.message("zh"), error.message("en"), error.data, **extra
    )


def _result(
    index: int,
    raw: Any,
    status: Any,
    code: str | None,
    zh: str | None,
    en: str | None,
    data: dict[str, Any],
    **extra: Any,
) -> SyncItemResult:
    uuid = raw.get("uuid") if isinstance(raw, dict) else None
    kind = raw.get("kind") if isinstance(raw, dict) else None
    return SyncItemResult(
        index=index,
        uuid=uuid if isinstance(uuid, str) else None,
        kind=kind if isinstance(kind, str) else None,
        status=status,
        code=code,
        message_zh=zh,
        message_en=en,
        data=data,
        **extra,
    )


def _invalid(index: int, raw: Any, exc: ValidationError) -> SyncItemResult:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]), "type": e["type"], "message": e["msg"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ][:20]
    return _refused(index, raw, "sync.item_invalid", {"errors": errors})


def _replayed(index: int, raw: Any, stored: SyncItem, session: Session) -> SyncItemResult:
    return _result(
        index,
        raw,
        "replayed",
        None,
        None,
        None,
        {},
        visit_id=stored.visit_id,
        person_id=stored.person_id,
        residence_id=stored.residence_id,
        change_set_id=stored.change_set_id,
        dwelling_version=_dwelling_version(session, stored.dwelling_id),
    )


# Items per transaction at the boundary. The sync is set-based (one savepoint for all the visits of a part), so a
# whole batch (SyncBatch takes at most 1000) is one transaction and one commit. Only a batch whose set-based pass
# fails goes item by item, each in a savepoint; past 64 of those in one PostgreSQL transaction every snapshot
# overflows into pg_subtrans, which slows that rare path but keeps it correct.
CHUNK = 1000


def chunks(items: list[Any]) -> list[tuple[int, list[Any]]]:
    """The batch cut into (offset, items) parts of CHUNK, each synced and committed in its own transaction."""
    return [(start, items[start : start + CHUNK]) for start in range(0, len(items), CHUNK)] or [(0, [])]


def merged(parts: list[SyncResult]) -> SyncResult:
    """The results of a batch's parts as one."""
    items = [r for part in parts for r in part.items]
    return SyncResult(items=items, counts=_counts(items))


def _counts(results: list[SyncItemResult]) -> dict[str, int]:
    return {
        s: sum(1 for r in results if r.status == s) for s in ("stored", "replayed", "refused", "conflict")
    }


@dataclass(frozen=True)
class _Ready:
    """An item that passed every check and is about to be stored."""

    index: int
    raw: Any
    item: SyncAny
    digest: str
    before: int
    moved: bool


def sync_outbox(
    session: Session,
    ctx: Context,
    items: list[Any],
    *,
    offset: int = 0,
    policy: DistrictPolicy | None = None,
) -> SyncResult:
    """Store outbox items; one result per item, in order (see the module docstring). `offset` numbers the items
    of a part of a larger batch (see CHUNK). Set-based: every item is validated first, the stored UUIDs, the
    assignments and the dwelling versions are read in one pass each, and the visits are written together
    (`batch.record_visits`: the visits, the change sets they propose, the buildings' visit status) in one
    savepoint; should that fail on one of them, each visit goes on its own so that only that one is refused.
    A person form goes through `add_person_at_dwelling`, as from the web; a move, birth, document or member
    through its online proposal's use case (`sync_kinds`). What the items propose becomes change
    sets awaiting review (`change_set_id`), under `policy`."""
    ctx.actor.ensure("collect.sync")
    results: dict[int, SyncItemResult] = {}
    parsed: list[tuple[int, Any, SyncAny, str]] = []
    again: list[tuple[int, Any]] = []  # a UUID repeated inside the batch: answered after the first is stored
    seen: set[str] = set()
    for i, raw in enumerate(items):
        index = offset + i
        try:
            item = _ITEM.validate_python(raw, context=validation_context(ctx.today))
        except ValidationError as exc:
            results[index] = _invalid(index, raw, exc)
            continue
        if item.uuid in seen:
            again.append((index, raw))
            continue
        seen.add(item.uuid)
        parsed.append((index, raw, item, _content_hash(item)))
    known = {
        s.client_uuid: s
        for s in session.execute(select(SyncItem).where(SyncItem.client_uuid.in_(sorted(seen)))).scalars()
    }
    fresh = []
    for index, raw, item, digest in parsed:
        stored = known.get(item.uuid)
        if stored is None:
            fresh.append((index, raw, item, digest))
        elif stored.collector_id != ctx.actor.user_id or stored.content_hash != digest:
            results[index] = _refused(index, raw, "sync.uuid_reused", {"field": "uuid"})
        else:
            results[index] = _replayed(index, raw, stored, session)
    allowed = batch.assigned_dwellings(session, ctx, [item.dwelling_id for _, _, item, _ in fresh])
    versions = _dwelling_versions(session, allowed)
    ready: list[_Ready] = []
    for index, raw, item, digest in fresh:
        if item.dwelling_id not in allowed:
            results[index] = _refused(index, raw, "sync.not_assigned", {"dwelling_id": item.dwelling_id})
            continue
        before = versions[item.dwelling_id]
        moved = item.base_version is not None and _moved_by_others(
            session, ctx, item.dwelling_id, item.base_version, before
        )
        if moved and not item.force:
            server = server_view(session, ctx, item.dwelling_id)
            results[index] = _refused(
                index, raw, "sync.conflict", {"server": server}, dwelling_version=before
            )
            continue
        ready.append(_Ready(index, raw, item, digest, before, moved))
    visits = [r for r in ready if isinstance(r.item, SyncVisit)]
    results.update(_store_visits(session, ctx, visits, policy))
    for r in ready:
        if not isinstance(r.item, SyncVisit):
            results[r.index] = _store_one(session, ctx, r, policy)
    for index, raw in again:
        results[index] = _sync_one(session, ctx, index, raw, policy)
    ordered = [results[k] for k in sorted(results)]
    counts = _counts(ordered)
    registry.log(ctx, session, [audit.Event("sync.batch", "user", ctx.actor.user_id, None, counts)])
    return SyncResult(items=ordered, counts=counts)


def _dwelling_versions(session: Session, dwelling_ids: Collection[int]) -> dict[int, int]:
    if not dwelling_ids:
        return {}
    rows = session.execute(select(Dwelling.id, Dwelling.version).where(Dwelling.id.in_(sorted(dwelling_ids))))
    return {int(d): int(v) for d, v in rows}


def _sync_row(ctx: Context, r: _Ready, county_code: str) -> SyncItem:
    return SyncItem(
        client_uuid=r.item.uuid,
        collector_id=ctx.actor.user_id,
        kind=r.item.kind,
        content_hash=r.digest,
        dwelling_id=r.item.dwelling_id,
        county_code=county_code,
        version_before=r.before,
        forced=r.moved,
        synced_at=ctx.now,
    )


def _stored(r: _Ready, row: SyncItem) -> SyncItemResult:
    return _result(
        r.index,
        r.raw,
        "stored",
        None,
        None,
        None,
        {"forced": row.forced},
        visit_id=row.visit_id,
        person_id=row.person_id,
        residence_id=row.residence_id,
        change_set_id=row.change_set_id,
        dwelling_version=row.version_after,
    )


def _store_visits(
    session: Session, ctx: Context, ready: list[_Ready], policy: DistrictPolicy | None
) -> dict[int, SyncItemResult]:
    """The visits stored together; item by item (each in its savepoint) when the set-based pass fails."""
    if not ready:
        return {}
    entries = [
        (
            r.item.dwelling_id,
            VisitCreate.model_validate({**r.item.visit.model_dump(), "idempotency_key": r.item.uuid}),
        )
        for r in ready
        if isinstance(r.item, SyncVisit)
    ]
    try:
        with session.begin_nested():
            recorded = batch.record_visits(session, ctx, entries, policy=policy)
            after = _dwelling_versions(session, {r.item.dwelling_id for r in ready})
            rows = []
            for r, done in zip(ready, recorded, strict=True):
                row = _sync_row(ctx, r, done.visit.county_code)
                row.visit_id = done.visit.id
                row.change_set_id = done.change_set_id
                row.version_after = after[r.item.dwelling_id]
                rows.append(row)
            session.add_all(rows)
            session.flush()
    except (LiangshiError, IntegrityError):
        # One visit spoils the set (a confirmed person moved out, a key taken by a concurrent sync): each on its
        # own, so that only that one is refused and the rest stored.
        return {r.index: _store_one(session, ctx, r, policy) for r in ready}
    return {r.index: _stored(r, row) for r, row in zip(ready, rows, strict=True)}


def _sync_one(
    session: Session, ctx: Context, index: int, raw: Any, policy: DistrictPolicy | None
) -> SyncItemResult:
    """One item through every check and stored on its own (a UUID the batch repeats)."""
    try:
        item = _ITEM.validate_python(raw, context=validation_context(ctx.today))
    except ValidationError as exc:
        return _invalid(index, raw, exc)
    digest = _content_hash(item)
    stored = session.execute(select(SyncItem).where(SyncItem.client_uuid == item.uuid)).scalar_one_or_none()
    if stored is not None:
        if stored.collector_id != ctx.actor.user_id or stored.content_hash != digest:
            return _refused(index, raw, "sync.uuid_reused", {"field": "uuid"})
        return _replayed(index, raw, stored, session)
    refusal = _assignment_refusal(session, ctx, item.dwelling_id)
    if refusal is not None:
        return _refused(index, raw, refusal, {"dwelling_id": item.dwelling_id})
    before = _dwelling_version(session, item.dwelling_id)
    moved = item.base_version is not None and _moved_by_others(
        session, ctx, item.dwelling_id, item.base_version, before
    )
    if moved and not item.force:
        server = server_view(session, ctx, item.dwelling_id)
        return _refused(index, raw, "sync.conflict", {"server": server}, dwelling_version=before)
    return _store_one(session, ctx, _Ready(index, raw, item, digest, before, moved), policy)


def _store_one(session: Session, ctx: Context, r: _Ready, policy: DistrictPolicy | None) -> SyncItemResult:
    try:
        with session.begin_nested():
            row = _apply(session, ctx, r.item, r.digest, r.before, forced=r.moved, policy=policy)
    except LiangshiError as exc:
        return _result(
            r.index, r.raw, "refused", exc.code, exc.message("zh"), exc.message("en"), dict(exc.data)
        )
    return _stored(r, row)


def _apply(
    session: Session,
    ctx: Context,
    item: SyncAny,
    digest: str,
    before: int,
    *,
    forced: bool,
    policy: DistrictPolicy | None,
) -> SyncItem:
    # The use cases below check permission and jurisdiction themselves (record_visit, add_person_at_dwelling,
    # the proposals of sync_kinds).
    dwelling = session.get(Dwelling, item.dwelling_id)
    if dwelling is None:
        raise history.not_found(buildings.DWELLING, item.dwelling_id)
    row = SyncItem(
        client_uuid=item.uuid,
        collector_id=ctx.actor.user_id,
        kind=item.kind,
        content_hash=digest,
        dwelling_id=dwelling.id,
        county_code=dwelling.county_code,
        version_before=before,
        forced=forced,
        synced_at=ctx.now,
    )
    if isinstance(item, SyncVisit):
        visit = service.record_visit(
            session,
            ctx,
            dwelling.id,
            VisitCreate.model_validate({**item.visit.model_dump(), "idempotency_key": item.uuid}),
            policy=policy,
        )
        row.visit_id = visit.id
        row.change_set_id = visit.change_set_id
    elif isinstance(item, SyncPerson):
        # The person found is proposed for review: the person (when already registered) is known now, the
        # residence only once the station approves.
        cs = service.add_person_at_dwelling(session, ctx, dwelling.id, item.person, policy=policy)
        row.change_set_id = int(cs.id)
        row.person_id = cs.subject_person_id
    else:
        # A move, birth, document or member: the change set its online proposal route stores.
        done = sync_kinds.propose(session, ctx, item, policy=policy)
        row.change_set_id = done.change_set_id
        row.person_id = done.person_id
        row.residence_id = done.residence_id
    session.flush()
    row.version_after = _dwelling_version(session, dwelling.id)
    session.add(row)
    session.flush()
    return row


def server_view(session: Session, ctx: Context, dwelling_id: int) -> dict[str, Any]:
    """A dwelling as the server has it now: status, version and occupants (masked), for a conflict or a download."""
    snap = registry.read(session, ctx, buildings.DWELLING, dwelling_id)
    occupants = residence.occupants(session, ctx, dwelling_id, None)["occupants"]
    # The versions a move (the residence's) or a document (the person's) typed offline is made against.
    rids = [int(o["residence_id"]) for o in occupants]
    pids = [int(o["person_id"]) for o in occupants]
    res_versions = {
        int(i): int(v)
        for i, v in session.execute(select(Residence.id, Residence.version).where(Residence.id.in_(rids)))
    }
    person_versions = {
        int(i): int(v)
        for i, v in session.execute(select(Person.id, Person.version).where(Person.id.in_(pids)))
    }
    return {
        "dwelling_id": dwelling_id,
        "version": snap.entity.version,
        "status": snap.row.status,
        "occupants": [
            {
                "person_id": o["person_id"],
                "residence_id": o["residence_id"],
                "name": o["name"],
                "category": o["category"],
                "documents": [d["number"] for d in o["documents"]],
                "residence_version": res_versions.get(o["residence_id"]),
                "person_version": person_versions.get(o["person_id"]),
            }
            for o in occupants
        ],
    }


def work_for(session: Session, ctx: Context, area_id: int | None = None) -> dict[str, Any]:
    """The work a collector downloads for offline use: the area's buildings, their dwellings (with the version
    a later sync compares against), the persons living there (masked), households and open rentals."""
    ctx.actor.ensure("collect.sync")
    target = area_id or ctx.actor.area_id
    streets = buildings.buildings_in_area(session, ctx, target)
    result: list[dict[str, Any]] = []
    for street in streets:
        for b in street["buildings"]:
            grid = buildings.grid(session, ctx, b["building_id"], None)
            dwellings: list[dict[str, Any]] = []
            for unit in grid["units"]:
                for floor in unit["floors"]:
                    for room in floor["rooms"]:
                        did = room["dwelling_id"]
                        if _assignment_refusal(session, ctx, did) is not None:
                            continue
                        view = server_view(session, ctx, did)
                        rental = rentals.rental_of_dwelling(session, ctx, did)
                        dwellings.append(
                            {
                                **view,
                                "unit": unit["unit"],
                                "floor": floor["floor"],
                                "room": room["room"],
                                "last_outcome": service.last_outcomes(session, [did]).get(did),
                                "rental_id": int(rental.entity.id) if rental is not None else None,
                                "households": persons.households_at_dwelling(session, ctx, did, ctx.today),
                            }
                        )
            result.append(
                {
                    "building_id": b["building_id"],
                    "label": b["label"],
                    "number": b["number"],
                    "street": street["street"],
                    "visit_status": b["visit_status"],
                    "dwellings": dwellings,
                }
            )
    return {
        "area_id": target,
        "downloaded_at": ctx.now.isoformat(),
        "today": ctx.today.isoformat(),
        "buildings": result,
    }
