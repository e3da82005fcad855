"""Residence input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from liangshi.common.types import Id, Text200, Text500, Version
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

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "person_id": 1,
                    "dwelling_id": 7,
                    "category": "floating",
                    "arrival_date": "2026-10-02",
                    "intended_stay_until": "2027-10-01",
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


class ResidenceCorrect(WriteMeta):
    """Correct a recorded residence version (a wrong arrival date, a wrong category)."""

    expected_version: Version
    row_id: int | None = None
    reason: Text500
    category: Category | None = None
    arrival_date: dt.date | None = None
    registration_date: dt.date | None = None
    intended_stay_until: dt.date | None = None


class DepartureIn(WriteMeta):
    """Deregister a departure (人走注销) with reason and destination."""

    expected_version: Version
    departure_date: dt.date
    deregistration_date: dt.date | None = None
    reason: DeregReason
    destination: Text200 | None = None
    note: Text500 | None = Field(default=None)
