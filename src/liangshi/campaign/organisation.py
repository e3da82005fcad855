"""The campaign's organisation: campaigns and phases, teams, assignments of work units to collectors (分片包干)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from liangshi import registry
from liangshi.access.models import User
from liangshi.access.rules import Actor
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
    CampaignPhase,
    CampaignPilot,
    Team,
    TeamMember,
)
from liangshi.campaign.schemas import (
    AssignmentCreate,
    AssignmentRead,
    BulkResult,
    CampaignRead,
    MemberIn,
    MemberRead,
    PhaseRead,
    TeamCreate,
    TeamRead,
)
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.registry import Context, history
from liangshi.residence import calendar as holiday_calendar
from liangshi.residence.models import Residence, ResidenceVersion

# Who may be given work at the door: collectors and community officers.
COLLECTING_ROLES = ("collector", "community_police")


def _in_scope(actor: Actor) -> ColumnElement[bool]:
    return Area.path.startswith(actor.area_path)


def _area_by_code(session: Session, ctx: Context, code: str, field: str) -> Area:
    area = session.execute(select(Area).where(Area.code == code, _in_scope(ctx.actor))).scalar_one_or_none()
    if area is None:
        raise NotFound("area.not_found", "未找到该区划", "Area not found", {"field": field, "code": code})
    return area


def _not_found() -> NotFound:
    return NotFound("campaign.not_found", "未找到该采集活动", "Campaign not found")


def get_campaign(session: Session, ctx: Context, campaign_id: int) -> Campaign:
    """A campaign over an area the actor covers, or over an area that covers the actor's (404 otherwise)."""
    ctx.actor.ensure("campaign.read")
    row = session.execute(
        select(Campaign, Area.path).join(Area, Area.id == Campaign.area_id).where(Campaign.id == campaign_id)
    ).first()
    if row is None:
        raise _not_found()
    campaign, path = row
    if not (ctx.actor.covers_path(path) or ctx.actor.area_path.startswith(path)):
        raise _not_found()
    return campaign


def calendar_of(campaign: Campaign) -> rules.WorkCalendar:
    """The campaign's working days: China's holiday calendar (liangshi.residence.calendar) with the campaign's
    own holidays and make-up working days over it."""
    base = holiday_calendar.default_calendar()
    own = rules.parse_calendar(json.loads(campaign.calendar or "{}"))
    return rules.WorkCalendar(
        holidays=frozenset((base.holidays - own.workdays) | own.holidays),
        workdays=frozenset((base.workdays - own.holidays) | own.workdays),
    )


def read_campaign(session: Session, ctx: Context, campaign: Campaign) -> CampaignRead:
    """A campaign with its phases (status as of today) and pilot areas."""
    area = session.get(Area, campaign.area_id)
    assert area is not None
    phases = session.execute(
        select(CampaignPhase).where(CampaignPhase.campaign_id == campaign.id).order_by(CampaignPhase.seq)
    ).scalars()
    read = [
        PhaseRead(
            key=p.key,
            name_zh=p.name_zh,
            name_en=p.name_en,
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            status=rules.phase_status(p.starts_on, p.ends_on, ctx.today),
        )
        for p in phases
    ]
    pilots = session.execute(
        select(Area.code)
        .join(CampaignPilot, CampaignPilot.area_id == Area.id)
        .where(CampaignPilot.campaign_id == campaign.id)
        .order_by(Area.code)
    ).scalars()
    return CampaignRead(
        id=campaign.id,
        name=campaign.name,
        area_code=area.code,
        area_name=areas.names_of(session, [area.id], ctx.today).get(area.id, area.code),
        starts_on=campaign.starts_on,
        rollout_on=campaign.rollout_on,
        yellow_days=campaign.yellow_days,
        phases=read,
        pilot_area_codes=list(pilots),
        current_phase=next((p.key for p in read if p.status == "active"), None),
    )


