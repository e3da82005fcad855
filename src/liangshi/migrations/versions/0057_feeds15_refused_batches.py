"""department batches refused as a whole are kept, with their report

Revision ID: 0057_feeds15
Revises: 0057_find18
Create Date: 2026-12-07 15:00:00

Issue 15: a batch refused as a whole (a file of another type, over a limit, unreadable, an all-or-nothing
agreement with a bad row) left no trace but the result page. It is now kept as a batch record with `status`
`refused` and its `report` (the refusal's code and messages and the rows' problems, as JSON); nothing of it is
applied. A batch refused for want of an agreement in force has no agreement, so `agreement_id` may be empty.
Existing batches were all accepted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0057_feeds15"
down_revision: str | None = "0057_find18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("department_batches") as batch:
        batch.add_column(sa.Column("status", sa.String(10), nullable=False, server_default="accepted"))
        batch.add_column(sa.Column("report", sa.Text(), nullable=True))
        batch.alter_column("agreement_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM department_batches WHERE status = 'refused'")
    with op.batch_alter_table("department_batches") as batch:
        batch.alter_column("agreement_id", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_column("report")
        batch.drop_column("status")
