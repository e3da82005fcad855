"""Master person index input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from liangshi.common.types import Id, Strict, Text500


class DecisionIn(Strict):
    """A reviewer's decision on a pair: the same person or two different persons, and why."""

    decision: Literal["same", "distinct"]
    reason: Text500
    force: bool = Field(
        False,
        description="Merge two register persons even though their valid ID numbers differ (station admin and above)",
    )

    model_config = {
        "json_schema_extra": {"examples": [{"decision": "same", "reason": "身份证号码一致，电话一致"}]}
    }


class MergeIn(Strict):
    """Merge person `other` into the person in the path; `force` (station admin and above) overrides different
    valid ID numbers."""

    other: Id
    reason: Text500
    force: bool = False


class SplitIn(Strict):
    """Split source records off a person into a new person."""

    source_record_ids: list[Id] = Field(min_length=1, max_length=1000)
    reason: Text500


class UndoIn(Strict):
    """Why a merge or split is undone."""

    reason: Text500


class ReviewSummary(BaseModel):
    """One review in the queue."""

    id: int
    status: str
    probability: float
    source: str
    source_record_id: str | None
    left_person_id: int | None
    left_name: str | None
    candidate_person_id: int
    candidate_name: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class ReviewPage(BaseModel):
    """A page of the review queue."""

    items: list[ReviewSummary]
    total: int
    offset: int
    limit: int


class FieldPair(BaseModel):
    """One field of both records side by side, with what the engine made of it."""

    field: str
    left: Any
    right: Any
    level: str | None
    weight: float | None


class ReviewDetail(BaseModel):
    """A review side by side: the new record (or person) and the candidate person, field by field."""

    id: int
    status: str
    probability: float
    weight: float | None
    left: dict[str, Any]
    right: dict[str, Any]
    fields: list[FieldPair]
    evidence: list[dict[str, Any]]
    decided_by: int | None
    decided_at: dt.datetime | None
    reason: str | None


class DecisionRead(BaseModel):
    """The outcome of a decision."""

    id: int
    status: str
    decision: str
    record_status: str | None = None
    person_id: int | None = None
    merged: int | None = None
    event_id: int | None = None


class LinkEventRead(BaseModel):
    """A merge, split or undo as recorded."""

    id: int
    kind: Literal["merge", "split", "undo"]
    keep_person_id: int
    other_person_id: int
    moved: dict[str, Any]
    reason: str
    forced: bool
    actor: str
    at: dt.datetime
    undoes_id: int | None
    undone_by: int | None
