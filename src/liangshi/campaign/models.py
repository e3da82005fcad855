"""Visit tables: one row per door-to-door visit of a dwelling, and the persons confirmed at it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
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


class VisitPerson(Base):
    """A person the collector confirmed in person at a visit (the basis of head accuracy, 人头准确率)."""

    __tablename__ = "visit_persons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[int] = mapped_column(BigId, ForeignKey("visits.id"), index=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
