"""Free-text Chinese address parsing into standard-address components.

    >>> parse_address("湖北省鄂州市鄂城区凤凰街道滨湖社区滨湖南路28-3号3栋2单元501室").to_json()["room"]
    '501'

Division names (province, city, district/county) come from python-stdnum's ``cn/loc.dat`` (GB/T 2260, every
province, prefecture and county of the country, with historic names), indexed with their short forms (`湖北`,
`鄂州`, `广西`, `恩施`, `鄂城`). Matching runs left to right, longest name first, a full name before a short
one; a district is resolved under the city (or province) already found first. A short name is not taken when
a street-level word follows it (`江汉路` is a road, not 江汉区). Parents implied by a found division are filled
in (`鄂州市` gives `湖北省`); municipalities are their own city (`北京市朝阳区` → province and city `北京市`).

Street level and below is a small grammar of regular expressions over the remainder: township (街道/镇/乡),
community (社区/村/居委会), village group (N组/村民小组), road (name up to 路/街/巷/大道/道/胡同/弄/里), door
number (`28-3`, `88附2`, `12号之一` → `12-1`, `甲12`), building (`3栋`/`3幢`/`3号楼`/`三栋`/`A座` → `3`/`A`),
unit (`2单元` → `2`), floor (`5楼`/`5层`, only when written), room (`501室`/`501` → `501`), and a POI (the named
place left between the recognised parts: `SOHO现代城`, `滨湖花园`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from liangshi.addresses.dash_numbers import after_building, after_estate, four_parts, number_range
from liangshi.addresses.division_names import _MUNICIPALITIES, Division, _Candidate, divisions
from liangshi.addresses.gazetteer import gazetteer
from liangshi.addresses.road_names import GENERIC_ROAD, cuts_road_name, division_road_start, highway
from liangshi.addresses.street_patterns import (
    _BUILDING,
    _BUILDING_HAO,
    _BUILDING_NAME_END,
    _COMMUNITY,
    _COMPACT,
    _COMPACT_2,
    _FILLER,
    _FLOOR,
    _GENERIC_ZONE,
    _GROUP,
    _LANE,
    _LANE_LAST,
    _NOT_IN_ROAD,
    _NUMBER,
    _NUMBER_BARE,
    _POI_IN_ROAD,
    _ROAD_ANY,
    _ROAD_CONTINUES,
    _ROAD_IN_VILLAGE,
    _ROAD_NUMBERED,
    _ROAD_START_WORDS,
    _ROOM,
    _SHORT_SUFFIX,
    _SHORT_VILLAGE_BLOCK,
    _TOWNSHIP,
    _TOWNSHIP_PROPER,
    _UNIT,
    _UNIT_HAO,
    _VILLAGE_IN_ROAD,
    _VILLAGE_NUMBER_END,
    _ZONE_NAME,
    CN_NUM,
)
from liangshi.addresses.town_reading import (
    _known_name,
    _short_name_fits,
    _sibling_town,
    _town_index,
    lead_town_elsewhere,
)
from liangshi.addresses.village_names import glued_village
from liangshi.addresses.villages import cuts_village, natural_village, split_village, village_office_end
from liangshi.addresses.written import (
    _LEAD_PHONE,
    _LEAD_PHRASE,
    chinese_number,
    normalize_address_text,
)

__all__ = ["ADDRESS_FIELDS", "CN_NUM", "Division", "ParsedAddress", "chinese_number", "divisions"]
__all__ += ["normalize_address_text", "parse_address"]

ADDRESS_FIELDS: tuple[str, ...] = (
    "province",
    "city",
    "district",
    "township",
    "community",
    "village_group",
    "road",
    "number",
    "building",
    "unit",
    "floor",
    "room",
    "poi",
)


@dataclass
class ParsedAddress:
    """The components of an address; None where the text does not say."""

    province: str | None = None
    city: str | None = None
    district: str | None = None
    township: str | None = None
    community: str | None = None
    village_group: str | None = None
    road: str | None = None
    number: str | None = None
    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None
    poi: str | None = None
    # Not components: the GB/T 2260 code of the deepest division read, the current names of divisions written
    # by a historic name (`{"city": "襄阳市"}` for 襄樊市), and what could not be read, as note codes.
    code: str | None = field(default=None, compare=False)
    current: dict[str, str] = field(default_factory=dict, compare=False)
    notes: list[str] = field(default_factory=list, compare=False)
    # The gazetteer's full name of the township read, and its county code, while parsing (for its villages).
    _town: tuple[str, str] | None = field(default=None, compare=False, repr=False)
    # Whether the district read is a former one (its code no longer current), while parsing.
    _former_district: bool = field(default=False, compare=False, repr=False)

    def to_json(self) -> dict[str, str | None]:
        """Exactly the 13 component keys, in order."""
        return {name: getattr(self, name) for name in ADDRESS_FIELDS}

    def details(self) -> dict[str, object]:
        """The components with the division code, current names of historic ones, and the notes."""
        return {**self.to_json(), "code": self.code, "current": dict(self.current), "notes": list(self.notes)}


# A short name is not a division when one of these follows it (江汉路, 鄂城大道, 洪山街道, 武昌火车站 …).
_STREET_WORDS = re.compile(
    r"(?:[东南西北中]{1,2}(?:路|街|大道|大街|巷)|路|街|巷|道|弄|里|胡同|大道|大街|大厦|大学|镇|乡|村|社区|小区|组|号|栋|幢|楼|桥|站|湖|山|港|口|门|广场|花园|公园|新城|中心)"
)


def _match_division(
    text: str, pos: int, found: list[Division]
) -> tuple[Division | None, int, list[Division]]:
    """The division named at `pos` under those already found: (chosen, end, all equally good candidates)."""
    if text[pos : pos + 2] not in _all_pairs():
        return None, pos, []
    index, longest = divisions()
    last = found[-1] if found else None
    level = last.level if last else 0
    for length in range(min(longest, len(text) - pos), 1, -1):
        candidates = index.get(text[pos : pos + length])
        if not candidates:
            continue
        end = pos + length
        usable: list[_Candidate] = []
        for c in candidates:
            d = c.division
            if d.level <= level or _former_listing(c, candidates):
                continue
            if last is not None and not _under(d, last):
                continue
            if (
                not c.full
                and d.level == 3
                and last is None
                and not _town_follows(text, end, d)
                and not (pos == 0 and _lone_county_stands(text, end, candidates))
            ):
                continue  # a short county name alone (滨湖 in 滨湖南路) is too weak, unless one of its
                # townships follows (瑞安塘下镇, 海盐武原镇) or it opens the text unambiguously (义乌国际商贸城)
            if not c.full and _street_follows(text, end) and not _full_name_under(text, end, d):
                continue  # 江汉路 is a road; but 哈尔滨道里区 is 道里区 in 哈尔滨
            usable.append(c)
        if not usable:
            continue
        # a candidate under which the text goes on naming divisions (莱芜市莱城区: the prefecture, not the
        # county-level city of the same name) before one under which it does not
        if len({c.division.current for c in usable}) > 1:
            usable.sort(key=lambda c: not c.division.current)  # 瑞安: today's 瑞安市, not a code of before
        if len(usable) > 1 and len({c.division.level for c in usable}) > 1:
            usable.sort(key=lambda c: not _full_name_under(text, _after_suffix(text, end, c), c.division))
        best = usable[0]
        if best.full and not best.division.current:
            current = _current_short_reading(text, pos, end, last)
            if current is not None:  # 长阳县 written today is 长阳土家族自治县, not the county of before 1984
                return current, end, [current]
        ties = [
            c.division for c in usable if (c.full, c.division.current) == (best.full, best.division.current)
        ]
        if not best.full:
            # the suffix written after a short name (巍山县 for 巍山彝族回族自治县, 大理州, 鄂州市) belongs to it
            suffix = _SHORT_SUFFIX.match(text, end)
            if suffix and not _STREET_WORDS.match(text, suffix.end()):
                end = suffix.end()
        return best.division, end, ties
    return None, pos, []


def _former_listing(c: _Candidate, candidates: list[_Candidate]) -> bool:
    """Whether `c` is a county-level city once listed under its province directly (浙江 3390xx: 义乌市 as
    339007) that is today a county of the same name: the same place, read as today's county."""
    d = c.division
    return (
        d.level == 2
        and not d.current
        and d.code[2:4] == "90"
        and any(
            o.division.current and o.division.level == 3 and o.division.name == d.name for o in candidates
        )
    )


