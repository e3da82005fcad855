"""The shared use cases of every registry object: scoped read, search, create, change, correct, retire, flag.

Domain services describe their kind (tables, attributes, labels) and validate cross-object rules; this module
does what is the same for all: jurisdiction, permissions, history and the audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

import liangshi.registry.history as history
from liangshi.access.rules import Actor
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.registry.context import LIAISON_ROLE, Context, Page, ReadCut, Snapshot
from liangshi.registry.kinds import PERSONAL_KINDS, PUBLIC_KINDS, Kind, Provenance, perm_kind
from liangshi.versioned import AttributeFlag


def scoped(stmt: Select[Any], kind: Kind, actor: Actor) -> Select[Any]:
    """Restrict a statement over a kind's identity table to the actor's jurisdiction."""
    entity = kind.entity
    if entity is Area:
        # Areas above the actor's own are visible too (their names make up addresses), never their siblings.
        return stmt.where(
            or_(
                Area.path.startswith(actor.area_path),
                func.substr(actor.area_path, 1, func.length(Area.path)) == Area.path,
            )
        )
    inside: ColumnElement[bool] = entity.area_id.in_(
        select(Area.id).where(Area.path.startswith(actor.area_path))
    )
    if kind.also_visible is not None:
        inside = or_(inside, kind.also_visible(actor))
    return stmt.where(inside)


# `scoped(select(kind.entity).where(id == :entity_id))` built once per kind and jurisdiction (issue 19: building
# the statement cost more than running it). The scope is a function of the actor's `area_path` alone (`scoped`
# and every `also_visible` read nothing else), so statements are shared by the actors of one jurisdiction.
_BY_ID: dict[tuple[str, str], Select[Any]] = {}
_BY_ID_LIMIT = 4096


def scoped_by_id(kind: Kind, actor: Actor) -> Select[Any]:
    """The entity of id `:entity_id` if the actor may see it, as `scoped` restricts it: a statement built once."""
    key = (kind.name, actor.area_path)
    stmt = _BY_ID.get(key)
    if stmt is None:
        if len(_BY_ID) >= _BY_ID_LIMIT:
            _BY_ID.clear()
        stmt = scoped(select(kind.entity).where(kind.entity.id == bindparam("entity_id")), kind, actor)
        _BY_ID[key] = stmt
    return stmt


def get_entity(session: Session, kind: Kind, entity_id: int, actor: Actor, *, write: bool = False) -> Any:
    """An entity the actor may see (or, with `write`, change), or 404 — never telling whether it exists elsewhere.

    Seeing is wider than changing: areas above the jurisdiction and the streets of the district are readable by
    name, but only what lies inside the jurisdiction (or, for a person, lives there) can be changed.
    """
    entity = session.execute(scoped_by_id(kind, actor), {"entity_id": entity_id}).scalar_one_or_none()
    if entity is None or (write and not _writable(session, kind, entity, actor)):
        raise history.not_found(kind, entity_id)
    return entity


def _writable(session: Session, kind: Kind, entity: Any, actor: Actor) -> bool:
    if kind.entity is Area:
        return actor.covers_path(entity.path)
    if kind.write_where_visible:
        return True
    area = session.get(Area, entity.area_id)
    return area is not None and actor.covers_path(area.path)


def subject_of(kind: Kind, entity: Any) -> int | None:
    """The person whose data an entity is, if any."""
    if kind.name == "person":
        return int(entity.id)
    return getattr(entity, "person_id", None) if kind.name in PERSONAL_KINDS else None


def log(ctx: Context, session: Session, events: Sequence[audit.Event]) -> None:
    """Append audit events in the current transaction."""
    audit.record(session, ctx.actor, events, purpose=ctx.purpose, now=ctx.now)


def open_flags(session: Session, kind: Kind, entity_id: int) -> list[AttributeFlag]:
    """Unresolved 'under investigation' flags on an entity."""
    return list(
        session.execute(
            select(AttributeFlag).where(
                AttributeFlag.object_kind == kind.name,
                AttributeFlag.object_id == entity_id,
                AttributeFlag.resolved_at.is_(None),
            )
        ).scalars()
    )


def snapshot(
    session: Session,
    kind: Kind,
    entity: Any,
    *,
    on: dt.date | None = None,
    at: dt.datetime | None = None,
    today: dt.date,
) -> Snapshot:
    """The entity as valid on `on` (default: today, else its latest state) as known at `at` (default: now)."""
    if on is None and at is None:
        row = history.row_as_of(session, kind, entity.id, on=today) or history.latest_row(
            session, kind, entity.id
        )
    else:
        row = history.row_as_of(session, kind, entity.id, on=on or today, at=at)
    if row is None:
        raise NotFound(
            "version.none_at_date",
            f"该{kind.label_zh}在指定日期没有记录",
            f"The {kind.label_en.lower()} has no version at that date",
            {"id": entity.id, "as_of": (on or today).isoformat()},
        )
    retired = row.valid_to is not None and row.valid_to <= (on or today)
    return Snapshot(kind, entity, row, retired, open_flags(session, kind, entity.id))


def department_cut(session: Session, ctx: Context, kind: Kind) -> tuple[ReadCut | None, Context]:
    """For a department liaison: the agreement's read cut and a context whose purpose is the agreement's, from the
    context's read-cut policy (403 without an agreement in force that lets it read this kind). A liaison's context
    without a policy is refused, never served uncut. Everyone else: no cut."""
    if ctx.actor.role != LIAISON_ROLE or kind.name in PUBLIC_KINDS:
        return None, ctx
    if ctx.read_cut is None:
        raise Forbidden(
            "department.read_cut_missing",
            "部门联络员的读取缺少共享协议的字段范围，已拒绝",
            "A department liaison's read carries no agreement cut and is refused",
            {"kind": kind.name},
        )
    return ctx.read_cut(session, ctx, kind.name)


def read(
    session: Session,
    ctx: Context,
    kind: Kind,
    entity_id: int,
    *,
    on: dt.date | None = None,
    at: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> Snapshot:
    """Read one object in the actor's jurisdiction; personal data reads are audited."""
    ctx.actor.ensure(f"{perm_kind(kind)}.read")
    cut, ctx = department_cut(session, ctx, kind)
    entity = get_entity(session, kind, entity_id, ctx.actor)
    snap = snapshot(session, kind, entity, on=on, at=at, today=ctx.today)
    snap.cut = cut
    if kind.name in PERSONAL_KINDS:
        extra = {"as_of": on.isoformat() if on else None, **(detail or {})}
        log(
            ctx,
            session,
            [audit.Event(f"{kind.name}.read", kind.name, entity.id, subject_of(kind, entity), extra)],
        )
    return snap


