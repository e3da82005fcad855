"""Bitemporal history for every registry fact: identity rows plus immutable version rows.

Each registry object is an *entity* (a stable identity row: id, county code, jurisdiction area and an optimistic
lock counter) and a list of *versions*. A version holds the object's attributes for a valid-time interval
[valid_from, valid_to) as the world was, and a record-time interval [recorded_at, superseded_at) as we knew it.
Nothing is updated in place except `superseded_at`, which closes a row in record time:

* a change in the world from date D closes the open row at D (a closed copy) and opens a new one from D;
* a correction replaces a row for the same valid interval and points at it (`corrects_row_id`);
* a retirement closes the open row at D.

Every write bumps the entity's `version`; writers pass the version they read and a stale one is refused (409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Result, and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from liangshi.bulk import bulk_insert
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.registry.kinds import Provenance
from liangshi.versioned import Kind

# The bookkeeping columns of every version row, in the order `version_meta` gives them.
META_COLUMNS = (
    "entity_id",
    "version",
    "valid_from",
    "valid_to",
    "recorded_at",
    "superseded_at",
    "change",
    "reason",
    "source_kind",
    "source_ref",
    "evidence",
    "document_ref",
    "county_code",
    "actor_id",
    "corrects_row_id",
    "replaces_row_id",
)


def version_meta(
    *,
    entity_id: int,
    county: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
    now: dt.datetime,
    prov: Provenance,
    actor_id: int | None,
    version: int = 1,
    change: str = "create",
    reason: str | None = None,
    corrects: int | None = None,
    replaces: int | None = None,
) -> dict[str, Any]:
    """The bookkeeping columns of a version row (everything but its attributes), as a column dict.

    The one place they are spelt: the ORM writers here (`create`, `change`, `correct`, `retire`), their bulk
    forms and the registry's `create_many` all build their rows from it, so every path writes the same history.
    Defaults give a first version (`create`).
    """
    return {
        "entity_id": entity_id,
        "version": version,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "recorded_at": now,
        "superseded_at": None,
        "change": change,
        "reason": reason,
        "source_kind": prov.source_kind,
        "source_ref": prov.source_ref,
        "evidence": prov.evidence,
        "document_ref": prov.document_ref,
        "county_code": county,
        "actor_id": actor_id,
        "corrects_row_id": corrects,
        "replaces_row_id": replaces,
    }


def entity_row(*, entity_id: int, county: str, area_id: int, now: dt.datetime, **refs: Any) -> dict[str, Any]:
    """The columns of a new identity row (version 1), with the kind's own references `refs`."""
    return {
        "id": entity_id,
        "county_code": county,
        "version": 1,
        "created_at": now,
        "area_id": area_id,
        **refs,
    }


def current_condition(version_cls: type[Any]) -> ColumnElement[bool]:
    """Rows of current knowledge (not superseded in record time)."""
    return version_cls.superseded_at.is_(None)  # type: ignore[no-any-return]


def valid_on(version_cls: type[Any], on: dt.date | BindParameter[Any]) -> ColumnElement[bool]:
    """Rows whose valid interval contains `on` (a date, or a bound parameter of a statement built once)."""
    return and_(
        version_cls.valid_from <= on,
        or_(version_cls.valid_to.is_(None), version_cls.valid_to > on),
    )


def known_at(version_cls: type[Any], at: dt.datetime) -> ColumnElement[bool]:
    """Rows that were current knowledge at record time `at`."""
    return and_(
        version_cls.recorded_at <= at,
        or_(version_cls.superseded_at.is_(None), version_cls.superseded_at > at),
    )


def not_found(kind: Kind, object_id: int) -> NotFound:
    """The one 404 for a missing or out-of-jurisdiction object."""
    return NotFound(
        f"{kind.name}.not_found",
        f"未找到该{kind.label_zh}",
        f"{kind.label_en} not found",
        {"id": object_id},
    )


