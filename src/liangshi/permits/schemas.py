"""Residence permit input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from liangshi.common.types import Id, Text200, Text500, Version
from liangshi.schemas import WriteMeta


class PermitIssue(WriteMeta):
    """Issue a permit on the strength of an open residence and a basis (job, home or school)."""

    residence_id: Id
    basis: Literal["job", "home", "school"]
    basis_detail: Text200
    issued_on: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [{"residence_id": 12, "basis": "job", "basis_detail": "鄂州市某物流公司 劳动合同"}]
        }
    }


class PermitEndorse(WriteMeta):
    """The yearly endorsement (签注)."""

    expected_version: Version
    endorsed_on: dt.date | None = None


class PermitCancel(WriteMeta):
    """Cancel a permit (left the city, issued in error)."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500


class PermitPatch(WriteMeta):
    """Change the basis of a permit from a date."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    basis: Literal["job", "home", "school"] | None = None
    basis_detail: Text200 | None = None


class PermitCorrect(PermitPatch):
    """Correct a recorded permit version."""

    row_id: int | None = None
    reason: Text500
