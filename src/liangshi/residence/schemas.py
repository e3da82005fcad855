"""Residence input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from liangshi.common.types import (
    EthnicityCode,
    Id,
    PersonName,
    RegionCode,
    RelationshipCode,
    SexCode,
    StayReasonCode,
    Text200,
    Text500,
    Version,
    as_pydantic,
    document_number,
    today_of,
)
from liangshi.schemas import WriteMeta

Category = Literal["resident", "separated", "floating", "lodging", "unregistered", "overseas"]
DeregReason = Literal["moved_within_city", "left_city", "returned_home", "went_abroad", "died", "other"]


class ArrivalIn(WriteMeta):
    """Register a person's arrival at a dwelling (人来登记)."""

    person_id: Id
    dwelling_id: Id
    category: Category
    arrival_date: dt.date
    registration_date: dt.date | None = None
    intended_stay_until: dt.date | None = None
    stay_reason: StayReasonCode | None = Field(default=None, description="暂住事由: code table stay_reason")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "person_id": 1,
                    "dwelling_id": 7,
                    "category": "floating",
                    "arrival_date": "2026-10-02",
                    "intended_stay_until": "2027-10-01",
                    "stay_reason": "01",
                }
            ]
        }
    }


class ResidencePatch(WriteMeta):
    """Change residence facts from a date (e.g. a longer intended stay, a new category)."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    category: Category | None = None
    intended_stay_until: dt.date | None = None
    stay_reason: StayReasonCode | None = Field(default=None, description="暂住事由: code table stay_reason")


class ResidenceCorrect(WriteMeta):
    """Correct a recorded residence version (a wrong arrival date, a wrong category)."""

    expected_version: Version
    row_id: int | None = None
    reason: Text500
    category: Category | None = None
    arrival_date: dt.date | None = None
    registration_date: dt.date | None = None
    intended_stay_until: dt.date | None = None
    stay_reason: StayReasonCode | None = Field(default=None, description="暂住事由: code table stay_reason")


class DepartureIn(WriteMeta):
    """Deregister a departure (人走注销) with reason and destination."""

    expected_version: Version
    departure_date: dt.date
    deregistration_date: dt.date | None = None
    reason: DeregReason
    destination: Text200 | None = None
    note: Text500 | None = Field(default=None)


class ExtendIn(WriteMeta):
    """Extend the intended stay (续住) from a date: the new end must be later than the current one."""

    expected_version: Version
    intended_stay_until: dt.date
    effective: dt.date | None = Field(default=None, description="From when (default today)")
    reason: Text500 | None = None

    model_config = {
        "json_schema_extra": {"examples": [{"expected_version": 1, "intended_stay_until": "2027-12-31"}]}
    }


class MoveIn(WriteMeta):
    """Move within the city: close this residence and open one at another dwelling from the same date."""

    expected_version: Version
    move_date: dt.date
    dwelling_id: Id
    category: Category | None = Field(default=None, description="Default: the current category")
    intended_stay_until: dt.date | None = None
    registration_date: dt.date | None = Field(default=None, description="Default today")
    note: Text500 | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [{"expected_version": 2, "move_date": "2026-11-20", "dwelling_id": 9}]
        }
    }


class BirthIn(WriteMeta):
    """A newborn: the person, their place in a household, and their residence from the birth date."""

    name: PersonName
    sex: SexCode
    birth_date: dt.date
    ethnicity: EthnicityCode | None = None
    hukou_region: RegionCode | None = None
    resident_id: str | None = Field(default=None, max_length=40, description="If already issued")
    household_id: Id
    household_expected_version: Version
    relationship: RelationshipCode = Field(
        description="GB/T 4761 relationship to the head, e.g. 20 son, 30 daughter"
    )
    dwelling_id: Id | None = Field(default=None, description="Default: the household's dwelling")
    category: Category = "resident"
    registration_date: dt.date | None = None

    @field_validator("resident_id")
    @classmethod
    def _valid_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        today = today_of(info.context)
        return as_pydantic(lambda n: document_number("resident_id", n, None, today=today))(value)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "李小雨",
                    "sex": "2",
                    "birth_date": "2026-11-20",
                    "household_id": 4,
                    "household_expected_version": 1,
                    "relationship": "30",
                    "provenance": {
                        "source_kind": "department",
                        "source_ref": "health",
                        "evidence": "document",
                    },
                }
            ]
        }
    }


class DeathIn(WriteMeta):
    """A death: the person is retired and every open residence and household membership ends at the date."""

    expected_version: Version
    death_date: dt.date
    note: Text500 | None = None

    model_config = {"json_schema_extra": {"examples": [{"expected_version": 3, "death_date": "2026-11-25"}]}}
