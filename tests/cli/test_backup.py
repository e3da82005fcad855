"""`liangshi db backup` and `liangshi db restore`: a running database copied, put back, its audit log verified.

On a database of its own (a file SQLite, or with LIANGSHI_TEST_DB=postgresql a fresh PostgreSQL database).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from liangshi import migrate
from liangshi.access.service import SYSTEM
from liangshi.audit import service as audit
from liangshi.audit.models import AuditEntry
from liangshi.cli.main import app as cli
from liangshi.config import Settings
from liangshi.db import make_engine, make_session_factory, session_scope
from tests.conftest import _create_pg_database

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
runner = CliRunner()


@pytest.fixture
def own_db(tmp_path: Path) -> Iterator[str]:
    """A migrated database for this test alone."""
    if os.environ.get("LIANGSHI_TEST_DB") == "postgresql":
        url, drop = _create_pg_database()
    else:
        url, drop = f"sqlite:///{tmp_path / 'live.db'}", None
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if drop:
        drop()


def _append(url: str, n: int) -> None:
    engine = make_engine(url)
    keys = audit.load_keys(Settings(), create=True)
    with session_scope(make_session_factory(engine)) as s:
        audit.record(
            s, SYSTEM, [audit.Event("person.read", "person", i, i) for i in range(n)], purpose="t", now=NOW
        )
        audit.sequence(s, keys, now=NOW)
    engine.dispose()


def _count(url: str) -> int:
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as s:
        n = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    engine.dispose()
    return n


def test_backup_then_restore_brings_back_a_verified_audit_log(own_db: str, tmp_path: Path) -> None:
    env = {"LIANGSHI_DATABASE_URL": own_db}
    _append(own_db, 5)
    target = tmp_path / "liangshi.backup"
    made = runner.invoke(cli, ["db", "backup", str(target)], env=env)
    assert made.exit_code == 0, made.output
    assert target.stat().st_size > 0 and not (tmp_path / "liangshi.backup.partial").exists()
    # Disaster: the log is emptied after the backup.
    engine = make_engine(own_db)
    with session_scope(make_session_factory(engine)) as s:
        s.execute(delete(AuditEntry))
    engine.dispose()
    assert _count(own_db) == 0
    back = runner.invoke(cli, ["db", "restore", str(target), "--yes"], env=env)
    assert back.exit_code == 0, back.output
    assert "audit log intact" in back.output
    assert _count(own_db) == 5


def test_restoring_a_backup_older_than_a_published_head_fails_the_audit_check(
    own_db: str, tmp_path: Path
) -> None:
    env = {"LIANGSHI_DATABASE_URL": own_db}
    _append(own_db, 3)
    target = tmp_path / "old.backup"
    assert runner.invoke(cli, ["db", "backup", str(target)], env=env).exit_code == 0
    _append(own_db, 4)
    head = runner.invoke(cli, ["audit", "head"], env=env)
    assert head.exit_code == 0 and json.loads(head.stdout)["tree_size"] == 7
    published = tmp_path / "head.json"
    published.write_text(head.stdout)
    back = runner.invoke(cli, ["db", "restore", str(target), "--yes", "--head", str(published)], env=env)
    assert back.exit_code == 1
    assert "truncated" in back.output
    assert _count(own_db) == 3


def test_restore_refuses_a_file_that_is_not_a_backup(own_db: str, tmp_path: Path) -> None:
    env = {"LIANGSHI_DATABASE_URL": own_db}
    _append(own_db, 2)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all")
    refused = runner.invoke(cli, ["db", "restore", str(junk), "--yes"], env=env)
    assert refused.exit_code == 2 and "db.not_a_backup" in refused.output
    assert _count(own_db) == 2
