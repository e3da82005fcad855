"""Visit tables (one row per door-to-door visit of a dwelling, and the persons confirmed at it) and the campaign's
organisation: campaigns, phases, pilot areas, teams, members, assignments and declared household sizes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime


class Visit(Base):
    """A collector's visit of a dwelling (入户走访) with the occupancy found; saved once per idempotency key."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(BigId, ForeignKey("dwellings.id"), index=True)
    building_id: Mapped[int] = mapped_column(BigId, ForeignKey("buildings.id"), index=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    collector_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(String(500))
    visited_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Paradata (采集过程数据): when the collector opened and saved the form, on which device, and where if allowed.
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    device: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    position_accuracy: Mapped[float | None] = mapped_column(Float)


class VisitPerson(Base):
    """A person the collector confirmed in person at a visit (the basis of head accuracy, 人头准确率)."""

    __tablename__ = "visit_persons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[int] = mapped_column(BigId, ForeignKey("visits.id"), index=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)


class Campaign(Base):
    """A campaign (两实采集专项行动) over an area: phases, pilot areas first and the rest from `rollout_on`."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    rollout_on: Mapped[dt.date | None] = mapped_column(Date)
    yellow_days: Mapped[int] = mapped_column(Integer)
    # The holiday calendar ({"holidays": [...], "workdays": [...]}) as JSON text: read by rules.parse_calendar.
    calendar: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class CampaignPhase(Base):
    """One phase of a campaign, in order (准备宣传, 门牌摸排, 集中采集, 检查验收, 长效管理 by default)."""

    __tablename__ = "campaign_phases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)


class CampaignPilot(Base):
    """A pilot area of a campaign (先试点、后展开): it starts with the campaign, the rest at the roll-out."""

    __tablename__ = "campaign_pilots"
    __table_args__ = (UniqueConstraint("campaign_id", "area_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id"), index=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"))


class Team(Base):
    """A community's team (专班) in a campaign."""

    __tablename__ = "campaign_teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id"), index=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(100))


class TeamMember(Base):
    """A member of a team with a role (社区民警, 协管员, 网格员, 普查员, 计生专干) and whether they lead it."""

    __tablename__ = "campaign_team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaign_teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    leader: Mapped[bool] = mapped_column(Boolean)


class Assignment(Base):
    """A work unit (a community, a grid, a street or a list of buildings) given to a collector by a due date.

    The workload is counted when the work is assigned; which buildings it covers is read from the unit each time
    (a building added to an assigned community later is part of the work).
    """

    __tablename__ = "campaign_assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign_teams.id"), index=True)
    collector_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    unit_kind: Mapped[str] = mapped_column(String(12))
    # The community or grid assigned; for a street or a building list, the area holding them (jurisdiction).
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("streets.id"))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), index=True)
    workload_buildings: Mapped[int] = mapped_column(Integer)
    workload_dwellings: Mapped[int] = mapped_column(Integer)
    workload_persons: Mapped[int] = mapped_column(Integer)
    return_reason: Mapped[str | None] = mapped_column(String(500))
    replaced_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign_assignments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AssignmentBuilding(Base):
    """A building of an assignment whose unit is a list of buildings."""

    __tablename__ = "campaign_assignment_buildings"
    __table_args__ = (UniqueConstraint("assignment_id", "building_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaign_assignments.id"), index=True)
    building_id: Mapped[int] = mapped_column(BigId, ForeignKey("buildings.id"), index=True)


class HouseholdCount(Base):
    """The member count a household declared at the door (住户不漏人): checked against the persons recorded."""

    __tablename__ = "campaign_household_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), unique=True)
    members: Mapped[int] = mapped_column(Integer)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    recorded_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class SyncItem(Base):
    """An outbox item a collector's phone sent (离线采集同步), stored once per client UUID with what it produced.

    The content hash makes the UUID idempotent: the same UUID with the same content answers with the first result,
    with different content it is refused. The dwelling versions before and after let a later item of the same
    collector, downloaded at the old version, follow its own changes without a conflict.
    """

    __tablename__ = "sync_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    collector_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    content_hash: Mapped[str] = mapped_column(String(64))
    dwelling_id: Mapped[int] = mapped_column(BigId, ForeignKey("dwellings.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    version_before: Mapped[int] = mapped_column(Integer)
    version_after: Mapped[int] = mapped_column(Integer)
    # Sent as it was despite a conflict (the collector chose "send as is"): the review looks at these first.
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    visit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("visits.id"))
    person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("persons.id"))
    residence_id: Mapped[int | None] = mapped_column(BigId)
    # The change set the item proposed for review (the person found; the dwelling status a visit implies). No
    # foreign key: the change set table comes in a later migration (0014).
    change_set_id: Mapped[int | None] = mapped_column(BigId, index=True)
    synced_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class BuildingCount(Base):
    """The completeness counts of one building as of `CountMark.day` (kept by `campaign.counts.refresh`): the
    dashboard sums these instead of recounting dwellings, households and memberships on every request."""

    __tablename__ = "campaign_building_counts"

    building_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    area_id: Mapped[int] = mapped_column(BigId, index=True)
    current: Mapped[int] = mapped_column(Integer)
    visited: Mapped[int] = mapped_column(Integer)
    partly: Mapped[int] = mapped_column(Integer)
    dwellings: Mapped[int] = mapped_column(Integer)
    dwellings_with_status: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    households_matched: Mapped[int] = mapped_column(Integer)


class CountDirty(Base):
    """A building whose counts a campaign write changed (a visit, a declared household size), until the next
    refresh recounts it. Version rows need no entry: the refresh finds them by their position."""

    __tablename__ = "campaign_count_dirty"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    building_id: Mapped[int] = mapped_column(BigId)


class CountMark(Base):
    """Where the last refresh of the building counts got to (one row): the day it counted for (valid time moves
    with the day: a new day recounts everything) and, per version table, the position after which rows are new
    (PostgreSQL: the snapshot's xmax in `horizon` and the transactions then in progress in `in_progress`,
    comma-separated; SQLite: the last row id)."""

    __tablename__ = "campaign_count_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(Date)
    horizon: Mapped[int | None] = mapped_column(BigInteger)
    in_progress: Mapped[str | None] = mapped_column(Text)
    building_row: Mapped[int] = mapped_column(BigInteger)
    dwelling_row: Mapped[int] = mapped_column(BigInteger)
    household_row: Mapped[int] = mapped_column(BigInteger)
    membership_row: Mapped[int] = mapped_column(BigInteger)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class DeclarationCount(Base):
    """How many self-declarations one client address or one plate sent in one window (the rate limit's counter,
    shared by every server process through the database)."""

    __tablename__ = "declaration_counts"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer)
