"""The checks' findings are stored sealed (issue 18): `keys` and `evidence` as ciphertexts, the fingerprint the
keyed hash of the canonical keys; users see them as before (masked in the lists, whole in `--json`); a re-run still
recognises a finding; migration 0057_find18 seals existing findings so that they keep matching, is re-runnable,
and its downgrade opens them (on the suite's database and on a database of its own, SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from liangshi import migrate, sealed
from liangshi.checks import rules
from liangshi.checks import service as checks
from liangshi.checks.models import KEYS_FIELD, Finding
from liangshi.checks.service.run import fingerprint
from liangshi.cli.main import app
from liangshi.db import make_engine
from liangshi.models import Base
from tests import factories
from tests.checks.test_sealed_numbers import _database_of_its_own
from tests.conftest import INSIDE, World
from tests.departments.helpers import person
from tests.persons.test_sealed_phones import _copy_sqlite, runner

FINDINGS = importlib.import_module("liangshi.migrations.versions.0057_find18_sealed_findings")


def _raw(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _files(world: World, tmp_path: Path) -> tuple[str, str, str]:
    """A register person, a file naming her twice and a rental with an unregistered tenant and a landlord;
    returns (her number, the tenant's, the landlord's)."""
    _, known = person(world, name="王芳", male=False)
    tenant = factories.make_id("420704", dt.date(1988, 8, 8), 719)
    landlord = factories.make_id(seq=723)
    files = {
        ("persons", "justice_persons"): "证件号码,姓名,性别,出生日期,管辖社区\n"
        f"{known},王方,2,1990-01-01,{INSIDE}\n",
        (
            "rentals",
            "housing_rentals",
        ): "出租人证件号码,社区代码,门牌号,楼栋,房号,租赁起始日期,承租人证件号码\n"
        f"{landlord},{INSIDE},12,3,501,2026-01-01,{tenant}\n",
    }
    with world.session() as s:
        for (kind, name), content in files.items():
            path = tmp_path / f"{name}.csv"
            path.write_text(content, encoding="utf-8")
            assert checks.load_source(s, world.ctx(s), source=name, kind=kind, path=path).kept
    return known, tenant, landlord


def _run(world: World) -> checks.RunResult:
    with world.session() as s:
        return checks.run_checks(s, world.ctx(s), area_code=INSIDE)


def test_a_finding_is_stored_sealed_and_recognised_by_the_keyed_hash_of_its_keys(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    known, tenant, landlord = _files(world, tmp_path)
    result = _run(world)
    ring = sealed.keyring(engine.dialect)
    rows = _raw(engine, "SELECT check_code, keys, evidence, fingerprint FROM check_findings")
    assert rows
    for _code, keys, evidence, print_ in rows:
        assert keys.startswith("v1:") and evidence.startswith("v1:") and len(print_) == 64
        clear = ring.decrypt(KEYS_FIELD, keys)
        assert print_ == ring.index(KEYS_FIELD, rules.canonical_keys(json.loads(clear)))
        assert not any(n in keys + evidence + print_ for n in (known, tenant, landlord))
    # Read through the model, keys and evidence are what the run found, numbers included.
    with world.session() as s:
        stored = {
            (f.check_code, f.keys): json.loads(f.evidence) for f in s.execute(select(Finding)).scalars()
        }
    for f in result.found:
        assert (f.check, json.dumps(f.keys, ensure_ascii=False)) in stored
    named = {f.keys.get("id_number") for f in result.found} | {
        f.evidence.get("landlord_id_number") for f in result.found
    }
    assert {known, tenant, landlord} <= named
    # Equal keys, equal fingerprints; the key order does not matter; a different number, another fingerprint.
    keys = {"doc_type": "resident_id", "id_number": tenant}
    assert fingerprint(ring, keys) == fingerprint(ring, dict(reversed(list(keys.items()))))
    assert fingerprint(ring, keys) != fingerprint(ring, {**keys, "id_number": known})


def test_the_lists_mask_and_the_json_line_shows_the_numbers_as_before(
    world: World, tmp_path: Path, client: TestClient, login: Any
) -> None:
    known, tenant, _ = _files(world, tmp_path)
    result = _run(world)
    assert tenant in {f.line()["keys"].get("id_number") for f in result.found}  # the `--json` line, whole
    listed = client.get("/checks/findings", params={"area": INSIDE}, headers=login("police_liu"))
    assert listed.status_code == 200, listed.text
    body = listed.text
    assert listed.json()["items"] and tenant not in body and known not in body
    unregistered = [i for i in listed.json()["items"] if i["check"] == "rental.tenant_unregistered"]
    assert unregistered and unregistered[0]["keys"]["id_number"].startswith(tenant[:6])


def _in_migration(engine: Engine, step: Callable[[], None]) -> None:
    """Run one of the migration's steps on the suite's database (its data only; the schema does not change)."""
    with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        step()


def test_existing_findings_keep_matching_after_the_migration(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    _files(world, tmp_path)
    first = _run(world)
    with world.session() as s:
        dismissed = s.execute(select(Finding.id).order_by(Finding.id)).scalars().first()
        assert dismissed is not None
        checks.dismiss_finding(s, world.ctx(s), dismissed, reason="现场核实无误")
    before = _raw(engine, "SELECT id, status, keys FROM check_findings ORDER BY id")
    _in_migration(engine, FINDINGS.downgrade)  # the findings as stored before 0057: in clear
    old = _raw(engine, "SELECT keys, fingerprint FROM check_findings ORDER BY id")
    assert all(k.startswith("{") and p == rules.canonical_keys(json.loads(k))[:400] for k, p in old)
    # An upgrade interrupted after its first batch: the first finding sealed, the others still in clear.
    ring = sealed.keyring(engine.dialect)
    [(first_id, k, e)] = _raw(engine, "SELECT id, keys, evidence FROM check_findings ORDER BY id LIMIT 1")
    sealed_row = FINDINGS._sealer(ring)(k, e)
    assert sealed_row is not None
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE check_findings SET keys = :k, evidence = :e, fingerprint = :f WHERE id = :i"),
            {"i": first_id, "k": sealed_row[0], "e": sealed_row[1], "f": sealed_row[2]},
        )
    _in_migration(engine, FINDINGS.upgrade)  # run again: it seals the rest
    _in_migration(engine, FINDINGS.upgrade)  # and again: nothing left to do
    after = _raw(engine, "SELECT id, status, keys FROM check_findings ORDER BY id")
    assert [(i, s) for i, s, _ in after] == [(i, s) for i, s, _ in before]
    assert all(k.startswith("v1:") for _, _, k in after)
    again = _run(world)
    assert (again.opened, again.closed, again.dismissed_kept) == (0, 0, 1)
    assert len(again.found) == len(first.found)
    report = sealed.check(engine, Base.metadata, sealed.keyring(engine.dialect))
    assert report["check_findings.keys"].ok and report["check_findings.evidence"].ok


def test_the_migration_seals_up_runs_again_and_opens_down(engine: Engine, tmp_path: Path) -> None:
    number = factories.make_id("420704", dt.date(1977, 7, 7), 721)
    keys = json.dumps({"id_number": number, "doc_type": "resident_id"}, ensure_ascii=False)
    evidence = json.dumps({"landlord_id_number": number, "source": "housing_rentals"}, ensure_ascii=False)
    fresh, drop = _database_of_its_own(engine, tmp_path)
    sealed.use_keyring(fresh.dialect, sealed.keyring(engine.dialect))
    ring = sealed.keyring(fresh.dialect)
    now = "2026-11-27 00:00:00+00" if fresh.dialect.name == "postgresql" else "2026-11-27 00:00:00"
    try:
        migrate.upgrade(fresh)
        migrate.downgrade(fresh, FINDINGS.down_revision)
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
                    "INSERT INTO check_runs (id, area_id, checks, actor_name, started_at, found, opened, closed)"
                    " VALUES (1, 1, 'person.duplicate', 'system', :now, 1, 1, 0)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO check_findings (id, check_code, fingerprint, object_kind, keys, evidence, status,"
                    " area_id, county_code, owner, first_run_id, last_run_id, opened_at) VALUES (1,"
                    " 'person.duplicate', :p, 'person', :k, :e, 'dismissed', 1, '420704', 'police', 1, 1, :now)"
                ),
                {"p": rules.canonical_keys(json.loads(keys))[:400], "k": keys, "e": evidence, "now": now},
            )
        migrate.upgrade(fresh)
        [(k, e, p)] = _raw(fresh, "SELECT keys, evidence, fingerprint FROM check_findings")
        assert number not in k + e + p
        assert ring.decrypt("check_finding.keys", k) == keys
        assert ring.decrypt("check_finding.evidence", e) == evidence
        assert p == fingerprint(ring, json.loads(keys))
        migrate.upgrade(fresh)  # at head: nothing to do
        migrate.downgrade(fresh, FINDINGS.down_revision)
        assert _raw(fresh, "SELECT keys, evidence, fingerprint FROM check_findings") == [
            (keys, evidence, rules.canonical_keys(json.loads(keys))[:400])
        ]
    finally:
        fresh.dispose()
        drop()


def test_keys_rotate_and_check_cover_the_findings_and_their_fingerprints_stand(
    world: World, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("runs on a copy of the session's database (SQLite's backup API)")
    _files(world, tmp_path)
    _run(world)
    before = _raw(engine, "SELECT id, fingerprint FROM check_findings ORDER BY id")
    path = tmp_path / "copy.db"
    _copy_sqlite(engine, path).dispose()
    keys = tmp_path / "field.keys"
    sealed.keyring(engine.dialect).save(keys)
    monkeypatch.delenv("LIANGSHI_FIELD_KEYS", raising=False)
    monkeypatch.setenv("LIANGSHI_FIELD_KEY_FILE", str(keys))
    monkeypatch.setenv("LIANGSHI_DATABASE_URL", f"sqlite:///{path}")
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    shown = json.loads(rotated.output)
    n = len(before)
    assert shown["rows"]["check_findings.keys"] == shown["rows"]["check_findings.evidence"] == n
    checked = runner.invoke(app, ["keys", "check"])
    assert checked.exit_code == 0, checked.output
    rows = json.loads(checked.output)["rows"]
    assert rows["check_findings.keys"] == rows["check_findings.evidence"] == {shown["primary"]: n}
    copy = make_engine(f"sqlite:///{path}")
    try:
        # The index key does not rotate: the fingerprints, and so a re-run's matching, stand.
        assert _raw(copy, "SELECT id, fingerprint FROM check_findings ORDER BY id") == before
    finally:
        copy.dispose()
