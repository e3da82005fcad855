"""Venue, venue key, stay batch and stay tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.sealed import Sealed, watch
from liangshi.versioned import EntityMixin, Kind, VersionMixin


class Venue(EntityMixin, Base):
    """A hotel or internet café on a door plate; jurisdiction and county come from the plate."""

    __tablename__ = "venues"

    venue_kind: Mapped[str] = mapped_column(String(8))
    address_id: Mapped[int] = mapped_column(BigId, ForeignKey("addresses.id"), index=True)


class VenueVersion(VersionMixin, Base):
    """Versioned venue facts: name, business licence number, status (open / closed)."""

    __tablename__ = "venue_versions"
    __entity_table__ = "venues"

    name: Mapped[str] = mapped_column(String(100))
    licence_number: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(8))


class VenueKey(Base):
    """An API credential of a venue: only the SHA-256 of the key is stored; revocable."""

    __tablename__ = "venue_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    venue_id: Mapped[int] = mapped_column(BigId, ForeignKey("venues.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class StayBatch(Base):
    """A processed stay submission with an idempotency key and the summary it answered."""

    __tablename__ = "stay_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    venue_id: Mapped[int] = mapped_column(BigId, ForeignKey("venues.id"))
    key: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    summary: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("venue_id", "key"),)


@watch
class Stay(Base):
    """One guest's stay at a venue (旅店入住 / 网吧上网), as the venue reported it.

    Not a versioned registry object: an event record with a retention limit. `received_at` is when the
    check-in reached the registry (for the real-time registration rate). The guest's document number is sealed
    (AES-GCM, docs/encryption.md): SQL compares `doc_number_idx`, its keyed-hash index, never the number.
    """

    __tablename__ = "stays"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    venue_id: Mapped[int] = mapped_column(BigId, ForeignKey("venues.id"))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"))
    stay_ref: Mapped[str] = mapped_column(String(64))
    doc_type: Mapped[str] = mapped_column(String(24))
    doc_number: Mapped[str] = mapped_column(Sealed("stay.doc_number", index="doc_number_idx"))
    doc_number_idx: Mapped[str | None] = mapped_column(String(64), index=True)
    doc_country: Mapped[str | None] = mapped_column(String(3))
    guest_name: Mapped[str] = mapped_column(String(50))
    person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    check_in_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    check_out_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    foreign: Mapped[bool] = mapped_column(Boolean)
    late_report: Mapped[bool] = mapped_column(Boolean)
    unknown_person: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("venue_id", "stay_ref"),)


# ---- kinds: how the registry describes these tables ----


VENUE = Kind("venue", Venue, VenueVersion, ("name", "licence_number", "status"), "场所", "Venue")
