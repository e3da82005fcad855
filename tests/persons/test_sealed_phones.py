"""Phone numbers encrypted at rest (issue 18): no clear number in the database's bytes, search and linkage by
the keyed-hash index, the bulk writers sealing what they copy, the rotation re-encrypting the rows."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from liangshi import migrate, registry, sealed
from liangshi.access.service import SYSTEM
from liangshi.cli.main import app
from liangshi.common.fieldcrypt import Keyring
from liangshi.db import make_engine
from liangshi.exchange import service as exchange
from liangshi.models import Base
from liangshi.mpi import service as mpi
from liangshi.mpi.service.records import candidate_person_ids, normalise
from liangshi.persons import service as persons
from liangshi.persons.models import PersonVersion
from liangshi.persons.schemas import DocumentIn, PersonCreate
from liangshi.registry import Context, Provenance
from tests.conftest import INSIDE, World
from tests.factories import make_id
from tests.mpi.helpers import rec

# The migration that seals the phones (its revision before it is where the downgrade goes).
SEALING = importlib.import_module("liangshi.migrations.versions.0051_sec18_sealed_phones")
BORN = dt.date(1979, 6, 7)
# Numbers no other test uses, so that a dump finds no leftover of another test.
PROV = Provenance("collector", "collector_zhang", "observed")
PHONES = ("13907141597", "15827063318", "18672905544", "13545109826")
runner = CliRunner()


def _create(s: Session, ctx: Context, world: World, seq: int, phone: str) -> int:
    snap = persons.create_person(
        s,
        ctx,
        PersonCreate(
            area_id=world.area(INSIDE),
            name="柯明",
            sex="1" if seq % 2 else "2",
            phone=phone,
            documents=[DocumentIn(doc_type="resident_id", number=make_id("420704", BORN, seq))],
        ),
    )
    return int(snap.entity.id)


def _dump(engine: Engine) -> dict[str, bytes]:
    """The stored bytes: per table (PostgreSQL: COPY ... TO STDOUT), or the SQLite file and its WAL."""
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        return {p.name: p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()}
    found: dict[str, bytes] = {}
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for table in Base.metadata.sorted_tables:
            buf = io.BytesIO()
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" TO STDOUT') as copy:
                for block in copy:
                    buf.write(bytes(block))
            found[table.name] = buf.getvalue()
    return found


def _populate(world: World, tmp_path: Path) -> int:
    """Persons with phones through every write path: create, change (the kernel copies the open row), a CSV import
    (the COPY loader) and a department record resolved by the MPI; returns the changed person's id."""
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = _create(s, ctx, world, 301, PHONES[0])
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            pid,
            {"phone": "+86" + PHONES[1]},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason="new phone",
        )
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["证件号码", "性别", "姓名", "管辖社区", "联系电话"])
        writer.writerow([make_id("420704", BORN, 303), "男", "柯亮", INSIDE, PHONES[2]])
    result = exchange.import_file(
        world.sessions, kind="persons", path=path, source="health", actor=SYSTEM, clock=world.clock
    )
    assert (result.loaded, result.errors) == (1, [])
    with world.session() as s:
        [res] = mpi.resolve(
            s,
            world.ctx(s, "police_liu"),
            [rec("h1", name="柯英", phone=PHONES[3])],
            source="health",
            batch_ref="b1",
        )
    assert res.record_id == "h1"
    return pid


