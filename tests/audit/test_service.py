"""The audit log: every read of personal data and every write, hash-chained, tamper-evident."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.audit.models import AuditEntry
from liangshi.cli.main import app as cli
from liangshi.errors import Conflict
from liangshi.persons import service as persons
from tests import factories
from tests.conftest import INSIDE, World


def _activity(world: World) -> int:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang", purpose="入户核查")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
    for _ in range(3):
        with world.session() as s:
            registry.read(s, world.ctx(s, "police_liu"), persons.PERSON, pid)
    return pid


def test_each_read_and_write_appends_a_chained_entry(world: World) -> None:
    pid = _activity(world)
    with world.session() as s:
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
        mine = [e for e in entries if e.subject_person_id == pid]
        assert [e.action for e in mine] == ["person.create", "document.create"] + ["person.read"] * 3
        assert mine[0].actor_name == "collector_zhang" and mine[0].purpose == "入户核查"
        for before, after in itertools.pairwise(entries):
            assert after.prev_hash == before.hash and after.seq == before.seq + 1
        assert audit.verify(s).ok


def test_verify_detects_an_altered_entry(world: World) -> None:
    _activity(world)
    with world.session() as s:
        victim = s.execute(
            select(AuditEntry.seq).where(AuditEntry.action == "person.read").limit(1)
        ).scalar_one()
        s.execute(update(AuditEntry).where(AuditEntry.seq == victim).values(actor_name="someone_else"))
    with world.session() as s:
        result = audit.verify(s)
    assert not result.ok
    assert {"seq": victim, "problem": "altered"} in result.problems


def test_verify_detects_a_deleted_entry(world: World) -> None:
    _activity(world)
    with world.session() as s:
        victim = s.execute(select(AuditEntry.seq).order_by(AuditEntry.seq).offset(2).limit(1)).scalar_one()
        s.execute(delete(AuditEntry).where(AuditEntry.seq == victim))
    with world.session() as s:
        problems = audit.verify(s).problems
    assert any(p["problem"] == "missing" and p["missing_from"] == victim for p in problems)
    assert any(p["problem"] == "broken_link" for p in problems)


def test_verify_detects_a_rehashed_entry_that_breaks_the_next_link(world: World) -> None:
    _activity(world)
    with world.session() as s:
        first = s.execute(select(AuditEntry).order_by(AuditEntry.seq).limit(1)).scalar_one()
        # A forger who recomputes the altered entry's own hash still breaks the link to the next entry.
        first.actor_name = "forger"
        first.hash = audit.entry_hash(
            seq=first.seq,
            at=first.at,
            actor_id=first.actor_id,
            actor_name="forger",
            action=first.action,
            object_kind=first.object_kind,
            object_id=first.object_id,
            subject_person_id=first.subject_person_id,
            purpose=first.purpose,
            detail=first.detail,
            prev_hash=first.prev_hash,
        )
    with world.session() as s:
        assert {"seq": first.seq + 1, "problem": "broken_link"} in audit.verify(s).problems


def test_cli_audit_verify_exits_1_on_tampering(world: World, db_url: str, monkeypatch: object) -> None:
    _activity(world)
    runner = CliRunner()
    env = {"LIANGSHI_DATABASE_URL": db_url}
    ok = runner.invoke(cli, ["audit", "verify", "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    with world.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(detail="{}"))
    bad = runner.invoke(cli, ["audit", "verify", "--json"], env=env)
    assert bad.exit_code == 1
    assert '"altered"' in bad.output


def test_failed_write_leaves_no_audit_entry(world: World) -> None:
    with world.session() as s:
        count = len(list(s.execute(select(AuditEntry.seq)).scalars()))
    with pytest.raises(Conflict) as exc, world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        factories.person(s, ctx, area_id=world.area(INSIDE), id_number=factories.make_id(seq=101))
        factories.person(s, ctx, area_id=world.area(INSIDE), id_number=factories.make_id(seq=101))
    assert exc.value.code == "person.document_taken"
    with world.session() as s:
        assert len(list(s.execute(select(AuditEntry.seq)).scalars())) == count
