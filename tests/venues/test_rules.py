"""The venue rules: which stays count as identity-verified for the real-name real-time rate (issue 15)."""

from __future__ import annotations

import sqlite3

import pytest

from liangshi.venues import rules


@pytest.mark.parametrize(
    ("doc_type", "country", "person_id", "verified"),
    [
        ("resident_id", "CHN", None, True),  # a valid resident ID of nobody in the register
        ("hmt_residence_permit", None, None, True),
        ("foreign_pr_card", None, None, True),
        ("hk_mo_travel_permit", None, None, True),
        ("passport", "USA", None, True),
        ("passport", None, None, False),  # a passport without its nationality identifies nobody
        ("passport", "", None, False),
        ("passport", None, 7, True),  # … unless it matched a register person
    ],
)
def test_a_verified_document_counts_whether_or_not_the_guest_is_a_register_person(
    doc_type: str, country: str | None, person_id: int | None, verified: bool
) -> None:
    assert rules.identity_verified(doc_type, country, person_id) is verified
    # The SQL condition the live count and the daily aggregate use says the same.
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE s (doc_type TEXT, doc_country TEXT, person_id INTEGER)")
    db.execute("INSERT INTO s VALUES (?, ?, ?)", (doc_type, country, person_id))
    (got,) = db.execute(f"SELECT COUNT(*) FROM s WHERE {rules.identity_verified_sql('s.')}").fetchone()
    assert got == int(verified)
