"""Readings of addresses as people write them (issue 20): parts glued together, dash and underscore numbers,
market sections, a mistyped building word. Each case is a class of the third-party set's misses."""

from __future__ import annotations

import pytest

from liangshi.addresses.parsing import parse_address


def _fields(text: str) -> dict[str, str]:
    return {k: v for k, v in parse_address(text).to_json().items() if v}


def test_a_township_written_after_its_development_zone_is_the_township() -> None:
    got = _fields("杭州经济技术开发区下沙街道幸福南路8号")
    assert got["township"] == "下沙街道"
    assert got["road"] == "幸福南路"
    assert got["number"] == "8"
    assert "经济技术开发区" in got["poi"]


def test_a_village_written_before_its_road_is_the_community() -> None:
    got = _fields("浙江省台州市天台县紫东新村和春路113号")
    assert (got["community"], got["road"], got["number"]) == ("紫东新村", "和春路", "113")


def test_a_road_written_before_the_village_on_it_is_the_road() -> None:
    got = _fields("和睦街道莫干山路乡邻村176号")
    assert (got["road"], got["community"], got["number"]) == ("莫干山路", "乡邻村", "176")


@pytest.mark.parametrize(
    "text, road",
    [
        ("浙江省杭州市张村南路5号", "张村南路"),  # a direction then 路: the village names the road
        ("北京市朝阳区三里屯村东路", "三里屯村东路"),
        ("浙江省杭州市新村路5号", "新村路"),
    ],
)
def test_a_road_named_after_a_village_stays_one_road(text: str, road: str) -> None:
    got = _fields(text)
    assert got["road"] == road
    assert "community" not in got


@pytest.mark.parametrize(
    "text, building, unit, room",
    [
        ("虎滩路685号7-5-4", "7", "5", "4"),  # a one-digit room
        ("南苑街道临东路404号东湖创意园1111-6-L162", "1111", "6", "L162"),
        ("林之语疏桐苑3_6_2101", "3", "6", "2101"),  # underscores between the numbers
        ("林之语疏桐苑3/6/2101", "3", "6", "2101"),
    ],
)
def test_building_unit_and_room_written_with_separators(
    text: str, building: str, unit: str, room: str
) -> None:
    got = _fields(text)
    assert (got["building"], got["unit"], got["room"]) == (building, unit, room)


def test_a_lettered_building_before_a_dash_room() -> None:
    got = _fields("义乌市国际商贸城B6-1074")
    assert (got["building"], got["room"]) == ("B6", "1074")


@pytest.mark.parametrize(
    "text, number",
    [
        ("拱墅区钱江市场8区135号", "135"),  # 8区 is a section of the market, not a room
        ("金华市永康市南苑东路金胜花苑1区130号", "130"),
        ("浙江省杭州市江干区仁爱路九堡家苑3区12排59号", "59"),
    ],
)
def test_a_section_or_row_number_is_neither_room_nor_door_number(text: str, number: str) -> None:
    got = _fields(text)
    assert got["number"] == number
    assert "room" not in got


def test_a_mistyped_building_word_after_a_number_is_the_building() -> None:
    got = _fields("城关西郭洋茶园新村16撞10号")
    assert got["building"] == "16"


def test_a_former_county_written_again_by_its_current_name_is_the_current_county() -> None:
    parsed = parse_address("浙江省杭州市富阳市富阳区银湖街道九龙大道35幢1196房")
    assert (parsed.district, parsed.code) == ("富阳区", "330111")
    assert parsed.township == "银湖街道"
    assert parsed.road == "九龙大道"
    assert "historic_district" not in parsed.notes


def test_a_township_short_name_before_an_estate_under_a_county_read() -> None:
    got = _fields("浙江省杭州市江干区九堡香滨湾花园十九幢6单元852")
    assert got["township"] == "九堡"
    assert got["poi"] == "香滨湾花园"
    assert (got["building"], got["unit"], got["room"]) == ("19", "6", "852")


@pytest.mark.parametrize(
    "text, district, road",
    [
        ("广东省广州市天河区中国浙江省温州市平阳县文昌街", "平阳县", "文昌街"),
        ("浙江省杭州市西湖区浙江省杭州市余杭区良渚街道通济北路", "余杭区", "通济北路"),
        ("广东省深圳市龙岗区广东深圳市平湖凤凰大道102号", "龙岗区", "凤凰大道"),
    ],
)
def test_an_address_written_after_another_region_is_read_from_the_second(
    text: str, district: str, road: str
) -> None:
    got = _fields(text)
    assert (got["district"], got["road"]) == (district, road)
    assert "广东" not in got.get("road", "")