def _lone_county_stands(text: str, end: int, candidates: list[_Candidate]) -> bool:
    """Whether a county's short name opening the text stands alone (柯桥金昌商务大厦, 义乌国际商贸城): it is of
    three characters or names a county-level city, it names one current county of the country and nothing
    else, and no street word, suffix or township word follows it."""
    current = {c.division.code for c in candidates if c.division.current}
    if len(current) != 1 or any(
        c.division.level < 3 and not _former_listing(c, candidates) for c in candidates
    ):
        return False
    county = next(c.division for c in candidates if c.division.current)
    short = text[:end]
    if _street_follows(text, end) or _SHORT_SUFFIX.match(text, end) or _ROAD_START_WORDS.match(text, end):
        return False
    if re.match(r"[镇乡村街道路]", text[end : end + 1]):
        return False
    if len(short) >= 3 or county.name.endswith("市"):
        return True
    road = _ROAD_NUMBERED.match(text, end) or _ROAD_ANY.match(text, end)
    return bool(  # 嘉善世纪大道: the county, then a whole road name
        road
        and not _TOWNSHIP.match(text, end)
        and len(road.group()) >= 4
        and not _ROAD_CONTINUES.match(road.group())
        and not _POI_IN_ROAD.match(road.group())
        and not _NOT_IN_ROAD.search(road.group())
    )


