"""Reading a township's name at the start of the street level (`liangshi.addresses.parsing`): the longest name
of the gazetteer written there, whether a short form (柳市 for 柳市镇) stands, and a township of a neighbouring
county written under the county read."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

from liangshi.addresses.division_names import divisions
from liangshi.addresses.gazetteer import gazetteer
from liangshi.addresses.road_names import cuts_road_name
from liangshi.addresses.street_patterns import (
    _CJK,
    _COMMUNITY,
    _ESTATE_FOLLOWS,
    _GENERIC_TOWN,
    _NAME_FOLLOWS,
    _NUMBER,
    _POI_IN_ROAD,
    _ROAD_ANY,
    _ROAD_CONTINUES,
    _ROAD_NUMBERED,
    _SHORT_NAME_BLOCK,
    _SHORT_VILLAGE_BLOCK,
    _TOWNSHIP,
    _TOWNSHIP_PROPER,
    CN_NUM,
)

# A zone with a name of its own (柿后工业区, 秀峰工业区, 西湖科技园): the short name before it is its township's.
# Not a zone's generic words alone (临江工业园区 is the zone's name, 高新区 and 开发区 are read as the zone).
_ZONE_IN_TOWN = re.compile(
    rf"(?!工业|开发|高新|经济|科技|园区|新区)(?!{CN_NUM})[{_CJK}]{{2,5}}?"
    r"(?:工业园区|工业功能区|工业区|工业园|工业城|科技园|开发区)"
)
# A numbered avenue (下沙18号大街, 九号路): the place before it names the township, the number is the road's.
_NUMBERED_AVENUE = re.compile(rf"(?:\d{{1,3}}|{CN_NUM})号(?:[东南西北]?大街|路|街)")


class ParsedAddress(Protocol):
    """What these functions read of the address being parsed (`liangshi.addresses.parsing.ParsedAddress`)."""

    city: str | None
    district: str | None
    code: str | None


def _known_name(
    text: str, pos: int, index: dict[str, str], block: re.Pattern[str] = _SHORT_NAME_BLOCK
) -> tuple[str, int] | None:
    """The longest name of `index` written at `pos` (a short form only when no block word follows): the
    full name and the end."""
    for end in range(min(len(text), pos + 22), pos + 1, -1):
        full = index.get(text[pos:end])
        if full is None:
            continue
        if text[pos:end] == full or not block.match(text, end):
            return full, end
        if block is _SHORT_NAME_BLOCK and _NUMBERED_AVENUE.match(text, end):
            return full, end  # 下沙18号大街: the township, then its numbered avenue (not 下沙6号, a plate)
    return None


def _short_name_fits(
    text: str, pos: int, known: tuple[str, int], parsed: ParsedAddress | None = None
) -> bool:
    """Whether a name read at `pos` stands: a full name always; a short one (柳市 for 柳市镇, 浦西 for 浦西村)
    only before a road, a village or community, or a door number (柳市兴隆中路, 北城浦西455号), and never as the
    district's own short name (西湖 in 西湖区西湖…)."""
    full, end = known
    if text[pos:end] == full:
        return True
    if parsed is not None and parsed.district and parsed.district.startswith(text[pos:end]):
        return False
    if parsed is not None and (_ZONE_IN_TOWN.match(text, end) or _NUMBERED_AVENUE.match(text, end)):
        # 芝英柿后工业区, 高桥秀峰工业区: a zone named on its own inside the township; 下沙18号大街: the
        # township's numbered avenues
        return True
    road = _ROAD_NUMBERED.match(text, end) or _ROAD_ANY.match(text, end)
    village = _COMMUNITY.match(text, end) if parsed is not None else None
    if (
        road is not None
        and village is not None
        and village.group().endswith("村")
        and road.end() > village.end()
    ):
        return (
            True  # 大麦屿五一村龙山南路: the township, its village, then the road (not a road 五一村龙山南路)
        )
    if road is not None:
        # 柳市兴隆中路; not 滨湖 + 楠路 (a road name mistyped), nor 海甸五西路 or 观音桥步行街, road names
        # that begin with the place (a numeral, a direction or a generic word follows it)
        rest = road.group()
        if cuts_road_name(rest):
            return False  # 白云山南路: the road's own name (白云山), not the township 白云 and a road 山南路
        return len(rest) >= 3 and not _ROAD_CONTINUES.match(rest) and not _POI_IN_ROAD.match(rest)
    if _NUMBER.match(text, end) or _COMMUNITY.match(text, end):
        return True
    if parsed is None:
        return False
    if parsed.district and _ESTATE_FOLLOWS.match(text, end):
        return True  # 江干区九堡香滨湾花园: under a county read, the township before an estate's name
    # 西湖区西溪国际商务中心, 余杭区临平横塘: under a county read, the township before a place's name; or right
    # after the city's name, no county written (杭州市下沙宝龙城市广场, 宁波庄桥应嘉丽园)
    if (
        (parsed.district or (parsed.city and pos == 0))
        and _NAME_FOLLOWS.match(text, end)
        and not _GENERIC_TOWN.match(text[pos:end])
    ):
        return True
    # 北城浦西455号: one of the township's villages follows
    g = gazetteer()
    county = g.county(parsed.code, full) if parsed.code and not parsed.code.endswith("0000") else None
    villages = g.villages(county, full) if county else {}
    return bool(villages) and _known_name(text, end, villages, _SHORT_VILLAGE_BLOCK) is not None