@pytest.mark.parametrize(
    "text, township",
    [
        ("广西壮族自治区贺州市八步区浙江省贤庠镇泰和路625号", "贤庠镇"),
        ("浙江省温州市null浙江温州市龙湾区天河镇二甲村永泰路134号", "天河镇"),
        ("湖北省鄂州市城区街道", "城区街道"),  # a township whose name holds 区: not cut
    ],
)
def test_division_names_written_inside_a_township_are_not_part_of_it(text: str, township: str) -> None:
    assert _fields(text)["township"] == township


def test_a_county_level_city_opening_the_text_alone_is_the_district() -> None:
    got = _fields("乐清南虹广场2153")
    assert (got["district"], got["city"]) == ("乐清市", "温州市")
    assert _fields("滨湖南路").get("district") is None  # a road that begins with a county's short name


@pytest.mark.parametrize(
    "text, unit, room, floor",
    [
        ("锦桥商城12幢4号1203室", "4", "1203", None),  # a number after the building, then a room: the unit
        ("锦桥商城12幢4号5楼", "4", None, "5"),
        ("锦桥商城12幢4号", None, "4", None),  # alone after the building it stays the room
    ],
)
def test_a_number_after_the_building_before_a_room_or_floor_is_the_unit(
    text: str, unit: str | None, room: str | None, floor: str | None
) -> None:
    parsed = parse_address(text)
    assert (parsed.building, parsed.unit, parsed.room, parsed.floor) == ("12", unit, room, floor)


def test_a_postcode_at_the_end_is_not_a_room() -> None:
    got = _fields("浙江省嘉兴市秀洲区王江泾镇栋梁村戴方港49号_314001")
    assert got["number"] == "49"
    assert "room" not in got


@pytest.mark.parametrize("text", ["东新路1185号11F", "东新路1185号11f"])
def test_a_floor_written_with_f(text: str) -> None:
    got = _fields(text)
    assert (got["number"], got["floor"]) == ("1185", "11")
    assert "room" not in got


def test_a_sub_number_does_not_split_a_longer_number() -> None:
    got = _fields("小越镇越兴东路945-1230号")
    assert got["number"] == "945"
    assert got["room"] == "1230"


@pytest.mark.parametrize(
    "text, township",
    [
        ("瓯北镇浦西工业区高驰机器", "瓯北镇"),  # not 北镇, a township of another county
        ("笕桥镇大世界五金城129幢272室", "笕桥镇"),
        ("浙江省宁波市宁海县长街镇", "长街镇"),
    ],
)
def test_a_township_opening_the_text_is_read_whole(text: str, township: str) -> None:
    assert _fields(text)["township"] == township


def test_a_zone_written_after_its_county_short_name_is_named_by_it() -> None:
    got = _fields("杭州市萧山经济技术开发区建设二路")
    assert (got["district"], got["township"], got["road"]) == ("萧山区", "萧山经济技术开发区", "建设二路")


@pytest.mark.parametrize(
    "text, city, district",
    [
        ("义乌国际商贸城四区二楼40573", "金华市", "义乌市"),  # not the 1990s listing 339007 as a city
        ("海宁皮革城6期9楼云龙北路3号", "嘉兴市", "海宁市"),
    ],
)
def test_a_county_level_city_once_listed_under_its_province_is_todays_county(
    text: str, city: str, district: str
) -> None:
    got = _fields(text)
    assert (got["city"], got["district"]) == (city, district)


def test_a_second_township_before_the_road_does_not_name_the_road() -> None:
    got = _fields("杭州市余杭区临平镇星桥街道星发街133号")
    assert (got["township"], got["road"], got["number"]) == ("临平镇", "星发街", "133")


@pytest.mark.parametrize(
    "text, road, number, poi",
    [
        ("国贸路662号嘉兴市毛衫业科技服务大楼", "国贸路", "662", "毛衫业科技服务大楼"),
        ("永丰路177号桐乡市濮新学校", "永丰路", "177", "濮新学校"),
    ],
)
def test_a_road_and_number_written_before_a_place_named_by_its_city(
    text: str, road: str, number: str, poi: str
) -> None:
    parsed = parse_address(text)
    assert (parsed.road, parsed.number, parsed.poi) == (road, number, poi)
    assert parsed.city == "嘉兴市"
    assert "text_before_address" not in parsed.notes


def test_a_bare_number_ending_a_village_address_is_its_door_number() -> None:
    got = _fields("浙江省杭州市萧山区宁围镇新安村1124")
    assert (got["community"], got["number"]) == ("新安村", "1124")
    assert "room" not in got