def _after_suffix(text: str, end: int, c: _Candidate) -> int:
    """Where the text goes on after candidate `c` ends at `end` (past a suffix written after a short name)."""
    if c.full:
        return end
    suffix = _SHORT_SUFFIX.match(text, end)
    return suffix.end() if suffix else end


def _full_name_under(text: str, pos: int, parent: Division) -> bool:
    """Whether the full name of a division under `parent` starts at `pos`."""
    index, longest = divisions()
    for length in range(min(longest, len(text) - pos), 1, -1):
        for c in index.get(text[pos : pos + length], ()):
            if c.full and c.division.level > parent.level and _under(c.division, parent):
                return True
    return False


def _current_short_reading(text: str, pos: int, end: int, last: Division | None) -> Division | None:
    """A current division whose short name plus the written suffix spans text[pos:end] (长阳 + 县), if any."""
    index, _ = divisions()
    for length in range(end - pos - 1, 1, -1):
        suffix = text[pos + length : end]
        for c in index.get(text[pos : pos + length], ()):
            d = c.division
            if c.full or not d.current or not d.name.endswith(suffix):
                continue
            if last is not None and (d.level <= last.level or not _under(d, last)):
                continue
            return d
    return None


def _street_follows(text: str, end: int) -> bool:
    """Whether a street word follows a short name at `end` (江汉路), so the name is a road, not a division."""
    return bool(_STREET_WORDS.match(text, end)) and not _ROAD_START_WORDS.match(text, end)


def _repeated(text: str, pos: int, found: list[Division]) -> int:
    """The end of a division name at `pos` that repeats one already found (上海上海市, 鄂州湖北省鄂州市), or -1."""
    if not any(text.startswith(d.name[0], pos) for d in found):
        return -1  # a repetition starts as the name it repeats (short forms keep the first character)
    index, longest = divisions()
    codes = {d.code for d in found}
    for length in range(min(longest, len(text) - pos), 1, -1):
        candidates = index.get(text[pos : pos + length])
        if candidates and any(c.division.code in codes for c in candidates):
            end = pos + length
            suffix = _SHORT_SUFFIX.match(text, end)
            return suffix.end() if suffix and not _STREET_WORDS.match(text, suffix.end()) else end
    return -1


def _under(d: Division, parent: Division) -> bool:
    """Whether `d` lies under `parent` (by code; municipalities' districts under the municipality)."""
    if parent.level == 1:
        return d.code[:2] == parent.code[:2]
    if parent.level == 2:
        return d.code[:4] == parent.code[:4] or (d.code[:2] == parent.code[:2] and d.city == parent.name)
    return False


def _parse_divisions(text: str, start: int = 0) -> tuple[dict[str, str | None], int, list[Division]]:
    """Province, city and district from `start` in `text`, where the rest begins, and the divisions read."""
    found: list[Division] = []
    result: dict[str, str | None] = {"province": None, "city": None, "district": None}
    pos = start
    while pos < len(text):
        division, end, ties = _match_division(text, pos, found)
        again = _repeated(text, pos, found) if found else -1
        if again > pos and (
            division is None or again > end or (again == end and division.name != text[pos:end])
        ):
            pos = again  # 上海上海市 is Shanghai written twice, not the former 上海县
            continue
        if division is None and found and found[-1].level == 2 and text[pos - 1 : pos] == "市":
            # 青岛市南区: 青岛 and 市南区, the 市 shared
            shared, shared_end, shared_ties = _match_division(text, pos - 1, found)
            if shared is not None and shared.level == 3 and text.startswith(shared.name, pos - 1):
                division, end, ties = shared, shared_end, shared_ties
        if division is None:
            if found and found[-1].level == 2 and text.startswith("市区", pos - 1) and pos + 1 < len(text):
                pos += 1  # 惠州市区博罗县: the city proper, then its county
                continue
            break
        if found and found[-1].level == 1 and division.level == 2 and division.name == found[-1].name:
            pos = end  # 北京市北京市… or 重庆重庆市…
            continue
        if division.level == 1:
            result["province"] = division.name
            if division.city:
                result["city"] = division.city
        elif division.level == 2:
            result["city"] = division.name
            if len({t.province for t in ties}) == 1:
                result["province"] = division.province
        else:
            result["district"] = division.name
            if result["city"] is None and len({t.city for t in ties}) == 1:
                result["city"] = division.city
            if result["province"] is None and len({t.province for t in ties}) == 1:
                result["province"] = division.province
        found.append(division)
        pos = end
        if division.level == 3:
            break
    if result["city"] is not None and result["province"] is None:
        # a city found through a municipality or an unambiguous name
        cities = [c.division for c in divisions()[0].get(result["city"], []) if c.division.level == 2]
        if len({c.province for c in cities}) == 1:
            result["province"] = cities[0].province
    return result, pos, found


