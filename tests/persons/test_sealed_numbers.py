"""The register's own document numbers are stored encrypted (issue 18): ciphertext in `document_versions.number`,
its keyed-hash indexes beside it (`number_idx`, `number_tail4_idx`, `number_tail9_idx`), the clear value through the
model; 查人知住, the search by number and by the last digits with a name, the uniqueness of a current document and
the checks keep working; no table holds a register number in clear after a small city is built, looked up, checked
and exported; migration 0057_seal18c seals existing rows, runs again and its downgrade opens them (on a database of
its own, SQLite or PostgreSQL as the run's)."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from liangshi import migrate, sealed
from liangshi.checks import service as checks
from liangshi.db import make_engine
from liangshi.errors import Conflict
from liangshi.exchange import parquet
from liangshi.models import Base
from liangshi.mpi.service import search as mpi_search
from liangshi.persons import service as persons
from liangshi.persons.models import DocumentVersion
from liangshi.persons.schemas import DocumentIn, PersonCreate
from tests import factories
from tests.audit.test_no_numbers_in_logs import _table_bytes
from tests.conftest import INSIDE, World, _create_pg_database

SEALING = importlib.import_module("liangshi.migrations.versions.0057_seal18c_sealed_document_numbers")


def _raw(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _city(world: World) -> list[str]:
    """A few persons (one with a wrong check character, one with a passport); returns their numbers."""
    numbers = []
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        for i, name in enumerate(("张伟", "李娜", "王芳", "赵强")):
            number = factories.make_id("420704", dt.date(1980 + i, 3, 4), 411 + 2 * i)
            factories.person(s, ctx, area_id=area, name=name, birth=dt.date(1980 + i, 3, 4), id_number=number)
            numbers.append(number)
        persons.create_person(
            s,
            ctx,
            PersonCreate(
                area_id=area,
                name="周敏",
                sex="2",
                birth_date=dt.date(1991, 5, 6),
                documents=[DocumentIn(doc_type="passport", number="E87654321", country="CHN")],
                valid_from=dt.date(2020, 1, 1),
            ),
        )
        numbers.append("E87654321")
    return numbers


def test_a_document_number_is_stored_as_ciphertext_with_its_indexes(world: World, engine: Engine) -> None:
    [number, *_] = _city(world)
    ring = sealed.keyring(engine.dialect)
    [(token, idx, tail4, tail9)] = _raw(
        engine,
        "SELECT number, number_idx, number_tail4_idx, number_tail9_idx FROM document_versions"
        " WHERE number_idx = :i",
        i=ring.index("document.number", number),
    )
    assert token.startswith("v1:") and number not in token
    assert ring.decrypt("document.number", token) == number
    assert idx == ring.index("document.number", number)
    assert tail4 == ring.index("document.number.tail4", number[-4:])
    assert tail9 == ring.index("document.number.tail9", number[-9:])
    [(passport_tail9,)] = _raw(
        engine, "SELECT number_tail9_idx FROM document_versions WHERE doc_type = 'passport'"
    )
    assert passport_tail9 is None  # the 9-character tail only of an 18-character number
    with world.session() as s:
        # The model gives the clear value; comparing the sealed column in SQL is refused.
        assert number in set(s.execute(select(DocumentVersion.number)).scalars())
        with pytest.raises(TypeError):
            select(DocumentVersion).where(DocumentVersion.number == number)
    report = sealed.check(engine, Base.metadata, ring)["document_versions.number"]
    assert report.ok and sum(report.by_key.values()) == 5


def test_lookups_search_and_uniqueness_go_through_the_index(world: World) -> None:
    numbers = _city(world)
    with world.session() as s:
        ctx = world.ctx(s)
        holder = persons.person_id_by_document(s, ctx, numbers[1])
        assert holder is not None
        page = persons.search_persons(
            s, ctx, name=None, id_number=numbers[1], phone=None, area_id=None, offset=0, limit=10
        )
        assert [p.entity.id for p in page.items] == [holder]
        assert persons.person_id_by_document(s, ctx, "E87654321") is not None
        # The last digits of an ID number beside a name: 4, 6 and 3 of them.
        for tail in (numbers[1][-4:], numbers[1][-6:], numbers[1][-3:]):
            found, _ = mpi_search.forgiving_search(s, ctx, f"李娜 {tail}")
            assert [r["snapshot"].entity.id for r in found] == [holder], tail
        wrong = "0000" if numbers[1][-4:] != "0000" else "1111"
        assert mpi_search.forgiving_search(s, ctx, f"李娜 {wrong}")[0] == []
    with world.session() as s, pytest.raises(Conflict):
        # One current holder per number: the second person with it is refused.
        factories.person(
            s,
            world.ctx(s),
            area_id=world.area(INSIDE),
            name="钱多",
            birth=dt.date(1980, 3, 4),
            id_number=numbers[0],
        )


def test_no_register_number_in_clear_in_any_table_after_lookups_checks_and_an_export(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    numbers = _city(world)
    with world.session() as s:
        ctx = world.ctx(s)
        for number in numbers:
            assert persons.person_id_by_document(s, ctx, number) is not None
        mpi_search.forgiving_search(s, ctx, f"张伟 {numbers[0][-4:]}")
    with world.session() as s:
        checks.run_checks(s, world.ctx(s), area_code=INSIDE)
    with world.session() as s:
        parquet.export_parquet(s, world.ctx(s), area_code="420700", directory=tmp_path / "export")
    scanned = sorted(Base.metadata.tables)  # every table of the schema
    assert "document_versions" in scanned and len(scanned) > 70
    leaks = {
        (table, n)
        for table in scanned
        for n in numbers
        if (data := _table_bytes(engine, table)) and (n.encode() in data or n.lower().encode() in data)
    }
    assert leaks == set()


def _database_of_its_own(engine: Engine, tmp_path: Path) -> tuple[Engine, Any]:
    if engine.dialect.name == "postgresql":
        url, drop = _create_pg_database()
        return make_engine(url), drop
    return make_engine(f"sqlite:///{tmp_path / 'seal18c.db'}"), lambda: None


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes(table)}


def test_the_migration_seals_existing_rows_and_the_downgrade_opens_them(
    engine: Engine, tmp_path: Path
) -> None:
    number = factories.make_id("420704", dt.date(1977, 7, 7), 623)
    fresh, drop = _database_of_its_own(engine, tmp_path)
    sealed.use_keyring(fresh.dialect, sealed.keyring(engine.dialect))
    ring = sealed.keyring(fresh.dialect)
    now = "2026-11-27 00:00:00+00" if fresh.dialect.name == "postgresql" else "2026-11-27 00:00:00"
    meta = "version, valid_from, recorded_at, change, source_kind, evidence, county_code"
    values = "1, '2020-01-01', :now, 'create', 'manual', 'none', '420704'"
    try:
        migrate.upgrade(fresh)
        migrate.downgrade(fresh, SEALING.down_revision)
        assert "ix_document_versions_number" in _indexes(fresh, "document_versions")
        with fresh.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO areas (id, code, level, path, county_code, version, created_at)"
                    " VALUES (1, '420704', 'county', '/420704/', '420704', 1, :now)"
                ),
                {"now": now},
            )
            for i in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO persons (id, county_code, version, created_at, area_id)"
                        f" VALUES ({i}, '420704', 1, :now, 1)"
                    ),
                    {"now": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO documents (id, county_code, version, created_at, area_id, person_id)"
                        f" VALUES ({i}, '420704', 1, :now, 1, {i})"
                    ),
                    {"now": now},
                )
            conn.execute(
                text(
                    f"INSERT INTO document_versions (row_id, entity_id, doc_type, number, country, {meta})"
                    f" VALUES (1, 1, 'resident_id', :n, 'CHN', {values}),"
                    f" (2, 2, 'passport', 'E12345678', 'CHN', {values})"
                ),
                {"n": number, "now": now},
            )
        migrate.upgrade(fresh)
        rows = _raw(
            fresh,
            "SELECT number, number_idx, number_tail4_idx, number_tail9_idx FROM document_versions ORDER BY row_id",
        )
        (token, idx, tail4, tail9), (passport, _, _, no_tail9) = rows
        assert token.startswith("v1:") and ring.decrypt("document.number", token) == number
        assert (idx, tail4, tail9) == (
            ring.index("document.number", number),
            ring.index("document.number.tail4", number[-4:]),
            ring.index("document.number.tail9", number[-9:]),
        )
        assert ring.decrypt("document.number", passport) == "E12345678" and no_tail9 is None
        present = _indexes(fresh, "document_versions")
        assert "ix_document_versions_number" not in present
        assert {
            "ix_document_versions_number_idx",
            "ix_document_versions_number_tail4_idx",
            "ix_document_versions_number_tail9_idx",
            "uq_document_versions_current",
        } <= present
        report = sealed.check(fresh, Base.metadata, ring)["document_versions.number"]
        assert report.ok and sum(report.by_key.values()) == 2
        with pytest.raises(IntegrityError), fresh.begin() as conn:
            # The uniqueness of a current document holds on the index.
            conn.execute(
                text(
                    f"INSERT INTO document_versions (row_id, entity_id, doc_type, number, number_idx, country,"
                    f" {meta}) VALUES (3, 2, 'resident_id', 'v1:x', :i, 'CHN', {values})"
                ),
                {"i": idx, "now": now},
            )
        migrate.upgrade(fresh)  # run again: nothing to do
        migrate.downgrade(fresh, SEALING.down_revision)
        assert _raw(fresh, "SELECT number FROM document_versions ORDER BY row_id") == [
            (number,),
            ("E12345678",),
        ]
        assert "ix_document_versions_number" in _indexes(fresh, "document_versions")
    finally:
        fresh.dispose()
        drop()
