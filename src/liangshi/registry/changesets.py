"""Change sets (变更集, ARCHITECTURE convention 4): a proposal held with its evidence and source until its owner
approves it, then applied through the one write path (`create_many`, `change_many`, `correct_many`,
`retire_many`): record time is the approval, the source stays the proposer, the approver is the version rows'
actor and both reviewers are kept on the change set and in the audit entries.

The kernel knows no domain: the items are kind-generic plain data (`Proposed`), and the caller passes the kinds
by name (`kinds`). Which flow a set belongs to, which checks make it stale beyond a moved base version and who
reviews it at district level is the review domain's (`liangshi.review`).

All-or-nothing per change set: `stale_reasons` says why a set no longer applies (a base version moved, an object
retired) before anything is written, and `changeset_apply.apply_many` writes every item of every set or raises.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from sqlalchemy import Date, Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

import liangshi.registry.history as history
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.common.lifecycle import Lifecycle
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.registry.context import Context
from liangshi.registry.kinds import Kind, Provenance
from liangshi.registry.usecases import ensure_area_in_scope, log
from liangshi.versioned import ChangeSet

__all__ = [
    "LIFECYCLE",
    "OPEN_STATUSES",
    "ChangeSet",
    "Proposal",
    "Proposed",
    "conflict_stale",
    "ensure_not_own",
    "items_of",
    "load",
    "mark_reviewed",
    "mark_reviewed_many",
    "propose",
    "propose_many",
    "resubmit",
    "return_set",
    "stale_reasons",
    "stale_reasons_many",
    "write_columns",
]

Op = Literal["create", "change", "correct", "retire", "bump"]
# `bump` raises an object's lock counter without a new version row: the object another item adds a part to (a
# document added to a person, a member added to a household), as the direct use case does (`history.bump_version`).
OPS: tuple[str, ...] = ("create", "change", "correct", "retire", "bump")

STATUSES: dict[str, tuple[str, str]] = {
    "pending_station": ("待派出所审核", "awaiting station review"),
    "pending_district": ("待区级审核", "awaiting district review"),
    "approved": ("已批准", "approved"),
    "returned": ("已退回", "returned"),
    # 认领: a department record waiting for the community it concerns; closed as a duplicate.
    "pending_claim": ("待认领", "awaiting its claim"),
    "duplicate": ("重复记录", "duplicate"),
    # 业务协同: another unit's change waiting for the holder; refused, for the station above both to rule on.
    "pending_holder": ("待持有单位确认", "awaiting the holder"),
    "disputed": ("有争议待裁决", "disputed"),
    "closed": ("已结案（未采用）", "closed (not applied)"),
    # 自主申报: a resident's own declaration from a scanned plate, waiting for a collector's visit (上门核录); it holds
    # no items (the declaration is its payload): the collector's verified findings are proposed as collected work.
    "pending_visit": ("待上门核录", "awaiting verification on site"),
    "verified": ("已上门核录", "verified on site"),
}
OPEN_STATUSES = (
    "pending_station",
    "pending_district",
    "pending_claim",
    "pending_holder",
    "disputed",
    "pending_visit",
)
ACTIONS: dict[str, tuple[str, str]] = {
    "approve_station": ("派出所审核通过", "station approval"),
    "approve_district": ("区级审核通过", "district approval"),
    "return": ("退回", "return"),
    "resubmit": ("重新提交", "resubmission"),
    "claim": ("认领", "claim"),
    "move": ("转交所属社区", "move to the community it belongs to"),
    "mark_duplicate": ("标记为重复", "mark as duplicate"),
    "reopen": ("撤销（重新待认领）", "undo (back to awaiting its claim)"),
    "agree": ("持有单位同意", "the holder's agreement"),
    "refuse": ("持有单位拒绝", "the holder's refusal"),
    "rule": ("裁决", "ruling"),
    "verify": ("上门核录", "verification on site"),
    "decline": ("核录不实", "found untrue on site"),
}
LIFECYCLE = Lifecycle(
    "变更集",
    "change set",
    STATUSES,
    ACTIONS,
    {
        "pending_station": ("approve_station", "return"),
        "pending_district": ("approve_district", "return"),
        "approved": (),
        "returned": ("resubmit",),
        "pending_claim": ("claim", "move", "mark_duplicate"),
        "duplicate": ("reopen",),
        "pending_holder": ("agree", "refuse"),
        "disputed": ("rule",),
        "closed": (),
        "pending_visit": ("verify", "decline"),
        "verified": (),
    },
    "changeset.wrong_status",
    special={
        ("approved", "approve_station"): (
            "changeset.already_approved",
            "该变更集已批准，不能再次批准",
            "This change set is already approved",
        ),
        ("approved", "approve_district"): (
            "changeset.already_approved",
            "该变更集已批准，不能再次批准",
            "This change set is already approved",
        ),
        ("approved", "claim"): (
            "changeset.already_approved",
            "该变更集已批准，不能再次批准",
            "This change set is already approved",
        ),
        ("approved", "agree"): (
            "changeset.already_approved",
            "该变更集已批准，不能再次批准",
            "This change set is already approved",
        ),
    },
)


@dataclass(frozen=True)
class Proposed:
    """One proposed item, as plain data.

    `create`: a new object of `kind` in `area_id` with its first version's `attributes`, identity columns `refs`
    (a value `{"key": k}` refers to the object another item of the same set creates under `key`) and
    `valid_from`. `change` / `correct` / `retire`: the object `entity_id` as its proposer saw it (`base_version`,
    its lock counter), the changed `attributes` and, for a change or a retirement, the date it takes effect.
    `bump`: the object `entity_id` (at `base_version`) whose lock counter the set raises, with no attributes.
    """

    op: Op
    kind: str
    key: str | None = None
    entity_id: int | None = None
    base_version: int | None = None
    area_id: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    valid_from: dt.date | None = None
    effective: dt.date | None = None
    reason: str | None = None
    permission: str | None = None
    # Objects this item stands on, as [kind, id, {attribute: values it must not have}]: a residence needs its
    # person alive and its dwelling not demolished. Checked by `stale_reasons`.
    requires: list[Any] = field(default_factory=list)
    # A new object that is part of a compound action audited as that action (a tenant joining a rental is
    # `rental.tenant_attach` on the rental, as the direct use case audits it), not as `{kind}.create`:
    # {"action", "entity_kind", "entity_ref" (the ref naming that entity), "subject_ref", "id_as"}.
    audit_as: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The item as JSON data (dates as ISO text)."""
        return {
            "op": self.op,
            "kind": self.kind,
            "key": self.key,
            "entity_id": self.entity_id,
            "base_version": self.base_version,
            "area_id": self.area_id,
            "attributes": {k: _jsonable(v) for k, v in self.attributes.items()},
            "refs": dict(self.refs),
            "valid_from": _jsonable(self.valid_from),
            "effective": _jsonable(self.effective),
            "reason": self.reason,
            "permission": self.permission,
            "requires": list(self.requires),
            **({"audit_as": dict(self.audit_as)} if self.audit_as else {}),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _check_items(items: Sequence[Proposed], *, allow_empty: bool = False) -> None:
    if not items and not allow_empty:
        raise ValueError("a change set proposes at least one item")
    keys = [i.key for i in items if i.key is not None]
    if len(set(keys)) != len(keys):
        raise ValueError("a change set names each new object once")
    for item in items:
        if item.op not in OPS:
            raise ValueError(f"unknown change set op {item.op!r}")
        if item.op == "create" and item.area_id is None:
            raise ValueError("a proposed new object needs its area")
        if item.op != "create" and (item.entity_id is None or item.base_version is None):
            raise ValueError("a proposed change names its object and the version it was made against")


# A set's items decoded once per text: a bulk approval reads each set's items for its staleness, its documents
# and its write (three decodes of the same JSON, and three rounds of building the items, otherwise). Keyed weakly
# by the loaded object; a changed text (a resubmission) is decoded afresh. The items are shared between callers,
# which read them (every writer copies what it keeps: `NewItem`, `PlannedChange`, `Retirement`).
@dataclass
class _Decoded:
    text: str
    raw: list[dict[str, Any]]
    plain: list[Proposed] | None = None
    kinds: Mapping[str, Kind] | None = None
    typed: list[Proposed] | None = None


_DECODED: weakref.WeakKeyDictionary[ChangeSet, _Decoded] = weakref.WeakKeyDictionary()


def _decoded(cs: ChangeSet) -> _Decoded:
    text = cs.items
    cached = _DECODED.get(cs)
    if cached is not None and cached.text == text:
        return cached
    fresh = _Decoded(text, json.loads(text))
    _DECODED[cs] = fresh
    return fresh


def _raw_items(cs: ChangeSet) -> list[dict[str, Any]]:
    return _decoded(cs).raw


def items_of(cs: ChangeSet, kinds: Mapping[str, Kind] | None = None) -> list[Proposed]:
    """The proposed items of a change set (attribute dates back as dates when the kinds are given)."""
    cached = _decoded(cs)
    if kinds is None and cached.plain is not None:
        return list(cached.plain)
    if kinds is not None and cached.kinds is kinds and cached.typed is not None:
        return list(cached.typed)
    out = _build_items(cached.raw, kinds)
    if kinds is None:
        cached.plain = out
    else:
        cached.kinds, cached.typed = kinds, out
    return list(out)


# Per version table, its date columns (the attributes `items_of` turns back into dates).
_DATE_COLUMNS: dict[Any, frozenset[str]] = {}


def _date_columns(kind: Kind) -> frozenset[str]:
    table = kind.version.__table__
    found = _DATE_COLUMNS.get(table)
    if found is None:
        found = frozenset(c.name for c in table.c if isinstance(c.type, Date))
        _DATE_COLUMNS[table] = found
    return found


def _build_items(raws: list[dict[str, Any]], kinds: Mapping[str, Kind] | None) -> list[Proposed]:
    out = []
    for raw in raws:
        kind = kinds.get(raw["kind"]) if kinds is not None else None
        attrs = dict(raw["attributes"])
        if kind is not None:
            dates = _date_columns(kind)
            for name, value in attrs.items():
                if name in dates:
                    attrs[name] = _date(value)
        out.append(
            Proposed(
                op=raw["op"],
                kind=raw["kind"],
                key=raw["key"],
                entity_id=raw["entity_id"],
                base_version=raw["base_version"],
                area_id=raw["area_id"],
                attributes=attrs,
                refs=dict(raw["refs"]),
                valid_from=_date(raw["valid_from"]),
                effective=_date(raw["effective"]),
                reason=raw.get("reason"),
                permission=raw.get("permission"),
                requires=list(raw.get("requires") or []),
                audit_as=raw.get("audit_as"),
            )
        )
    return out


def _detail(cs: ChangeSet, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"flow": cs.flow, "action": cs.action, "status": cs.status, **(extra or {})}


def propose(
    session: Session,
    ctx: Context,
    *,
    area_id: int,
    flow: str,
    action: str,
    summary: str,
    items: Sequence[Proposed],
    prov: Provenance,
    tags: Sequence[str] = (),
    subject_person_id: int | None = None,
    payload: dict[str, Any] | None = None,
    needs_district: bool = False,
    idempotency_key: str | None = None,
    status: str = "pending_station",
    require_scope: bool = True,
) -> ChangeSet:
    """Store a proposal for review (default status `pending_station`); nothing of it is a registry fact yet.

    404 `area.not_found` outside the proposer's jurisdiction (unless `require_scope` is false: another unit's
    change goes to the area that holds the person, which the caller has checked the proposer may see). The
    proposer is the context's actor; `prov` says what they based it on (its source is the proposer's name).
    Audited as `changeset.propose`.
    """
    cs = _new_set(
        session,
        ctx,
        Proposal(
            area_id=area_id,
            flow=flow,
            action=action,
            summary=summary,
            items=items,
            prov=prov,
            tags=tags,
            subject_person_id=subject_person_id,
            payload=payload,
            needs_district=needs_district,
            idempotency_key=idempotency_key,
            status=status,
        ),
        require_scope=require_scope,
    )
    session.add(cs)
    session.flush()
    log(ctx, session, [_proposed_event(cs, len(items))])
    return cs


@dataclass(frozen=True)
class Proposal:
    """One change set for `propose_many`, as `propose` takes it."""

    area_id: int
    flow: str
    action: str
    summary: str
    items: Sequence[Proposed]
    prov: Provenance
    tags: Sequence[str] = ()
    subject_person_id: int | None = None
    payload: dict[str, Any] | None = None
    needs_district: bool = False
    idempotency_key: str | None = None
    status: str = "pending_station"


def _proposed_event(cs: ChangeSet, items: int) -> audit.Event:
    return audit.Event(
        "changeset.propose", "change_set", cs.id, cs.subject_person_id, _detail(cs, {"items": items})
    )


def _new_set(
    session: Session,
    ctx: Context,
    p: Proposal,
    *,
    require_scope: bool = True,
    areas: Mapping[int, Area] | None = None,
) -> ChangeSet:
    # A self-declaration awaiting the collector's visit (pending_visit) proposes nothing yet.
    _check_items(p.items, allow_empty=p.status == "pending_visit")
    if p.status not in STATUSES:
        raise ValueError(f"unknown change set status {p.status!r}")
    if areas is not None and p.area_id in areas:
        area = areas[p.area_id]
    elif require_scope:
        area = ensure_area_in_scope(session, ctx, p.area_id)
    else:
        found = session.get(Area, p.area_id)
        if found is None:
            raise NotFound(
                "area.not_found", "未找到该区划", "Area not found", {"field": "area_id", "id": p.area_id}
            )
        area = found
    return ChangeSet(
        county_code=area.county_code,
        area_id=area.id,
        area_path=area.path,
        flow=p.flow,
        action=p.action,
        summary=p.summary[:200],
        tags=",".join(p.tags),
        subject_person_id=p.subject_person_id,
        items=json.dumps([i.to_json() for i in p.items], ensure_ascii=False),
        payload=json.dumps(p.payload, ensure_ascii=False, default=_jsonable)
        if p.payload is not None
        else None,
        source_kind=p.prov.source_kind,
        evidence=p.prov.evidence,
        document_ref=p.prov.document_ref,
        proposer_id=ctx.actor.user_id,
        proposer=p.prov.source_ref or ctx.actor.username,
        status=p.status,
        needs_district=p.needs_district,
        round=1,
        proposed_at=ctx.now,
        idempotency_key=p.idempotency_key,
    )


def propose_many(session: Session, ctx: Context, proposals: Sequence[Proposal]) -> list[ChangeSet]:
    """`propose` for many change sets at once (an offline outbox): the same checks and rows, the areas checked
    against the jurisdiction in one query, one flush and one audit call. 404 `area.not_found` for the first area
    outside the proposer's jurisdiction, before anything is written."""
    if not proposals:
        return []
    wanted = sorted({p.area_id for p in proposals})
    found = {
        a.id: a
        for a in session.execute(
            select(Area).where(Area.id.in_(wanted), Area.path.startswith(ctx.actor.area_path))
        ).scalars()
    }
    for area_id in wanted:
        if area_id not in found:
            raise NotFound(
                "area.not_found", "未找到该区划", "Area not found", {"field": "area_id", "id": area_id}
            )
    sets = [_new_set(session, ctx, p, areas=found) for p in proposals]
    session.add_all(sets)
    session.flush()
    log(ctx, session, [_proposed_event(cs, len(p.items)) for cs, p in zip(sets, proposals, strict=True)])
    return sets


def load(session: Session, ctx: Context, change_set_id: int) -> ChangeSet:
    """A change set of the actor's jurisdiction, or 404 `changeset.not_found` (never telling whether it exists
    elsewhere)."""
    cs = session.execute(
        select(ChangeSet).where(
            ChangeSet.id == change_set_id, ChangeSet.area_path.startswith(ctx.actor.area_path)
        )
    ).scalar_one_or_none()
    if cs is None:
        raise NotFound("changeset.not_found", "未找到该变更集", "Change set not found", {"id": change_set_id})
    return cs


def stale_reasons(session: Session, cs: ChangeSet, kinds: Mapping[str, Kind]) -> list[dict[str, Any]]:
    """Why a change set no longer applies as proposed: an object it changes was retired or moved on since its
    base version, or an object it stands on (`Proposed.requires`) is retired or has a forbidden value. Empty
    when it still applies."""
    return stale_reasons_many(session, [cs], kinds)[cs.id]


def stale_reasons_many(
    session: Session, sets: Sequence[ChangeSet], kinds: Mapping[str, Kind]
) -> dict[int, list[dict[str, Any]]]:
    """`stale_reasons` for many change sets (a page of the desk) in two queries per kind they touch."""
    reasons: dict[int, list[dict[str, Any]]] = {cs.id: [] for cs in sets}
    changed: dict[str, list[tuple[int, Proposed]]] = {}
    needs: dict[str, list[tuple[int, int, dict[str, list[Any]]]]] = {}
    for cs in sets:
        for item in items_of(cs):
            if item.op != "create" and item.entity_id is not None:
                changed.setdefault(item.kind, []).append((cs.id, item))
            for k, i, bad in item.requires:
                needs.setdefault(str(k), []).append((cs.id, int(i), dict(bad)))
    for name in sorted(set(changed) | set(needs)):
        kind = kinds[name]
        wanted = {i.entity_id for _, i in changed.get(name, []) if i.entity_id is not None}
        wanted |= {entity_id for _, entity_id, _ in needs.get(name, [])}
        current = history.current_rows(session, kind, sorted(int(w) for w in wanted))
        open_rows = {
            entity_id: [r for r in rows if r["valid_to"] is None] for entity_id, rows in current.items()
        }
        counters = {entity_id: int(rows[0]["entity_version"]) for entity_id, rows in current.items() if rows}
        for cs_id, entity_id, bad in needs.get(name, []):
            found = open_rows.get(entity_id)
            if not found:
                reasons[cs_id].append({"kind": name, "id": entity_id, "reason": "retired"})
                continue
            for attribute, values in bad.items():
                if found[0].get(attribute) in values:
                    reasons[cs_id].append(
                        {"kind": name, "id": entity_id, "reason": attribute, "value": found[0][attribute]}
                    )
        for cs_id, item in changed.get(name, []):
            assert item.entity_id is not None
            if item.entity_id not in current:
                gone = session.get(kind.entity, item.entity_id) is None
                reasons[cs_id].append(
                    {"kind": name, "id": item.entity_id, "reason": "gone" if gone else "retired"}
                )
            elif not open_rows.get(item.entity_id):
                reasons[cs_id].append({"kind": name, "id": item.entity_id, "reason": "retired"})
            elif counters[item.entity_id] != item.base_version:
                reasons[cs_id].append(
                    {
                        "kind": name,
                        "id": item.entity_id,
                        "reason": "version_moved",
                        "base_version": item.base_version,
                        "version": counters[item.entity_id],
                    }
                )
    return reasons


def mark_reviewed(session: Session, ctx: Context, cs: ChangeSet, stage: str) -> None:
    """Record a stage's approval on the set (`approve_station` or `approve_district`) and its next status:
    district review when the set needs it, else approved (the caller applies it). Audited."""
    mark_reviewed_many(session, ctx, [(cs, stage)])


def mark_reviewed_many(session: Session, ctx: Context, decided: Sequence[tuple[ChangeSet, str]]) -> None:
    """`mark_reviewed` for many sets (a bulk approval): every set's lifecycle checked before any is marked, one
    UPDATE per stage for all (`write_columns`) and one audit append."""
    events = []
    marks: list[tuple[ChangeSet, dict[str, Any]]] = []
    for cs, stage in decided:
        LIFECYCLE.ensure(cs.status, stage, id=cs.id)
    for cs, stage in decided:
        if stage == "approve_station":
            status = "pending_district" if cs.needs_district else "approved"
            values: dict[str, Any] = {
                "station_reviewer_id": ctx.actor.user_id,
                "station_reviewed_at": ctx.now,
                "status": status,
            }
        else:
            status = "approved"
            values = {
                "district_reviewer_id": ctx.actor.user_id,
                "district_reviewed_at": ctx.now,
                "status": status,
            }
        if status == "approved":
            values["applied_at"] = ctx.now
        marks.append((cs, values))
    write_columns(session, marks)
    for cs, stage in decided:
        if stage == "approve_station":
            events.append(
                audit.Event(
                    "changeset.approve_station", "change_set", cs.id, cs.subject_person_id, _detail(cs)
                )
            )
        else:
            events.append(
                audit.Event(
                    "changeset.approve_district", "change_set", cs.id, cs.subject_person_id, _detail(cs)
                )
            )
    if events:
        log(ctx, session, events)


def write_columns(session: Session, changes: Sequence[tuple[ChangeSet, dict[str, Any]]]) -> None:
    """Set columns of loaded change sets: one UPDATE (executemany) per set of columns, and the same values on the
    objects as their committed state. The ORM's flush of 1,000 dirty sets (its history of every attribute) cost
    a bulk approval more than writing its version rows."""
    session.flush()  # anything pending on these objects is written first, then overwritten here
    table = cast(Table, ChangeSet.__table__)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for cs, values in changes:
        groups.setdefault(tuple(sorted(values)), []).append(
            {"w_id": cs.id, **{f"w_{name}": value for name, value in values.items()}}
        )
    for names, params in groups.items():
        stmt = (
            update(table)
            .where(table.c.id == bindparam("w_id"))
            .values({name: bindparam(f"w_{name}") for name in names})
        )
        session.execute(stmt, params)
    for cs, values in changes:
        for name, value in values.items():
            set_committed_value(cs, name, value)


def return_set(session: Session, ctx: Context, cs: ChangeSet, reason: str | None) -> None:
    """Send a change set back to its proposer with a reason (422 `changeset.reason_required` without one)."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            "changeset.reason_required",
            "必须填写原因（退回、拒绝或裁决）",
            "A reason is required (to return, refuse or rule)",
            {"field": "reason"},
        )
    LIFECYCLE.ensure(cs.status, "return", id=cs.id)
    cs.status = "returned"
    cs.return_reason = text[:1000]
    cs.returned_by = ctx.actor.user_id
    cs.returned_at = ctx.now
    cs.station_reviewer_id = None
    cs.station_reviewed_at = None
    session.flush()
    log(
        ctx,
        session,
        [
            audit.Event(
                "changeset.return",
                "change_set",
                cs.id,
                cs.subject_person_id,
                _detail(cs, {"reason": cs.return_reason}),
            )
        ],
    )


def resubmit(
    session: Session,
    ctx: Context,
    cs: ChangeSet,
    *,
    items: Sequence[Proposed],
    summary: str,
    payload: dict[str, Any] | None,
    needs_district: bool,
    tags: Sequence[str] = (),
) -> None:
    """The proposer's fixed version of a returned set: new items, back to station review, one round more.
    Only the proposer resubmits (404 `changeset.not_found` for anyone else's)."""
    if cs.proposer_id != ctx.actor.user_id:
        raise NotFound("changeset.not_found", "未找到该变更集", "Change set not found", {"id": cs.id})
    LIFECYCLE.ensure(cs.status, "resubmit", id=cs.id)
    _check_items(items)
    cs.items = json.dumps([i.to_json() for i in items], ensure_ascii=False)
    cs.payload = json.dumps(payload, ensure_ascii=False, default=_jsonable) if payload is not None else None
    cs.summary = summary[:200]
    cs.tags = ",".join(tags)
    cs.needs_district = needs_district
    cs.status = "pending_station"
    cs.round += 1
    cs.proposed_at = ctx.now
    session.flush()
    log(
        ctx,
        session,
        [
            audit.Event(
                "changeset.resubmit",
                "change_set",
                cs.id,
                cs.subject_person_id,
                _detail(cs, {"round": cs.round}),
            )
        ],
    )


def ensure_not_own(ctx: Context, cs: ChangeSet) -> None:
    """A reviewer never approves their own collection (谁采集、谁录入、谁负责: review is someone else's)."""
    if cs.proposer_id is not None and cs.proposer_id == ctx.actor.user_id:
        raise Forbidden(
            "changeset.own_collection",
            "不能审核自己采集的信息",
            "You cannot review what you collected yourself",
            {"id": cs.id},
        )


def conflict_stale(cs: ChangeSet, reasons: list[dict[str, Any]]) -> Conflict:
    """The refusal of a change set that no longer applies (nothing of it is written)."""
    return Conflict(
        "changeset.stale",
        "该变更集已不再适用（人员或房屋已变化），请退回采集员核实",
        "This change set no longer applies (the person or dwelling changed since); return it for checking",
        {"id": cs.id, "reasons": reasons},
    )


def decide(
    session: Session,
    ctx: Context,
    cs: ChangeSet,
    action: str,
    status: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move a change set of a flow (a claim, a cross-unit edit) along its lifecycle: `action` must be allowed in
    its status (409 otherwise); it takes `status`. Audited as `changeset.decide` with the action and `detail`.
    The caller applies an approved set (`changeset_apply.apply_many`)."""
    LIFECYCLE.ensure(cs.status, action, id=cs.id)
    before = cs.status
    cs.status = status
    if status == "approved":
        cs.station_reviewer_id = ctx.actor.user_id
        cs.station_reviewed_at = ctx.now
        cs.applied_at = ctx.now
    session.flush()
    log(
        ctx,
        session,
        [
            audit.Event(
                "changeset.decide",
                "change_set",
                cs.id,
                cs.subject_person_id,
                _detail(cs, {"decision": action, "from": before, **(detail or {})}),
            )
        ],
    )


def move(session: Session, ctx: Context, cs: ChangeSet, area_id: int, *, action: str = "move") -> None:
    """Hand a change set to another area (a department record that belongs to another community): any area that
    exists, also outside the actor's jurisdiction (404 `area.not_found` for none). Audited as `changeset.move`."""
    LIFECYCLE.ensure(cs.status, action, id=cs.id)
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area_id", "id": area_id}
        )
    before = cs.area_id
    cs.area_id, cs.area_path, cs.county_code = area.id, area.path, area.county_code
    session.flush()
    log(
        ctx,
        session,
        [
            audit.Event(
                "changeset.move",
                "change_set",
                cs.id,
                cs.subject_person_id,
                _detail(cs, {"from_area": before, "to_area": area.id}),
            )
        ],
    )
