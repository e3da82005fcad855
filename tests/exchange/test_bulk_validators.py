"""The column-wise fast paths agree with the per-value validators, and bulk import with per-row import.

The fast paths (liangshi.common.bulk, liangshi.exchange.person_columns) only ever accept a value when the API's
validator accepts it with the same result; everything else goes to the per-row validation. These tests hold
them to that on generated good and bad values, so the two can never drift apart.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from liangshi.access.service import SYSTEM
from liangshi.common import bulk, idnumber, phone, text
from liangshi.common.idnumber import compute_check_char
from liangshi.errors import ValidationFailed
from liangshi.exchange import person_columns, service
from liangshi.persons.models import DocumentVersion, PersonVersion
from tests.conftest import INSIDE, OUTSIDE, World, _reset

TODAY = dt.date(2026, 11, 27)
REGIONS = ["420704", "110105", "810000", "830000", "910000", "000000", "420702", "999999"]


@st.composite
def id_texts(draw: st.DrawFn) -> str:
    """ID numbers, mostly well-formed: right or wrong check characters, real or impossible dates, odd shapes."""
    region = draw(st.sampled_from(REGIONS) | st.from_regex(r"[0-9]{6}", fullmatch=True))
    year = draw(st.integers(1890, 2030))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    seq = draw(st.integers(0, 999))
    first17 = f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}"
    check = compute_check_char(first17)
    kind = draw(
        st.sampled_from(["valid", "valid", "valid", "wrong_check", "lower_x", "wide", "space", "15", "raw"])
    )
    if kind == "valid":
        return first17 + check
    if kind == "wrong_check":
        return first17 + draw(st.sampled_from([c for c in "0123456789X" if c != check]))
    if kind == "lower_x":
        return (first17 + check).lower()
    if kind == "wide":
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in first17 + check)
    if kind == "space":
        return f" {first17}{check}"
    if kind == "15":
        return region + f"{year % 100:02d}{month:02d}{day:02d}{seq:03d}"
    return draw(st.text(alphabet="0123456789Xx -", min_size=14, max_size=20))


def _slow_id(value: str) -> tuple[str, dt.date, str] | None:
    try:
        number = idnumber.check_document("resident_id", value, today=TODAY)
    except ValidationFailed:
        return None
    verdict = idnumber.check_id_number(number, today=TODAY)
    assert verdict.birth_date is not None
    return number, verdict.birth_date, "1" if verdict.sex == "male" else "2"


@settings(max_examples=1500, deadline=None)
@given(st.lists(id_texts(), min_size=1, max_size=20))
def test_resident_ids_agree_with_check_document(values: list[str]) -> None:
    fast = bulk.resident_ids(values, TODAY)
    for value, got in zip(values, fast, strict=True):
        slow = _slow_id(value)
        if got is not None:
            assert got == slow and got[0] == value
        elif (
            value == value.strip()
            and value.isascii()
            and len(value) == 18
            and value[:6] not in ("810000", "830000")
        ):
            # A number in normal form that the fast path passes over must be one the API refuses.
            assert slow is None or value[0] == "9" or not value[:17].isdigit() or value.upper() != value


NAME_ALPHABET = (
    "王李张欧阳丽〇㐀䶵龥豈丽𠀀"  # unified, extension A, compatibility (NFC rewrites them) and SIP ideographs
    "abcXYZéüñ"  # Latin
    " ·・-'’‐　\t\n<>;\\"  # separators, their variants, ideographic space, controls and refused characters
    "ＡＢ１２"  # full-width
    "\u200b\u0301"  # a format character and a combining accent
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.text(alphabet=NAME_ALPHABET, min_size=0, max_size=60), min_size=1, max_size=10))
def test_plain_names_agree_with_clean_person_name(values: list[str]) -> None:
    for value, got in zip(values, bulk.plain_names(values), strict=True):
        if got is not None:
            assert text.clean_person_name(value) == got == value


@st.composite
def phone_texts(draw: st.DrawFn) -> str:
    """Mostly 11-digit numbers starting with 1 (every prefix), and landlines, international and junk."""
    kind = draw(st.sampled_from(["mobile", "mobile", "mobile", "other"]))
    if kind == "mobile":
        return draw(st.from_regex(r"1[0-9]{10}", fullmatch=True))
    return draw(
        st.from_regex(r"(\+86|0086|0)?1[0-9]{9,11}", fullmatch=True)
        | st.from_regex(r"0[0-9]{2,3}-?[0-9]{7,8}", fullmatch=True)
        | st.text(alphabet="0123456789+- １", max_size=14)
    )


def _slow_phone(value: str) -> str | None:
    try:
        return phone.normalize_phone(value)
    except ValidationFailed:
        return None


@settings(max_examples=1500, deadline=None)
@given(st.lists(phone_texts(), min_size=1, max_size=20))
def test_mobile_phones_agree_with_normalize_phone(values: list[str]) -> None:
    for value, got in zip(values, bulk.mobile_phones(values), strict=True):
        slow = _slow_phone(value)
        if got is not None:
            assert got == slow
        elif len(value) == 11 and value.isdigit() and value[:2] >= "13" and not value.startswith("179"):
            # On its own domain the fast path is exact: it passes over only numbers the API refuses.
            assert slow is None


def test_birth_dates_by_text_cover_exactly_the_valid_days() -> None:
    dates = bulk.birth_dates_by_text(dt.date(2000, 3, 1))
    assert dates["19000101"] == dt.date(1900, 1, 1) and dates["20000229"] == dt.date(2000, 2, 29)
    assert "19000229" not in dates and "20000302" not in dates and "18991231" not in dates
    assert len(dates) == (dt.date(2000, 3, 1) - dt.date(1900, 1, 1)).days + 1


def test_memo_column_runs_the_validator_once_per_distinct_value() -> None:
    calls: list[str] = []

    def check(value: str) -> str:
        calls.append(value)
        if value == "bad":
            raise ValidationFailed("x", "错", "bad", {})
        return value.upper()

    assert bulk.memo_column(["a", "bad", "a", "b"], check) == ["A", bulk.MISSING, "A", "B"]
    assert sorted(calls) == ["a", "b", "bad"]


# ---- the whole loader: the column-wise path against the per-row path on the same file ---------------------------

HEADER = [
    "id_number",
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "hukou_region",
    "hukou_address",
    "education",
    "marital_status",
    "occupation",
    "phone",
    "community_code",
    "doc_type",
    "country",
]


def _messy_rows(n: int, seed: int) -> list[list[str]]:
    """Rows like department files: most clean, many with one or more defects or in unusual but valid forms."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 95))
        seq = rng.randrange(1, 1000)
        first17 = f"{rng.choice(['420704', '110105', '420702'])}{birth:%Y%m%d}{seq:03d}"
        number = first17 + compute_check_char(first17)
        sex = "男" if seq % 2 else "女"
        row = {
            "id_number": number,
            "name": rng.choice(["张伟", "欧阳娜", "李", "王小明", "José Müller", "阿卜杜·热合曼", "李 娜"]),
            "sex": rng.choice([sex, sex, "1" if seq % 2 else "2", "male" if seq % 2 else "female", "9"]),
            "birth_date": rng.choice(
                ["", birth.isoformat(), f"{birth:%Y/%m/%d}", f"{birth.year}年{birth.month}月{birth.day}日"]
            ),
            "ethnicity": rng.choice(["", "01", "汉", "汉族", "回族", "1", "02"]),
            "hukou_region": rng.choice(["", "420704", "110105", "４２０７０４"]),
            "hukou_address": rng.choice(["", "", "湖北省鄂州市鄂城区滨湖南路28号", "北京市朝阳区"]),
            "education": rng.choice(["", "21", "90", "10", "80"]),
            "marital_status": rng.choice(["", "10", "20"]),
            "occupation": rng.choice(["", "教师", "工人"]),
            "phone": rng.choice(
                ["", f"13{rng.randrange(10**9):09d}", f"19{rng.randrange(10**9):09d}", "027-88886666"]
            ),
            "community_code": INSIDE,
            "doc_type": rng.choice(["", "", "", "resident_id"]),
            "country": "",
        }
        defect = rng.randrange(0, 24)
        if defect == 0:
            row["id_number"] = number[:-1] + ("0" if number[-1] != "0" else "1")
        elif defect == 1:
            row["sex"] = "女" if seq % 2 else "男"
        elif defect == 2:
            row["name"] = rng.choice(["<b>", "", "王;", "Ａ--"])
        elif defect == 3:
            row["community_code"] = rng.choice([OUTSIDE, "999999999999"])
        elif defect == 4:
            row["birth_date"] = rng.choice(
                ["1990-02-30", "yesterday", (birth + dt.timedelta(days=1)).isoformat()]
            )
        elif defect == 5:
            row["ethnicity"] = rng.choice(["99", "火星族"])
        elif defect == 6:
            row["phone"] = rng.choice(["12345", "14000000000", "10086"])
        elif defect == 7:
            row["hukou_region"] = rng.choice(["4207", "abcdef"])
        elif defect == 8:
            row["id_number"] = number.lower() if number.endswith("X") else " " + number
        elif defect == 9:
            row["id_number"] = first17[:6] + first17[8:17]  # the old 15-digit form
        elif defect == 10:
            row["doc_type"], row["country"] = "passport", "USA"
            row["id_number"] = f"E{rng.randrange(10**8):08d}"
        elif defect == 11:
            row["id_number"] = ""
        elif defect == 12:
            row["hukou_address"] = "地址\x07"
        rows.append([row[k] for k in HEADER])
    # Repeats: the same person twice, and one number under another name.
    rows.extend(list(row) for row in rows[:20])
    for row in rows[20:40]:
        rows.append([row[0], "另一人", *row[2:]])
    return rows


