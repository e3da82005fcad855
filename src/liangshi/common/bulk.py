"""Column-wise fast paths for the per-value validators, for bulk import.

Each function here answers, for a whole column at once, the question the per-value validator answers for one
value — but only for the common, plain shape of a value (an 18-digit resident ID number, an ideograph-only name, a
mainland mobile number). For a value in that shape it returns exactly what the per-value validator returns; for
anything else it returns None, and the caller runs the per-value validator (which accepts with its own
normalisation or refuses with its own error). So the rules stay in one place, and the fast paths can only ever
agree: tests/exchange/test_bulk_validators.py checks them against the per-value validators on generated values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from typing import TypeVar

import numpy as np
import phonenumbers

from liangshi.common import idnumber

__all__ = ["MISSING", "birth_dates_by_text", "memo_column", "mobile_phones", "plain_names", "resident_ids"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: A value the per-value validator refused (memo_column keeps the exception instead).
MISSING = object()

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
# An 18-character resident number already in normal form (NFKC, no spaces, upper-case X) and not a residence
# permit (81/82/83) or a foreigner's card (9): for these, normalisation is the identity.
_RESIDENT_18 = re.compile(r"[0-8]\d{16}[\dX]", re.ASCII)


@lru_cache(maxsize=4)
def birth_dates_by_text(today: dt.date) -> dict[str, dt.date]:
    """Every valid YYYYMMDD from 1900-01-01 to today, to its date (what GB 11643 allows as a birth date)."""
    first, last = dt.date(1900, 1, 1).toordinal(), today.toordinal()
    days = [dt.date.fromordinal(n) for n in range(first, last + 1)]
    return {f"{d.year}{d.month:02d}{d.day:02d}": d for d in days}


def resident_ids(values: Sequence[str | None], today: dt.date) -> list[tuple[str, dt.date, str] | None]:
    """For each value: (number, birth date, sex code "1"/"2") when it is a valid resident ID number in normal form.

    Agrees with ``idnumber.check_document("resident_id", v, today=today)`` returning ``v`` unchanged, with the
    birth date and sex ``idnumber.check_id_number`` reads from it. None means: not in the plain shape, or not
    valid — ask the per-value validator.
    """
    out: list[tuple[str, dt.date, str] | None] = [None] * len(values)
    picked = [
        i
        for i, v in enumerate(values)
        if v is not None and _RESIDENT_18.fullmatch(v) and v[:6] not in idnumber.HMT_REGION_CODES
    ]
    if not picked:
        return out
    raw = np.frombuffer("".join(values[i] for i in picked).encode("ascii"), dtype=np.uint8)  # type: ignore[misc]
    grid = raw.reshape(len(picked), 18)
    digits = grid[:, :17].astype(np.int64) - 48
    expected = _CHECK[(digits @ _WEIGHTS) % 11]
    good = (expected == grid[:, 17]).tolist()
    dates = birth_dates_by_text(today)
    for i, ok in zip(picked, good, strict=True):
        if not ok:
            continue
        v = values[i]
        assert v is not None
        born = dates.get(v[6:14])
        if born is not None:
            out[i] = (v, born, "1" if int(v[16]) % 2 else "2")
    return out


# Ideographs that NFC leaves alone (not the compatibility blocks F900-FAFF / 2F800-2FA1F, which NFC rewrites).
_PLAIN_NAME = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]{1,50}")


def plain_names(values: Sequence[str | None]) -> list[str | None]:
    """Names made of 1-50 unified ideographs only: ``text.clean_person_name`` returns them unchanged."""
    return [v if v is not None and _PLAIN_NAME.fullmatch(v) else None for v in values]


@lru_cache(maxsize=1)
def _cn_mobile() -> re.Pattern[str]:
    """Plain mainland mobile numbers that libphonenumber's CN metadata calls valid mobiles."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    assert metadata is not None
    general, mobile = metadata.general_desc, metadata.mobile
    assert general is not None and mobile is not None
    assert general.national_number_pattern and mobile.national_number_pattern
    assert 11 in general.possible_length and 11 in mobile.possible_length
    # 11 digits from 13 to 19 (not 179): such a number parses as itself, with no national prefix, carrier code or
    # international prefix to strip (CN's start 0, 11, 12 and 179). Valid = the general and the mobile pattern.
    return re.compile(
        rf"(?!179)(?=1[3-9]\d{{9}}\Z)(?=(?:{general.national_number_pattern})\Z)(?:{mobile.national_number_pattern})\Z",
        re.ASCII,
    )


def mobile_phones(values: Sequence[str | None]) -> list[str | None]:
    """E.164 for plain 11-digit mainland mobile numbers, as ``phone.normalize_phone`` gives; None otherwise."""
    match = _cn_mobile().match
    return ["+86" + v if v is not None and match(v) else None for v in values]


def memo_column(values: Sequence[K], check: Callable[[K], V]) -> list[V | object]:
    """Apply a per-value validator once per distinct value; a refused value becomes MISSING."""

    def verdict(value: K) -> V | object:
        try:
            return check(value)
        except Exception:  # any refusal sends the row to the per-row path
            return MISSING

    seen = {v: verdict(v) for v in set(values)}
    return [seen[v] for v in values]
