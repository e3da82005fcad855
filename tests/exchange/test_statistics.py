"""Statistics after bulk work (issue 19): what a bulk job loaded is analysed on PostgreSQL, so that 查人知住 right
after an import finds the person through the document number's index, not by walking another index whole."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from liangshi import bulk
from liangshi.access.service import SYSTEM
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.departments.service import feeds_in
from liangshi.persons.models import Document, DocumentVersion, Person
from liangshi.residence import service as residence
from liangshi.residence.models import Residence
from liangshi.synth import write_city
from liangshi.synth.load import load_police_extracts
from tests.conftest import World
from tests.departments.helpers import department, person

TODAY = dt.date(2026, 11, 27)  # the test clock's day
LOADED = ("persons", "person_versions", "documents", "document_versions", "residences", "residence_versions")


def _postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_bulk_writers_count_the_rows_each_table_received_and_the_count_restarts(world: World) -> None:
    with world.session() as s:
        top = s.execute(select(Person.id).order_by(Person.id.desc()).limit(1)).scalar() or 0
        now = bulk.stamp(s, world.clock.now())
        area = world.area("420704001001")
        rows = [(top + i, "420704", 1, now, area) for i in range(1, 4)]
        bulk.insert_tuples(s, Person, ["id", "county_code", "version", "created_at", "area_id"], iter(rows))
        assert bulk.take_loaded(s) == {"persons": 3}
        assert bulk.take_loaded(s) == {}
        s.rollback()


def test_analyse_skips_tables_with_few_new_rows_and_does_nothing_on_sqlite(
    world: World, engine: Engine
) -> None:
    with world.session() as s:
        before = None if _postgres(engine) else _sqlite_stats(s)
        assert bulk.analyse(s, {"persons": bulk.ANALYSE_MIN_ROWS - 1}) == []
        analysed = bulk.analyse(s, {"persons": bulk.ANALYSE_MIN_ROWS, "documents": 5})
        assert analysed == (["persons"] if _postgres(engine) else [])
        if not _postgres(engine):
            # Nothing ran: SQLite's statistics (if another test's work made any) are as they were.
            assert _sqlite_stats(s) == before


def _sqlite_stats(s: Any) -> list[tuple[Any, ...]] | None:
    """The rows of SQLite's sqlite_stat1 table, or None when no ANALYZE ever ran on the database."""
    if s.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None:
        return None
    return [
        tuple(r) for r in s.execute(text("SELECT tbl, idx, stat FROM sqlite_stat1 ORDER BY tbl, idx")).all()
    ]


def _explain(engine: Engine, sql: str, params: Any) -> str:
    with engine.connect() as conn:
        return "\n".join(conn.exec_driver_sql("EXPLAIN " + sql, params).scalars())


def test_an_import_on_postgresql_is_analysed_and_the_lookup_then_uses_the_document_number_index(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    if not _postgres(engine):
        pytest.skip("statistics are PostgreSQL's (SQLite plans without them)")
    write_city(tmp_path, persons=1500, seed=5, today=TODAY)
    with engine.connect() as conn:
        started = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    load_police_extracts(world.sessions, tmp_path, actor=SYSTEM, clock=world.clock)
    with world.session() as s:
        analysed = dict(
            s.execute(
                text("SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname = ANY(:t)"),
                {"t": list(LOADED)},
            ).all()
        )
        assert set(analysed) == set(LOADED)
        late = {t: at for t, at in analysed.items() if at is None or at < started}
        assert not late, f"not analysed after the import: {late}"
        # A person with a residence, looked up by the resident ID number they hold.
        person_id = s.execute(
            select(Residence.person_id).order_by(Residence.id).offset(500).limit(1)
        ).scalar_one()
        number = s.execute(
            select(DocumentVersion.number)
            .join(Document, Document.id == DocumentVersion.entity_id)
            .where(Document.person_id == person_id, DocumentVersion.doc_type == "resident_id")
        ).scalar_one()
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with world.session() as s:
            found = residence.where_lives_by_document(s, world.ctx(s, "police_liu"), number)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert found["person_id"] == person_id and found["current"]

    def plan_of(pattern: str) -> str:
        [(sql, params)] = [(q, p) for q, p in statements if re.match(pattern, " ".join(q.split()))]
        return _explain(engine, sql, params)

    # The two queries that, before any ANALYZE, walk a whole index (the current-version unique index of
    # document_versions; residence_versions' entity index for every residence) instead of looking the value up.
    by_number = plan_of(r"SELECT documents\.person_id FROM documents JOIN document_versions")
    assert "ix_document_versions_number_idx" in by_number, by_number
    residences = plan_of(r"SELECT residences\.person_id, residences\.dwelling_id, residences\.id")
    assert "ix_residences_person_id" in residences, residences


def test_a_department_batch_analyses_the_versions_it_wrote(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    department(world)
    _, number = person(world, occupation=None)
    seen: list[dict[str, int]] = []
    monkeypatch.setattr(feeds_in, "analyse", lambda session, loaded: seen.append(dict(loaded)) or [])
    table = departments.FeedTable(
        "feed.csv", ["证件号码", "联系电话", "职业"], [(2, [number, "13812345678", "护士"])], "0" * 64
    )
    with world.session() as s:
        result = departments.submit_batch(
            s,
            world.ctx(s, "health_liaison_wang"),
            department="health",
            kind="persons",
            table=table,
            precedence=rules.load_precedence(),
        )
    assert result.applied == 2
    [loaded] = seen
    assert loaded.get("person_versions", 0) >= 1
