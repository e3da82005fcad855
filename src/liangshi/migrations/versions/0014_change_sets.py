"""change sets

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:00:00.000000

Change sets (变更集): proposals held for review before they become registry facts (issue 14).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "change_sets",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("area_id", BIG_ID, nullable=False),
        sa.Column("area_path", sa.String(length=255), nullable=False),
        sa.Column("flow", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.String(length=200), nullable=False),
        sa.Column("subject_person_id", BIG_ID, nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("source_kind", sa.String(length=12), nullable=False),
        sa.Column("evidence", sa.String(length=10), nullable=False),
        sa.Column("document_ref", sa.String(length=200), nullable=True),
        sa.Column("proposer_id", BIG_ID, nullable=True),
        sa.Column("proposer", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("needs_district", sa.Boolean(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station_reviewer_id", BIG_ID, nullable=True),
        sa.Column("station_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("district_reviewer_id", BIG_ID, nullable=True),
        sa.Column("district_reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("returned_by", BIG_ID, nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_change_sets_area_id_areas")),
        sa.ForeignKeyConstraint(["proposer_id"], ["users.id"], name=op.f("fk_change_sets_proposer_id_users")),
        sa.ForeignKeyConstraint(
            ["station_reviewer_id"], ["users.id"], name=op.f("fk_change_sets_station_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["district_reviewer_id"], ["users.id"], name=op.f("fk_change_sets_district_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(["returned_by"], ["users.id"], name=op.f("fk_change_sets_returned_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_sets")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_change_sets_idempotency_key")),
    )
    op.create_index(op.f("ix_change_sets_county_code"), "change_sets", ["county_code"], unique=False)
    op.create_index(op.f("ix_change_sets_proposer_id"), "change_sets", ["proposer_id"], unique=False)
    op.create_index("ix_change_sets_desk", "change_sets", ["status", "area_path"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_change_sets_desk", table_name="change_sets")
    op.drop_index(op.f("ix_change_sets_proposer_id"), table_name="change_sets")
    op.drop_index(op.f("ix_change_sets_county_code"), table_name="change_sets")
    op.drop_table("change_sets")