def create_campaign(session: Session, ctx: Context, spec: rules.CampaignSpec) -> CampaignRead:
    """Set up a campaign over an area in the jurisdiction, with its phases and pilot areas (先试点、后展开)."""
    ctx.actor.ensure("campaign.manage")
    area = _area_by_code(session, ctx, spec.area_code, "area")
    pilots = [_area_by_code(session, ctx, code, "pilots") for code in spec.pilot_area_codes]
    for pilot in pilots:
        if not pilot.path.startswith(area.path) or pilot.id == area.id:
            raise ValidationFailed(
                "campaign.bad_pilot",
                "试点区划须为本活动区域内的乡镇或社区",
                "A pilot area is a township or community inside the campaign's area",
                {"field": "pilots", "value": pilot.code},
            )
    campaign = Campaign(
        name=spec.name,
        area_id=area.id,
        county_code=area.county_code,
        starts_on=spec.starts_on,
        rollout_on=spec.rollout_on,
        yellow_days=spec.yellow_days,
        calendar=json.dumps(spec.calendar.to_json()),
        created_at=ctx.now,
        created_by=ctx.actor.user_id,
    )
    session.add(campaign)
    session.flush()
    for seq, phase in enumerate(spec.phases, start=1):
        session.add(
            CampaignPhase(
                campaign_id=campaign.id,
                seq=seq,
                key=phase.key,
                name_zh=phase.name_zh,
                name_en=phase.name_en,
                starts_on=phase.starts_on,
                ends_on=phase.ends_on,
            )
        )
    for pilot in pilots:
        session.add(CampaignPilot(campaign_id=campaign.id, area_id=pilot.id))
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "campaign.create", "area", area.id, None, {"campaign_id": campaign.id, "name": spec.name}
            )
        ],
    )
    return read_campaign(session, ctx, campaign)


def list_campaigns(session: Session, ctx: Context) -> list[CampaignRead]:
    """Campaigns over the actor's jurisdiction, below it or above it, newest first."""
    ctx.actor.ensure("campaign.read")
    path = ctx.actor.area_path
    rows = session.execute(
        select(Campaign)
        .join(Area, Area.id == Campaign.area_id)
        .where(or_(Area.path.startswith(path), func.substr(path, 1, func.length(Area.path)) == Area.path))
        .order_by(Campaign.id.desc())
    ).scalars()
    return [read_campaign(session, ctx, c) for c in rows]


def own_area_code(session: Session, ctx: Context) -> str:
    """The code of the actor's own area (the default of a new campaign)."""
    area = session.get(Area, ctx.actor.area_id)
    return area.code if area is not None else ""


def campaign_units(session: Session, ctx: Context, campaign: Campaign) -> list[dict[str, Any]]:
    """The communities and grids of a campaign in the actor's jurisdiction (what a manager may assign)."""
    top = session.get(Area, campaign.area_id)
    assert top is not None
    rows = list(
        session.execute(
            select(Area)
            .where(
                Area.path.startswith(top.path),
                Area.level.in_(("community", "grid")),
                _in_scope(ctx.actor),
            )
            .order_by(Area.code)
            .limit(500)
        ).scalars()
    )
    names = areas.names_of(session, [a.id for a in rows], ctx.today)
    return [{"id": a.id, "code": a.code, "level": a.level, "name": names.get(a.id, a.code)} for a in rows]


# ---- teams ----------------------------------------------------------------------------------------------------


