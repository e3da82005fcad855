"""inspection estimates kept per plan

Revision ID: 0052_insp16
Revises: 0051
Create Date: 2026-12-03 11:45:00

The coverage by area × housing type × age band (issue 16, stop 26) is kept per plan as computed, with the
fingerprint of what it was computed from (the plan's results, the newest household and building versions), so the
dashboard reads it instead of computing it; a read whose fingerprint differs computes it again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0052_insp16"
down_revision: str | None = "0051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inspection_estimates",
        sa.Column("id", _ID, nullable=False),
        sa.Column("plan_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["inspection_plans.id"],
            name=op.f("fk_inspection_estimates_plan_id_inspection_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_estimates")),
        sa.UniqueConstraint("plan_id", "kind", name=op.f("uq_inspection_estimates_plan_id_kind")),
    )
    with op.batch_alter_table("inspection_estimates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_estimates_plan_id"), ["plan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inspection_estimates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_estimates_plan_id"))
    op.drop_table("inspection_estimates")
