"""Residence permit tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId
from liangshi.versioned import EntityMixin, Kind, VersionMixin


class Permit(EntityMixin, Base):
    """A residence permit issued to a person on the strength of one residence."""

    __tablename__ = "permits"

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    residence_id: Mapped[int] = mapped_column(BigId, ForeignKey("residences.id"), index=True)


class PermitVersion(VersionMixin, Base):
    """Versioned permit facts: number, basis, validity, endorsements, status."""

    __tablename__ = "permit_versions"
    __entity_table__ = "permits"

    permit_number: Mapped[str] = mapped_column(String(30))
    basis: Mapped[str] = mapped_column(String(10))
    basis_detail: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    last_endorsed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))

    @classmethod
    def __extra_indexes__(cls) -> tuple[Any, ...]:
        current = text("superseded_at IS NULL AND valid_to IS NULL")
        return (
            Index(
                "uq_permit_versions_number",
                "permit_number",
                unique=True,
                sqlite_where=current,
                postgresql_where=current,
            ),
        )


# ---- kinds: how the registry describes these tables ----


PERMIT = Kind(
    "permit",
    Permit,
    PermitVersion,
    ("permit_number", "basis", "basis_detail", "issued_on", "valid_until", "last_endorsed_on", "status"),
    "居住证",
    "Residence permit",
)
