"""the areas' epoch: a token every write to the area tables replaces, for the per-process lineage cache

Revision ID: 0055_cpu19
Revises: 0055_seal18b
Create Date: 2026-12-06 23:00:00

Issue 19, item 1: an address's description (every 查人知住) names its areas from the top, and a server process
keeps those lineages (ids, codes, levels, names) between requests (`areas.service.cached_lineages`). It may use
them while the token of `area_epoch` is the one it read them under: the triggers below replace the token with a
random one on every insert, update, delete (and, on PostgreSQL, truncate) of `areas`, `area_versions` and
`area_codes`, whoever writes (the registry, a bulk load, a migration, SQL by hand), in the writer's transaction.
So a rename committed by one process is seen by the next lookup of every other; a rolled-back write leaves a
token nobody will read again; and concurrent writers queue on the one row, the last to commit setting the token.
A random token rather than a counter: a counter's value written and rolled back could be written again with other
areas behind it. PostgreSQL fires once per statement (a bulk load is one bump), SQLite per row.
A later migration that rebuilds one of these tables on SQLite must create the triggers again, as 0054 does for
the KPI triggers (`tests/test_migrations.py` checks that they are there at head).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0055_cpu19"
down_revision: str | None = "0055_seal18b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("areas", "area_versions", "area_codes")
PG_TOKEN = "md5(random()::text || clock_timestamp()::text)"
SQLITE_TOKEN = "lower(hex(randomblob(16)))"


def _bump(token: str) -> str:
    return (
        f"INSERT INTO area_epoch (id, token) VALUES (1, {token}) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
    )


def upgrade() -> None:
    op.create_table(
        "area_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_epoch")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_bump(PG_TOKEN))
        op.execute(
            "CREATE FUNCTION area_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_bump(PG_TOKEN)}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER area_epoch_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION area_epoch_bump()"
            )
        return
    op.execute(_bump(SQLITE_TOKEN))
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER area_epoch_{table}_{event} AFTER {event.upper()} ON {table} "
                f"BEGIN {_bump(SQLITE_TOKEN)}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS area_epoch_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS area_epoch_bump()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS area_epoch_{table}_{event}")
    op.drop_table("area_epoch")
