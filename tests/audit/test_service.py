"""The audit log as a transparency log: appended without a lock, folded into a signed Merkle tree, tamper-evident.

Each way of tampering the issue names (truncation, deletion of the tail, rewriting, a recomputed tree,
reordering, a forged signature) is made here by hand against the tables and must be found by `verify`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from liangshi import registry
from liangshi.access.service import SYSTEM
from liangshi.audit import rules
from liangshi.audit import service as audit
from liangshi.audit.keys import Keyring
from liangshi.audit.models import AuditEntry, AuditTreeHead, AuditTreeNode
from liangshi.cli.main import app as cli
from liangshi.config import Settings
from liangshi.errors import Conflict
from liangshi.persons import service as persons
from tests import factories
from tests.conftest import INSIDE, World


@pytest.fixture
def keys() -> Keyring:
    """The test run's signing key (in its data folder) and public keys."""
    return audit.load_keys(Settings(), create=True)


def _activity(world: World, reads: int = 3) -> int:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang", purpose="入户核查")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
    for _ in range(reads):
        with world.session() as s:
            registry.read(s, world.ctx(s, "police_liu"), persons.PERSON, pid)
    return pid


def _sequence(world: World, keys: Keyring) -> audit.Sequenced:
    with world.session() as s:
        return audit.sequence(s, keys, now=world.clock.now())


def _verify(world: World, keys: Keyring | None, head: audit.Head | None = None) -> audit.VerifyResult:
    with world.session() as s:
        return audit.verify(s, keys=keys, head=head)


def _kinds(result: audit.VerifyResult) -> set[str]:
    return {p["problem"] for p in result.problems}


def test_each_read_and_write_appends_an_entry_that_the_sequencer_folds_in_order(
    world: World, keys: Keyring
) -> None:
    pid = _activity(world)
    with world.session() as s:
        assert s.execute(select(func.count()).where(AuditEntry.leaf_index.is_not(None))).scalar_one() == 0
    done = _sequence(world, keys)
    assert done.added == done.tree_size and done.head is not None
    with world.session() as s:
        entries = list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
        mine = [e for e in entries if e.subject_person_id == pid]
        assert [e.action for e in mine] == ["person.create", "document.create"] + ["person.read"] * 3
        assert mine[0].actor_name == "collector_zhang" and mine[0].purpose == "入户核查"
        assert [e.leaf_index for e in entries] == list(range(len(entries)))
        assert all(e.leaf_hash == audit.hash_of(e) for e in entries)
        root = rules.root_of([bytes.fromhex(e.leaf_hash) for e in entries]).hex()
    assert done.head.root_hash == root and done.head.tree_size == len(entries)
    assert keys.check(done.head.key_id, done.head.message(), done.head.signature) is None
    result = _verify(world, keys)
    assert result.ok, result.problems
    assert result.entries == len(entries) and result.heads_checked == 1 and result.signatures_checked


def test_a_second_sequencer_run_extends_the_tree_and_signs_a_second_head(world: World, keys: Keyring) -> None:
    pid = _activity(world, reads=1)
    first = _sequence(world, keys)
    assert _sequence(world, keys).added == 0
    with world.session() as s:
        registry.read(s, world.ctx(s, "police_liu"), persons.PERSON, pid)
    second = _sequence(world, keys)
    assert second.added == 1 and second.tree_size == first.tree_size + 1
    assert first.head is not None and second.head is not None
    with world.session() as s:
        proof = audit.consistency_proof(s, first.tree_size, second.tree_size)
    assert proof is not None and audit.check_consistency(first.head, second.head, proof)
    result = _verify(world, keys)
    assert result.ok and result.heads_checked == 2


def test_writers_take_no_database_wide_lock(world: World, engine: Engine) -> None:
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        _activity(world, reads=2)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("insert into audit_log" in q for q in statements)
    assert not [q for q in statements if "advisory" in q or "lock table" in q or "for update" in q]


