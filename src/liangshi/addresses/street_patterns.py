"""The street-level patterns of the address parser (`liangshi.addresses.parsing`): townships, villages, groups,
roads, door numbers, buildings, units, floors and rooms as people write them."""

from __future__ import annotations

import re

CN_NUM = "[零〇一二两三四五六七八九十百]+"

_CJK = "\u4e00-\u9fff"
_NOT_ROAD_AFTER = r"(?!路|街|巷|大道|大街|道|弄|胡同)"
_TOWNSHIP = re.compile(  # 高新区 written alone after its city (宁波市高新区): the high-tech zone, a township-level unit
    rf"(?:国家)?高新区{_NOT_ROAD_AFTER}"
    rf"|[{_CJK}]{{1,12}}?(?:街道办事处|街道办|街道|镇|乡|苏木|经济技术开发区|经济开发区|开发区){_NOT_ROAD_AFTER}"
)
_COMMUNITY = re.compile(
    rf"[{_CJK}A-Za-z\d]{{1,12}}?(?:社区居民委员会|社区居委会|居民委员会|村民委员会|居委会|村委会|社区|(?<!新)村)"
    rf"(?!路|街|巷|大道|大街|道|弄|胡同|小区|委|民委员会|居委会|[东南西北中]{{1,2}}(?:路|街|大道|大街))"
)
_GROUP = re.compile(
    rf"(?:第?(?P<n>\d{{1,3}}|{CN_NUM})|(?P<name>[{_CJK}]{{1,4}}?))(?:村民小组|小组|组)(?![织成合团])"
)
_ROAD_SUFFIX = r"(?:大道|大街|胡同|路|街|巷|道|弄|(?<!公)里)"
# The character before the road word: a Chinese one, or a number after a Chinese one (经3路, 纬2路).
_ROAD_LAST = rf"(?:[{_CJK}]|(?<=[{_CJK}])\d{{1,2}}(?=路|街|大街|大道))"
_ROAD_NUMBERED = re.compile(
    rf"[{_CJK}\dA-Za-z]{{0,14}}?{_ROAD_LAST}{_ROAD_SUFFIX}(?=第?[甲乙丙丁戊己庚辛壬癸]?\d|{CN_NUM}号|$)"
)
_ROAD_ANY = re.compile(rf"[{_CJK}\d]{{0,12}}?{_ROAD_LAST}(?:大道|大街|胡同|路|街|巷)(?![道区坊市口])")
_POI_IN_ROAD = re.compile(
    rf"(?P<poi>.+(?:小区|花园|广场|大厦|中心|园|苑|大学|学院|医院|宾馆|酒店|公寓|"
    rf"工业区|开发区|高新区|新区|园区|工业园|工业城|度假区|化工区|功能区|区块|新城|城|区|市场|农场|基地|站|办事处|"
    rf"\d{{1,3}}楼|管委会|少年宫|文化宫|关口))"
    rf"(?P<road>[{_CJK}]{{2,}}{_ROAD_SUFFIX})$"
)
# A township by its proper suffix (not a zone), and a zone's name (read as the township when no other is).
_TOWNSHIP_PROPER = re.compile(rf"[{_CJK}]{{2,8}}?(?:街道办事处|街道办|街道|镇|乡){_NOT_ROAD_AFTER}")
_ZONE_NAME = re.compile(r"(?:开发区|工业区|园区|工业园|高新区)$")
# A village or community written before its road (紫东新村和春路), the road being a whole name of 3 or more.
_VILLAGE_IN_ROAD = re.compile(
    rf"(?P<community>[{_CJK}]{{1,8}}(?:新村|村|社区))(?P<road>[{_CJK}]{{2,}}(?:大道|大街|路|街|巷))$"
)
# A road written before the village on it (莫干山路乡邻村).
_ROAD_IN_VILLAGE = re.compile(rf"(?P<road>[{_CJK}]{{2,10}}(?:大道|路))(?P<community>[{_CJK}]{{2,8}}村)$")
# 号之一 … 号之十: one numeral, so that `12号之二十六幢` reads as 12-2 and building 16.
_SUB_CN = "[一二三四五六七八九十]"
_NUMBER = re.compile(
    rf"第?(?P<stem>[甲乙丙丁戊己庚辛壬癸])?(?P<base>\d{{1,5}}|{CN_NUM}(?=号))"
    rf"(?:号院?(?!楼|房|院|室|栋|幢|大街|大道|路|街|巷)|(?=[-附之]))"
    rf"(?:(?P<sep>-|附|之)(?P<sub>\d{{1,3}}(?!\d)|{_SUB_CN})号?(?!楼|室|栋|幢|单元))?"
)
# After a village's bare door number: the end, or a building, unit, floor or room.
_VILLAGE_NUMBER_END = re.compile(r"$|[A-Za-z]?\d{0,4}(?:栋|幢|单元|楼|层|室)|号")
_NUMBER_BARE = re.compile(r"(?P<base>\d{1,5})(?![\d栋幢单元楼层室座号#\-附区排街期弄巷段组米门]|公里)")
_COMPACT = re.compile(
    r"(?P<b>[A-Za-z]?\d{1,4})-(?P<u>\d{1,2}|[A-Za-z])-(?P<r>[A-Za-z]?\d{1,4})(?:室|号)?(?![\d\-])"
)
# 59-1310: building and room (a second part of three or four digits, no 号 between: a door number is 28-3号)
_COMPACT_2 = re.compile(r"(?P<b>[A-Za-z]?\d{1,3})-(?P<r>\d{3,4})(?:室)?(?![\d\-号])")
_LANE = re.compile(rf"(?P<n>\d{{1,4}}|{CN_NUM})弄(?=\d|{CN_NUM}号|支弄)")
_BUILDING = re.compile(
    rf"第?(?P<b>\d{{1,4}}|{CN_NUM}|[A-Za-z]\d{{0,3}}|\d{{1,3}}[A-Za-z])"
    rf"(?:号楼|栋|幢|座|#楼?|号?楼(?=第?(?:\d{{1,2}}|{CN_NUM})单元)|(?<=\d)[撞懂]|(?<=\d)(?=第?[一二三四五六七八九十]单元))"
)
# 12幢4号1203室, 12幢4号5楼: after a building, a number followed by a room or a floor is the unit.
_UNIT_HAO = re.compile(
    rf"(?P<u>\d{{1,3}}|{CN_NUM})号(?=\d{{3,4}}(?:室|房)?(?:$|[^\d])|第?(?:\d{{1,2}}|{CN_NUM})(?:楼|层))"
)
_UNIT = re.compile(
    rf"第?(?P<u>\d{{1,2}}|{CN_NUM}|[A-Za-z])(?:单元|单(?=\d{{3,4}}(?!\d)))"
)  # 8单583: 单 for 单元
# After a door number, a number then a floor is the building (金辉西路1015号9号7楼).
_BUILDING_HAO = re.compile(rf"(?P<b>\d{{1,3}}|{CN_NUM})号(?=第?(?:\d{{1,2}}|{CN_NUM})(?:楼|层))")
# A road's name does not hold a floor, a numbered zone or a gate (国际商贸城四区75号门10楼7街 is a market's).
_NOT_IN_ROAD = re.compile(rf"(?:\d|{CN_NUM})(?:楼|层)|\d区|号门")
# A lane written last, no plate after it (虹桥路1335弄): the lane is the door number on the road.
_LANE_LAST = re.compile(rf"(?P<n>\d{{1,4}}|{CN_NUM})弄(?![\d支]|{CN_NUM}号)")
_FLOOR = re.compile(
    rf"(?:第|负|地下|(?<!\d)-)?(?:(?P<f>\d{{1,3}}|{CN_NUM})(?:楼|层)(?!单元)|(?P<f2>\d{{1,2}})[Ff](?![A-Za-z]))"
)
# The end of a building's name: a bare number after it is a room in it (尚坤大厦409), not a door number.
_BUILDING_NAME_END = re.compile(r"(?:大厦|大楼|商厦|广场|中心|写字楼|公寓|商城)$")
# Not a room: a number naming a zone, section, street or row of a market (钱江市场8区135号, 10楼7街41234).
_ROOM = re.compile(
    r"(?<!\d)(?P<r>\d{1,5}|(?<![A-Za-z])[A-Za-z]\d{1,5}|\d{1,4}[A-Za-z])(?:室|房|号房|号(?!门|区|街|楼|大街|大道|路|巷))?"
    r"(?=$|[^\d])(?!区|段|街|巷|期|排|弄|支|横|号门|米|公里|门|组|号(?:大街|大道|路|巷))"
)


