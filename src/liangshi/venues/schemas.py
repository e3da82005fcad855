"""Venue, key and stay input shapes.

A stay item is only checked for its shape here; the guest's document and name are checked per item by the
service, so one bad item is rejected on its own and the rest of the batch still counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from liangshi.common.types import Id, Strict, Text50, Text100, Version
from liangshi.schemas import WriteMeta
from liangshi.venues.rules import MAX_BATCH

VenueKind = Literal["hotel", "cafe"]
VenueStatus = Literal["open", "closed"]


class VenueCreate(WriteMeta):
    """Register a hotel or internet café on a door plate in your jurisdiction."""

    venue_kind: VenueKind
    address_id: Id
    name: Text100
    licence_number: Text50 | None = Field(default=None, description="Business/special-trade licence number")
    status: VenueStatus = "open"

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "venue_kind": "hotel",
                    "address_id": 12,
                    "name": "滨湖宾馆",
                    "licence_number": "鄂特旅2026-001",
                }
            ]
        }
    }


class VenuePatch(WriteMeta):
    """Change venue facts from a date (a new name, closing it)."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text100 | None = None
    name: Text100 | None = None
    licence_number: Text50 | None = None
    status: VenueStatus | None = None


class VenueCorrect(VenuePatch):
    """Correct a recorded venue version."""

    row_id: int | None = None
    reason: Text100


class KeyIn(Strict):
    """Issue an API key for a venue's front-desk system."""

    name: Text50 | None = Field(default=None, description="What the key is for (front desk, PMS vendor)")


class GuestIn(Strict):
    """The guest's identity document and name as the venue read them."""

    doc_type: str = Field(max_length=24)
    number: str = Field(max_length=40)
    country: str | None = Field(default=None, max_length=3)
    name: str = Field(max_length=60)


class StayItem(Strict):
    """One check-in (with the guest) or check-out (stay_ref and time only)."""

    stay_ref: str = Field(min_length=1, max_length=64, description="The venue's own id of the stay")
    event: Literal["check_in", "check_out"]
    at: AwareDatetime
    guest: GuestIn | None = None


class StaysIn(Strict):
    """One item, or a batch of up to 1,000 as `{"items": [...]}`."""

    items: list[StayItem] = Field(min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="before")
    @classmethod
    def _single(cls, data: Any) -> Any:
        if isinstance(data, dict) and "items" not in data and "stay_ref" in data:
            return {"items": [data]}
        return data

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "items": [
                        {
                            "stay_ref": "R20261127-0001",
                            "event": "check_in",
                            "at": "2026-11-27T09:30:00+08:00",
                            "guest": {
                                "doc_type": "resident_id",
                                "number": "420704199001010011",
                                "name": "张伟",
                            },
                        },
                        {
                            "stay_ref": "R20261126-0007",
                            "event": "check_out",
                            "at": "2026-11-27T09:40:00+08:00",
                        },
                    ]
                }
            ]
        }
    }
