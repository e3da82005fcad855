"""Department record ids in the master person index keyed-hashed, not the ID number

Revision ID: 0053_recid
Revises: 0052_sec18
Create Date: 2026-12-03 19:00:00

Issue 18: a department's record in the master person index (`person_source_records.source_record_id`) was
identified by `<doc_type>:<ID number>`, and that id is written into the audit log's details (`mpi.record_*`) and
shown on the review desk, so the audit log held ID numbers in clear. From here on the id is
`<doc_type>:<keyed hash of the number>` (`departments.service.feeds_in.department_record_id`, HMAC-SHA256 under the
field keyring's index key, 48 hex characters), stable for a number so that a record sent again is still
recognised. This rewrites the existing ids of that form — only rows whose id is exactly their document type, a
colon and their own `id_number` — in batches; a run interrupted is run again (rewritten rows no longer match).
Audit entries already written keep what they logged: the log is append-only and its tree would not verify.
Downgrade restores the numbers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from liangshi.sealed import keyring

revision: str = "0053_recid"
down_revision: str | None = "0052_sec18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELD = "department.record_number"  # feeds_in.RECORD_ID_FIELD (a migration keeps its own copy)
BATCH = 5000


def _rewrite(forward: bool) -> None:
    conn = op.get_bind()
    ring = keyring(conn.dialect)
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, source_record_id, id_number FROM person_source_records "
                "WHERE id > :last AND id_number IS NOT NULL ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        updates = []
        for row_id, record_id, number in rows:
            prefix, sep, rest = str(record_id).partition(":")
            hashed = ring.index(FIELD, number)[:48]
            if sep and forward and rest == number:
                updates.append({"i": row_id, "r": f"{prefix}:{hashed}"})
            elif sep and not forward and rest == hashed:
                updates.append({"i": row_id, "r": f"{prefix}:{number}"})
        if updates:
            conn.execute(
                sa.text("UPDATE person_source_records SET source_record_id = :r WHERE id = :i"), updates
            )
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(True)


def downgrade() -> None:
    _rewrite(False)
