"""The linkage engine's value types: a record to link, a field's evidence, a candidate, the thresholds.

Every stage (``normalise``, ``score``, ``master``, ``files``, ``evaluate``) and the public face ``api`` use them;
they live apart so the stages do not import the face that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkRecord:
    """One record to link, as written by its source (the engine normalises it)."""

    record_id: str
    source: str = ""
    name: str | None = None
    sex: str | None = None  # 男/女/male/female/1/2/M/F or None
    birth_date: str | None = None  # any common written form
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    person_id: int | None = None  # set on master records (the stable person id)


@dataclass(frozen=True)
class FieldEvidence:
    """What one field says about a pair: its comparison level and its weight (log2 Bayes factor)."""

    field: str  # "name", "id_number", ... and "prior" for the prior odds
    level: str  # e.g. "exact", "pinyin_equal", "id_typo_one_edit", "id_both_valid_differ", "null"
    weight: float


@dataclass(frozen=True)
class Candidate:
    """A master person a new record may be, with the pair's probability, total weight and evidence."""

    record_id: str
    person_id: int
    probability: float
    weight: float
    evidence: tuple[FieldEvidence, ...]


#: Probability at/above which a link is made automatically.
ACCEPT: float = 0.99
#: Probability at/above which (and below ACCEPT) a pair goes to human review.
REVIEW: float = 0.5
