"""Area tables: identity with hierarchy path, name versions, historic codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.versioned import Kind, VersionMixin

LEVELS = (
    "province",
    "city",
    "district",
    "subdistrict",
    "town",
    "township",
    "community",
    "village",
    "group",
    "grid",
)


class Area(Base):
    """An administrative area; `path` lists ancestor ids (`/1/4/9/`) so a jurisdiction is a prefix."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    level: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    @property
    def area_id(self) -> int:
        """An area's jurisdiction is itself."""
        return self.id


class AreaVersion(VersionMixin, Base):
    """Versioned name of an area."""

    __tablename__ = "area_versions"
    __entity_table__ = "areas"

    name: Mapped[str] = mapped_column(String(100))


class AreaCode(Base):
    """A code an area had or has (GB/T 2260 six digits or the 12-digit statistics code), with validity."""

    __tablename__ = "area_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    code: Mapped[str] = mapped_column(String(15))
    scheme: Mapped[str] = mapped_column(String(10))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_area_codes_code", "code"),)


# ---- kinds: how the registry describes these tables ----


AREA = Kind("area", Area, AreaVersion, ("name",), "区划", "Area")


class AreaEpoch(Base):
    """One row whose token the triggers on `areas`, `area_versions` and `area_codes` replace with a random one on
    every write (migration 0055), committed or rolled back with it: a process's cached lineages
    (`areas.service.cached_lineages`) are those of the database while the token it read them under is current."""

    __tablename__ = "area_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40))
