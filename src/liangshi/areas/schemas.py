"""Area input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from liangshi.common.types import Text50
from liangshi.schemas import WriteMeta

AreaLevel = Literal[
    "province", "city", "district", "subdistrict", "town", "township", "community", "village", "group", "grid"
]


class AreaCreate(WriteMeta):
    """A new area under a parent; the code extends the parent's code (12-digit statistics scheme)."""

    code: str = Field(pattern=r"^\d{6}(\d{3}){0,3}$", description="6, 9, 12 or 15 digits")
    name: Text50
    level: AreaLevel
    parent_code: str = Field(pattern=r"^\d{6}(\d{3}){0,3}$")
    valid_from: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"code": "420704001001", "name": "滨湖社区", "level": "community", "parent_code": "420704001"}
            ]
        }
    }


class AreaPatch(WriteMeta):
    """Rename an area from a date."""

    expected_version: int = Field(ge=1)
    effective: dt.date | None = None
    reason: Text50 | None = None
    name: Text50


class AreaCorrect(WriteMeta):
    """Correct an area's recorded name."""

    expected_version: int = Field(ge=1)
    row_id: int | None = None
    reason: Text50
    name: Text50
