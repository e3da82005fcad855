"""The ID numbers of the person index's department records and of the department files held for the checks are
stored encrypted (issue 18): ciphertext in the table, the keyed-hash index beside it, the clear value through the
model; the checks still match them; migration 0055_seal18b seals existing rows and its downgrade opens them (on a
database of its own, SQLite or PostgreSQL as the run's)."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine

from liangshi import migrate, sealed
from liangshi.checks import service as checks
from liangshi.checks.models import SourceRecord
from liangshi.db import make_engine
from liangshi.mpi.models import PersonSourceRecord
from tests import factories
from tests.conftest import INSIDE, World, _create_pg_database
from tests.departments.helpers import department, person

SEALING = importlib.import_module("liangshi.migrations.versions.0055_seal18b_sealed_source_numbers")


def _raw(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _full_width(number: str) -> str:
    """A number in full-width characters (１２３…Ｘ), as a department's file sometimes writes it."""
    return "".join(chr(ord(c) + 0xFEE0) for c in number)


def _load(world: World, tmp_path: Path, kind: str, name: str, content: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(content, encoding="utf-8")
    with world.session() as s:
        loaded = checks.load_source(s, world.ctx(s), source=name, kind=kind, path=path)
    assert loaded.kept >= 1, loaded.problems


def _run(world: World, *codes: str) -> checks.RunResult:
    with world.session() as s:
        return checks.run_checks(s, world.ctx(s), area_code=INSIDE, codes=list(codes))


def test_the_department_files_numbers_are_stored_as_ciphertext_with_their_index(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    number = factories.make_id(seq=615)
    written = _full_width(number)  # as a department writes it, in full-width characters
    _load(
        world,
        tmp_path,
        "persons",
        "justice_persons",
        f"证件号码,姓名,性别,管辖社区\n{written},王芳,2,{INSIDE}\n",
    )
    ring = sealed.keyring(engine.dialect)
    [(as_written, norm, idx)] = _raw(
        engine, "SELECT id_number, id_norm, id_norm_idx FROM check_source_records"
    )
    assert as_written.startswith("v1:") and norm.startswith("v1:") and number not in as_written + norm
    # Under the documents' field name (0057_seal18c): the checks join it with `document_versions.number_idx`.
    assert idx == ring.index("document.number", number)
    with world.session() as s:
        assert s.execute(select(SourceRecord.id_number, SourceRecord.id_norm)).one() == (written, number)
    with pytest.raises(TypeError):
        select(SourceRecord.id).where(SourceRecord.id_norm == number)  # compared through the index only


def test_a_person_index_record_keeps_its_number_sealed_and_indexed(
    world: World, engine: Engine, client: TestClient, login: Any
) -> None:
    department(world)
    unknown = factories.make_id("420704", dt.date(1985, 3, 4), 617)
    batch = client.post(
        "/departments/health/batches",
        json={"kind": "persons", "records": [{"id_number": unknown, "phone": "13711112222"}]},
        headers=login("health_liaison_wang"),
    )
    assert batch.status_code == 201, batch.text
    [(token, idx)] = _raw(engine, "SELECT id_number, id_number_idx FROM person_source_records")
    assert token.startswith("v1:") and unknown not in token
    assert idx == sealed.keyring(engine.dialect).index("source_record.id_number", unknown)
    with world.session() as s:
        assert s.execute(select(PersonSourceRecord.id_number)).scalar_one() == unknown


def test_the_checks_match_the_sealed_numbers_with_the_register(world: World, tmp_path: Path) -> None:
    """person.duplicate, rental.tenant_unregistered and person.id_invalid read the opened numbers."""
    _, known = person(world, name="王芳", male=False)
    stranger = factories.make_id("420704", dt.date(1988, 8, 8), 619)
    bad = known[:-1] + ("0" if known[-1] != "0" else "1")
    landlord = factories.make_id(seq=623)
    _load(
        world,
        tmp_path,
        "persons",
        "justice_persons",
        "证件号码,姓名,性别,出生日期,管辖社区\n"
        f"{known},王芳,2,1990-01-01,{INSIDE}\n"  # the register's person, written alike: no finding
        f"{_full_width(known)},王方,2,1990-01-01,{INSIDE}\n"  # her number, another name: a duplicate
        f"{bad},王芳,2,1990-01-01,{INSIDE}\n",  # a wrong check digit, her name and birth: a duplicate, invalid
    )
    _load(
        world,
        tmp_path,
        "rentals",
        "housing_rentals",
        "出租人证件号码,社区代码,门牌号,楼栋,房号,租赁起始日期,承租人证件号码\n"
        f"{landlord},{INSIDE},12,3,501,2026-01-01,{known};{stranger}\n",  # one tenant registered, one not
    )
    result = _run(world, "person.duplicate", "rental.tenant_unregistered", "person.id_invalid")
    found = sorted((f.check, f.keys["id_number"], f.evidence.get("name")) for f in result.found)
    assert found == sorted(
        [
            ("person.duplicate", _full_width(known), "王方"),
            ("person.duplicate", bad, "王芳"),
            ("person.id_invalid", bad, None),
            ("rental.tenant_unregistered", stranger, None),
        ]
    )


def _database_of_its_own(engine: Engine, tmp_path: Path) -> tuple[Engine, Any]:
    if engine.dialect.name == "postgresql":
        url, drop = _create_pg_database()
        return make_engine(url), drop
    return make_engine(f"sqlite:///{tmp_path / 'seal18b.db'}"), lambda: None


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes(table)}


def test_the_migration_seals_existing_rows_and_the_downgrade_opens_them(
    engine: Engine, tmp_path: Path
) -> None:
    number = factories.make_id("420704", dt.date(1977, 7, 7), 621)
    written = _full_width(number)
    fresh, drop = _database_of_its_own(engine, tmp_path)
    sealed.use_keyring(fresh.dialect, sealed.keyring(engine.dialect))
    ring = sealed.keyring(fresh.dialect)
    now = "2026-11-27 00:00:00+00" if fresh.dialect.name == "postgresql" else "2026-11-27 00:00:00"
    try:
        migrate.upgrade(fresh)
        migrate.downgrade(fresh, SEALING.down_revision)
        assert "ix_person_source_records_id_number" in _indexes(fresh, "person_source_records")
        with fresh.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO areas (id, code, level, path, county_code, version, created_at)"
                    " VALUES (1, '420704', 'county', '/420704/', '420704', 1, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO person_source_records (id, source, source_record_id, id_number, status, area_id,"
                    " county_code, created_at, updated_at) VALUES (1, 'health', 'h1', :n, 'review', 1,"
                    " '420704', :now, :now)"
                ),
                {"n": number, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO check_source_records (id, source, kind, line, id_number, id_norm, county_code,"
                    " loaded_at) VALUES (1, 'justice_persons', 'persons', 2, :w, :n, '420704', :now)"
                ),
                {"w": written, "n": number, "now": now},
            )
        migrate.upgrade(fresh)
        [(token, idx)] = _raw(fresh, "SELECT id_number, id_number_idx FROM person_source_records")
        assert token.startswith("v1:") and ring.decrypt("source_record.id_number", token) == number
        assert idx == ring.index("source_record.id_number", number)
        [(as_written, norm, norm_idx)] = _raw(
            fresh, "SELECT id_number, id_norm, id_norm_idx FROM check_source_records"
        )
        assert ring.decrypt("check_source.id_number", as_written) == written
        assert ring.decrypt("check_source.id_norm", norm) == number
        assert norm_idx == ring.index("document.number", number)  # 0057_seal18c: joinable with the register
        assert "ix_person_source_records_id_number" not in _indexes(fresh, "person_source_records")
        assert "ix_person_source_records_id_number_idx" in _indexes(fresh, "person_source_records")
        assert "ix_check_source_records_id_norm_idx" in _indexes(fresh, "check_source_records")
        report = sealed.check(fresh, SourceRecord.metadata, ring)  # every sealed value opens, index right
        assert report["person_source_records.id_number"].ok and report["check_source_records.id_norm"].ok
        migrate.upgrade(fresh)  # run again: nothing to do
        migrate.downgrade(fresh, SEALING.down_revision)
        assert _raw(fresh, "SELECT id_number FROM person_source_records") == [(number,)]
        assert _raw(fresh, "SELECT id_number, id_norm FROM check_source_records") == [(written, number)]
        assert "ix_check_source_records_id_norm" in _indexes(fresh, "check_source_records")
    finally:
        fresh.dispose()
        drop()


def test_an_opener_opens_the_tokens_of_one_sealed_column_and_refuses_a_clear_one(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    number = factories.make_id(seq=625)
    _load(
        world,
        tmp_path,
        "persons",
        "justice_persons",
        f"证件号码,姓名,性别,管辖社区\n{number},王芳,2,{INSIDE}\n",
    )
    [(token,)] = _raw(engine, "SELECT id_norm FROM check_source_records")
    with world.session() as s:
        open_ = sealed.opener(s, SourceRecord.id_norm)
        assert (open_(token), open_(None)) == (number, None)
        with pytest.raises(TypeError):
            sealed.opener(s, SourceRecord.name)