def search(
    session: Session,
    ctx: Context,
    kind: Kind,
    *,
    where: Sequence[Any] = (),
    offset: int,
    limit: int,
    order_by: Any = None,
    include_retired: bool = False,
    count_in_page: bool = False,
) -> Page:
    """Search current versions in the actor's jurisdiction; personal data in the results is audited. `order_by`:
    one expression or a sequence of them (default: the entity id). With `count_in_page` the total is read in the
    page's own statement (a `count(*) over ()` window, evaluated before the offset and limit) instead of a second
    scan of every match: for a search that sorts all its matches anyway (a ranking over windows); a page past the
    end is counted apart."""
    ctx.actor.ensure(f"{perm_kind(kind)}.read")
    cut, ctx = department_cut(session, ctx, kind)
    v, e = kind.version, kind.entity
    conditions = [v.superseded_at.is_(None)]
    if not include_retired:
        conditions.append(v.valid_to.is_(None))
    else:
        # One row per object: its latest state (the open version, or the one that retired it), not the closed
        # earlier versions that history keeps.
        later = aliased(v)
        conditions.append(
            ~select(later.row_id)
            .where(
                later.entity_id == v.entity_id, later.superseded_at.is_(None), later.valid_from > v.valid_from
            )
            .exists()
        )
    base = scoped(select(e, v).join(v, and_(v.entity_id == e.id, *conditions)), kind, ctx.actor)
    for cond in where:
        base = base.where(cond)
    order = (
        (order_by if isinstance(order_by, (list, tuple)) else [order_by]) if order_by is not None else [e.id]
    )
    if count_in_page:
        counted = session.execute(
            base.add_columns(func.count().over()).order_by(*order).offset(offset).limit(limit)
        ).all()
        items = [Snapshot(kind, ent, row, row.valid_to is not None, cut=cut) for ent, row, _n in counted]
        if counted:
            total = int(counted[0][2])
        elif offset > 0:
            total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        else:
            total = 0
    else:
        total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = session.execute(base.order_by(*order).offset(offset).limit(limit))
        items = [Snapshot(kind, ent, row, row.valid_to is not None, cut=cut) for ent, row in rows]
    if kind.name in PERSONAL_KINDS and items:
        log(
            ctx,
            session,
            [
                audit.Event(f"{kind.name}.search", kind.name, s.entity.id, subject_of(kind, s.entity))
                for s in items
            ],
        )
    return Page(items, total, offset, limit)


