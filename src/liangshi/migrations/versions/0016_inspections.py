"""inspections

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-02 05:52:31.087779

Checking and acceptance (检查验收, issue 16): inspection plans, their per-community lots, the households drawn,
the results found at them and the rectification items (整改) a rejected lot opens.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liangshi.db

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_plans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("area_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("margin", sa.Float(), nullable=False),
        sa.Column("expected_rate", sa.Float(), nullable=False),
        sa.Column("z", sa.Float(), nullable=False),
        sa.Column("aql", sa.Float(), nullable=False),
        sa.Column("lq", sa.Float(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("beta", sa.Float(), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("rectify_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", liangshi.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_inspection_plans_area_id_areas")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_inspection_plans_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plans")),
    )
    with op.batch_alter_table("inspection_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_plans_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_plans_county_code"), ["county_code"], unique=False)

    op.create_table(
        "inspection_lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("estimate_n", sa.Integer(), nullable=False),
        sa.Column("plan_n", sa.Integer(), nullable=False),
        sa.Column("ac", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("accept_at_aql", sa.Float(), nullable=False),
        sa.Column("accept_at_lq", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["areas.id"], name=op.f("fk_inspection_lots_community_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plans.id"], name=op.f("fk_inspection_lots_plan_id_inspection_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_lots")),
        sa.UniqueConstraint("plan_id", "community_id", name=op.f("uq_inspection_lots_plan_id_community_id")),
    )
    with op.batch_alter_table("inspection_lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_lots_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_lots_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "inspection_rectifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("fixed_on", sa.Date(), nullable=True),
        sa.Column("reinspected_on", sa.Date(), nullable=True),
        sa.Column("reinspected_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_inspection_rectifications_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["inspection_lots.id"],
            name=op.f("fk_inspection_rectifications_lot_id_inspection_lots"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_inspection_rectifications_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["reinspected_by"], ["users.id"], name=op.f("fk_inspection_rectifications_reinspected_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_rectifications")),
    )
    with op.batch_alter_table("inspection_rectifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_rectifications_county_code"), ["county_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspection_rectifications_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_rectifications_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "inspection_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_inspection_samples_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["inspection_lots.id"], name=op.f("fk_inspection_samples_lot_id_inspection_lots")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plans.id"], name=op.f("fk_inspection_samples_plan_id_inspection_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_samples")),
        sa.UniqueConstraint(
            "plan_id", "household_id", name=op.f("uq_inspection_samples_plan_id_household_id")
        ),
    )
    with op.batch_alter_table("inspection_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_samples_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_samples_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_samples_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "inspection_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sample_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("inspector_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("inspected_at", liangshi.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("persons_registered", sa.Integer(), nullable=False),
        sa.Column("persons_present", sa.Integer(), nullable=False),
        sa.Column("main_right", sa.Integer(), nullable=False),
        sa.Column("general_right", sa.Integer(), nullable=False),
        sa.Column("floating_found", sa.Integer(), nullable=False),
        sa.Column("floating_registered", sa.Integer(), nullable=False),
        sa.Column("floating_right", sa.Integer(), nullable=False),
        sa.Column("persons_missed", sa.Integer(), nullable=False),
        sa.Column("count_matches", sa.Boolean(), nullable=False),
        sa.Column("defective", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["users.id"], name=op.f("fk_inspection_results_inspector_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["inspection_lots.id"], name=op.f("fk_inspection_results_lot_id_inspection_lots")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["inspection_samples.id"],
            name=op.f("fk_inspection_results_sample_id_inspection_samples"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_results")),
        sa.UniqueConstraint("sample_id", name=op.f("uq_inspection_results_sample_id")),
    )
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_results_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_results_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inspection_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_results_lot_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_results_county_code"))

    op.drop_table("inspection_results")
    with op.batch_alter_table("inspection_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_samples_plan_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_samples_lot_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_samples_county_code"))

    op.drop_table("inspection_samples")
    with op.batch_alter_table("inspection_rectifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_rectifications_owner_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_rectifications_lot_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_rectifications_county_code"))

    op.drop_table("inspection_rectifications")
    with op.batch_alter_table("inspection_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_lots_plan_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_lots_county_code"))

    op.drop_table("inspection_lots")
    with op.batch_alter_table("inspection_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_plans_county_code"))
        batch_op.drop_index(batch_op.f("ix_inspection_plans_area_id"))

    op.drop_table("inspection_plans")
