"""Street and door-plate input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from liangshi.common.types import Id, Strict, Text50, Text200, Text500, Version
from liangshi.schemas import WriteMeta

StreetType = Literal["路", "街", "巷", "大道", "道", "大街", "胡同", "弄", "里", "村道", "湾", "组"]
Style = Literal["dash", "fu", "zhiyi", "jia"]
PlateKind = Literal["door", "building", "unit", "dwelling"]
PlateStatus = Literal["planned", "assigned", "made", "installed", "retired"]
# The side of the street (addresses.rules.STORED_SIDES): left / right from the street's start along its bearing, or
# odd / even, the numbering side a collector saw.
PlateSide = Literal["left", "right", "odd", "even"]


class StreetFields(WriteMeta):
    """Street attributes."""

    name: Text50
    street_type: StreetType
    numbering_style: Style = "dash"
    start_description: Text200 | None = None
    bearing_deg: int | None = Field(default=None, ge=0, le=359)


class StreetCreate(StreetFields):
    """A new street in a district (or township) of the actor's jurisdiction."""

    area_id: Id
    valid_from: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "area_id": 3,
                    "name": "滨湖南路",
                    "street_type": "路",
                    "numbering_style": "dash",
                    "start_description": "起于寿山大道",
                    "bearing_deg": 90,
                }
            ]
        }
    }


class StreetPatch(WriteMeta):
    """Change street facts from a date (a rename is a change)."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    name: Text50 | None = None
    street_type: StreetType | None = None
    numbering_style: Style | None = None
    start_description: Text200 | None = None
    bearing_deg: int | None = Field(default=None, ge=0, le=359)


class StreetCorrect(StreetPatch):
    """Correct a recorded street version."""

    row_id: int | None = None
    reason: Text500


class AddressCreate(WriteMeta):
    """A new door plate / standard address."""

    area_id: Id = Field(description="The community or village the plate belongs to")
    street_id: Id | None = None
    plate_kind: PlateKind = "door"
    number: str = Field(max_length=20, description="As written: 12, 12号, 12-1, 16附1, 12号之一, 甲12号")
    status: PlateStatus = "planned"
    lon: float | None = Field(default=None, ge=73, le=136)
    lat: float | None = Field(default=None, ge=3, le=54)
    chainage_m: float | None = Field(
        default=None, ge=0, le=100_000, description="Metres from the street start"
    )
    side: PlateSide | None = Field(
        default=None,
        description="Side of the street: left/right from its start, or odd/even; "
        "from the position and the street's start and bearing when not given",
    )
    valid_from: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "area_id": 31,
                    "street_id": 1,
                    "number": "12-1",
                    "status": "installed",
                    "lon": 114.89,
                    "lat": 30.39,
                }
            ]
        }
    }


class AddressPatch(WriteMeta):
    """Change plate facts from a date (lifecycle steps are changes)."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    number: str | None = Field(default=None, max_length=20)
    status: PlateStatus | None = None
    lon: float | None = Field(default=None, ge=73, le=136)
    lat: float | None = Field(default=None, ge=3, le=54)
    chainage_m: float | None = Field(default=None, ge=0, le=100_000)
    side: PlateSide | None = None


class AddressCorrect(AddressPatch):
    """Correct a recorded plate version."""

    row_id: int | None = None
    reason: Text500


_PHONE = r"^[0-9+()\- ]+$"


class PlateContactIn(Strict):
    """Who answers for an area's plates: the station's and the grid's name and duty phone (never a person)."""

    station_name: Text50
    station_phone: str = Field(min_length=3, max_length=20, pattern=_PHONE)
    grid_name: Text50 | None = None
    grid_phone: str | None = Field(default=None, min_length=3, max_length=20, pattern=_PHONE)
