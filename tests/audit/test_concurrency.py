"""Eight processes appending to the audit log at once, a sequencer folding meanwhile: nothing lost, nothing twice.

Runs against the test database: a file SQLite by default, PostgreSQL with LIANGSHI_TEST_DB=postgresql.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import time
from typing import Any

from sqlalchemy import func, select

from liangshi.access.service import SYSTEM
from liangshi.audit import service as audit
from liangshi.audit.models import AuditEntry, AuditTreeHead
from liangshi.config import Settings
from liangshi.db import make_engine, make_session_factory, session_scope
from tests.conftest import World

WRITERS = 8
TRANSACTIONS = 15
PER_TRANSACTION = 3
NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)


def _writer(url: str, worker: int, start: Any) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    start.wait()
    for t in range(TRANSACTIONS):
        with session_scope(sessions) as s:
            events = [
                audit.Event("person.read", "person", worker * 1000 + t, None, {"w": worker, "t": t, "i": i})
                for i in range(PER_TRANSACTION)
            ]
            audit.record(s, SYSTEM, events, purpose="concurrency", now=NOW)
        time.sleep(0.02)  # spread the appends over the sequencer's rounds
    engine.dispose()


def _sequencer(url: str, start: Any, stop: Any) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    keys = audit.load_keys(Settings(), create=True)
    start.wait()
    while not stop.is_set():
        with session_scope(sessions) as s:
            audit.sequence(s, keys, now=NOW)
        time.sleep(0.05)
    engine.dispose()


def test_eight_processes_appending_at_once_lose_and_duplicate_nothing(world: World, db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, stop = ctx.Barrier(WRITERS + 1), ctx.Event()
    writers = [ctx.Process(target=_writer, args=(db_url, w, start)) for w in range(WRITERS)]
    sequencer = ctx.Process(target=_sequencer, args=(db_url, start, stop))
    for p in [*writers, sequencer]:
        p.start()
    for p in writers:
        p.join(timeout=300)
    stop.set()
    sequencer.join(timeout=60)
    assert all(p.exitcode == 0 for p in [*writers, sequencer])
    keys = audit.load_keys(Settings(), create=True)
    with world.session() as s:
        audit.sequence(s, keys, now=NOW)
    with world.session() as s:
        rows = s.execute(
            select(AuditEntry.seq, AuditEntry.detail, AuditEntry.leaf_index).where(
                AuditEntry.purpose == "concurrency"
            )
        ).all()
        total = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        heads = s.execute(select(func.count()).select_from(AuditTreeHead)).scalar_one()
    expected = WRITERS * TRANSACTIONS * PER_TRANSACTION
    assert len(rows) == expected
    marks = [(d["w"], d["t"], d["i"]) for d in (json.loads(r.detail) for r in rows)]
    assert len(set(marks)) == expected  # each append exactly once
    assert len({r.seq for r in rows}) == expected
    assert sorted(r.leaf_index for r in rows) == list(
        range(total - expected, total)
    )  # all in the tree, no gap
    assert heads >= 2  # the sequencer folded while the writers wrote
    with world.session() as s:
        result = audit.verify(s, keys=keys)
    assert result.ok, result.problems
    assert result.entries == total and result.pending == 0
