"""The township and village gazetteer (jionlp's china_location data) and what the parser reads with it."""

from __future__ import annotations

import pytest

from liangshi.addresses.gazetteer import Gazetteer, gazetteer, load, short_name
from liangshi.addresses.parsing import parse_address

SAMPLE = (
    "浙江省\t330000\t浙江\n"
    "\t温州市\t330300\t温州\n"
    "\t\t乐清市\t330382\t乐清\n"
    "\t\t\t柳市镇\n"
    "\t\t\t\t七里村\n"
    "\t\t\t\t上园社区\n"
    "\t\t\t乐成街道\n"
    "\t\t\t\t城东社区\n"
    "\t\t瑞安市\t330381\t瑞安\n"
    "\t\t\t塘下镇\n"
    "\t\t\t\t陈宅村\n"
)


def test_load_indexes_townships_by_county_city_and_province_and_villages_by_township() -> None:
    g = load(SAMPLE)
    assert g.towns("330382") == {
        "柳市镇": "柳市镇",
        "柳市": "柳市镇",
        "乐成街道": "乐成街道",
        "乐成": "乐成街道",
    }
    # a county the data does not know (abolished, or a city code) falls back to the city's townships
    assert g.towns("330399")["塘下"] == "塘下镇"
    assert g.towns_wide("330000")["塘下镇"] == "塘下镇" and g.towns_wide(None)["柳市"] == "柳市镇"
    assert g.county("3303", "塘下镇") == "330381" and g.county("330382", "柳市镇") == "330382"
    assert g.villages("330382", "柳市镇") == {
        "七里村": "七里村",
        "七里": "七里村",
        "上园社区": "上园社区",
        "上园": "上园社区",
    }
    assert g.villages("330382", "乐成街道") == {"城东社区": "城东社区", "城东": "城东社区"}
    assert g.villages("330381", "柳市镇") == {} and g.villages(None, None) == {}
    assert g.county_wide(None, "柳市镇") == "330382"


def test_short_names_keep_two_characters_and_never_end_in_a_road_word() -> None:
    assert short_name("柳市镇") == "柳市" and short_name("临平街道") == "临平"
    assert short_name("乡") is None and short_name("友谊路街道") is None and short_name("东街道") is None


def test_an_empty_gazetteer_answers_nothing() -> None:
    g = Gazetteer()
    assert g.towns("330382") == {} and g.towns_wide(None) == {} and g.villages("330382", "柳市镇") == {}
    assert load("").towns("330382") == {}


def test_the_country_s_gazetteer_is_installed() -> None:
    g = gazetteer()  # jionlp is a dependency: its dictionary must be there
    assert len(g.towns_national) > 40_000 and g.towns("420704")  # 鄂城区 has its townships


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a township by its short name before a road
        (
            "温州乐清市柳市兴隆中路125号",
            {"district": "乐清市", "township": "柳市", "road": "兴隆中路", "number": "125"},
        ),
        # the district written twice, then the township
        (
            "浙江省宁波市宁海县宁海县长街镇五福村",
            {"district": "宁海县", "township": "长街镇", "community": "五福村"},
        ),
        # the whole chain written twice
        (
            "浙江省金华市永康市浙江省金华市永康市龙山镇后宅发展路204号",
            {"district": "永康市", "township": "龙山镇", "road": "发展路"},
        ),
        # a county-level city by its short name, confirmed by its township
        (
            "瑞安塘下镇陈宅村广场西路1093号",
            {"district": "瑞安市", "township": "塘下镇", "community": "陈宅村"},
        ),
        # 市区 between the city and its county
        (
            "广东省惠州市区博罗县福田镇营盘吓村",
            {"district": "博罗县", "township": "福田镇", "community": "营盘吓村"},
        ),
        # a village's short name before its door number
        ("浙江台州市黄岩区北城浦西455号", {"township": "北城", "community": "浦西", "number": "455"}),
        # the county read after a placeholder in a municipality
        ("上海市-市辖区-虹口区花园路145弄10号楼", {"district": "虹口区", "building": "10"}),
        # the county written again by its short name before its township
        (
            "浙江省金华义乌市义乌后宅街道鹤田村",
            {"district": "义乌市", "township": "后宅街道", "community": "鹤田村"},
        ),
        # 北区 alone after unread text is no district
        (
            "凤阳街道中大瑞康路银岭皮革交易中心北区D113号",
            {"district": None, "township": "凤阳街道", "road": "中大瑞康路"},
        ),
        # 青岛市南区 is 青岛 and 市南区
        ("山东青岛市南区香港中路18号", {"city": "青岛市", "district": "市南区", "road": "香港中路"}),
        # a zone before the road is a place, not part of the road's name
        ("黄龙工业区群山路12号", {"road": "群山路", "number": "12", "poi": "黄龙工业区", "township": None}),
    ],
)
def test_the_gazetteer_reads_townships_and_villages_as_written(
    text: str, expected: dict[str, str | None]
) -> None:
    got = parse_address(text).to_json()
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "road"),
    [
        ("上海市宝山区友谊路一百号", "友谊路"),  # 友谊路街道 exists: the road is still a road
        ("海南省海口市美兰区海甸五西路28号", "海甸五西路"),  # 海甸街道 exists: a road named after the place
        ("重庆重庆市江北区观音桥步行街8号", "观音桥步行街"),
        ("滨湖楠路5号", "滨湖楠路"),  # a mistyped road is not a township and a one-character road
    ],
)
def test_a_road_named_after_a_township_stays_whole(text: str, road: str) -> None:
    got = parse_address(text)
    assert got.road == road and got.township is None