@lru_cache(maxsize=4096)
def _towns_near(county: str) -> dict[str, str]:
    """The townships of the other counties of a county's city (not its own)."""
    g = gazetteer()
    own = g.towns_by_county.get(county, {})
    return {k: v for k, v in g.towns_by_city.get(county[:4], {}).items() if k not in own}


def _sibling_town(text: str, pos: int, parsed: ParsedAddress) -> tuple[str, int] | None:
    """A township of another county of the city, written under the county read: 余杭区临平 (临平 in 临平区
    since 2021, split off 余杭区), 江干区九堡 — the name the writer knew, not read as a road's or an estate's;
    never when a longer township's name by its suffix is written there (海盐县西塘桥镇, not 嘉善's 西塘)."""
    code = parsed.code
    if not code or code.endswith("00") or code[:6] not in gazetteer().towns_by_county:
        return None
    known = _known_name(text, pos, _towns_near(code[:6]))
    if known is None or _GENERIC_TOWN.match(text[pos : known[1]]):
        return None
    if any(c.division.code[:4] == code[:4] for c in divisions()[0].get(text[pos : known[1]], ())):
        return None  # 上城区西湖银泰: the name of another county of the city (西湖区), not its township
    if not _short_name_fits(text, pos, known, parsed):
        return None
    by_suffix = _TOWNSHIP.match(text, pos)
    return None if by_suffix is not None and by_suffix.end() > known[1] else known


def _town_index(parsed: ParsedAddress, pos: int) -> tuple[dict[str, str], bool]:
    """The townships an address may name at `pos`: those of its county or city; at the start of the street
    level, when no city was read, those of its province or of the country (`柯桥…`, `浙江省临平…`). Whether
    the index is the wide one."""
    g = gazetteer()
    narrow = g.towns(parsed.code) if parsed.code and not parsed.code.endswith("0000") else {}
    if narrow:
        return narrow, False
    if pos == 0:
        return g.towns_wide(parsed.code), True
    return {}, False


def lead_town_elsewhere(text: str, start: int, pos: int, code: str | None) -> bool:
    """Whether a township written by its proper suffix at `start`, before a division read at `pos`, is a known
    township of no county under that division (西丽街道九祥岭西区: 岭西区 is a part of a place's name there, not
    a county), so that the division is not taken."""
    m = _TOWNSHIP_PROPER.match(text, start)
    if m is None or m.end() > pos or not code:
        return False
    g = gazetteer()
    name = m.group()
    if name not in g.towns_national:
        return False
    # under the division's city (洞桥镇 of 鄞州区 moved to 海曙区 in 2016: still 宁波's)
    under = (
        g.towns_by_province.get(code[:2], {}) if code.endswith("0000") else g.towns_by_city.get(code[:4], {})
    )
    return name not in under
