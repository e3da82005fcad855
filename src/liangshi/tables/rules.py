"""Age bands and the layout of the standard statistical tables (pure: no session, no clock)."""

from __future__ import annotations

import datetime as dt

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


def sex_key(sex: str) -> str:
    """GB/T 2261.1 male/female, everything else unstated."""
    return sex if sex in ("1", "2") else "other"