# Text before the address (a phone number, 我家的地址是, a repeated place name) is looked past: the divisions
# are read from whichever of the first few positions reads the most of them.
_LEAD_WINDOW = 24


@lru_cache(maxsize=1)
def _all_pairs() -> frozenset[str]:
    """The first two characters of every division name, full or short (a quick way to rule a place out)."""
    return frozenset(name[:2] for name in divisions()[0])


@lru_cache(maxsize=1)
def _start_pairs() -> frozenset[str]:
    """The first two characters of every name that may start an address after unread text."""
    return frozenset(
        name[:2]
        for name, cands in divisions()[0].items()
        if any(c.full or c.division.level < 3 for c in cands)
    )


def _best_divisions(text: str) -> tuple[dict[str, str | None], int, list[Division], int]:
    """The divisions read from the best start: (fields, end, divisions, start)."""
    start = 0
    m = _LEAD_PHONE.match(text)
    if m:
        start = m.end()
    m = _LEAD_PHRASE.match(text, start)
    if m and m.end() > start:
        start = m.end()
    best = (*_parse_divisions(text, start), start)
    if best[2] and (best[2][0].level == 1 or len(best[2]) >= 2):
        return best
    index, longest = divisions()
    starts = _start_pairs()
    for pos in range(start + 1, min(len(text), start + _LEAD_WINDOW)):
        if text[pos : pos + 2] not in starts:
            continue
        # only a full name, or a province or city short name, may start an address after unread text
        if not any(
            (c.full or c.division.level < 3) and not _street_follows(text, pos + length)
            for length in range(2, min(longest, len(text) - pos) + 1)
            for c in index.get(text[pos : pos + length], ())
        ):
            continue
        fields, end, found = _parse_divisions(text, pos)
        # unread text is looked past only for a strong start: two divisions, or a full name (新泰 in
        # 凤凰街道新泰和街 is no start; 湖北省 in 鄂州湖北省鄂州市… is)
        strong = len(found) >= 2 or (
            bool(found)
            and text.startswith(found[0].name, pos)
            and (len(found[0].name) > 2 or found[0].level < 3)
        )  # 北区 or 新区 alone, after unread text, is a part of a place name (银岭皮革交易中心北区)
        if found and lead_town_elsewhere(text, start, pos, found[-1].code):
            continue  # 西丽街道九祥岭西区: a township first, then a county's name inside a place's name
        if strong and len(found) > len(best[2]):
            best = (fields, end, found, pos)
            break
    return best


# ---------------------------------------------------------------------------------------------------------
# Street level and below
# ---------------------------------------------------------------------------------------------------------


def _num(text: str) -> str:
    value = chinese_number(text)
    return str(value) if value is not None else text.upper()


def _number_text(m: re.Match[str]) -> str:
    base = _num(m.group("base"))
    stem = m.group("stem") or ""
    sep, sub = m.group("sep"), m.group("sub")
    if not sep:
        return f"{stem}{base}"
    sub_value = _num(sub)
    if sep == "之":
        return f"{stem}{base}-{sub_value}"
    return f"{stem}{base}{sep}{sub_value}"


_ORDER = ("township", "community", "village_group", "road", "number", "building", "unit", "floor", "room")


