"""Building and dwelling tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId
from liangshi.versioned import EntityMixin, Kind, VersionMixin


class Building(EntityMixin, Base):
    """A building standing on a door plate."""

    __tablename__ = "buildings"

    address_id: Mapped[int] = mapped_column(BigId, ForeignKey("addresses.id"), index=True)


class BuildingVersion(VersionMixin, Base):
    """Versioned building facts."""

    __tablename__ = "building_versions"
    __entity_table__ = "buildings"

    label: Mapped[str] = mapped_column(String(30))
    floors_above: Mapped[int | None] = mapped_column(Integer)
    floors_below: Mapped[int | None] = mapped_column(Integer)
    units: Mapped[int | None] = mapped_column(Integer)
    use: Mapped[str] = mapped_column(String(20))
    structure: Mapped[str | None] = mapped_column(String(20))
    year_built: Mapped[int | None] = mapped_column(Integer)
    # "partly_visited" is 14 characters: 16 leaves room (the column was 12 until migration 0013).
    visit_status: Mapped[str] = mapped_column(String(16))


class Dwelling(EntityMixin, Base):
    """A dwelling (户室) in a building: it has an address through its building's plate."""

    __tablename__ = "dwellings"

    building_id: Mapped[int] = mapped_column(BigId, ForeignKey("buildings.id"), index=True)


class DwellingVersion(VersionMixin, Base):
    """Versioned dwelling facts: position in the building, use, status."""

    __tablename__ = "dwelling_versions"
    __entity_table__ = "dwellings"

    unit: Mapped[int | None] = mapped_column(Integer)
    floor: Mapped[int | None] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(20))
    use: Mapped[str] = mapped_column(String(20))
    floor_area_m2: Mapped[float | None] = mapped_column(Float)
    owner_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12))

    @classmethod
    def __extra_indexes__(cls) -> tuple[Any, ...]:
        # The rented dwellings without a rental (出租房屋登记率) are found from the few rented ones.
        return (Index("ix_dwelling_versions_status", "status"),)


# ---- kinds: how the registry describes these tables ----


BUILDING = Kind(
    "building",
    Building,
    BuildingVersion,
    ("label", "floors_above", "floors_below", "units", "use", "structure", "year_built", "visit_status"),
    "楼栋",
    "Building",
)


DWELLING = Kind(
    "dwelling",
    Dwelling,
    DwellingVersion,
    ("unit", "floor", "room", "use", "floor_area_m2", "owner_name", "status"),
    "房屋",
    "Dwelling",
)
