"""Completeness (辖区不漏楼、楼栋不漏户、住户不漏人): counts per area, collector and team, and the lists behind them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import User
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings_service
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.campaign import counts as building_counts
from liangshi.campaign import organisation, rules
from liangshi.campaign.models import (
    Assignment,
    BuildingCount,
    Campaign,
    HouseholdCount,
    Team,
    TeamMember,
    Visit,
)
from liangshi.campaign.schemas import Progress, ProgressReport, ProgressRow
from liangshi.errors import NotFound
from liangshi.persons import service as persons
from liangshi.persons.models import Household, HouseholdVersion, Membership, MembershipVersion
from liangshi.registry import Context, history
from liangshi.review import service as review

LIST_LIMIT = 500


def _area(session: Session, ctx: Context, code: str | None) -> Area:
    ctx.actor.ensure("campaign.read")
    if code is None:
        area = session.get(Area, ctx.actor.area_id)
    else:
        area = session.execute(
            select(Area).where(Area.code == code, Area.path.startswith(ctx.actor.area_path))
        ).scalar_one_or_none()
    if area is None:
        raise NotFound("area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": code})
    return area


def _area_buildings(area: Area) -> Any:
    subtree = select(Area.id).where(Area.path.startswith(area.path))
    return select(Building.id).where(Building.area_id.in_(subtree))


def counts(session: Session, building_ids: Any, today: dt.date, *, pending: int = 0) -> dict[str, int]:
    """The completeness counts of a set of buildings (a select of ids), as of today; `pending` is the number of
    change sets awaiting review there (counted by the review desk)."""
    bv, dv, hv, mv = BuildingVersion, DwellingVersion, HouseholdVersion, MembershipVersion
    current_b = and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, today))
    b_total, b_visited, b_partly = session.execute(
        select(
            func.count(Building.id),
            func.count(Building.id).filter(bv.visit_status == "visited"),
            func.count(Building.id).filter(bv.visit_status == "partly_visited"),
        )
        .join(bv, current_b)
        .where(Building.id.in_(building_ids))
    ).one()
    dwellings = (
        select(Dwelling.id, dv.status)
        .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, today)))
        .where(Dwelling.building_id.in_(building_ids))
        .subquery()
    )
    visited = select(Visit.dwelling_id).where(Visit.dwelling_id == dwellings.c.id).exists()
    d_total, d_status = session.execute(
        select(
            func.count(dwellings.c.id),
            func.count(dwellings.c.id).filter((dwellings.c.status == "demolished") | visited),
        )
    ).one()
    # A household counts where its (current) version places it: in a dwelling of one of the buildings.
    households = (
        select(Household.id)
        .join(hv, and_(hv.entity_id == Household.id, hv.superseded_at.is_(None), history.valid_on(hv, today)))
        .join(Dwelling, Dwelling.id == hv.dwelling_id)
        .where(Dwelling.building_id.in_(building_ids))
        .subquery()
    )
    h_total = session.execute(select(func.count()).select_from(households)).scalar_one()
    # Members recorded per declared household, counted in one grouped pass (not one count per household).
    current_member = and_(
        mv.entity_id == Membership.id, mv.superseded_at.is_(None), history.valid_on(mv, today)
    )
    recorded = (
        select(HouseholdCount.members, func.count(mv.row_id).label("n"))
        .join(households, households.c.id == HouseholdCount.household_id)
        .outerjoin(Membership, Membership.household_id == HouseholdCount.household_id)
        .outerjoin(mv, current_member)
        .group_by(HouseholdCount.household_id, HouseholdCount.members)
        .subquery()
    )
    h_matched = session.execute(
        select(func.count()).select_from(recorded).where(recorded.c.members == recorded.c.n)
    ).scalar_one()
    return {
        "buildings": int(b_total),
        "buildings_visited": int(b_visited),
        "buildings_partly": int(b_partly),
        "dwellings": int(d_total),
        "dwellings_with_status": int(d_status),
        "households": int(h_total),
        "households_count_matched": int(h_matched),
        "change_sets_pending": pending,
    }


def kept(session: Session, building_ids: Any, *, pending: int = 0) -> dict[str, int]:
    """The completeness counts of a set of buildings (a select of ids) from the kept per-building counts
    (`counts.refresh` first): the same numbers as `counts`, summed instead of recounted."""
    return {
        **building_counts.totals(session, BuildingCount.building_id.in_(building_ids)),
        "change_sets_pending": pending,
    }


def _kept_area(session: Session, area: Area, pending: int, within: Area | None = None) -> dict[str, int]:
    where: Any = BuildingCount.area_id.in_(select(Area.id).where(Area.path.startswith(area.path)))
    if within is not None:
        where = where & BuildingCount.area_id.in_(select(Area.id).where(Area.path.startswith(within.path)))
    return {**building_counts.totals(session, where), "change_sets_pending": pending}


def _scope(
    session: Session, ctx: Context, area_code: str | None, campaign_id: int | None
) -> tuple[Area, Campaign | None, Area | None]:
    """The area asked for and, with a campaign, the campaign and its area (the area defaults to it)."""
    if campaign_id is None:
        return _area(session, ctx, area_code), None, None
    campaign = organisation.get_campaign(session, ctx, campaign_id)
    home = session.get(Area, campaign.area_id)
    assert home is not None
    return (_area(session, ctx, area_code) if area_code else home), campaign, home


def area_progress(
    session: Session, ctx: Context, area_code: str | None, *, campaign_id: int | None = None
) -> dict[str, int]:
    """The seven completeness counts of an area in the jurisdiction (`liangshi campaign progress --json`); with a
    campaign, of the part of the area the campaign covers (the campaign's area by default)."""
    area, _campaign, within = _scope(session, ctx, area_code, campaign_id)
    building_counts.refresh(session, today=ctx.today, now=ctx.now)
    c = _kept_area(session, area, review.change_sets_pending(session, area), within)
    return Progress.model_validate(c).model_dump()


def report(
    session: Session, ctx: Context, area_code: str | None, *, campaign_id: int | None = None
) -> ProgressReport:
    """Completeness of an area, each child area, and each collector and team with open work there; with a
    campaign, only what it covers and only its assignments and teams."""
    area, campaign, within = _scope(session, ctx, area_code, campaign_id)
    names = areas.names_of(session, [area.id], ctx.today)
    building_counts.refresh(session, today=ctx.today, now=ctx.now)
    # One grouped pass over the kept counts of the subtree, split among the area and its children.
    where: Any = Area.path.startswith(area.path)
    if within is not None:
        where = where & Area.path.startswith(within.path)
    per_area = building_counts.by_area(session, where)
    # The pending change sets of the subtree in one grouped pass too, split among children, collectors and teams.
    pending = review.change_sets_pending_by(session, area)

    def pending_of(path: str = area.path, proposers: set[int] | None = None) -> int:
        return sum(
            n
            for (p, who), n in pending.items()
            if p.startswith(path) and (proposers is None or who in proposers)
        )

    totals = {**building_counts.summed(c for _, c in per_area), "change_sets_pending": pending_of()}
    rows = [
        ProgressRow(
            key=child.code,
            label=name,
            **building_counts.summed(c for path, c in per_area if path.startswith(child.path)),
            change_sets_pending=pending_of(child.path),
        )
        for child, name in areas.children_of(session, area.id, ctx.today)
        if ctx.actor.covers_path(child.path)
    ]
    work_stmt = (
        select(Assignment)
        .join(Area, Area.id == Assignment.area_id)
        .where(Assignment.status == "open", Area.path.startswith(area.path))
        .order_by(Assignment.collector_id, Assignment.id)
    )
    if campaign is not None:
        work_stmt = work_stmt.where(Assignment.campaign_id == campaign.id)
    open_work = list(session.execute(work_stmt).scalars())
    by_collector: dict[int, list[Assignment]] = {}
    for a in open_work:
        by_collector.setdefault(a.collector_id, []).append(a)
    usernames = dict(
        session.execute(select(User.id, User.username).where(User.id.in_(list(by_collector)))).all()
    )
    team_stmt = (
        select(Team, Area.path)
        .join(Area, Area.id == Team.area_id)
        .where(Area.path.startswith(area.path))
        .order_by(Area.code, Team.id)
    )
    if campaign is not None:
        team_stmt = team_stmt.where(Team.campaign_id == campaign.id)
    team_rows = session.execute(team_stmt).all()
    members: dict[int, set[int]] = {team.id: set() for team, _ in team_rows}
    for team_id, user_id in session.execute(
        select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.team_id.in_(list(members)))
    ):
        members[int(team_id)].add(int(user_id))
    # Every collector's and team's buildings (their open work; a team without any, its community) summed in one
    # query: collectors are keyed by their position, teams after them.
    sets: list[tuple[int, Any]] = []
    collector_ids = list(by_collector)
    for i, user_id in enumerate(collector_ids):
        sets.extend((i, organisation.covered_buildings(a)) for a in by_collector[user_id])
    for j, (team, team_path) in enumerate(team_rows):
        key = len(collector_ids) + j
        work = [a for a in open_work if a.team_id == team.id or a.collector_id in members[team.id]]
        if work:
            sets.extend((key, organisation.covered_buildings(a)) for a in work)
        else:
            subtree = select(Area.id).where(Area.path.startswith(team_path))
            sets.append((key, select(Building.id).where(Building.area_id.in_(subtree))))
    summed = building_counts.totals_by_key(session, sets)
    collectors = [
        ProgressRow(
            key=str(user_id),
            label=usernames.get(user_id, "?"),
            **summed[i],
            change_sets_pending=pending_of(proposers={user_id}),
        )
        for i, user_id in enumerate(collector_ids)
    ]
    teams = [
        ProgressRow(
            key=str(team.id),
            label=team.name,
            **summed[len(collector_ids) + j],
            change_sets_pending=pending_of(proposers=members[team.id]),
        )
        for j, (team, _path) in enumerate(team_rows)
    ]
    return ProgressReport(
        area_id=area.id,
        area_code=area.code,
        area_name=names.get(area.id, area.code),
        totals=Progress.model_validate(totals),
        buildings_partly=totals["buildings_partly"],
        areas=rows,
        collectors=collectors,
        teams=teams,
        campaign_id=campaign.id if campaign is not None else None,
    )