def _try(component: str, text: str, pos: int, parsed: ParsedAddress) -> int:
    """Match `component` at `pos`; fill it in and return the end, or -1."""
    if component == "township":
        towns, wide = _town_index(parsed, pos)
        known = _known_name(text, pos, towns) if towns else None
        if known is not None and not _short_name_fits(text, pos, known, parsed):
            known = None
        if known is None and towns and not wide:
            known = _sibling_town(text, pos, parsed)
        if known is not None:
            full, end = known
            parsed.township = text[pos:end]
            g = gazetteer()
            county = g.county_wide(parsed.code, full) if wide else g.county(parsed.code, full)
            parsed._town = (county, full) if county else None
            return end
        m = _TOWNSHIP.match(text, pos)
        if (
            m
            and towns
            and text[pos : m.end()] not in towns
            and any(
                _known_name(text, i, towns) is not None
                and text[i : m.end()] in towns
                and (not wide or text[i - 1] in "省市州县区旗盟")
                for i in range(pos + 1, m.end())
            )
        ):
            return -1  # 宁海县长街镇, 区博罗县福田镇: the township is the known name inside, read from there
        if m:
            name = m.group()[_division_prefix(m.group()) :]
            parsed.township = name[_read_prefix(name, parsed) :]

    elif component == "community":
        villages = gazetteer().villages(*parsed._town) if parsed._town else {}
        known = _known_name(text, pos, villages, _SHORT_VILLAGE_BLOCK) if villages else None
        if known is not None and not _short_name_fits(text, pos, known):
            known = None
        m = _COMMUNITY.match(text, pos)
        if m and re.search(r"\d号", m.group()):
            m = None  # 绿汀路14号余杭农村商业银行: a road and its door number come first
        if known is not None and m and cuts_village(text[pos : known[1]], known[0], m.group()):
            known = None  # 荆山岭社区, 协塘家自然村: a longer name, not the known 荆山 written short
        if known is not None:
            end = village_office_end(text, known[1])
            parsed.community = text[pos:end]
            return end
        if m is None and parsed.township:
            end = natural_village(text, pos)
            if end > 0:  # 新桥镇莫家埭153号, 大许寨乡崔梁庄: a natural village by its shape
                parsed.community = text[pos:end]
                return end
        if m:
            end = village_office_end(text, m.end())
            before_town, before_zone, village_name = split_village(text[pos:end])
            if before_town and parsed.township is None:
                parsed.township = before_town  # 富东乡邦崴村
            elif before_town or before_zone:  # 大坪乡上屋村 (a former township), 长城工业区陈园村
                parsed.poi = (parsed.poi or "") + (before_town or "") + (before_zone or "")
            elif glued := glued_village(village_name, parsed.code, parsed._town):
                # 坎山勇建村: a former township's name, then a known village; 上盘镇上盘金杏灯村: the township again
                village_name = glued[1]
                if parsed.township is None:
                    parsed.township = glued[0]
                elif not parsed.township.startswith(glued[0]):
                    parsed.poi = (parsed.poi or "") + glued[0]
            parsed.community = village_name
            if end != m.end():
                return end
            road_first = _ROAD_IN_VILLAGE.match(m.group())
            if road_first:  # 莫干山路乡邻村176号: the road, then the village on it
                parsed.road, parsed.community = road_first.group("road"), road_first.group("community")
    elif component == "village_group":
        m = _GROUP.match(text, pos)
        if m:
            n = m.group("n")
            parsed.village_group = f"{_num(n)}组" if n else m.group()
    elif component == "road":
        town = _TOWNSHIP_PROPER.match(text, pos)
        if town and parsed.township and _ZONE_NAME.search(parsed.township):
            # 杭州经济技术开发区下沙街道幸福南路: the township written after the zone it lies in
            parsed.poi = (parsed.poi or "") + parsed.township
            parsed.township, parsed._town = town.group(), None
            pos = town.end()
        elif town and parsed.township and _ROAD_ANY.match(text, town.end()):
            # 临平镇星桥街道星发街: a second township, then the road; the road is not named by it
            parsed.poi = (parsed.poi or "") + town.group()
            pos = town.end()
        m = highway(text, pos) or _ROAD_NUMBERED.match(text, pos) or _ROAD_ANY.match(text, pos)
        if m is None and town is not None and parsed.township == town.group():
            return pos
        if m and _NOT_IN_ROAD.search(_POI_IN_ROAD.sub(r"\g<road>", m.group())):
            m = None
        if m:
            road = _past_divisions(m.group(), parsed)
            lane = _LANE.match(text, m.end())
            last = _LANE_LAST.match(text, m.end()) if lane is None and parsed.number is None else None
            if lane:  # 漕溪北路88弄5号: the lane is part of the road name, 5号 the door number in it
                road += f"{_num(lane.group('n'))}弄"
                m = lane
            elif last:  # 虹桥路1335弄: the lane, no plate after it, is the door number on the road
                parsed.number = f"{_num(last.group('n'))}弄"
                m = last
            split = _POI_IN_ROAD.match(road)
            village = _VILLAGE_IN_ROAD.match(road) if parsed.community is None else None
            if village and not _ROAD_CONTINUES.match(village.group("road")):
                # 紫东新村和春路: the village or community written before its road
                parsed.community = village.group("community")
                road = village.group("road")
            elif split and not GENERIC_ROAD.fullmatch(split.group("road")):
                # 科技园科苑路: a place name written before the road (not 花园东大道, a road of that name)
                parsed.poi = split.group("poi")
                road = split.group("road")
            parsed.road = road
    elif component == "number":
        span = number_range(text, pos)
        if span is not None and parsed.road is not None and parsed.number is None and span[1] != "室":
            parsed.number = span[0]  # 解放南路1077-1083: one plate spanning several
            return span[2]
        if span or _COMPACT.match(text, pos) or _COMPACT_2.match(text, pos) or four_parts(text, pos):
            return -1  # building-unit-room written with dashes: read by `building`
        if parsed.number is None and after_estate(text, pos):
            return -1  # 景阳花园192-11号: after an estate's name, its building and unit
        m = _NUMBER.match(text, pos)
        if m:
            parsed.number = _number_text(m)
        elif parsed.number is None and (
            parsed.road is not None or parsed.community is not None or parsed.village_group is not None
        ):
            m = _NUMBER_BARE.match(text, pos)
            if m and parsed.road is None and not _VILLAGE_NUMBER_END.match(text, m.end()):
                m = None  # after a village, a bare number is its door number only when nothing follows
            if m and _BUILDING_NAME_END.search(text, max(0, pos - 3), pos):
                m = None  # 尚坤大厦409: a room in the building named
            if m:
                parsed.number = m.group("base")
    elif component == "building":
        if number_range(text, pos):
            return -1  # 605-606室: a room spanning two, read by `room`
        dashed = four_parts(text, pos) or (after_estate(text, pos) if parsed.number is None else None)
        if dashed is not None:
            for name, value in dashed[0].items():
                setattr(parsed, name, value)
            return dashed[1]
        m = _COMPACT.match(text, pos)
        if m:
            parsed.building, parsed.unit, parsed.room = m["b"].upper(), m["u"].upper(), m["r"].upper()
            return m.end()
        m = _COMPACT_2.match(text, pos)
        if m:
            parsed.building, parsed.room = m.group("b"), m.group("r")
            return m.end()
        m = _BUILDING.match(text, pos) or (_BUILDING_HAO.match(text, pos) if parsed.number else None)
        if m:
            parsed.building = _num(m.group("b"))
    elif component == "unit":
        dashed = after_building(text, pos) if parsed.building is not None else None
        if dashed is not None:  # 3栋2-501: the unit and the room
            parsed.unit, parsed.room = dashed[0]["unit"], dashed[0]["room"]
            return dashed[1]
        m = _UNIT.match(text, pos) or (_UNIT_HAO.match(text, pos) if parsed.building is not None else None)
        if m:  # 12幢4号1203室: after a building, a number then a room or floor is its unit (entrance)
            parsed.unit = _num(m.group("u"))
    elif component == "floor":
        m = _FLOOR.match(text, pos)
        if m:
            value = _num(m.group("f") or m.group("f2"))  # 11F: the eleventh floor
            negative = m.group().startswith(("负", "地下", "-"))
            parsed.floor = f"-{value}" if negative else value
    else:  # room
        span = number_range(text, pos)
        if span is not None:
            parsed.room = span[0]
            return span[2]
        m = _ROOM.match(text, pos)
        if m and m.group() == m.group("r") and len(m.group()) <= 2 and _CJK_NEXT.match(text, m.end()):
            m = None  # 北苑4季2区117栋: a bare number of one or two digits inside a place's name, not a room
        if m:
            parsed.room = m.group("r").upper()
    return m.end() if m else -1


