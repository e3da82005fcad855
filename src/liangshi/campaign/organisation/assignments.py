"""Assignments of work units to collectors (分片包干): what they cover, their workload and cards, reassignment,
return, the check at sync (`is_assigned`), bulk assignment from a CSV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import User
from liangshi.addresses.models import Address, Street, StreetVersion
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.campaign import rules
from liangshi.campaign.models import (
    Assignment,
    AssignmentBuilding,
    Campaign,
    CampaignPilot,
)
from liangshi.campaign.organisation.campaigns import (
    COLLECTING_ROLES,
    _area_by_code,
    _in_scope,
    _team,
    _user,
    _user_covers,
    _within_campaign,
    calendar_of,
    get_campaign,
)
from liangshi.campaign.schemas import (
    AssignmentCreate,
    AssignmentRead,
    BulkResult,
)
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.registry import Context, history
from liangshi.residence.models import Residence, ResidenceVersion

# ---- which buildings an assignment covers ---------------------------------------------------------------------


def covered_buildings(assignment: Assignment) -> Any:
    """A select of the ids of the buildings an assignment covers (read from its unit each time)."""
    subtree = select(Area.id).where(
        Area.path.startswith(select(Area.path).where(Area.id == assignment.area_id).scalar_subquery())
    )
    if assignment.unit_kind == "buildings":
        return select(AssignmentBuilding.building_id).where(AssignmentBuilding.assignment_id == assignment.id)
    if assignment.unit_kind == "street":
        return (
            select(Building.id)
            .join(Address, Address.id == Building.address_id)
            .where(Address.street_id == assignment.street_id, Building.area_id.in_(subtree))
        )
    return select(Building.id).where(Building.area_id.in_(subtree))


def workload(session: Session, building_ids: Any, today: dt.date) -> tuple[int, int, int]:
    """Buildings, dwellings and known persons (current residences) of a set of buildings, as of today."""
    bv, dv, rv = BuildingVersion, DwellingVersion, ResidenceVersion
    buildings = session.execute(
        select(func.count(Building.id))
        .join(bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, today)))
        .where(Building.id.in_(building_ids))
    ).scalar_one()
    dwelling_ids = (
        select(Dwelling.id)
        .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, today)))
        .where(Dwelling.building_id.in_(building_ids))
    )
    dwellings = session.execute(select(func.count()).select_from(dwelling_ids.subquery())).scalar_one()
    persons = session.execute(
        select(func.count(func.distinct(Residence.person_id)))
        .join(rv, and_(rv.entity_id == Residence.id, rv.superseded_at.is_(None), history.valid_on(rv, today)))
        .where(Residence.dwelling_id.in_(dwelling_ids))
    ).scalar_one()
    return int(buildings), int(dwellings), int(persons)


# ---- assignments ------------------------------------------------------------------------------------------------


def read_assignment(
    session: Session, ctx: Context, a: Assignment, campaign: Campaign | None = None
) -> AssignmentRead:
    """An assignment with its card as of today (only an open one carries a card)."""
    campaign = campaign or session.get(Campaign, a.campaign_id)
    assert campaign is not None
    area = session.get(Area, a.area_id)
    user = session.get(User, a.collector_id)
    assert area is not None and user is not None
    buildings = (
        [
            int(b)
            for b in session.execute(
                select(AssignmentBuilding.building_id)
                .where(AssignmentBuilding.assignment_id == a.id)
                .order_by(AssignmentBuilding.building_id)
            ).scalars()
        ]
        if a.unit_kind == "buildings"
        else []
    )
    card = (
        rules.card(a.due_on, ctx.today, calendar_of(campaign), campaign.yellow_days)
        if a.status == "open"
        else None
    )
    return AssignmentRead(
        id=a.id,
        campaign_id=a.campaign_id,
        team_id=a.team_id,
        collector=user.username,
        collector_id=user.id,
        unit=a.unit_kind,
        area_code=area.code,
        area_name=areas.names_of(session, [area.id], ctx.today).get(area.id, area.code),
        street_id=a.street_id,
        building_ids=buildings,
        due_on=a.due_on,
        status=a.status,
        card=card,
        workload_buildings=a.workload_buildings,
        workload_dwellings=a.workload_dwellings,
        workload_persons=a.workload_persons,
        return_reason=a.return_reason,
        replaced_by_id=a.replaced_by_id,
    )


def _collector(session: Session, username: str, area: Area) -> User:
    user = _user(session, username, "collector")
    if user.role not in COLLECTING_ROLES:
        raise ValidationFailed(
            "assignment.not_a_collector",
            "只能分派给采集员或社区民警",
            "Work is assigned to a collector or a community officer",
            {"field": "collector", "value": username},
        )
    if not _user_covers(session, user, area):
        raise ValidationFailed(
            "assignment.collector_outside",
            "该采集员的辖区不包含此工作单元",
            "The collector's jurisdiction does not cover this work unit",
            {"field": "collector", "value": username},
        )
    return user


def _unit_area(
    session: Session, ctx: Context, campaign: Campaign, data: AssignmentCreate
) -> tuple[Area, list[int]]:
    """The area of the work unit (and the buildings of a building list), checked against the jurisdiction."""
    if data.unit == "buildings":
        if not data.building_ids or data.area_code or data.street_id:
            raise ValidationFailed(
                "assignment.buildings_only",
                "楼栋清单须且只须列出楼栋编号",
                "A list of buildings names building ids and nothing else",
                {"field": "building_ids"},
            )
        ids = list(dict.fromkeys(data.building_ids))
        found = session.execute(
            select(Building.id, Area)
            .join(Area, Area.id == Building.area_id)
            .where(Building.id.in_(ids), _in_scope(ctx.actor))
        ).all()
        missing = sorted(set(ids) - {int(b) for b, _ in found})
        if missing:
            raise NotFound(
                "building.not_found",
                "未找到该楼栋",
                "Building not found",
                {"field": "building_ids", "ids": missing},
            )
        area_list = {a.id: a for _, a in found}
        for area in area_list.values():
            _within_campaign(session, campaign, area, "building_ids")
        if len(area_list) == 1:
            return next(iter(area_list.values())), ids
        # Buildings of several areas: the lowest area holding them all.
        paths = [a.path for a in area_list.values()]
        common = paths[0]
        for p in paths[1:]:
            while not p.startswith(common):
                common = common[: common.rstrip("/").rfind("/") + 1]
        holder = session.execute(select(Area).where(Area.path == common)).scalar_one()
        return holder, ids
    if not data.area_code or data.building_ids:
        raise ValidationFailed(
            "assignment.area_required",
            "社区、网格或街路巷任务须给出区划代码",
            "A community, grid or street assignment names an area code",
            {"field": "area_code"},
        )
    area = _area_by_code(session, ctx, data.area_code, "area_code")
    _within_campaign(session, campaign, area, "area_code")
    if data.unit in ("community", "grid") and (area.level != data.unit or data.street_id):
        raise ValidationFailed(
            "assignment.unit_level_mismatch",
            "区划级别与工作单元不符",
            "The area's level does not match the work unit",
            {"field": "area_code", "level": area.level},
        )
    if data.unit == "street" and (data.street_id is None or session.get(Street, data.street_id) is None):
        raise NotFound("street.not_found", "未找到该街路巷", "Street not found", {"field": "street_id"})
    return area, []


def _ensure_rolled_out(session: Session, ctx: Context, campaign: Campaign, area: Area) -> None:
    """先试点、后展开: before the roll-out date only the pilot areas (and what lies in them) take work."""
    if campaign.rollout_on is None or ctx.today >= campaign.rollout_on:
        return
    pilots = session.execute(
        select(Area.path)
        .join(CampaignPilot, CampaignPilot.area_id == Area.id)
        .where(CampaignPilot.campaign_id == campaign.id)
    ).scalars()
    if not any(area.path.startswith(p) for p in pilots):
        raise ValidationFailed(
            "assignment.before_rollout",
            "全面展开前只能在试点区划分派任务",
            "Before the roll-out, work is assigned in the pilot areas only",
            {"field": "area_code", "rollout_on": campaign.rollout_on.isoformat()},
        )


def assign(session: Session, ctx: Context, campaign_id: int, data: AssignmentCreate) -> AssignmentRead:
    """Give a work unit to a collector with a due date; the workload is counted now."""
    ctx.actor.ensure("assignment.manage")
    campaign = get_campaign(session, ctx, campaign_id)
    area, building_ids = _unit_area(session, ctx, campaign, data)
    _ensure_rolled_out(session, ctx, campaign, area)
    if data.due_on < ctx.today:
        raise ValidationFailed(
            "assignment.due_in_past",
            "完成期限不能早于今天",
            "The due date cannot be in the past",
            {"field": "due_on"},
        )
    if data.team_id is not None:
        team, _ = _team(session, ctx, data.team_id)
        if team.campaign_id != campaign.id:
            raise ValidationFailed(
                "assignment.team_elsewhere",
                "该专班不属于本采集活动",
                "The team belongs to another campaign",
                {"field": "team_id"},
            )
    if data.unit == "buildings":
        holders = (
            session.execute(
                select(Area).join(Building, Building.area_id == Area.id).where(Building.id.in_(building_ids))
            )
            .scalars()
            .all()
        )
        user = _user(session, data.collector, "collector")
        for holder in holders:
            user = _collector(session, data.collector, holder)
    else:
        user = _collector(session, data.collector, area)
    a = Assignment(
        campaign_id=campaign.id,
        team_id=data.team_id,
        collector_id=user.id,
        unit_kind=data.unit,
        area_id=area.id,
        street_id=data.street_id if data.unit == "street" else None,
        county_code=area.county_code,
        due_on=data.due_on,
        status="open",
        workload_buildings=0,
        workload_dwellings=0,
        workload_persons=0,
        created_at=ctx.now,
    )
    _ensure_no_overlap(session, a, building_ids)
    session.add(a)
    session.flush()
    for building_id in building_ids:
        session.add(AssignmentBuilding(assignment_id=a.id, building_id=building_id))
    session.flush()
    a.workload_buildings, a.workload_dwellings, a.workload_persons = workload(
        session, covered_buildings(a), ctx.today
    )
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "assignment.create",
                "area",
                area.id,
                None,
                {"assignment_id": a.id, "collector": user.username, "unit": a.unit_kind},
            )
        ],
    )
    return read_assignment(session, ctx, a, campaign)


def _ensure_no_overlap(session: Session, a: Assignment, building_ids: list[int]) -> None:
    """409 `assignment.overlap` when a building of the new assignment (not yet written) is already in another open
    assignment of the same campaign (不重不漏: one building, one collector at a time)."""
    others = list(
        session.execute(
            select(Assignment).where(Assignment.campaign_id == a.campaign_id, Assignment.status == "open")
        ).scalars()
    )
    if not others:
        return
    mine: Any = (
        select(Building.id).where(Building.id.in_(building_ids))
        if a.unit_kind == "buildings"
        else covered_buildings(a)
    )
    for other in others:
        shared = list(
            session.execute(
                select(Building.id)
                .where(Building.id.in_(mine), Building.id.in_(covered_buildings(other)))
                .order_by(Building.id)
                .limit(20)
            ).scalars()
        )
        if shared:
            raise Conflict(
                "assignment.overlap",
                "该工作单元的楼栋已在本活动的另一项未完成任务中",
                "Buildings of this work unit are already in another open assignment of this campaign",
                {"field": "unit", "assignment_id": other.id, "building_ids": [int(b) for b in shared]},
            )


def _assignment(session: Session, ctx: Context, assignment_id: int) -> Assignment:
    a = session.execute(
        select(Assignment)
        .join(Area, Area.id == Assignment.area_id)
        .where(Assignment.id == assignment_id, _in_scope(ctx.actor))
    ).scalar_one_or_none()
    if a is None:
        raise NotFound("assignment.not_found", "未找到该任务", "Assignment not found", {"id": assignment_id})
    return a


def campaign_of(session: Session, ctx: Context, assignment_id: int) -> int:
    """The campaign an assignment in the jurisdiction belongs to (a page goes back to it)."""
    return _assignment(session, ctx, assignment_id).campaign_id


def reassign(
    session: Session, ctx: Context, assignment_id: int, *, collector: str, due_on: dt.date | None = None
) -> AssignmentRead:
    """Give an open or returned assignment to another collector: the old one closes, a new one opens."""
    ctx.actor.ensure("assignment.manage")
    old = _assignment(session, ctx, assignment_id)
    rules.ASSIGNMENT_LIFECYCLE.ensure(old.status, "reassign", id=old.id)
    building_ids = [
        int(b)
        for b in session.execute(
            select(AssignmentBuilding.building_id).where(AssignmentBuilding.assignment_id == old.id)
        ).scalars()
    ]
    area = session.get(Area, old.area_id)
    assert area is not None
    data = AssignmentCreate(
        collector=collector,
        unit=old.unit_kind,
        area_code=None if old.unit_kind == "buildings" else area.code,
        street_id=old.street_id,
        building_ids=building_ids,
        due_on=due_on or max(old.due_on, ctx.today),
        team_id=old.team_id,
    )
    # The old one closes first, so that the new one (the same buildings) does not overlap it.
    old.status = "reassigned"
    old.closed_at = ctx.now
    session.flush()
    new = assign(session, ctx, old.campaign_id, data)
    old.replaced_by_id = new.id
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "assignment.reassign",
                "area",
                old.area_id,
                None,
                {"assignment_id": old.id, "replaced_by": new.id, "collector": collector},
            )
        ],
    )
    return new


def return_assignment(session: Session, ctx: Context, assignment_id: int, reason: str) -> AssignmentRead:
    """A collector hands back their open assignment with a reason (a manager may return it for them)."""
    ctx.actor.ensure("assignment.return")
    a = _assignment(session, ctx, assignment_id)
    if a.collector_id != ctx.actor.user_id and not ctx.actor.may("assignment.manage"):
        raise NotFound("assignment.not_found", "未找到该任务", "Assignment not found", {"id": assignment_id})
    rules.ASSIGNMENT_LIFECYCLE.ensure(a.status, "return", id=a.id)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            "assignment.reason_required",
            "退回任务须说明原因",
            "Say why the work is returned",
            {"field": "reason"},
        )
    a.status = "returned"
    a.return_reason = reason
    a.closed_at = ctx.now
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "assignment.return", "area", a.area_id, None, {"assignment_id": a.id, "reason": reason}
            )
        ],
    )
    return read_assignment(session, ctx, a)


def assignments(
    session: Session,
    ctx: Context,
    *,
    campaign_id: int | None = None,
    collector_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[AssignmentRead]:
    """Assignments in the jurisdiction (a collector sees their own), earliest due first."""
    ctx.actor.ensure("campaign.read")
    stmt = select(Assignment).join(Area, Area.id == Assignment.area_id).where(_in_scope(ctx.actor))
    if not ctx.actor.may("assignment.manage"):
        stmt = stmt.where(Assignment.collector_id == ctx.actor.user_id)
    if campaign_id is not None:
        stmt = stmt.where(Assignment.campaign_id == campaign_id)
    if collector_id is not None:
        stmt = stmt.where(Assignment.collector_id == collector_id)
    if status is not None:
        stmt = stmt.where(Assignment.status == status)
    rows = session.execute(stmt.order_by(Assignment.due_on, Assignment.id).limit(limit)).scalars()
    return [read_assignment(session, ctx, a) for a in rows]


def _covering(session: Session, building_id: int) -> list[Assignment]:
    """Every assignment (any status, any collector) whose unit holds the building."""
    row = session.execute(
        select(Area.path, Address.street_id)
        .select_from(Building)
        .join(Area, Area.id == Building.area_id)
        .join(Address, Address.id == Building.address_id)
        .where(Building.id == building_id)
    ).first()
    if row is None:
        return []
    path, street_id = row
    ancestors = [int(p) for p in str(path).strip("/").split("/") if p]
    by_area = and_(
        Assignment.area_id.in_(ancestors),
        or_(
            Assignment.unit_kind.in_(("community", "grid")),
            and_(Assignment.unit_kind == "street", Assignment.street_id == street_id),
        ),
    )
    listed = exists(
        select(AssignmentBuilding.id).where(
            AssignmentBuilding.assignment_id == Assignment.id, AssignmentBuilding.building_id == building_id
        )
    )
    return list(
        session.execute(
            select(Assignment).where(or_(by_area, and_(Assignment.unit_kind == "buildings", listed)))
        ).scalars()
    )


def is_assigned(session: Session, *, user_id: int, dwelling_id: int, today: dt.date) -> bool:
    """Whether the dwelling is in an open assignment of that collector (open on `today`).

    Where no assignment at all covers the dwelling's building, the work is not organised there yet and today's
    rule holds: any collector whose jurisdiction covers the dwelling may record it.
    """
    row = session.execute(
        select(Dwelling.building_id, Area.path)
        .join(Area, Area.id == Dwelling.area_id)
        .where(Dwelling.id == dwelling_id)
    ).first()
    user = session.get(User, user_id)
    if row is None or user is None:
        return False
    building_id, path = row
    covering = _covering(session, int(building_id))
    if not covering:
        home = session.get(Area, user.area_id)
        return home is not None and str(path).startswith(home.path)
    return any(
        a.collector_id == user_id and a.status == "open" and a.created_at.date() <= today for a in covering
    )


# ---- bulk assignment from CSV ---------------------------------------------------------------------------------


def _csv_unit(session: Session, row: rules.AssignmentRow) -> dict[str, Any]:
    if row.unit == "buildings":
        return {"building_ids": [int(p) for p in row.target.split(";") if p.strip()]}
    if row.unit == "street":
        code, sep, name = row.target.partition("/")
        if not sep or not name.strip():
            raise ValidationFailed(
                "assignment.bad_street_target",
                "街路巷任务写作 区划代码/街路巷名称",
                "A street is written area-code/street-name",
                {"field": "target"},
            )
        ids = list(
            session.execute(
                select(StreetVersion.entity_id).where(
                    StreetVersion.name == name.strip(), StreetVersion.superseded_at.is_(None)
                )
            ).scalars()
        )
        if len(ids) != 1:
            raise ValidationFailed(
                "assignment.street_unknown",
                "未找到该街路巷或名称不唯一",
                "No street by that name, or more than one",
                {"field": "target", "value": name.strip()},
            )
        return {"area_code": code.strip(), "street_id": int(ids[0])}
    return {"area_code": row.target}


def bulk_assign(session: Session, ctx: Context, campaign_id: int, text: str) -> BulkResult:
    """Assignments from a CSV `collector,unit,target,due_on`: every line checked; on any error nothing is written."""
    ctx.actor.ensure("assignment.manage")
    rows, errors = rules.parse_assignment_csv(text)
    created = 0
    savepoint = session.begin_nested()
    for row in rows:
        try:
            data = AssignmentCreate(
                collector=row.collector,
                unit=row.unit,
                due_on=row.due_on,
                **_csv_unit(session, row),
            )
            with session.begin_nested():
                assign(session, ctx, campaign_id, data)
            created += 1
        except (ValidationFailed, NotFound, Conflict) as exc:
            if exc.code == "campaign.not_found":
                raise
            field = str(exc.data.get("field") or "line")
            errors.append(rules.RowError(row.line, field, exc.message_zh, exc.message_en))
        except ValueError as exc:  # pydantic's ValidationError of a cell the parser let through
            errors.append(rules.RowError(row.line, "line", "内容无效", str(exc).splitlines()[0]))
    if errors:
        savepoint.rollback()
        return BulkResult(created=0, errors=[e.to_json() for e in sorted(errors, key=lambda e: e.line)])
    savepoint.commit()
    return BulkResult(created=created, errors=[])


def collectors_of(session: Session, ctx: Context, area_ids: Iterable[int]) -> list[User]:
    """Active collectors and community officers whose jurisdiction lies in or covers the given areas."""
    ids = list(area_ids)
    paths = [p for (p,) in session.execute(select(Area.path).where(Area.id.in_(ids)))]
    rows = session.execute(
        select(User, Area.path)
        .join(Area, Area.id == User.area_id)
        .where(User.active.is_(True), User.role.in_(COLLECTING_ROLES), _in_scope(ctx.actor))
        .order_by(User.username)
    ).all()
    return [u for u, path in rows if any(p.startswith(path) or path.startswith(p) for p in paths)]