def _raw(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_no_clear_phone_number_in_the_stored_bytes(world: World, engine: Engine, tmp_path: Path) -> None:
    _populate(world, tmp_path)
    dump = _dump(engine)
    # The dump reads what the tests wrote (the names are stored in clear)...
    assert any("柯亮".encode() in data for data in dump.values())
    # ...and finds none of the phone numbers, neither as typed nor in E.164.
    leaks = {(name, p) for name, data in dump.items() for p in PHONES if p.encode() in data}
    assert leaks == set()


def test_every_write_path_stores_a_ciphertext_with_the_index_of_the_clear_value(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    pid = _populate(world, tmp_path)
    ring = sealed.keyring(engine.dialect)
    rows = _raw(engine, "SELECT phone, phone_idx FROM person_versions WHERE phone IS NOT NULL")
    assert len(rows) >= 3
    for token, idx in rows:
        assert token.startswith("v1:")
        assert idx == ring.index("person.phone", ring.decrypt("person.phone", token))
    [(token,)] = _raw(engine, "SELECT phone FROM person_source_records")
    assert ring.decrypt("source_record.phone", token) == "+86" + PHONES[3]
    with world.session() as s:
        found = {
            (v.superseded_at is None, v.phone): v.phone_idx
            for v in s.scalars(select(PersonVersion).where(PersonVersion.entity_id == pid))
        }
    # The change copied the open row: the new version has the new number's index, the old keeps its own.
    assert found == {
        (True, "+86" + PHONES[1]): ring.index("person.phone", "+86" + PHONES[1]),
        (False, "+86" + PHONES[0]): ring.index("person.phone", "+86" + PHONES[0]),
    }


def test_search_by_phone_and_linkage_find_through_the_index(world: World, tmp_path: Path) -> None:
    pid = _populate(world, tmp_path)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        page = persons.search_persons(
            s, ctx, name=None, id_number=None, phone=PHONES[1], area_id=None, offset=0, limit=10
        )
        assert [int(item.entity.id) for item in page.items] == [pid]
        old = persons.search_persons(
            s, ctx, name=None, id_number=None, phone=PHONES[0], area_id=None, offset=0, limit=10
        )
        assert old.items == []
        # The MPI's candidate search (a department record with only a name and the phone) finds the person.
        norm = normalise(rec("h9", name="柯明", sex=None, birth=None, phone=PHONES[1]), world.clock.today())
        assert pid in candidate_person_ids(s, world.ctx(s, "police_liu"), [norm])


def test_a_sealed_column_refuses_to_be_compared_in_sql() -> None:
    with pytest.raises(TypeError, match="index column"):
        select(PersonVersion.row_id).where(PersonVersion.phone == "+8613800138000")
    with pytest.raises(TypeError, match="index column"):
        select(PersonVersion.row_id).where(PersonVersion.phone.in_(["+8613800138000"]))
    select(PersonVersion.row_id).where(PersonVersion.phone.is_(None))


def _copy_sqlite(engine: Engine, target: Path) -> Engine:
    source = sqlite3.connect(str(engine.url.database))
    copy = sqlite3.connect(str(target))
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return make_engine(f"sqlite:///{target}")


def test_the_migration_encrypts_an_existing_database_and_the_downgrade_decrypts_it(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip(
            "a copy of the session's database: SQLite's backup API (the SQL is the same on PostgreSQL)"
        )
    _populate(world, tmp_path)
    copy = _copy_sqlite(engine, tmp_path / "copy.db")
    sealed.use_keyring(copy.dialect, sealed.keyring(engine.dialect))
    try:
        migrate.downgrade(copy, SEALING.down_revision)  # to just before the phones were sealed
        clear = _raw(copy, "SELECT phone FROM person_versions WHERE phone IS NOT NULL ORDER BY row_id")
        assert sorted(p for (p,) in clear) == sorted("+86" + p for p in PHONES[:3])
        migrate.upgrade(copy)
        report = sealed.check(copy, Base.metadata, sealed.keyring(copy.dialect))
        assert (
            report["person_versions.phone"].ok and sum(report["person_versions.phone"].by_key.values()) == 3
        )
        assert report["person_source_records.phone"].ok
        rows = _raw(copy, "SELECT phone FROM person_versions WHERE phone IS NOT NULL")
        assert all(token.startswith("v1:") for (token,) in rows)
    finally:
        copy.dispose()


def test_rotation_reencrypts_every_row_resumably_and_check_verifies(
    world: World, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("runs on a copy of the session's database (SQLite's backup API)")
    _populate(world, tmp_path)
    path = tmp_path / "copy.db"
    copy = _copy_sqlite(engine, path)
    copy.dispose()
    keys = tmp_path / "field.keys"
    sealed.keyring(engine.dialect).save(keys)
    monkeypatch.delenv("LIANGSHI_FIELD_KEYS", raising=False)
    monkeypatch.setenv("LIANGSHI_FIELD_KEY_FILE", str(keys))
    monkeypatch.setenv("LIANGSHI_DATABASE_URL", f"sqlite:///{path}")
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    shown = json.loads(rotated.output)
    assert (shown["primary"], shown["rows"]["person_versions.phone"]) == ("k2", 3)
    assert shown["rows"]["person_source_records.phone"] == 1
    checked = runner.invoke(app, ["keys", "check"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["rows"]["person_versions.phone"] == {"k2": 3}
    # A rotation stopped after its first row: running the pass again rewrites the rest, and only the rest.
    rotated = runner.invoke(app, ["keys", "rotate", "--no-rows"])
    ring = Keyring.load(None, str(keys))
    first = make_engine(f"sqlite:///{path}")
    with first.begin() as conn:
        row_id, token = conn.execute(
            text("SELECT row_id, phone FROM person_versions WHERE phone IS NOT NULL ORDER BY row_id LIMIT 1")
        ).one()
        conn.execute(
            text("UPDATE person_versions SET phone = :t WHERE row_id = :r"),
            {"t": ring.reencrypt("person.phone", token), "r": row_id},
        )
    first.dispose()
    resumed = runner.invoke(app, ["keys", "reencrypt"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.output)["rows"]["person_versions.phone"] == 2
    assert json.loads(runner.invoke(app, ["keys", "check"]).output)["rows"]["person_versions.phone"] == {
        "k3": 3
    }
    # A value under a key the keyring no longer holds fails the check (exit 2, the rows named).
    tampered = make_engine(f"sqlite:///{path}")
    with tampered.begin() as conn:
        conn.execute(
            text("UPDATE person_versions SET phone = :t WHERE row_id = :r"),
            {"t": Keyring.generate("k9").encrypt("person.phone", "+8613800138000"), "r": row_id},
        )
    tampered.dispose()
    bad = runner.invoke(app, ["keys", "check"])
    assert bad.exit_code == 2 and "keys.rows_bad" in bad.output and str(row_id) in bad.output