def _past_divisions(road: str, parsed: ParsedAddress) -> str:
    """A road read with the name of a division already read before it (杭州石大路 after 杭州市下城区): the road
    alone, when what is left is a whole road name (石大路; not 杭州南路, a road named after the city)."""
    for name in (parsed.city, parsed.district, parsed.province):  # 丽水缙云县大桥北路: one after the other
        m = re.search(f"{_SHORT_SUFFIX.pattern}$", name or "")
        for prefix in (name, name[: -len(m.group())] if name and m else None):
            if not prefix or len(prefix) < 2 or not road.startswith(prefix):
                continue
            rest = road[len(prefix) :]
            if (
                len(rest) >= 3
                and not _ROAD_CONTINUES.match(rest)
                and _ROAD_ANY.fullmatch(rest)
                and not cuts_road_name(rest)
            ):
                road = rest
                break
    return road


def _address_ahead(text: str, start: int, parsed_code: str | None) -> ParsedAddress | None:
    """The street-level address written before the divisions found at `start` (大成东路812号奉化市…, 国贸路662号
    嘉兴市…): its parts when it reads as a road and a door number and nothing else, or None."""
    lead = _LEAD_PHONE.match(text)
    at = lead.end() if lead else 0
    phrase = _LEAD_PHRASE.match(text, at)
    at = phrase.end() if phrase else at
    ahead = ParsedAddress(code=parsed_code)
    _parse_local(text[at:start], ahead)
    if ahead.road is None or ahead.number is None or ahead.poi:
        return None
    return ahead


def _zone_by_county(text: str, pos: int, parsed: ParsedAddress) -> None:
    """A zone written right after its county's short name (杭州市萧山经济技术开发区) is named by it: the
    township read as 经济技术开发区 becomes 萧山经济技术开发区."""
    name = parsed.district or ""
    m = re.search(f"{_SHORT_SUFFIX.pattern}$", name)
    short = name[: -len(m.group())] if m else ""
    zone = parsed.township or ""
    if (
        len(short) >= 2
        and _GENERIC_ZONE.fullmatch(zone)
        and text.startswith(zone, pos)
        and text[:pos].endswith(short)
    ):
        parsed.township = short + zone


def _division_prefix(name: str) -> int:
    """The length of the division names written at the start of a township's name read by its suffix
    (浙江省贤庠镇, 浙江温州市龙湾区天河镇, 保靖县迁陵镇), or 0: the township is what follows them."""
    index, longest = divisions()
    cut = 0
    for end in range(3, len(name) - 1):
        if name[end - 1] not in "省市州县区旗盟" or not _TOWNSHIP_PROPER.fullmatch(name, end):
            continue
        if any(
            c.full
            for length in range(2, min(longest, end) + 1)
            for c in index.get(name[end - length : end], ())
        ):
            cut = end
    return cut


