"""Run Alembic migrations programmatically (the CLI and the tests use this)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("liangshi") / "migrations"))
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    cfg = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        if sqlite:
            # SQLite changes a column's type by rebuilding the table (copy, drop, rename), which the foreign keys
            # of other tables' rows would refuse half-way: they are switched off, outside the transaction (the only
            # place the switch works), and checked before the commit instead (sqlite.org/lang_altertable.html).
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)
                if sqlite and (bad := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"foreign keys broken by the migration: {bad[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database schema down to `revision`."""
    _run(engine, command.downgrade, revision)
