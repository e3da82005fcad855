"""Specification of phone-number normalisation (E.164 out, China as the default region)."""

from __future__ import annotations

import pytest

from liangshi.common.phone import normalize_phone
from liangshi.errors import ValidationFailed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),
        ("\u3000 13812345678 ", "+8613812345678"),
        ("027-88886666", "+862788886666"),
        ("(0711)3331234", "+867113331234"),
        ("（0711）3331234", "+867113331234"),
        ("0711-3331234", "+867113331234"),
    ],
)
def test_accepted_inputs_become_e164(text: str, expected: str) -> None:
    assert normalize_phone(text) == expected


def test_foreign_number_with_plus_is_kept() -> None:
    assert normalize_phone("+1 650-253-0000") == "+16502530000"


@pytest.mark.parametrize("text", ["", "   ", "12345", "abc", "1381234567", "138123456789", "+86 000 0000"])
def test_invalid_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        normalize_phone(text, field="landlord_phone")
    err = info.value
    assert err.code == "phone.invalid"
    assert err.data == {"field": "landlord_phone", "input": text}
    assert err.message_zh and err.message_en


def test_default_field_is_phone() -> None:
    with pytest.raises(ValidationFailed) as info:
        normalize_phone("1")
    assert info.value.data["field"] == "phone"
