"""Visit input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from liangshi.common.types import Id, PastDate, PersonName, Phone, SexCode, Strict, Text100, Text500
from liangshi.residence.schemas import Category

Outcome = Literal["occupied", "vacant", "nobody_home", "refused"]


class VisitCreate(Strict):
    """A visit of a dwelling; the idempotency key makes a repeated submission (double tap, retry) a no-op."""

    outcome: Outcome
    note: Text500 | None = None
    idempotency_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    confirmed_person_ids: list[Id] = Field(default_factory=list, max_length=200)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "outcome": "occupied",
                    "idempotency_key": "2f1c9a0e-5b7d-4c1e-9a51-6d0f3c2b7e11",
                    "confirmed_person_ids": [12, 13],
                }
            ]
        }
    }


class VisitRead(BaseModel):
    """A recorded visit."""

    id: int
    dwelling_id: int
    building_id: int
    county_code: str
    collector: str | None
    outcome: str
    note: str | None
    visited_at: dt.datetime
    idempotency_key: str
    confirmed_person_ids: list[int]
    replayed: bool = False
    # The change set proposing the dwelling status this visit implies (for the station's review), if any.
    change_set_id: int | None = None


class PersonAtDwelling(Strict):
    """A person found living at a dwelling during a visit: registered (or found by ID number) and their arrival."""

    name: PersonName
    id_number: str | None = Field(default=None, max_length=40)
    sex: SexCode | None = None
    birth_date: PastDate | None = None
    phone: Phone | None = None
    category: Category = "resident"
    arrival_date: dt.date
    intended_stay_until: dt.date | None = None


# ---- the campaign's organisation -----------------------------------------------------------------------------

TeamRole = Literal["community_police", "auxiliary", "grid_worker", "enumerator", "family_planning"]
UnitKind = Literal["community", "grid", "street", "buildings"]


class PhaseRead(BaseModel):
    """A phase with its dates and its status today."""

    key: str
    name_zh: str
    name_en: str
    starts_on: dt.date
    ends_on: dt.date | None
    status: str


class CampaignRead(BaseModel):
    """A campaign: its area, phases, pilot areas and roll-out."""

    id: int
    name: str
    area_code: str
    area_name: str
    starts_on: dt.date
    rollout_on: dt.date | None
    yellow_days: int
    phases: list[PhaseRead]
    pilot_area_codes: list[str]
    current_phase: str | None


class MemberIn(Strict):
    """A team member: a user, their role in the team and whether they lead it."""

    username: str = Field(min_length=1, max_length=50)
    role: TeamRole
    leader: bool = False


class TeamCreate(Strict):
    """A community's team (专班) in a campaign."""

    area_code: str = Field(min_length=12, max_length=12, pattern=r"^\d{12}$")
    name: Text100
    members: list[MemberIn] = Field(default_factory=list, max_length=50)


class MemberRead(BaseModel):
    """A team member."""

    user_id: int
    username: str
    role: str
    leader: bool


class TeamRead(BaseModel):
    """A team with its members."""

    id: int
    campaign_id: int
    area_code: str
    area_name: str
    name: str
    members: list[MemberRead]


class AssignmentCreate(Strict):
    """A work unit for a collector: a community or grid (`area_code`), a street in an area (`street_id` and
    `area_code`) or a list of buildings (`building_ids`), due on a date."""

    collector: str = Field(min_length=1, max_length=50, description="The collector's username")
    unit: UnitKind
    area_code: str | None = Field(default=None, pattern=r"^\d{9,15}$")
    street_id: Id | None = None
    building_ids: list[Id] = Field(default_factory=list, max_length=500)
    due_on: dt.date
    team_id: Id | None = None


class ReassignIn(Strict):
    """Give the work to another collector (and perhaps a new due date)."""

    collector: str = Field(min_length=1, max_length=50)
    due_on: dt.date | None = None


class ReturnIn(Strict):
    """A collector hands back an assignment, saying why."""

    reason: Text500


class AssignmentRead(BaseModel):
    """An assignment with its workload, status and card (green / yellow / red)."""

    id: int
    campaign_id: int
    team_id: int | None
    collector: str
    collector_id: int
    unit: str
    area_code: str
    area_name: str
    street_id: int | None
    building_ids: list[int]
    due_on: dt.date
    status: str
    card: str | None
    workload_buildings: int
    workload_dwellings: int
    workload_persons: int
    return_reason: str | None
    replaced_by_id: int | None


class BulkResult(BaseModel):
    """What a bulk assignment wrote (nothing when it has errors)."""

    created: int
    errors: list[dict[str, object]]


class HouseholdCountIn(Strict):
    """The number of members a household declared at the door."""

    members: int = Field(ge=0, le=200)


class Progress(BaseModel):
    """Completeness of an area (不漏楼、不漏户、不漏人)."""

    buildings: int
    buildings_visited: int
    dwellings: int
    dwellings_with_status: int
    households: int
    households_count_matched: int
    change_sets_pending: int


class ProgressRow(Progress):
    """Completeness of one child area, collector or team."""

    key: str
    label: str
    buildings_partly: int = 0


class ProgressReport(BaseModel):
    """Completeness of an area with its child areas and, where there are assignments, per collector and team."""

    area_id: int
    area_code: str
    area_name: str
    totals: Progress
    buildings_partly: int
    areas: list[ProgressRow]
    collectors: list[ProgressRow]
    teams: list[ProgressRow]
