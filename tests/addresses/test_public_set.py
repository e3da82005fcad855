"""Addresses as the public writes them: an evaluation set from outside the code's tables, the misread classes
of issue 20, and bad input that gets an answer saying what could not be read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liangshi.addresses.parsing import ADDRESS_FIELDS, parse_address
from tests.addresses.public_set import load

ROWS = load()
PROVINCES = {
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区",
    "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省",
    "宁夏回族自治区", "新疆维吾尔自治区",
}  # fmt: skip


def test_the_public_set_is_large_and_covers_every_province() -> None:
    assert len(ROWS) >= 200
    assert {expected["province"] for _, _, expected in ROWS} >= PROVINCES
    assert {source for source, _, _ in ROWS} == {"issue20", "hand", "jio"}


def test_field_accuracy_on_the_public_set_is_at_least_97_percent_on_every_field() -> None:
    right = dict.fromkeys(ADDRESS_FIELDS, 0)
    for _, text, expected in ROWS:
        got = parse_address(text).to_json()
        for name in ADDRESS_FIELDS:
            right[name] += got[name] == expected[name]
    accuracy = {name: right[name] / len(ROWS) for name in ADDRESS_FIELDS}
    assert min(accuracy.values()) >= 0.97, accuracy


@pytest.mark.parametrize(
    ("text", "province", "city", "district"),
    [
        ("13907110000湖北省武汉市洪山区珞喻路1037号", "湖北省", "武汉市", "洪山区"),
        ("+8613907110000 湖北省武汉市洪山区珞喻路1037号", "湖北省", "武汉市", "洪山区"),
        ("我家的地址是湖北省鄂州市鄂城区滨湖南路28号", "湖北省", "鄂州市", "鄂城区"),
        ("收货地址：江苏省常州市天宁区延陵西路23号", "江苏省", "常州市", "天宁区"),
        ("鄂州 湖北省鄂州市鄂城区滨湖南路28号", "湖北省", "鄂州市", "鄂城区"),
    ],
)
def test_text_before_the_province_is_looked_past(text: str, province: str, city: str, district: str) -> None:
    parsed = parse_address(text)
    assert (parsed.province, parsed.city, parsed.district, parsed.road) == (
        province,
        city,
        district,
        parsed.road,
    )
    assert parsed.road is not None and parsed.road[:2] not in {"湖北", "江苏", "我家"}
    assert "text_before_address" in parsed.notes or text.startswith("鄂州")


@pytest.mark.parametrize(
    "text",
    ["湖北-武汉-洪山区-珞喻路1037号", "湖北 武汉 洪山区 珞喻路1037号", "湖北,武汉,洪山区,珞喻路1037号"],
)
def test_separators_between_division_names_are_dropped(text: str) -> None:
    parsed = parse_address(text)
    assert (parsed.province, parsed.city, parsed.district) == ("湖北省", "武汉市", "洪山区")
    assert (parsed.road, parsed.number) == ("珞喻路", "1037")


def test_a_repeated_municipality_name_is_not_a_long_abolished_county() -> None:
    parsed = parse_address("上海上海市浦东新区张杨路500号")
    assert (parsed.city, parsed.district, parsed.road) == ("上海市", "浦东新区", "张杨路")
    # a district of the same name as its city is not taken for a repetition
    assert parse_address("湖北省恩施州恩施市舞阳大街5号").district == "恩施市"


def test_dash_numbers_are_building_unit_room() -> None:
    three = parse_address("鄂州市鄂城区滨湖南路12-3-501")
    assert (three.number, three.building, three.unit, three.room) == (None, "12", "3", "501")
    two = parse_address("鄂州市鄂城区吴都花园59-1310")
    assert (two.building, two.room, two.poi) == ("59", "1310", "吴都花园")
    # a door number with 号 stays a door number
    assert parse_address("鄂州市滨湖南路28-3号3栋2单元501室").number == "28-3"


def test_a_lane_number_is_part_of_the_road_not_the_room() -> None:
    parsed = parse_address("上海市长宁区愚园路1088弄12号601室")
    assert (parsed.road, parsed.number, parsed.room) == ("愚园路1088弄", "12", "601")


def test_a_short_autonomous_county_name_does_not_leak_into_the_township() -> None:
    parsed = parse_address("云南省大理州巍山县南诏镇文华路12号")
    assert (parsed.district, parsed.township) == ("巍山彝族回族自治县", "南诏镇")


def test_a_door_number_in_chinese_numerals_is_a_number() -> None:
    assert parse_address("湖北省鄂州市鄂城区花园路二十七号").number == "27"
    assert parse_address("浙江省杭州市拱墅区湖墅南路一百零八号").number == "108"


def test_a_city_without_shi_is_not_glued_onto_the_road() -> None:
    parsed = parse_address("鄂州花园路12号")
    assert (parsed.city, parsed.road, parsed.number) == ("鄂州市", "花园路", "12")
    assert parse_address("黑龙江哈尔滨道里区中央大街100号").district == "道里区"


def test_a_historic_name_is_kept_with_the_current_name_and_code() -> None:
    parsed = parse_address("湖北省襄樊市樊城区人民路1号")
    assert parsed.city == "襄樊市"
    assert parsed.current == {"city": "襄阳市"}
    assert parsed.code == "420606"
    assert parsed.details()["current"] == {"city": "襄阳市"}


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("，。！？——……", "no_address_text"),
        ("!!!???", "no_address_text"),
        ("火星乌托邦平原幸福路8号", "no_division"),
        ("Room 501, 湖北省鄂州市滨湖南路28号", "text_before_address"),
        ("湖北省鄂州市滨湖南路28号 ソウル 서울", "unread_characters"),
        ("湖北省鄂州市滨湖南路28号🏠", "unread_characters"),
        ("鄂" * 10_000, "too_long"),
        ("湖北省鄂州市" + "滨湖南路28号" * 2_000, "too_long"),
    ],
)
def test_bad_input_gets_an_answer_saying_what_could_not_be_read(text: str, note: str) -> None:
    parsed = parse_address(text)
    assert note in parsed.notes
    assert list(parsed.to_json()) == list(ADDRESS_FIELDS)


def test_an_address_with_mixed_scripts_still_reads_its_chinese_parts() -> None:
    parsed = parse_address("Room 501, 湖北省鄂州市滨湖南路28号")
    assert (parsed.province, parsed.city, parsed.road, parsed.number) == (
        "湖北省",
        "鄂州市",
        "滨湖南路",
        "28",
    )


_PIECES = list("湖北省鄂州市区县路号栋单元室弄-—12３４五十 ,，A#🏠ソ서")
_ADDRESSY = st.text(alphabet=st.sampled_from(_PIECES), max_size=80)


@settings(max_examples=300, deadline=None)
@given(_ADDRESSY | st.text())
def test_any_text_gets_an_answer_never_an_exception(text: str) -> None:
    parsed = parse_address(text)
    assert list(parsed.to_json()) == list(ADDRESS_FIELDS)
    assert parsed.notes or any(parsed.to_json().values())
