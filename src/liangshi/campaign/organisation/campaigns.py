"""Campaigns and their phases, pilot areas and calendar; the teams (专班) of a campaign."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from liangshi import registry
from liangshi.access.models import User
from liangshi.access.rules import Actor
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.campaign import rules
from liangshi.campaign.models import (
    Campaign,
    CampaignPhase,
    CampaignPilot,
    Team,
    TeamMember,
)
from liangshi.campaign.schemas import (
    CampaignRead,
    MemberIn,
    MemberRead,
    PhaseRead,
    TeamCreate,
    TeamRead,
)
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.registry import Context
from liangshi.residence import calendar as holiday_calendar

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
