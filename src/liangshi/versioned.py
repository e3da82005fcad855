"""The shape of a versioned registry table: identity and version mixins, attribute flags, the Kind descriptor.

Ground floor: domain `models.py` files build their tables and describe their kinds with these, without
importing the registry (which imports the area tables for jurisdiction). What the columns mean and how they are
written is the registry's business: see `liangshi.registry.history`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Date, FetchedValue, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.sealed import SealedText


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
    """One immutable version row of an entity (see `liangshi.registry.history`)."""

    __entity_table__: ClassVar[str]

    row_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The writing transaction, filled by the database's column default so that every writer (ORM, executemany,
    # COPY) gets it without naming it: pg_current_xact_id() on PostgreSQL, 0 on SQLite (its writers are serialised,
    # so row ids already grow in commit order). The department feed orders rows by (xact_id, row_id).
    xact_id: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
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
            Index(f"ix_{table}_feed", "xact_id", "row_id"),
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


class ChangeSet(Base):
    """A proposal not yet a registry fact (变更集): what a collector, a department or another unit proposes, held
    with its evidence and source until its owner approves it (see `liangshi.registry.changesets`).

    `items` is the proposal as plain, kind-generic data (JSON): new rows, changed fields with the version they were
    made against, retirements. `payload` is what the proposer typed (the form a returned set is fixed in).
    """

    __tablename__ = "change_sets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"))
    # The area's path, kept here so the desk of a jurisdiction is one index range (no join per row).
    area_path: Mapped[str] = mapped_column(String(255))
    flow: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(String(200))
    tags: Mapped[str] = mapped_column(String(200), default="")
    subject_person_id: Mapped[int | None] = mapped_column(BigId)
    # Encrypted at rest (issue 18): proposals carry ID and phone numbers.
    items: Mapped[str] = mapped_column(SealedText("change_set.items"))
    payload: Mapped[str | None] = mapped_column(SealedText("change_set.payload"))
    source_kind: Mapped[str] = mapped_column(String(12))
    evidence: Mapped[str] = mapped_column(String(10))
    document_ref: Mapped[str | None] = mapped_column(String(200))
    proposer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    proposer: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    needs_district: Mapped[bool] = mapped_column(Boolean, default=False)
    round: Mapped[int] = mapped_column(Integer, default=1)
    proposed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    station_reviewer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    station_reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    district_reviewer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    district_reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    returned_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    returned_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # What the approval wrote: kind -> entity ids (JSON).
    result: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_change_sets_desk", "status", "area_path"),
        # The desk's page in its order (oldest first) from the index alone: the page's ids without the rows.
        Index("ix_change_sets_desk_order", "status", "proposed_at", "id", "area_path"),
    )
