"""venue guests' document numbers and the housing files' landlord ID numbers encrypted at rest

Revision ID: 0054_seal18
Revises: 0053_recid
Create Date: 2026-12-03 19:00:00

Issue 18, item 4 (等保 level 3): the guests' document numbers of the venue stays (`stays.doc_number`, field
`stay.doc_number`) and the landlords' ID numbers of the housing department's rentals held for the checks
(`check_source_records.landlord_id_number`, field `check_source.landlord_id_number`) are stored as AES-256-GCM
ciphertexts (`liangshi.sealed`) from here on, each with a keyed-hash index (`doc_number_idx`,
`landlord_id_number_idx`, HMAC-SHA256) that SQL compares instead of the number (the follow-up list and the
venue statistics count guests by it). The columns widen to hold a ciphertext; existing values are encrypted in
batches (0051's rewriter: keyset order, values already encrypted skipped, so an interrupted run is simply run
again); the indexes are built after the values.
Downgrade decrypts them again. On SQLite the widening rebuilds the table, which drops its triggers (the KPI
aggregate's): they are read before and created again, as they were, after the rebuild.
"""

import importlib
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from liangshi.sealed import keyring

revision: str = "0054_seal18"
down_revision: str | None = "0053_recid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The batch rewriter and the sealer of 0051 (the same keyset batches, the same skip of sealed values).
_phones = importlib.import_module("liangshi.migrations.versions.0051_sec18_sealed_phones")

# (table, column, clear width, nullable, field, index column)
SEALED = (
    ("stays", "doc_number", 24, False, "stay.doc_number", "doc_number_idx"),
    (
        "check_source_records",
        "landlord_id_number",
        30,
        True,
        "check_source.landlord_id_number",
        "landlord_id_number_idx",
    ),
)


def _keeping_triggers(table: str, alter: Callable[[], None]) -> None:
    """Run `alter`; on SQLite, where a batch alteration rebuilds the table and loses its triggers, create them
    again from their stored definitions."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        alter()
        return
    saved = bind.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}
    ).all()
    alter()
    present = {
        name
        for (name,) in bind.execute(
            sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}
        )
    }
    for name, sql in saved:
        if name not in present:
            bind.execute(sa.text(sql))


def _widen(table: str, column: str, width: int, nullable: bool, index: str) -> None:
    def alter() -> None:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=width),
                type_=sa.String(length=120),
                existing_nullable=nullable,
            )
            batch_op.add_column(sa.Column(index, sa.String(length=64), nullable=True))

    _keeping_triggers(table, alter)


def _narrow(table: str, column: str, width: int, nullable: bool, index: str) -> None:
    def alter() -> None:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{index}"))
            batch_op.drop_column(index)
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=120),
                type_=sa.String(length=width),
                existing_nullable=nullable,
            )

    _keeping_triggers(table, alter)


def upgrade() -> None:
    for table, column, width, nullable, _field, index in SEALED:
        _widen(table, column, width, nullable, index)
    ring = keyring(op.get_bind().dialect)
    for table, column, _width, _nullable, field, index in SEALED:
        _phones._rewrite(table, "id", column, index, _phones._sealer(ring, field))
        # The index after the values: one build instead of an update per row.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{index}"), [index], unique=False)


def downgrade() -> None:
    ring = keyring(op.get_bind().dialect)
    for table, column, width, nullable, field, index in SEALED:
        _phones._rewrite(table, "id", column, None, _phones._opener(ring, field))
        _narrow(table, column, width, nullable, index)
