"""campaign building counts

Revision ID: 0019
Revises: 0026
Create Date: 2026-12-02 14:10:00.000000

The completeness counts kept per building (issue 13: the progress dashboard at 1M persons), the buildings a
campaign write made dirty, and where the last refresh got to. Additive: derived data, rebuilt on first use.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liangshi.db

revision: str = "0019"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COUNTS = (
    "current",
    "visited",
    "partly",
    "dwellings",
    "dwellings_with_status",
    "households",
    "households_matched",
)


def upgrade() -> None:
    op.create_table(
        "campaign_building_counts",
        sa.Column("building_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("area_id", BIG_ID, nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        sa.PrimaryKeyConstraint("building_id", name=op.f("pk_campaign_building_counts")),
    )
    with op.batch_alter_table("campaign_building_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_building_counts_area_id"), ["area_id"], unique=False)
    op.create_table(
        "campaign_count_dirty",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("building_id", BIG_ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_count_dirty")),
    )
    op.create_table(
        "campaign_count_marks",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("horizon", sa.BigInteger(), nullable=True),
        sa.Column("building_row", sa.BigInteger(), nullable=False),
        sa.Column("dwelling_row", sa.BigInteger(), nullable=False),
        sa.Column("household_row", sa.BigInteger(), nullable=False),
        sa.Column("membership_row", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", liangshi.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_count_marks")),
    )


def downgrade() -> None:
    op.drop_table("campaign_count_marks")
    op.drop_table("campaign_count_dirty")
    with op.batch_alter_table("campaign_building_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_building_counts_area_id"))
    op.drop_table("campaign_building_counts")
