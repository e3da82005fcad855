"""Free-text address parsing: a labelled set across the country, field accuracy, and the pieces."""

from __future__ import annotations

import pytest

from liangshi.addresses.parsing import ADDRESS_FIELDS, chinese_number, divisions, parse_address
from tests.addresses.address_labels import LABELLED


def test_the_labelled_set_is_large_and_varied() -> None:
    assert len(LABELLED) >= 60
    provinces = {fields.get("province") for _, fields in LABELLED}
    assert len(provinces) >= 20


@pytest.mark.parametrize(("text", "expected"), LABELLED, ids=[t for t, _ in LABELLED])
def test_labelled_address_is_parsed_into_its_components(text: str, expected: dict[str, str]) -> None:
    assert parse_address(text).to_json() == {name: expected.get(name) for name in ADDRESS_FIELDS}


def test_field_accuracy_on_the_labelled_set() -> None:
    right = dict.fromkeys(ADDRESS_FIELDS, 0)
    for text, expected in LABELLED:
        got = parse_address(text).to_json()
        for name in ADDRESS_FIELDS:
            right[name] += got[name] == expected.get(name)
    accuracy = {name: right[name] / len(LABELLED) for name in ADDRESS_FIELDS}
    print({name: f"{value:.1%}" for name, value in accuracy.items()})
    assert min(accuracy.values()) >= 0.95


def test_to_json_has_exactly_the_thirteen_keys_in_order() -> None:
    assert list(parse_address("").to_json()) == list(ADDRESS_FIELDS)
    assert len(ADDRESS_FIELDS) == 13
    assert all(v is None for v in parse_address("").to_json().values())


@pytest.mark.parametrize(
    ("short", "province"),
    [
        ("湖北", "湖北省"),
        ("广西", "广西壮族自治区"),
        ("新疆", "新疆维吾尔自治区"),
        ("宁夏", "宁夏回族自治区"),
        ("内蒙古", "内蒙古自治区"),
        ("黑龙江", "黑龙江省"),
        ("北京", "北京市"),
        ("香港", "香港特别行政区"),
    ],
)
def test_province_short_forms_are_written_in_full(short: str, province: str) -> None:
    assert parse_address(short).province == province


@pytest.mark.parametrize(
    ("short", "city"), [("鄂州", "鄂州市"), ("武汉", "武汉市"), ("恩施州", "恩施土家族苗族自治州")]
)
def test_city_short_forms_are_written_in_full_with_their_province(short: str, city: str) -> None:
    parsed = parse_address(short)
    assert (parsed.province, parsed.city) == ("湖北省", city)


def test_a_district_is_resolved_under_the_city_already_found() -> None:
    # 朝阳区 exists in Beijing and in Changchun; 鼓楼区 in Nanjing, Fuzhou, Xuzhou, Kaifeng.
    assert parse_address("长春市朝阳区人民大街1号").province == "吉林省"
    assert parse_address("北京市朝阳区建国路1号").city == "北京市"
    assert parse_address("福州市鼓楼区五四路1号").province == "福建省"


def test_an_ambiguous_district_alone_leaves_city_and_province_empty() -> None:
    parsed = parse_address("朝阳区建国路88号")
    assert (parsed.province, parsed.city, parsed.district) == (None, None, "朝阳区")


def test_a_short_name_followed_by_a_street_word_is_a_road_not_a_division() -> None:
    assert parse_address("武汉市江汉路118号").district is None
    assert parse_address("鄂州市鄂城大道8号").to_json()["road"] == "鄂城大道"
    assert parse_address("滨湖南路28号").district is None


def test_historic_division_names_are_still_recognised() -> None:
    parsed = parse_address("北京市崇文区前门大街1号")
    assert (parsed.city, parsed.district, parsed.road) == ("北京市", "崇文区", "前门大街")


def test_floor_is_only_given_when_written() -> None:
    assert parse_address("鄂州市滨湖南路28号3栋2单元501室").floor is None
    assert parse_address("鄂州市滨湖南路28号5层").floor == "5"
    assert parse_address("鄂州市滨湖南路28号负1层").floor == "-1"


@pytest.mark.parametrize(
    ("written", "building"),
    [
        ("3栋", "3"),
        ("3幢", "3"),
        ("3号楼", "3"),
        ("三栋", "3"),
        ("第十二栋", "12"),
        ("B座", "B"),
        ("3#楼", "3"),
    ],
)
def test_building_is_a_bare_number(written: str, building: str) -> None:
    assert parse_address(f"鄂州市滨湖南路28号{written}").building == building


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("28号", "28"),
        ("28-3号", "28-3"),
        ("88附2号", "88附2"),
        ("12号之一", "12-1"),
        ("甲12号", "甲12"),
        ("１２号", "12"),
        ("12號", "12"),
        ("12－1号", "12-1"),
    ],
)
def test_door_number_keeps_sub_numbers(written: str, number: str) -> None:
    assert parse_address(f"鄂州市洋澜路{written}").number == number


def test_traditional_characters_spaces_and_punctuation_are_tolerated() -> None:
    parsed = parse_address(" 湖北省，鄂州市 鄂城区（滨湖南路）28號３棟２單元５０１室 ")
    assert (parsed.road, parsed.number, parsed.building, parsed.unit, parsed.room) == (
        "滨湖南路",
        "28",
        "3",
        "2",
        "501",
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十一", 21),
        ("一百零五", 105),
        ("五零一", 501),
        ("两", 2),
        ("abc", None),
        ("", None),
    ],
)
def test_chinese_numbers(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


def test_division_index_covers_the_whole_country() -> None:
    index, _ = divisions()
    for name in (
        "鄂城区",
        "梁子湖区",
        "华容区",
        "江岸区",
        "青秀区",
        "天山区",
        "浦东新区",
        "拉萨市",
        "三沙市",
    ):
        assert any(c.full for c in index[name]), name