# ---- the lists behind the numbers -----------------------------------------------------------------------------


def building_list(
    session: Session, ctx: Context, area_code: str | None, status: str | None
) -> list[dict[str, Any]]:
    """The buildings of an area with their visit status (filtered by one status if given)."""
    area = _area(session, ctx, area_code)
    if status is not None and status not in rules.BUILDING_VISIT_STATUSES:
        status = None
    result = []
    for street in buildings_service.buildings_in_area(session, ctx, area.id, limit=20000):
        for b in street["buildings"]:
            if status is None or b["visit_status"] == status:
                result.append({**b, "street": street["street"]})
    return result[:LIST_LIMIT]


def dwelling_list(
    session: Session, ctx: Context, area_code: str | None, status: str | None
) -> list[dict[str, Any]]:
    """The dwellings of an area with their occupancy (latest visit, nobody-home tries, revisit needed)."""
    area = _area(session, ctx, area_code)
    ctx.actor.ensure("dwelling.read")
    dv, bv = DwellingVersion, BuildingVersion
    rows = session.execute(
        select(Dwelling.id, Dwelling.building_id, bv.label, dv.unit, dv.room, dv.status)
        .join(
            dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, ctx.today))
        )
        .join(Building, Building.id == Dwelling.building_id)
        .join(
            bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, ctx.today))
        )
        .where(Dwelling.building_id.in_(_area_buildings(area)))
        .order_by(Dwelling.building_id, Dwelling.id)
        .limit(20000)
    ).all()
    visits: dict[int, list[str]] = {}
    ids = [int(r[0]) for r in rows]
    for chunk in range(0, len(ids), 900):
        for dwelling_id, outcome in session.execute(
            select(Visit.dwelling_id, Visit.outcome)
            .where(Visit.dwelling_id.in_(ids[chunk : chunk + 900]))
            .order_by(Visit.dwelling_id, Visit.visited_at, Visit.id)
        ):
            visits.setdefault(int(dwelling_id), []).append(str(outcome))
    result = []
    for dwelling_id, building_id, label, unit, room, dstatus in rows:
        outcomes = visits.get(int(dwelling_id), [])
        tries = 0
        for outcome in reversed(outcomes):
            if outcome != "nobody_home":
                break
            tries += 1
        occ = rules.occupancy(str(dstatus), outcomes[-1] if outcomes else None, tries)
        if status is not None and occ["status"] != status and not (status == "revisit" and occ["revisit"]):
            continue
        result.append(
            {
                "dwelling_id": int(dwelling_id),
                "building_id": int(building_id),
                "building": label,
                "unit": unit,
                "room": room,
                "dwelling_status": dstatus,
                "visits": len(outcomes),
                **occ,
            }
        )
    return result[:LIST_LIMIT]


