"""community-correction cases from justice, in a table of their own

Revision ID: 0058_justice15
Revises: 0057_seal18c
Create Date: 2026-12-07 15:45:00

Issue 15, point 4: justice sends community-correction cases (社区矫正: 管制, 缓刑, 假释, 暂予监外执行) as a
department feed (kind `corrections`). Each case is kept beside its person, one row per version (a later row for
the same person and case closes the current version), with no ID number; only `correction.read` reads it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0058_justice15"
down_revision: str | None = "0057_seal18c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "correction_cases",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("person_id", BIG_ID, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("department", sa.String(30), nullable=False),
        sa.Column("case_kind", sa.String(2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("office", sa.String(100), nullable=False),
        sa.Column("area_id", BIG_ID, sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("batch_id", BIG_ID, sa.ForeignKey("department_batches.id"), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_correction_cases_person_id", "correction_cases", ["person_id"])
    op.create_index("ix_correction_cases_area_id", "correction_cases", ["area_id"])
    op.create_index("ix_correction_cases_batch_id", "correction_cases", ["batch_id"])
    op.create_index(
        "ix_correction_cases_case", "correction_cases", ["person_id", "department", "case_kind", "start_date"]
    )


def downgrade() -> None:
    op.drop_table("correction_cases")
