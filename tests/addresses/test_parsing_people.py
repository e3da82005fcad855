"""The classes of issue 20's misses on addresses written by the public, one test per class, with examples of our
own from many provinces (not from any labelled set)."""

from __future__ import annotations

import pytest

from liangshi.addresses.matching import road_likeness
from liangshi.addresses.parsing import MAX_ADDRESS_LENGTH, parse_address


def _fields(text: str) -> dict[str, str]:
    return {k: v for k, v in parse_address(text).to_json().items() if v}


def _divisions(text: str) -> tuple[str | None, str | None, str | None]:
    got = parse_address(text)
    return got.province, got.city, got.district


@pytest.mark.parametrize(
    ("text", "divisions", "road", "number"),
    [
        ("电话13812345678四川省成都市武侯区人民南路12号", ("四川省", "成都市", "武侯区"), "人民南路", "12"),
        ("0871-65123456云南省昆明市五华区青年路389号", ("云南省", "昆明市", "五华区"), "青年路", "389"),
        ("我家的地址是广东省广州市天河区天河路208号", ("广东省", "广州市", "天河区"), "天河路", "208"),
        ("收货地址:江苏省南京市玄武区中山路18号", ("江苏省", "南京市", "玄武区"), "中山路", "18"),
        ("南京南京市鼓楼区中山北路30号", ("江苏省", "南京市", "鼓楼区"), "中山北路", "30"),
    ],
)
def test_text_before_the_province_is_looked_past(
    text: str, divisions: tuple[str, str, str], road: str, number: str
) -> None:
    got = _fields(text)
    assert _divisions(text) == divisions
    assert (got["road"], got["number"]) == (road, number)


@pytest.mark.parametrize(
    ("text", "divisions", "road"),
    [
        ("甘肃-兰州-城关区-庆阳路77号", ("甘肃省", "兰州市", "城关区"), "庆阳路"),
        ("黑龙江省 哈尔滨市 南岗区 西大直街92号", ("黑龙江省", "哈尔滨市", "南岗区"), "西大直街"),
        ("河南省,郑州市,金水区,花园路8号", ("河南省", "郑州市", "金水区"), "花园路"),
        ("山东省/济南市/历下区/泉城路180号", ("山东省", "济南市", "历下区"), "泉城路"),
    ],
)
def test_separators_between_divisions(text: str, divisions: tuple[str, str, str], road: str) -> None:
    assert _divisions(text) == divisions
    assert _fields(text)["road"] == road


@pytest.mark.parametrize(
    ("text", "municipality", "district"),
    [
        ("上海上海市徐汇区漕溪北路88弄5号", "上海市", "徐汇区"),
        ("重庆重庆市渝中区民权路28号", "重庆市", "渝中区"),
        ("天津天津市和平区南京路189号", "天津市", "和平区"),
        ("北京北京市海淀区中关村大街27号", "北京市", "海淀区"),
    ],
)
def test_a_municipality_written_twice_is_the_municipality(
    text: str, municipality: str, district: str
) -> None:
    got = parse_address(text)
    assert (got.province, got.city, got.district) == (municipality, municipality, district)
    assert not got.current and "historic_district" not in got.notes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # after a road with no 号: building-unit-room, building-room
        ("北京市朝阳区望京西路12-3-501", {"building": "12", "unit": "3", "room": "501"}),
        ("浙江省杭州市西湖区文三路59-1310", {"building": "59", "room": "1310"}),
        # after a plate number with 号
        (
            "河北省石家庄市长安区中山东路12号3-2-501",
            {"number": "12", "building": "3", "unit": "2", "room": "501"},
        ),
        # after a building: unit and room
        ("江苏省苏州市姑苏区翠园小区3栋2-501", {"building": "3", "unit": "2", "room": "501"}),
        ("福建省厦门市思明区莲花五村12幢-4-1102", {"building": "12", "unit": "4", "room": "1102"}),
        # four parts: building, unit, floor, room
        (
            "浙江省温州市苍南县灵溪镇双益小区2-6-5-1187",
            {"building": "2", "unit": "6", "floor": "5", "room": "1187"},
        ),
        # a lettered unit
        ("天津市南开区梓苑路41号4-D-1259", {"number": "41", "building": "4", "unit": "D", "room": "1259"}),
        # after an estate's or building's name: building and unit
        ("湖南省长沙市岳麓区麓山南路银杉花园16-3号", {"road": "麓山南路", "building": "16", "unit": "3"}),
        ("陕西省西安市雁塔区金辉大厦东座146-6", {"building": "146", "unit": "6"}),
        # a range of rooms and of plates, kept whole
        ("广西南宁市青秀区民族大道100号金湖大厦605-606室", {"number": "100", "room": "605-606"}),
        ("吉林省长春市朝阳区解放大路1077-1083号", {"road": "解放大路", "number": "1077-1083"}),
        # a dash typed as the numeral one
        ("安徽省合肥市蜀山区长江西路8号华府12一3一501", {"building": "12", "unit": "3", "room": "501"}),
    ],
)
def test_dash_numbers_are_read_by_their_shape_and_context(text: str, expected: dict[str, str]) -> None:
    got = _fields(text)
    assert {k: got.get(k) for k in expected} == expected


