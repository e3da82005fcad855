"""Check runs, findings (work items) and the department records held for checking."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.sealed import Sealed, SealedText, watch

#: The field of the findings' sealed natural keys; their fingerprint is the keyed hash of the canonical keys under it.
KEYS_FIELD = "check_finding.keys"


class CheckRun(Base):
    """One run of some checks over an area; its findings are merged in the same transaction."""

    __tablename__ = "check_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    checks: Mapped[str] = mapped_column(Text)  # comma-separated check codes
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    found: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)


class Finding(Base):
    """What a check found about one object: natural keys, evidence, and its life as a work item.

    status: open → fixed (a later run no longer finds it) | dismissed (with a reason; stays dismissed).
    """

    __tablename__ = "check_findings"
    __table_args__ = (
        UniqueConstraint("check_code", "fingerprint"),
        Index("ix_check_findings_status_check", "status", "check_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    check_code: Mapped[str] = mapped_column(String(50))
    # The keyed hash of the canonical natural keys (`checks.service.run.fingerprint`): how a re-run recognises
    # the finding, revealing nothing without the index key (the keys name persons by their ID numbers).
    fingerprint: Mapped[str] = mapped_column(String(400))
    object_kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(BigId)
    # Sealed (docs/encryption.md): the natural keys and the evidence (JSON) carry ID numbers (a person's, a
    # tenant's, a landlord's); read through the model, never compared in SQL.
    keys: Mapped[str] = mapped_column(SealedText(KEYS_FIELD))
    evidence: Mapped[str] = mapped_column(SealedText("check_finding.evidence"))
    status: Mapped[str] = mapped_column(String(10))
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    owner: Mapped[str] = mapped_column(String(30))
    first_run_id: Mapped[int] = mapped_column(BigId, ForeignKey("check_runs.id"))
    last_run_id: Mapped[int] = mapped_column(BigId, ForeignKey("check_runs.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    dismissed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    dismiss_reason: Mapped[str | None] = mapped_column(Text)


@watch
class SourceRecord(Base):
    """A row of a department's file held as sent, so checks can compare the register with it (核查比对).

    One row per object named (a rental with two tenants is two rows); loading a source again replaces its rows.
    """

    __tablename__ = "check_source_records"
    __table_args__ = (
        Index("ix_check_source_records_source_kind", "source", "kind"),
        # How the checks find the department's record of a register dwelling or plate.
        Index("ix_check_source_records_place", "community_code", "base_number", "room"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # dwellings / persons / rentals
    line: Mapped[int] = mapped_column(Integer)
    community_code: Mapped[str | None] = mapped_column(String(15))
    street: Mapped[str | None] = mapped_column(String(60))
    number: Mapped[str | None] = mapped_column(String(20))  # as written
    base_number: Mapped[int | None] = mapped_column(Integer)
    sub_number: Mapped[int | None] = mapped_column(Integer)
    building: Mapped[str | None] = mapped_column(String(30))
    unit: Mapped[str | None] = mapped_column(String(10))
    room: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(12))
    use: Mapped[str | None] = mapped_column(String(20))
    doc_type: Mapped[str | None] = mapped_column(String(24))
    # Sealed (docs/encryption.md): the number as the file wrote it, and its normalised form, which the checks
    # match with the register's documents in SQL: its index is computed under the documents' field name
    # (`document.number`), so `id_norm_idx` joins `document_versions.number_idx`.
    id_number: Mapped[str | None] = mapped_column(Sealed("check_source.id_number"))
    id_norm: Mapped[str | None] = mapped_column(
        Sealed("check_source.id_norm", index="id_norm_idx", index_field="document.number")
    )
    id_norm_idx: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(50))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    # Sealed (docs/encryption.md): SQL compares `landlord_id_number_idx`, the keyed-hash index, never the number.
    landlord_id_number: Mapped[str | None] = mapped_column(
        Sealed("check_source.landlord_id_number", index="landlord_id_number_idx")
    )
    landlord_id_number_idx: Mapped[str | None] = mapped_column(String(64), index=True)
    agreement_signed: Mapped[str | None] = mapped_column(String(5))
    area_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
