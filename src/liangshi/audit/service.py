"""Append to and verify the hash-chained audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.orm import Session

from liangshi.access.rules import Actor

# The action labels are part of the service's face (callers import only `audit.service`).
from liangshi.audit.actions import is_known
from liangshi.audit.actions import label as label
from liangshi.audit.actions import labels as labels
from liangshi.audit.models import AuditEntry
from liangshi.bulk import bulk_insert

GENESIS = "0" * 64
# From this many entries on, one append is written with the bulk writer.
BULK_ROWS = 100


@dataclass(frozen=True)
class Event:
    """One thing to log: an action on an object, possibly touching a person's data."""

    action: str
    object_kind: str | None = None
    object_id: int | None = None
    subject_person_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The actions form a closed enumeration (audit.actions): an unlisted one is a programming error.
        if not is_known(self.action):
            raise ValueError(f"audit action {self.action!r} is not enumerated in liangshi.audit.actions")


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_kind: str | None,
    object_id: int | None,
    subject_person_id: int | None,
    purpose: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    """SHA-256 over the entry's canonical JSON and the previous hash."""
    payload = json.dumps(
        [
            seq,
            at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            actor_id,
            actor_name,
            action,
            object_kind,
            object_id,
            subject_person_id,
            purpose,
            detail,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    # One writer extends the chain at a time; SQLite's BEGIN IMMEDIATE already serialises writers.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7400001)"))


def record(
    session: Session, actor: Actor, events: Sequence[Event], *, purpose: str | None, now: dt.datetime
) -> list[int]:
    """Append events to the chain in the caller's transaction (they commit or roll back with it); their seqs."""
    if not events:
        return []
    _lock_chain(session)
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    at = now.astimezone(dt.UTC)
    rows = []
    for event in events:
        seq += 1
        detail = json.dumps(event.detail, ensure_ascii=False, sort_keys=True, default=str)
        digest = entry_hash(
            seq=seq,
            at=at,
            actor_id=actor.user_id,
            actor_name=actor.username,
            action=event.action,
            object_kind=event.object_kind,
            object_id=event.object_id,
            subject_person_id=event.subject_person_id,
            purpose=purpose,
            detail=detail,
            prev_hash=prev,
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor_id": actor.user_id,
                "actor_name": actor.username,
                "action": event.action,
                "object_kind": event.object_kind,
                "object_id": event.object_id,
                "subject_person_id": event.subject_person_id,
                "purpose": purpose,
                "detail": detail,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    if len(rows) >= BULK_ROWS:
        # Big batches (imports, venue stays): COPY on PostgreSQL, the driver's executemany on SQLite.
        bulk_insert(session, AuditEntry, rows)
    else:
        # render_nulls: rows with and without a subject stay one executemany (the ORM splits them by key set).
        session.execute(insert(AuditEntry).execution_options(render_nulls=True), rows)
    return list(range(seq - len(rows) + 1, seq + 1))


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain."""

    entries: int
    problems: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        """True when every entry is intact and none is missing."""
        return not self.problems


def _stream(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = list(
            session.execute(
                select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def verify(session: Session, *, max_problems: int = 100) -> VerifyResult:
    """Recompute the chain: an altered entry breaks its hash, a deleted one leaves a gap or a broken link."""
    problems: list[dict[str, Any]] = []
    expected_seq, prev, count = 1, GENESIS, 0
    for entry in _stream(session):
        count += 1
        if entry.seq != expected_seq:
            problems.append({"seq": entry.seq, "problem": "missing", "missing_from": expected_seq})
        if entry.prev_hash != prev:
            problems.append({"seq": entry.seq, "problem": "broken_link"})
        digest = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_name=entry.actor_name,
            action=entry.action,
            object_kind=entry.object_kind,
            object_id=entry.object_id,
            subject_person_id=entry.subject_person_id,
            purpose=entry.purpose,
            detail=entry.detail,
            prev_hash=entry.prev_hash,
        )
        if digest != entry.hash:
            problems.append({"seq": entry.seq, "problem": "altered"})
        prev = entry.hash
        expected_seq = entry.seq + 1
        if len(problems) >= max_problems:
            break
    return VerifyResult(entries=count, problems=problems)


def access_log(
    session: Session, person_id: int, *, limit: int, offset: int, also: Collection[int] = ()
) -> tuple[list[AuditEntry], int]:
    """Who read or changed this person's data, newest first; `also`: further entries that concern the person.

    An entry names its person in `subject_person_id`; an entry about many persons at once (an import chunk's)
    names none, so the caller finds those and passes their seqs.
    """
    concerns = AuditEntry.subject_person_id == person_id
    if also:
        concerns = or_(concerns, AuditEntry.seq.in_(sorted(set(also))))
    base = select(AuditEntry).where(concerns)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = list(session.execute(base.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)).scalars())
    return rows, total


def details_of(session: Session, seqs: Collection[int]) -> dict[int, dict[str, Any]]:
    """The parsed detail of each of these entries, by seq."""
    if not seqs:
        return {}
    rows = session.execute(select(AuditEntry.seq, AuditEntry.detail).where(AuditEntry.seq.in_(sorted(seqs))))
    return {seq: json.loads(detail) for seq, detail in rows.all()}
