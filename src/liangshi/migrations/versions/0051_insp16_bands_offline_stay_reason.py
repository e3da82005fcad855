"""inspection results by age band, and offline inspection visits

Revision ID: 0051_insp16
Revises: 0051_camp13
Create Date: 2026-12-03 06:10:00

The re-canvass per age band (issue 16, coverage per post-stratum area × housing type × age band): each result's
persons registered, found and found unregistered, per age band. Results recorded offline on a phone keep their
outbox item's UUID and content hash (the sync answers a UUID sent again with the first result). A residence
carries the reason for stay (暂住事由, code table `stay_reason`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0051_insp16"
down_revision: str | None = "0051_camp13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy on SQLite: the KPI triggers on residence_versions stay in place).
    op.add_column("residence_versions", sa.Column("stay_reason", sa.String(length=2), nullable=True))
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_uuid", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_inspection_results_client_uuid"), ["client_uuid"])
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
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_inspection_results_client_uuid"), type_="unique")
        batch_op.drop_column("content_hash")
        batch_op.drop_column("client_uuid")
    op.drop_column("residence_versions", "stay_reason")
