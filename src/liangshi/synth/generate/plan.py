"""Planning the synthetic city's geography: its communities, their fixed centres, and region labels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import liangshi.synth.rules as R
from liangshi.common.codes import ezhou_areas
from liangshi.common.idnumber import region_name

__all__ = [
    "DISTRICT_CENTRES",
    "PERSONS_PER_COMMUNITY",
    "CommunityPlan",
    "fixed_centre",
    "plan_communities",
    "region_label",
]

PERSONS_PER_COMMUNITY = 3000

DISTRICT_CENTRES = {"420704": (114.89, 30.39), "420703": (114.74, 30.53), "420702": (114.68, 30.10)}


@dataclass(frozen=True, slots=True)
class CommunityPlan:
    code: str
    name: str
    level: str  # community / village
    township: str
    persons: int
    index: int


def plan_communities(persons: int) -> list[CommunityPlan]:
    """Communities about 3,000 persons each; the first townships in gazetteer order get one each, then
    subdistricts (the urban core) weigh four times a town or township. Residents' committees 001–199 under
    subdistricts (and a town seat, 001, in towns with three or more communities), villages 200–399."""
    towns = [a for a in ezhou_areas() if a["level"] in ("subdistrict", "town", "township")]
    k = max(1, round(persons / PERSONS_PER_COMMUNITY))
    if k <= len(towns):
        counts = [1] * k + [0] * (len(towns) - k)
    else:
        weights = [4.0 if t["level"] == "subdistrict" else 1.0 for t in towns]
        extra = k - len(towns)
        shares = [extra * w / sum(weights) for w in weights]
        counts = [1 + int(s) for s in shares]
        order = sorted(range(len(towns)), key=lambda i: (-(shares[i] - int(shares[i])), i))
        for i in order[: k - sum(counts)]:
            counts[i] += 1
    plans: list[CommunityPlan] = []
    index = 0
    for town, count in zip(towns, counts, strict=True):
        urban_n = village_n = 0
        for j in range(count):
            urban = town["level"] == "subdistrict" or (town["level"] == "town" and j == 0 and count >= 3)
            if urban:
                urban_n += 1
                code = f"{town['code']}{urban_n:03d}"
            else:
                code = f"{town['code']}{199 + village_n + 1:03d}"
                village_n += 1
            name = R.stem_name(R.COMMUNITY_STEMS, index) + ("社区" if urban else "村")
            plans.append(
                CommunityPlan(code, name, "community" if urban else "village", str(town["code"]), 0, index)
            )
            index += 1
    base, rest = divmod(persons, len(plans))
    return [
        CommunityPlan(p.code, p.name, p.level, p.township, base + (1 if i < rest else 0), p.index)
        for i, p in enumerate(plans)
    ]


def fixed_centre(code: str, spread: float, parent: tuple[float, float]) -> tuple[float, float]:
    """A fixed point near the parent's centre (independent of the seed)."""
    rng = random.Random(f"geo:{code}")
    return parent[0] + rng.uniform(-spread, spread), parent[1] + rng.uniform(-spread, spread) * 0.8


@lru_cache(maxsize=512)
def region_label(code: str) -> str:
    """Province + county name of a GB/T 2260 county code."""
    province = region_name(code[:2] + "0000") or ""
    county = region_name(code) or ""
    if code[2:4] != "00" and code[4:] != "00":
        city = region_name(code[:4] + "00") or ""
        if city and not city.endswith("辖区"):
            return province + city + county
    return province + county
