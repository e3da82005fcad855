"""Stage 3, compare: the domain comparison levels, as data (field, level, SQL condition, m, u).

Each comparison is a list of levels tried in order; the first whose SQL condition holds is the pair's level
for that field. The conditions read the normalised columns of :mod:`liangshi.linkage.normalise` with the
``_l``/``_r`` suffixes Splink uses, and are written once for both SQL engines: ``{jw}`` and ``{dl}`` stand for
the Jaro–Winkler similarity and the Damerau–Levenshtein distance (DuckDB built-ins; on Spark the UDFs from
the jar that ships with Splink).

m is P(level | same person), u is P(level | different persons). They are set by hand from what the domain
says (below, per level) rather than trained, so the model is the same on every engine and every batch, and
a pair's explanation does not change with the data it arrives with. A level's weight is log2(m/u).

Domain rules encoded here:

- two ID numbers that are both valid (GB 11643 check character right) but differ are strong evidence
  against: a single wrong digit or a swap of two adjacent digits always breaks the check character, so the
  same person's two valid numbers differ only after two errors or a re-issue, while twins and siblings have
  valid numbers that differ only in the sequence digits. The evidence is softened when either record's own
  birth date or sex disagrees with its ID number's segments (the number may not be this person's);
- an invalid ID number one substitution or one adjacent swap away from the other (valid) one is a typo;
- names: same as written; same after traditional→simplified; same pinyin with surname readings
  (homophones); same tokens in another order (Latin names); same pinyin once the sound mergers of Hubei
  speech are folded (near-homophones a clerk writes from a spoken name: n/l, h/f before u, huang/wang,
  en/eng and in/ing; :data:`liangshi.linkage.normalise.DIALECT_FOLDS`), weaker than a homophone and not
  counted as the names agreeing for a shared phone or address (twins 陈林/陈玲 share both); same surname and
  a similar given name;
- birth dates: exact, day and month swapped, one component off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "COMPARISONS",
    "FUNCTIONS",
    "PRIOR",
    "Comparison",
    "Level",
    "prior_weight",
    "sql_condition",
]


@dataclass(frozen=True)
class Level:
    """One comparison level: its name, SQL condition (with {jw}/{dl}), m and u (None on the null level)."""

    name: str
    sql: str
    m: float = 1.0
    u: float = 1.0
    null: bool = False

    @property
    def weight(self) -> float:
        """log2 Bayes factor; 0 for the null level."""
        return 0.0 if self.null else math.log2(self.m / self.u)


@dataclass(frozen=True)
class Comparison:
    """A field and its levels, most specific first; the first level is the null level, the last is ELSE."""

    field: str
    levels: tuple[Level, ...]


#: SQL function names per engine.
FUNCTIONS: dict[str, dict[str, str]] = {
    "duckdb": {"jw": "jaro_winkler_similarity", "dl": "damerau_levenshtein"},
    "spark": {"jw": "jaro_winkler", "dl": "damerau_levenshtein"},
}


def sql_condition(level: Level, dialect: str) -> str:
    """The level's SQL condition for an engine (``duckdb`` or ``spark``)."""
    return level.sql.format(**FUNCTIONS[dialect])


#: Both names are Latin-script (their written form is their letter key).
_LATIN = "name_w_l = name_py_l AND name_w_r = name_py_r"
#: The names agree, or one is missing.
_NAMES_AGREE = (
    "(name_py_l IS NULL OR name_py_r IS NULL OR name_py_l = name_py_r OR name_sorted_l = name_sorted_r"
    " OR (name_w_l = name_py_l AND name_w_r = name_py_r AND {jw}(name_py_l, name_py_r) >= 0.9))"
)


def _null(*columns: str) -> Level:
    sql = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return Level("null", sql, null=True)


