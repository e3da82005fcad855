"""Rental input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from liangshi.common.types import Id, Text30, Text50, Text500, Version
from liangshi.schemas import WriteMeta

RentalUse = Literal["residential", "shop", "office", "collective", "other"]


class RentalCreate(WriteMeta):
    """File a rental (出租房屋登记) for a dwelling; the rental is valid from the lease start."""

    dwelling_id: Id
    landlord_person_id: Id = Field(description="The landlord, responsible for security (治安责任人)")
    use: RentalUse = "residential"
    rooms: int | None = Field(default=None, ge=1, le=500)
    monthly_rent: float | None = Field(default=None, ge=0, le=10_000_000)
    lease_start: dt.date
    lease_end: dt.date | None = None
    filing_number: Text30 | None = Field(default=None, description="备案号, unique among current rentals")
    agreement_signed_on: dt.date | None = None
    agreement_signer: Text50 | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "dwelling_id": 7,
                    "landlord_person_id": 3,
                    "use": "residential",
                    "rooms": 2,
                    "monthly_rent": 1200,
                    "lease_start": "2026-09-01",
                    "lease_end": "2027-08-31",
                    "filing_number": "鄂租备2026-0001",
                }
            ]
        }
    }


class RentalPatch(WriteMeta):
    """Change rental facts from a date (a new rent, a longer lease)."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    landlord_person_id: Id | None = None
    use: RentalUse | None = None
    rooms: int | None = Field(default=None, ge=1, le=500)
    monthly_rent: float | None = Field(default=None, ge=0, le=10_000_000)
    lease_end: dt.date | None = None
    filing_number: Text30 | None = None


class RentalCorrect(RentalPatch):
    """Correct a recorded rental version (a wrong lease start, a mistyped filing number)."""

    row_id: int | None = None
    reason: Text500
    lease_start: dt.date | None = None
    agreement_signed_on: dt.date | None = None
    agreement_signer: Text50 | None = None


class TenantIn(WriteMeta):
    """Attach a tenant: they must have an open residence at the rented dwelling."""

    expected_version: Version
    person_id: Id
    since: dt.date | None = Field(default=None, description="Default: the later of lease start and arrival")

    model_config = {"json_schema_extra": {"examples": [{"expected_version": 1, "person_id": 12}]}}


class AgreementIn(WriteMeta):
    """The landlord signed the security responsibility agreement (治安责任书)."""

    expected_version: Version
    signed_on: dt.date
    signer: Text50

    model_config = {
        "json_schema_extra": {
            "examples": [{"expected_version": 2, "signed_on": "2026-09-02", "signer": "张伟"}]
        }
    }


class RentalEnd(WriteMeta):
    """End a rental on a date; the tenants' links end with it."""

    expected_version: Version
    ended_on: dt.date
    reason: Text500 | None = None

    model_config = {"json_schema_extra": {"examples": [{"expected_version": 3, "ended_on": "2026-11-20"}]}}