def test_a_door_number_with_a_sub_number_after_its_road_stays_the_door_number() -> None:
    got = _fields("湖北省鄂州市鄂城区凤凰街道滨湖社区滨湖南路28-3号3栋2单元501室")
    assert (got["number"], got["building"], got["unit"], got["room"]) == ("28-3", "3", "2", "501")


@pytest.mark.parametrize(
    ("text", "road", "number", "room"),
    [
        ("上海市静安区康定路1200弄3号", "康定路1200弄", "3", None),
        ("上海市长宁区愚园路1088弄12号301室", "愚园路1088弄", "12", "301"),
        ("上海市黄浦区南京东路353弄", "南京东路", "353弄", None),
        ("江苏省苏州市姑苏区十全街28弄", "十全街", "28弄", None),
    ],
)
def test_a_lane_is_never_the_room(text: str, road: str, number: str, room: str | None) -> None:
    got = parse_address(text)
    assert (got.road, got.number, got.room) == (road, number, room)


@pytest.mark.parametrize(
    ("text", "district", "township"),
    [
        ("云南省红河州屏边县玉屏镇", "屏边苗族自治县", "玉屏镇"),
        ("广西河池市都安县安阳镇", "都安瑶族自治县", "安阳镇"),
        ("新疆伊犁州察布查尔县察布查尔镇", "察布查尔锡伯自治县", "察布查尔镇"),
        ("四川省凉山州木里县乔瓦镇", "木里藏族自治县", "乔瓦镇"),
        ("湖北省宜昌市长阳县龙舟坪镇", "长阳土家族自治县", "龙舟坪镇"),
    ],
)
def test_a_short_autonomous_county_name_is_the_county_not_part_of_the_township(
    text: str, district: str, township: str
) -> None:
    got = parse_address(text)
    assert (got.district, got.township) == (district, township)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "柳州市城中区文惠路二十七号三栋五单元十二楼",
            {"number": "27", "building": "3", "unit": "5", "floor": "12"},
        ),
        ("甘肃省兰州市七里河区西津西路第一百零五号", {"number": "105"}),
        ("江西省南昌市东湖区八一大道三百五十七号", {"road": "八一大道", "number": "357"}),
        ("宁夏银川市兴庆区解放东街第三十号四幢二单元", {"number": "30", "building": "4", "unit": "2"}),
        ("浙江省杭州市萧山区井岭路佳乐苑二栋一单749", {"building": "2", "unit": "1", "room": "749"}),
        ("浙江省诸暨市浣东街道东方俊园55五单元1213室", {"building": "55", "unit": "5", "room": "1213"}),
    ],
)
def test_chinese_numerals_in_door_building_unit_and_floor_numbers(
    text: str, expected: dict[str, str]
) -> None:
    got = _fields(text)
    assert {k: got.get(k) for k in expected} == expected