def ensure_area_in_scope(session: Session, ctx: Context, area_id: int) -> Area:
    """An area the actor covers, else 404 naming the field."""
    area = session.execute(
        select(Area).where(Area.id == area_id, Area.path.startswith(ctx.actor.area_path))
    ).scalar_one_or_none()
    if area is None:
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area_id", "id": area_id}
        )
    return area


def create(
    session: Session,
    ctx: Context,
    kind: Kind,
    entity: Any,
    attrs: dict[str, Any],
    *,
    valid_from: dt.date | None,
    prov: Provenance,
    reason: str | None = None,
) -> Snapshot:
    """Create an object (its identity already carries area and county) and audit it."""
    ctx.actor.ensure(f"{perm_kind(kind)}.write")
    start = valid_from or ctx.today
    history.check_not_future(start, ctx.today, "valid_from")
    row = history.create(
        session,
        kind,
        entity,
        attrs,
        valid_from=start,
        prov=prov,
        actor_id=ctx.actor.user_id,
        now=ctx.now,
        reason=reason,
    )
    log(
        ctx,
        session,
        [
            audit.Event(
                f"{kind.name}.create",
                kind.name,
                entity.id,
                subject_of(kind, entity),
                {"valid_from": start.isoformat()},
            )
        ],
    )
    return Snapshot(kind, entity, row, False)


def _changed(kind: Kind, before: dict[str, Any], changes: dict[str, Any]) -> list[str]:
    return sorted(k for k, value in changes.items() if before.get(k) != value)


def change(
    session: Session,
    ctx: Context,
    kind: Kind,
    entity_id: int,
    changes: dict[str, Any],
    *,
    expected_version: int,
    effective: dt.date | None,
    prov: Provenance,
    reason: str | None,
    check: Callable[[Any, dict[str, Any]], None] | None = None,
) -> Snapshot:
    """Record a change in the world from a date; `check` validates the merged attributes."""
    ctx.actor.ensure(f"{perm_kind(kind)}.write")
    entity = get_entity(session, kind, entity_id, ctx.actor, write=True)
    when = effective or ctx.today
    history.check_not_future(when, ctx.today)
    if check is not None:
        current = history.open_row(session, kind, entity.id)
        if current is not None:
            check(entity, {**history.attributes_of(kind, current), **changes})
    row = history.change(
        session,
        kind,
        entity,
        changes,
        expected_version=expected_version,
        effective=when,
        prov=prov,
        actor_id=ctx.actor.user_id,
        now=ctx.now,
        reason=reason,
    )
    log(
        ctx,
        session,
        [
            audit.Event(
                f"{kind.name}.change",
                kind.name,
                entity.id,
                subject_of(kind, entity),
                {"fields": sorted(changes), "effective": when.isoformat()},
            )
        ],
    )
    return Snapshot(kind, entity, row, False, open_flags(session, kind, entity.id))


def correct(
    session: Session,
    ctx: Context,
    kind: Kind,
    entity_id: int,
    changes: dict[str, Any],
    *,
    expected_version: int,
    row_id: int | None,
    prov: Provenance,
    reason: str,
    check: Callable[[Any, dict[str, Any]], None] | None = None,
) -> Snapshot:
    """Correct a recorded version: the wrong one stays in history, the new one points at it."""
    ctx.actor.ensure(f"{perm_kind(kind)}.write")
    entity = get_entity(session, kind, entity_id, ctx.actor, write=True)
    if check is not None:
        target = history.latest_row(session, kind, entity.id)
        if target is not None:
            check(entity, {**history.attributes_of(kind, target), **changes})
    row = history.correct(
        session,
        kind,
        entity,
        changes,
        expected_version=expected_version,
        row_id=row_id,
        prov=prov,
        actor_id=ctx.actor.user_id,
        now=ctx.now,
        reason=reason,
    )
    log(
        ctx,
        session,
        [
            audit.Event(
                f"{kind.name}.correct",
                kind.name,
                entity.id,
                subject_of(kind, entity),
                {"fields": sorted(changes), "corrects_row_id": row.corrects_row_id, "reason": reason},
            )
        ],
    )
    return Snapshot(kind, entity, row, row.valid_to is not None, open_flags(session, kind, entity.id))


