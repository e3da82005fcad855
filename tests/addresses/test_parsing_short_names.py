"""Issue 20, townships and villages written short: a township by its short name before a place's name, or
under the county it belonged to before a redistricting; a village or natural village not in the statistics
bureau's list, read by its shape before its group or door number. Examples of our own from many provinces (not
from any labelled set)."""

from __future__ import annotations

import pytest

from liangshi.addresses.parsing import parse_address


def _fields(text: str) -> dict[str, str]:
    return {k: v for k, v in parse_address(text).to_json().items() if v}


@pytest.mark.parametrize(
    ("text", "township"),
    [
        ("浙江省杭州市西湖区西溪印象城2楼", "西溪"),
        ("广东省佛山市顺德区乐从家具城", "乐从"),
        ("四川省成都市郫都区犀浦恒大城3栋", "犀浦"),
        ("湖北省武汉市洪山区关山光谷广场", "关山"),
        ("江苏省苏州市吴中区木渎古镇", "木渎"),
    ],
)
def test_a_township_by_its_short_name_before_a_place_name(text: str, township: str) -> None:
    assert _fields(text)["township"] == township


@pytest.mark.parametrize(
    ("text", "district", "township", "rest"),
    [
        # 临平街道 went to 临平区 (split off 余杭区, 2021); 民治 to 龙华区 (off 宝安区, 2016); 坑梓 to 坪山区
        # (off 龙岗区, 2016); 义蓬 to 钱塘区 (off 萧山区, 2021): written under the county people knew
        ("余杭区临平荷花塘社区12号", "余杭区", "临平", ("community", "荷花塘社区")),
        ("广东省深圳市宝安区民治梅龙路12号", "宝安区", "民治", ("road", "梅龙路")),
        ("深圳市龙岗区坑梓金沙花园", "龙岗区", "坑梓", ("poi", "金沙花园")),
        ("浙江省杭州市萧山区义蓬商贸城3楼", "萧山区", "义蓬", ("floor", "3")),
    ],
)
def test_a_township_under_the_county_it_was_split_off(
    text: str, district: str, township: str, rest: tuple[str, str]
) -> None:
    got = _fields(text)
    assert (got["district"], got["township"], got[rest[0]]) == (district, township, rest[1])


@pytest.mark.parametrize(
    "text",
    [
        "义乌市福田二区53栋",  # a numbered estate named after the place
        "浙江杭州上城区西湖银泰8楼",  # 西湖 is another county of the city (西湖区), not its 西湖街道
        "浙江省杭州市萧山区临江工业园区",  # a zone named after the place
        "浙江台州市玉环县城北双友股份有限公司",  # 城北: "the north of the town", a generic word
    ],
)
def test_a_short_name_that_names_something_else_is_no_township(text: str) -> None:
    assert "township" not in _fields(text)


@pytest.mark.parametrize(
    ("text", "road"),
    [
        ("海南省海口市美兰区海甸五西路28号", "海甸五西路"),
        ("山东省青岛市黄岛区辛安前港路6号", "前港路"),
        ("余杭区临平大道12号", "临平大道"),  # 临平, a township of the city's 临平区, names the road
        ("杭州市余杭区星桥北路6号", "星桥北路"),
        ("深圳市宝安区西乡大道3号", "西乡大道"),
    ],
)
def test_roads_named_after_a_place_stay_roads(text: str, road: str) -> None:
    assert _fields(text)["road"] == road