def bump_version(session: Session, kind: Kind, entity_id: int, expected: int) -> int:
    """Take the write: advance the entity's version if it still is `expected`, else 409 (stale)."""
    entity_cls = kind.entity
    result = session.execute(
        update(entity_cls)
        .where(entity_cls.id == entity_id, entity_cls.version == expected)
        .values(version=entity_cls.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.execute(select(entity_cls.version).where(entity_cls.id == entity_id)).scalar()
        if current is None:
            raise not_found(kind, entity_id)
        raise Conflict(
            "version.stale",
            "记录已被他人修改，请刷新后重试",
            "The record was changed by someone else; reload and try again",
            {"id": entity_id, "expected_version": expected, "current_version": current},
        )
    entity = session.get(entity_cls, entity_id)
    if entity is not None:
        session.refresh(entity, ["version"])
    return expected + 1


def _new_row(
    kind: Kind,
    entity: Any,
    attrs: dict[str, Any],
    *,
    version: int,
    valid_from: dt.date,
    valid_to: dt.date | None,
    change: str,
    reason: str | None,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    corrects: int | None = None,
    replaces: int | None = None,
) -> Any:
    meta = version_meta(
        entity_id=entity.id,
        county=entity.county_code,
        valid_from=valid_from,
        valid_to=valid_to,
        now=now,
        prov=prov,
        actor_id=actor_id,
        version=version,
        change=change,
        reason=reason,
        corrects=corrects,
        replaces=replaces,
    )
    return kind.version(**meta, **attrs)


def attributes_of(kind: Kind, row: Any) -> dict[str, Any]:
    """The versioned attributes of a row as a dict."""
    return {name: getattr(row, name) for name in kind.attributes}


def create(
    session: Session,
    kind: Kind,
    entity: Any,
    attrs: dict[str, Any],
    *,
    valid_from: dt.date,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str | None = None,
) -> Any:
    """Insert a new entity with its first version."""
    entity.version = 1
    entity.created_at = now
    session.add(entity)
    session.flush()
    row = _new_row(
        kind,
        entity,
        attrs,
        version=1,
        valid_from=valid_from,
        valid_to=None,
        change="create",
        reason=reason,
        prov=prov,
        actor_id=actor_id,
        now=now,
    )
    session.add(row)
    session.flush()
    return row


def open_row(session: Session, kind: Kind, entity_id: int) -> Any | None:
    """The current-knowledge row with an open valid interval (None when retired)."""
    v = kind.version
    return session.execute(
        select(v).where(v.entity_id == entity_id, v.superseded_at.is_(None), v.valid_to.is_(None))
    ).scalar_one_or_none()


def latest_row(session: Session, kind: Kind, entity_id: int) -> Any | None:
    """The current-knowledge row with the latest valid start (the open one, or the retirement)."""
    v = kind.version
    return (
        session.execute(
            select(v)
            .where(v.entity_id == entity_id, v.superseded_at.is_(None))
            .order_by(v.valid_from.desc(), v.row_id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def row_as_of(
    session: Session, kind: Kind, entity_id: int, *, on: dt.date, at: dt.datetime | None = None
) -> Any | None:
    """The version valid on date `on`, as known now (or as known at record time `at`)."""
    v = kind.version
    knowledge = known_at(v, at) if at is not None else current_condition(v)
    return (
        session.execute(select(v).where(v.entity_id == entity_id, knowledge, valid_on(v, on)))
        .scalars()
        .first()
    )


def history(session: Session, kind: Kind, entity_id: int) -> list[Any]:
    """Every version row ever recorded for the entity, in record order."""
    v = kind.version
    return list(session.execute(select(v).where(v.entity_id == entity_id).order_by(v.row_id)).scalars())


def retire_before_current(current_valid_from: dt.date) -> ValidationFailed:
    """The refusal to retire an object from a date before its current version's start (422)."""
    return ValidationFailed(
        "version.retire_before_current",
        "注销日期早于当前版本的生效日期",
        "The retirement date is before the current version's start",
        {"field": "effective", "current_valid_from": current_valid_from.isoformat()},
    )


def retired(kind: Kind, entity_id: int) -> Conflict:
    """The refusal to change a retired object."""
    return Conflict(
        f"{kind.name}.retired",
        f"该{kind.label_zh}已注销，不能再修改",
        f"The {kind.label_en.lower()} is retired and cannot be changed",
        {"id": entity_id},
    )


def check_not_future(when: dt.date, today: dt.date, field: str = "effective") -> None:
    """Valid time is the world's time: nothing can have happened after today (issue 18: a change dated 2031
    was accepted and then blocked every ordinary change to the object)."""
    if when > today:
        raise ValidationFailed(
            "version.date_in_future",
            "日期不能晚于今天（有效时间是现实世界已发生的时间）",
            "The date cannot be after today (valid time is when things happened in the world)",
            {"field": field, "date": when.isoformat(), "today": today.isoformat()},
        )


def check_change_date(current_valid_from: dt.date, effective: dt.date) -> None:
    """A change in the world cannot start before the current version does (that is a correction)."""
    if effective < current_valid_from:
        raise ValidationFailed(
            "version.change_before_current",
            "变更日期早于当前版本的生效日期，请改用更正",
            "The change date is before the current version's start; use a correction instead",
            {"field": "effective", "current_valid_from": current_valid_from.isoformat()},
        )


def change(
    session: Session,
    kind: Kind,
    entity: Any,
    changes: dict[str, Any],
    *,
    expected_version: int,
    effective: dt.date,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str | None = None,
) -> Any:
    """Record a change in the world from `effective` on; the previous state stays readable before it."""
    version = bump_version(session, kind, entity.id, expected_version)
    cur = open_row(session, kind, entity.id)
    if cur is None:
        raise retired(kind, entity.id)
    check_change_date(cur.valid_from, effective)
    cur.superseded_at = now
    attrs = attributes_of(kind, cur)
    if effective > cur.valid_from:
        session.add(
            _new_row(
                kind,
                entity,
                attrs,
                version=version,
                valid_from=cur.valid_from,
                valid_to=effective,
                change="close",
                reason=reason,
                # The values keep their own source and collector: accountability stays with who entered them.
                prov=Provenance(cur.source_kind, cur.source_ref, cur.evidence, cur.document_ref),
                actor_id=cur.actor_id,
                now=now,
                replaces=cur.row_id,
            )
        )
    attrs.update(changes)
    row = _new_row(
        kind,
        entity,
        attrs,
        version=version,
        valid_from=effective,
        valid_to=None,
        change="change",
        reason=reason,
        prov=prov,
        actor_id=actor_id,
        now=now,
        replaces=cur.row_id,
    )
    session.add(row)
    session.flush()
    return row


def correct(
    session: Session,
    kind: Kind,
    entity: Any,
    changes: dict[str, Any],
    *,
    expected_version: int,
    row_id: int | None,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str,
) -> Any:
    """Correct a recorded version (the current one by default): a new row for the same interval points at it."""
    version = bump_version(session, kind, entity.id, expected_version)
    v = kind.version
    if row_id is None:
        target = latest_row(session, kind, entity.id)
    else:
        target = session.execute(
            select(v).where(v.row_id == row_id, v.entity_id == entity.id, v.superseded_at.is_(None))
        ).scalar_one_or_none()
    if target is None:
        raise NotFound(
            "version.not_found",
            "要更正的版本不存在或已被取代",
            "The version to correct does not exist or was already superseded",
            {"field": "row_id", "row_id": row_id},
        )
    target.superseded_at = now
    attrs = attributes_of(kind, target)
    attrs.update(changes)
    start = target.valid_from
    if kind.start_attribute in changes and target.valid_from == getattr(target, kind.start_attribute or ""):
        start = changes[kind.start_attribute or ""]
        if target.valid_to is not None and start >= target.valid_to:
            raise ValidationFailed(
                "version.start_after_end",
                "更正后的开始日期不能晚于结束日期",
                "The corrected start date must be before the end date",
                {"field": kind.start_attribute, "valid_to": target.valid_to.isoformat()},
            )
    row = _new_row(
        kind,
        entity,
        attrs,
        version=version,
        valid_from=start,
        valid_to=target.valid_to,
        change="correct",
        reason=reason,
        prov=prov,
        actor_id=actor_id,
        now=now,
        corrects=target.row_id,
    )
    session.add(row)
    session.flush()
    return row


def retire(
    session: Session,
    kind: Kind,
    entity: Any,
    *,
    expected_version: int,
    effective: dt.date,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str,
    changes: dict[str, Any] | None = None,
) -> Any:
    """End the object's validity at `effective` (readable as of earlier dates); `changes` record why."""
    version = bump_version(session, kind, entity.id, expected_version)
    cur = open_row(session, kind, entity.id)
    if cur is None:
        raise retired(kind, entity.id)
    if effective < cur.valid_from:
        raise retire_before_current(cur.valid_from)
    cur.superseded_at = now
    row = _new_row(
        kind,
        entity,
        {**attributes_of(kind, cur), **(changes or {})},
        version=version,
        valid_from=cur.valid_from,
        valid_to=effective,
        change="retire",
        reason=reason,
        prov=prov,
        actor_id=actor_id,
        now=now,
        replaces=cur.row_id,
    )
    session.add(row)
    session.flush()
    return row


# ---- bulk changes ------------------------------------------------------------------------------------------------

# Entities per statement of the bulk helpers (well below SQLite's and PostgreSQL's bound-parameter limits).
BULK_CHUNK = 5000


@dataclass(frozen=True)
class PlannedChange:
    """One entity's change for `change_many`: its open version row as read (`current_rows`) and the new values."""

    entity_id: int
    county_code: str
    expected_version: int
    current: dict[str, Any]
    changes: dict[str, Any]


def _parts(items: list[Any], size: int = BULK_CHUNK) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _dicts(result: Result[Any]) -> Iterator[dict[str, Any]]:
    # The rows as column dicts: one zip with the result's keys, where `dict(row)` of `.mappings()` builds a key
    # view per row (ten times the cost; a bulk approval's staleness check read 1,000 rows so).
    keys = list(result.keys())
    for row in result:
        yield dict(zip(keys, row, strict=True))


def current_rows(session: Session, kind: Kind, entity_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Per entity, its current-knowledge version rows (column name -> value), in one query per 5,000 entities,
    with the identity row's `version`, `area_id` and `county_code` as `entity_version`, `entity_area_id` and
    `entity_county_code` (read in the same statement, so the lock counter matches the rows)."""
    v, e = kind.version.__table__, kind.entity.__table__
    found: dict[int, list[dict[str, Any]]] = {}
    for part in _parts(sorted(set(entity_ids))):
        stmt = (
            select(
                v,
                e.c.version.label("entity_version"),
                e.c.area_id.label("entity_area_id"),
                e.c.county_code.label("entity_county_code"),
            )
            .join(e, e.c.id == v.c.entity_id)
            .where(v.c.entity_id.in_(part), v.c.superseded_at.is_(None))
            .order_by(v.c.entity_id, v.c.valid_from, v.c.row_id)
        )
        for row in _dicts(session.execute(stmt)):
            found.setdefault(int(row["entity_id"]), []).append(row)
    return found


def latest_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Of an entity's current rows, the one `latest_row` answers (the latest valid start, then the latest row)."""
    return max(rows, key=lambda r: (r["valid_from"], r["row_id"]))


def change_rows(
    kind: Kind,
    item: PlannedChange,
    *,
    version: int,
    effective: dt.date,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str | None,
) -> list[dict[str, Any]]:
    """The version rows `change` inserts for one entity, as column dicts: the closed copy of the open row (when
    the change starts after it) and the new open row."""
    cur = item.current
    attrs = {name: cur[name] for name in kind.attributes}

    rows = []
    if effective > cur["valid_from"]:
        # The values keep their own source and collector, as in `change`.
        kept = Provenance(cur["source_kind"], cur["source_ref"], cur["evidence"], cur["document_ref"])
        closed = version_meta(
            entity_id=item.entity_id,
            county=item.county_code,
            valid_from=cur["valid_from"],
            valid_to=effective,
            now=now,
            prov=kept,
            actor_id=cur["actor_id"],
            version=version,
            change="close",
            reason=reason,
            replaces=cur["row_id"],
        )
        rows.append({**closed, **attrs})
    new = version_meta(
        entity_id=item.entity_id,
        county=item.county_code,
        valid_from=effective,
        valid_to=None,
        now=now,
        prov=prov,
        actor_id=actor_id,
        version=version,
        change="change",
        reason=reason,
        replaces=cur["row_id"],
    )
    rows.append({**new, **attrs, **item.changes})
    return rows


def change_many(
    session: Session,
    kind: Kind,
    items: list[PlannedChange],
    *,
    effective: dt.date,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str | None = None,
) -> dict[int, int]:
    """`change` for many entities at once, with the same rows and the same guarantees: the lock counters are
    bumped in one UPDATE per 5,000 entities and any that moved since `expected_version` refuse the whole call
    (409 `version.stale`, nothing kept once the caller rolls back); the open rows are closed in record time in one
    UPDATE; the closed copies and new rows are inserted with one bulk insert. Each entity at most once.
    Returns entity id -> new version. ORM objects of the session are expired afterwards (they may be stale)."""
    if not items:
        return {}
    if len({i.entity_id for i in items}) != len(items):
        raise ValueError("change_many takes each entity once")
    for item in items:
        if item.current["valid_to"] is not None or item.current["superseded_at"] is not None:
            raise retired(kind, item.entity_id)
        try:
            check_change_date(item.current["valid_from"], effective)
        except ValidationFailed as exc:
            data = {**exc.data, "id": item.entity_id}
            raise ValidationFailed(exc.code, exc.message_zh, exc.message_en, data) from None
    session.flush()
    expected = {i.entity_id: i.expected_version for i in items}
    versions = bump_versions(session, kind, dict.fromkeys(expected, 1))
    for entity_id, want in expected.items():
        check_bumped(kind, entity_id, want, versions.get(entity_id))
    row_ids = [i.current["row_id"] for i in items]
    closed = supersede(session, kind, row_ids, now)
    if len(closed) != len(row_ids):
        raise Conflict(
            "version.stale",
            "记录已被他人修改，请刷新后重试",
            "The record was changed by someone else; reload and try again",
            {"rows": len(row_ids), "closed": len(closed)},
        )
    rows = [
        r
        for item in items
        for r in change_rows(
            kind,
            item,
            version=versions[item.entity_id],
            effective=effective,
            prov=prov,
            actor_id=actor_id,
            now=now,
            reason=reason,
        )
    ]
    insert_rows(session, kind, rows)
    session.expire_all()
    return versions


def bump_versions(session: Session, kind: Kind, steps: dict[int, int]) -> dict[int, int]:
    """`bump_version` for many entities: advance each entity's lock counter by its step (entity id -> step), in
    one UPDATE … RETURNING per 5,000 entities of the same step. Returns entity id -> the counter now (an entity
    that does not exist is missing); the caller compares them with what it read (`check_bumped`)."""
    entity_cls = kind.entity
    versions: dict[int, int] = {}
    for step in sorted(set(steps.values())):
        for part in _parts([entity_id for entity_id, n in steps.items() if n == step]):
            bumped = session.execute(
                update(entity_cls)
                .where(entity_cls.id.in_(part))
                .values(version=entity_cls.version + step)
                .returning(entity_cls.id, entity_cls.version)
                .execution_options(synchronize_session=False)
            ).all()
            versions.update({int(i): int(n) for i, n in bumped})
    return versions


def check_bumped(kind: Kind, entity_id: int, expected: int, got: int | None, step: int = 1) -> int:
    """The refusals of `bump_version` after `bump_versions`: 404 when the entity is gone, 409 `version.stale` when
    its counter was not `expected` (someone wrote it since it was read). Returns the new version."""
    if got is None:
        raise not_found(kind, entity_id)
    if got != expected + step:
        raise Conflict(
            "version.stale",
            "记录已被他人修改，请刷新后重试",
            "The record was changed by someone else; reload and try again",
            {"id": entity_id, "expected_version": expected, "current_version": got - step},
        )
    return got


def supersede(session: Session, kind: Kind, row_ids: list[int], now: dt.datetime) -> set[int]:
    """Close current version rows in record time at `now` (one UPDATE per 5,000 rows); returns the rows it closed
    (a row already superseded is not among them)."""
    version_cls = kind.version
    closed: set[int] = set()
    for part in _parts(row_ids):
        done = session.execute(
            update(version_cls)
            .where(version_cls.row_id.in_(part), version_cls.superseded_at.is_(None))
            .values(superseded_at=now)
            .returning(version_cls.row_id)
            .execution_options(synchronize_session=False)
        ).scalars()
        closed.update(int(r) for r in done)
    return closed


def insert_rows(session: Session, kind: Kind, rows: list[dict[str, Any]]) -> None:
    """Insert version rows given as column dicts (all with the same keys) with the bulk writer, with the
    Python-side defaults the ORM would compute."""
    if not rows:
        return
    _fill_defaults(kind.version.__table__, rows)
    bulk_insert(session, kind.version, rows)


def open_rows_of(
    session: Session, kind: Kind, owner: str, owner_ids: list[int], *, extra: tuple[str, ...] = ()
) -> dict[int, list[dict[str, Any]]]:
    """Per owner (the value of the identity column `owner`, e.g. the `person_id` of residences), the open
    current-knowledge version rows of its entities in entity id order, as column dicts with the identity row's
    `version` and `county_code` as `entity_version` and `entity_county_code` and the identity columns `extra`
    under their own names; one query per 5,000 owners."""
    v, e = kind.version.__table__, kind.entity.__table__
    found: dict[int, list[dict[str, Any]]] = {}
    for part in _parts(sorted(set(owner_ids))):
        stmt = (
            select(
                v,
                e.c[owner].label("entity_owner"),
                e.c.version.label("entity_version"),
                e.c.county_code.label("entity_county_code"),
                *(e.c[name] for name in extra),
            )
            .join(e, e.c.id == v.c.entity_id)
            .where(e.c[owner].in_(part), v.c.superseded_at.is_(None), v.c.valid_to.is_(None))
            .order_by(e.c[owner], e.c.id)
        )
        for row in _dicts(session.execute(stmt)):
            found.setdefault(int(row["entity_owner"]), []).append(row)
    return found


def retire_row(
    kind: Kind,
    entity_id: int,
    county_code: str,
    current: dict[str, Any],
    *,
    version: int,
    effective: dt.date,
    prov: Provenance,
    actor_id: int | None,
    now: dt.datetime,
    reason: str,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The version row `retire` inserts for one entity, as a column dict: the open row `current` (as read)
    closed at `effective`, with `changes` recording why."""
    meta = version_meta(
        entity_id=entity_id,
        county=county_code,
        valid_from=current["valid_from"],
        valid_to=effective,
        now=now,
        prov=prov,
        actor_id=actor_id,
        version=version,
        change="retire",
        reason=reason,
        replaces=current["row_id"],
    )
    return {**meta, **{name: current[name] for name in kind.attributes}, **(changes or {})}


class _InsertParameters:
    """What a Python-side column default sees of the row being inserted (`context.get_current_parameters()`)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self._row = row

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self._row


def _fill_defaults(table: Any, rows: list[dict[str, Any]]) -> None:
    """Compute the Python-side column defaults an ORM insert would (e.g. keys derived from other columns): a bulk
    insert bypasses them. Columns without one are left to the database, as with the ORM."""
    for column in table.columns:
        default = column.default
        if default is None or column.primary_key or column.name in rows[0]:
            continue
        for row in rows:
            if default.is_callable:
                row[column.name] = default.arg(_InsertParameters(row))
            elif default.is_scalar:
                row[column.name] = default.arg
            else:
                raise ValueError(f"unsupported default on {table.name}.{column.name}")
