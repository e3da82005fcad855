"""查人知住 in a handful of statements (issue 19): the SQL statements of one lookup by ID number, with a ceiling."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from liangshi.residence import service as residence
from tests import factories
from tests.conftest import INSIDE, World

# Statements of one 查人知住 by ID number for a person with one residence: 13 before issue 19 (the person read
# twice, an address's areas and their names in two statements), see docs/benchmarks.md; on PostgreSQL one more,
# the audit log's advisory lock.
CEILING = 11


def _lookup_statements(world: World, engine: Engine, number: str) -> tuple[dict[str, Any], list[str]]:
    """The lookup's result and its statements (the transaction's BEGIN and the test's own reading of the
    persona not counted: an HTTP request reads its actor from the token before the lookup starts)."""
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
        statements.append(" ".join(statement.split()))

    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = residence.where_lives_by_document(s, ctx, number)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return found, statements


def test_a_lookup_by_id_number_takes_at_most_the_ceiling_of_statements(world: World, engine: Engine) -> None:
    number = factories.make_id("420704", dt.date(1985, 3, 4), 17)
    with world.session() as s:
        ctx = world.ctx(s)
        area = world.area(INSIDE)
        home = factories.place(s, ctx, area_id=area, district_id=world.area("420704"))
        person_id = factories.person(s, ctx, area_id=area, id_number=number, birth=dt.date(1985, 3, 4))
        factories.arrival(
            s, ctx, person_id=person_id, dwelling_id=home.dwelling_id, arrived=dt.date(2026, 1, 5)
        )
    found, statements = _lookup_statements(world, engine, number)
    assert found["person_id"] == person_id
    [current] = found["current"]
    assert current["dwelling_id"] == home.dwelling_id and current["address"]
    ceiling = CEILING + (engine.dialect.name == "postgresql")
    assert len(statements) <= ceiling, "\n".join(statements)
    # The audited read is kept: exactly one audit entry for the lookup.
    assert sum(s.startswith("INSERT INTO audit_log") for s in statements) == 1