def household_list(
    session: Session, ctx: Context, area_code: str | None, matched: bool | None
) -> list[dict[str, Any]]:
    """The households at the area's dwellings: members recorded beside the count declared at the door."""
    area = _area(session, ctx, area_code)
    ctx.actor.ensure("household.read")
    hv, dv, mv = HouseholdVersion, DwellingVersion, MembershipVersion
    dwellings = (
        select(Dwelling.id)
        .join(
            dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, ctx.today))
        )
        .where(Dwelling.building_id.in_(_area_buildings(area)))
    )
    members = (
        select(func.count(Membership.id))
        .join(
            mv,
            and_(mv.entity_id == Membership.id, mv.superseded_at.is_(None), history.valid_on(mv, ctx.today)),
        )
        .where(Membership.household_id == Household.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Household.id, hv.dwelling_id, hv.household_number, members, HouseholdCount.members)
        .join(
            hv,
            and_(hv.entity_id == Household.id, hv.superseded_at.is_(None), history.valid_on(hv, ctx.today)),
        )
        .outerjoin(HouseholdCount, HouseholdCount.household_id == Household.id)
        .where(hv.dwelling_id.in_(dwellings))
        .order_by(Household.id)
        .limit(20000)
    ).all()
    result = []
    for household_id, dwelling_id, number, recorded, declared in rows:
        ok = declared is not None and int(declared) == int(recorded)
        if matched is not None and ok != matched:
            continue
        result.append(
            {
                "household_id": int(household_id),
                "dwelling_id": dwelling_id,
                "household_number": number,
                "recorded": int(recorded),
                "declared": declared,
                "matched": ok,
            }
        )
    return result[:LIST_LIMIT]


