"""The application's engines: PostgreSQL sessions run without JIT compilation (issue 17, stop 30)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from liangshi.db import make_read_only_engine


def test_every_postgresql_connection_of_the_engines_runs_without_jit(engine: Engine, db_url: str) -> None:
    """A page's statement over a city's register is estimated dear enough for PostgreSQL to compile it, which cost
    more than running it at 1M persons: every connection of the primary's engine and of the read-only (replica)
    engine says `jit` off, a fresh one and one taken back from the pool alike, and a transaction still works."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's JIT only")
    reader = make_read_only_engine(db_url)
    try:
        for eng in (engine, reader):
            for _ in range(2):  # the second checkout reuses the pooled connection
                with eng.connect() as conn:
                    assert conn.execute(text("SHOW jit")).scalar_one() == "off"
                    assert conn.execute(text("SELECT 1")).scalar_one() == 1
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        reader.dispose()
