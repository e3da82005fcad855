"""Pydantic types that carry the registry's validation: validated once, where data enters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from liangshi.clock import unit_today
from liangshi.common import codes, idnumber, phone, text
from liangshi.errors import ValidationFailed

T = TypeVar("T")


def as_pydantic(fn: Callable[[T], T]) -> Callable[[T], T]:
    """Turn a ValidationFailed from a common validator into a pydantic error keeping its stable code."""

    def run(value: T) -> T:
        try:
            return fn(value)
        except ValidationFailed as exc:
            raise PydanticCustomError(
                exc.code, "{en}", {"en": exc.message_en, "zh": exc.message_zh, **exc.data}
            ) from None

    return run


class NoToday(RuntimeError):
    """A date was validated against today, but nobody said what today is (a programming error)."""


def validation_context(today: dt.date) -> dict[str, Any]:
    """The pydantic validation context for a use case's today: `Model.model_validate(data, context=...)`."""
    return {"today": today}


def today_of(context: Any) -> dt.date:
    """The date "not in the future" is checked against: the validation context's `today`, else the unit of
    work's today bound by the entry point (liangshi.clock.today_is). Never the wall clock."""
    if isinstance(context, dict) and isinstance(context.get("today"), dt.date):
        day: dt.date = context["today"]
        return day
    bound = unit_today()
    if bound is None:
        raise NoToday(
            "no today to validate against: pass context=validation_context(ctx.today) "
            "or run inside liangshi.clock.today_is(...)"
        )
    return bound


def _code(table: str) -> Callable[[str], str]:
    return as_pydantic(lambda v: codes.table(table).validate(v, field=table))


def _text(max_len: int) -> Callable[[str], str]:
    return as_pydantic(lambda v: text.clean_text(v, field="text", max_len=max_len))


def _past_date(value: dt.date, info: ValidationInfo) -> dt.date:
    if value > today_of(info.context) or value < dt.date(1900, 1, 1):
        raise PydanticCustomError(
            "date.out_of_range",
            "{en}",
            {"en": "The date must lie between 1900-01-01 and today", "zh": "日期须在1900年1月1日至今天之间"},
        )
    return value


def _region(value: str) -> str:
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise PydanticCustomError(
            "region.format", "{en}", {"en": "A region code has 6 digits", "zh": "行政区划代码应为6位数字"}
        )
    return value


def _nfkc_strip(value: Any) -> Any:
    return text.halfwidth_alnum(value).strip() if isinstance(value, str) else value


PersonName = Annotated[str, AfterValidator(as_pydantic(text.clean_person_name))]
Text20 = Annotated[str, AfterValidator(_text(20))]
Text30 = Annotated[str, AfterValidator(_text(30))]
Text50 = Annotated[str, AfterValidator(_text(50))]
Text100 = Annotated[str, AfterValidator(_text(100))]
Text200 = Annotated[str, AfterValidator(_text(200))]
Text500 = Annotated[str, AfterValidator(_text(500))]
Phone = Annotated[str, AfterValidator(as_pydantic(phone.normalize_phone))]
SexCode = Annotated[str, BeforeValidator(_nfkc_strip), AfterValidator(_code("sex"))]
EthnicityCode = Annotated[str, BeforeValidator(_nfkc_strip), AfterValidator(_code("ethnicity"))]
StayReasonCode = Annotated[str, BeforeValidator(_nfkc_strip), AfterValidator(_code("stay_reason"))]
EducationCode = Annotated[str, BeforeValidator(_nfkc_strip), AfterValidator(_code("education"))]
MaritalCode = Annotated[str, BeforeValidator(_nfkc_strip), AfterValidator(_code("marital_status"))]
RelationshipCode = Annotated[str, BeforeValidator(_nfkc_strip), AfterValidator(_code("relationship"))]
RegionCode = Annotated[str, BeforeValidator(_nfkc_strip), AfterValidator(_region)]
Country = Annotated[str, AfterValidator(as_pydantic(idnumber.normalize_country))]
PastDate = Annotated[dt.date, AfterValidator(_past_date)]
Id = Annotated[int, Field(ge=1, le=2**62)]
Version = Annotated[int, Field(ge=1, le=2**31)]


class Strict(BaseModel):
    """Input models refuse unknown fields and keep field order in errors."""

    model_config = ConfigDict(extra="forbid", str_max_length=2000)


def document_number(doc_type: str, number: str, country: str | None, *, today: dt.date) -> str:
    """Validate a document number for its type as of `today` (raises ValidationFailed)."""
    return idnumber.check_document(doc_type, number, country=country, today=today, field="number")
