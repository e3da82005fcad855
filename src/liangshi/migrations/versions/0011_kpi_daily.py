"""kpi daily aggregate

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 13:30:00.000000

The daily per-area aggregate of the residence and stay KPIs (`liangshi.kpis.daily`): its two tables, the triggers
that keep it exact, and its first build from the registry (seconds at a million residences).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    from liangshi.kpis import daily

    op.create_table(
        "kpi_deltas",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("area_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("tag", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state_from", sa.Date(), nullable=False),
        sa.Column("state_to", sa.Date(), nullable=False),
        sa.Column("lateness", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_deltas")),
    )
    op.create_table(
        "kpi_daily",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("area_id", BIG_ID, nullable=False),
        sa.Column("tag", sa.String(length=12), nullable=False),
        sa.Column("state_from", sa.Date(), nullable=False),
        sa.Column("state_to", sa.Date(), nullable=False),
        sa.Column("lateness", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind",
            "grain",
            "day",
            "area_id",
            "tag",
            "state_from",
            "state_to",
            "lateness",
            name="pk_kpi_daily",
        ),
    )
    with op.batch_alter_table("dwelling_versions", schema=None) as batch_op:
        batch_op.create_index("ix_dwelling_versions_status", ["status"], unique=False)
    daily.install(op.get_bind())


def downgrade() -> None:
    from liangshi.kpis import daily

    daily.uninstall(op.get_bind())
    with op.batch_alter_table("dwelling_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_dwelling_versions_status")
    op.drop_table("kpi_daily")
    op.drop_table("kpi_deltas")
