"""The process's cache of area lineages (issue 19): kept across requests, dropped by any write to the areas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from liangshi import registry
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.registry import Provenance
from liangshi.residence import service as residence
from tests import factories
from tests.conftest import INSIDE, World

PROV = Provenance("department", "civil_affairs", "document", "民政局区划调整批复")


def _resident(world: World) -> str:
    """A person living in a dwelling of 滨湖社区 (INSIDE); their ID number."""
    number = factories.make_id("420704", dt.date(1985, 3, 4), 23)
    with world.session() as s:
        ctx = world.ctx(s)
        home = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        person_id = factories.person(
            s, ctx, area_id=world.area(INSIDE), id_number=number, birth=dt.date(1985, 3, 4)
        )
        factories.arrival(
            s, ctx, person_id=person_id, dwelling_id=home.dwelling_id, arrived=dt.date(2026, 1, 5)
        )
    return number


def _areas_of_lookup(world: World, number: str) -> list[str]:
    with world.session() as s:
        [current] = residence.where_lives_by_document(s, world.ctx(s, "police_liu"), number)["current"]
        return list(current["address"]["areas"])


def _rename(session: Any, world: World, code: str, name: str) -> None:
    area = session.execute(select(Area).where(Area.code == code)).scalar_one()
    registry.change(
        session,
        world.ctx(session, "city_admin_wang"),
        areas.AREA,
        area.id,
        {"name": name},
        expected_version=area.version,
        effective=None,
        prov=PROV,
        reason="区划更名",
    )


def test_an_area_renamed_by_another_process_is_seen_by_the_next_lookup(world: World, db_url: str) -> None:
    number = _resident(world)
    assert _areas_of_lookup(world, number)[-1] == "滨湖社区"
    assert _areas_of_lookup(world, number)[-1] == "滨湖社区"  # now from the process's cache
    # Another server process: its own engine and connections, committing the rename through the registry.
    other = make_engine(db_url)
    try:
        with session_scope(make_session_factory(other)) as s:
            _rename(s, world, INSIDE, "滨湖新区社区")
    finally:
        other.dispose()
    assert _areas_of_lookup(world, number)[-1] == "滨湖新区社区"


def test_a_rename_rolled_back_leaves_the_lookup_with_the_name_the_database_has(world: World) -> None:
    number = _resident(world)
    assert _areas_of_lookup(world, number)[-1] == "滨湖社区"
    s = world.sessions()
    try:
        _rename(s, world, INSIDE, "从未批准社区")
        # The writer's own transaction sees its rename (and the cache may hold it under that write's token) …
        [current] = residence.where_lives_by_document(s, world.ctx(s, "police_liu"), number)["current"]
        assert current["address"]["areas"][-1] == "从未批准社区"
        s.rollback()
    finally:
        s.close()
    # … which nobody reads again once it is rolled back.
    assert _areas_of_lookup(world, number)[-1] == "滨湖社区"


def test_an_ancestor_renamed_is_seen_in_the_lineage_below_it(world: World) -> None:
    number = _resident(world)
    assert "鄂城区" in _areas_of_lookup(world, number)
    with world.session() as s:
        _rename(s, world, "420704", "鄂城新区")
    names = _areas_of_lookup(world, number)
    assert "鄂城新区" in names and "鄂城区" not in names


def test_a_lookup_with_the_lineage_held_reads_the_areas_once(world: World, engine: Engine) -> None:
    number = _resident(world)
    _areas_of_lookup(world, number)
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        _areas_of_lookup(world, number)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The names are not read again: only the paths, with the token that says they are still those held.
    assert not [s for s in statements if "area_versions" in s], "\n".join(statements)
    assert len([s for s in statements if "area_epoch" in s]) == 1


def test_the_lineages_from_the_cache_are_those_read_afresh(world: World) -> None:
    with world.session() as s:
        ids = [int(i) for i in s.execute(select(Area.id).where(Area.level == "community")).scalars()]
        on = dt.date(2026, 11, 27)
        fresh = areas.lineages(s, ids, on)
        for _ in range(2):  # filled, then held
            held = areas.cached_lineages(s, ids, on)
            assert {k: [(x.id, x.code, x.level, x.name) for x in v] for k, v in held.items()} == {
                k: [(a.id, a.code, a.level, name) for a, name in v] for k, v in fresh.items()
            }


def test_every_area_table_carries_the_epoch_triggers(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'area\\_epoch\\_%'"
            expected = {f"area_epoch_{t}" for t in ("areas", "area_versions", "area_codes")}
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'area_epoch_%'"
            expected = {
                f"area_epoch_{t}_{e}"
                for t in ("areas", "area_versions", "area_codes")
                for e in ("insert", "update", "delete")
            }
        assert {str(r[0]) for r in conn.execute(text(sql))} == expected
