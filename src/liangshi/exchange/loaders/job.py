"""What a loader runs in (the job: session, actor, clock, provenance, batch, resolver), how it goes through its rows,
and how it writes the new objects of a chunk: through the registry's bulk forms, one audit entry per kind and chunk
indexed under the batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.rules import Actor
from liangshi.errors import LiangshiError
from liangshi.exchange.loaders.resolver import Rejected, Resolver, RowError, reject_from
from liangshi.exchange.models import ImportAuditEntry
from liangshi.exchange.rows import Row
from liangshi.registry import Context, Kind, Provenance
from liangshi.registry.bulk import Created, FastCreate, NewItem


@dataclass
class Outcome:
    """What a chunk came to."""

    loaded: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass
class Job:
    """Everything a loader needs besides the rows."""

    session: Session
    actor: Actor
    now: dt.datetime
    today: dt.date
    prov: Provenance
    batch_id: int
    resolver: Resolver

    def ctx(self) -> Context:
        """The chunk's use-case context (its purpose names the batch): for the per-row services and the bulk forms."""
        return Context(
            actor=self.actor, now=self.now, today=self.today, purpose=f"import batch {self.batch_id}"
        )


def each_row(
    rows: Sequence[tuple[int, Row]],
    outcome: Outcome,
    handle: Callable[[int, Row], bool | None],
    default_field: str,
) -> None:
    """Run a row handler; it returns True when the row already existed. Errors become row errors."""
    for line, row in rows:
        try:
            existed = handle(line, row)
        except Rejected as r:
            outcome.errors.append(RowError(line, r.field, r.code, r.zh, r.en))
            continue
        except (LiangshiError, ValidationError) as exc:
            refused = reject_from(exc, default_field)
            outcome.errors.append(RowError(line, refused.field, refused.code, refused.zh, refused.en))
            continue
        if existed:
            outcome.existing += 1
        else:
            outcome.loaded += 1


def write_new(
    job: Job,
    kind: Kind,
    items: Sequence[NewItem],
    *,
    permission: str | None = None,
    identity: Callable[[int, NewItem], dict[str, Any]] | None = None,
) -> list[int]:
    """A chunk's new objects of one kind through `registry.create_many` (the actor's permission and jurisdiction
    checked again there, the bookkeeping stamped there), audited in one entry for the chunk; returns the ids."""
    created = registry.create_many(
        job.session,
        job.ctx(),
        kind,
        items,
        prov=job.prov,
        permission=permission,
        identity=identity,
        audit_mode="chunk",
        audit_detail={"batch": job.batch_id},
    )
    index_chunk(job, kind.name, created)
    return created.ids


def write_new_fast(job: Job, kind: Kind, rows: FastCreate) -> list[int]:
    """`write_new` for rows already in storage form (the persons: `registry.create_many_fast`)."""
    created = registry.create_many_fast(
        job.session, job.ctx(), kind, rows, prov=job.prov, audit_detail={"batch": job.batch_id}
    )
    index_chunk(job, kind.name, created)
    return created.ids


def index_chunk(job: Job, kind: str, created: Created) -> None:
    """The batch's index row for the one audit entry of the objects of one kind a chunk created.

    Per chunk rather than per object: a hash-chained entry per imported row would cost more than the import's
    own writes. Every created object is still in exactly one entry (detail "ids"), next to the persons concerned;
    the batch's index row (ImportAuditEntry: the entry's kind and id range) lets a person's access log find it.
    """
    if not created.ids:
        return
    (seq,) = created.audit_seqs
    job.session.execute(
        insert(ImportAuditEntry).values(
            seq=seq,
            batch_id=job.batch_id,
            object_kind=kind,
            first_id=min(created.ids),
            last_id=max(created.ids),
        )
    )


# ---- small kinds: one service call per row, each in a savepoint ------------------------------------------------


def per_row(job: Job, rows: Sequence[tuple[int, Row]], build: Callable[[Row], bool], field0: str) -> Outcome:
    outcome = Outcome()

    def handle(line: int, row: Row) -> bool:
        with job.session.begin_nested():
            return build(row)

    each_row(rows, outcome, handle, field0)
    job.resolver.reset()
    return outcome
