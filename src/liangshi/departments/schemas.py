"""Department exchange input and output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from liangshi.common.types import Strict, Text500


class DepartmentCreate(Strict):
    """Register a department; names default to the standard ones for standard codes (health, justice …)."""

    code: str = Field(max_length=30, examples=["health"])
    name_zh: str | None = Field(default=None, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)


class AgreementIn(Strict):
    """A sharing agreement: per object kind, the fields the department provides and may read, and why."""

    purpose: str = Field(max_length=500)
    valid_from: dt.date
    valid_to: dt.date | None = None
    aggregates_only: bool = False
    all_or_nothing: bool = Field(
        default=False, description="Refuse a batch with any bad row as a whole (default: keep the good rows)"
    )
    provides: dict[str, list[str]] = Field(default_factory=dict)
    reads: dict[str, list[str]] = Field(default_factory=dict)
    reference: str | None = Field(default=None, max_length=100)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "purpose": "出生、死亡医学证明与人口登记核对",
                    "valid_from": "2026-01-01",
                    "valid_to": "2028-01-01",
                    "provides": {"person": ["birth_date", "death_date"]},
                    "reads": {"person": ["name", "sex", "birth_date"], "document": ["doc_type", "number"]},
                }
            ]
        }
    }


class BatchRecords(Strict):
    """A JSON batch: records keyed by column (the same keys or Chinese headers as a CSV file)."""

    kind: Literal["persons", "dwellings", "births", "areas", "streets", "corrections"] = "persons"
    records: list[dict[str, Any]] = Field(max_length=50_000)


class BatchRead(BaseModel):
    """What an accepted batch came to."""

    batch_id: int
    department: str
    kind: str
    rows: int
    matched: int
    unmatched_lines: list[int]
    applied: int
    same: int
    conflicts: list[int]
    linked: int = Field(0, description="Matched to an existing person by the master person index")
    created: int = Field(
        0, description="New register persons made at once (none: a record nobody matched waits for its claim)"
    )
    claims: int = Field(0, description="Records nobody matched, held for their community to claim (认领)")
    queued: int = Field(0, description="Records waiting in the match review queue")
    proposals: list[int] = Field(
        default_factory=list,
        description="Change sets opened for review (births: a birth proposal in the mother's community)",
    )
    rejected: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The rows refused, each problem as {line, field, code, message_zh, message_en}",
    )


class DecideIn(Strict):
    """Accept the department's value or reject it, with a reason."""

    decision: Literal["accept", "reject"]
    reason: Text500


class FeedbackIn(Strict):
    """A department doubts a register value."""

    object_kind: str = Field(max_length=20, examples=["person"])
    object_id: int
    attribute: str = Field(max_length=50, examples=["birth_date"])
    reason: Text500
    suggested_value: str | None = Field(default=None, max_length=200)


class FeedbackDecideIn(Strict):
    """The holder's decision: the value stands (`confirmed`) or is corrected to `value`."""

    outcome: Literal["confirmed", "corrected"]
    note: Text500
    value: str | None = Field(default=None, max_length=200)
