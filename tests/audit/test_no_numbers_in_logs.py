"""No ID number in the logs (issue 18): after the reads and writes that name a person by number — 查人知住 by
POST, a search by name and ID suffix, a department's batch with a known, an unknown and a mistyped number, a
conflict — the audit log, its Merkle tree, the exchange log, the conflicts queue and the batch records hold none of
the numbers, neither as written nor normalised. Read byte by byte (PostgreSQL: COPY of each table; SQLite: every
value of each row)."""

from __future__ import annotations

import datetime as dt
import importlib
import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from liangshi import migrate, sealed
from liangshi.checks import service as checks
from liangshi.db import make_engine
from liangshi.departments.service.feeds_in import department_record_id
from liangshi.models import Base
from liangshi.mpi.models import PersonSourceRecord
from tests.conftest import INSIDE, World
from tests.departments.helpers import department, person
from tests.factories import make_id

RECID = importlib.import_module("liangshi.migrations.versions.0053_recid_keyed_record_ids")

# Where the logs of reads and writes, and the records of batches and conflicts, are kept.
LOGS = (
    "audit_log",
    "audit_tree_nodes",
    "audit_tree_heads",
    "exchange_log",
    "exchange_conflicts",
    "department_batches",
    "import_batches",
    "import_audit_entries",
    "sync_items",
)


def _table_bytes(engine: Engine, table: str) -> bytes:
    """Every stored value of one table, as bytes."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            assert raw is not None
            buf = io.BytesIO()
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                for block in copy:
                    buf.write(bytes(block))
            return buf.getvalue()
        out = io.BytesIO()
        for row in conn.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                out.write(value if isinstance(value, bytes) else str(value).encode())
                out.write(b"\t")
        return out.getvalue()


def _reads_and_a_batch(world: World, client: TestClient, login: Any) -> tuple[str, str, str]:
    """The reads and the batch that name persons by number; returns (known, unknown, mistyped) numbers."""
    department(world)
    _, number = person(world, phone="13812345678")
    unknown = make_id("420704", dt.date(1985, 3, 4), 411)
    mistyped = number[:-1] + ("0" if number[-1] != "0" else "1")
    police = login("police_liu")
    found = client.post("/persons/lookup", json={"id_number": number}, headers=police)
    assert found.status_code == 200 and found.json()
    assert (
        client.get("/persons/search", params={"q": "张伟 " + number[-4:]}, headers=police).status_code == 200
    )
    batch = client.post(
        "/departments/health/batches",
        json={
            "kind": "persons",
            "records": [
                {"id_number": number, "phone": "13987654321"},
                {"id_number": unknown, "phone": "13711112222"},
                {"id_number": mistyped, "phone": "13600001111"},
            ],
        },
        headers=login("health_liaison_wang"),
    )
    assert batch.status_code == 201, batch.text
    assert [r["field"] for r in batch.json()["rejected"]] == ["id_number"]
    return number, unknown, mistyped


def test_no_id_number_in_the_audit_log_the_exchange_log_or_the_batch_records(
    world: World, engine: Engine, client: TestClient, login: Any
) -> None:
    assert set(LOGS) <= set(Base.metadata.tables)
    number, unknown, mistyped = _reads_and_a_batch(world, client, login)
    stored = {table: _table_bytes(engine, table) for table in LOGS}
    # The scan reads what was logged: the lookup, the search and the batch left entries...
    assert stored["audit_log"] and stored["exchange_log"] and stored["department_batches"]
    # ...and none of the numbers, in any table of the logs.
    leaks = {
        (table, n)
        for table, data in stored.items()
        for n in (number, unknown, mistyped, number.lower())
        if n.encode() in data
    }
    assert leaks == set()


def test_a_department_record_is_known_by_the_keyed_hash_of_its_number(
    world: World, engine: Engine, client: TestClient, login: Any
) -> None:
    _, unknown, _ = _reads_and_a_batch(world, client, login)
    expected = department_record_id(sealed.keyring(engine.dialect), "resident_id", unknown)
    with world.session() as s:
        ids = list(s.execute(select(PersonSourceRecord.source_record_id)).scalars())
    assert expected in ids and not any(unknown in i for i in ids)


def test_the_migration_rewrites_old_record_ids_and_the_downgrade_restores_them(
    engine: Engine, tmp_path: Path
) -> None:
    """On a database of its own (SQLite file; the SQL is the same on PostgreSQL): a record id of the old form is
    rewritten, one of another form (a caller's own record id) is left alone."""
    number = make_id("420704", dt.date(1977, 7, 7), 413)
    fresh = make_engine(f"sqlite:///{tmp_path / 'recid.db'}")
    sealed.use_keyring(fresh.dialect, sealed.keyring(engine.dialect))
    rows = "SELECT source_record_id FROM person_source_records ORDER BY id"
    try:
        migrate.upgrade(fresh)
        migrate.downgrade(fresh, RECID.down_revision)
        with fresh.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO areas (id, code, level, path, county_code, version, created_at)"
                    " VALUES (1, '420704', 'county', '/420704/', '420704', 1, '2026-01-01 00:00:00')"
                )
            )
            area = 1
            for rid in (f"resident_id:{number}", "h1"):
                conn.execute(
                    text(
                        "INSERT INTO person_source_records (source, source_record_id, id_number, status, area_id,"
                        " county_code, created_at, updated_at) VALUES ('health', :rid, :n, 'review', :a,"
                        " '420704', '2026-11-27 00:00:00', '2026-11-27 00:00:00')"
                    ),
                    {"rid": rid, "n": number, "a": area},
                )
        migrate.upgrade(fresh)
        with fresh.connect() as conn:
            after = list(conn.execute(text(rows)).scalars())
        assert after == [department_record_id(sealed.keyring(fresh.dialect), "resident_id", number), "h1"]
        migrate.downgrade(fresh, RECID.down_revision)
        with fresh.connect() as conn:
            assert list(conn.execute(text(rows)).scalars()) == [f"resident_id:{number}", "h1"]
    finally:
        fresh.dispose()


