"""Master person index tables: department source records, match reviews and merge/split events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.sealed import Sealed, watch


@watch
class PersonSourceRecord(Base):
    """One record of a source (a department's row) with its normalised linkage fields and the person it is.

    (source, source_record_id) is the natural key: a record sent again is recognised and changes nothing.
    """

    __tablename__ = "person_source_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    source_record_id: Mapped[str] = mapped_column(String(100))
    batch_ref: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(50))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    # Encrypted at rest (issue 18): SQL compares `id_number_idx`, the keyed-hash index, never the number.
    id_number: Mapped[str | None] = mapped_column(Sealed("source_record.id_number", index="id_number_idx"))
    id_number_idx: Mapped[str | None] = mapped_column(String(64), index=True)
    # Encrypted at rest (issue 18); never searched in SQL.
    phone: Mapped[str | None] = mapped_column(Sealed("source_record.phone"))
    address: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    # linked (joined an existing person), new (created a person), review (waiting for a decision),
    # rejected (no person: too little to make one, or its document belongs to someone else).
    status: Mapped[str] = mapped_column(String(10))
    probability: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str | None] = mapped_column(Text)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("source", "source_record_id"),)


class MatchReview(Base):
    """An uncertain pair for a person to decide: a source record (or a register person) against a candidate."""

    __tablename__ = "match_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_record_pk: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("person_source_records.id"), index=True
    )
    # Set instead of the source record when two register persons may be one (`liangshi link persons`).
    left_person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    candidate_person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    # pending → linked (same person) | distinct (different persons) | closed (settled by another decision)
    status: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    link_event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("person_link_events.id"))
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_match_reviews_status_created", "status", "created_at"),)


class PersonLinkEvent(Base):
    """A merge, split or undo: which rows moved between which persons, why, by whom; undoable exactly."""

    __tablename__ = "person_link_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    keep_person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    other_person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    # {"documents": [ids], "memberships": [...], ..., "retired_row_id": n} (JSON)
    moved: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    forced: Mapped[bool] = mapped_column(default=False)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    undoes_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("person_link_events.id"))
    undone_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("person_link_events.id"))
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
