"""Identity numbers (GB 11643-1999) and other identity documents: normalise, check, mask.

Pure functions, no database. Region names come from python-stdnum's ``cn/loc.dat`` (GB/T 2260 codes,
including historic ones); its ``cn.ric.validate`` verdict is deliberately not used, because it rejects
numbers whose address code was created after the birth date, which is normal for real numbers.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Literal

import pycountry

from liangshi.errors import ValidationFailed

__all__ = [
    "DOCUMENT_TYPES",
    "DOCUMENT_TYPE_NAMES",
    "HMT_REGION_CODES",
    "IdCheck",
    "IdError",
    "IdKind",
    "Sex",
    "carries_id_number",
    "check_document",
    "check_id_number",
    "compute_check_char",
    "is_known_region",
    "mask_id_number",
    "normalize_country",
    "normalize_id_text",
    "parse_id_number",
    "region_name",
]

Sex = Literal["male", "female"]
IdError = Literal["format", "checksum", "birth_date"]
IdKind = Literal["resident", "resident15", "hmt_permit", "foreign_pr"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_DIGIT_OFFSET = ord("0") * sum(_WEIGHTS)  # what the digits' ASCII codes add beyond their values
_EARLIEST_BIRTH = date(1900, 1, 1)

#: Address codes used by residence permits for Hong Kong, Macau and Taiwan residents.
HMT_REGION_CODES: dict[str, str] = {
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
    "830000": "台湾地区",
}

_RE_18 = re.compile(r"\d{17}[\dX]")
_RE_15 = re.compile(r"\d{15}")
# Invisible characters that copy-paste from spreadsheets and web pages leaves behind.
_INVISIBLE = re.compile("[\\s\u200b\u200c\u200d\u2060\ufeff]+")


def normalize_id_text(text: str) -> str:
    """NFKC (full-width to half-width), drop all whitespace (incl. U+3000) and uppercase (``x`` to ``X``)."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).upper()


def compute_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    # Σ weight × (byte − 48) over the ASCII digits, summed in C (the bulk imports check millions of numbers).
    total = sum(map(operator.mul, first17.encode("ascii"), _WEIGHTS)) - _DIGIT_OFFSET
    return _CHECK_CHARS[total % 11]


# ---------------------------------------------------------------------------------------------------------
# Region codes (GB/T 2260) from stdnum's loc.dat
# ---------------------------------------------------------------------------------------------------------

_LOC_PROVINCE = re.compile(r'^(\d{2}) province="([^"]*)"')
_LOC_COUNTY = re.compile(r'^\s+(\d{4}) county="([^"]*)"')
_LOC_PERIOD = re.compile(r"^\[[^\]]*\]")


def _latest_name(value: str) -> str:
    """The most recent name in a loc.dat value like ``[-1991]东郊区,[1992-]东丽区``."""
    last = re.split(r",(?=\[)", value)[-1]
    return _LOC_PERIOD.sub("", last).strip()


