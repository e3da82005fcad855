"""Age bands and the layout of the standard statistical tables (pure: no session, no clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

# Age bands of the population table (years completed on the table's day).
AGE_BANDS: tuple[tuple[str, str, int, int | None], ...] = (
    ("0-17", "0–17岁", 0, 17),
    ("18-34", "18–34岁", 18, 34),
    ("35-59", "35–59岁", 35, 59),
    ("60+", "60岁及以上", 60, None),
    ("unknown", "年龄不详", -1, -1),
)
SEXES: tuple[tuple[str, str, str], ...] = (
    ("1", "男", "Male"),
    ("2", "女", "Female"),
    ("other", "未说明", "Unstated"),
)


def age_on(birth: dt.date | None, on: dt.date) -> int | None:
    """Years completed on `on` (None without a birth date)."""
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band(birth: dt.date | None, on: dt.date) -> str:
    """The band key of a birth date on a day."""
    age = age_on(birth, on)
    if age is None or age < 0:
        return "unknown"
    for key, _label, low, high in AGE_BANDS:
        if key != "unknown" and age >= low and (high is None or age <= high):
            return key
    return "unknown"


def born_by(on: dt.date, years: int) -> dt.date:
    """The last birth date with `years` completed on `on` (`age_on(birth, on) >= years` ⇔ `birth <= born_by`): the
    same day `years` earlier, or 28 February when that year has no 29 February."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February, the earlier year not a leap year
        return dt.date(on.year - years, 2, 28)


def band_cutoffs(on: dt.date) -> list[tuple[str, dt.date]]:
    """The age bands as birth-date bounds on `on`, youngest first: a birth date after the bound is in the band
    (a set-based `age_band`: the table's GROUP BY bands in SQL with it); older than every bound is the last band.
    A birth after `on` (a negative age) and no birth date are `unknown`, as in `age_band`."""
    bands = [b for b in AGE_BANDS if b[0] != "unknown"]
    return [(key, born_by(on, high + 1)) for key, _label, _low, high in bands if high is not None]


def oldest_band() -> str:
    """The band of every age above the last bound (`60+`)."""
    return next(key for key, _label, _low, high in AGE_BANDS if key != "unknown" and high is None)


def sex_key(sex: str) -> str:
    """GB/T 2261.1 male/female, everything else unstated."""
    return sex if sex in ("1", "2") else "other"


# 住房 by use × status (the vocabularies of buildings/rules.py, named as the standard tables name them).
DWELLING_USE_NAMES: dict[str, tuple[str, str]] = {
    "residential": ("住宅", "Residential"),
    "shop": ("商铺", "Shop"),
    "office": ("办公", "Office"),
    "collective": ("集体宿舍", "Collective"),
    "key_unit": ("重点单位", "Key unit"),
    "other": ("其他", "Other"),
}
DWELLING_STATUS_NAMES: dict[str, tuple[str, str]] = {
    "occupied": ("自住", "Occupied"),
    "vacant": ("空置", "Vacant"),
    "rented": ("出租", "Rented"),
    "nobody_home": ("无人在家", "Nobody home"),
    "refused": ("拒绝登记", "Refused"),
    "demolished": ("已拆除", "Demolished"),
    "unknown": ("不详", "Unknown"),
}
# 出租房屋 per community: the counts, then the three rates recomputed from them (rentals/service.py defines them).
RENTAL_COUNTS: tuple[tuple[str, str, str], ...] = (
    ("registered", "已登记出租房屋", "Registered rentals"),
    ("rented_unregistered", "出租未登记", "Rented, not registered"),
    ("entered", "已录入", "Entered"),
    ("signed", "已签订责任书", "Agreement signed"),
)
RENTAL_RATES: tuple[tuple[str, str, str, str, str], ...] = (
    ("registration", "登记率", "Registration rate", "registered", "registered+rented_unregistered"),
    ("entry", "录入率", "Entry rate", "entered", "registered"),
    ("agreement", "签约率", "Agreement rate", "signed", "registered"),
)
# 场所住宿 by venue type: what is counted for each type over the month of the table's day.
STAY_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("stays", "入住人次", "Stays"),
    ("guests", "人数", "Guests"),
    ("foreign", "境外人员", "Foreign guests"),
    ("late", "迟报", "Late reports"),
    ("unknown", "未核实身份", "Unverified"),
)
# 采集进度 per community: the completeness counts (campaign/progress.py) grouped by what they count.
PROGRESS_COLUMNS: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    ("buildings", ("楼栋", "Buildings"), ("总数", "Total")),
    ("buildings_visited", ("楼栋", "Buildings"), ("已走访", "Visited")),
    ("buildings_partly", ("楼栋", "Buildings"), ("部分走访", "Partly visited")),
    ("dwellings", ("住房", "Dwellings"), ("总数", "Total")),
    ("dwellings_with_status", ("住房", "Dwellings"), ("已核状态", "With a status")),
    ("households", ("住户", "Households"), ("总数", "Total")),
    ("households_count_matched", ("住户", "Households"), ("人数相符", "Count matched")),
)
PROGRESS_RATES: tuple[tuple[str, str, str, str, str], ...] = (
    ("building_rate", "楼栋走访率", "Buildings visited", "buildings_visited", "buildings"),
    ("dwelling_rate", "住房状态率", "Dwellings with a status", "dwellings_with_status", "dwellings"),
    ("household_rate", "户人数相符率", "Household counts matched", "households_count_matched", "households"),
)
UNKNOWN_PROVINCE = ("籍贯不详", "Unknown")
UNKNOWN_REASON = ("事由不详", "Reason unknown")


def province_of(hukou_region: str | None) -> str:
    """The 2-digit province code of a hukou division code ('' when there is none)."""
    if hukou_region and len(hukou_region) >= 2 and hukou_region[:2].isdigit():
        return hukou_region[:2]
    return ""


def header_spans(labels: list[list[Any]], pick: int) -> list[list[tuple[int, int, int, str]]]:
    """The merged header cells of multi-level column labels, per level: (first column, columns spanned, levels
    spanned, text). Neighbouring columns with the same labels down to a level share its cell; a level whose
    label is None is covered by the cell above it (the xlsx merges and the web page's colspan/rowspan alike)."""
    depth = max((len(col) for col in labels), default=1)
    grid = [list(col) + [None] * (depth - len(col)) for col in labels]
    rows: list[list[tuple[int, int, int, str]]] = [[] for _ in range(depth)]
    for level in range(depth):
        i = 0
        while i < len(grid):
            label = grid[i][level]
            if label is None:
                i += 1
                continue
            down = level
            while down + 1 < depth and grid[i][down + 1] is None:
                down += 1
            j = i
            while (
                j + 1 < len(grid)
                and grid[j + 1][: level + 1] == grid[i][: level + 1]
                and all(x is None for x in grid[j + 1][level + 1 : down + 1])
            ):
                j += 1
            rows[level].append((i, j - i + 1, down - level + 1, str(label[pick])))
            i = j + 1
    return rows
