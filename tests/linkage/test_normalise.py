"""Normalisation: Chinese names, surname readings, widths, ID upgrade, birth-date forms, sex codes, phones."""

from __future__ import annotations

import datetime as dt

import pytest
from pypinyin import Style, pinyin

from liangshi.linkage.api import LinkRecord
from liangshi.linkage.normalise import (
    DIALECT_FOLDS,
    fold_dialect,
    normalise_birth_date,
    normalise_id,
    normalise_name,
    normalise_phone,
    normalise_record,
    normalise_sex,
    normalise_text,
)
from liangshi.linkage.surnames import COMPOUND_SURNAMES, SURNAME_READINGS

from .helpers import valid_id

TODAY = dt.date(2026, 11, 27)


def test_traditional_name_is_simplified_and_keeps_its_pinyin() -> None:
    traditional = normalise_name("張偉")
    simplified = normalise_name("张伟")
    assert traditional is not None and simplified is not None
    assert traditional.simplified == "张伟" == simplified.simplified
    assert traditional.pinyin == simplified.pinyin == "zhangwei"
    assert traditional.written != simplified.written


def test_homophones_share_the_pinyin_key() -> None:
    a, b = normalise_name("李静"), normalise_name("李婧")
    assert a is not None and b is not None
    assert a.simplified != b.simplified
    assert a.pinyin == b.pinyin == "lijing"


@pytest.mark.parametrize(
    ("name", "surname_pinyin", "full"),
    [
        ("单晓明", "shan", "shanxiaoming"),
        ("曾志伟", "zeng", "zengzhiwei"),
        ("解放", "xie", "xiefang"),
        ("仇英", "qiu", "qiuying"),
        ("区丽", "ou", "ouli"),
        ("朴树", "piao", "piaoshu"),
        ("欧阳娜娜", "ouyang", "ouyangnana"),
    ],
)
def test_surnames_take_their_surname_reading(name: str, surname_pinyin: str, full: str) -> None:
    result = normalise_name(name)
    assert result is not None
    assert result.surname_pinyin == surname_pinyin
    assert result.pinyin == full


def test_surname_table_only_chooses_readings_pypinyin_knows() -> None:
    for char, reading in SURNAME_READINGS.items():
        assert reading in pinyin(char, style=Style.NORMAL, heteronym=True)[0], char
    for chars, reading in COMPOUND_SURNAMES.items():
        options = [pinyin(c, style=Style.NORMAL, heteronym=True)[0] for c in chars]
        assert any(reading == a + b for a in options[0] for b in options[1]), chars


def test_full_width_and_spaces_are_normalised() -> None:
    name = normalise_name("ＺＨＡＮＧ　Ｗｅｉ")
    assert name is not None and name.pinyin == "zhangwei"
    spaced = normalise_name("张 伟")
    assert spaced is not None and spaced.written == "张伟"
    assert normalise_text("湖北省鄂州市 １２号") == normalise_text("湖北省鄂州市12号")


def test_latin_names_in_either_order_share_their_sorted_tokens() -> None:
    a, b = normalise_name("John Smith"), normalise_name("SMITH, John")
    assert a is not None and b is not None
    assert a.sorted_tokens == b.sorted_tokens
    assert a.pinyin != b.pinyin


def test_fifteen_digit_id_is_upgraded_to_eighteen() -> None:
    result = normalise_id("420704800101001", today=TODAY)
    assert result is not None
    assert result.valid
    assert result.number == "420704198001010015"
    assert result.birth_date == "1980-01-01"
    assert result.sex == "M"


def test_invalid_id_keeps_its_cleaned_text_and_segments() -> None:
    result = normalise_id(" 42070419800101001x ", today=TODAY)
    assert result is not None
    assert not result.valid
    assert result.number == "42070419800101001X"
    assert result.birth_date == "1980-01-01"


@pytest.mark.parametrize(
    "written",
    [
        "1990-01-02",
        "19900102",
        "1990年1月2日",
        "1990/1/2",
        "1990.1.2",
        "1990-1-2 00:00:00",
        "一九九〇年一月二日",
        "１９９０－０１－０２",
    ],
)
def test_birth_dates_in_every_common_form(written: str) -> None:
    assert normalise_birth_date(written) == "1990-01-02"