def test_verify_detects_an_altered_entry(world: World, keys: Keyring) -> None:
    _activity(world)
    _sequence(world, keys)
    with world.session() as s:
        victim = s.execute(
            select(AuditEntry.seq).where(AuditEntry.action == "person.read").limit(1)
        ).scalar_one()
        s.execute(update(AuditEntry).where(AuditEntry.seq == victim).values(actor_name="someone_else"))
    result = _verify(world, keys)
    assert not result.ok
    assert {
        "seq": victim,
        "problem": "altered",
        "leaf_index": result.problems[0]["leaf_index"],
    } in result.problems


def test_verify_detects_a_rewritten_entry_with_its_leaf_hash_recomputed(world: World, keys: Keyring) -> None:
    _activity(world)
    _sequence(world, keys)
    with world.session() as s:
        first = s.execute(select(AuditEntry).order_by(AuditEntry.leaf_index).limit(1)).scalar_one()
        first.actor_name = "forger"
        first.leaf_hash = audit.hash_of(first)
    result = _verify(world, keys)
    assert "altered" not in _kinds(result)  # the entry agrees with its own hash now …
    assert "tree_mismatch" in _kinds(result)  # … but not with the signed root


def test_verify_detects_a_recomputed_tree_signed_with_another_key(world: World, keys: Keyring) -> None:
    _activity(world)
    _sequence(world, keys)
    forger = Keyring(signer=Ed25519PrivateKey.generate())
    with world.session() as s:
        # Rewrite an entry, then rebuild everything the database holds: leaves, nodes, heads.
        s.execute(update(AuditEntry).where(AuditEntry.leaf_index == 0).values(purpose="nothing to see"))
        for e in s.execute(select(AuditEntry)).scalars():
            e.leaf_hash = audit.hash_of(e)
            e.leaf_index = None
        s.execute(delete(AuditTreeNode))
        s.execute(delete(AuditTreeHead))
        s.flush()
        audit.sequence(s, forger, now=world.clock.now())
    result = _verify(world, keys)
    assert _kinds(result) == {"unknown_key"}


def test_verify_detects_a_forged_signature(world: World, keys: Keyring) -> None:
    _activity(world)
    head = _sequence(world, keys).head
    assert head is not None
    with world.session() as s:
        bad = bytearray(bytes.fromhex(head.root_hash))
        bad[0] ^= 1
        s.execute(update(AuditTreeHead).values(root_hash=bad.hex()))
    result = _verify(world, keys)
    assert {"bad_signature", "tree_mismatch"} <= _kinds(result)
    with world.session() as s:
        s.execute(
            update(AuditTreeHead).values(root_hash=head.root_hash, signature=head.signature[:-4] + "AAA=")
        )
    assert "bad_signature" in _kinds(_verify(world, keys))


def test_verify_detects_the_deletion_of_the_last_entry_and_of_the_last_ten(
    world: World, keys: Keyring
) -> None:
    _activity(world, reads=12)
    size = _sequence(world, keys).tree_size
    with world.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.leaf_index == size - 1))
    result = _verify(world, keys)
    assert {"seq": None, "problem": "truncated", "tree_size": size, "entries": size - 1} in result.problems
    with world.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.leaf_index >= size - 10))
    result = _verify(world, keys)
    assert {"seq": None, "problem": "truncated", "tree_size": size, "entries": size - 10} in result.problems


def test_verify_detects_a_deleted_entry_in_the_middle(world: World, keys: Keyring) -> None:
    _activity(world)
    _sequence(world, keys)
    with world.session() as s:
        victim = s.execute(select(AuditEntry.seq).where(AuditEntry.leaf_index == 2)).scalar_one()
        s.execute(delete(AuditEntry).where(AuditEntry.seq == victim))
    result = _verify(world, keys)
    assert any(p["problem"] == "missing" and p["missing_from"] == 2 for p in result.problems)
    assert "truncated" in _kinds(result)  # four leaves left under a head signed over five


