"""Stage 2, block: which pairs are compared at all — equality on indexed keys, never all pairs.

Keys (computed once per record by :func:`add_keys`, so that every engine joins on plain columns):

- the ID number; its second half (a wrong digit in the first half); its first half with the name pinyin
  (a wrong digit in the second half); its characters sorted (two digits swapped anywhere);
- surname pinyin + birth date (homophone, traditional or changed given names);
- full-name pinyin + birth date with day and month in either order (``dob_set``: swapped day/month);
- full-name pinyin + the ID number's birth segment (records without a birth date);
- phone; address (a household's members: few per key);
- birth date + the initials of the name (Latin names with typos in both parts).

Broad rules (birth date alone, name pinyin alone, surname + birth year) find more pairs in data with
heavier errors, but their pair count grows with the square of the input: :func:`rules_for` keeps a broad
rule only while the comparisons it generates stay within a budget (``BROAD_BUDGET`` = 1 pair per record),
counted exactly on the prepared frame before any engine runs, so DuckDB and Spark get the same rules.
A rule adds pairs; Splink scores each pair once whatever the number of rules that found it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

__all__ = ["BLOCKING_RULES", "BROAD_BUDGET", "BROAD_RULES", "KEY_COLUMNS", "add_keys", "rules_for"]

KEY_COLUMNS: tuple[str, ...] = (
    "dob_set",
    "dob_year",
    "id_birth",
    "id_head",
    "id_tail",
    "id_sorted",
    "initials",
)

BLOCKING_RULES: tuple[str, ...] = (
    "l.id = r.id",
    "l.surname_py = r.surname_py AND l.dob = r.dob",
    "l.name_py = r.name_py AND l.dob_set = r.dob_set",
    "l.name_py = r.name_py AND l.id_birth = r.id_birth",
    "l.id_tail = r.id_tail",
    "l.id_sorted = r.id_sorted",
    "l.id_head = r.id_head AND l.name_py = r.name_py",
    "l.phone = r.phone",
    "l.addr = r.addr",
    "l.dob = r.dob AND l.initials = r.initials",
)

#: Broad rules, each with the key columns it joins on (for counting its pairs).
BROAD_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("l.dob = r.dob", ("dob",)),
    ("l.name_py = r.name_py", ("name_py",)),
    ("l.surname_py = r.surname_py AND l.dob_year = r.dob_year", ("surname_py", "dob_year")),
    ("l.given_py = r.given_py AND l.dob_year = r.dob_year", ("given_py", "dob_year")),
)

#: Pairs per record a broad rule may add (on top of the core rules): a broad rule must not more than double
#: the work of a batch.
BROAD_BUDGET = 1


def rules_for(frame: pandas.DataFrame, *, budget: int = BROAD_BUDGET) -> list[str]:
    """The core rules plus the broad rules whose pair count fits ``budget`` pairs per record."""
    rules = list(BLOCKING_RULES)
    limit = budget * max(len(frame), 1)
    for rule, keys in BROAD_RULES:
        sizes = frame.dropna(subset=list(keys)).groupby(list(keys), sort=False).size()
        pairs = int((sizes * (sizes - 1) // 2).sum())
        if pairs <= limit:
            rules.append(rule)
    return rules


def add_keys(frame: pandas.DataFrame) -> pandas.DataFrame:
    """Add the blocking key columns to a normalised frame (in place; returned for chaining)."""
    # Imported here, not at the top: pandas takes about a second to load; only the linkage engine's frames need it.
    import pandas as pd

    dob = frame["dob"].astype("string")
    month, day = dob.str.slice(5, 7), dob.str.slice(8, 10)
    low = month.where(month <= day, day)
    high = day.where(month <= day, month)
    frame["dob_set"] = (dob.str.slice(0, 4) + low + high).astype(object)
    frame["dob_year"] = dob.str.slice(0, 4).astype(object)
    ids = frame["id"].tolist()
    frame["id_birth"] = [v[6:14] if isinstance(v, str) and len(v) == 18 else None for v in ids]
    frame["id_head"] = [v[: len(v) // 2] if isinstance(v, str) and len(v) >= 6 else None for v in ids]
    frame["id_tail"] = [v[len(v) // 2 :] if isinstance(v, str) and len(v) >= 6 else None for v in ids]
    frame["id_sorted"] = ["".join(sorted(v)) if isinstance(v, str) and len(v) >= 6 else None for v in ids]
    given = frame["given_py"].astype("string").str.slice(0, 1)
    surname = frame["surname_py"].astype("string").str.slice(0, 1)
    first = surname.where(surname <= given, given)
    second = given.where(surname <= given, surname)
    frame["initials"] = (first + second).astype(object)
    for column in KEY_COLUMNS:
        frame[column] = frame[column].where(pd.notna(frame[column]), None)
    return frame
