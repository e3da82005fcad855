"""Resolve with the real linkage engine (Splink on DuckDB): the cases the master person index relies on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from liangshi.mpi import rules, service
from liangshi.persons.models import Person
from tests import factories
from tests.conftest import INSIDE, World
from tests.mpi.helpers import count, rec


@pytest.fixture
def fake_engine() -> Iterator[None]:
    """This module runs the real engine."""
    yield


def test_real_engine_links_the_same_person_and_keeps_twins_apart(world: World) -> None:
    born = dt.date(1988, 6, 15)
    with world.session() as s:
        ctx = world.ctx(s)
        a_id = factories.make_id("420704", born, 11)
        b_id = factories.make_id("420704", born, 13)  # the twin: the next odd sequence number
        a = factories.person(s, ctx, area_id=world.area(INSIDE), name="刘德华", birth=born, id_number=a_id)
        factories.person(s, ctx, area_id=world.area(INSIDE), name="刘德文", birth=born, id_number=b_id)
    before = count(world, Person)
    twin_c = factories.make_id("420704", born, 15)
    with world.session() as s:
        out = service.resolve(
            s,
            world.ctx(s, "police_liu"),
            [
                # Traditional characters, a written-out date, the same ID: the same person.
                rec("t1", name="劉德華", birth="1988年6月15日", id_number=a_id),
                # A third sibling with another valid ID: a new person, whatever the name and date say.
                rec("t2", name="刘德武", birth="1988-06-15", id_number=twin_c),
            ],
            source="health",
            batch_ref="real",
        )
    assert (out[0].status, out[0].person_id) == (rules.LINKED, a)
    # Issue 14: a new person waits for the community's claim (this asserted NEW with a person at once); the twin
    # is kept apart all the same: not linked to either sibling, and nobody is created until the claim.
    assert (out[1].status, out[1].person_id) == (rules.CLAIM, None)
    assert count(world, Person) == before
