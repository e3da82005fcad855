"""inspection draw: plans' draw method, the frame's index

Revision ID: 0051_perf16
Revises: 0051_checks15_plate_side
Create Date: 2026-12-03 06:10:00

How a plan's sample was drawn from its seed (issue 16, stop 25): the plans stored before were drawn with Python's
random.sample over the sorted household ids ("sample", the server default, so that they still redraw the same);
plans drawn from now on use numpy's PCG64 keys ("pcg64"). And an index on households (area_id, created_at), from
which a plan's frame (the households of its communities created by the plan's time) is read without the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0051_perf16"
down_revision: str | None = "0051_checks15_plate_side"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inspection_plans") as batch_op:
        batch_op.add_column(
            sa.Column("draw_method", sa.String(length=16), server_default="sample", nullable=False)
        )
    op.create_index("ix_households_area_created", "households", ["area_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_households_area_created", table_name="households")
    with op.batch_alter_table("inspection_plans") as batch_op:
        batch_op.drop_column("draw_method")
