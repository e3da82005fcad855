"""Import batch table, and the index from a batch to the audit entries its chunks wrote."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime


class ImportBatch(Base):
    """One run of an import: what file, from whom, and what became of its rows."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(30))
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(12))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_existing: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)


class ImportAuditEntry(Base):
    """An audit entry in which a chunk of a batch recorded the objects of one kind it created, with their id range.

    The audit entry lists the ids (detail "ids"); this row, one per entry, lets a person's access log find the
    entries that created the person's objects without reading every chunk entry: only an entry whose range holds
    one of the person's object ids can list it.
    """

    __tablename__ = "import_audit_entries"
    __table_args__ = (Index("ix_import_audit_entries_kind_range", "object_kind", "last_id", "first_id"),)

    seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("audit_log.seq"), primary_key=True, autoincrement=False
    )
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("import_batches.id"), index=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    first_id: Mapped[int] = mapped_column(BigId)
    last_id: Mapped[int] = mapped_column(BigId)
