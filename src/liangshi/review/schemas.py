"""Review desk input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from liangshi.common.types import Id, Strict


class FieldDiff(BaseModel):
    """One field of a proposed item against the current register."""

    name: str
    current: Any = None
    proposed: Any = None
    changed: bool = True


class ItemDiff(BaseModel):
    """One proposed item (a new object, a change, a correction, a retirement) field by field."""

    op: str
    kind: str
    entity_id: int | None = None
    base_version: int | None = None
    fields: list[FieldDiff]


class ChangeSetRead(BaseModel):
    """A change set as the desk and the collector's outbox show it."""

    id: int
    flow: str
    action: str
    summary: str
    status: str
    needs_district: bool
    tags: list[str]
    area_id: int
    proposer: str
    proposed_at: dt.datetime
    round: int
    return_reason: str | None = None
    returned_at: dt.datetime | None = None
    station_reviewer: str | None = None
    station_reviewed_at: dt.datetime | None = None
    district_reviewer: str | None = None
    district_reviewed_at: dt.datetime | None = None
    applied_at: dt.datetime | None = None
    result: dict[str, list[int]] | None = None
    stale: list[dict[str, Any]] = Field(default_factory=list)
    # The objects it is about (dwelling_id, residence_id, person_id, household_id): where the collector fixes a
    # returned set.
    target: dict[str, int] = Field(default_factory=dict)
    items: list[ItemDiff] = Field(default_factory=list)


class ChangeSetPage(BaseModel):
    """One page of the desk."""

    items: list[ChangeSetRead]
    total: int
    offset: int
    limit: int


class ReturnIn(Strict):
    """Send a change set back to its collector, with the reason they will read."""

    reason: str = Field(max_length=1000)

    model_config = {"json_schema_extra": {"examples": [{"reason": "出生日期与身份证号码不符，请核实"}]}}


class BulkApproveIn(Strict):
    """Approve several change sets, item by item: each one is approved or refused on its own."""

    ids: list[Id] = Field(min_length=1, max_length=1000)


class Outcome(BaseModel):
    """What happened to one change set of a bulk approval."""

    id: int
    ok: bool
    status: str | None = None
    code: str | None = None
    message: str | None = None


class ClaimRecordIn(Strict):
    """A department's record of a person who matches nobody, for the community it names to claim (认领)."""

    area_id: Id
    record_id: str = Field(min_length=1, max_length=60)
    person: dict[str, Any] = Field(description="The person's items as POST /persons takes them")
    documents: list[dict[str, Any]] = Field(default_factory=list, max_length=10)


class ClaimDecisionIn(Strict):
    """claimed (register the person here), elsewhere (hand it to `area_id`), duplicate (of `duplicate_of`)."""

    decision: Literal["claimed", "elsewhere", "duplicate"]
    area_id: Id | None = None
    duplicate_of: Id | None = None


class CrossUnitIn(Strict):
    """A change to a person another unit holds, for the holder to agree or refuse (业务协同)."""

    expected_version: int = Field(ge=1)
    changes: dict[str, Any] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=500)


class HolderDecisionIn(Strict):
    """The holder's answer: agree, or refuse with a reason."""

    agree: bool
    reason: str | None = Field(default=None, max_length=1000)


class RulingIn(Strict):
    """The station's ruling on a refused cross-unit change, with a reason."""

    ruling: Literal["initiator", "holder", "both", "neither"]
    reason: str = Field(max_length=1000)
