"""audit log as a transparency log: leaf hashes and indexes, the Merkle tree's nodes, signed tree heads

Revision ID: 0018
Revises: 0011
Create Date: 2026-12-02 06:00:00

The hash chain (prev_hash, hash; extended under one database-wide lock) gives way to RFC 6962 leaves: each entry
keeps its leaf hash, written with it; the sequencer gives it its leaf index. Existing entries get their leaf hash
here and join the tree, in seq order, on the sequencer's first run.
"""

import datetime as dt
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liangshi.db

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_FIELDS = (
    "seq", "at", "actor_id", "actor_name", "action", "object_kind", "object_id", "subject_person_id", "purpose",
    "detail",
)  # fmt: skip


def _log(*extra: sa.Column) -> sa.Table:  # type: ignore[type-arg]
    return sa.Table(
        "audit_log",
        sa.MetaData(),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("at", liangshi.db.UtcDateTime()),
        sa.Column("actor_id", _ID),
        sa.Column("actor_name", sa.String(50)),
        sa.Column("action", sa.String(40)),
        sa.Column("object_kind", sa.String(20)),
        sa.Column("object_id", _ID),
        sa.Column("subject_person_id", _ID),
        sa.Column("purpose", sa.String(200)),
        sa.Column("detail", sa.Text()),
        *extra,
    )


def _rows(conn: sa.Connection, table: sa.Table, batch: int = 5000):  # type: ignore[no-untyped-def]
    after = 0
    while True:
        rows = conn.execute(
            sa.select(table).where(table.c.seq > after).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].seq


def upgrade() -> None:
    from liangshi.audit import rules

    conn = op.get_bind()
    # No table rebuild (import_audit_entries refers to audit_log): columns are added and dropped in place; SQLite
    # adds a NOT NULL column only with a default, filled right below.
    op.add_column(
        "audit_log", sa.Column("leaf_hash", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column("audit_log", sa.Column("leaf_index", sa.BigInteger(), nullable=True))
    log = _log(sa.Column("leaf_hash", sa.String(64)))
    for rows in _rows(conn, log):
        values = []
        for row in rows:
            fields = {name: getattr(row, name) for name in _FIELDS}
            fields["at"] = fields["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
            values.append({"k": row.seq, "h": rules.leaf_hash(rules.entry_payload(**fields)).hex()})
        conn.execute(
            sa.update(log).where(log.c.seq == sa.bindparam("k")).values(leaf_hash=sa.bindparam("h")), values
        )
    if conn.dialect.name == "postgresql":
        op.alter_column("audit_log", "leaf_hash", server_default=None)
    op.execute("ALTER TABLE audit_log DROP COLUMN prev_hash")
    op.execute("ALTER TABLE audit_log DROP COLUMN hash")
    op.create_index("ix_audit_log_leaf_index", "audit_log", ["leaf_index"], unique=True)
    op.create_index(
        "ix_audit_log_unsequenced",
        "audit_log",
        ["seq"],
        unique=False,
        postgresql_where=sa.text("leaf_index IS NULL"),
        sqlite_where=sa.text("leaf_index IS NULL"),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_audit_tree_nodes")),
    )
    op.create_table(
        "audit_tree_heads",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_tree_heads")),
    )
    if conn.dialect.name == "postgresql":
        # Writers draw entry ids from a sequence: no lock, no max(seq) read.
        start = conn.execute(sa.text("SELECT coalesce(max(seq), 0) + 1 FROM audit_log")).scalar_one()
        op.execute(f"CREATE SEQUENCE audit_entry_ids START WITH {int(start)}")


def downgrade() -> None:
    import hashlib

    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS audit_entry_ids")
    op.drop_table("audit_tree_heads")
    op.drop_table("audit_tree_nodes")
    op.drop_index("ix_audit_log_unsequenced", table_name="audit_log")
    op.drop_index("ix_audit_log_leaf_index", table_name="audit_log")
    op.execute("ALTER TABLE audit_log DROP COLUMN leaf_index")
    op.execute("ALTER TABLE audit_log DROP COLUMN leaf_hash")
    op.add_column(
        "audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
    # The chain of revision 0001 again, in seq order (its formula: SHA-256 over the fields and the previous hash).
    log = _log(sa.Column("prev_hash", sa.String(64)), sa.Column("hash", sa.String(64)))
    prev = "0" * 64
    for rows in _rows(conn, log):
        values = []
        for row in rows:
            fields = [getattr(row, name) for name in _FIELDS]
            fields[1] = fields[1].astimezone(dt.UTC).isoformat(timespec="microseconds")
            payload = json.dumps([*fields, prev], ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
            values.append({"k": row.seq, "p": prev, "h": digest})
            prev = digest
        conn.execute(
            sa.update(log)
            .where(log.c.seq == sa.bindparam("k"))
            .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")),
            values,
        )
    if conn.dialect.name == "postgresql":
        op.alter_column("audit_log", "prev_hash", server_default=None)
        op.alter_column("audit_log", "hash", server_default=None)
