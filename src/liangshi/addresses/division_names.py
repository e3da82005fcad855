"""Short forms of division names (`liangshi.addresses.parsing`): 广西壮族自治区 → 广西, 恩施土家族苗族自治州 → 恩施
and 恩施州, 鄂城区 → 鄂城."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["short_forms"]

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
