"""Rental and tenant tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId
from liangshi.versioned import EntityMixin, Kind, VersionMixin


class Rental(EntityMixin, Base):
    """A rented dwelling; jurisdiction and county come from the dwelling."""

    __tablename__ = "rentals"

    dwelling_id: Mapped[int] = mapped_column(BigId, ForeignKey("dwellings.id"), index=True)


class RentalVersion(VersionMixin, Base):
    """Versioned rental facts: landlord, use, rent, lease, filing number, agreement, status."""

    __tablename__ = "rental_versions"
    __entity_table__ = "rentals"

    landlord_person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    use: Mapped[str] = mapped_column(String(12))
    rooms: Mapped[int | None] = mapped_column(Integer)
    monthly_rent: Mapped[float | None] = mapped_column(Float)
    lease_start: Mapped[dt.date] = mapped_column(Date)
    lease_end: Mapped[dt.date | None] = mapped_column(Date)
    filing_number: Mapped[str | None] = mapped_column(String(30))
    agreement_signed_on: Mapped[dt.date | None] = mapped_column(Date)
    agreement_signer: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(8))

    @classmethod
    def __extra_indexes__(cls) -> tuple[Any, ...]:
        current = text("superseded_at IS NULL AND valid_to IS NULL")
        return (
            Index(
                "uq_rental_versions_filing_current",
                "filing_number",
                unique=True,
                sqlite_where=current,
                postgresql_where=current,
            ),
        )


class RentalTenant(EntityMixin, Base):
    """A tenant of a rental, linked to their residence at the rented dwelling."""

    __tablename__ = "rental_tenants"

    rental_id: Mapped[int] = mapped_column(BigId, ForeignKey("rentals.id"), index=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    residence_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("residences.id"), index=True)


class RentalTenantVersion(VersionMixin, Base):
    """Versioned tenant link: valid from moving in under the lease until it ends."""

    __tablename__ = "rental_tenant_versions"
    __entity_table__ = "rental_tenants"

    is_primary: Mapped[bool] = mapped_column(Boolean)


# ---- kinds: how the registry describes these tables ----


RENTAL = Kind(
    "rental",
    Rental,
    RentalVersion,
    (
        "landlord_person_id",
        "use",
        "rooms",
        "monthly_rent",
        "lease_start",
        "lease_end",
        "filing_number",
        "agreement_signed_on",
        "agreement_signer",
        "status",
    ),
    "出租房屋",
    "Rental",
    start_attribute="lease_start",
)


TENANT = Kind("rental_tenant", RentalTenant, RentalTenantVersion, ("is_primary",), "承租人", "Tenant")
