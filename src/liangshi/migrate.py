"""Run Alembic migrations programmatically (the CLI and the tests use this)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("liangshi") / "migrations"))
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def _broken_keys(conn: Connection) -> set[tuple[str, int, str]]:
    return {(str(t), int(r), str(p)) for t, r, p, _ in conn.exec_driver_sql("PRAGMA foreign_key_check").all()}


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
                before = _broken_keys(conn) if sqlite else set()
                cfg.attributes["connection"] = conn
                step(cfg, revision)
                # Only what the migration broke: rows already orphaned before it are not its business.
                if sqlite and (bad := _broken_keys(conn) - before):
                    raise RuntimeError(f"foreign keys broken by the migration: {sorted(bad)[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def _at_head(engine: Engine) -> bool:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == set(heads)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    if revision == "head" and _at_head(engine):
        return
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database schema down to `revision`."""
    _run(engine, command.downgrade, revision)
