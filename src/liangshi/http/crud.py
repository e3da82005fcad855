"""Routes that are the same for every registry object: read, history, change, correct, retire, flag.

This module deliberately has no `from __future__ import annotations`: the input schemas are passed in and used
as real annotations so FastAPI validates and documents them.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.http.tx import unit
from liangshi.registry import Context, Kind, Snapshot
from liangshi.schemas import (
    FlagIn,
    FlagRead,
    FlagResolveIn,
    HistoryRead,
    ObjectRead,
    PageRead,
    ProvenanceRead,
    RetireIn,
    VersionRead,
)

# The answer of a route documented as `dict[str, Any]`, dumped as FastAPI's own fast path dumps it (the same
# bytes), but in the route's worker thread: FastAPI would first validate the dict in a second thread hand-off.
_ANSWER = TypeAdapter(dict[str, Any])


def json_answer(answer: dict[str, Any]) -> Response:
    """A route's JSON answer, serialised once (issue 19: the hot read routes, 查人知住 and 查房知人); declare
    `response_model=dict[str, Any]` on the route so that its documentation stays that of the dict."""
    return Response(_ANSWER.dump_json(answer), media_type="application/json")


Extra = Callable[[Session, Context, Snapshot], dict[str, Any]]
Check = Callable[[Session, Context], Callable[[Any, dict[str, Any]], None]]
Changes = Callable[[Any], dict[str, Any]]
# A kind-specific retirement with the signature of registry.retire (e.g. one that checks a lifecycle first).
Retire = Callable[..., Snapshot]


def _prov(row: Any) -> ProvenanceRead:
    return ProvenanceRead(
        source_kind=row.source_kind,
        source_ref=row.source_ref,
        evidence=row.evidence,
        document_ref=row.document_ref,
        actor_id=row.actor_id,
        recorded_at=row.recorded_at,
    )


def refs_of(entity: Any) -> dict[str, int | None]:
    """The identity's references to other objects (`street_id`, `building_id`, `person_id` …)."""
    return {
        c.key: getattr(entity, c.key)
        for c in entity.__mapper__.column_attrs
        if c.key.endswith("_id") and c.key != "area_id"
    }


# Extra parts of a read that are objects of their own kind (a person's documents): shown to a department only
# when its agreement names that kind, and then only the fields it names.
EXTRA_KINDS = {"documents": "document", "members": "membership"}


def _cut_read(snap: Snapshot, extra: dict[str, Any] | None) -> ObjectRead:
    """A department's read: id, version and the agreement's readable fields, nothing else."""
    assert snap.cut is not None
    e, row, cut = snap.entity, snap.row, snap.cut
    visible = cut.fields(snap.kind.name)
    shown: dict[str, Any] = {}
    for key, value in (extra or {}).items():
        part = EXTRA_KINDS.get(key)
        if part is None or not cut.fields(part) or not isinstance(value, list):
            continue
        keep = cut.fields(part) | {"id", "masked"}
        shown[key] = [{k: v for k, v in item.items() if k in keep} for item in value]
    return ObjectRead(
        id=e.id,
        kind=snap.kind.name,
        version=e.version,
        area_id=e.area_id,
        county_code=e.county_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        retired=snap.retired,
        change=row.change,
        reason=None,
        provenance=None,
        attributes=snap.attributes(),
        refs={k: v for k, v in refs_of(e).items() if k in visible},
        flags=[
            FlagRead(
                id=f.id, attribute=f.attribute, reason=f.reason, raised_at=f.raised_at, raised_by=f.raised_by
            )
            for f in snap.flags
            if f.attribute in visible
        ],
        extra=shown,
    )


def object_read(snap: Snapshot, extra: dict[str, Any] | None = None) -> ObjectRead:
    """The API shape of a snapshot (cut to a department's agreement when the read was a department's)."""
    if snap.cut is not None:
        return _cut_read(snap, extra)
    e, row = snap.entity, snap.row
    return ObjectRead(
        id=e.id,
        kind=snap.kind.name,
        version=e.version,
        area_id=e.area_id,
        county_code=e.county_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        retired=snap.retired,
        change=row.change,
        reason=row.reason,
        provenance=_prov(row),
        attributes=snap.attributes(),
        refs=refs_of(e),
        flags=[
            FlagRead(
                id=f.id, attribute=f.attribute, reason=f.reason, raised_at=f.raised_at, raised_by=f.raised_by
            )
            for f in snap.flags
        ],
        extra=extra or {},
    )


