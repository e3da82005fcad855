"""Pydantic shapes shared by every registry object: provenance, change, correction, retirement, reads."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from liangshi.common.types import Id, Strict, Text100, Text200, Text500, Version
from liangshi.registry import Provenance


class ProvenanceIn(Strict):
    """Where the value comes from (defaults: observed by the acting collector)."""

    source_kind: Literal["collector", "department", "venue", "system", "import"] = "collector"
    source_ref: Text100 | None = None
    evidence: Literal["observed", "document"] = "observed"
    document_ref: Text200 | None = None

    def to_domain(self, default_ref: str | None = None) -> Provenance:
        """The domain value, naming the acting user as source when none is given."""
        return Provenance(self.source_kind, self.source_ref or default_ref, self.evidence, self.document_ref)


class WriteMeta(Strict):
    """What every write carries besides its values."""

    provenance: ProvenanceIn = Field(default_factory=ProvenanceIn)


class RetireIn(WriteMeta):
    """End an object's validity from a date."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500

    model_config = {
        "json_schema_extra": {
            "examples": [{"expected_version": 3, "effective": "2026-11-01", "reason": "已拆除"}]
        }
    }


class FlagIn(Strict):
    """Flag one attribute 'under investigation' with a reason."""

    expected_version: Version
    attribute: str = Field(max_length=50)
    reason: Text500

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"expected_version": 2, "attribute": "birth_date", "reason": "卫生部门出生记录不一致"}
            ]
        }
    }


class FlagResolveIn(Strict):
    """Settle a flag."""

    expected_version: Version
    resolution: Text500


class ProvenanceRead(BaseModel):
    """Provenance of a version."""

    source_kind: str
    source_ref: str | None
    evidence: str
    document_ref: str | None
    actor_id: int | None
    recorded_at: dt.datetime


class FlagRead(BaseModel):
    """An open 'under investigation' flag."""

    id: int
    attribute: str
    reason: str
    raised_at: dt.datetime
    raised_by: int | None


class ObjectRead(BaseModel):
    """An object as valid on a date: identity, version meta, attributes, references and flags."""

    id: int
    kind: str
    version: int = Field(description="Pass this as expected_version on the next write.")
    area_id: int
    county_code: str
    valid_from: dt.date
    valid_to: dt.date | None
    retired: bool
    change: str
    reason: str | None
    provenance: ProvenanceRead | None = Field(
        description="Absent from a department's read (not an agreement field)"
    )
    attributes: dict[str, Any]
    refs: dict[str, int | None] = Field(default_factory=dict)
    flags: list[FlagRead] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


class VersionRead(BaseModel):
    """One row of an object's bitemporal history."""

    row_id: int
    version: int
    valid_from: dt.date
    valid_to: dt.date | None
    recorded_at: dt.datetime
    superseded_at: dt.datetime | None
    change: str
    reason: str | None
    corrects_row_id: int | None
    replaces_row_id: int | None
    provenance: ProvenanceRead
    attributes: dict[str, Any]


class HistoryRead(BaseModel):
    """All versions of an object."""

    id: int
    kind: str
    versions: list[VersionRead]


class PageRead(BaseModel):
    """A page of objects."""

    items: list[ObjectRead]
    total: int
    offset: int
    limit: int


class RefIn(Strict):
    """A reference by id."""

    id: Id
