"""Residence tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId
from liangshi.versioned import EntityMixin, Kind, VersionMixin


class Residence(EntityMixin, Base):
    """A person's residence in a dwelling; a move is a new residence."""

    __tablename__ = "residences"

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(BigId, ForeignKey("dwellings.id"), index=True)


class ResidenceVersion(VersionMixin, Base):
    """Versioned residence facts: category, registration and deregistration."""

    __tablename__ = "residence_versions"
    __entity_table__ = "residences"

    category: Mapped[str] = mapped_column(String(12))
    arrival_date: Mapped[dt.date] = mapped_column(Date)
    registration_date: Mapped[dt.date | None] = mapped_column(Date)
    intended_stay_until: Mapped[dt.date | None] = mapped_column(Date)
    departure_date: Mapped[dt.date | None] = mapped_column(Date)
    deregistration_date: Mapped[dt.date | None] = mapped_column(Date)
    deregistration_reason: Mapped[str | None] = mapped_column(String(20))
    destination: Mapped[str | None] = mapped_column(String(200))
    # 暂住事由 (务工, 经商, 学习培训, 投亲靠友, …): code table `stay_reason`.
    stay_reason: Mapped[str | None] = mapped_column(String(2))

    @classmethod
    def __extra_indexes__(cls) -> tuple[Any, ...]:
        return (Index("ix_residence_versions_arrival", "arrival_date"),)


# ---- kinds: how the registry describes these tables ----


RESIDENCE = Kind(
    "residence",
    Residence,
    ResidenceVersion,
    (
        "category",
        "arrival_date",
        "registration_date",
        "intended_stay_until",
        "departure_date",
        "deregistration_date",
        "deregistration_reason",
        "destination",
        "stay_reason",
    ),
    "居住登记",
    "Residence",
    start_attribute="arrival_date",
)
