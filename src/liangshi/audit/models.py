"""Audit log tables: the entries (the leaves), the Merkle tree's stored nodes and its signed heads."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Sequence, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime

# Entry ids on PostgreSQL: writers draw them without any lock (SQLite serialises its writers anyway).
ENTRY_IDS = Sequence("audit_entry_ids", metadata=Base.metadata)


class AuditEntry(Base):
    """One audit entry; `leaf_hash` covers its fields (written with it), `leaf_index` is its place in the tree.

    Writers append entries only; the sequencer gives each committed entry the next leaf index, in one process.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_leaf_index", "leaf_index", unique=True),
        # The sequencer's work list: the entries not yet in the tree.
        Index(
            "ix_audit_log_unsequenced",
            "seq",
            postgresql_where=text("leaf_index IS NULL"),
            sqlite_where=text("leaf_index IS NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_name: Mapped[str] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(40))
    object_kind: Mapped[str | None] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(BigId)
    subject_person_id: Mapped[int | None] = mapped_column(BigId, index=True)
    purpose: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    leaf_index: Mapped[int | None] = mapped_column(BigInteger)


class AuditTreeNode(Base):
    """A perfect subtree's hash: node (level, index) covers leaves [index·2^level, (index+1)·2^level); level ≥ 1."""

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class AuditTreeHead(Base):
    """A signed tree head: the root of the first `tree_size` leaves, signed with Ed25519 by key `key_id`."""

    __tablename__ = "audit_tree_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(100))
