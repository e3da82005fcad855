"""Department, agreement, batch, conflict, feedback and exchange-log tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime
from liangshi.sealed import SealedText


class Department(Base):
    """A partner department (卫生, 司法, 民政 …) that sends records in and reads what its agreement allows."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class Agreement(Base):
    """A sharing agreement: per object kind and field what the department provides and may read, and why."""

    __tablename__ = "department_agreements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    department_id: Mapped[int] = mapped_column(BigId, ForeignKey("departments.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    aggregates_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # A batch under this agreement is accepted or refused as a whole; otherwise (the default) a bad row is
    # reported (line, field, code) and the good rows are kept (issue 15).
    all_or_nothing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # JSON objects {kind: [field, ...]}, validated against the registry's kinds when the agreement is loaded.
    provides: Mapped[str] = mapped_column(Text)
    reads: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class DepartmentBatch(Base):
    """One feed from a department: accepted (what it matched, applied and disputed) or refused as a whole
    (`status` refused, nothing applied, `report` says why: the refusal's code and messages and its rows' problems,
    as JSON). A batch refused for want of an agreement in force names none."""

    __tablename__ = "department_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    department_id: Mapped[int] = mapped_column(BigId, ForeignKey("departments.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("department_agreements.id"))
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_matched: Mapped[int] = mapped_column(Integer, default=0)
    rows_unmatched: Mapped[int] = mapped_column(Integer, default=0)
    values_applied: Mapped[int] = mapped_column(Integer, default=0)
    values_same: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(10), default="accepted", server_default="accepted")
    report: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(50))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ExchangeConflict(Base):
    """A department value that disagrees with the register's current value, waiting for a decision."""

    __tablename__ = "exchange_conflicts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(BigId)
    field: Mapped[str] = mapped_column(String(50))
    # Encrypted at rest (issue 18): the values of any field, phone and ID numbers among them.
    register_value: Mapped[str | None] = mapped_column(SealedText("exchange_conflict.register_value"))
    department_value: Mapped[str | None] = mapped_column(SealedText("exchange_conflict.department_value"))
    department: Mapped[str] = mapped_column(String(30), index=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("department_batches.id"), index=True)
    line: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)

    __table_args__ = (Index("ix_exchange_conflicts_object", "object_kind", "object_id"),)


class Feedback(Base):
    """A department's doubt about a register value (存疑反馈): the value is flagged until the holder decides."""

    __tablename__ = "department_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    department: Mapped[str] = mapped_column(String(30), index=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(BigId)
    attribute: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    suggested_value: Mapped[str | None] = mapped_column(SealedText("feedback.suggested_value"))
    flag_id: Mapped[int] = mapped_column(BigId, ForeignKey("attribute_flags.id"))
    filed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    pickup_due: Mapped[dt.date] = mapped_column(Date)
    decision_due: Mapped[dt.date] = mapped_column(Date)
    picked_up_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    picked_up_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)


class ExchangeLogEntry(Base):
    """One exchange in or out; `hash` covers its fields and the previous entry's hash."""

    __tablename__ = "exchange_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    direction: Mapped[str] = mapped_column(String(3))
    department: Mapped[str] = mapped_column(String(30), index=True)
    agreement_id: Mapped[int | None] = mapped_column(BigId)
    operation: Mapped[str] = mapped_column(String(20))
    object_kinds: Mapped[str] = mapped_column(String(200))
    row_count: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_name: Mapped[str] = mapped_column(String(50))
    # JSON: the batch id of a feed in, the cursors of a pull (a pull without a cursor resumes from the last one).
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CorrectionCase(Base):
    """A community-correction case from justice (社区矫正, issue 15), one row per version: the case is its
    department, person, kind and start date; a later row for it changing the end date, the office or the community
    closes the current version (`superseded_at`) and adds one. No ID number is kept: the row names the person.
    Read only with `correction.read` (liangshi.access.rules)."""

    __tablename__ = "correction_cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    department: Mapped[str] = mapped_column(String(30))
    case_kind: Mapped[str] = mapped_column(String(2))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    office: Mapped[str] = mapped_column(String(100))
    # The community the case is served in (the sender's 管辖社区), which scopes who sees it.
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("department_batches.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_correction_cases_case", "person_id", "department", "case_kind", "start_date"),
    )