# Same-person probabilities (m) describe department data: about one record in ten carries an error in a
# given field. Chance agreement (u) is for a city of a few million: a given full name is shared by about
# 1 in 5,000 random pairs, a birth date by 1 in 25,000, an ID number by nobody.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "id_number",
        (
            _null("id"),
            Level("exact", "id_l = id_r", m=0.90, u=1e-8),
            # Twins and siblings: both numbers valid and each consistent with its own record.
            Level(
                "id_both_valid_differ",
                "id_valid_l AND id_valid_r AND id_ok_l AND id_ok_r",
                m=0.0005,
                u=0.9999,
            ),
            Level("id_both_valid_differ_suspect", "id_valid_l AND id_valid_r", m=0.01, u=0.9999),
            Level(
                "id_typo_one_edit",
                "(id_valid_l OR id_valid_r) AND levenshtein(id_l, id_r) = 1",
                m=0.04,
                u=1e-8,
            ),
            Level(
                "id_typo_adjacent_swap",
                "(id_valid_l OR id_valid_r) AND {dl}(id_l, id_r) = 1",
                m=0.02,
                u=1e-9,
            ),
            # Neither number valid (a foreign or old document, or both mistyped): close is still telling.
            Level(
                "id_near_unvalidated",
                "NOT id_valid_l AND NOT id_valid_r AND {dl}(id_l, id_r) <= 1",
                m=0.03,
                u=1e-6,
            ),
            Level("id_other", "ELSE", m=0.01, u=0.9999),
        ),
    ),
    Comparison(
        "name",
        (
            _null("name_py"),
            Level("exact", "name_w_l = name_w_r", m=0.84, u=2e-4),
            Level("simplified_equal", "name_s_l = name_s_r", m=0.04, u=2e-4),
            Level("pinyin_equal", "name_py_l = name_py_r", m=0.05, u=5e-4),
            Level("tokens_reordered", "name_sorted_l = name_sorted_r", m=0.01, u=2e-4),
            # Hubei near-homophones (刘/牛, 黄/王, 陈/程, 林/玲): about one department record in fifty is written
            # from speech with one of the mergers; the folded key is shared by about twice as many random
            # pairs as the pinyin (王 and 黄 are both common surnames, -in/-ing common given-name finals).
            Level("near_homophone", "name_dialect_l = name_dialect_r", m=0.02, u=1e-3),
            Level("latin_similar", f"{_LATIN} AND {{jw}}(name_py_l, name_py_r) >= 0.92", m=0.03, u=1e-3),
            Level(
                "latin_surname_equal_given_similar",
                f"{_LATIN} AND surname_py_l = surname_py_r AND {{jw}}(given_py_l, given_py_r) >= 0.88",
                m=0.01,
                u=1e-3,
            ),
            Level(
                "latin_one_part_equal",
                f"{_LATIN} AND (surname_py_l = surname_py_r OR given_py_l = given_py_r"
                " OR surname_py_l = given_py_r OR given_py_l = surname_py_r)",
                m=0.01,
                u=0.01,
            ),
            Level(
                "latin_somewhat_similar", f"{_LATIN} AND {{jw}}(name_py_l, name_py_r) >= 0.8", m=0.01, u=0.02
            ),
            # Siblings often share the surname and the generation character: one character off says little.
            Level("one_character_differs", "levenshtein(name_s_l, name_s_r) = 1", m=0.01, u=0.02),
            Level("different", "ELSE", m=0.005, u=0.96),
        ),
    ),
    Comparison(
        "sex",
        (
            _null("sex"),
            Level("equal", "sex_l = sex_r", m=0.98, u=0.5),
            Level("different", "ELSE", m=0.02, u=0.5),
        ),
    ),
    Comparison(
        "birth_date",
        (
            _null("dob"),
            Level("exact", "dob_l = dob_r", m=0.90, u=4e-5),
            Level(
                "day_month_swapped",
                "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2)"
                " AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)",
                m=0.03,
                u=2e-6,
            ),
            Level(
                "one_component_off",
                "(substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 6, 2))"
                " OR (substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 9, 2) = substr(dob_r, 9, 2))"
                " OR (substr(dob_l, 6, 5) = substr(dob_r, 6, 5))",
                m=0.05,
                u=4e-3,
            ),
            Level("one_digit_off", "{dl}(dob_l, dob_r) <= 1", m=0.01, u=1e-3),
            Level("different", "ELSE", m=0.01, u=0.995),
        ),
    ),
    # A phone or an address shared by two differently named people is what a household looks like: it says
    # they live together, not that they are one person (the independence assumption of Fellegi–Sunter
    # fails for family members), so it weighs nothing.
    Comparison(
        "phone",
        (
            _null("phone"),
            Level("exact", f"phone_l = phone_r AND {_NAMES_AGREE}", m=0.60, u=1e-5),
            Level("shared_by_other_name", "phone_l = phone_r", m=0.005, u=0.005),
            Level("one_edit", f"levenshtein(phone_l, phone_r) = 1 AND {_NAMES_AGREE}", m=0.03, u=1e-5),
            Level("different", "ELSE", m=0.36, u=0.99998),
        ),
    ),
    Comparison(
        "address",
        (
            _null("addr"),
            Level("exact", f"addr_l = addr_r AND {_NAMES_AGREE}", m=0.5, u=1e-3),
            Level("shared_by_other_name", "addr_l = addr_r", m=0.005, u=0.005),
            Level("similar", f"{{jw}}(addr_l, addr_r) >= 0.92 AND {_NAMES_AGREE}", m=0.2, u=5e-3),
            Level("somewhat_similar", "{jw}(addr_l, addr_r) >= 0.8", m=0.1, u=0.05),
            Level("different", "ELSE", m=0.19, u=0.94),
        ),
    ),
)

#: Prior probability that two random records are the same person (a city's register against itself).
PRIOR: float = 1e-5


def prior_weight(prior: float = PRIOR) -> float:
    """log2 prior odds."""
    return math.log2(prior / (1 - prior))