def _snapshot(world: World) -> tuple[list[Any], list[Any]]:
    with world.session() as s:
        pv = PersonVersion
        persons = sorted(
            (
                tuple(r)
                for r in s.execute(
                    select(
                        pv.name,
                        pv.sex,
                        pv.birth_date,
                        pv.ethnicity,
                        pv.nationality,
                        pv.hukou_region,
                        pv.hukou_address,
                        pv.education,
                        pv.marital_status,
                        pv.occupation,
                        pv.workplace,
                        pv.phone,
                        pv.county_code,
                        pv.source_kind,
                        pv.source_ref,
                        pv.valid_from,
                        pv.valid_to,
                        pv.change,
                    )
                )
            ),
            key=repr,
        )
        dv = DocumentVersion
        documents = sorted(
            tuple(r) for r in s.execute(select(dv.doc_type, dv.number, dv.country, dv.county_code))
        )
    return persons, documents


def _run(world: World, path: Path) -> tuple[Any, ...]:
    result = service.import_file(
        world.sessions,
        kind="persons",
        path=path,
        source="police",
        actor=SYSTEM,
        clock=world.clock,
        chunk_size=500,
    )
    errors = [(e.line, e.field, e.code, e.message_zh, e.message_en) for e in result.errors]
    return (result.loaded, result.existing, errors, *_snapshot(world))


def test_column_wise_import_equals_per_row_import(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "persons.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(_messy_rows(1500, seed=3))
    real = person_columns.plain_persons
    plain: list[int] = []

    def counting(rows: Any, **kw: Any) -> Any:
        found = real(rows, **kw)
        plain.append(sum(p is not None for p in found))
        return found

    monkeypatch.setattr(person_columns, "plain_persons", counting)
    fast = _run(world, path)
    with world.session() as session:
        _reset(session)
    # The same file with the column-wise path switched off: every row validated one by one.
    monkeypatch.setattr(person_columns, "plain_persons", lambda rows, **_: [None] * len(rows))
    slow = _run(world, path)
    # The file has every kind: most rows load, repeats count as existing, defects of each kind are reported.
    assert fast[0] > 800 and fast[1] > 5 and len({e[2] for e in fast[2]}) >= 10
    assert sum(plain) > 400  # and the column-wise path took a good part of them
    assert fast == slow
