"""National code tables (GB/T 2261, 3304, 4658, 4761, census 2010) and the census mappings.

The data are CSV files in ``liangshi/common/codes/`` loaded once with importlib.resources.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from liangshi.errors import ValidationFailed

__all__ = [
    "TABLE_NAMES",
    "CodeTable",
    "ezhou_areas",
    "table",
    "to_census_education",
    "to_census_relationship",
]

_PACKAGE = "liangshi.common"
_DATA_DIR = "codes"

# table name -> (CSV file, Chinese title, English title)
_TABLES: dict[str, tuple[str, str, str]] = {
    "sex": ("gbt2261_1_sex.csv", "性别代码（GB/T 2261.1）", "sex (GB/T 2261.1)"),
    "marital_status": (
        "gbt2261_2_marital.csv",
        "婚姻状况代码（GB/T 2261.2）",
        "marital status (GB/T 2261.2)",
    ),
    "ethnicity": ("gbt3304_ethnicity.csv", "民族代码（GB/T 3304）", "ethnicity (GB/T 3304)"),
    "education": ("gbt4658_education.csv", "学历代码（GB/T 4658）", "education (GB/T 4658)"),
    "relationship": ("gbt4761_relationship.csv", "家庭关系代码（GB/T 4761）", "relationship (GB/T 4761)"),
    "census_relationship": (
        "census2010_relationship.csv",
        "人口普查与户主关系代码",
        "census relationship to household head",
    ),
    "census_education": ("census2010_education.csv", "人口普查受教育程度代码", "census education level"),
    # No GB/T table exists for it: the categories of the public-security floating-population registration form.
    "stay_reason": (
        "stay_reason.csv",
        "暂住事由（流动人口登记分类）",
        "reason for stay (floating population)",
    ),
}
TABLE_NAMES: tuple[str, ...] = tuple(_TABLES)


def _read_csv(filename: str) -> list[dict[str, str]]:
    """Rows of one packaged CSV file as dicts."""
    text = resources.files(_PACKAGE).joinpath(_DATA_DIR, filename).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class CodeTable:
    """One code table: ``entries`` maps code to its Chinese name, in file order."""

    name: str
    title_zh: str
    title_en: str
    entries: dict[str, str]

    def contains(self, code: str) -> bool:
        """Whether the code exists in this table."""
        return code in self.entries

    def __contains__(self, code: object) -> bool:
        """``code in table``."""
        return isinstance(code, str) and code in self.entries

    def validate(self, code: str, *, field: str) -> str:
        """Return the (stripped) code if it exists, else raise ValidationFailed ``code.unknown``."""
        value = code.strip() if isinstance(code, str) else code
        if not isinstance(value, str) or value not in self.entries:
            raise ValidationFailed(
                "code.unknown",
                f"字段“{field}”的代码“{code}”不在{self.title_zh}中",
                f"Field {field!r}: code {code!r} is not in the {self.title_en} table",
                {"field": field, "input": code, "table": self.name},
            )
        return value

    def lookup(self, code: str, *, field: str | None = None) -> str:
        """The Chinese name of a code; raises ValidationFailed ``code.unknown`` for an unknown code."""
        return self.entries[self.validate(code, field=field or self.name)]


@cache
def table(name: str) -> CodeTable:
    """The code table with this name (see TABLE_NAMES); KeyError for an unknown table name."""
    if name not in _TABLES:
        raise KeyError(f"unknown code table {name!r}; known: {', '.join(TABLE_NAMES)}")
    filename, title_zh, title_en = _TABLES[name]
    entries = {row["code"].strip(): row["name"].strip() for row in _read_csv(filename)}
    return CodeTable(name=name, title_zh=title_zh, title_en=title_en, entries=entries)


@lru_cache(maxsize=1)
def _census_mapping() -> dict[str, dict[str, str | None]]:
    """The GB-to-census mappings from census_mapping.csv: table -> gb code -> census code (None = no code)."""
    mapping: dict[str, dict[str, str | None]] = {"relationship": {}, "education": {}}
    for row in _read_csv("census_mapping.csv"):
        census = row["census_code"].strip()
        mapping[row["table"].strip()][row["gb_code"].strip()] = census or None
    return mapping


def to_census_relationship(gbt4761_code: str, *, field: str = "relationship") -> str:
    """Map a GB/T 4761 relationship code to the census 2010 code (0 head … 9 other)."""
    code = table("relationship").validate(gbt4761_code, field=field)
    census = _census_mapping()["relationship"][code]
    assert census is not None
    return census


def to_census_education(gbt4658_code: str, *, field: str = "education") -> str | None:
    """Map a GB/T 4658 education code to the census 2010 level (1–7); None for 90 其他 (no equivalent)."""
    code = table("education").validate(gbt4658_code, field=field)
    return _census_mapping()["education"][code]


@lru_cache(maxsize=1)
def _ezhou_rows() -> tuple[tuple[str, str, str, str | None], ...]:
    """The parsed rows of ezhou_areas.csv."""
    return tuple(
        (row["code"], row["name"], row["level"], row["parent"] or None)
        for row in _read_csv("ezhou_areas.csv")
    )


def ezhou_areas() -> list[dict[str, str | None]]:
    """Ezhou's areas as dicts with code, name, level and parent (None for the province); a fresh list."""
    return [
        {"code": code, "name": name, "level": level, "parent": parent}
        for code, name, level, parent in _ezhou_rows()
    ]
