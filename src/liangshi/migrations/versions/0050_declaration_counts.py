"""declaration counts

Revision ID: 0050
Revises: 0019
Create Date: 2026-12-02 18:30:00

The self-declaration rate limit's counters (issue 20): one row per client address or plate and window, so that
every server process (`serve --workers N`) shares one limit.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0050"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "declaration_counts",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "bucket", name=op.f("pk_declaration_counts")),
    )


def downgrade() -> None:
    op.drop_table("declaration_counts")
