"""Issue 20, stop 30: roads by their number or their two ends, roads named after a division or a place, and a
township's short name before a zone or a numbered avenue — examples of our own from many provinces."""

from __future__ import annotations

import pytest

from liangshi.addresses.parsing import parse_address
from liangshi.addresses.road_names import cuts_road_name, division_road_start, highway


def _fields(text: str) -> dict[str, str]:
    return {k: v for k, v in parse_address(text).to_json().items() if v}


@pytest.mark.parametrize(
    ("text", "road", "number"),
    [
        ("江苏省苏州市吴江区G318国道88号", "G318国道", "88"),
        ("湖北省孝感市孝南区316国道旁加油站", "316国道", None),
        ("河北省保定市徐水区一零七国道北复线8号", "一零七国道北复线", "8"),
        ("四川省乐山市市中区S103省道12号", "S103省道", "12"),
        ("浙江省台州市温岭市温峤镇温新线88号", "温新线", "88"),
        ("安徽省宣城市宁国市宁墩线12号", "宁墩线", "12"),
        ("江西省赣州市南康区唐江镇唐龙线", "唐龙线", None),
    ],
)
def test_highways_by_number_and_roads_by_their_two_ends(text: str, road: str, number: str | None) -> None:
    got = _fields(text)
    assert got["road"] == road
    assert got.get("number") == number


@pytest.mark.parametrize(
    "text",
    [
        "浙江省温州市乐清市某啤酒公司灌装三线",
        "杭州市西湖区森宇物流昆山专线",
        "广东省深圳市南山区阳光新干线12号",
    ],
)
def test_a_word_ending_in_xian_is_no_road(text: str) -> None:
    got = _fields(text)
    assert not (got.get("road") or "").endswith("线")


def test_highway_reads_only_a_road_shape() -> None:
    assert highway("320国道旁", 0) is not None
    assert highway("甬临线东81号", 0) is not None
    assert highway("热线12号", 0) is None  # a word, not a road
    assert highway("灌装三线", 2) is None  # inside a name, not after a place


@pytest.mark.parametrize(
    ("text", "road"),
    [
        ("浙江省温州市温州大道3346号", "温州大道"),
        ("湖北省武汉市武汉大道88号", "武汉大道"),
        ("浙江省宁波市鄞县大道158号", "鄞县大道"),
        ("鄞县大道158号", "鄞县大道"),
    ],
)
def test_a_road_named_after_the_division_before_it(text: str, road: str) -> None:
    assert _fields(text)["road"] == road


@pytest.mark.parametrize(
    ("text", "district", "road"),
    [
        ("浙江省宁波市镇海区南大街327号", "镇海区", "南大街"),  # the county's own 南大街
        ("浙江省宁波市慈溪市西路1769号", "慈溪市", "西路"),
    ],
)
def test_a_directional_street_after_a_full_county_name_is_the_countys(
    text: str, district: str, road: str
) -> None:
    got = _fields(text)
    assert (got["district"], got["road"]) == (district, road)


@pytest.mark.parametrize(
    ("text", "road"),
    [
        ("河南省洛阳市涧西区花园东大道5号", "花园东大道"),
        ("台州市椒江区白云山南路12号", "白云山南路"),
        ("广东省广州市白云区白云山北路3号", "白云山北路"),
        ("北京市东城区安定门东大街101号", "安定门东大街"),
    ],
)
def test_a_place_word_before_a_generic_street_stays_in_the_name(text: str, road: str) -> None:
    got = _fields(text)
    assert got["road"] == road
    assert "township" not in got


def test_cuts_road_name() -> None:
    assert cuts_road_name("东大道") and cuts_road_name("山南路") and cuts_road_name("大道")
    assert not cuts_road_name("兴中路") and not cuts_road_name("湖滨路") and not cuts_road_name("石大路")
    assert division_road_start("浙江省温州市温州大道1号", 8, ("温州市", "温州")) == 6
    assert division_road_start("浙江省宁波市镇海区南大街1号", 9, ("镇海区", "镇海")) == 9


@pytest.mark.parametrize(
    ("text", "township", "road"),
    [
        ("广东省佛山市南海区狮山小塘工业区兴业路3号", "狮山", "兴业路"),
        ("永康市芝英柿后工业区永州北路80号", "芝英", "永州北路"),
        ("江苏省无锡市惠山区洛社石塘湾工业园8号", "洛社", None),
    ],
)
def test_a_townships_short_name_before_a_named_zone_in_it(text: str, township: str, road: str | None) -> None:
    got = _fields(text)
    assert got["township"] == township
    assert got.get("road") == road
    assert got["poi"].endswith(("工业区", "工业园"))


