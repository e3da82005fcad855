"""Person rows validated a column at a time, with the API's own rules.

`plain_persons` looks at a chunk column by column: the ID numbers' check characters in one array operation, names,
mobile phones by their plain shapes (liangshi.common.bulk), and every other column by running the API's own
pydantic type once per distinct value (codes, dates, regions and communities repeat a lot). A row for which every
value is accepted that way, and whose birth date and sex agree with its ID number, is returned ready to store;
any other row is returned as None, and the loader validates it the per-row way, which accepts it with its own
normalisation or rejects it with its own field, code and message. So both paths apply one set of rules, and the
error report is exactly what per-row validation writes (tests/exchange/test_bulk_validators.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from pydantic import TypeAdapter

from liangshi.common import bulk
from liangshi.common.types import (
    EducationCode,
    EthnicityCode,
    MaritalCode,
    PastDate,
    PersonName,
    Phone,
    RegionCode,
    SexCode,
    Text100,
    Text200,
    validation_context,
)
from liangshi.exchange import formats
from liangshi.exchange.rows import AreaRef, Chunk

# The longest string a Strict model takes for any field (its str_max_length).
_STR_MAX = 2000


class PlainPerson(NamedTuple):
    """A row accepted column-wise: the resident ID number, the area, the person attributes in PERSON order."""

    number: str
    area: AreaRef
    attrs: tuple[Any, ...]


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    types: dict[str, Any] = {
        "name": PersonName,
        "sex": SexCode,
        "birth_date": PastDate,
        "ethnicity": EthnicityCode,
        "education": EducationCode,
        "marital_status": MaritalCode,
        "hukou_region": RegionCode,
        "hukou_address": Text200,
        "occupation": Text100,
        "workplace": Text200,
        "phone": Phone,
    }
    return TypeAdapter(types[kind])


def _str_field(kind: str) -> Callable[[str | None], Any]:
    """An optional string field as PersonCreate validates it (None stays None)."""
    adapter = _adapter(kind)

    def check(value: str | None) -> Any:
        if value is None:
            return None
        if len(value) > _STR_MAX:
            raise ValueError("too long")
        return adapter.validate_python(value)

    return check


def _code_field(kind: str) -> Callable[[str | None], Any]:
    """A code column as the loader reads it (code or Chinese name), then as PersonCreate validates it."""
    adapter = _adapter(kind)

    def check(value: str | None) -> Any:
        if not value:
            return None
        return adapter.validate_python(formats.code_or_name(kind, value, kind))

    return check


def _sex(value: str | None) -> Any:
    return _adapter("sex").validate_python(formats.parse_sex(value or ""))


def _birth(today: dt.date) -> Callable[[str | None], dt.date | None]:
    """A birth date column as PersonCreate validates it on `today` (not in the future)."""
    context = validation_context(today)

    def check(value: str | None) -> dt.date | None:
        if value is None:
            return None
        parsed = formats.parse_date(value, "birth_date")
        result: dt.date = _adapter("birth_date").validate_python(parsed, context=context)
        return result

    return check


def _or_validated(fast: list[Any], values: list[str | None], check: Callable[[str | None], Any]) -> list[Any]:
    """The fast verdict where there is one, else the per-value validator (once per distinct value)."""
    slow_idx = [i for i, f in enumerate(fast) if f is None and values[i] is not None]
    if slow_idx:
        found = bulk.memo_column([values[i] for i in slow_idx], check)
        for i, result in zip(slow_idx, found, strict=True):
            fast[i] = result
    return fast


def plain_persons(
    rows: Chunk, *, area_of: Callable[[str | None], AreaRef], today: dt.date
) -> list[PlainPerson | None]:
    """Each row ready to store, or None for rows the per-row validation must look at."""
    missing = bulk.MISSING
    # The import's today is the one date every check uses (the per-row path validates against it too).
    ids = bulk.resident_ids(rows.column("id_number"), today)
    names_in = rows.column("name")
    names = _or_validated(bulk.plain_names(names_in), names_in, _str_field("name"))
    phones_in = rows.column("phone")
    phones = _or_validated(bulk.mobile_phones(phones_in), phones_in, _str_field("phone"))
    areas = bulk.memo_column(rows.column("community_code"), area_of)
    sexes = bulk.memo_column(rows.column("sex"), _sex)
    births_in = rows.column("birth_date")
    # A birth date written as the ID number's own (YYYY-MM-DD) is that date; others go through the date rules.
    births = [
        None if b is None or f is None or b != f"{f[0][6:10]}-{f[0][10:12]}-{f[0][12:14]}" else f[1]
        for b, f in zip(births_in, ids, strict=True)
    ]
    births = _or_validated(births, births_in, _birth(today))
    others = [
        bulk.memo_column(rows.column(key), check)
        for key, check in (
            ("ethnicity", _code_field("ethnicity")),
            ("hukou_region", _str_field("hukou_region")),
            ("hukou_address", _str_field("hukou_address")),
            ("education", _code_field("education")),
            ("marital_status", _code_field("marital_status")),
            ("occupation", _str_field("occupation")),
            ("workplace", _str_field("workplace")),
        )
    ]
    doc_types = rows.column("doc_type")
    countries = rows.column("country")
    out: list[PlainPerson | None] = []
    for found, name, phone, area, sex, birth, doc_type, country, *other in zip(
        ids, names, phones, areas, sexes, births, doc_types, countries, *others, strict=True
    ):
        ethnicity, region, address, education, marital, occupation, workplace = other
        if (
            found is None
            or doc_type not in (None, "resident_id")
            or country is not None
            or name is None
            or name is missing
            or phone is missing
            or area is missing
            or sex is missing
            or birth is missing
            or missing in other  # (identity first: `in` tries `is` before `==`)
        ):
            out.append(None)
            continue
        number, id_birth, id_sex = found
        if (birth is not None and birth != id_birth) or (sex in ("1", "2") and sex != id_sex):
            out.append(None)
            continue
        attrs = (
            name,
            sex,
            id_birth.isoformat(),
            ethnicity,
            "CHN",
            region,
            address,
            education,
            marital,
            occupation,
            workplace,
            phone,
        )
        out.append(PlainPerson(number, area, attrs))
    return out
