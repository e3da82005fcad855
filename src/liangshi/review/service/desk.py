"""The review desk's use cases: propose (for the flows that collect), list, show field by field, approve (station,
then district where policy names it), return with a reason, resubmit, the collector's outbox, the pending count.

The change sets themselves and their application are the kernel's (`liangshi.registry.changesets`); this module
knows the kinds a collection proposes, the district policy and the checks that make a set stale beyond a moved
version (an ID number registered to someone else meanwhile).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from liangshi.access.models import User
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings.models import BUILDING, DWELLING
from liangshi.common.idnumber import mask_id_number
from liangshi.config import Settings
from liangshi.errors import Forbidden, LiangshiError, NotFound
from liangshi.persons.models import DOCUMENT, HOUSEHOLD, MEMBERSHIP, PERSON, DocumentVersion
from liangshi.registry import Context, Kind, Provenance, changeset_apply, changesets, history, log
from liangshi.registry.changesets import ChangeSet, Proposed
from liangshi.rentals.models import RENTAL, TENANT
from liangshi.residence.models import RESIDENCE
from liangshi.review import rules
from liangshi.review.rules import DistrictPolicy
from liangshi.review.schemas import ChangeSetPage, ChangeSetRead, FieldDiff, ItemDiff, Outcome
from liangshi.sealed import keys_for

# The kinds a change set may propose, by name.
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (PERSON, DOCUMENT, HOUSEHOLD, MEMBERSHIP, RESIDENCE, DWELLING, BUILDING, RENTAL, TENANT)
}
# Attributes shown masked on the desk (a document's number: ID numbers are masked by default).
MASKED = frozenset({"number"})
TARGET_KEYS = ("dwelling_id", "residence_id", "person_id", "household_id")


def policy_of(settings: Settings | None) -> DistrictPolicy:
    """The district policy the settings configure (the defaults without settings)."""
    if settings is None:
        return rules.DEFAULT_POLICY
    return rules.parse_policy(
        settings.review_district_tags, settings.review_district_actions, settings.review_district_sample
    )


def propose(
    session: Session,
    ctx: Context,
    *,
    area_id: int,
    action: str,
    summary: str,
    items: Sequence[Proposed],
    prov: Provenance,
    tags: Sequence[str] = (),
    subject_person_id: int | None = None,
    payload: dict[str, Any] | None = None,
    policy: DistrictPolicy | None = None,
    flow: str = "collection",
    idempotency_key: str | None = None,
) -> ChangeSet:
    """Store collected work as a pending change set; district policy decides whether the district reviews it too."""
    cs = changesets.propose(
        session,
        ctx,
        area_id=area_id,
        flow=flow,
        action=action,
        summary=summary,
        items=items,
        prov=prov,
        tags=tags,
        subject_person_id=subject_person_id,
        payload=payload,
        idempotency_key=idempotency_key,
    )
    cs.needs_district = rules.needs_district(
        policy or rules.DEFAULT_POLICY, change_set_id=cs.id, action=action, tags=set(tags)
    )
    session.flush()
    return cs


def propose_many(
    session: Session,
    ctx: Context,
    proposals: Sequence[changesets.Proposal],
    *,
    policy: DistrictPolicy | None = None,
) -> list[ChangeSet]:
    """`propose` for many collected change sets at once (an offline outbox): one insert, one audit call."""
    sets = changesets.propose_many(session, ctx, proposals)
    for cs, p in zip(sets, proposals, strict=True):
        cs.needs_district = rules.needs_district(
            policy or rules.DEFAULT_POLICY, change_set_id=cs.id, action=p.action, tags=set(p.tags)
        )
    session.flush()
    return sets


def resubmit(
    session: Session,
    ctx: Context,
    change_set_id: int,
    *,
    items: Sequence[Proposed],
    summary: str,
    payload: dict[str, Any] | None,
    tags: Sequence[str] = (),
    subject_person_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """The collector's fixed version of a returned change set, back to station review."""
    cs = changesets.load(session, ctx, change_set_id)
    changesets.resubmit(
        session,
        ctx,
        cs,
        items=items,
        summary=summary,
        payload=payload,
        needs_district=rules.needs_district(
            policy or rules.DEFAULT_POLICY, change_set_id=cs.id, action=cs.action, tags=set(tags)
        ),
        tags=tags,
    )
    if subject_person_id is not None:
        cs.subject_person_id = subject_person_id
    return cs