def test_a_townships_short_name_before_its_numbered_avenue() -> None:
    got = _fields("浙江省杭州市江干区下沙12号大街8号")
    assert (got["township"], got["road"], got["number"]) == ("下沙", "12号大街", "8")


@pytest.mark.parametrize(
    ("text", "township", "community", "road"),
    [
        ("浙江省温州市乐清市柳市长虹村长江路12号", "柳市", "长虹村", "长江路"),
        ("福建省泉州市晋江市陈埭岸兜村岸兜路5号", "陈埭", "岸兜村", "岸兜路"),
        ("浙江省台州市玉环市大麦屿五一村龙山南路7号", "大麦屿", "五一村", "龙山南路"),
    ],
)
def test_a_townships_short_name_then_its_village_then_the_road(
    text: str, township: str, community: str, road: str
) -> None:
    got = _fields(text)
    assert (got["township"], got["community"], got["road"]) == (township, community, road)


@pytest.mark.parametrize(
    ("text", "township", "absent"),
    [
        ("龙华街道清湖城北区8栋", "龙华街道", "城北区"),  # 城北区 (西宁) inside a place's name
        ("西店镇南部滨海新区海景路9号", "西店镇", "滨海新区"),  # 滨海新区 (天津) inside a zone's name
    ],
)
def test_a_township_first_keeps_a_far_countys_name_inside_a_place(
    text: str, township: str, absent: str
) -> None:
    got = _fields(text)
    assert got["township"] == township
    assert got.get("district") != absent
    assert absent in got["poi"]


def test_a_township_first_then_its_own_divisions_reads_them() -> None:
    got = _fields("姜山镇浙江省宁波市鄞州区振兴路310号")
    assert (got["city"], got["district"]) == ("宁波市", "鄞州区")


@pytest.mark.parametrize(
    ("text", "township", "community"),
    [
        (
            "江苏省苏州市吴江区菀坪三扇村18号",
            "菀坪",
            "三扇村",
        ),  # a former township, then a village of the county
        ("四川省成都市双流区籍田三峨湖村5组", "籍田", "三峨湖村"),
        ("浙江省台州市临海市上盘镇上盘金杏灯村", "上盘镇", "金杏灯村"),  # the township's short name again
        ("江苏省苏州市吴江区黎里镇黎里三扇村", "黎里镇", "三扇村"),
    ],
)
def test_a_place_name_glued_before_a_known_village(text: str, township: str, community: str) -> None:
    got = _fields(text)
    assert (got["township"], got["community"]) == (township, community)


def test_a_village_by_its_pattern_alone_is_kept_whole() -> None:
    assert _fields("江苏省苏州市吴江区三扇村18号")["community"] == "三扇村"
    assert _fields("湖南省长沙市望城区茶亭镇某某新塘村")["community"].endswith("新塘村")


@pytest.mark.parametrize(
    ("text", "township", "road"),
    [
        ("宁波市高新区江南路2703号", "高新区", "江南路"),
        ("四川省成都市武侯区高新区蜀锦路237号", "高新区", "蜀锦路"),
        ("山东省济南市国家高新区舜华路1号", "国家高新区", "舜华路"),
        (
            "浙江省宁波市高新区梅墟街道梅墟北二路10号",
            "梅墟街道",
            "梅墟北二路",
        ),  # the township inside the zone
    ],
)
def test_a_high_tech_zone_written_alone_is_the_township_level(text: str, township: str, road: str) -> None:
    got = _fields(text)
    assert (got["township"], got["road"]) == (township, road)


def test_a_road_named_for_the_zone_is_a_road() -> None:
    assert _fields("广东省佛山市禅城区高新区路8号").get("township") is None


@pytest.mark.parametrize(
    ("text", "building", "unit", "room"),
    [
        ("湖南省长沙市岳麓区麓谷4季花城17栋2单元1302", "17", "2", "1302"),
        ("浙江省嘉兴市南湖区东栅4季新城12幢3单元501", "12", "3", "501"),
        ("河北省石家庄市长安区丽都3号院7栋1单元602", "7", "1", "602"),
    ],
)
def test_a_short_bare_number_inside_a_place_name_is_no_room(
    text: str, building: str, unit: str, room: str
) -> None:
    got = _fields(text)
    assert (got["building"], got["unit"], got["room"]) == (building, unit, room)


def test_a_bare_room_number_before_a_note_is_still_the_room() -> None:
    assert _fields("福建省厦门市思明区莲前西路2号501电联")["room"] == "501"
