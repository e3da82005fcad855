"""Append to the audit log without a lock; fold it into a signed Merkle tree; verify it; prove entries in it.

A transparency log in the manner of RFC 6962 / Trillian. Writers (`record`) append entries with their leaf hash in
the caller's transaction and take no lock. The sequencer (`sequence`, one process: `liangshi serve` every second,
`liangshi audit sequence`, the start of `verify`) gives the committed entries the next leaf indexes, stores the
completed perfect subtrees and signs the new tree head (Ed25519). `verify` recomputes every leaf and the tree and
checks every signed head (and one published elsewhere): truncation, deletion, rewriting, recomputation and
reordering all change a signed root.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import func, insert, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from liangshi.access.rules import Actor
from liangshi.audit import keys as keyfiles

# The action labels are part of the service's face (callers import only `audit.service`).
from liangshi.audit import rules
from liangshi.audit.actions import is_known
from liangshi.audit.actions import label as label
from liangshi.audit.actions import labels as labels
from liangshi.audit.keys import Keyring as Keyring
from liangshi.audit.models import ENTRY_IDS, AuditEntry, AuditTreeHead, AuditTreeNode
from liangshi.bulk import bulk_insert
from liangshi.clock import CHINA_TZ
from liangshi.config import Settings
from liangshi.db import session_scope
from liangshi.errors import Conflict, ValidationFailed

# From this many entries on, one append is written with the bulk writer.
BULK_ROWS = 100
# The sequencer folds at most this many entries per statement round.
SEQUENCE_BATCH = 20_000
# Only one sequencer folds at a time (PostgreSQL); writers never take this lock.
SEQUENCER_LOCK = 7400018  # not 7400001 (the old chain), 7400002 (the exchange log), 7402311 (KPIs)


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


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


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
) -> str:
    """The entry's RFC 6962 leaf hash (hex): SHA-256(0x00 || canonical JSON of its fields)."""
    payload = rules.entry_payload(
        seq=seq,
        at=_at_text(at),
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_kind=object_kind,
        object_id=object_id,
        subject_person_id=subject_person_id,
        purpose=purpose,
        detail=detail,
    )
    return rules.leaf_hash(payload).hex()


def hash_of(entry: AuditEntry) -> str:
    """The leaf hash an entry's stored fields give (whatever its stored leaf_hash says)."""
    return entry_hash(
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
    )


def _allocate(session: Session, n: int) -> list[int]:
    """n fresh entry ids. PostgreSQL: from a sequence, no lock; SQLite: its writers are serialised already
    (BEGIN IMMEDIATE, liangshi.db), so the next ids after the largest are this transaction's alone."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": ENTRY_IDS.name, "n": n}
        )
        return sorted(int(r[0]) for r in rows)
    last = session.execute(_last_seq_stmt()).scalar_one()
    return list(range(last + 1, last + n + 1))


# The statements of every audited read, built once (issue 19): the same SQL, the same entry.
@functools.cache
def _last_seq_stmt() -> Any:
    return select(func.coalesce(func.max(AuditEntry.seq), 0))


@functools.cache
def _append_stmt() -> Any:
    # render_nulls: rows with and without a subject stay one executemany (the ORM splits them by key set).
    return insert(AuditEntry).execution_options(render_nulls=True)


def record(
    session: Session, actor: Actor, events: Sequence[Event], *, purpose: str | None, now: dt.datetime
) -> list[int]:
    """Append events in the caller's transaction (they commit or roll back with it), without a lock; their seqs."""
    if not events:
        return []
    seqs = _allocate(session, len(events))
    at = now.astimezone(dt.UTC)
    rows = []
    for seq, event in zip(seqs, events, strict=True):
        detail = json.dumps(event.detail, ensure_ascii=False, sort_keys=True, default=str)
        values: dict[str, Any] = {
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
        }
        rows.append({**values, "leaf_hash": entry_hash(**values), "leaf_index": None})
    if len(rows) >= BULK_ROWS:
        # Big batches (imports, venue stays): COPY on PostgreSQL, the driver's executemany on SQLite.
        bulk_insert(session, AuditEntry, rows)
    else:
        session.execute(_append_stmt(), rows)
    return seqs


def load_keys(settings: Settings, *, create: bool = False) -> Keyring:
    """The signing key (made on first use when `create`) and every kept public key (audit.keys)."""
    return keyfiles.load(settings, create=create)


