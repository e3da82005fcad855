"""Phone numbers: accept what people type, store E.164."""

from __future__ import annotations

import unicodedata

import phonenumbers

from liangshi.errors import ValidationFailed

__all__ = ["normalize_phone"]

_DEFAULT_REGION = "CN"


def _invalid(text: str, field: str) -> ValidationFailed:
    """A ``phone.invalid`` error for this field and input."""
    return ValidationFailed(
        "phone.invalid",
        "电话号码无效：请填写手机号（如 13812345678）或带区号的固定电话（如 027-88886666）",
        "Invalid phone number: enter a mobile number (e.g. 13812345678) "
        "or a landline with its area code (e.g. 027-88886666)",
        {"field": field, "input": text},
    )


def normalize_phone(text: str, *, field: str = "phone") -> str:
    """Parse a phone number (China by default, ``+``/``00`` for other countries) and return it as E.164."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        raise _invalid(text, field)
    try:
        number = phonenumbers.parse(value, _DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(text, field) from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid(text, field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
