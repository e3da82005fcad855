"""change set desk order

Revision ID: 0051_perf14
Revises: 0051_insp16
Create Date: 2026-12-03 06:10:00

The review desk's page in its order from one index (issue 14): (status, proposed_at, id, area_path) gives the
page's ids oldest first without sorting every pending set's row.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0051_perf14"
down_revision: str | None = "0051_insp16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_change_sets_desk_order",
        "change_sets",
        ["status", "proposed_at", "id", "area_path"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_change_sets_desk_order", table_name="change_sets")
