"""inspection results tell the registered persons not confirmed gone from the register's erroneous inclusions

Revision ID: 0056_chap16
Revises: 0055_rates16
Create Date: 2026-12-06 23:30:00

Issue 16: the estimate of the people the register missed (Chapman) counted every registered person of an inspected
household in the register's n₁, also those the inspector found not living there (moved away, died): those are the
register's erroneous inclusions, and Chapman read them as residents the re-canvass missed. A result (and each of
its age bands) now keeps `persons_unconfirmed`, the registered persons not found whose departure could not be
confirmed; the register's side of the estimate is those found plus those. Existing results: 0 (the form asked
for the persons found living there, so the others were found not to).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0056_chap16"
down_revision: str | None = "0055_rates16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("inspection_results", "inspection_result_bands"):
        op.add_column(
            table, sa.Column("persons_unconfirmed", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    for table in ("inspection_results", "inspection_result_bands"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("persons_unconfirmed")
