"""Visit input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from liangshi.common.types import Id, PastDate, PersonName, Phone, SexCode, Strict, Text500
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
