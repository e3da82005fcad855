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

Every core rule is capped as well (issue 19): a block holds at most ``BLOCK_CAP`` records. A frequent key (a
switchboard phone shared by a factory, a dormitory address, a common surname with 1 January) would otherwise
grow into a near-cartesian block whose pairs fill memory. :func:`cap_blocks` gives each core rule its own key
column (``blk_<i>``, the rule's key values joined): a block over the cap is split by the refining keys of
``REFINERS`` in turn (birth year, sex, initials, surname), and what is still over the cap after all of them
drops out of that rule (the other rules still see its records). The splits are kept as the set of oversize key
values per stage, so that a master index and the batches matched against it cut their blocks the same way.
Pairs per record are therefore at most ``BLOCK_CAP`` per rule, whatever the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

__all__ = [
    "BLOCKING_RULES",
    "BLOCK_CAP",
    "BLOCK_COLUMNS",
    "BROAD_BUDGET",
    "BROAD_RULES",
    "CAPPED_RULES",
    "KEY_COLUMNS",
    "RULE_KEYS",
    "BlockCuts",
    "add_keys",
    "apply_cuts",
    "cap_blocks",
    "rules_for",
]

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

#: The key columns each core rule joins on, in the order of :data:`BLOCKING_RULES`.
RULE_KEYS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("surname_py", "dob"),
    ("name_py", "dob_set"),
    ("name_py", "id_birth"),
    ("id_tail",),
    ("id_sorted",),
    ("id_head", "name_py"),
    ("phone",),
    ("addr",),
    ("dob", "initials"),
)

#: Records per block of one core rule (at most BLOCK_CAP * (BLOCK_CAP - 1) / 2 pairs per block).
BLOCK_CAP = 100

#: Keys that split an oversize block, in this order (a key the rule already joins on is skipped).
REFINERS: tuple[str, ...] = ("dob_year", "sex", "initials", "surname_py")

#: The capped key column of each core rule, and the rules on them.
BLOCK_COLUMNS: tuple[str, ...] = tuple(f"blk_{i}" for i in range(len(RULE_KEYS)))
CAPPED_RULES: tuple[str, ...] = tuple(f"l.{c} = r.{c}" for c in BLOCK_COLUMNS)

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
    """The core rules (capped, when :func:`cap_blocks` has run on the frame) plus the broad rules whose pair
    count fits ``budget`` pairs per record."""
    rules = list(CAPPED_RULES if BLOCK_COLUMNS[0] in frame.columns else BLOCKING_RULES)
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


#: Per core rule, per refining stage: the key values found over the cap at that stage.
BlockCuts = tuple[tuple[frozenset[str], ...], ...]


def _joined(frame: pandas.DataFrame, columns: Sequence[str]) -> pandas.Series:
    """The columns' values joined by a unit separator; None where any of them is missing."""
    import pandas as pd

    parts = [frame[c].astype("string") for c in columns]
    key = parts[0]
    for part in parts[1:]:
        key = key + "\x1f" + part
    return key.where(pd.notna(key), None).astype(object)


def _refiners(keys: Sequence[str]) -> tuple[str, ...]:
    return tuple(r for r in REFINERS if r not in keys)


def cap_blocks(frame: pandas.DataFrame, *, cap: int = BLOCK_CAP) -> BlockCuts:
    """Add the capped key column of every core rule to ``frame`` (in place); return the cuts made.

    A block with more than ``cap`` records is split by the next refining key; a block still over the cap when
    no refining key is left gets no key (its records leave this rule only).
    """
    cuts: list[tuple[frozenset[str], ...]] = []
    for column, keys in zip(BLOCK_COLUMNS, RULE_KEYS, strict=True):
        key = _joined(frame, keys)
        stages: list[frozenset[str]] = []
        for refiner in (*_refiners(keys), None):
            counts = key.value_counts()
            over = frozenset(str(v) for v in counts.index[counts.to_numpy() > cap])
            stages.append(over)
            if not over:
                break
            key = _split(frame, key, over, refiner)
        cuts.append(tuple(stages))
        frame[column] = key
    return tuple(cuts)


def apply_cuts(frame: pandas.DataFrame, cuts: BlockCuts) -> None:
    """Add the capped key columns to ``frame`` with cuts found elsewhere (a master index's), in place."""
    for column, keys, stages in zip(BLOCK_COLUMNS, RULE_KEYS, cuts, strict=True):
        key = _joined(frame, keys)
        refiners = (*_refiners(keys), None)
        for over, refiner in zip(stages, refiners, strict=False):
            if not over:
                break
            key = _split(frame, key, over, refiner)
        frame[column] = key


def _split(
    frame: pandas.DataFrame, key: pandas.Series, over: frozenset[str], refiner: str | None
) -> pandas.Series:
    """Keys in ``over`` extended by ``refiner`` (None: dropped, or where the refiner is missing)."""
    import pandas as pd

    hit = key.isin(over)
    if refiner is None:
        return key.where(~hit, None)
    extra = frame[refiner].astype("string")
    refined = (key.astype("string") + "\x1f" + extra).where(pd.notna(extra), None)
    return key.where(~hit, refined.astype(object))
