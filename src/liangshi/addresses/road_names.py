"""Road names as people write them, for the address parser (`liangshi.addresses.parsing`), beyond the names
ending in 路/街/巷/大道:

- national, provincial and county highways by their number (104国道, G320国道, 56省道, 一零四国道北复线);
- county and township roads named by their two ends, ending in 线 (乍王线, 甬临线, 乔下线1221号), before a
  door number, a section, a side or the end;
- a road named after a division (温州大道, 鄞县大道, 海盐塘路): a generic word alone (大道, 东大道, 南街) is no
  road's name, so the division written before it is the road's, not read as the division.
"""

from __future__ import annotations

import re

__all__ = ["GENERIC_ROAD", "cuts_road_name", "division_road_start", "highway"]

_CJK = "\u4e00-\u9fff"
_CN_DIGIT = "[零〇一二三四五六七八九]"
_HIGHWAY = re.compile(rf"(?:[GSXYgsxy]?\d{{2,3}}|{_CN_DIGIT}{{3}})(?:国道|省道|县道)(?:[东南西北]?复线)?")
# Two characters and 线: the road between two places. Not a word that ends in 线 (专线, 热线, 沿线 …).
_LINE_ROAD = re.compile(rf"(?P<name>[{_CJK}]{{2}})线(?=\d|[东南西北]?段|旁|$|[东南西北]\d)")
_NOT_LINE_WORDS = (
    "专线热线在线沿线路线干线支线光线直线天线无线曲线连线航线界线防线红线毛线电线主线内线外线总线长线短线全线一线二线三线前线"
    "底线视线单线双线铁线金线银线丝线棉线"
)
_NOT_LINE = frozenset(_NOT_LINE_WORDS[i : i + 2] for i in range(0, len(_NOT_LINE_WORDS), 2))
# A generic word that is no road's name by itself: 大道, 东大道, 南街, 中路 (after a division's full name only
# the bare word: 镇海区南大街 is the town's own 南大街).
GENERIC_ROAD = re.compile(r"[东南西北中]{0,2}(?:大道|大街|路|街)")
# A place word that makes a longer name with the one before it (白云山, 象山港, 安定门).
_PLACE_WORD = frozenset("桥门山湖港口塘坊头岭洲湾源")
_BARE_ROAD = re.compile(r"(?:大道|大街|路|街)")
# What a road by its two ends is written after: the start, a division, township, village or zone, a separator.
_LINE_AFTER = re.compile(rf"(?:[镇乡道村区县市]|[^{_CJK}])$")
_AFTER_GENERIC = re.compile(rf"(?![{_CJK}])|号|[东南西北]?段")


def highway(text: str, pos: int) -> re.Match[str] | None:
    """A highway by its number or a 线 road written at `pos`, or None."""
    m = _HIGHWAY.match(text, pos)
    if m is not None:
        return m
    m = _LINE_ROAD.match(text, pos)
    if m is not None and m.group() not in _NOT_LINE and (pos == 0 or _LINE_AFTER.search(text, 0, pos)):
        return m
    return None


def division_road_start(text: str, pos: int, written: tuple[str, ...]) -> int:
    """Where the road begins when the street level at `pos` starts with a generic word alone (温州大道 after
    浙江省, the city read as 温州): at the division name written just before it (`written`: its full name
    first, then its short forms), or `pos` when the road is a whole name."""
    m = GENERIC_ROAD.match(text, pos)
    if m is None or GENERIC_ROAD.fullmatch(m.group()) is None or not _AFTER_GENERIC.match(text, m.end()):
        return pos
    for name in sorted(written, key=len, reverse=True):
        if len(name) < 2 or not text.startswith(name, pos - len(name)):
            continue
        if name == written[0] and not _BARE_ROAD.fullmatch(m.group()):
            continue  # 镇海区南大街, 慈溪市西路: the county's own street of that name
        return pos - len(name)
    return pos


def cuts_road_name(rest: str) -> bool:
    """Whether `rest`, what is left of a road's name with a place's name taken off its start, is no road's
    name: a generic word alone (大道, 东大道), or a place word and one (白云山南路 less 白云: 山南路)."""
    if GENERIC_ROAD.fullmatch(rest):
        return True
    return len(rest) > 1 and rest[0] in _PLACE_WORD and GENERIC_ROAD.fullmatch(rest[1:]) is not None
