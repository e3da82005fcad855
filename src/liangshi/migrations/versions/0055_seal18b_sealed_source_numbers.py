"""the ID numbers of the person index's source records and of the department files held for the checks
encrypted at rest

Revision ID: 0055_seal18b
Revises: 0056_chap16
Create Date: 2026-12-06 22:40:00

Issue 18, item 4 (等保 level 3): the ID numbers of the master person index's department records
(`person_source_records.id_number`, field `source_record.id_number`, index `id_number_idx`) and of the department
files the checks read (`check_source_records.id_number` as the file wrote it, field `check_source.id_number`, not
searchable; `check_source_records.id_norm`, its normalised form, field `check_source.id_norm`, index
`id_norm_idx`) are stored as AES-256-GCM ciphertexts (`liangshi.sealed`) from here on. The index on the clear
number is dropped (it would keep the numbers in clear in the index pages); the keyed-hash index replaces it. The
columns widen to hold a ciphertext; existing values are encrypted in batches (0051's rewriter: keyset order,
values already encrypted skipped, so an interrupted run is simply run again); the indexes are built after the
values. Downgrade decrypts them again and restores the clear indexes.
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liangshi.sealed import keyring

revision: str = "0055_seal18b"
down_revision: str | None = "0056_chap16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The batch rewriter and the sealer of 0051; the trigger-keeping table alteration of 0054.
_phones = importlib.import_module("liangshi.migrations.versions.0051_sec18_sealed_phones")
_seal18 = importlib.import_module("liangshi.migrations.versions.0054_seal18_sealed_id_numbers")

# (table, column, clear width, clear index existed, field, keyed-hash index column or None)
SEALED = (
    ("person_source_records", "id_number", 24, True, "source_record.id_number", "id_number_idx"),
    ("check_source_records", "id_number", 30, False, "check_source.id_number", None),
    ("check_source_records", "id_norm", 30, True, "check_source.id_norm", "id_norm_idx"),
)
TABLES = ("person_source_records", "check_source_records")


def _widen(table: str) -> None:
    def alter() -> None:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for t, column, width, indexed, _field, index in SEALED:
                if t != table:
                    continue
                if indexed:
                    batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(length=width),
                    type_=sa.String(length=120),
                    existing_nullable=True,
                )
                if index:
                    batch_op.add_column(sa.Column(index, sa.String(length=64), nullable=True))

    _seal18._keeping_triggers(table, alter)


def _narrow(table: str) -> None:
    def alter() -> None:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for t, column, width, indexed, _field, index in SEALED:
                if t != table:
                    continue
                if index:
                    batch_op.drop_index(batch_op.f(f"ix_{table}_{index}"))
                    batch_op.drop_column(index)
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(length=120),
                    type_=sa.String(length=width),
                    existing_nullable=True,
                )
                if indexed:
                    batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)

    _seal18._keeping_triggers(table, alter)


def upgrade() -> None:
    for table in TABLES:
        _widen(table)
    ring = keyring(op.get_bind().dialect)
    for table, column, _width, _indexed, field, index in SEALED:
        _phones._rewrite(table, "id", column, index, _phones._sealer(ring, field))
        if index:
            # The index after the values: one build instead of an update per row.
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_index(batch_op.f(f"ix_{table}_{index}"), [index], unique=False)


def downgrade() -> None:
    ring = keyring(op.get_bind().dialect)
    for table, column, _width, _indexed, field, _index in SEALED:
        _phones._rewrite(table, "id", column, None, _phones._opener(ring, field))
    for table in TABLES:
        _narrow(table)
