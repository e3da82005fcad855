"""Street and door-plate (standard address) tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from liangshi.access.rules import Actor
from liangshi.db import Base, BigId, UtcDateTime
from liangshi.versioned import EntityMixin, Kind, VersionMixin


class Street(EntityMixin, Base):
    """A named street, road or lane in one district (area_id is the district)."""

    __tablename__ = "streets"


class StreetVersion(VersionMixin, Base):
    """Versioned street facts; a rename is a change from its date."""

    __tablename__ = "street_versions"
    __entity_table__ = "streets"

    name: Mapped[str] = mapped_column(String(60), index=True)
    street_type: Mapped[str] = mapped_column(String(10))
    numbering_style: Mapped[str] = mapped_column(String(10))
    start_description: Mapped[str | None] = mapped_column(String(200))
    bearing_deg: Mapped[int | None] = mapped_column(Integer)


class Address(EntityMixin, Base):
    """A door plate and the standard address it carries; area_id is the community or village."""

    __tablename__ = "addresses"

    street_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("streets.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(24), unique=True)


class AddressVersion(VersionMixin, Base):
    """Versioned plate facts: kind, number (base + sub-number), lifecycle status, position."""

    __tablename__ = "address_versions"
    __entity_table__ = "addresses"

    plate_kind: Mapped[str] = mapped_column(String(10))
    base_number: Mapped[int] = mapped_column(Integer)
    sub_number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    # Metres from the street's start along the street: numbers must rise with it (order checks).
    chainage_m: Mapped[float | None] = mapped_column(Float)
    # The side of the street the plate stands on (addresses.rules.STORED_SIDES: left / right from the street's
    # start along its bearing, or odd / even as a collector saw it); filled from the position where not given.
    side: Mapped[str | None] = mapped_column(String(5))


class PlateContact(Base):
    """Who answers for the plates of an area (二维码门牌): the police station's and the grid's name and duty phone,
    never a person's. A plate's QR code carries the contact of its nearest area that has one."""

    __tablename__ = "plate_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), unique=True)
    station_name: Mapped[str] = mapped_column(String(60))
    station_phone: Mapped[str] = mapped_column(String(20))
    grid_name: Mapped[str | None] = mapped_column(String(60))
    grid_phone: Mapped[str | None] = mapped_column(String(20))
    updated_by: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


# ---- kinds: how the registry describes these tables ----


def _street_of_an_enclosing_area(actor: Actor) -> ColumnElement[bool]:
    # A street belongs to a district, yet runs through the communities below it: everyone under that district
    # sees it (names are not personal data); only the district and above may change it.
    enclosing = [int(part) for part in actor.area_path.strip("/").split("/") if part]
    return Street.area_id.in_(enclosing)


STREET = Kind(
    "street",
    Street,
    StreetVersion,
    ("name", "street_type", "numbering_style", "start_description", "bearing_deg"),
    "街路巷",
    "Street",
    also_visible=_street_of_an_enclosing_area,
)


ADDRESS = Kind(
    "address",
    Address,
    AddressVersion,
    ("plate_kind", "base_number", "sub_number", "status", "lon", "lat", "chainage_m", "side"),
    "门楼牌地址",
    "Address",
)