def _user(session: Session, username: str, field: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        raise ValidationFailed(
            "assignment.unknown_user", "未找到该用户", "No such user", {"field": field, "value": username}
        )
    return user


def _user_covers(session: Session, user: User, area: Area) -> bool:
    home = session.get(Area, user.area_id)
    return home is not None and area.path.startswith(home.path)


def _within_campaign(session: Session, campaign: Campaign, area: Area, field: str) -> None:
    top = session.get(Area, campaign.area_id)
    assert top is not None
    if not area.path.startswith(top.path):
        raise ValidationFailed(
            "assignment.outside_campaign",
            "该区划不在本采集活动范围内",
            "The area lies outside the campaign's area",
            {"field": field, "value": area.code},
        )


def read_team(session: Session, ctx: Context, team: Team) -> TeamRead:
    """A team with its members, leaders first."""
    area = session.get(Area, team.area_id)
    assert area is not None
    rows = session.execute(
        select(TeamMember, User.username)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id)
        .order_by(TeamMember.leader.desc(), TeamMember.id)
    ).all()
    return TeamRead(
        id=team.id,
        campaign_id=team.campaign_id,
        area_code=area.code,
        area_name=areas.names_of(session, [area.id], ctx.today).get(area.id, area.code),
        name=team.name,
        members=[MemberRead(user_id=m.user_id, username=u, role=m.role, leader=m.leader) for m, u in rows],
    )


def _add_member(session: Session, ctx: Context, team: Team, area: Area, member: MemberIn) -> None:
    user = _user(session, member.username, "members")
    if not _user_covers(session, user, area):
        raise ValidationFailed(
            "team.member_outside",
            "该用户的辖区不包含本社区",
            "The user's jurisdiction does not cover this community",
            {"field": "members", "value": member.username},
        )
    taken = session.execute(
        select(TeamMember.id).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
    ).first()
    if taken is not None:
        raise Conflict(
            "team.member_exists",
            "该用户已是本专班成员",
            "The user is already in the team",
            {"value": user.username},
        )
    session.add(TeamMember(team_id=team.id, user_id=user.id, role=member.role, leader=member.leader))
    session.flush()
    registry.log(
        ctx,
        session,
        [audit.Event("team.member_add", "area", area.id, None, {"team_id": team.id, "user": user.username})],
    )


def create_team(session: Session, ctx: Context, campaign_id: int, data: TeamCreate) -> TeamRead:
    """Form a community's team (专班) with its members and their roles."""
    ctx.actor.ensure("assignment.manage")
    campaign = get_campaign(session, ctx, campaign_id)
    area = _area_by_code(session, ctx, data.area_code, "area_code")
    _within_campaign(session, campaign, area, "area_code")
    if area.level != "community":
        raise ValidationFailed(
            "team.not_a_community",
            "专班须按社区组建",
            "A team is formed for a community",
            {"field": "area_code"},
        )
    team = Team(campaign_id=campaign.id, area_id=area.id, county_code=area.county_code, name=data.name)
    session.add(team)
    session.flush()
    registry.log(ctx, session, [audit.Event("team.create", "area", area.id, None, {"team_id": team.id})])
    for member in data.members:
        _add_member(session, ctx, team, area, member)
    return read_team(session, ctx, team)


def _team(session: Session, ctx: Context, team_id: int) -> tuple[Team, Area]:
    row = session.execute(
        select(Team, Area).join(Area, Area.id == Team.area_id).where(Team.id == team_id, _in_scope(ctx.actor))
    ).first()
    if row is None:
        raise NotFound("team.not_found", "未找到该专班", "Team not found", {"id": team_id})
    return row[0], row[1]


def add_team_member(session: Session, ctx: Context, team_id: int, member: MemberIn) -> TeamRead:
    """Add a member to a team."""
    ctx.actor.ensure("assignment.manage")
    team, area = _team(session, ctx, team_id)
    _add_member(session, ctx, team, area, member)
    return read_team(session, ctx, team)


def teams_of(session: Session, ctx: Context, campaign_id: int) -> list[TeamRead]:
    """A campaign's teams in the jurisdiction."""
    campaign = get_campaign(session, ctx, campaign_id)
    rows = session.execute(
        select(Team)
        .join(Area, Area.id == Team.area_id)
        .where(Team.campaign_id == campaign.id, _in_scope(ctx.actor))
        .order_by(Area.code, Team.id)
    ).scalars()
    return [read_team(session, ctx, t) for t in rows]


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