def test_verify_detects_reordered_entries(world: World, keys: Keyring) -> None:
    _activity(world)
    _sequence(world, keys)
    with world.session() as s:
        a, b = s.execute(select(AuditEntry).where(AuditEntry.leaf_index.in_([1, 3]))).scalars()
        first, second = a.leaf_index, b.leaf_index
        a.leaf_index = None
        s.flush()
        b.leaf_index = first
        s.flush()
        a.leaf_index = second
    result = _verify(world, keys)
    assert _kinds(result) == {"tree_mismatch"}


def test_truncating_the_whole_log_is_detected_by_the_heads_and_by_a_published_head(
    world: World, keys: Keyring
) -> None:
    _activity(world)
    published = _sequence(world, keys).head
    assert published is not None
    with world.session() as s:
        s.execute(delete(AuditEntry))
    assert "truncated" in _kinds(_verify(world, keys))
    with world.session() as s:
        s.execute(delete(AuditTreeNode))
        s.execute(delete(AuditTreeHead))
    # Nothing left in the database to contradict: the head published elsewhere does.
    assert _verify(world, keys).ok
    assert "truncated" in _kinds(_verify(world, keys, published))


def test_a_history_rebuilt_by_the_real_sequencer_is_inconsistent_with_a_published_head(
    world: World, keys: Keyring
) -> None:
    _activity(world)
    published = _sequence(world, keys).head
    assert published is not None
    with world.session() as s:
        # The insider deletes one entry and makes the system re-sequence and re-sign what is left.
        s.execute(delete(AuditEntry).where(AuditEntry.leaf_index == 1))
        s.execute(update(AuditEntry).values(leaf_index=None))
        s.execute(delete(AuditTreeNode))
        s.execute(delete(AuditTreeHead))
    _activity(world)
    _sequence(world, keys)
    assert _verify(world, keys).ok  # signed with the real key, internally consistent …
    result = _verify(world, keys, published)
    assert "inconsistent" in _kinds(result)  # … but not an extension of what was published
    assert result.consistency is not None and result.consistency["ok"] is False


def test_an_honest_log_is_consistent_with_every_earlier_published_head(world: World, keys: Keyring) -> None:
    _activity(world)
    published = _sequence(world, keys).head
    _activity(world)
    _sequence(world, keys)
    result = _verify(world, keys, published)
    assert result.ok, result.problems
    assert result.consistency is not None and result.consistency["ok"] is True


def test_the_sequencer_refuses_to_extend_a_damaged_tree(world: World, keys: Keyring) -> None:
    _activity(world)
    size = _sequence(world, keys).tree_size
    with world.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.leaf_index == size - 1))
    _activity(world, reads=1)
    with pytest.raises(Conflict) as exc:
        _sequence(world, keys)
    assert exc.value.code == "audit.tree_damaged"


def test_heads_signed_before_a_key_rotation_still_verify(world: World, keys: Keyring, tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path))
    before = audit.load_keys(settings, create=True)
    _activity(world)
    _sequence(world, before)
    old, new = audit.rotate_key(settings)
    assert old == before.signer_id and new != old
    after = audit.load_keys(settings)
    assert after.signer_id == new and set(after.public) == {old, new}
    _activity(world, reads=1)
    _sequence(world, after)
    assert _verify(world, after).ok
    assert (tmp_path / "audit-keys" / "signing.key").stat().st_mode & 0o777 == 0o600


def test_a_persons_access_log_entries_come_with_inclusion_proofs(world: World, keys: Keyring) -> None:
    pid = _activity(world)
    _sequence(world, keys)
    with world.session() as s:
        rows, total = audit.access_log(s, pid, limit=50, offset=0)
        head = audit.latest_head(s)
        assert head is not None
        proofs = audit.inclusion_proofs(
            s, [r.leaf_index for r in rows if r.leaf_index is not None], head.tree_size
        )
    assert total == 5 and len(proofs) == 5
    for r in rows:
        assert r.leaf_index is not None
        assert audit.check_inclusion(r.leaf_index, audit.hash_of(r), proofs[r.leaf_index], head)
        assert not audit.check_inclusion(r.leaf_index, "00" * 32, proofs[r.leaf_index], head)