def declare_household_count(
    session: Session, ctx: Context, household_id: int, members: int
) -> dict[str, Any]:
    """Record the member count a household declares at the door (the latest declaration counts)."""
    ctx.actor.ensure("household.write")
    household = registry.get_entity(session, persons.HOUSEHOLD, household_id, ctx.actor, write=True)
    row = session.execute(
        select(HouseholdCount).where(HouseholdCount.household_id == household.id)
    ).scalar_one_or_none()
    if row is None:
        row = HouseholdCount(
            household_id=household.id,
            county_code=household.county_code,
            members=members,
            recorded_at=ctx.now,
            recorded_by=ctx.actor.user_id,
        )
        session.add(row)
    else:
        row.members, row.recorded_at, row.recorded_by = members, ctx.now, ctx.actor.user_id
    session.flush()
    building_counts.mark_dirty(
        session,
        session.execute(
            select(Dwelling.building_id)
            .join(HouseholdVersion, HouseholdVersion.dwelling_id == Dwelling.id)
            .where(HouseholdVersion.entity_id == household.id)
        ).scalars(),
    )
    registry.log(
        ctx,
        session,
        [audit.Event("household.count_declared", "household", household.id, None, {"members": members})],
    )
    recorded = session.execute(
        select(func.count(Membership.id))
        .join(
            MembershipVersion,
            and_(
                MembershipVersion.entity_id == Membership.id,
                MembershipVersion.superseded_at.is_(None),
                history.valid_on(MembershipVersion, ctx.today),
            ),
        )
        .where(Membership.household_id == household.id)
    ).scalar_one()
    return {
        "household_id": household.id,
        "declared": members,
        "recorded": int(recorded),
        "matched": int(recorded) == members,
    }
