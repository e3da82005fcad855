"""feed commit order: the writing transaction of every version row

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSION_TABLES = (
    "address_versions",
    "area_versions",
    "building_versions",
    "document_versions",
    "dwelling_versions",
    "household_versions",
    "membership_versions",
    "permit_versions",
    "person_versions",
    "rental_tenant_versions",
    "rental_versions",
    "residence_versions",
    "street_versions",
    "venue_versions",
)
# The column's default on PostgreSQL: the writing transaction's id (xid8, epoch included, so it never wraps; kept
# as bigint so it compares as a plain number).
PG_XACT_ID = sa.text("(pg_current_xact_id()::text::bigint)")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in VERSION_TABLES:
        # Rows already written (all committed: the ALTER holds the table exclusively) count as transaction 0,
        # before any new one. On PostgreSQL a constant default is added without rewriting the table.
        op.add_column(
            table, sa.Column("xact_id", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        if postgres:
            op.alter_column(table, "xact_id", server_default=PG_XACT_ID)
        op.create_index(f"ix_{table}_feed", table, ["xact_id", "row_id"], unique=False)


def downgrade() -> None:
    for table in VERSION_TABLES:
        op.drop_index(f"ix_{table}_feed", table_name=table)
        op.drop_column(table, "xact_id")