def test_cli_head_and_verify_with_a_published_head(world: World, db_url: str, tmp_path: Path) -> None:
    _activity(world)
    runner = CliRunner()
    env = {"LIANGSHI_DATABASE_URL": db_url}
    printed = runner.invoke(cli, ["audit", "head"], env=env)
    assert printed.exit_code == 0, printed.output
    head = json.loads(printed.stdout)
    assert head["tree_size"] >= 5 and len(head["root_hash"]) == 64
    published = tmp_path / "head.json"
    published.write_text(printed.stdout)
    ok = runner.invoke(cli, ["audit", "verify", "--json", "--head", str(published)], env=env)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["consistency"]["ok"] is True
    with world.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.leaf_index == 0).values(detail="{}"))
    bad = runner.invoke(cli, ["audit", "verify", "--json"], env=env)
    assert bad.exit_code == 1
    assert '"altered"' in bad.stdout
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    refused = runner.invoke(cli, ["audit", "verify", "--head", str(junk)], env=env)
    assert refused.exit_code == 2 and "audit.bad_head" in refused.output


def test_archive_exports_old_entries_with_proofs_and_keeps_them(world: World, keys: Keyring) -> None:
    import datetime as dt
    import io

    _activity(world)
    _sequence(world, keys)
    today = world.clock.today()
    with world.session() as s:
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.leaf_index < 2)
            .values(at=world.clock.now() - dt.timedelta(days=400))
        )
        for e in s.execute(select(AuditEntry).where(AuditEntry.leaf_index < 2)).scalars():
            e.leaf_hash = audit.hash_of(e)  # as if written then (the tree is rebuilt below)
            e.leaf_index = None
        s.execute(update(AuditEntry).values(leaf_index=None))
        s.execute(delete(AuditTreeNode))
        s.execute(delete(AuditTreeHead))
    _sequence(world, keys)
    with world.session() as s:
        count = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        with pytest.raises(Exception) as exc:
            audit.archive(
                s, SYSTEM, io.StringIO(), before=today, today=today, now=world.clock.now(), retention_days=183
            )
        assert getattr(exc.value, "code", None) == "audit.within_retention"
        sink = io.StringIO()
        written = audit.archive(
            s, SYSTEM, sink, before=today - dt.timedelta(days=200), today=today, now=world.clock.now(),
            retention_days=183,
        )  # fmt: skip
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    head = audit.Head.from_json(lines[0]["head"])
    assert written == 2 and len(lines) == 3
    for entry in lines[1:]:
        assert audit.check_inclusion(entry["leaf_index"], entry["leaf_hash"], entry["proof"], head)
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == count + 1
    assert _verify(world, keys).ok


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


def test_verify_without_keys_still_checks_the_entries_not_yet_in_the_tree(world: World) -> None:
    _activity(world)
    result = _verify(world, None)
    assert result.ok and result.pending == 5 and result.entries == 0
    with world.session() as s:
        victim = s.execute(select(AuditEntry.seq).order_by(AuditEntry.seq).limit(1)).scalar_one()
        s.execute(update(AuditEntry).where(AuditEntry.seq == victim).values(detail="{}"))
    assert {"seq": victim, "problem": "altered", "leaf_index": None} in _verify(world, None).problems


def test_the_servers_sequencer_folds_new_entries_within_a_second(world: World, keys: Keyring) -> None:
    import threading
    import time

    _activity(world, reads=1)
    stop = threading.Event()
    thread = audit.start_sequencer(world.sessions, keys, world.clock, every=0.2, stop=stop)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with world.session() as s:
                if audit.latest_head(s) is not None:
                    break
            time.sleep(0.05)
        with world.session() as s:
            head = audit.latest_head(s)
            unsequenced = s.execute(select(func.count()).where(AuditEntry.leaf_index.is_(None))).scalar_one()
    finally:
        stop.set()
        thread.join(timeout=5)
    assert head is not None and head.tree_size == 3 and unsequenced == 0
    assert not thread.is_alive()