def retire(
    session: Session,
    ctx: Context,
    kind: Kind,
    entity_id: int,
    *,
    expected_version: int,
    effective: dt.date | None,
    prov: Provenance,
    reason: str,
    changes: dict[str, Any] | None = None,
    permission: str | None = None,
) -> Snapshot:
    """End an object's validity; it stays readable as of earlier dates."""
    ctx.actor.ensure(permission or f"{perm_kind(kind)}.retire")
    entity = get_entity(session, kind, entity_id, ctx.actor, write=True)
    when = effective or ctx.today
    history.check_not_future(when, ctx.today)
    row = history.retire(
        session,
        kind,
        entity,
        expected_version=expected_version,
        effective=when,
        prov=prov,
        actor_id=ctx.actor.user_id,
        now=ctx.now,
        reason=reason,
        changes=changes,
    )
    log(
        ctx,
        session,
        [
            audit.Event(
                f"{kind.name}.retire",
                kind.name,
                entity.id,
                subject_of(kind, entity),
                {"effective": when.isoformat(), "reason": reason},
            )
        ],
    )
    return Snapshot(kind, entity, row, True)


def versions(session: Session, ctx: Context, kind: Kind, entity_id: int) -> tuple[Any, list[Any]]:
    """The full bitemporal history of an object (audited for personal data); a department may not read it."""
    ctx.actor.ensure(f"{perm_kind(kind)}.read")
    cut, ctx = department_cut(session, ctx, kind)
    if cut is not None:
        # Provenance and earlier values are not agreement fields: departments pull changes instead.
        raise Forbidden(
            "department.history_not_shared",
            "部门不能读取历史版本，请使用变更订阅",
            "Departments cannot read version history; pull changes instead",
            {"kind": kind.name},
        )
    entity = get_entity(session, kind, entity_id, ctx.actor)
    rows = history.history(session, kind, entity.id)
    if kind.name in PERSONAL_KINDS:
        log(
            ctx,
            session,
            [audit.Event(f"{kind.name}.history", kind.name, entity.id, subject_of(kind, entity))],
        )
    return entity, rows


def flag(
    session: Session,
    ctx: Context,
    kind: Kind,
    entity_id: int,
    *,
    attribute: str,
    reason: str,
    expected_version: int,
) -> AttributeFlag:
    """Flag an attribute 'under investigation' (存疑待查) without changing its value."""
    ctx.actor.ensure(f"{perm_kind(kind)}.write")
    entity = get_entity(session, kind, entity_id, ctx.actor, write=True)
    if attribute not in kind.attributes:
        raise ValidationFailed(
            "flag.attribute_unknown",
            "该属性不存在",
            "No such attribute",
            {"field": "attribute", "allowed": list(kind.attributes)},
        )
    if any(f.attribute == attribute for f in open_flags(session, kind, entity.id)):
        raise Conflict(
            "flag.already_open",
            "该属性已标记为存疑待查",
            "The attribute is already flagged under investigation",
            {"field": "attribute"},
        )
    history.bump_version(session, kind, entity.id, expected_version)
    row = AttributeFlag(
        object_kind=kind.name,
        object_id=entity.id,
        attribute=attribute,
        reason=reason,
        raised_by=ctx.actor.user_id,
        raised_at=ctx.now,
        county_code=entity.county_code,
    )
    session.add(row)
    session.flush()
    log(
        ctx,
        session,
        [
            audit.Event(
                f"{kind.name}.flag",
                kind.name,
                entity.id,
                subject_of(kind, entity),
                {"attribute": attribute, "reason": reason},
            )
        ],
    )
    return row


def resolve_flag(
    session: Session,
    ctx: Context,
    kind: Kind,
    entity_id: int,
    *,
    flag_id: int,
    resolution: str,
    expected_version: int,
) -> AttributeFlag:
    """Settle an 'under investigation' flag with a resolution text."""
    ctx.actor.ensure(f"{perm_kind(kind)}.write")
    entity = get_entity(session, kind, entity_id, ctx.actor, write=True)
    row = session.get(AttributeFlag, flag_id)
    if (
        row is None
        or row.object_kind != kind.name
        or row.object_id != entity.id
        or row.resolved_at is not None
    ):
        raise NotFound("flag.not_found", "未找到该存疑标记", "Flag not found", {"field": "flag_id"})
    history.bump_version(session, kind, entity.id, expected_version)
    row.resolved_at = ctx.now
    row.resolved_by = ctx.actor.user_id
    row.resolution = resolution
    session.flush()
    log(
        ctx,
        session,
        [
            audit.Event(
                f"{kind.name}.flag_resolve",
                kind.name,
                entity.id,
                subject_of(kind, entity),
                {"flag_id": flag_id, "resolution": resolution},
            )
        ],
    )
    return row
