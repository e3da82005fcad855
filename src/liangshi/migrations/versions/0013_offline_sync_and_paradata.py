"""offline sync items and visit paradata

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:00:00.000000

The outbox items a collector's phone synced (`sync_items`, one per client UUID) and the paradata of a visit
(started, ended, device, position). Also widens building_versions.visit_status to 16 characters:
"partly_visited" (14) did not fit in 12 and failed on PostgreSQL as soon as one dwelling of a building with
several was visited.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import liangshi.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("building_versions", schema=None) as batch_op:
        batch_op.alter_column(
            "visit_status",
            existing_type=sa.String(length=12),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", liangshi.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ended_at", liangshi.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("device", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("position_accuracy", sa.Float(), nullable=True))
    op.create_table(
        "sync_items",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("client_uuid", sa.String(length=36), nullable=False),
        sa.Column("collector_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("dwelling_id", BIG_ID, nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("version_before", sa.Integer(), nullable=False),
        sa.Column("version_after", sa.Integer(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("visit_id", BIG_ID, nullable=True),
        sa.Column("person_id", BIG_ID, nullable=True),
        sa.Column("residence_id", BIG_ID, nullable=True),
        sa.Column("change_set_id", BIG_ID, nullable=True),
        sa.Column("synced_at", liangshi.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["users.id"], name=op.f("fk_sync_items_collector_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["dwelling_id"], ["dwellings.id"], name=op.f("fk_sync_items_dwelling_id_dwellings")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_sync_items_person_id_persons")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_sync_items_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_items")),
        sa.UniqueConstraint("client_uuid", name=op.f("uq_sync_items_client_uuid")),
    )
    with op.batch_alter_table("sync_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_items_change_set_id"), ["change_set_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_items_collector_id"), ["collector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_items_county_code"), ["county_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_items_dwelling_id"), ["dwelling_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("building_versions", schema=None) as batch_op:
        batch_op.alter_column(
            "visit_status",
            existing_type=sa.String(length=16),
            type_=sa.String(length=12),
            existing_nullable=False,
        )
    op.drop_table("sync_items")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        for column in ("position_accuracy", "longitude", "latitude", "device", "ended_at", "started_at"):
            batch_op.drop_column(column)
