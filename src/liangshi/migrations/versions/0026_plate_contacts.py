"""plate contacts

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 13:55:00

QR door plates (issue 20): the station's and grid's contact each plate's code carries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liangshi.db

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plate_contacts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("area_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_name", sa.String(length=60), nullable=False),
        sa.Column("station_phone", sa.String(length=20), nullable=False),
        sa.Column("grid_name", sa.String(length=60), nullable=True),
        sa.Column("grid_phone", sa.String(length=20), nullable=True),
        sa.Column("updated_by", sa.String(length=50), nullable=False),
        sa.Column("updated_at", liangshi.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_plate_contacts_area_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_contacts")),
        sa.UniqueConstraint("area_id", name=op.f("uq_plate_contacts_area_id")),
    )


def downgrade() -> None:
    op.drop_table("plate_contacts")
