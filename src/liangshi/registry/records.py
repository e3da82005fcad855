"""New rows of an unversioned, area-scoped record table (a venue's guest log) with the bulk forms' checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy.orm import Session

from liangshi.audit import service as audit
from liangshi.bulk import allocate_ids, bulk_insert
from liangshi.registry.bulk import (
    Created,
    _counties_in_scope,
)
from liangshi.registry.context import Context

# ---- exch: new rows of an unversioned record table (a venue's guest log) -------------------------------------


def create_records(
    session: Session,
    ctx: Context,
    name: str,
    model: type[Any],
    rows: list[dict[str, Any]],
    *,
    permission: str | None,
    audit_mode: Literal["chunk"] | None = "chunk",
    audit_detail: dict[str, Any] | None = None,
    area_ids: Sequence[int] | None = None,
) -> Created:
    """New rows of a record table without history whose rows carry their `area_id` (a venue's stays), in one
    bulk insert.

    Refused before anything is written: 403 unless the actor may `permission` (None only where the caller has
    authorised the writer by other means: a venue's own key); 404 `area.not_found` when a row's area is outside
    the actor's jurisdiction (one query per 5,000 areas). Ids are allocated in row order and set on the rows
    (`id`). `area_ids`, for a table whose rows carry no area of their own (an inspection's sampled households),
    names the areas they belong to instead (their lots' communities). Audited in one entry `{name}.create` naming
    all rows and the persons among their `person_id`s (`"chunk"`, as the imports), or not here (None: the caller
    appends entries of its own through `log`).
    """
    if permission is not None:
        ctx.actor.ensure(permission)
    if not rows:
        return Created([], [])
    _counties_in_scope(session, ctx, [row["area_id"] for row in rows] if area_ids is None else area_ids)
    ids = allocate_ids(session, model, len(rows))
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    bulk_insert(session, model, rows)
    if audit_mode is None:
        return Created(ids, [])
    persons = sorted({row["person_id"] for row in rows if row.get("person_id") is not None})
    chunk: dict[str, Any] = {**(audit_detail or {}), "count": len(ids), "ids": ids}
    if persons:
        chunk["persons"] = persons
    event = audit.Event(f"{name}.create", name, None, None, chunk)
    return Created(ids, audit.record(session, ctx.actor, [event], purpose=ctx.purpose, now=ctx.now))
