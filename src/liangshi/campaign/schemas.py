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
    Strict,
    Text100,
    Text200,
    Text500,
    Version,
)
from liangshi.persons.schemas import DocType
from liangshi.residence.schemas import Category

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


class VisitFields(Paradata):
    """What a collector records at a visit."""

    outcome: Outcome
    note: Text500 | None = None
    confirmed_person_ids: list[Id] = Field(default_factory=list, max_length=200)


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
    household: HouseholdChoice | None = None
    tenant: bool = Field(default=False, description="Attach as a tenant of the dwelling's open rental")


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


SyncItemIn = Annotated[SyncVisit | SyncPerson, Field(discriminator="kind")]


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
    dwelling_version: int | None = None


class SyncResult(BaseModel):
    """Per-item results of a batch, and their counts."""

    items: list[SyncItemResult]
    counts: dict[str, int]
