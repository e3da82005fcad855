"""the register's document numbers encrypted at rest, with their keyed-hash indexes

Revision ID: 0057_seal18c
Revises: 0057_feeds15
Create Date: 2026-12-07 14:40:00

Issue 18, item 4 (等保 level 3): the register's own ID, passport and permit numbers (`document_versions.number`,
field `document.number`) are stored as AES-256-GCM ciphertexts (`liangshi.sealed`) from here on, with three
keyed-hash indexes beside them: `number_idx` (the whole number: look-ups, joins, and the uniqueness of a current
document, whose partial unique index moves from (doc_type, number, country) to (doc_type, number_idx, country)),
`number_tail4_idx` (its last 4 characters: the search by the last digits of an ID number beside a name) and
`number_tail9_idx` (the last 9 characters of an 18-character number: the person index's blocking on a typo in the
first half). The department files' normalised numbers (`check_source_records.id_norm`, sealed by 0055_seal18b)
have their index `id_norm_idx` recomputed under the documents' field name, so that the checks join the two
indexes in SQL. The index on the clear number is dropped (it would keep every number in clear in its pages). The
column widens to hold a ciphertext; existing values are encrypted in batches of 5,000 (0051's rewriter: keyset
order, values already encrypted skipped, so an interrupted run is simply run again); the indexes are built after
the values. Downgrade decrypts them and restores the clear indexes.
"""

import importlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from liangshi.sealed import Sealed, keyring

revision: str = "0057_seal18c"
down_revision: str | None = "0057_feeds15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The batch rewriter and the sealer of 0051; the trigger-keeping table alteration of 0054.
_phones = importlib.import_module("liangshi.migrations.versions.0051_sec18_sealed_phones")
_seal18 = importlib.import_module("liangshi.migrations.versions.0054_seal18_sealed_id_numbers")

TABLE = "document_versions"
FIELD = "document.number"
# The column as this revision defines it (the model's may change later; the entries must be these).
NUMBER = Sealed(FIELD, index="number_idx", tails=(("number_tail4_idx", 4, None), ("number_tail9_idx", 9, 18)))
INDEXES = tuple(NUMBER.index_columns())
CURRENT = "superseded_at IS NULL AND valid_to IS NULL"
NORM = "check_source.id_norm"


def _reindex_norms(ring: Any, under: str) -> None:
    """`check_source_records.id_norm_idx` recomputed from the opened values under the field name `under`."""

    def change(value: str) -> tuple[str, str] | None:
        if not value.startswith(_phones.PREFIX):
            return None
        return value, ring.index(under, ring.decrypt(NORM, value))

    _phones._rewrite("check_source_records", "id", "id_norm", "id_norm_idx", change)


def _unique(batch_op: Any, column: str) -> None:
    batch_op.create_index(
        "uq_document_versions_current",
        ["doc_type", column, "country"],
        unique=True,
        sqlite_where=sa.text(CURRENT),
        postgresql_where=sa.text(CURRENT),
    )


def upgrade() -> None:
    def widen() -> None:
        with op.batch_alter_table(TABLE, schema=None) as batch_op:
            batch_op.drop_index("uq_document_versions_current")
            batch_op.drop_index("ix_document_versions_number")
            batch_op.alter_column(
                "number",
                existing_type=sa.String(length=24),
                type_=sa.String(length=120),
                existing_nullable=False,
            )
            for column in INDEXES:
                batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))

    _seal18._keeping_triggers(TABLE, widen)
    ring = keyring(op.get_bind().dialect)

    def seal(value: str) -> tuple[str, list[str | None]] | None:
        if value.startswith(_phones.PREFIX):
            return None
        return ring.encrypt(FIELD, value), NUMBER.entries(ring, value)

    _phones._rewrite(TABLE, "row_id", "number", INDEXES, seal)
    _reindex_norms(ring, FIELD)
    # The indexes after the values: one build each instead of an update per row.
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index("ix_document_versions_number_idx", ["number_idx"], unique=False)
        _unique(batch_op, "number_idx")
        for column in INDEXES[1:]:
            batch_op.create_index(batch_op.f(f"ix_{TABLE}_{column}"), [column], unique=False)


def downgrade() -> None:
    ring = keyring(op.get_bind().dialect)
    _phones._rewrite(TABLE, "row_id", "number", None, _phones._opener(ring, FIELD))
    _reindex_norms(ring, NORM)

    def narrow() -> None:
        with op.batch_alter_table(TABLE, schema=None) as batch_op:
            for column in INDEXES[1:]:
                batch_op.drop_index(batch_op.f(f"ix_{TABLE}_{column}"))
            batch_op.drop_index("uq_document_versions_current")
            batch_op.drop_index("ix_document_versions_number_idx")
            for column in INDEXES:
                batch_op.drop_column(column)
            batch_op.alter_column(
                "number",
                existing_type=sa.String(length=120),
                type_=sa.String(length=24),
                existing_nullable=False,
            )
            batch_op.create_index("ix_document_versions_number", ["number"], unique=False)
            _unique(batch_op, "number")

    _seal18._keeping_triggers(TABLE, narrow)