def rotate_key(settings: Settings) -> tuple[str | None, str]:
    """A new signing key; the old public key is kept so older heads still verify; (old id, new id)."""
    return keyfiles.rotate(settings)


def public_pem(key: Any) -> str:
    """A public key as PEM."""
    return keyfiles.public_pem(key)


# ---- signed tree heads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """A signed tree head, as stored and as published (`liangshi audit head`)."""

    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        """The signed bytes."""
        return rules.head_message(self.tree_size, self.root_hash, self.timestamp)

    def to_json(self) -> dict[str, Any]:
        """The head as a JSON object."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Any) -> Head:
        """A head read back from JSON; a clear error for anything else."""
        try:
            head = cls(
                tree_size=int(data["tree_size"]),
                root_hash=str(data["root_hash"]),
                timestamp=str(data["timestamp"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
            )
            bytes.fromhex(head.root_hash)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed(
                "audit.bad_head",
                "不是审计日志的签名树头",
                "Not a signed tree head of the audit log",
                {"field": "head"},
            ) from exc
        if head.tree_size < 1 or len(head.root_hash) != 64:
            raise ValidationFailed(
                "audit.bad_head",
                "不是审计日志的签名树头",
                "Not a signed tree head of the audit log",
                {"field": "head"},
            )
        return head

    @classmethod
    def of(cls, row: AuditTreeHead) -> Head:
        """The head of a stored row."""
        return cls(row.tree_size, row.root_hash, row.timestamp, row.key_id, row.signature)


def latest_head(session: Session) -> Head | None:
    """The newest signed tree head, if the sequencer has made one."""
    row = session.execute(select(AuditTreeHead).order_by(AuditTreeHead.tree_size.desc()).limit(1)).scalar()
    return Head.of(row) if row else None


def head_at(session: Session, tree_size: int) -> Head | None:
    """The signed head of the tree of this size, if one was signed."""
    row = session.get(AuditTreeHead, tree_size)
    return Head.of(row) if row else None


def proven(entry: AuditEntry, head: Head | None, path: Sequence[str] | None) -> bool:
    """Does the path prove this entry, as its fields read now, in the head's tree?"""
    if head is None or path is None or entry.leaf_index is None or entry.leaf_index >= head.tree_size:
        return False
    return check_inclusion(entry.leaf_index, hash_of(entry), path, head)


def _node_hashes(session: Session, nodes: Iterable[rules.Node]) -> dict[rules.Node, bytes]:
    """The stored hashes of these perfect nodes (level 0: the entries' leaf hashes)."""
    wanted = set(nodes)
    leaves = sorted(i for level, i in wanted if level == 0)
    inner = sorted(n for n in wanted if n[0] > 0)
    found: dict[rules.Node, bytes] = {}
    for chunk in range(0, len(leaves), 500):
        leaf_rows = session.execute(
            select(AuditEntry.leaf_index, AuditEntry.leaf_hash).where(
                AuditEntry.leaf_index.in_(leaves[chunk : chunk + 500])
            )
        ).all()
        found.update({(0, int(i or 0)): bytes.fromhex(h) for i, h in leaf_rows})
    for chunk in range(0, len(inner), 500):
        node_rows = session.execute(
            select(AuditTreeNode.level, AuditTreeNode.index, AuditTreeNode.hash).where(
                tuple_(AuditTreeNode.level, AuditTreeNode.index).in_(inner[chunk : chunk + 500])
            )
        ).all()
        found.update({(int(lv), int(i)): bytes.fromhex(h) for lv, i, h in node_rows})
    return found


def _folded(plan: list[list[rules.Node]], hashes: dict[rules.Node, bytes]) -> list[bytes] | None:
    try:
        return [rules.fold([hashes[n] for n in element]) for element in plan]
    except KeyError:
        return None


@dataclass(frozen=True)
class Sequenced:
    """What one sequencer run did."""

    added: int
    tree_size: int
    head: Head | None


def _unsequenced(session: Session) -> list[Any]:
    return list(
        session.execute(
            select(AuditEntry.seq, AuditEntry.leaf_hash)
            .where(AuditEntry.leaf_index.is_(None))
            .order_by(AuditEntry.seq)
            .limit(SEQUENCE_BATCH)
        ).all()
    )


