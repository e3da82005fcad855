"""Check API shapes: the checks, a run's summary, findings and a dismissal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from liangshi.common.types import Strict


class CheckRead(BaseModel):
    """A named check."""

    code: str
    title: str
    severity: str
    object_kind: str
    owner: str
    rule: str


class RunIn(Strict):
    """Run some checks (all when none are named) over an area (your own by default)."""

    area: str | None = Field(default=None, max_length=15)
    checks: list[str] = Field(default_factory=list, max_length=50)


class FindingLine(BaseModel):
    """One finding as a run reports it: check, natural keys, evidence."""

    check: str
    keys: dict[str, Any]
    evidence: dict[str, Any]


class RunRead(BaseModel):
    """What a run found and what became of the stored findings."""

    run_id: int
    per_check: dict[str, int]
    opened: int
    kept: int
    closed: int
    dismissed_kept: int


class FindingRead(BaseModel):
    """A stored finding (ID numbers masked)."""

    id: int
    check: str
    title: str
    severity: str
    status: str
    keys: dict[str, Any]
    evidence: dict[str, Any]
    area_id: int
    assignee: str | None
    owner: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    dismiss_reason: str | None


class FindingPage(BaseModel):
    """A page of findings."""

    items: list[FindingRead]
    total: int
    offset: int
    limit: int


class DismissIn(Strict):
    """Why a finding is not a defect."""

    reason: str | None = Field(default=None, max_length=500)
