"""The set-based forms the outbox sync uses (离线采集批量同步): which of many dwellings a collector may submit work
for (one pass over the dwellings and the assignments covering them), and many visits recorded at once (one insert
of the visits, one of the change sets they propose, one `change_many` of the buildings' visit status, one audit
call). Same rules and rows as `organisation.is_assigned` and `service.record_visit`, item for item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import User
from liangshi.addresses.models import Address
from liangshi.areas.models import Area
from liangshi.buildings import service as buildings
from liangshi.buildings.models import Building, Dwelling
from liangshi.campaign import counts, service
from liangshi.campaign.models import Assignment, AssignmentBuilding, Visit, VisitPerson
from liangshi.campaign.schemas import VisitCreate
from liangshi.registry import Context, Provenance, history
from liangshi.review import service as review
from liangshi.review.rules import DistrictPolicy


def _ancestors(path: str) -> set[int]:
    return {int(p) for p in path.strip("/").split("/") if p}


def _covers(a: Assignment, ancestors: set[int], street_id: int | None, listed: bool) -> bool:
    # As organisation._covering: a community or grid covers what lies below it, a street its buildings on that
    # street below the area, a list of buildings those listed.
    if a.unit_kind == "buildings":
        return listed
    if a.area_id not in ancestors:
        return False
    return a.unit_kind in ("community", "grid") or (a.unit_kind == "street" and a.street_id == street_id)


def writable_dwellings(session: Session, ctx: Context, dwelling_ids: Sequence[int]) -> dict[int, Any]:
    """Of these dwellings, those the actor may change (inside the jurisdiction), with their building, area path
    and the building's street: one query (as `registry.get_entity(..., write=True)` item by item)."""
    ids = sorted(set(dwelling_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Dwelling, Area.path, Building.area_id, Address.street_id)
        .join(Area, Area.id == Dwelling.area_id)
        .join(Building, Building.id == Dwelling.building_id)
        .join(Address, Address.id == Building.address_id)
        .where(Dwelling.id.in_(ids), Area.path.startswith(ctx.actor.area_path))
    ).all()
    return {int(d.id): (d, str(path), int(b_area), street) for d, path, b_area, street in rows}


def assigned_dwellings(session: Session, ctx: Context, dwelling_ids: Sequence[int]) -> set[int]:
    """Which of these dwellings the actor may submit work for: inside their jurisdiction and in one of their open
    assignments (where no assignment covers a building yet, the jurisdiction suffices), as `is_assigned` says for
    one dwelling; a handful of queries for the lot."""
    found = writable_dwellings(session, ctx, dwelling_ids)
    user = session.get(User, ctx.actor.user_id) if ctx.actor.user_id is not None else None
    if not found or user is None:
        return set()
    home = session.get(Area, user.area_id)
    paths = {
        int(a): str(p)
        for a, p in session.execute(
            select(Area.id, Area.path).where(Area.id.in_({b_area for _, _, b_area, _ in found.values()}))
        )
    }
    ancestors_of = {b_area: _ancestors(path) for b_area, path in paths.items()}
    all_ancestors = set().union(*ancestors_of.values()) if ancestors_of else set()
    building_ids = {int(d.building_id) for d, _, _, _ in found.values()}
    listed = {
        (int(a), int(b))
        for a, b in session.execute(
            select(AssignmentBuilding.assignment_id, AssignmentBuilding.building_id).where(
                AssignmentBuilding.building_id.in_(building_ids)
            )
        )
    }
    candidates = list(
        session.execute(
            select(Assignment).where(
                Assignment.area_id.in_(all_ancestors) | Assignment.id.in_({a for a, _ in listed})
            )
        ).scalars()
    )
    allowed: set[int] = set()
    for dwelling_id, (d, path, b_area, street_id) in found.items():
        b = int(d.building_id)
        covering = [
            a
            for a in candidates
            if _covers(a, ancestors_of.get(b_area, set()), street_id, (a.id, b) in listed)
        ]
        if not covering:
            if home is not None and path.startswith(home.path):
                allowed.add(dwelling_id)
        elif any(
            a.collector_id == user.id and a.status == "open" and a.created_at.date() <= ctx.today
            for a in covering
        ):
            allowed.add(dwelling_id)
    return allowed


@dataclass(frozen=True)
class Recorded:
    """A visit `record_visits` stored and the change set it proposed (None when the status stays)."""

    visit: Visit
    change_set_id: int | None


def record_visits(
    session: Session,
    ctx: Context,
    entries: Sequence[tuple[int, VisitCreate]],
    *,
    policy: DistrictPolicy | None = None,
) -> list[Recorded]:
    """`service.record_visit` for many (dwelling, visit) pairs at once, in order: the same checks (permission,
    jurisdiction, confirmed persons) raised before anything is written, the same rows and change sets. The
    caller has checked no idempotency key is taken (a taken one fails the insert: roll back and go item by item).
    """
    ctx.actor.ensure("dwelling.write")
    if not entries:
        return []
    found = writable_dwellings(session, ctx, [d for d, _ in entries])
    for dwelling_id, _ in entries:
        if dwelling_id not in found:
            raise history.not_found(buildings.DWELLING, dwelling_id)
    confirmed = [service.check_confirmed(session, ctx, d, data) for d, data in entries]
    for d, data in entries:
        service.check_household_sizes(session, ctx, d, data)
    visits = [service.new_visit(ctx, found[d][0], data) for d, data in entries]
    session.add_all(visits)
    session.flush()
    session.add_all(
        VisitPerson(visit_id=v.id, person_id=p, county_code=v.county_code)
        for v, persons in zip(visits, confirmed, strict=True)
        for p in persons
    )
    counts.mark_dirty(session, [v.building_id for v in visits])
    for _, data in entries:
        service.declare_sizes(session, ctx, data)
    prov = Provenance("collector", ctx.actor.username, "observed", None)
    rows = history.current_rows(session, buildings.DWELLING, list(found))
    open_status = {
        d: next((r["status"] for r in found_rows if r["valid_to"] is None), None)
        for d, found_rows in rows.items()
    }
    proposals: list[tuple[int, registry.changesets.Proposal]] = []
    for i, (visit, (dwelling_id, _)) in enumerate(zip(visits, entries, strict=True)):
        status = open_status.get(dwelling_id)
        if status is not None:
            proposal = service.occupancy_proposal(ctx, found[dwelling_id][0], status, visit, prov)
            if proposal is not None:
                proposals.append((i, proposal))
    sets = review.propose_many(session, ctx, [p for _, p in proposals], policy=policy)
    change_sets: dict[int, int] = {i: int(cs.id) for (i, _), cs in zip(proposals, sets, strict=True)}
    service.follow_buildings(session, ctx, [v.building_id for v in visits], prov)
    registry.log(
        ctx,
        session,
        [e for v, persons in zip(visits, confirmed, strict=True) for e in service.visit_events(v, persons)],
    )
    return [Recorded(v, change_sets.get(i)) for i, v in enumerate(visits)]
