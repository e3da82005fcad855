"""Person, document and household input shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from liangshi.common.types import (
    Country,
    EducationCode,
    EthnicityCode,
    Id,
    MaritalCode,
    PastDate,
    PersonName,
    Phone,
    RegionCode,
    RelationshipCode,
    SexCode,
    Strict,
    Text30,
    Text100,
    Text200,
    Text500,
    Version,
    as_pydantic,
    document_number,
    today_of,
)
from liangshi.schemas import WriteMeta

DocType = Literal[
    "resident_id",
    "hmt_residence_permit",
    "foreign_pr_card",
    "hk_mo_travel_permit",
    "tw_travel_permit",
    "passport",
]


class DocumentIn(Strict):
    """An identity document; the number is validated for its type (check character, birth date, format)."""

    doc_type: DocType = "resident_id"
    number: str = Field(max_length=40)
    country: Country | None = None

    @model_validator(mode="after")
    def _valid_number(self, info: ValidationInfo) -> DocumentIn:
        today = today_of(info.context)
        self.number = as_pydantic(lambda n: document_number(self.doc_type, n, self.country, today=today))(
            self.number
        )
        return self


class PersonFields(WriteMeta):
    """Main items (主项) and general items (一般项目) of a person."""

    name: PersonName
    sex: SexCode = Field(description="GB/T 2261.1: 1 male, 2 female, 0 unknown, 9 unstated")
    birth_date: PastDate | None = None
    ethnicity: EthnicityCode | None = Field(default=None, description="GB/T 3304")
    nationality: Country = "CHN"
    hukou_region: RegionCode | None = None
    hukou_address: Text200 | None = None
    education: EducationCode | None = Field(default=None, description="GB/T 4658")
    marital_status: MaritalCode | None = Field(default=None, description="GB/T 2261.2")
    occupation: Text100 | None = None
    workplace: Text200 | None = None
    phone: Phone | None = None


class PersonCreate(PersonFields):
    """Register a person in an area of the actor's jurisdiction, with their documents."""

    area_id: Id
    documents: list[DocumentIn] = Field(default_factory=list, max_length=10)
    valid_from: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "area_id": 31,
                    "name": "张伟",
                    "sex": "1",
                    "birth_date": "1949-12-31",
                    "ethnicity": "01",
                    "hukou_region": "110105",
                    "phone": "13812345678",
                    "documents": [{"doc_type": "resident_id", "number": "11010519491231002X"}],
                    "provenance": {
                        "source_kind": "collector",
                        "evidence": "document",
                        "document_ref": "身份证原件",
                    },
                }
            ]
        }
    }


class PersonPatch(WriteMeta):
    """Change person facts from a date (e.g. a new phone, marriage)."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    name: PersonName | None = None
    sex: SexCode | None = None
    birth_date: PastDate | None = None
    ethnicity: EthnicityCode | None = None
    nationality: Country | None = None
    hukou_region: RegionCode | None = None
    hukou_address: Text200 | None = None
    education: EducationCode | None = None
    marital_status: MaritalCode | None = None
    occupation: Text100 | None = None
    workplace: Text200 | None = None
    phone: Phone | None = None


class PersonCorrect(PersonPatch):
    """Correct a recorded person version (a wrong value, not a change in the world)."""

    row_id: int | None = None
    reason: Text500


class DocumentAdd(WriteMeta, DocumentIn):
    """Add a document to a person."""

    expected_version: Version
    valid_from: dt.date | None = None


class PersonFind(Strict):
    """A search by document or phone number sent in the body, so the number never travels in a URL (issue 18)."""

    id_number: str | None = Field(None, min_length=1, max_length=40)
    phone: str | None = Field(None, min_length=1, max_length=30)
    name: str | None = Field(None, min_length=1, max_length=50)
    area_id: int | None = None
    offset: int = Field(0, ge=0, le=10_000_000)
    limit: int = Field(50, ge=1, le=500)


class LookupIn(Strict):
    """查人知住 by a document number, sent in the body (never in a URL)."""

    id_number: str = Field(min_length=6, max_length=40)


class UnmaskIn(Strict):
    """Why full ID numbers are needed; recorded in the audit log."""

    reason: Text500


class MemberIn(Strict):
    """A household member and their relationship to the head (GB/T 4761)."""

    person_id: Id
    relationship: RelationshipCode


class HouseholdCreate(WriteMeta):
    """A registered (户籍户) or actual living (实际居住户) household."""

    household_kind: Literal["registered", "actual"] = "actual"
    area_id: Id
    dwelling_id: Id | None = None
    household_number: Text30 | None = None
    members: list[MemberIn] = Field(default_factory=list, max_length=50)
    valid_from: dt.date | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "household_kind": "actual",
                    "area_id": 31,
                    "dwelling_id": 7,
                    "members": [
                        {"person_id": 1, "relationship": "02"},
                        {"person_id": 2, "relationship": "10"},
                    ],
                }
            ]
        }
    }


class HouseholdPatch(WriteMeta):
    """Change household facts from a date."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500 | None = None
    dwelling_id: Id | None = None
    household_number: Text30 | None = None


class HouseholdCorrect(HouseholdPatch):
    """Correct a recorded household version."""

    row_id: int | None = None
    reason: Text500


class MemberAdd(WriteMeta, MemberIn):
    """Add a member from a date; the household's expected version guards concurrent edits."""

    expected_version: Version
    effective: dt.date | None = None


class MemberEnd(WriteMeta):
    """End a membership from a date."""

    expected_version: Version
    effective: dt.date | None = None
    reason: Text500
