"""Person rules: documents agree with the person, one head per household."""

from __future__ import annotations

import datetime as dt

from liangshi.common import idnumber
from liangshi.errors import ValidationFailed

HEAD = "02"  # GB/T 4761 户主
ID_KINDS = ("resident_id", "hmt_residence_permit", "foreign_pr_card")


def check_document_agrees(
    doc_type: str, number: str, *, birth_date: dt.date | None, sex: str, today: dt.date
) -> None:
    """An ID-number document must agree with the person's birth date and sex (GB 11643: they are in it)."""
    if doc_type not in ID_KINDS or len(number) != 18:
        return
    check = idnumber.check_id_number(number, today=today)
    if not check.valid:
        return
    if birth_date is not None and check.birth_date != birth_date:
        raise ValidationFailed(
            "person.birth_date_mismatch",
            "出生日期与身份证号码不一致",
            "The birth date does not match the ID number",
            {"field": "birth_date", "from_id": check.birth_date.isoformat() if check.birth_date else None},
        )
    expected_sex = {"male": "1", "female": "2"}.get(check.sex or "")
    if sex in ("1", "2") and expected_sex and sex != expected_sex:
        raise ValidationFailed(
            "person.sex_mismatch",
            "性别与身份证号码不一致",
            "The sex does not match the ID number",
            {"field": "sex", "from_id": expected_sex},
        )


def birth_date_from_id(doc_type: str, number: str, today: dt.date) -> dt.date | None:
    """The birth date an ID number carries, if it is one."""
    if doc_type not in ID_KINDS or len(number) != 18:
        return None
    return idnumber.check_id_number(number, today=today).birth_date