def page_read(page: registry.Page, extra: Callable[[Snapshot], dict[str, Any]] | None = None) -> PageRead:
    """The API shape of a page of snapshots."""
    return PageRead(
        items=[object_read(s, extra(s) if extra else None) for s in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


def patch_changes(kind: Kind) -> Changes:
    """Default: the attributes the client set in the patch."""
    return lambda data: data.model_dump(exclude_unset=True, include=set(kind.attributes))


def object_routes(
    router: APIRouter,
    kind: Kind,
    *,
    patch: Any,
    correct: Any,
    extra: Extra | None = None,
    check: Check | None = None,
    correct_check: Check | None = None,
    changes: Changes | None = None,
    retire: bool = True,
    retire_with: Retire | None = None,
) -> None:
    """Add GET /{id}, GET /{id}/history, PATCH /{id}, POST /{id}/corrections, /{id}/retire, /{id}/flags."""
    label = kind.label_en.lower()
    to_changes = changes or patch_changes(kind)
    fix_check = correct_check or check

    def view(session: Session, ctx: Context, snap: Snapshot) -> ObjectRead:
        return object_read(snap, extra(session, ctx, snap) if extra else None)

    @router.get("/{object_id}", response_model=ObjectRead, summary=f"Read a {label} (as of a date)")
    def read_one(
        object_id: int,
        request: Request,
        as_of: dt.date | None = Query(None, description="Valid-time date (default today)"),
        known_at: dt.datetime | None = Query(None, description="Record time: what the registry knew then"),
    ) -> ObjectRead:
        """Read one object in your jurisdiction, as valid on `as_of` and as known at `known_at`."""
        with unit(request) as (session, ctx):
            snap = registry.read(session, ctx, kind, object_id, on=as_of, at=known_at)
            return view(session, ctx, snap)

    @router.get("/{object_id}/history", response_model=HistoryRead, summary=f"Every version of a {label}")
    def read_history(object_id: int, request: Request) -> HistoryRead:
        """All versions ever recorded, with valid time, record time, corrections and provenance."""
        with unit(request) as (session, ctx):
            entity, rows = registry.versions(session, ctx, kind, object_id)
            return HistoryRead(
                id=entity.id,
                kind=kind.name,
                versions=[
                    VersionRead(
                        row_id=r.row_id,
                        version=r.version,
                        valid_from=r.valid_from,
                        valid_to=r.valid_to,
                        recorded_at=r.recorded_at,
                        superseded_at=r.superseded_at,
                        change=r.change,
                        reason=r.reason,
                        corrects_row_id=r.corrects_row_id,
                        replaces_row_id=r.replaces_row_id,
                        provenance=_prov(r),
                        attributes={n: getattr(r, n) for n in kind.attributes},
                    )
                    for r in rows
                ],
            )

    @router.patch(
        "/{object_id}", response_model=ObjectRead, summary=f"Record a change of a {label} from a date"
    )
    def change_one(object_id: int, body: patch, request: Request) -> ObjectRead:
        """A change in the world from `effective`; a stale `expected_version` gets 409."""
        with unit(request, writes=kind.name) as (session, ctx):
            snap = registry.change(
                session,
                ctx,
                kind,
                object_id,
                to_changes(body),
                expected_version=body.expected_version,
                effective=body.effective,
                prov=body.provenance.to_domain(ctx.actor.username),
                reason=body.reason,
                check=check(session, ctx) if check else None,
            )
            return view(session, ctx, snap)

    @router.post("/{object_id}/corrections", response_model=ObjectRead, summary=f"Correct a recorded {label}")
    def correct_one(object_id: int, body: correct, request: Request) -> ObjectRead:
        """A correction: a new version for the same valid interval pointing at the one it corrects."""
        with unit(request, writes=kind.name) as (session, ctx):
            snap = registry.correct(
                session,
                ctx,
                kind,
                object_id,
                to_changes(body),
                expected_version=body.expected_version,
                row_id=body.row_id,
                prov=body.provenance.to_domain(ctx.actor.username),
                reason=body.reason,
                check=fix_check(session, ctx) if fix_check else None,
            )
            return view(session, ctx, snap)

    if retire:

        @router.post("/{object_id}/retire", response_model=ObjectRead, summary=f"Retire a {label}")
        def retire_one(object_id: int, body: RetireIn, request: Request) -> ObjectRead:
            """End the object's validity from `effective`; it stays readable as of earlier dates."""
            with unit(request) as (session, ctx):
                retire_fn = retire_with or registry.retire
                snap = retire_fn(
                    session,
                    ctx,
                    kind,
                    object_id,
                    expected_version=body.expected_version,
                    effective=body.effective,
                    prov=body.provenance.to_domain(ctx.actor.username),
                    reason=body.reason,
                )
                return view(session, ctx, snap)

    @router.post(
        "/{object_id}/flags",
        response_model=FlagRead,
        status_code=201,
        summary=f"Flag an attribute of a {label} under investigation",
    )
    def flag_one(object_id: int, body: FlagIn, request: Request) -> FlagRead:
        """Mark a value 存疑待查 with a reason; the value itself does not change."""
        with unit(request) as (session, ctx):
            f = registry.flag(
                session,
                ctx,
                kind,
                object_id,
                attribute=body.attribute,
                reason=body.reason,
                expected_version=body.expected_version,
            )
            return FlagRead(
                id=f.id, attribute=f.attribute, reason=f.reason, raised_at=f.raised_at, raised_by=f.raised_by
            )

    @router.post(
        "/{object_id}/flags/{flag_id}/resolve",
        response_model=FlagRead,
        summary="Settle an 'under investigation' flag",
    )
    def resolve_one(object_id: int, flag_id: int, body: FlagResolveIn, request: Request) -> FlagRead:
        """Close a flag with its resolution."""
        with unit(request) as (session, ctx):
            f = registry.resolve_flag(
                session,
                ctx,
                kind,
                object_id,
                flag_id=flag_id,
                resolution=body.resolution,
                expected_version=body.expected_version,
            )
            return FlagRead(
                id=f.id, attribute=f.attribute, reason=f.reason, raised_at=f.raised_at, raised_by=f.raised_by
            )


def paging(
    offset: int = Query(0, ge=0, le=10_000_000), limit: int = Query(50, ge=1, le=500)
) -> tuple[int, int]:
    """Offset and limit query parameters."""
    return offset, limit
