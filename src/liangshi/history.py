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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.errors import Conflict, NotFound, ValidationFailed

SOURCE_KINDS = ("collector", "department", "venue", "system", "import")
EVIDENCE_KINDS = ("observed", "document")
CHANGE_KINDS = ("create", "change", "close", "correct", "retire")


@dataclass(frozen=True)
class Provenance:
    """Where a value came from: 谁采集、谁录入、谁负责."""

    source_kind: str = "collector"
    source_ref: str | None = None
    evidence: str = "observed"
    document_ref: str | None = None

    def __post_init__(self) -> None:
        if self.source_kind not in SOURCE_KINDS:
            raise ValidationFailed(
                "provenance.source_unknown",
                "来源类型无效",
                "Unknown source kind",
                {"field": "source_kind", "allowed": list(SOURCE_KINDS)},
            )
        if self.evidence not in EVIDENCE_KINDS:
            raise ValidationFailed(
                "provenance.evidence_unknown",
                "依据类型无效",
                "Unknown evidence kind",
                {"field": "evidence", "allowed": list(EVIDENCE_KINDS)},
            )


class EntityMixin:
    """Identity row of a registry object: never deleted, carries jurisdiction and the lock counter."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    @declared_attr
    def area_id(cls) -> Mapped[int]:
        return mapped_column(BigId, ForeignKey("areas.id"), index=True)


class VersionMixin:
    """One immutable version row of an entity (see module docstring)."""

    __entity_table__: ClassVar[str]

    row_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    change: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String(12))
    source_ref: Mapped[str | None] = mapped_column(String(100))
    evidence: Mapped[str] = mapped_column(String(10))
    document_ref: Mapped[str | None] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(6), index=True)

    @declared_attr
    def entity_id(cls) -> Mapped[int]:
        return mapped_column(BigId, ForeignKey(f"{cls.__entity_table__}.id"))

    @declared_attr
    def actor_id(cls) -> Mapped[int | None]:
        return mapped_column(BigId, ForeignKey("users.id"))

    @declared_attr
    def corrects_row_id(cls) -> Mapped[int | None]:
        return mapped_column(BigId, ForeignKey(f"{cls.__tablename__}.row_id"))  # type: ignore[attr-defined]

    @declared_attr
    def replaces_row_id(cls) -> Mapped[int | None]:
        return mapped_column(BigId, ForeignKey(f"{cls.__tablename__}.row_id"))  # type: ignore[attr-defined]

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        table: str = cls.__tablename__  # type: ignore[attr-defined]
        return (
            Index(f"ix_{table}_entity_record", "entity_id", "superseded_at"),
            *cls.__extra_indexes__(),
        )

    @classmethod
    def __extra_indexes__(cls) -> tuple[Any, ...]:
        return ()


class AttributeFlag(Base):
    """An attribute flagged 'under investigation' (存疑待查) with a reason; the value itself is unchanged."""

    __tablename__ = "attribute_flags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(BigId)
    attribute: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    county_code: Mapped[str] = mapped_column(String(6), index=True)

    __table_args__ = (Index("ix_attribute_flags_object", "object_kind", "object_id"),)


E = TypeVar("E", bound=EntityMixin)
V = TypeVar("V", bound=VersionMixin)


@dataclass(frozen=True)
class Kind:
    """A registry object kind: its identity table, version table and versioned attribute names."""

    name: str
    entity: type[Any]
    version: type[Any]
    attributes: tuple[str, ...]
    label_zh: str
    label_en: str
    # Extra visibility beyond the entity's own area (a person is also visible where they live).
    also_visible: Callable[[Any], ColumnElement[bool]] | None = None
    # Whether what `also_visible` shows may also be changed (a person where they live: yes; a street: no).
    write_where_visible: bool = False
    # The attribute whose date starts the object's validity (a residence is valid from its arrival date):
    # correcting it moves the start of the first version.
    start_attribute: str | None = None


def current_condition(version_cls: type[Any]) -> ColumnElement[bool]:
    """Rows of current knowledge (not superseded in record time)."""
    return version_cls.superseded_at.is_(None)  # type: ignore[no-any-return]


def valid_on(version_cls: type[Any], on: dt.date) -> ColumnElement[bool]:
    """Rows whose valid interval contains `on`."""
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
    return kind.version(
        entity_id=entity.id,
        version=version,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_at=now,
        superseded_at=None,
        change=change,
        reason=reason,
        source_kind=prov.source_kind,
        source_ref=prov.source_ref,
        evidence=prov.evidence,
        document_ref=prov.document_ref,
        county_code=entity.county_code,
        actor_id=actor_id,
        corrects_row_id=corrects,
        replaces_row_id=replaces,
        **attrs,
    )


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


def _retired(kind: Kind, entity_id: int) -> Conflict:
    return Conflict(
        f"{kind.name}.retired",
        f"该{kind.label_zh}已注销，不能再修改",
        f"The {kind.label_en.lower()} is retired and cannot be changed",
        {"id": entity_id},
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
        raise _retired(kind, entity.id)
    if effective < cur.valid_from:
        raise ValidationFailed(
            "version.change_before_current",
            "变更日期早于当前版本的生效日期，请改用更正",
            "The change date is before the current version's start; use a correction instead",
            {"field": "effective", "current_valid_from": cur.valid_from.isoformat()},
        )
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
        raise _retired(kind, entity.id)
    if effective < cur.valid_from:
        raise ValidationFailed(
            "version.change_before_current",
            "注销日期早于当前版本的生效日期",
            "The retirement date is before the current version's start",
            {"field": "effective", "current_valid_from": cur.valid_from.isoformat()},
        )
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
