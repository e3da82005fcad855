"""Visit input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from liangshi.common.types import (
    Country,
    EducationCode,
    EthnicityCode,
    Id,
    MaritalCode,
    PastDate,
    PersonName,
    Phone,
    RegionCode,
    RelationshipCode,
    SexCode,
    StayReasonCode,
    Strict,
    Text50,
    Text100,
    Text200,
    Text500,
    Version,
)
from liangshi.persons.schemas import DocType, DocumentAdd, MemberAdd
from liangshi.residence.schemas import BirthIn, Category, DepartureIn, MoveIn

Outcome = Literal["occupied", "vacant", "nobody_home", "refused"]
ClientUuid = Annotated[
    str,
    Field(
        min_length=36,
        max_length=36,
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    ),
]


class Paradata(Strict):
    """How a visit was collected (采集过程数据): form opened and saved, the device, the position if allowed."""

    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    device: str | None = Field(default=None, max_length=300)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    position_accuracy: float | None = Field(default=None, ge=0, le=100_000)

    @model_validator(mode="after")
    def _consistent(self) -> Paradata:
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("a position needs both latitude and longitude")
        return self


class HouseholdSize(Strict):
    """The member count a household living at the dwelling declares at the visit (住户不漏人)."""

    household_id: Id
    members: int = Field(ge=1, le=99)


class VisitFields(Paradata):
    """What a collector records at a visit."""

    outcome: Outcome
    note: Text500 | None = None
    confirmed_person_ids: list[Id] = Field(default_factory=list, max_length=200)
    household_sizes: list[HouseholdSize] = Field(default_factory=list, max_length=20)


class VisitCreate(VisitFields):
    """A visit of a dwelling; the idempotency key makes a repeated submission (double tap, retry) a no-op."""

    idempotency_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")

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
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    device: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    position_accuracy: float | None = None
    replayed: bool = False
    # The change set proposing the dwelling status this visit implies (for the station's review), if any.
    change_set_id: int | None = None


class HouseholdChoice(Strict):
    """The person's household at the dwelling: join one there, or create one (the person is then its head)."""

    mode: Literal["join", "create"]
    household_id: Id | None = None
    relationship: RelationshipCode = Field(description="GB/T 4761, to the head of the household")

    @model_validator(mode="after")
    def _join_needs_household(self) -> HouseholdChoice:
        if self.mode == "join" and self.household_id is None:
            raise ValueError("joining a household needs its household_id")
        return self


class PersonAtDwelling(Strict):
    """A person found living at a dwelling during a visit (the complete form): registered, or found by their
    document, with their household and arrival; a tenant joins the dwelling's open rental."""

    name: PersonName
    doc_type: DocType = "resident_id"
    id_number: str | None = Field(default=None, max_length=40)
    country: Country | None = Field(default=None, description="GB/T 2659, for a passport")
    sex: SexCode | None = None
    birth_date: PastDate | None = None
    ethnicity: EthnicityCode | None = Field(default=None, description="GB/T 3304")
    hukou_region: RegionCode | None = Field(default=None, description="Default: from the resident ID number")
    hukou_address: Text200 | None = None
    education: EducationCode | None = Field(default=None, description="GB/T 4658")
    marital_status: MaritalCode | None = Field(default=None, description="GB/T 2261.2")
    occupation: Text100 | None = None
    workplace: Text200 | None = None
    phone: Phone | None = None
    category: Category = "resident"
    arrival_date: dt.date
    intended_stay_until: dt.date | None = None
    stay_reason: StayReasonCode | None = Field(default=None, description="暂住事由: code table stay_reason")
    household: HouseholdChoice | None = None
    tenant: bool = Field(default=False, description="Attach as a tenant of the dwelling's open rental")


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
    # The campaign the report is limited to (its area, its assignments and teams), if one was asked for.
    campaign_id: int | None = None


