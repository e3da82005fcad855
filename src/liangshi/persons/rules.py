"""Person rules: documents agree with the person, one head per household."""

from __future__ import annotations

import datetime as dt
import functools

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


# Surnames whose reading differs from the character's most common one (曾 zēng, not céng).
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "区": "ou",
    "查": "zha",
    "仇": "qiu",
    "朴": "piao",
    "翟": "zhai",
    "乐": "yue",
    "缪": "miao",
    "覃": "qin",
    "盖": "ge",
    "召": "shao",
    "种": "chong",
    "员": "yun",
    "尉": "yu",
    "长": "zhang",
    "重": "chong",
    "沈": "shen",
    "秘": "bi",
}


@functools.lru_cache(maxsize=65536)  # bulk imports meet the same names many times
def name_keys(name: str) -> tuple[str, str]:
    """Search keys of a name: full pinyin and initials, lowercase, no tones or spaces (张三 → zhangsan, zs).

    Latin-script names keep their letters (John Smith → johnsmith, js).
    """
    # Imported here, not at the top: pypinyin's dictionaries take about a second to load; only name keys need them.
    from pypinyin import lazy_pinyin

    text = name.strip()
    if not text:
        return "", ""
    syllables = lazy_pinyin(text)
    if text[0] in SURNAME_READINGS and syllables:
        syllables[0] = SURNAME_READINGS[text[0]]
    words: list[str] = []
    for chunk in syllables:
        words.extend(
            w for w in "".join(c if c.isalnum() else " " for c in chunk.lower()).split() if w.isascii()
        )
    return "".join(words)[:200], "".join(w[0] for w in words)[:50]


def search_key(text: str) -> str | None:
    """A typed query as a pinyin key (letters only, lowercase, no spaces), or None when it is not one."""
    value = "".join(text.split()).lower()
    if value and value.isascii() and value.isalpha():
        return value
    return None
