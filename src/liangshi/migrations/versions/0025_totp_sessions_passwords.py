"""TOTP two-factor login, idle timeout of tokens, password history, recovery codes

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-02 14:10:00

等保 2.0 level 3 controls (issue 18): users get a TOTP secret and the last accepted step, tokens their last use
and a stage (awaiting the second factor, or enrolment only); earlier password hashes and one-time recovery codes
get tables of their own. Additive.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liangshi.db

revision: str = "0025"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", liangshi.db.UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("password_changed_at", liangshi.db.UtcDateTime(), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("last_used_at", liangshi.db.UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("stage", sa.String(length=8), nullable=True))
    op.create_table(
        "password_history",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", liangshi.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_password_history_user_id"), "password_history", ["user_id"], unique=False)
    op.create_table(
        "user_recovery_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", liangshi.db.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_user_recovery_codes_user_id"), "user_recovery_codes", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_user_recovery_codes_user_id"), table_name="user_recovery_codes")
    op.drop_table("user_recovery_codes")
    op.drop_index(op.f("ix_password_history_user_id"), table_name="password_history")
    op.drop_table("password_history")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("stage")
        batch.drop_column("last_used_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enabled_at")
        batch.drop_column("totp_secret")
