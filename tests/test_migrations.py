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


def test_the_audit_pages_revision_indexes_the_chunk_entries_of_earlier_imports(fresh_sqlite: Engine) -> None:
    import datetime as dt

    from sqlalchemy import select

    from liangshi.access.service import SYSTEM
    from liangshi.audit import service as audit
    from liangshi.db import make_session_factory, session_scope
    from liangshi.exchange import loaders
    from liangshi.exchange.loaders.job import index_chunk
    from liangshi.exchange.models import ImportAuditEntry, ImportBatch
    from liangshi.registry import Created, Provenance

    now = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    sessions = make_session_factory(fresh_sqlite)
    with session_scope(sessions) as s:
        batch = ImportBatch(
            kind="persons", source="import", file_name="p.csv", file_sha256="0" * 64, actor_id=None,
            actor_name="system", started_at=now, status="done",
        )  # fmt: skip
        s.add(batch)
        s.flush()
        prov = Provenance("import", f"batch:{batch.id}", "document", "p.csv")
        job = loaders.Job(s, SYSTEM, now, now.date(), prov, batch.id, None)  # type: ignore[arg-type]
        audit.record(s, SYSTEM, [audit.Event("person.read", "person", 5, 5)], purpose="核查", now=now)
        # A chunk's entry and its index row, as the loaders write them (job.index_chunk).
        for kind, ids in (("person", [3, 4, 7]), ("document", [10, 11, 12])):
            detail = {"batch": batch.id, "count": 3, "ids": ids, "persons": [3, 4, 7]}
            seqs = audit.record(
                s,
                SYSTEM,
                [audit.Event(f"{kind}.create", kind, None, None, detail)],
                purpose=f"import batch {batch.id}",
                now=now,
            )
            index_chunk(job, kind, Created(ids, seqs))
    with session_scope(sessions) as s:
        indexed = [
            (r.seq, r.batch_id, r.object_kind, r.first_id, r.last_id)
            for r in s.scalars(select(ImportAuditEntry))
        ]
    assert [row[2:] for row in indexed] == [("person", 3, 7), ("document", 10, 12)]
    cfg = migrate.alembic_config()
    with fresh_sqlite.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    assert "import_audit_entries" not in _tables(fresh_sqlite)
    migrate.upgrade(fresh_sqlite)
    with session_scope(sessions) as s:
        again = [
            (r.seq, r.batch_id, r.object_kind, r.first_id, r.last_id)
            for r in s.scalars(select(ImportAuditEntry))
        ]
    assert again == indexed
