"""Stage 2, block: which pairs are compared at all — equality on indexed keys, never all pairs.

Keys (computed once per record by :func:`add_keys`, so that both engines join on plain columns):

- the ID number; its last 9 characters (a typo in the first half); its first 9 with the surname pinyin
  (a typo in the second half);
- surname pinyin + birth date (homophone, traditional or changed given names);
- full-name pinyin + birth date with day and month in either order (``dob_set``: swapped day/month);
- full-name pinyin + the ID number's birth segment (records without a birth date);
- phone; full-name pinyin + address;
- birth date + sorted name tokens' first letters (Latin names with typos in both parts).

A rule adds pairs; Splink scores each pair once whatever the number of rules that found it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

__all__ = ["BLOCKING_RULES", "KEY_COLUMNS", "add_keys"]

KEY_COLUMNS: tuple[str, ...] = ("dob_set", "id_birth", "id_head9", "id_tail9", "initials")

BLOCKING_RULES: tuple[str, ...] = (
    "l.id = r.id",
    "l.surname_py = r.surname_py AND l.dob = r.dob",
    "l.name_py = r.name_py AND l.dob_set = r.dob_set",
    "l.name_py = r.name_py AND l.id_birth = r.id_birth",
    "l.id_tail9 = r.id_tail9",
    "l.id_head9 = r.id_head9 AND l.surname_py = r.surname_py",
    "l.phone = r.phone",
    "l.name_py = r.name_py AND l.addr = r.addr",
    "l.dob = r.dob AND l.initials = r.initials",
)


def add_keys(frame: pandas.DataFrame) -> pandas.DataFrame:
    """Add the blocking key columns to a normalised frame (in place; returned for chaining)."""
    import pandas as pd

    dob = frame["dob"].astype("string")
    month, day = dob.str.slice(5, 7), dob.str.slice(8, 10)
    low = month.where(month <= day, day)
    high = day.where(month <= day, month)
    frame["dob_set"] = (dob.str.slice(0, 4) + low + high).astype(object)
    ident = frame["id"].astype("string")
    long_id = ident.str.len() >= 15
    frame["id_birth"] = ident.str.slice(6, 14).where(ident.str.len() == 18).astype(object)
    frame["id_head9"] = ident.str.slice(0, 9).where(long_id).astype(object)
    frame["id_tail9"] = ident.str.slice(-9).where(long_id).astype(object)
    given = frame["given_py"].astype("string").str.slice(0, 1)
    surname = frame["surname_py"].astype("string").str.slice(0, 1)
    frame["initials"] = (surname.where(surname <= given, given) + given.where(surname <= given, surname)).astype(
        object
    )
    for column in KEY_COLUMNS:
        frame[column] = frame[column].where(pd.notna(frame[column]), None)
    return frame
