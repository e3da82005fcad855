"""Shared data for the linkage tests: valid ID numbers and the records of a small labelled family."""

from __future__ import annotations

import datetime as dt

from liangshi.common.idnumber import compute_check_char
from liangshi.linkage.api import LinkRecord

TODAY = dt.date(2026, 11, 27)  # the tests' fixed clock: ID numbers are valid as of this date


def valid_id(region: str, born: str, seq: int) -> str:
    """A valid GB 11643 number for region, birth date (YYYYMMDD) and sequence (odd = male)."""
    first17 = f"{region}{born}{seq:03d}"
    return first17 + compute_check_char(first17)


def wrong_digit(number: str, position: int) -> str:
    """The number with one digit changed (so its check character no longer fits)."""
    digit = str((int(number[position]) + 3) % 10)
    return number[:position] + digit + number[position + 1 :]


def swap_adjacent(number: str, position: int) -> str:
    """The number with the digits at position and position+1 swapped."""
    assert number[position] != number[position + 1]
    return number[:position] + number[position + 1] + number[position] + number[position + 2 :]


ZHANG_ID = valid_id("420704", "19900102", 17)
TWIN_ID = valid_id("420704", "19900102", 19)


def labelled_records() -> tuple[list[LinkRecord], dict[str, str]]:
    """A police record, its department copies with errors, a twin, a namesake; and the truth."""
    wang_id = valid_id("420703", "19851230", 24)
    records = [
        LinkRecord(
            "p1",
            "police",
            "张晓明",
            "1",
            "1990-01-02",
            ZHANG_ID,
            "13812345678",
            "湖北省鄂州市鄂城区凤凰社区3组12号",
        ),
        LinkRecord(
            "h1", "health", "張曉明", "男", "1990年1月2日", wrong_digit(ZHANG_ID, 15), "138 1234 5678", None
        ),
        LinkRecord("j1", "justice", "张晓明", "male", "1990/2/1", swap_adjacent(ZHANG_ID, 3), None, None),
        LinkRecord("c1", "civil", "张小明", "M", "19900102", ZHANG_ID[:6] + ZHANG_ID[8:17], None, None),
        # the twin: same surname, birth date, phone and address, the next valid ID number
        LinkRecord(
            "p2",
            "police",
            "张晓亮",
            "1",
            "1990-01-02",
            TWIN_ID,
            "13812345678",
            "湖北省鄂州市鄂城区凤凰社区3组12号",
        ),
        LinkRecord(
            "h2", "health", "张晓亮", "男", "1990.1.2", None, "13812345678", "鄂州市鄂城区凤凰社区3组12号"
        ),
        # a namesake of the twin's brother: same name and sex, another birth date and ID
        LinkRecord(
            "p3", "police", "张晓明", "1", "1990-07-15", valid_id("420102", "19900715", 33), None, None
        ),
        LinkRecord(
            "p4", "police", "王芳", "2", "1985-12-30", wang_id, "13987654321", "湖北省鄂州市华容区1号"
        ),
        LinkRecord("s1", "statistics", "王 芳", "女", "1985-12-30", None, "13987654321", None),
    ]
    truth = {
        "p1": "A",
        "h1": "A",
        "j1": "A",
        "c1": "A",
        "p2": "B",
        "h2": "B",
        "p3": "C",
        "p4": "D",
        "s1": "D",
    }
    return records, truth
