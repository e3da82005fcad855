"""department feeds as sent

Revision ID: 0022
Revises: 0015
Create Date: 2026-12-02 14:05:00

Issue 15: an agreement says whether a batch is all-or-nothing (default: a bad row is reported and the good rows
are kept); a batch counts the rows it rejected.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("department_agreements") as batch:
        batch.add_column(sa.Column("all_or_nothing", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("department_batches") as batch:
        batch.add_column(sa.Column("rows_rejected", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("department_batches") as batch:
        batch.drop_column("rows_rejected")
    with op.batch_alter_table("department_agreements") as batch:
        batch.drop_column("all_or_nothing")