def test_chinese_numeral_days_with_tens() -> None:
    assert normalise_birth_date("二〇〇一年十二月三十一日") == "2001-12-31"


def test_unparseable_birth_date_is_empty() -> None:
    assert normalise_birth_date("unknown") is None
    assert normalise_birth_date("") is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("男", "M"),
        ("女", "F"),
        ("male", "M"),
        ("Female", "F"),
        ("1", "M"),
        ("2", "F"),
        ("M", "M"),
        ("9", None),
    ],
)
def test_sex_codes(code: str, expected: str | None) -> None:
    assert normalise_sex(code) == expected


def test_phones_in_any_format_become_e164() -> None:
    assert normalise_phone("138 1234 5678") == "+8613812345678"
    assert normalise_phone("+86-138-1234-5678") == "+8613812345678"
    assert normalise_phone("027-88886666") == "+862788886666"


def test_record_takes_missing_birth_date_and_sex_from_its_valid_id() -> None:
    record = normalise_record(LinkRecord("r1", name="王芳", id_number="420704198001010015"), today=TODAY)
    assert record.dob == "1980-01-01"
    assert record.sex == "M"
    assert record.id_valid and record.id_ok


def test_an_id_number_born_after_the_callers_today_is_not_valid_as_of_that_day() -> None:
    """The engine uses the date it is given, never the wall clock (the real date is later than these)."""
    record = LinkRecord("r1", name="王小雨", id_number=valid_id("420704", "20261130", 2))
    assert not normalise_record(record, today=dt.date(2026, 11, 27)).id_valid
    assert normalise_record(record, today=dt.date(2026, 11, 30)).id_valid


def test_record_whose_id_disagrees_with_its_birth_date_is_flagged() -> None:
    record = normalise_record(
        LinkRecord("r1", name="王芳", birth_date="1981-01-01", id_number="420704198001010015"), today=TODAY
    )
    assert record.id_valid
    assert not record.id_ok


@pytest.mark.parametrize(
    ("syllables", "folded"),
    [
        (["niu", "wei"], "liuwei"),  # n/l
        (["nan"], "lan"),
        (["huang", "ming"], "wangmin"),  # huang/wang, then ing/in
        (["hu"], "fu"),  # h/f before u
        (["hu", "heng"], "fuhen"),  # h stays h before e; eng/en
        (["cheng", "fang"], "chenfang"),  # eng/en; ang is not folded
        (["ling"], "lin"),
        (["zhang", "wei"], "zhangwei"),  # nothing to fold
        (["weng"], "wen"),
        (["hong"], "hong"),  # ong is no en/eng pair, and h before o stays
    ],
)
def test_dialect_folding_per_syllable(syllables: list[str], folded: str) -> None:
    assert fold_dialect(syllables) == folded


def test_dialect_folds_table_is_small_and_well_formed() -> None:
    assert {part for part, _, _ in DIALECT_FOLDS} == {"initial", "final"}
    for _, written, folded in DIALECT_FOLDS:
        assert written.isascii() and folded.isascii() and written != folded
    # huang/wang must be tried before h/f (otherwise 黄 would fold to fuang and never meet 王).
    initials = [written for part, written, _ in DIALECT_FOLDS if part == "initial"]
    assert initials.index("huang") < initials.index("hu")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("刘伟", "牛伟"),
        ("兰芳", "南芳"),
        ("胡军", "傅军"),
        ("黄明", "王明"),
        ("陈芳", "程芳"),
        ("林玲", "林林"),
    ],
)
def test_hubei_near_homophones_share_the_dialect_key(a: str, b: str) -> None:
    na, nb = normalise_name(a), normalise_name(b)
    assert na is not None and nb is not None
    assert na.pinyin != nb.pinyin
    assert na.dialect == nb.dialect


def test_dialect_key_uses_surname_readings_and_compound_surname_syllables() -> None:
    compound = normalise_name("令狐冲")  # ling-hu: both syllables folded (lin, fu)
    assert compound is not None and compound.dialect == "linfuchong"
    shan = normalise_name("单宁")  # surname reading shan, not dan; ning -> lin
    assert shan is not None and shan.dialect == "shanlin"
    zhang, li = normalise_name("张伟"), normalise_name("李伟")
    assert zhang is not None and li is not None and zhang.dialect != li.dialect
    latin = normalise_name("Liu Wei")
    assert latin is not None and latin.dialect is None