# A short name (柳市 for 柳市镇, 浦西 for 浦西村) is not taken when one of these follows it: it begins a road, a
# village, an estate or a number instead (新城路, 江南大道, 下沙6号).
_SHORT_NAME_BLOCK = re.compile(
    r"(?:[东南西北中]{1,2}(?:路|街|大道|大街|巷)|路|街|大道|大街|巷|道|弄|胡同|里|村|社区|小区|花园|新村|公寓|大厦|广场|中学|小学|大学|学院|医院|公园|"
    r"镇|乡|县|区|市|组|号|栋|幢|楼|层|单元|室|\d|[A-Za-z]|$)"
)


_ROAD_CONTINUES = re.compile(
    rf"(?:{CN_NUM}|\d|[东南西北中][路街]|步行街|大街|大道|正街|老街|新街|横街|直街|后街|前街|中路|环路|支路|辅路)"
)


# An estate's or compound's name (香滨湾花园, 金家小区, 应嘉丽园), which may follow a township's short name.
_ESTATE_FOLLOWS = re.compile(
    r"[{_CJK}]{2,6}?(?:花园|小区|家园|公寓|新村|嘉园|丽园|名苑|山庄|大厦|广场|苑|庭)(?![路街道巷])"
)


# A village's short name may stand before its door number (浦西455号).
_SHORT_VILLAGE_BLOCK = re.compile(
    r"(?:[东南西北中]{1,2}(?:路|街|大道|大街|巷)|路|街|大道|大街|巷|道|弄|胡同|里|村|社区|小区|花园|新村|公寓|大厦|"
    r"广场|中学|小学|大学|学院|医院|公园|镇|乡|县|区|市|组|栋|幢|楼|层|单元|室|$)"
)