def sequence(session: Session, keys: Keyring, *, now: dt.datetime) -> Sequenced:
    """Fold the committed entries not yet in the tree into it, in seq order, and sign the new head.

    One sequencer at a time (a PostgreSQL advisory lock it alone takes; a second one returns at once); writers
    never wait for it. Flushes; the caller commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        got = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK}
        ).scalar_one()
        if not got:
            return Sequenced(0, -1, None)
    todo = _unsequenced(session)
    if not todo:
        # The idle round (most of them): two statements, nothing written.
        idle = latest_head(session)
        return Sequenced(0, idle.tree_size if idle else 0, idle)
    size = session.execute(select(func.coalesce(func.max(AuditEntry.leaf_index) + 1, 0))).scalar_one()
    signed = latest_head(session)
    if (signed.tree_size if signed else 0) != size:
        # Entries or heads were deleted: extending that tree would sign over the damage. `verify` says where.
        raise Conflict(
            "audit.tree_damaged",
            "审计日志的树与其最新签名树头不符，已停止排序：请运行 liangshi audit verify",
            "The audit tree does not match its latest signed head; sequencing stopped: run liangshi audit verify",
            {"tree_size": size, "signed_size": signed.tree_size if signed else 0},
        )
    edge = rules.frontier(size)
    stored = _node_hashes(session, edge)
    tree = rules.Frontier.of(size, [stored[n] for n in edge])
    added = 0
    while todo:
        places, nodes = [], []
        for seq, leaf in todo:
            places.append({"seq": seq, "leaf_index": tree.size})
            for (level, index), digest in tree.append(bytes.fromhex(leaf)):
                nodes.append({"level": level, "index": index, "hash": digest.hex()})
        session.execute(update(AuditEntry), places)
        if nodes:
            session.execute(insert(AuditTreeNode), nodes)
        added += len(todo)
        todo = _unsequenced(session) if len(todo) == SEQUENCE_BATCH else []
    root = tree.root().hex()
    stamp = now.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    kid, signature = keys.sign(rules.head_message(tree.size, root, stamp))
    head = Head(tree.size, root, stamp, kid, signature)
    session.add(AuditTreeHead(**head.to_json()))
    session.flush()
    return Sequenced(added, tree.size, head)


# A stop signal; not spelled `Event(...)`, which tests/audit/test_actions.py reads as an audit event.
_signal = threading.Event


def start_sequencer(
    sessions: Any, keys: Keyring, clock: Any, *, every: float, stop: threading.Event | None = None
) -> threading.Thread:
    """`liangshi serve`'s sequencer: fold committed entries into the tree every `every` seconds (daemon thread,
    until `stop` is set)."""
    log = logging.getLogger("liangshi.audit")
    halt = stop or _signal()

    def loop() -> None:
        while not halt.is_set():
            try:
                with session_scope(sessions) as session:
                    sequence(session, keys, now=clock.now())
            except Exception:  # a failed round must not stop the server; the next one tries again
                log.exception("audit sequencer round failed")
            halt.wait(every)

    thread = threading.Thread(target=loop, name="audit-sequencer", daemon=True)
    thread.start()
    return thread


# ---- proofs --------------------------------------------------------------------------------------------------


def inclusion_proofs(session: Session, leaf_indexes: Collection[int], tree_size: int) -> dict[int, list[str]]:
    """RFC 6962 audit paths of these leaves in the tree of `tree_size` (hex, leaf side first)."""
    plans = {i: rules.inclusion_plan(i, tree_size) for i in leaf_indexes if 0 <= i < tree_size}
    hashes = _node_hashes(session, (n for plan in plans.values() for element in plan for n in element))
    out: dict[int, list[str]] = {}
    for index, plan in plans.items():
        path = _folded(plan, hashes)
        if path is not None:
            out[index] = [h.hex() for h in path]
    return out


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[str] | None:
    """RFC 6962 consistency proof from the tree of `old_size` to that of `new_size` (hex), None if unprovable."""
    plan = rules.consistency_plan(old_size, new_size)
    path = _folded(plan, _node_hashes(session, (n for element in plan for n in element)))
    return None if path is None else [h.hex() for h in path]


def check_inclusion(index: int, leaf: str, path: Sequence[str], head: Head) -> bool:
    """Does the audit path prove this leaf in the head's tree?"""
    return rules.verify_inclusion(
        index,
        head.tree_size,
        bytes.fromhex(leaf),
        [bytes.fromhex(p) for p in path],
        bytes.fromhex(head.root_hash),
    )


