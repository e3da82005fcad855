"""plate side

Revision ID: 0051_checks15_plate_side
Revises: 0050
Create Date: 2026-12-03 06:15:00

The side of the street a door plate stands on (issue 15): left / right from the street's start along its bearing,
or odd / even as a collector saw it. Filled on creation and import, from the position where not given; plates
recorded before keep NULL (the wrong-side check computes their side from the position as before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0051_checks15_plate_side"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("address_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("side", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("address_versions", schema=None) as batch_op:
        batch_op.drop_column("side")