def test_a_mistyped_road_is_kept_as_written_and_ranked_against_the_street() -> None:
    got = _fields("湖北省鄂州市鄂城区花圆路12号")
    assert (got["district"], got["road"], got["number"]) == ("鄂城区", "花圆路", "12")
    assert road_likeness(got["road"], "花园路") == (0.85, "homophone")
    assert road_likeness("解放大道", "解放大到") == (0.85, "homophone")


@pytest.mark.parametrize(
    ("text", "city", "district", "road"),
    [
        ("鄂州花园路12号", "鄂州市", None, "花园路"),
        ("温州人民路100号", "温州市", None, "人民路"),
        ("襄阳人民路12号", "襄阳市", None, "人民路"),
        ("嘉善世纪大道东方润园87-2221", "嘉兴市", "嘉善县", "世纪大道"),
        ("浙江-杭州-下城区杭州石大路货运市场8-5室", "杭州市", "下城区", "石大路"),
        ("浙江省丽水市缙云县丽水缙云县大桥北路1174号", "丽水市", "缙云县", "大桥北路"),
    ],
)
def test_a_division_without_its_suffix_is_not_glued_onto_the_road(
    text: str, city: str, district: str | None, road: str
) -> None:
    got = parse_address(text)
    assert (got.city, got.district, got.road) == (city, district, road)


@pytest.mark.parametrize("road", ["杭州南路", "中山北路", "南京西路"])
def test_a_road_named_after_a_division_keeps_its_name(road: str) -> None:
    assert parse_address(f"浙江省杭州市西湖区{road}8号").road == road


def test_a_historic_name_is_kept_with_the_current_name_and_code() -> None:
    got = parse_address("湖北省襄樊市樊城区人民路1号")
    assert (got.city, got.current, got.code) == ("襄樊市", {"city": "襄阳市"}, "420606")


@pytest.mark.parametrize(
    "text",
    [
        "1-" * 5000,
        "12-" * 3400,
        "605-606-" * 1300,
        "1-2-3-" * 1700,
        "花园1-" * 3000,
        "3栋2-" * 2500,
        "1弄" * 5000,
        "浙江省杭州市ab12-3栋a単元あ한" * 400,
    ],
)
def test_adversarial_long_text_is_read_only_at_its_start(text: str) -> None:
    got = parse_address(text)
    assert "too_long" in got.notes
    assert all(len(v or "") <= MAX_ADDRESS_LENGTH for v in got.to_json().values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("广东省广州市天河区天河路385号太古汇12F19-20", {"floor": "12", "room": "19-20"}),
        ("四川省成都市锦江区红星路三段1号IFS7F1040", {"floor": "7", "room": "1040"}),
        ("浙江省温州市鹿城区温迪路284号雄鹰组团29幢101、102号", {"building": "29", "room": "101-102"}),
        ("贵州省贵阳市云岩区中华北路167、169、171号", {"road": "中华北路", "number": "167-171"}),
        ("湖南省长沙市芙蓉区五一大道尚坤大厦409", {"road": "五一大道", "number": None, "room": "409"}),
    ],
)
def test_floors_lists_and_rooms_in_a_building_named(text: str, expected: dict[str, str | None]) -> None:
    got = _fields(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "江苏省南京市鼓楼区中山路与汉中路交叉口北100米金鹰广场",
            {"road": "中山路", "number": None, "room": None},
        ),
        ("山西省太原市小店区长风街往东3公里", {"road": "长风街", "number": None, "room": None}),
        ("河南省郑州市金水区经三路8号大街口", {"road": "经三路", "number": None, "room": None}),
        ("广东省佛山市南海区桂城街道海三路3号门卫室西2门", {"road": "海三路", "room": None}),
        (
            "吉林省长春市南关区人民大街14号农村商业银行",
            {"road": "人民大街", "number": "14", "community": None},
        ),
        ("青海省西宁市城中区南大街66一5一3o7", {"building": "66", "unit": "5", "room": "307"}),
    ],
)
def test_distances_gates_and_typed_numbers_are_not_door_numbers(
    text: str, expected: dict[str, str | None]
) -> None:
    got = _fields(text)
    assert {k: got.get(k) for k in expected} == expected
