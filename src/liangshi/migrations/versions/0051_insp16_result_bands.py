"""inspection results by age band

Revision ID: 0051_insp16
Revises: 0050
Create Date: 2026-12-03 06:10:00

The re-canvass per age band (issue 16, coverage per post-stratum area × housing type × age band): each result's
persons registered, found and found unregistered, per age band.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0051_insp16"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inspection_result_bands",
        sa.Column("id", _ID, nullable=False),
        sa.Column("result_id", _ID, nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("persons_registered", sa.Integer(), nullable=False),
        sa.Column("persons_present", sa.Integer(), nullable=False),
        sa.Column("persons_missed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["inspection_results.id"],
            name=op.f("fk_inspection_result_bands_result_id_inspection_results"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_result_bands")),
        sa.UniqueConstraint(
            "result_id", "age_band", name=op.f("uq_inspection_result_bands_result_id_age_band")
        ),
    )
    with op.batch_alter_table("inspection_result_bands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_result_bands_county_code"), ["county_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspection_result_bands_result_id"), ["result_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inspection_result_bands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_result_bands_result_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_result_bands_county_code"))
    op.drop_table("inspection_result_bands")