@lru_cache(maxsize=1)
def _region_table() -> tuple[dict[str, str], frozenset[str]]:
    """Parse loc.dat once: 6-digit code to latest name, and the set of 2-digit province codes."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    names: dict[str, str] = {}
    provinces: set[str] = set()
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = _LOC_PROVINCE.match(line)
        if match:
            province = match.group(1)
            provinces.add(province)
            continue
        match = _LOC_COUNTY.match(line)
        if match and province:
            names[province + match.group(1)] = _latest_name(match.group(2))
    names.update(HMT_REGION_CODES)
    provinces.update(code[:2] for code in HMT_REGION_CODES)
    return names, frozenset(provinces)


def region_name(code6: str) -> str | None:
    """The latest GB/T 2260 name of a 6-digit address code (historic codes included), or None."""
    return _region_table()[0].get(code6)


def is_known_region(code6: str) -> bool:
    """Whether a 6-digit address code exists (or existed) in GB/T 2260, or is 810000/820000/830000."""
    return code6 in _region_table()[0]


def _is_known_province(code2: str) -> bool:
    """Whether a 2-digit province code exists in GB/T 2260."""
    return code2 in _region_table()[1]


# ---------------------------------------------------------------------------------------------------------
# ID number check
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdCheck:
    """The verdict on one ID-number input; normalized/birth_date/sex/region are None unless valid."""

    input: str
    valid: bool
    normalized: str | None
    birth_date: date | None
    sex: Sex | None
    region: str | None
    error: IdError | None
    kind: IdKind | None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, str | bool | None]:
        """The public JSON shape: exactly input, valid, normalized, birth_date, sex, region, error."""
        return {
            "input": self.input,
            "valid": self.valid,
            "normalized": self.normalized,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "region": self.region,
            "error": self.error,
        }


def _invalid(text: str, error: IdError, kind: IdKind | None = None) -> IdCheck:
    """An invalid verdict."""
    return IdCheck(
        input=text,
        valid=False,
        normalized=None,
        birth_date=None,
        sex=None,
        region=None,
        error=error,
        kind=kind,
    )


def _kind_of(number18: str, *, upgraded: bool) -> IdKind:
    """Classify a well-formed 18-character number."""
    if upgraded:
        return "resident15"
    if number18[:6] in HMT_REGION_CODES:
        return "hmt_permit"
    if number18[0] == "9":
        return "foreign_pr"
    return "resident"


def check_id_number(text: str, *, today: date) -> IdCheck:
    """Check an ID number (18 chars, or an old 15-digit one which is upgraded) and report why it fails."""
    s = normalize_id_text(text)
    upgraded = False
    if _RE_15.fullmatch(s):
        first17 = s[:6] + "19" + s[6:]
        upgraded = True
    elif _RE_18.fullmatch(s):
        first17 = s[:17]
    else:
        return _invalid(text, "format")

    kind = _kind_of(first17 + "0", upgraded=upgraded)
    try:
        born = date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
    except ValueError:
        return _invalid(text, "birth_date", kind)
    if born < _EARLIEST_BIRTH or born > today:
        return _invalid(text, "birth_date", kind)

    check = compute_check_char(first17)
    if not upgraded and s[17] != check:
        return _invalid(text, "checksum", kind)

    warnings: list[str] = []
    region = first17[:6]
    if kind == "foreign_pr":
        # 9 + 2-digit province of the issuing authority + 3-digit nationality code.
        if not _is_known_province(first17[1:3]):
            warnings.append("region.unknown")
    elif not is_known_region(region):
        warnings.append("region.unknown")

    return IdCheck(
        input=text,
        valid=True,
        normalized=first17 + check,
        birth_date=born,
        sex="male" if int(first17[16]) % 2 == 1 else "female",
        region=region,
        error=None,
        kind=kind,
        warnings=tuple(warnings),
    )


_ID_MESSAGES: dict[IdError, tuple[str, str]] = {
    "format": (
        "身份证号码格式不正确：应为18位（17位数字加1位数字或X）或15位数字",
        "The ID number has a wrong format: expected 18 characters (17 digits plus a digit or X) or 15 digits",
    ),
    "birth_date": (
        "身份证号码中的出生日期无效（日期不存在、晚于今天或早于1900年）",
        "The birth date in the ID number is invalid (no such date, in the future, or before 1900)",
    ),
    "checksum": (
        "身份证号码校验位不符，请逐位核对",
        "The ID number's check character does not match; check every digit",
    ),
}


def parse_id_number(text: str, *, today: date, field: str = "id_number") -> IdCheck:
    """Check an ID number and return the valid verdict, or raise ValidationFailed ``id_number.<error>``."""
    result = check_id_number(text, today=today)
    if result.error is not None:
        zh, en = _ID_MESSAGES[result.error]
        raise ValidationFailed(f"id_number.{result.error}", zh, en, {"field": field, "input": text})
    return result


def mask_id_number(number: str) -> str:
    """Keep the first 6 and last 4 characters and star the middle; short strings keep only the last 2."""
    n = len(number)
    if n > 10:
        return number[:6] + "*" * (n - 10) + number[-4:]
    if n > 2:
        return "*" * (n - 2) + number[-2:]
    return "*" * n


# An 18- or 15-character ID number in free text (ASCII or full-width digits, and check character X or Ｘ, as
# Chinese input methods type them), not part of a longer number.
_ID_IN_TEXT = re.compile(
    "(?<![0-9\uff10-\uff19])(?:[0-9\uff10-\uff19]{17}[0-9\uff10-\uff19Xx\uff38\uff58]|[0-9\uff10-\uff19]{15})"
    "(?![0-9\uff10-\uff19])"
)


def carries_id_number(text: str, *, old_form: bool = True) -> bool:
    """Whether a text holds what is very likely a full ID number: 18 characters with the right check character
    and a real birth date, or (with old_form) 15 digits whose birth date is a real day; spaces and full-width
    digits as typed. (The birth date keeps an 18-digit standard address code out: a county code and a
    zero-padded number, 420704000000000123, has the right check character one time in eleven.)"""
    compact = normalize_id_text(text)
    for run in _ID_IN_TEXT.findall(compact):
        if (
            len(run) == 18
            and run[:17].isdigit()
            and compute_check_char(run[:17]) == run[17]
            and _real_day(run[6:14])
        ):
            return True
        if old_form and len(run) == 15 and _real_day("19" + run[6:12]):
            return True
    return False


def _real_day(yyyymmdd: str) -> bool:
    try:
        date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


def mask_id_numbers_in(text: str) -> str:
    """Free text (a reason, a purpose) with every ID-number-shaped run of characters masked."""
    return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)


# ---------------------------------------------------------------------------------------------------------
# Other identity documents
# ---------------------------------------------------------------------------------------------------------

DOCUMENT_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "resident_id": ("居民身份证", "Resident ID card"),
    "hmt_residence_permit": (
        "港澳台居民居住证",
        "Residence permit for Hong Kong, Macau and Taiwan residents",
    ),
    "foreign_pr_card": ("外国人永久居留身份证", "Foreigner's permanent residence ID card"),
    "hk_mo_travel_permit": (
        "港澳居民来往内地通行证",
        "Mainland travel permit for Hong Kong and Macau residents",
    ),
    "tw_travel_permit": ("台湾居民来往大陆通行证", "Mainland travel permit for Taiwan residents"),
    "passport": ("护照", "Passport"),
}
DOCUMENT_TYPES: tuple[str, ...] = tuple(DOCUMENT_TYPE_NAMES)

_DOC_PATTERNS: dict[str, re.Pattern[str]] = {
    "hk_mo_travel_permit": re.compile(r"[HM]\d{8}(\d{2})?"),
    "tw_travel_permit": re.compile(r"\d{8}|\d{10}"),
    "passport": re.compile(r"[A-Z0-9]{5,17}"),
}
_FOREIGN_PR_2004 = re.compile(r"[A-Z]{3}\d{12}")
_ID_KIND_OF_DOC: dict[str, tuple[IdKind, ...]] = {
    "resident_id": ("resident", "resident15"),
    "hmt_residence_permit": ("hmt_permit",),
    "foreign_pr_card": ("foreign_pr",),
}
_DOC_OF_ID_KIND: dict[IdKind, str] = {
    "resident": "resident_id",
    "resident15": "resident_id",
    "hmt_permit": "hmt_residence_permit",
    "foreign_pr": "foreign_pr_card",
}


def _format_error(doc_type: str, number: str, field: str) -> ValidationFailed:
    """A ``document.format`` error naming the document type."""
    zh, en = DOCUMENT_TYPE_NAMES[doc_type]
    return ValidationFailed(
        "document.format",
        f"{zh}号码格式不正确",
        f"The {en} number has a wrong format",
        {"field": field, "input": number, "doc_type": doc_type},
    )


def normalize_country(code: str, *, field: str = "country") -> str:
    """Validate an ISO 3166-1 alpha-3 country code (GB/T 2659) and return it uppercase."""
    value = normalize_id_text(code)
    if len(value) != 3 or pycountry.countries.get(alpha_3=value) is None:
        raise ValidationFailed(
            "document.country_unknown",
            f"国家或地区代码“{code}”不存在（应为 GB/T 2659 三字母代码）",
            f"Unknown country code {code!r} (expected a GB/T 2659 / ISO 3166-1 alpha-3 code)",
            {"field": field, "input": code},
        )
    return value


def check_document(
    doc_type: str,
    number: str,
    *,
    country: str | None = None,
    today: date,
    field: str = "document_number",
) -> str:
    """Normalise and validate an identity-document number; return the normalised number or raise."""
    if doc_type not in DOCUMENT_TYPE_NAMES:
        raise ValidationFailed(
            "document.type_unknown",
            f"未知的证件类型：{doc_type}",
            f"Unknown document type: {doc_type}",
            {"field": "doc_type", "input": doc_type, "allowed": list(DOCUMENT_TYPES)},
        )
    value = normalize_id_text(number)

    if doc_type == "foreign_pr_card" and _FOREIGN_PR_2004.fullmatch(value):
        return value
    if doc_type == "foreign_pr_card" and not (len(value) == 18 and value.startswith("9")):
        raise _format_error(doc_type, number, field)

    if doc_type in _ID_KIND_OF_DOC:
        result = parse_id_number(number, today=today, field=field)
        assert result.kind is not None and result.normalized is not None
        if result.kind not in _ID_KIND_OF_DOC[doc_type]:
            actual = _DOC_OF_ID_KIND[result.kind]
            zh, en = DOCUMENT_TYPE_NAMES[doc_type]
            actual_zh, actual_en = DOCUMENT_TYPE_NAMES[actual]
            raise ValidationFailed(
                "document.type_mismatch",
                f"该号码是{actual_zh}号码，不是{zh}号码",
                f"This number belongs to a {actual_en}, not a {en}",
                {"field": field, "input": number, "doc_type": doc_type, "detected": actual},
            )
        return result.normalized

    if not _DOC_PATTERNS[doc_type].fullmatch(value):
        raise _format_error(doc_type, number, field)
    if doc_type == "passport":
        if country is None or not country.strip():
            raise ValidationFailed(
                "document.country_required",
                "护照须填写签发国家或地区（GB/T 2659 三字母代码）",
                "A passport needs its issuing country (GB/T 2659 / ISO 3166-1 alpha-3 code)",
                {"field": "country", "input": number},
            )
        normalize_country(country)
    return value