class SyncBase(Strict):
    """An outbox item: its client UUID, the dwelling and the dwelling version the phone downloaded."""

    uuid: ClientUuid
    dwelling_id: Id
    base_version: Version | None = Field(default=None, description="The dwelling's version when downloaded")
    force: bool = Field(default=False, description="Send as it is despite a conflict")


class SyncVisit(SyncBase):
    """A visit typed offline."""

    kind: Literal["visit"]
    visit: VisitFields


class SyncPerson(SyncBase):
    """A person form typed offline."""

    kind: Literal["person"]
    person: PersonAtDwelling


class SyncMove(SyncBase):
    """A move within the city (市内迁移) typed offline: the residence at the item's dwelling, closed and opened at
    the new dwelling (`move.dwelling_id`), as `POST /residences/{id}/move-proposals` takes it."""

    kind: Literal["move"]
    residence_id: Id
    move: MoveIn


class SyncBirth(SyncBase):
    """A birth (出生登记) typed offline, in a household living at the item's dwelling, as `POST /birth-proposals`
    takes it."""

    kind: Literal["birth"]
    birth: BirthIn


class SyncDocument(SyncBase):
    """A document seen offline of a person living at the item's dwelling, as
    `POST /persons/{id}/document-proposals` takes it."""

    kind: Literal["document"]
    person_id: Id
    document: DocumentAdd


class SyncMember(SyncBase):
    """A member found offline of a household living at the item's dwelling, as
    `POST /households/{id}/member-proposals` takes it."""

    kind: Literal["member"]
    household_id: Id
    member: MemberAdd


# The kinds that propose one of the collector's other changes (issue 14), each through its online use case.
SyncProposal = SyncMove | SyncBirth | SyncDocument | SyncMember
SyncAny = SyncVisit | SyncPerson | SyncProposal
SyncItemIn = Annotated[SyncAny, Field(discriminator="kind")]


class SyncBatch(Strict):
    """A batch of outbox items; each is checked and stored on its own (a bad item does not stop the others)."""

    items: list[Any] = Field(max_length=1000)


SyncStatus = Literal["stored", "replayed", "refused", "conflict"]


class SyncItemResult(BaseModel):
    """What became of one outbox item."""

    index: int
    uuid: str | None
    kind: str | None
    status: SyncStatus
    code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    visit_id: int | None = None
    person_id: int | None = None
    residence_id: int | None = None
    # The change set awaiting review that the item proposed (a person form; a visit implying a status change).
    change_set_id: int | None = None
    dwelling_version: int | None = None


class SyncResult(BaseModel):
    """Per-item results of a batch, and their counts."""

    items: list[SyncItemResult]
    counts: dict[str, int]


# ---- 自主申报: a resident's declaration from a scanned plate, and the collector's verification on site -------------


class DeclaredPerson(Strict):
    """One person of a declaration: the declarer first, then those living with them (同住人)."""

    name: PersonName
    id_number: str | None = Field(default=None, max_length=40, description="Resident ID number")
    phone: Phone | None = None


class DeclarationIn(Strict):
    """A tenant's arrival or departure at the scanned plate (自主申报), with the persons living with them."""

    kind: Literal["arrival", "departure"]
    date: dt.date = Field(description="The day of the arrival or departure (not after today)")
    room: Text50 | None = Field(default=None, description="Building, unit and room as written (3栋2单元501)")
    tenant: bool = True
    persons: list[DeclaredPerson] = Field(min_length=1, max_length=10)
    note: Text200 | None = None


class PersonsFound(Strict):
    """上门核录 of an arrival: the persons the collector found living at the plate's dwelling (complete forms)."""

    dwelling_id: Id
    persons: list[PersonAtDwelling] = Field(min_length=1, max_length=10)


class DepartureFound(Strict):
    """One departure the collector confirmed on site."""

    residence_id: Id
    departure: DepartureIn


class DeparturesFound(Strict):
    """上门核录 of a departure: the residences found ended."""

    departures: list[DepartureFound] = Field(min_length=1, max_length=10)


class DeclineIn(Strict):
    """上门核录 found the declaration untrue: why."""

    reason: Text200
