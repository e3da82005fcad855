"""Person rules: an ID number carries birth date and sex, and the person must agree with it."""

from __future__ import annotations

import datetime as dt

import pytest

from liangshi.errors import ValidationFailed
from liangshi.persons.rules import birth_date_from_id, check_document_agrees
from tests.factories import make_id

TODAY = dt.date(2026, 11, 27)
BORN = dt.date(1985, 3, 4)
MAN = make_id("420704", BORN, 123)  # odd sequence: male
WOMAN = make_id("420704", BORN, 124)  # even sequence: female


def test_resident_id_agreeing_with_birth_date_and_sex_passes() -> None:
    check_document_agrees("resident_id", MAN, birth_date=BORN, sex="1", today=TODAY)
    check_document_agrees("resident_id", WOMAN, birth_date=BORN, sex="2", today=TODAY)


def test_birth_date_contradicting_the_id_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_document_agrees("resident_id", MAN, birth_date=dt.date(1985, 4, 3), sex="1", today=TODAY)
    assert exc.value.code == "person.birth_date_mismatch"
    assert exc.value.data == {"field": "birth_date", "from_id": "1985-03-04"}


def test_sex_contradicting_the_id_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_document_agrees("resident_id", WOMAN, birth_date=BORN, sex="1", today=TODAY)
    assert exc.value.code == "person.sex_mismatch"
    assert exc.value.data == {"field": "sex", "from_id": "2"}


@pytest.mark.parametrize("sex", ["0", "9"])
def test_unknown_or_unstated_sex_is_not_checked_against_the_id(sex: str) -> None:
    check_document_agrees("resident_id", WOMAN, birth_date=BORN, sex=sex, today=TODAY)


def test_missing_birth_date_is_not_a_contradiction() -> None:
    check_document_agrees("resident_id", MAN, birth_date=None, sex="1", today=TODAY)


def test_residence_permit_numbers_are_checked_like_resident_ids() -> None:
    permit = make_id("810000", BORN, 123)
    with pytest.raises(ValidationFailed) as exc:
        check_document_agrees(
            "hmt_residence_permit", permit, birth_date=dt.date(1990, 1, 1), sex="1", today=TODAY
        )
    assert exc.value.code == "person.birth_date_mismatch"


def test_passports_carry_no_birth_date_or_sex_to_check() -> None:
    check_document_agrees("passport", "E12345678", birth_date=dt.date(1990, 1, 1), sex="2", today=TODAY)


def test_birth_date_is_read_from_an_id_number() -> None:
    assert birth_date_from_id("resident_id", MAN, TODAY) == BORN
    assert birth_date_from_id("foreign_pr_card", "E12345678", TODAY) is None
    assert birth_date_from_id("passport", "E12345678", TODAY) is None


def test_name_keys_are_pinyin_and_initials() -> None:
    from liangshi.persons.rules import name_keys, search_key

    assert name_keys("张三") == ("zhangsan", "zs")
    assert name_keys("曾小明") == ("zengxiaoming", "zxm")
    assert name_keys("John Smith") == ("johnsmith", "js")
    assert search_key("Zhang San") == "zhangsan"
    assert search_key("张") is None and search_key("4207") is None
