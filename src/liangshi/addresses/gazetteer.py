"""Township and village names under each county, for reading the street level of an address.

The names come from jionlp's ``china_location`` dictionary (Apache 2.0, maintained from the National Bureau of
Statistics' division codes: every township, town, subdistrict and their villages and communities of the
country). The file is read from the installed package without importing jionlp itself (its import loads far
more than this needs); when jionlp is not installed the gazetteer is empty and the parser reads townships by
their suffix alone, as before.

A township is indexed by its full name (`柳市镇`, `临平街道`) and by its short name (`柳市`, `临平`: the full
name less 镇/乡/街道/…), under its county code and under its city code (the county's first four digits), so
that an address whose county was left out, or written by a name since abolished, is still read under its city.
"""

from __future__ import annotations

import bisect
import importlib.util
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["Gazetteer", "gazetteer", "short_name"]

_TOWN_SUFFIX = re.compile(r"(?:街道办事处|地区办事处|办事处|街道|民族乡|苏木|镇|乡)$")
_ROAD_END = re.compile(r"(?:路|街|道|巷|弄|胡同)$")
_VILLAGE_SUFFIX = re.compile(r"(?:社区居民委员会|居民委员会|村民委员会|社区居委会|居委会|村委会|社区|村)$")


def short_name(name: str, suffix: re.Pattern[str] = _TOWN_SUFFIX) -> str | None:
    """The name less its level word, when at least two characters remain (`柳市镇` → `柳市`; `乡` → None)."""
    short = suffix.sub("", name)
    if short == name or len(short) < 2 or _ROAD_END.search(short):
        return None  # 友谊路街道 is not 友谊路 (a road), 乡 alone is no name
    return short


_COUNTY_LINE = re.compile(r"^\t\t([^\t\n]+)\t(\d{6})", re.M)
_TOWN_LINE = re.compile(r"^\t\t\t([^\t\n]+)$", re.M)
_VILLAGE_LINE = re.compile(r"^\t\t\t\t([^\t\n]+)$", re.M)


@dataclass(eq=False)  # hashed by identity: the village cache keys on it
class Gazetteer:
    """Townships by county code (6 digits) and by city code (4 digits); villages read on demand."""

    text: str = ""
    towns_by_county: dict[str, dict[str, str]] = field(default_factory=dict)  # written form → full name
    towns_by_city: dict[str, dict[str, str]] = field(default_factory=dict)
    towns_by_province: dict[str, dict[str, str]] = field(default_factory=dict)
    towns_national: dict[str, str] = field(default_factory=dict)
    town_spans: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (county, town) → text
    county_of_town: dict[tuple[str, str], str] = field(default_factory=dict)  # (city, full name) → county
    counties_of_name: dict[str, tuple[str, ...]] = field(default_factory=dict)  # full name → counties

    def towns(self, code: str | None) -> dict[str, str]:
        """The written forms of the townships under a county (6 digits) or a city (4 digits) code."""
        if not code:
            return {}
        if len(code) >= 6 and code[:6] in self.towns_by_county:
            return self.towns_by_county[code[:6]]
        return self.towns_by_city.get(code[:4], {})

    def towns_wide(self, code: str | None) -> dict[str, str]:
        """The townships under a province (by the first two digits of `code`), or of the whole country."""
        return self.towns_by_province.get(code[:2], {}) if code else self.towns_national

    def county(self, code: str | None, town: str) -> str | None:
        """The county code of a township found under a county or city code."""
        if not code:
            return None
        if len(code) >= 6 and town in self.towns_by_county.get(code[:6], {}).values():
            return code[:6]
        return self.county_of_town.get((code[:4], town))

    def county_wide(self, code: str | None, town: str) -> str | None:
        """The county code of a township of a province (or the country) that only one county has."""
        counties = self.counties_of_name.get(town, ())
        if code:
            counties = tuple(c for c in counties if c[:2] == code[:2])
        return counties[0] if len(counties) == 1 else None

    def villages(self, county: str | None, town: str | None) -> dict[str, str]:
        """The written forms (full and short) of the villages and communities of a township."""
        if county is None or town is None:
            return {}
        return _villages(self, county, town)


@lru_cache(maxsize=4096)
def _villages(g: Gazetteer, county: str, town: str) -> dict[str, str]:
    span = g.town_spans.get((county, town))
    if span is None:
        return {}
    index: dict[str, str] = {}
    for m in _VILLAGE_LINE.finditer(g.text, *span):
        name = m.group(1).strip()
        index.setdefault(name, name)
        short = short_name(name, _VILLAGE_SUFFIX)
        if short is not None:
            index.setdefault(short, name)
    return index


def _source() -> Path | None:
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "dictionary" / "china_location.zip"
    return path if path.is_file() else None


def _add(index: dict[str, str], full: str) -> None:
    index.setdefault(full, full)
    short = short_name(full)
    if short is not None:
        index.setdefault(short, full)


def load(text: str) -> Gazetteer:
    """Build the gazetteer from the dictionary's text (tab-indented lines: province, city, county, township,
    village; the first three with their code)."""
    g = Gazetteer(text=text)
    counties = [(m.start(), m.group(2)) for m in _COUNTY_LINE.finditer(text)]
    towns = [(m.start(), m.end(), m.group(1).strip()) for m in _TOWN_LINE.finditer(text)]
    # a township's villages lie between its line and the next line of depth ≤ 3
    boundaries = sorted({s for s, _ in counties} | {s for s, _, _ in towns} | {len(text)})
    c = 0
    for start, end, name in towns:
        while c + 1 < len(counties) and counties[c + 1][0] < start:
            c += 1
        if not counties or counties[c][0] > start:
            continue
        county = counties[c][1]
        _add(g.towns_by_county.setdefault(county, {}), name)
        _add(g.towns_by_city.setdefault(county[:4], {}), name)
        _add(g.towns_by_province.setdefault(county[:2], {}), name)
        _add(g.towns_national, name)
        g.county_of_town.setdefault((county[:4], name), county)
        g.counties_of_name[name] = (*g.counties_of_name.get(name, ()), county)
        nxt = boundaries[bisect.bisect_right(boundaries, start)]
        g.town_spans.setdefault((county, name), (end, nxt))
    return g


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The country's gazetteer, read once (empty when jionlp's dictionary is not installed)."""
    path = _source()
    if path is None:
        return Gazetteer()
    with zipfile.ZipFile(path) as archive:
        member = next((n for n in archive.namelist() if n.endswith(".txt")), None)
        if member is None:
            return Gazetteer()
        return load(archive.read(member).decode("utf-8"))