_GENERIC_ZONE = re.compile(r"(?:经济技术开发区|经济开发区|开发区|高新技术产业开发区|高新区|工业园区|工业区)")
_FILLER = re.compile(r"(?:null|NULL|None|中华人民共和国|中国)+")
_SHORT_SUFFIX = re.compile(r"(?:自治州|自治县|自治旗|地区|新区|林区|省|市|州|县|区|旗|盟)")
# Words that start a road name as well as end a place name: 鄂州花园路 is 花园路 in 鄂州, not 鄂州花园.
_ROAD_START_WORDS = re.compile(
    r"(?:花园|广场|公园|新城|中心|湖|山|港|口|门|桥|站)(?:[东南西北中]{1,2})?(?:路|街|大道|大街|巷)"
)
# Township names that are also generic words of a place (城北 "the north of the town", 新村 "new village").
_GENERIC_TOWN = re.compile(r"(?:城[东南西北中关郊厢]|[东南西北]城|新村|花园|江[南北]|河[东西])$")
# A place's name after a township's short name: two characters, neither a numeral (朝晖八区, 望江二园 are
# numbered estates named by the place), nor a zone's or a generic word (临江工业园区, 茶山高教园区, 城北工业区),
# nor a place word that makes a longer name with it (石牌桥, 大南门, 东山湖).
_NAME_FOLLOWS = re.compile(
    r"(?!工业|园区|开发|高新|高教|科技|经济|新城|新区|中心|花园|新村|供电|邮局|政府|[桥门山湖港口塘坊头岭洲湾])"
    rf"(?!{CN_NUM})"
    rf"[{_CJK}](?!{CN_NUM})[{_CJK}]"
)