def _read_prefix(name: str, parsed: ParsedAddress) -> int:
    """The length of the names of divisions already read (or 城区, 市区) at the start of a township's name read by
    its suffix (杭州萧山城厢镇 under 杭州市萧山区, 城区中和河街道), or 0, leaving a township's name of three or more
    (not a zone's: 海宁经济开发区 keeps its 海宁)."""
    prefixes = ["城区", "市区"]
    for full in (parsed.province, parsed.city, parsed.district):
        m = re.search(f"{_SHORT_SUFFIX.pattern}$", full or "")
        prefixes += [p for p in (full, full[: -len(m.group())] if full and m else None) if p and len(p) >= 2]
    at = 0
    while step := next((len(p) for p in prefixes if name.startswith(p, at)), 0):
        if len(name) - at - step < 3 or not _TOWNSHIP_PROPER.fullmatch(name, at + step):
            break
        at += step
    return at


def _written_again(
    text: str, pos: int, found: list[Division]
) -> tuple[dict[str, str | None], int, list[Division]] | None:
    """A second, different province-and-below written right after the divisions read (a form's default region,
    then the address meant: 广东省广州市天河区中国浙江省温州市平阳县…, 浙江省绍兴市null浙江省上虞市…): its
    divisions and where the rest begins, or None. The same names written again are `_repeat_end`'s."""
    if not found:
        return None
    filler = _FILLER.match(text, pos)
    at = filler.end() if filler else pos
    fields, end, again = _parse_divisions(text, at)
    if len(again) < 2 or again[0].level != 1:
        return None
    if [d.code for d in again] == [d.code for d in found][: len(again)]:
        return None if end == pos else ({}, end, found)  # 广东省深圳市龙岗区广东深圳市…: the same, shorter
    if again[-1].level < found[-1].level:
        return None
    return fields, end, again


def _town_follows(text: str, end: int, county: Division) -> bool:
    """Whether a township of `county` is written at `end` (after the county's suffix, if written)."""
    if not county.current:
        return False
    towns = gazetteer().towns(county.code)
    if not towns:
        return False
    suffix = _SHORT_SUFFIX.match(text, end)
    starts = (end, suffix.end()) if suffix else (end,)
    return any(_known_name(text, at, towns) is not None for at in starts)


def _repeat_end(text: str, pos: int, parsed: ParsedAddress) -> int:
    """The end of the division names already read, written again at `pos` (…永康市浙江省金华市永康市龙山镇,
    宁海县宁海县长街镇, 上海市-市辖区-虹口区), or `pos`. A county written only here, under the city read before
    (…江北街道余杭区…), is read as the district."""
    end = pos
    while True:
        names = [
            n
            for n in ("中华人民共和国", "中国", "市辖区", parsed.province, parsed.city, parsed.district)
            if n
        ]
        step = next((len(n) for n in names if text.startswith(n, end)), 0)
        if step and text.startswith("中", end) and _match_division(text, end + step, [])[0] is None:
            step = 0  # 中国人寿大厦: the country's name is looked past only before a division's
        if not step:
            step = _short_repeat(text, end, parsed)
        successor = parsed.current.get("district")
        former = parsed.district is not None and (successor is not None or parsed._former_district)
        if (
            not step
            and (parsed.district is None or former)
            and parsed.code
            and (parsed.code[2:] != "0000" or parsed.code[:2] in _MUNICIPALITIES)
        ):
            county = _county_at(text, end, parsed.code)
            # 富阳市富阳区: a former county written again by its current name is the current one
            if county is not None and (parsed.district is None or successor in (None, county.name)):
                parsed.district, parsed.code = county.name, county.code
                parsed.current.pop("district", None)
                parsed._former_district = False
                step = len(county.name)
        if not step or division_road_start(text, end + step, (text[end : end + step],)) == end:
            return end  # 鄞县大道: not the county written again, the road named after it
        end += step


def _short_repeat(text: str, pos: int, parsed: ParsedAddress) -> int:
    """The length of a division already read, written again by its short name before one of its townships
    (义乌市义乌后宅街道), or 0."""
    towns = gazetteer().towns(parsed.code) if parsed.code and not parsed.code.endswith("0000") else {}
    if not towns:
        return 0
    for name in (parsed.district, parsed.city):
        short = (
            name[: -len(m.group())] if name and (m := re.search(f"{_SHORT_SUFFIX.pattern}$", name)) else ""
        )
        if len(short) >= 2 and text.startswith(short, pos):
            known = _known_name(text, pos + len(short), towns)
            if known is not None and text[pos + len(short) : known[1]] == known[0]:
                return len(short)
    return 0


