"""A known village with a place's name glued before it, for the address parser (`liangshi.addresses.parsing`):
坎山勇建村 (坎山, a former township, and 勇建村, a village of the county), 上盘金杏灯村 after 上盘镇 (the township's
short name written again). The village pattern reads up to 村 from where the street level stands, so the name
before the village comes with it; the gazetteer's villages of the township read, or of the whole county, tell
where the village's own name begins."""

from __future__ import annotations

import re
from functools import lru_cache

from liangshi.addresses.gazetteer import gazetteer

__all__ = ["glued_village"]

_PREFIX = re.compile(r"[\u4e00-\u9fff]{2,4}")
_NOT_PREFIX = re.compile(r"[省市县区乡镇路街道巷村组号]")


@lru_cache(maxsize=512)
def _county_villages(county: str) -> frozenset[str]:
    """The full names of the villages and communities of every township of a county."""
    g = gazetteer()
    names: set[str] = set()
    for town in set(g.towns_by_county.get(county, {}).values()):
        names.update(full for full in g.villages(county, town).values())
    return frozenset(names)


@lru_cache(maxsize=4096)
def _town_villages(county: str, town: str) -> frozenset[str]:
    """The full names of a township's villages and communities."""
    return frozenset(gazetteer().villages(county, town).values())


def glued_village(name: str, code: str | None, town: tuple[str, str] | None) -> tuple[str, str] | None:
    """(the name before, the village) when `name`, read as a village by its pattern, is a place's name of two
    to four characters and a known village's full name, or None."""
    indexes: list[frozenset[str]] = []
    if town is not None:
        indexes.append(_town_villages(*town))
    county = town[0] if town is not None else (code or "")[:6]
    if len(county) == 6 and not county.endswith("00") and county in gazetteer().towns_by_county:
        # 黎里镇黎里三扇村: a village of the county, another township's
        indexes.append(_county_villages(county))
    for known in indexes:
        if name in known:
            return None
        for i in range(2, min(4, len(name) - 3) + 1):
            prefix, village = name[:i], name[i:]
            if village in known and _PREFIX.fullmatch(prefix) and not _NOT_PREFIX.search(prefix):
                return prefix, village
    return None
