"""TOTP secrets sealed at rest, and a pending secret for re-enrolment

Revision ID: 0052_sec18
Revises: 0051
Create Date: 2026-12-03 11:40:00

Issue 18 (等保 level 3): the users' TOTP secrets (`users.totp_secret`) were stored as base32 in clear, so a dump or
a backup gave the second factor away; from here on they are AES-256-GCM ciphertexts (`liangshi.sealed`, field
`user.totp_secret`). A new column `users.totp_pending_secret` (sealed too) holds the secret of a re-enrolment
until its first code confirms it, so that the secret in force keeps working meanwhile. Existing secrets are
encrypted in batches (values already encrypted are skipped, so an interrupted run is simply run again), as 0051
does for the phones; downgrade decrypts them. On SQLite the widening rebuilds `users`: run it through
`liangshi db upgrade` (`liangshi.migrate` switches SQLite's foreign keys off around the rebuild).
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liangshi.sealed import keyring

revision: str = "0052_sec18"
down_revision: str | None = "0052_insp16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The batch rewriter and the sealer of 0051 (the same keyset batches, the same skip of sealed values).
_phones = importlib.import_module("liangshi.migrations.versions.0051_sec18_sealed_phones")


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=120),
            existing_nullable=True,
        )
        batch_op.add_column(sa.Column("totp_pending_secret", sa.String(length=120), nullable=True))
    ring = keyring(op.get_bind().dialect)
    _phones._rewrite("users", "id", "totp_secret", None, _phones._sealer(ring, "user.totp_secret"))


def downgrade() -> None:
    ring = keyring(op.get_bind().dialect)
    _phones._rewrite("users", "id", "totp_secret", None, _phones._opener(ring, "user.totp_secret"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_pending_secret")
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=120),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