def _county_at(text: str, pos: int, code: str) -> Division | None:
    """A county's full name at `pos` under the city (or municipality) of `code`."""
    index, longest = divisions()
    for length in range(min(longest, len(text) - pos), 2, -1):
        for c in index.get(text[pos : pos + length], ()):
            d = c.division
            under = d.code[:2] == code[:2] if code[:2] in _MUNICIPALITIES else d.code[:4] == code[:4]
            if c.full and d.level == 3 and d.current and under:
                return d
    return None


def _parse_local(text: str, parsed: ParsedAddress) -> None:
    """Street level and below, left to right; unrecognised text between parts becomes the POI."""
    pos = 0
    level = 0
    pending_start = -1
    poi_parts: list[str] = []
    while pos < len(text):
        again = _repeat_end(text, pos, parsed)
        if again > pos:
            if pending_start >= 0:
                poi_parts.append(text[pending_start:pos])
                pending_start = -1
            pos = again
            continue
        matched = False
        for i in range(level, len(_ORDER)):
            component = _ORDER[i]
            if component == "room" and parsed.room is not None:
                continue
            end = _try(component, text, pos, parsed)
            if end > pos:
                if pending_start >= 0:
                    poi_parts.append(text[pending_start:pos])
                    pending_start = -1
                pos, level, matched = end, i + 1, True
                if parsed.room is not None:
                    level = len(_ORDER)
                break
        if not matched:
            if pending_start < 0:
                pending_start = pos
            pos += 1
    if pending_start >= 0:
        poi_parts.append(text[pending_start:])
    poi = "".join(p for p in poi_parts if p.strip("-号"))
    parsed.poi = (parsed.poi or "") + poi or None


_CJK_NEXT = re.compile(r"[\u4e00-\u9fff]")


# Longer text is not an address; only its start is read (and a note says so), which bounds the work.
MAX_ADDRESS_LENGTH = 300


@lru_cache(maxsize=1)
def _current_names() -> dict[str, str]:
    """Division code → its current name, for the codes still in use."""
    return {
        c.division.code: c.division.name
        for candidates in divisions()[0].values()
        for c in candidates
        if c.full and c.division.current
    }


def _current_name(code: str) -> str | None:
    """The current name at a division code, if the code is still in use."""
    return _current_names().get(code)


def parse_address(text: str) -> ParsedAddress:
    """Parse a free-text Chinese address into its components (None where absent), with notes on what it
    could not read (never an exception on any text)."""
    notes: list[str] = []
    value = normalize_address_text(text or "")
    if len(value) > MAX_ADDRESS_LENGTH:
        notes.append("too_long")
        value = value[:MAX_ADDRESS_LENGTH]
    if not value:
        return ParsedAddress(notes=["empty"])
    if not re.search(r"[\u4e00-\u9fff\d]", value):
        return ParsedAddress(notes=["no_address_text"])
    divisions_found, pos, found, start = _best_divisions(value)
    if start > 0:
        notes.append("text_before_address")
    ahead = _address_ahead(value, start, parsed_code=found[-1].code if found else None) if start > 0 else None
    again = _written_again(value, pos, found)
    if (
        again is not None and again[0]
    ):  # 广东省广州市天河区中国浙江省温州市平阳县…: the address written after another
        divisions_found, pos, found = again
        notes.append("divisions_written_twice")
    elif again is not None:
        pos = again[1]
    parsed = ParsedAddress(
        province=divisions_found["province"],
        city=divisions_found["city"],
        district=divisions_found["district"],
    )
    if found:
        deepest = found[-1]
        parsed.code = deepest.code
        for d in found:
            if not d.current:
                name = _current_name(d.code)
                key = ("province", "city", "district")[d.level - 1]
                if name is not None and name != d.name:
                    parsed.current[key] = name
                else:
                    notes.append(f"historic_{key}")
                parsed._former_district = parsed._former_district or d.level == 3
    else:
        notes.append("no_division")
    if (
        ahead is not None
    ):  # 大成东路812号奉化市城投商务大厦: the road and number, then a place named by its city
        for name in ADDRESS_FIELDS[3:]:
            setattr(parsed, name, getattr(ahead, name))
        parsed.poi = (parsed.poi or "") + value[pos:] or None
        notes.remove("text_before_address")
    else:
        if found:  # 温州大道, 鄞县大道: a road named after the division written before it
            last = found[-1].name
            short = re.sub(f"{_SHORT_SUFFIX.pattern}$", "", last)
            pos = division_road_start(value, pos, (last, short))
        _parse_local(value[pos:], parsed)
        _zone_by_county(value, pos, parsed)
    if found and not found[-1].current and parsed.code != found[-1].code and "historic_district" in notes:
        notes.remove("historic_district")  # the current county was written after the former one
    if re.search(r"[^\u4e00-\u9fff\u3400-\u4dbf\dA-Za-z#\-]", value):
        notes.append("unread_characters")
    if not any(getattr(parsed, name) for name in ADDRESS_FIELDS):
        notes.append("nothing_read")
    parsed.notes = notes
    return parsed