def returned_change_set(session: Session, ctx: Context, change_set_id: int) -> ChangeSet:
    """One of the actor's own returned change sets (for its fix form), else 404."""
    cs = changesets.load(session, ctx, change_set_id)
    if cs.proposer_id != ctx.actor.user_id or cs.status != "returned":
        raise changesets_not_found(change_set_id)
    return cs


def changesets_not_found(change_set_id: int) -> LiangshiError:
    """The 404 of a change set that is not there for the caller."""
    return NotFound("changeset.not_found", "未找到该变更集", "Change set not found", {"id": change_set_id})


def payload_of(cs: ChangeSet) -> dict[str, Any]:
    """What the proposer typed (the fix form of a returned set starts from it)."""
    return dict(json.loads(cs.payload)) if cs.payload else {}


# ---- reading: the desk, one change set field by field, the outbox ---------------------------------------------


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    ids.discard(0)
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {int(i): str(u) for i, u in rows}


def _shown(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in MASKED and isinstance(value, str):
        return mask_id_number(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _diff(session: Session, cs: ChangeSet) -> list[ItemDiff]:
    out = []
    for item in changesets.items_of(cs, KINDS):
        current: dict[str, Any] = {}
        if item.entity_id is not None and item.kind in KINDS:
            rows = history.current_rows(session, KINDS[item.kind], [item.entity_id]).get(item.entity_id, [])
            if rows:
                current = history.latest_of(rows)
        fields = [
            FieldDiff(
                name=name,
                current=_shown(name, current.get(name)),
                proposed=_shown(name, value),
                changed=current.get(name) != value,
            )
            for name, value in item.attributes.items()
        ]
        # What a new object is attached to (its person, household, dwelling), when it exists already.
        fields += [
            FieldDiff(name=name, current=None, proposed=value, changed=True)
            for name, value in item.refs.items()
            if item.op == "create" and isinstance(value, int) and not isinstance(value, bool)
        ]
        if item.op == "bump":
            fields.append(
                FieldDiff(
                    name="version",
                    current=item.base_version,
                    proposed=(item.base_version or 0) + 1,
                    changed=True,
                )
            )
        if item.op == "retire":
            fields.append(
                FieldDiff(
                    name="valid_to", current=None, proposed=_shown("valid_to", item.effective), changed=True
                )
            )
        out.append(
            ItemDiff(
                op=item.op,
                kind=item.kind,
                entity_id=item.entity_id,
                base_version=item.base_version,
                fields=fields,
            )
        )
    return out


def _read(
    session: Session,
    cs: ChangeSet,
    names: dict[int, str],
    stale: dict[int, list[dict[str, Any]]],
    *,
    items: bool,
) -> ChangeSetRead:
    return ChangeSetRead(
        id=cs.id,
        flow=cs.flow,
        action=cs.action,
        summary=cs.summary,
        status=cs.status,
        needs_district=cs.needs_district,
        tags=[t for t in cs.tags.split(",") if t],
        area_id=cs.area_id,
        proposer=cs.proposer,
        proposed_at=cs.proposed_at,
        round=cs.round,
        return_reason=cs.return_reason,
        returned_at=cs.returned_at,
        station_reviewer=names.get(cs.station_reviewer_id or 0),
        station_reviewed_at=cs.station_reviewed_at,
        district_reviewer=names.get(cs.district_reviewer_id or 0),
        district_reviewed_at=cs.district_reviewed_at,
        applied_at=cs.applied_at,
        result=json.loads(cs.result) if cs.result else None,
        stale=stale.get(cs.id, []),
        target={k: int(v) for k, v in payload_of(cs).items() if k in TARGET_KEYS and isinstance(v, int)},
        items=_diff(session, cs) if items else [],
    )


def _reads(session: Session, sets: Sequence[ChangeSet], *, items: bool = False) -> list[ChangeSetRead]:
    names = _usernames(
        session,
        {u for cs in sets for u in (cs.station_reviewer_id, cs.district_reviewer_id) if u is not None},
    )
    stale = stale_many(session, [cs for cs in sets if cs.status in changesets.OPEN_STATUSES])
    return [_read(session, cs, names, stale, items=items) for cs in sets]


def as_read(session: Session, cs: ChangeSet) -> ChangeSetRead:
    """A change set the caller just proposed or decided, as the API answers it."""
    return _reads(session, [cs])[0]


def _ensure_reviewer(ctx: Context) -> None:
    if not (ctx.actor.may("changeset.review") or ctx.actor.may("changeset.review_district")):
        ctx.actor.ensure("changeset.review")


def _desk_statuses(ctx: Context, status: str | None) -> list[str]:
    if status is not None:
        return [status]
    mine = []
    if ctx.actor.may("changeset.review"):
        mine.append("pending_station")
    if ctx.actor.may("changeset.review_district"):
        mine.append("pending_district")
    return mine


def desk(
    session: Session,
    ctx: Context,
    *,
    status: str | None = None,
    action: str | None = None,
    proposer: str | None = None,
    tag: str | None = None,
    area_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> ChangeSetPage:
    """The change sets awaiting the actor's review in their jurisdiction (default: the stages their role
    reviews), oldest first, with filters; each shown with whether it still applies. Audited as a list read."""
    _ensure_reviewer(ctx)
    path = ctx.actor.area_path
    if area_id is not None:
        path = str(
            session.execute(
                select(Area.path).where(Area.id == area_id, Area.path.startswith(ctx.actor.area_path))
            ).scalar_one_or_none()
            or path
        )
    c = ChangeSet
    conds: list[Any] = [c.status.in_(_desk_statuses(ctx, status)), c.area_path.startswith(path)]
    if action:
        conds.append(c.action == action)
    if proposer:
        conds.append(c.proposer == proposer)
    if tag:
        conds.append(or_(c.tags == tag, c.tags.startswith(f"{tag},"), c.tags.contains(f",{tag}")))
    total = int(session.execute(select(func.count()).select_from(c).where(*conds)).scalar_one())
    # The page's ids first, from the index on (status, proposed_at, id, area_path) alone; then those rows. Sorting
    # the whole rows (their items' JSON) of every pending set for 50 of them was most of the page's time.
    page = [
        int(i)
        for i in session.execute(
            select(c.id).where(*conds).order_by(c.proposed_at, c.id).offset(offset).limit(limit)
        ).scalars()
    ]
    by_id = {cs.id: cs for cs in session.execute(select(c).where(c.id.in_(page))).scalars()} if page else {}
    rows = [by_id[i] for i in page if i in by_id]
    reads = _reads(session, rows)
    if rows:
        log(
            ctx,
            session,
            [
                audit.Event(
                    "changeset.list",
                    "change_set",
                    None,
                    None,
                    {
                        "ids": [cs.id for cs in rows],
                        "persons": sorted({cs.subject_person_id for cs in rows if cs.subject_person_id}),
                    },
                )
            ],
        )
    return ChangeSetPage(items=reads, total=total, offset=offset, limit=limit)


def show(session: Session, ctx: Context, change_set_id: int) -> ChangeSetRead:
    """One change set field by field against the current register (the reviewer's or the proposer's own)."""
    cs = changesets.load(session, ctx, change_set_id)
    if cs.proposer_id != ctx.actor.user_id:
        _ensure_reviewer(ctx)
    log(ctx, session, [audit.Event("changeset.read", "change_set", cs.id, cs.subject_person_id, {})])
    return _reads(session, [cs], items=True)[0]


def outbox(session: Session, ctx: Context, *, limit: int = 200) -> list[ChangeSetRead]:
    """The actor's own change sets not yet approved: returned ones first (with the reason), then pending."""
    c = ChangeSet
    rows = list(
        session.execute(
            select(c)
            .where(c.proposer_id == ctx.actor.user_id, c.status != "approved")
            .order_by((c.status == "returned").desc(), c.proposed_at.desc(), c.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return _reads(session, rows)


def approvals_of(session: Session, ctx: Context, person_id: int) -> list[ChangeSetRead]:
    """The approved change sets about a person (the person page: who collected, who approved at each stage),
    newest first. The caller has read the person (jurisdiction and audit are that read's)."""
    c = ChangeSet
    rows = list(
        session.execute(
            select(c)
            .where(c.subject_person_id == person_id, c.status == "approved")
            .order_by(c.applied_at.desc(), c.id.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    return _reads(session, rows)


def change_sets_pending(session: Session, area: Area, proposer_ids: Collection[int] | None = None) -> int:
    """How many change sets of the area's subtree await review (station or district): campaign progress;
    with `proposer_ids`, only those proposed by these users (a collector's or a team's)."""
    c = ChangeSet
    query = (
        select(func.count())
        .select_from(c)
        .where(c.status.in_(changesets.OPEN_STATUSES), c.area_path.startswith(area.path))
    )
    if proposer_ids is not None:
        query = query.where(c.proposer_id.in_(list(proposer_ids)))
    return int(session.execute(query).scalar_one())


def change_sets_pending_by(session: Session, area: Area) -> dict[tuple[str, int | None], int]:
    """The change sets of the area's subtree awaiting review, counted per (area path, proposer) in one grouped
    pass: `change_sets_pending` of any child area or group of proposers is a sum of these."""
    c = ChangeSet
    rows = session.execute(
        select(c.area_path, c.proposer_id, func.count())
        .where(c.status.in_(changesets.OPEN_STATUSES), c.area_path.startswith(area.path))
        .group_by(c.area_path, c.proposer_id)
    ).all()
    return {(str(path), None if who is None else int(who)): int(n) for path, who, n in rows}


# ---- deciding: approve, return ----------------------------------------------------------------------------------


def _documents_of(cs: ChangeSet) -> set[tuple[Any, Any, Any]]:
    return {
        (i.attributes.get("doc_type"), i.attributes.get("number"), i.attributes.get("country"))
        for i in changesets.items_of(cs)
        if i.op == "create" and i.kind == "document"
    }


def stale_reasons(
    session: Session, cs: ChangeSet, claimed: set[tuple[Any, Any, Any]] | None = None
) -> list[dict[str, Any]]:
    """Why a change set no longer applies: the kernel's reasons (moved, retired, demolished) and an ID number
    registered to another person since it was proposed (or by a set approved before it in the same bulk
    approval: `claimed`)."""
    return stale_many(session, [cs], claimed)[cs.id]


def stale_many(
    session: Session, sets: Sequence[ChangeSet], claimed: set[tuple[Any, Any, Any]] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """`stale_reasons` for a page of change sets, in a few queries."""
    reasons = changesets.stale_reasons_many(session, sets, KINDS)
    wanted = {cs.id: _documents_of(cs) for cs in sets}
    numbers = sorted({number for docs in wanted.values() for _, number, _ in docs if number})
    held: set[tuple[Any, Any, Any]] = set()
    v = DocumentVersion
    for i in range(0, len(numbers), 5000):
        rows = session.execute(
            select(v.doc_type, v.number, v.country).where(
                v.number_idx.in_(list(keys_for(session, v.number, numbers[i : i + 5000]))),
                v.superseded_at.is_(None),
                v.valid_to.is_(None),
            )
        )
        held |= {(t, n, c) for t, n, c in rows}
    for cs_id, docs in wanted.items():
        if any(doc in held or (claimed is not None and doc in claimed) for doc in docs):
            reasons[cs_id].append({"kind": "document", "reason": "document_taken"})
    return reasons


STAGE_PERMISSIONS = {"station": "changeset.review", "district": "changeset.review_district"}


def _stage(ctx: Context, cs: ChangeSet, stage: str | None = None) -> str:
    """The lifecycle action the actor would take (`approve_station` or `approve_district`), after the refusals:
    409 when the set is not awaiting this review (already approved: `changeset.already_approved`), 403 for a
    role that may not review this stage, 403 `changeset.own_collection` for the proposer, 403
    `changeset.same_reviewer` for the station's reviewer at district level."""
    if stage is None:
        stage = "district" if cs.status == "pending_district" else "station"
    action = f"approve_{stage}"
    ctx.actor.ensure(STAGE_PERMISSIONS[stage])
    wanted = "pending_station" if stage == "station" else "pending_district"
    if cs.status != wanted:
        changesets.LIFECYCLE.ensure(cs.status, action, id=cs.id)
    changesets.ensure_not_own(ctx, cs)
    if stage == "district" and cs.station_reviewer_id == ctx.actor.user_id:
        raise Forbidden(
            "changeset.same_reviewer",
            "区级审核须由另一人进行，不能审核自己在派出所审核过的变更集",
            "District review is someone else's: you approved this change set at the station",
            {"id": cs.id},
        )
    return action


def _applied(session: Session, ctx: Context, sets: list[ChangeSet]) -> None:
    written = changeset_apply.apply_many(session, ctx, sets, KINDS)
    results: list[tuple[ChangeSet, dict[str, Any]]] = []
    for cs in sets:
        values: dict[str, Any] = {"result": json.dumps(written[cs.id])}
        if cs.subject_person_id is None and written[cs.id].get("person"):
            # A new person's set is about the person it created (their page lists its reviewers).
            values["subject_person_id"] = written[cs.id]["person"][0]
        results.append((cs, values))
    changesets.write_columns(session, results)


def approve(session: Session, ctx: Context, change_set_id: int, *, stage: str | None = None) -> ChangeSetRead:
    """Approve a change set at its stage (`station` or `district`: the role's permission for it is checked
    before anything is read; None: the stage it awaits); at the last stage its items become registry facts
    through the write path (record time: now; source: the collector; actor: the approver). 409
    `changeset.stale` when it no longer applies; nothing is written on any refusal."""
    if stage is not None:
        ctx.actor.ensure(STAGE_PERMISSIONS[stage])
    else:
        _ensure_reviewer(ctx)
    cs = changesets.load(session, ctx, change_set_id)
    stage = _stage(ctx, cs, stage)
    reasons = stale_reasons(session, cs)
    if reasons:
        raise changesets.conflict_stale(cs, reasons)
    changesets.mark_reviewed(session, ctx, cs, stage)
    if cs.status == "approved":
        _applied(session, ctx, [cs])
    return _reads(session, [cs])[0]


def _will_apply(cs: ChangeSet, action: str) -> bool:
    return action == "approve_district" or not cs.needs_district


def approve_many(session: Session, ctx: Context, ids: Sequence[int], *, lang: str = "zh") -> list[Outcome]:
    """Bulk approval, item by item: each change set is approved or refused on its own (a stale one is reported
    and left pending); those that reach their last stage are applied together in one write (one by one when
    that write is refused, so that one set's refusal keeps the others). A few queries for the whole batch."""
    _ensure_reviewer(ctx)
    wanted = list(dict.fromkeys(ids))
    outcomes: dict[int, Outcome] = {}
    found: dict[int, ChangeSet] = {}
    c = ChangeSet
    for i in range(0, len(wanted), 5000):
        rows = session.execute(
            select(c).where(c.id.in_(wanted[i : i + 5000]), c.area_path.startswith(ctx.actor.area_path))
        ).scalars()
        found.update({cs.id: cs for cs in rows})
    staged: list[tuple[ChangeSet, str]] = []
    for change_set_id in wanted:
        try:
            cs = found.get(change_set_id) or changesets.load(session, ctx, change_set_id)
            staged.append((cs, _stage(ctx, cs)))
        except LiangshiError as exc:
            outcomes[change_set_id] = Outcome(
                id=change_set_id, ok=False, code=exc.code, message=exc.message(lang)
            )
    reasons = stale_many(session, [cs for cs, _ in staged])
    claimed: set[tuple[Any, Any, Any]] = set()
    later: list[tuple[ChangeSet, str]] = []
    final: list[tuple[ChangeSet, str]] = []
    for cs, action in staged:
        docs = _documents_of(cs)
        if docs & claimed and not reasons[cs.id]:
            reasons[cs.id].append({"kind": "document", "reason": "document_taken"})
        if reasons[cs.id]:
            stale = changesets.conflict_stale(cs, reasons[cs.id])
            outcomes[cs.id] = Outcome(id=cs.id, ok=False, code=stale.code, message=stale.message(lang))
            continue
        claimed |= docs
        (final if _will_apply(cs, action) else later).append((cs, action))
    changesets.mark_reviewed_many(session, ctx, later)
    for cs, _ in later:
        outcomes[cs.id] = Outcome(id=cs.id, ok=True, status=cs.status)
    if final:
        try:
            with session.begin_nested():
                changesets.mark_reviewed_many(session, ctx, final)
                _applied(session, ctx, [cs for cs, _ in final])
        except LiangshiError:
            for cs, action in final:
                session.refresh(cs)
                try:
                    with session.begin_nested():
                        changesets.mark_reviewed(session, ctx, cs, action)
                        _applied(session, ctx, [cs])
                except LiangshiError as exc:
                    session.refresh(cs)
                    outcomes[cs.id] = Outcome(id=cs.id, ok=False, code=exc.code, message=exc.message(lang))
        for cs, _ in final:
            outcomes.setdefault(cs.id, Outcome(id=cs.id, ok=True, status=cs.status))
    return [outcomes[i] for i in wanted]


def return_(session: Session, ctx: Context, change_set_id: int, reason: str | None) -> ChangeSetRead:
    """Send a change set back to its collector with a reason (422 `changeset.reason_required` without one); it
    appears in their outbox. A reviewer never decides on their own collection."""
    _ensure_reviewer(ctx)
    cs = changesets.load(session, ctx, change_set_id)
    if cs.status == "pending_district":
        ctx.actor.ensure("changeset.review_district")
    else:
        ctx.actor.ensure("changeset.review")
    changesets.ensure_not_own(ctx, cs)
    changesets.return_set(session, ctx, cs, reason)
    return _reads(session, [cs])[0]
