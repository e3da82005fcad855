"""the checks' findings sealed at rest: natural keys and evidence encrypted, the fingerprint a keyed hash

Revision ID: 0057_find18
Revises: 0055_cpu19
Create Date: 2026-12-07 14:40:00

Issue 18, item 4 (等保 level 3): a finding's natural keys name a person by the ID number as the register or the
department's file wrote it, and its evidence names landlords by theirs. `check_findings.keys` (field
`check_finding.keys`) and `check_findings.evidence` (field `check_finding.evidence`) are stored as AES-256-GCM
ciphertexts (`liangshi.sealed.SealedText`) from here on, and `check_findings.fingerprint`, how a re-run
recognises a finding (it was the canonical keys in clear, cut at 400 characters), is the keyed hash of the
canonical keys: `HMAC-SHA256(index key, "check_finding.keys" NUL <canonical keys>)`
(`checks.service.run.fingerprint`), recomputed here for every existing finding so that the next run still
recognises it (keeps what was dismissed, closes what was fixed). Rows are rewritten in keyset batches of 5,000;
a row whose keys are already a ciphertext is skipped, so an interrupted run is simply run again. Downgrade opens
them again and writes the clear fingerprint back.
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from liangshi.common.fieldcrypt import VERSION, Keyring
from liangshi.sealed import keyring

revision: str = "0057_find18"
down_revision: str | None = "0055_cpu19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
PREFIX = f"{VERSION}:"
KEYS = "check_finding.keys"
EVIDENCE = "check_finding.evidence"


def _canonical(keys: str) -> str:
    # As `checks.rules.canonical_keys` writes them (a migration does not import the domain it migrates).
    return json.dumps(json.loads(keys), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _rewrite(change: Callable[[str, str], tuple[str, str, str] | None]) -> None:
    """Rewrite every finding in keyset batches; `change(keys, evidence)` gives (keys, evidence, fingerprint) or
    None (nothing to do for that row)."""
    bind = op.get_bind()
    update = sa.text("UPDATE check_findings SET keys = :k, evidence = :e, fingerprint = :f WHERE id = :pk")
    last: Any = None
    while True:
        after = "" if last is None else " WHERE id > :last"
        rows = bind.execute(
            sa.text(f"SELECT id, keys, evidence FROM check_findings{after} ORDER BY id LIMIT :n"),
            {"n": BATCH, "last": last},
        ).all()
        if not rows:
            return
        params = []
        for pk, keys, evidence in rows:
            changed = change(keys, evidence)
            if changed is not None:
                params.append({"pk": pk, "k": changed[0], "e": changed[1], "f": changed[2]})
        if params:
            bind.execute(update, params)
        last = rows[-1][0]


def _sealer(ring: Keyring) -> Callable[[str, str], tuple[str, str, str] | None]:
    def seal(keys: str, evidence: str) -> tuple[str, str, str] | None:
        if keys.startswith(PREFIX):  # sealed by an earlier, interrupted run (keys and evidence go together)
            return None
        sealed_evidence = evidence if evidence.startswith(PREFIX) else ring.encrypt(EVIDENCE, evidence)
        return ring.encrypt(KEYS, keys), sealed_evidence, ring.index(KEYS, _canonical(keys))

    return seal


def _opener(ring: Keyring) -> Callable[[str, str], tuple[str, str, str] | None]:
    def open_(keys: str, evidence: str) -> tuple[str, str, str] | None:
        if not keys.startswith(PREFIX):
            return None
        clear = ring.decrypt(KEYS, keys)
        clear_evidence = ring.decrypt(EVIDENCE, evidence) if evidence.startswith(PREFIX) else evidence
        return clear, clear_evidence, _canonical(clear)[:400]

    return open_


def upgrade() -> None:
    _rewrite(_sealer(keyring(op.get_bind().dialect)))


def downgrade() -> None:
    _rewrite(_opener(keyring(op.get_bind().dialect)))
