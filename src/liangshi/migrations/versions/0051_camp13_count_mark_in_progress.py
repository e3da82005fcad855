"""count mark: the transactions in progress at the last refresh

Revision ID: 0051_camp13
Revises: 0051_perf16
Create Date: 2026-12-03 06:30:00

The progress counts' refresh (issue 13) on PostgreSQL now keeps where the version tables were as a snapshot, not
as the cluster's oldest running transaction: `horizon` holds the snapshot's xmax and `in_progress` the ids of the
transactions still running then (comma-separated). The rows written since are those of transactions at or after
xmax or in that list, so one long transaction anywhere on the server (a backup, another database's session) no
longer makes every refresh rescan what was written after it began. A mark written before (no list) stays valid:
its horizon was an xmin, which is never above the xmax.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0051_camp13"
down_revision: str | None = "0051_perf16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_count_marks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_progress", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign_count_marks", schema=None) as batch_op:
        batch_op.drop_column("in_progress")
