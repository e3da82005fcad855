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


@pytest.mark.parametrize(
    ("text", "township", "community", "rest"),
    [
        ("江苏省盐城市射阳县海河镇王家庄12号", "海河镇", "王家庄", ("number", "12")),
        ("安徽省阜阳市临泉县杨桥镇李庄5组", "杨桥镇", "李庄", ("village_group", "5组")),
        ("四川省南充市仪陇县马鞍镇张家湾3组", "马鞍镇", "张家湾", ("village_group", "3组")),
        ("湖北省黄冈市麻城市白果镇吴家坳18号", "白果镇", "吴家坳", ("number", "18")),
        ("浙江省湖州市德清县新市镇蔡家浜27号", "新市镇", "蔡家浜", ("number", "27")),
        ("山东省临沂市兰山区白沙埠镇诸葛庄8号", "白沙埠镇", "诸葛庄", ("number", "8")),
        ("河南省周口市太康县大许寨乡崔梁庄", "大许寨乡", "崔梁庄", ("township", "大许寨乡")),
    ],
)
def test_a_natural_village_by_its_shape_before_a_door_number_or_a_group(
    text: str, township: str, community: str, rest: tuple[str, str]
) -> None:
    got = _fields(text)
    assert (got["township"], got["community"], got[rest[0]]) == (township, community, rest[1])


@pytest.mark.parametrize(
    "text",
    [
        "江苏省南京市江宁区东山街道金王府花园8号",  # an estate
        "广东省广州市番禺区大石街道丽江花园9栋",
        "浙江省宁波市北仑区柴桥街道芦湾家园148-7-3013",  # 家园 is an estate's word, not 芦湾's village
        "山东省济南市历下区姚家街道燕子山路6号",  # a road after the township
        "河北省石家庄市长安区建北街道金水湾8号楼5单元",  # 8号楼 is a building, not a door number
    ],
)
def test_estates_and_roads_are_no_natural_village(text: str) -> None:
    assert "community" not in _fields(text)


@pytest.mark.parametrize(
    ("text", "community"),
    [
        ("湖南省邵阳市隆回县桃洪镇茶山村村委会", "茶山村村委会"),
        ("广西壮族自治区桂林市灵川县大圩镇熊村村委", "熊村村委"),
        ("浙江省温州市瑞安市马屿镇姜家汇村委会旁", "姜家汇村委会"),
    ],
)
def test_a_village_office_is_part_of_the_village(text: str, community: str) -> None:
    assert _fields(text)["community"] == community


@pytest.mark.parametrize(
    ("text", "township", "community", "poi"),
    [
        ("江西省赣州市于都县罗坳镇大坪乡上屋村", "罗坳镇", "上屋村", "大坪乡"),  # a former township, kept
        ("湖南省益阳市桃江县马迹塘镇龙溪乡百乐村", "马迹塘镇", "百乐村", "龙溪乡"),
        ("浙江省金华市永康市长城工业区陈园村10号", None, "陈园村", "长城工业区"),  # a zone, then the village
        ("云南省澜沧拉沽族自治县富东乡邦崴村", "富东乡", "邦崴村", None),  # the county's name mistyped
    ],
)
def test_a_township_or_zone_glued_before_a_village_is_split_off(
    text: str, township: str | None, community: str, poi: str | None
) -> None:
    got = parse_address(text)
    assert (got.township, got.community, got.poi) == (township, community, poi)


@pytest.mark.parametrize(
    ("text", "community"),
    [
        ("浙江省杭州市余杭区五常街道荆山岭社区", "荆山岭社区"),
        ("江西省宜春市高安市新街镇协塘家自然村151号", "协塘家自然村"),
    ],
)
def test_a_known_village_written_short_does_not_cut_a_longer_name(text: str, community: str) -> None:
    assert _fields(text)["community"] == community


@pytest.mark.parametrize(
    ("text", "township"),
    [
        ("杭州市下沙宝龙城市广场五层", "下沙"),
        ("宁波市庄桥应嘉丽园48栋", "庄桥"),
        ("深圳福永捻田工业区108栋", "福永"),
        ("东莞市虎门万达广场2楼", "虎门"),
    ],
)
def test_a_township_by_its_short_name_right_after_the_city(text: str, township: str) -> None:
    assert _fields(text)["township"] == township


@pytest.mark.parametrize("text", ["广州市石牌桥天河城3楼", "温州市大南门龙泉公寓八幢"])
def test_a_short_name_inside_a_longer_place_name_is_no_township(text: str) -> None:
    assert "township" not in _fields(text)
