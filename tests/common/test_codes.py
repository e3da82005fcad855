"""Specification of the code tables and the GB-to-census mappings."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from liangshi.common.codes import (
    TABLE_NAMES,
    ezhou_areas,
    table,
    to_census_education,
    to_census_relationship,
)
from liangshi.errors import ValidationFailed

SHARED_CODES = Path("/work/shared/codes")
PACKAGED_CODES = resources.files("liangshi.common").joinpath("codes")


def test_all_tables_load() -> None:
    assert set(TABLE_NAMES) == {
        "sex",
        "marital_status",
        "ethnicity",
        "education",
        "relationship",
        "census_relationship",
        "census_education",
        "stay_reason",
    }
    for name in TABLE_NAMES:
        assert table(name).entries, name
        assert table(name).name == name


def test_sex_table() -> None:
    sex = table("sex")
    assert sex.entries == {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}
    assert sex.lookup("1") == "男性"


def test_ethnicity_has_56_groups_with_two_digit_codes() -> None:
    ethnicity = table("ethnicity")
    assert len(ethnicity.entries) == 56
    assert ethnicity.lookup("01") == "汉"
    assert ethnicity.contains("56")
    assert not ethnicity.contains("1")


def test_validate_returns_the_stripped_code() -> None:
    assert table("marital_status").validate(" 20 ", field="marital_status") == "20"


def test_unknown_code_names_table_and_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        table("relationship").validate("03", field="relation_to_head")
    err = info.value
    assert err.code == "code.unknown"
    assert err.data == {"field": "relation_to_head", "input": "03", "table": "relationship"}
    assert "GB/T 4761" in err.message_zh and "relation_to_head" in err.message_zh
    assert "GB/T 4761" in err.message_en and "relation_to_head" in err.message_en


def test_lookup_of_unknown_code_raises() -> None:
    with pytest.raises(ValidationFailed):
        table("education").lookup("99")


def test_in_operator() -> None:
    assert "10" in table("marital_status")
    assert 10 not in table("marital_status")


def test_unknown_table_name() -> None:
    with pytest.raises(KeyError):
        table("religion")


@pytest.mark.parametrize(
    ("gb", "census"),
    [
        ("01", "0"),
        ("02", "0"),
        ("10", "1"),
        ("12", "1"),
        ("20", "2"),
        ("27", "2"),
        ("28", "6"),
        ("31", "2"),
        ("38", "6"),
        ("41", "7"),
        ("45", "9"),
        ("46", "9"),
        ("48", "7"),
        ("51", "3"),
        ("53", "4"),
        ("56", "4"),
        ("57", "3"),
        ("61", "5"),
        ("65", "9"),
        ("66", "5"),
        ("71", "8"),
        ("72", "9"),
        ("77", "8"),
        ("78", "9"),
        ("80", "9"),
        ("93", "9"),
        ("99", "9"),
    ],
)
def test_relationship_to_census(gb: str, census: str) -> None:
    assert to_census_relationship(gb) == census


@pytest.mark.parametrize(
    ("gb", "census"),
    [
        ("11", "7"),
        ("19", "7"),
        ("21", "6"),
        ("28", "6"),
        ("31", "5"),
        ("41", "4"),
        ("47", "4"),
        ("61", "4"),
        ("71", "3"),
        ("73", "3"),
        ("81", "2"),
        ("90", None),
    ],
)
def test_education_to_census(gb: str, census: str | None) -> None:
    assert to_census_education(gb) == census


def test_every_gb_code_has_a_census_mapping() -> None:
    for code in table("relationship").entries:
        assert table("census_relationship").contains(to_census_relationship(code))
    for code in table("education").entries:
        mapped = to_census_education(code)
        assert mapped is None or table("census_education").contains(mapped)


def test_mapping_of_unknown_code_raises() -> None:
    with pytest.raises(ValidationFailed) as info:
        to_census_relationship("03")
    assert info.value.data["field"] == "relationship"
    with pytest.raises(ValidationFailed):
        to_census_education("50")


def test_ezhou_areas() -> None:
    areas = ezhou_areas()
    by_code = {a["code"]: a for a in areas}
    assert by_code["420000"]["parent"] is None
    assert by_code["420700"] == {"code": "420700", "name": "鄂州市", "level": "city", "parent": "420000"}
    assert {c for c, a in by_code.items() if a["level"] == "district"} == {"420702", "420703", "420704"}
    for area in areas:
        assert area["parent"] is None or area["parent"] in by_code
    areas.clear()
    assert ezhou_areas(), "callers get a fresh list"


@pytest.mark.skipif(not SHARED_CODES.is_dir(), reason="shared code tables not available")
def test_packaged_csvs_equal_the_shared_ones() -> None:
    shared = sorted(SHARED_CODES.glob("*.csv"))
    assert shared
    for path in shared:
        packaged = PACKAGED_CODES.joinpath(path.name)
        assert packaged.is_file(), path.name
        assert packaged.read_bytes() == path.read_bytes(), path.name


def test_mapping_csv_is_well_formed() -> None:
    text = PACKAGED_CODES.joinpath("census_mapping.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert rows and set(rows[0]) == {"table", "gb_code", "census_code"}
    assert {r["table"] for r in rows} == {"relationship", "education"}
