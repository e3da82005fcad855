"""The audit log over HTTP: the signed head, verification, and a person's access log with inclusion proofs."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from liangshi.audit import rules
from liangshi.audit import service as audit
from liangshi.audit.models import AuditEntry
from tests.conftest import World
from tests.http.test_api import _person_body


def test_auditor_gets_the_signed_head_and_a_person_access_log_with_proofs(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("police_liu")  # issue 14: a collector's POST /persons is a change set, not a person
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    client.get(f"/persons/{pid}", headers=h)
    auditor = login("auditor_sun")
    head = client.get("/audit/head", headers=auditor)  # sequences first
    assert head.status_code == 200
    signed = audit.Head.from_json(head.json())
    ring = client.app.state.audit_keys  # type: ignore[attr-defined]
    assert ring.check(signed.key_id, signed.message(), signed.signature) is None
    log = client.get(f"/persons/{pid}/access-log", headers=auditor).json()
    assert log["tree_heads"] and log["tree_heads"][0] == head.json()
    proven = [e for e in log["entries"] if e["inclusion_proof"] is not None]
    assert {e["action"] for e in proven} >= {"person.create", "person.read"}
    for e in proven:
        assert e["proven"] is True and e["tree_size"] == signed.tree_size
        # What a reader can check alone: the leaf under the published root.
        assert rules.verify_inclusion(
            e["leaf_index"],
            signed.tree_size,
            bytes.fromhex(e["leaf_hash"]),
            [bytes.fromhex(p) for p in e["inclusion_proof"]],
            bytes.fromhex(signed.root_hash),
        )
    # A read after the head is not in the tree yet: shown as awaiting the sequencer, not as proven.
    client.get(f"/persons/{pid}", headers=h)
    again = client.get(f"/persons/{pid}/access-log", headers=auditor).json()
    pending = [e for e in again["entries"] if e["inclusion_proof"] is None]
    assert len(pending) == 1 and pending[0]["action"] == "person.read" and pending[0]["proven"] is False


def test_a_rewritten_entry_is_shown_unproven_and_verify_reports_it(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("police_liu")  # issue 14: a collector's POST /persons is a change set, not a person
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    auditor = login("auditor_sun")
    assert client.get("/audit/verify", headers=auditor).json()["ok"] is True
    with world.session() as s:
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.subject_person_id == pid, AuditEntry.action == "person.create")
            .values(actor_name="someone_else")
        )
    log = client.get(f"/persons/{pid}/access-log", headers=auditor).json()
    forged = [e for e in log["entries"] if e["action"] == "person.create"]
    assert forged and forged[0]["inclusion_proof"] and forged[0]["proven"] is False
    body = client.get("/audit/verify", headers=auditor).json()
    assert body["ok"] is False and "altered" in {p["problem"] for p in body["problems"]}


def test_only_verifiers_read_the_head(world: World, client: TestClient, login: Any) -> None:
    assert client.get("/audit/head", headers=login("collector_zhang")).status_code == 403
    assert client.get("/audit/head").status_code == 401
    assert client.get("/audit/head", headers=login("auditor_sun")).status_code == 404  # nothing logged yet