def check_consistency(old: Head, new: Head, proof: Sequence[str]) -> bool:
    """Does the proof show the old head's tree is a prefix of the new one's?"""
    return rules.verify_consistency(
        old.tree_size,
        new.tree_size,
        bytes.fromhex(old.root_hash),
        bytes.fromhex(new.root_hash),
        [bytes.fromhex(p) for p in proof],
    )


# ---- verification --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of recomputing the tree and checking its heads."""

    entries: int
    problems: list[dict[str, Any]]
    tree_size: int = 0
    root_hash: str | None = None
    heads_checked: int = 0
    signatures_checked: bool = False
    pending: int = 0
    consistency: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when every entry is intact, none is missing and every head holds."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """The result as the API and `liangshi audit verify --json` give it."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "problems": self.problems,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "heads_checked": self.heads_checked,
            "signatures_checked": self.signatures_checked,
            "pending": self.pending,
            "consistency": self.consistency,
        }


def _stream(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    after = -1
    while True:
        rows = list(
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.leaf_index > after)
                .order_by(AuditEntry.leaf_index)
                .limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].leaf_index or 0
        session.expunge_all()


def _pending(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = list(
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.leaf_index.is_(None), AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def _heads(session: Session, batch: int = 5000) -> Iterator[Head]:
    after = 0
    while True:
        rows = list(
            session.execute(
                select(AuditTreeHead)
                .where(AuditTreeHead.tree_size > after)
                .order_by(AuditTreeHead.tree_size)
                .limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from (Head.of(r) for r in rows)
        after = rows[-1].tree_size


def verify(
    session: Session,
    *,
    keys: Keyring | None = None,
    head: Head | None = None,
    now: dt.datetime | None = None,
    max_problems: int = 100,
) -> VerifyResult:
    """Recompute every leaf from its entry and the tree from the leaves; check each stored head's root (and
    signature, given the keys), and a head published earlier (`head`): consistent with today's tree. Entries
    not yet in the tree are checked against their own leaf hash (`pending`).

    Given keys with a signing key and `now`, the sequencer runs first so every committed entry is checked.
    """
    if keys is not None and keys.signer is not None and now is not None:
        # A damaged tree is not extended (Conflict); what follows says what is wrong with it.
        with contextlib.suppress(Conflict):
            sequence(session, keys, now=now)
    problems: list[dict[str, Any]] = []

    def problem(item: dict[str, Any]) -> None:
        if len(problems) < max_problems:
            problems.append(item)

    def check_head(h: Head, *, published: bool) -> None:
        if keys is None:
            return
        wrong = keys.check(h.key_id, h.message(), h.signature)
        if wrong:
            problem({"seq": None, "problem": wrong, "tree_size": h.tree_size, "published": published})

    heads = _heads(session)
    pending_head = next(heads, None)
    tree = rules.Frontier()
    roots: dict[int, str] = {}
    wanted = {head.tree_size} if head else set()
    checked = 0
    expected = 0
    last_seq: int | None = None

    def settle(size: int) -> None:
        nonlocal pending_head, checked
        while pending_head is not None and pending_head.tree_size <= size:
            if pending_head.tree_size == size:
                checked += 1
                check_head(pending_head, published=False)
                if tree.root().hex() != pending_head.root_hash:
                    problem({"seq": last_seq, "problem": "tree_mismatch", "tree_size": size})
            pending_head = next(heads, None)
        if size in wanted:
            roots[size] = tree.root().hex()

    for entry in _stream(session):
        index = entry.leaf_index
        assert index is not None  # _stream reads the sequenced entries only
        if index != expected:
            problem({"seq": entry.seq, "problem": "missing", "missing_from": expected, "leaf_index": index})
            # Go on as if the gap were not there: the heads after it will not match either.
        expected = index + 1
        recomputed = hash_of(entry)
        if recomputed != entry.leaf_hash:
            problem({"seq": entry.seq, "problem": "altered", "leaf_index": index})
        tree.append(bytes.fromhex(recomputed))
        last_seq = entry.seq
        settle(tree.size)
    count = tree.size
    latest: Head | None = None
    while pending_head is not None:
        # Signed heads of trees larger than what is left: entries were deleted from the end.
        checked += 1
        check_head(pending_head, published=False)
        latest = pending_head
        pending_head = next(heads, None)
    if latest is not None:
        problem({"seq": None, "problem": "truncated", "tree_size": latest.tree_size, "entries": count})
    newest = latest_head(session)
    consistency = None
    if head is not None:
        check_head(head, published=True)
        if keys is None:
            problem({"seq": None, "problem": "unknown_key", "tree_size": head.tree_size, "published": True})
        if head.tree_size > count:
            problem({"seq": None, "problem": "truncated", "tree_size": head.tree_size, "entries": count})
        elif roots.get(head.tree_size) != head.root_hash:
            problem({"seq": None, "problem": "inconsistent", "tree_size": head.tree_size, "published": True})
        if newest is not None and head.tree_size <= newest.tree_size:
            proof = consistency_proof(session, head.tree_size, newest.tree_size)
            proved = proof is not None and check_consistency(head, newest, proof)
            consistency = {"from": head.tree_size, "to": newest.tree_size, "proof": proof, "ok": proved}
            if not proved:
                problem(
                    {
                        "seq": None,
                        "problem": "inconsistent",
                        "tree_size": newest.tree_size,
                        "published": False,
                    }
                )
    # Entries not in the tree yet (committed after the sequencer ran, or no sequencer given): their own hash.
    pending = 0
    for entry in _pending(session):
        pending += 1
        if hash_of(entry) != entry.leaf_hash:
            problem({"seq": entry.seq, "problem": "altered", "leaf_index": None})
    return VerifyResult(
        entries=count,
        problems=problems,
        tree_size=count,
        root_hash=tree.root().hex() if count else None,
        heads_checked=checked,
        signatures_checked=keys is not None,
        pending=pending,
        consistency=consistency,
    )


# ---- retention ----------------------------------------------------------------------------------------------


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """An entry's fields as archived and as proven: enough to recompute its leaf hash."""
    return {
        "seq": entry.seq,
        "at": _at_text(entry.at),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_kind": entry.object_kind,
        "object_id": entry.object_id,
        "subject_person_id": entry.subject_person_id,
        "purpose": entry.purpose,
        "detail": entry.detail,
        "leaf_index": entry.leaf_index,
        "leaf_hash": entry.leaf_hash,
    }


def archive(
    session: Session,
    actor: Actor,
    sink: TextIO,
    *,
    before: dt.date,
    today: dt.date,
    now: dt.datetime,
    retention_days: int,
) -> int:
    """Write the entries recorded before `before` as JSON Lines, each with its inclusion proof under the latest
    signed head (the first line); the number written. Only past the retention period (等保 2.0 level 3: audit
    records kept ≥ 6 months), and the log keeps every entry: archiving copies, it never drops.
    """
    if before > today - dt.timedelta(days=retention_days):
        raise ValidationFailed(
            "audit.within_retention",
            f"只能归档保存期（{retention_days} 天）以前的审计记录",
            f"Only entries older than the retention period ({retention_days} days) may be archived",
            {"field": "before", "retention_days": retention_days},
        )
    head = latest_head(session)
    if head is None:
        return 0
    sink.write(json.dumps({"head": head.to_json()}, ensure_ascii=False) + "\n")
    cut = dt.datetime.combine(before, dt.time(), CHINA_TZ)
    written, after = 0, -1
    while True:
        rows = list(
            session.execute(
                select(AuditEntry)
                .where(
                    AuditEntry.leaf_index > after, AuditEntry.leaf_index < head.tree_size, AuditEntry.at < cut
                )
                .order_by(AuditEntry.leaf_index)
                .limit(500)
            ).scalars()
        )
        if not rows:
            break
        proofs = inclusion_proofs(
            session, [r.leaf_index for r in rows if r.leaf_index is not None], head.tree_size
        )
        for r in rows:
            assert r.leaf_index is not None  # the query reads sequenced entries only
            sink.write(
                json.dumps({**entry_json(r), "proof": proofs.get(r.leaf_index)}, ensure_ascii=False) + "\n"
            )
        written += len(rows)
        after = rows[-1].leaf_index or 0
    record(
        session,
        actor,
        [
            Event(
                "audit.archive",
                detail={"before": before.isoformat(), "entries": written, "size": head.tree_size},
            )
        ],
        purpose="archive",
        now=now,
    )
    return written


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