# The department records the person index and the checks keep: sealed at rest (migration 0055_seal18b).
SOURCE_TABLES = ("person_source_records", "check_source_records")


def test_no_id_number_in_clear_in_the_department_records_after_a_linkage_run_and_a_checks_run(
    world: World, engine: Engine, client: TestClient, login: Any, tmp_path: Path
) -> None:
    # The linkage run: the department batch resolved against the register by the person index.
    number, unknown, mistyped = _reads_and_a_batch(world, client, login)
    # The checks run: a person file and a rental file with a registered and an unregistered number.
    tenant = make_id("420704", dt.date(1991, 2, 3), 415)
    landlord = make_id("420704", dt.date(1960, 6, 6), 417)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in unknown)  # full width, as a file may write it
    files = {
        "persons": "证件号码,姓名,性别,出生日期,管辖社区\n"
        f"{number},张伟,1,1990-01-01,{INSIDE}\n{number},张卫,1,1990-01-01,{INSIDE}\n"
        f"{wide},李雷,1,1985-03-04,{INSIDE}\n",
        "rentals": "出租人证件号码,社区代码,门牌号,楼栋,房号,租赁起始日期,签订治安责任书,承租人证件号码\n"
        f"{landlord},{INSIDE},12,3,501,2026-01-01,否,{number};{tenant}\n",
    }
    with world.session() as s:
        for kind, content in files.items():
            path = tmp_path / f"{kind}.csv"
            path.write_text(content, encoding="utf-8")
            assert checks.load_source(s, world.ctx(s), source=f"file_{kind}", kind=kind, path=path).kept
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s), area_code=INSIDE)
    assert {f.check for f in result.found} >= {"rental.tenant_unregistered", "person.duplicate"}
    stored = {table: _table_bytes(engine, table) for table in SOURCE_TABLES}
    assert all(stored.values()), "the run left records in both tables"
    numbers = (number, unknown, mistyped, tenant, landlord, wide, number.lower(), unknown.lower())
    leaks = {(table, n) for table, data in stored.items() for n in numbers if n.encode() in data}
    assert leaks == set()
