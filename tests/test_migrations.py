"""The migrations build exactly the schema the models describe, and go down to nothing and up again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from liangshi import migrate
from liangshi.db import make_engine
from liangshi.models import Base


def _diff(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database in a new temporary file."""
    eng = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def test_migrated_sqlite_schema_matches_the_models(fresh_sqlite: Engine) -> None:
    assert _diff(fresh_sqlite) == []


def test_test_database_built_by_migrations_matches_the_models(engine: Engine) -> None:
    # The session's database: SQLite, or PostgreSQL under LIANGSHI_TEST_DB=postgresql.
    assert _diff(engine) == []


def test_every_model_table_is_created(fresh_sqlite: Engine) -> None:
    assert set(Base.metadata.tables) <= _tables(fresh_sqlite)


def test_downgrade_to_base_then_upgrade_again(fresh_sqlite: Engine) -> None:
    cfg = migrate.alembic_config()
    with fresh_sqlite.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert _tables(fresh_sqlite) <= {"alembic_version"}
    with fresh_sqlite.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= _tables(fresh_sqlite)
    assert _diff(fresh_sqlite) == []


def test_upgrading_an_up_to_date_database_is_a_no_op(fresh_sqlite: Engine) -> None:
    migrate.upgrade(fresh_sqlite)
    assert _diff(fresh_sqlite) == []
