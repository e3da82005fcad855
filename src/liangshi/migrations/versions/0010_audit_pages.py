"""import batches point at their chunks' audit entries (a person's access log finds the import that created them)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    index = op.create_table(
        "import_audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("object_kind", sa.String(length=20), nullable=False),
        sa.Column("first_id", _ID, nullable=False),
        sa.Column("last_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_import_audit_entries_batch_id_import_batches")
        ),
        sa.ForeignKeyConstraint(
            ["seq"], ["audit_log.seq"], name=op.f("fk_import_audit_entries_seq_audit_log")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_import_audit_entries")),
    )
    with op.batch_alter_table("import_audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_audit_entries_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_import_audit_entries_kind_range", ["object_kind", "last_id", "first_id"], unique=False
        )
    _backfill(index)


def _backfill(index: sa.Table) -> None:
    """Index the chunk entries of the imports made before this revision (detail: batch, count, ids)."""
    conn = op.get_bind()
    batches = {row[0] for row in conn.execute(sa.text("SELECT id FROM import_batches"))}
    after = 0
    while batches:
        found = conn.execute(
            sa.text(
                "SELECT seq, object_kind, detail FROM audit_log WHERE seq > :after AND object_id IS NULL"
                " AND purpose LIKE 'import batch %' AND action LIKE '%.create' ORDER BY seq LIMIT 500"
            ),
            {"after": after},
        ).all()
        if not found:
            return
        rows = []
        for seq, kind, detail in found:
            data = json.loads(detail)
            ids = data.get("ids") if isinstance(data, dict) else None
            if kind and ids and data.get("batch") in batches:
                rows.append(
                    {
                        "seq": seq,
                        "batch_id": data["batch"],
                        "object_kind": kind,
                        "first_id": min(ids),
                        "last_id": max(ids),
                    }
                )
        if rows:
            op.bulk_insert(index, rows)
        after = found[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("import_audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_import_audit_entries_kind_range")
        batch_op.drop_index(batch_op.f("ix_import_audit_entries_batch_id"))

    op.drop_table("import_audit_entries")
