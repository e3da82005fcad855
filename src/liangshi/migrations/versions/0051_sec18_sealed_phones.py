"""phone numbers encrypted at rest

Revision ID: 0051
Revises: 0051_perf14
Create Date: 2026-12-03 06:20:00

Issue 18, item 4 (等保 level 3): stored as AES-256-GCM ciphertexts (`liangshi.sealed`) from here on: the phone
numbers of persons (`person_versions.phone`, with a keyed-hash index `phone_idx`, HMAC-SHA256, that search and
linkage compare instead of the number) and of department source records (`person_source_records.phone`); the
change sets' items and payloads (they carry the proposed persons' ID and phone numbers); the department
exchange's conflict values and suggested values. The phone columns widen to hold a ciphertext; existing values
are encrypted in batches of 5,000 rows (keyset order; values already encrypted are skipped, so an interrupted run
is simply run again). The keyring is the engine's (LIANGSHI_FIELD_KEYS, LIANGSHI_FIELD_KEY_FILE, else
`<data_dir>/field-keys/keyring.json`, made on first use). Downgrade decrypts them again. On SQLite the type change
rebuilds `person_versions`: run it through `liangshi db upgrade` (`liangshi.migrate`, which switches SQLite's
foreign keys off around the rebuild and checks them before the commit).
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from liangshi.common.fieldcrypt import VERSION, Keyring
from liangshi.sealed import keyring

revision: str = "0051"
down_revision: str | None = "0051_perf14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
PREFIX = f"{VERSION}:"


def _rewrite(
    table: str,
    pk: str,
    column: str,
    index: str | tuple[str, ...] | None,
    change: Callable[[str], tuple[str, Any] | None],
) -> None:
    """Rewrite the non-null values of a column in keyset batches; `change` gives (new value, index) or None.
    `index` may name several index columns (0057_seal18c: the number's index and its tails): `change` then gives
    their entries as a list, in that order."""
    bind = op.get_bind()
    several = isinstance(index, tuple)
    columns = list(index) if isinstance(index, tuple) else []
    sets = f"{column} = :value" + (
        "".join(f", {c} = :idx{i}" for i, c in enumerate(columns))
        if several
        else (f", {index} = :idx" if index else "")
    )
    update = sa.text(f"UPDATE {table} SET {sets} WHERE {pk} = :pk")
    last = None
    while True:
        after = "" if last is None else f" AND {pk} > :last"
        rows = bind.execute(
            sa.text(
                f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL{after} ORDER BY {pk} LIMIT :n"
            ),
            {"n": BATCH, "last": last},
        ).all()
        if not rows:
            return
        params = []
        for key, value in rows:
            changed = change(value)
            if changed is not None:
                entries = {f"idx{i}": e for i, e in enumerate(changed[1])} if several else {"idx": changed[1]}
                params.append({"pk": key, "value": changed[0], **entries})
        if params:
            bind.execute(update, params)
        last = rows[-1][0]


def _sealer(ring: Keyring, field: str) -> Callable[[str], tuple[str, str | None] | None]:
    def seal(value: str) -> tuple[str, str | None] | None:
        # Encrypted values start so, clear ones do not (E.164 starts with "+", JSON with "[" or "{", a conflict
        # value is a field's value: a number, a code, a date, a name).
        if value.startswith(PREFIX):
            return None
        return ring.encrypt(field, value), ring.index(field, value)

    return seal


def _opener(ring: Keyring, field: str) -> Callable[[str], tuple[str, str | None] | None]:
    def open_(value: str) -> tuple[str, str | None] | None:
        if not value.startswith(PREFIX):
            return None
        return ring.decrypt(field, value), None

    return open_


def upgrade() -> None:
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_versions_phone"))
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=20), type_=sa.String(length=120), existing_nullable=True
        )
        batch_op.add_column(sa.Column("phone_idx", sa.String(length=64), nullable=True))
    with op.batch_alter_table("person_source_records", schema=None) as batch_op:
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=20), type_=sa.String(length=120), existing_nullable=True
        )
    ring = keyring(op.get_bind().dialect)
    _rewrite("person_versions", "row_id", "phone", "phone_idx", _sealer(ring, "person.phone"))
    _rewrite("person_source_records", "id", "phone", None, _sealer(ring, "source_record.phone"))
    _rewrite("change_sets", "id", "items", None, _sealer(ring, "change_set.items"))
    _rewrite("change_sets", "id", "payload", None, _sealer(ring, "change_set.payload"))
    for column in ("register_value", "department_value"):
        _rewrite("exchange_conflicts", "id", column, None, _sealer(ring, f"exchange_conflict.{column}"))
    _rewrite("department_feedback", "id", "suggested_value", None, _sealer(ring, "feedback.suggested_value"))
    # The index after the values: one build instead of an update per row.
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_versions_phone_idx"), ["phone_idx"], unique=False)


def downgrade() -> None:
    ring = keyring(op.get_bind().dialect)
    _rewrite("person_versions", "row_id", "phone", None, _opener(ring, "person.phone"))
    _rewrite("person_source_records", "id", "phone", None, _opener(ring, "source_record.phone"))
    _rewrite("change_sets", "id", "items", None, _opener(ring, "change_set.items"))
    _rewrite("change_sets", "id", "payload", None, _opener(ring, "change_set.payload"))
    for column in ("register_value", "department_value"):
        _rewrite("exchange_conflicts", "id", column, None, _opener(ring, f"exchange_conflict.{column}"))
    _rewrite("department_feedback", "id", "suggested_value", None, _opener(ring, "feedback.suggested_value"))
    with op.batch_alter_table("person_source_records", schema=None) as batch_op:
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=120), type_=sa.String(length=20), existing_nullable=True
        )
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_versions_phone_idx"))
        batch_op.drop_column("phone_idx")
        batch_op.alter_column(
            "phone", existing_type=sa.String(length=120), type_=sa.String(length=20), existing_nullable=True
        )
        batch_op.create_index(batch_op.f("ix_person_versions_phone"), ["phone"], unique=False)
