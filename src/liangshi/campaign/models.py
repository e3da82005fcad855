"""Visit tables: one row per door-to-door visit of a dwelling, and the persons confirmed at it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime


class Visit(Base):
    """A collector's visit of a dwelling (入户走访) with the occupancy found; saved once per idempotency key."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(BigId, ForeignKey("dwellings.id"), index=True)
    building_id: Mapped[int] = mapped_column(BigId, ForeignKey("buildings.id"), index=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    collector_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(String(500))
    visited_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Paradata (采集过程数据): when the collector opened and saved the form, on which device, and where if allowed.
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    device: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    position_accuracy: Mapped[float | None] = mapped_column(Float)


class VisitPerson(Base):
    """A person the collector confirmed in person at a visit (the basis of head accuracy, 人头准确率)."""

    __tablename__ = "visit_persons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[int] = mapped_column(BigId, ForeignKey("visits.id"), index=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)


class SyncItem(Base):
    """An outbox item a collector's phone sent (离线采集同步), stored once per client UUID with what it produced.

    The content hash makes the UUID idempotent: the same UUID with the same content answers with the first result,
    with different content it is refused. The dwelling versions before and after let a later item of the same
    collector, downloaded at the old version, follow its own changes without a conflict.
    """

    __tablename__ = "sync_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    collector_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    content_hash: Mapped[str] = mapped_column(String(64))
    dwelling_id: Mapped[int] = mapped_column(BigId, ForeignKey("dwellings.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    version_before: Mapped[int] = mapped_column(Integer)
    version_after: Mapped[int] = mapped_column(Integer)
    # Sent as it was despite a conflict (the collector chose "send as is"): the review looks at these first.
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    visit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("visits.id"))
    person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("persons.id"))
    residence_id: Mapped[int | None] = mapped_column(BigId)
    synced_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
