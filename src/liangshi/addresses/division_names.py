"""The division index of the address parser (`liangshi.addresses.parsing`): every province, prefecture and county
of GB/T 2260 from python-stdnum's ``cn/loc.dat``, historic names included, by full and short name (广西壮族自治区 →
广西, 恩施土家族苗族自治州 → 恩施 and 恩施州, 鄂城区 → 鄂城)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Division", "divisions", "short_forms"]

_SUFFIXES_L1 = ("特别行政区", "自治区", "省", "市")
_SUFFIXES_L2 = ("自治州", "地区", "市", "盟")
_SUFFIXES_L3 = ("自治县", "自治旗", "林区", "特区", "新区", "区", "县", "市", "旗")


@lru_cache(maxsize=1)
def _ethnic_names() -> tuple[str, ...]:
    """The 55 minority names (`土家`, `维吾尔` …) with 族 and without, longest first."""
    path = resources.files("liangshi.common").joinpath("codes/gbt3304_ethnicity.csv")
    names: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        name = line.split(",")[1].strip()
        if name and name != "汉":
            names += [name + "族", name]
    names += ["各族"]
    return tuple(sorted(set(names), key=len, reverse=True))


def short_forms(name: str, level: int) -> set[str]:
    """Short forms of a division name: `广西壮族自治区` → 广西, `恩施土家族苗族自治州` → 恩施, `鄂城区` → 鄂城."""
    suffixes = {1: _SUFFIXES_L1, 2: _SUFFIXES_L2, 3: _SUFFIXES_L3}[level]
    shorts: set[str] = set()
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            if suffix.startswith("自治") or suffix == "自治区":
                changed = True
                while changed:
                    changed = False
                    for ethnic in _ethnic_names():
                        if stem.endswith(ethnic) and len(stem) - len(ethnic) >= 2:
                            stem = stem[: -len(ethnic)]
                            changed = True
                            break
            shorts.add(stem)
            if suffix == "自治州":
                shorts.add(stem + "州")  # 恩施州, 延边州
            break
    if level == 1:
        shorts |= {n for n in ("内蒙古", "黑龙江") if name.startswith(n)}
    return {s for s in shorts if len(s) >= 2 and s != name}


# ---------------------------------------------------------------------------------------------------------
# Division index from stdnum's loc.dat
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Division:
    """A division: GB/T 2260 code, level (1 province, 2 city, 3 district/county), full name, parents."""

    code: str
    level: int
    name: str
    province: str
    city: str | None
    current: bool


_LOC_PROVINCE = re.compile(r'^(\d{2}) province="([^"]*)"')
_LOC_COUNTY = re.compile(r'^\s+(\d{4}) county="([^"]*)"')
_LOC_PART = re.compile(r"^(?:\[(\d*)-(\d*)\])?(.+)$")
# Municipalities (and the SARs) are their own city.
_MUNICIPALITIES = frozenset({"11", "12", "31", "50", "81", "82"})
_PLACEHOLDERS = frozenset({"市辖区", "县", "市区", "郊区", "矿区", "城区", "辖区"})


def _parts(value: str) -> list[tuple[str, bool]]:
    """Names in a loc.dat value like ``[1983-2000]石灰窑区,[2001-]西塞山区``, each with `current`."""
    result: list[tuple[str, bool]] = []
    for part in re.split(r",(?=\[)", value):
        m = _LOC_PART.match(part.strip())
        if m:
            result.append((m.group(3).strip(), not m.group(2)))
    return result


@dataclass(frozen=True, slots=True)
class _Candidate:
    division: Division
    full: bool


@lru_cache(maxsize=1)
def divisions() -> tuple[dict[str, list[_Candidate]], int]:
    """Name (full or short) → candidate divisions; and the longest name length."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    raw: dict[str, list[tuple[str, bool]]] = {}
    for line in text.splitlines():
        m = _LOC_PROVINCE.match(line)
        if m:
            province_code = m.group(1)
            continue
        m = _LOC_COUNTY.match(line)
        if m:
            raw[province_code + m.group(1)] = _parts(m.group(2))

    def current_name(code: str) -> str | None:
        names = raw.get(code)
        if not names:
            return None
        current = [n for n, cur in names if cur]
        return (current or [names[-1][0]])[-1]

    index: dict[str, list[_Candidate]] = {}

    def add(name: str, division: Division) -> None:
        index.setdefault(name, []).append(_Candidate(division, True))
        for short in short_forms(name, division.level):
            index.setdefault(short, []).append(_Candidate(division, False))

    for code, names in raw.items():
        p2, c2, d2 = code[:2], code[2:4], code[4:]
        province = current_name(p2 + "0000")
        if province is None:
            continue
        if c2 == "00" and d2 == "00":
            for name, cur in names:
                add(name, Division(code, 1, name, province, province if p2 in _MUNICIPALITIES else None, cur))
            continue
        parent_city = current_name(p2 + c2 + "00")
        is_city_level = d2 == "00" or c2 == "90" or (parent_city is not None and "直辖" in parent_city)
        if p2 in _MUNICIPALITIES:
            is_city_level = False
        for name, cur in names:
            if name in _PLACEHOLDERS or "直辖" in name or "辖区" in name:
                continue
            if d2 == "00" and p2 in _MUNICIPALITIES:
                continue
            if is_city_level:
                add(name, Division(code, 2, name, province, name, cur))
            else:
                city = province if p2 in _MUNICIPALITIES else parent_city
                if city is not None and ("直辖" in city or city in _PLACEHOLDERS):
                    city = None
                add(name, Division(code, 3, name, province, city, cur))
    for candidates in index.values():
        # full names before short ones, current before historic, then by code (stable)
        candidates.sort(key=lambda c: (not c.full, not c.division.current, c.division.code))
    longest = max(len(name) for name in index)
    return index, longest
