"""Building and dwelling input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from liangshi.common.types import Id, Text20, Text30, Text100, Text500, Version
from liangshi.schemas import WriteMeta

BuildingUse = Literal[
    "residential", "commercial", "office", "mixed", "industrial", "public", "key_unit", "other"
]
VisitStatus = Literal["not_visited", "visited", "partly_visited"]
DwellingUse = Literal["residential", "shop", "office", "collective", "key_unit", "other"]
DwellingStatus = Literal["occupied", "vacant", "rented", "nobody_home", "refused", "demolished", "unknown"]


class BuildingFields(WriteMeta):
    """Building attributes."""

    label: Text30 = Field(description="As on the building plate: 3栋, 5号楼, 主楼")
    floors_above: int | None = Field(default=None, ge=1, le=200)
    floors_below: int | None = Field(default=None, ge=0, le=20)
    units: int | None = Field(default=None, ge=1, le=50)
    use: BuildingUse = "residential"
    structure: Text20 | None = None
    year_built: int | None = Field(default=None, ge=1000, le=2100)
    visit_status: VisitStatus = "not_visited"


class BuildingCreate(BuildingFields):
    """A building on a door plate."""

    address_id: Id
    valid_from: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"address_id": 12, "label": "3栋", "floors_above": 6, "units": 2, "use": "residential"}
            ]
        }
    }


class BuildingPatch(WriteMeta):
    """Change building facts from a date."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    label: Text30 | None = None
    floors_above: int | None = Field(default=None, ge=1, le=200)
    floors_below: int | None = Field(default=None, ge=0, le=20)
    units: int | None = Field(default=None, ge=1, le=50)
    use: BuildingUse | None = None
    structure: Text20 | None = None
    year_built: int | None = Field(default=None, ge=1000, le=2100)
    visit_status: VisitStatus | None = None


class BuildingCorrect(BuildingPatch):
    """Correct a recorded building version."""

    row_id: int | None = None
    reason: Text500


class DwellingCreate(WriteMeta):
    """A dwelling in a building: unit, floor, room (floor×100+index by the numbering rules)."""

    building_id: Id
    unit: int | None = Field(default=None, ge=1, le=50)
    floor: int | None = Field(default=None, ge=-5, le=200)
    room: Text20
    use: DwellingUse = "residential"
    floor_area_m2: float | None = Field(default=None, gt=0, le=100000)
    owner_name: Text100 | None = None
    status: DwellingStatus = "unknown"
    valid_from: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "building_id": 5,
                    "unit": 1,
                    "floor": 5,
                    "room": "501",
                    "use": "residential",
                    "floor_area_m2": 89.5,
                    "status": "occupied",
                }
            ]
        }
    }


class DwellingPatch(WriteMeta):
    """Change dwelling facts from a date."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    unit: int | None = Field(default=None, ge=1, le=50)
    floor: int | None = Field(default=None, ge=-5, le=200)
    room: Text20 | None = None
    use: DwellingUse | None = None
    floor_area_m2: float | None = Field(default=None, gt=0, le=100000)
    owner_name: Text100 | None = None
    status: DwellingStatus | None = None


class DwellingCorrect(DwellingPatch):
    """Correct a recorded dwelling version."""

    row_id: int | None = None
    reason: Text500
