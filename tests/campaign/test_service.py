"""Visits: stored once per idempotency key, scoped to the jurisdiction, dwelling and building status follow."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from liangshi.buildings import service as buildings
from liangshi.campaign import service
from liangshi.campaign.models import Visit
from liangshi.campaign.schemas import VisitCreate
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.registry import history
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, World


@pytest.fixture
def home(world: World) -> tuple[factories.Place, int]:
    """A dwelling in collector_zhang's community with one resident."""
    with world.session() as session:
        ctx = world.ctx(session)
        p = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        pid = factories.person(session, ctx, area_id=world.area(INSIDE), name="张三")
        factories.arrival(session, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 3, 1))
        return p, pid


def _visit(key: str = "key-00000001", **kw: object) -> VisitCreate:
    return VisitCreate.model_validate({"outcome": "occupied", "idempotency_key": key, **kw})


def test_a_visit_saved_twice_is_stored_once(world: World, home: tuple[factories.Place, int]) -> None:
    place, pid = home
    with world.session() as session:
        first = service.record_visit(
            session,
            world.ctx(session, "collector_zhang"),
            place.dwelling_id,
            _visit(confirmed_person_ids=[pid]),
        )
    with world.session() as session:
        again = service.record_visit(
            session,
            world.ctx(session, "collector_zhang"),
            place.dwelling_id,
            _visit(confirmed_person_ids=[pid]),
        )
        count = session.execute(select(func.count(Visit.id))).scalar_one()
    assert again.id == first.id and again.replayed and not first.replayed
    assert count == 1
    assert first.confirmed_person_ids == [pid]
    assert first.collector == "collector_zhang" and first.county_code == "420704"


def test_a_key_reused_for_another_dwelling_is_a_conflict(
    world: World, home: tuple[factories.Place, int]
) -> None:
    place, _ = home
    with world.session() as session:
        ctx = world.ctx(session)
        other = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
    with world.session() as session:
        service.record_visit(session, world.ctx(session, "collector_zhang"), place.dwelling_id, _visit())
    with world.session() as session, pytest.raises(Conflict) as err:
        service.record_visit(session, world.ctx(session, "collector_zhang"), other.dwelling_id, _visit())
    assert err.value.code == "visit.key_reused"


def test_a_visit_sets_dwelling_and_building_status(world: World, home: tuple[factories.Place, int]) -> None:
    """The building's visit status (campaign progress) follows at once; the dwelling status the visit found is a
    change set, the register's only once the station approves it (issue 14)."""
    place, _ = home
    with world.session() as session:
        visit = service.record_visit(
            session, world.ctx(session, "collector_zhang"), place.dwelling_id, _visit(outcome="nobody_home")
        )
    with world.session() as session:
        drow = history.open_row(session, buildings.DWELLING, place.dwelling_id)
        brow = history.open_row(session, buildings.BUILDING, place.building_id)
        assert drow is not None and brow is not None
        assert drow.status != "nobody_home"
        assert brow.visit_status == "visited"
    assert visit.change_set_id is not None
    with world.session() as session:
        review.approve(session, world.ctx(session, "station_admin_li"), visit.change_set_id)
    with world.session() as session:
        drow = history.open_row(session, buildings.DWELLING, place.dwelling_id)
        assert drow is not None
        assert drow.status == "nobody_home" and drow.reason == "入户走访"


def test_only_occupants_can_be_confirmed(world: World, home: tuple[factories.Place, int]) -> None:
    place, _ = home
    with world.session() as session:
        stranger = factories.person(session, world.ctx(session), area_id=world.area(INSIDE), name="李四")
    with world.session() as session, pytest.raises(ValidationFailed) as err:
        service.record_visit(
            session,
            world.ctx(session, "collector_zhang"),
            place.dwelling_id,
            _visit(confirmed_person_ids=[stranger]),
        )
    assert err.value.code == "visit.not_an_occupant"


def test_confirming_persons_needs_an_occupied_outcome(
    world: World, home: tuple[factories.Place, int]
) -> None:
    place, pid = home
    with world.session() as session, pytest.raises(ValidationFailed) as err:
        service.record_visit(
            session,
            world.ctx(session, "collector_zhang"),
            place.dwelling_id,
            _visit(outcome="vacant", confirmed_person_ids=[pid]),
        )
    assert err.value.code == "visit.confirmed_without_occupants"


def test_a_collector_cannot_visit_another_community(world: World, home: tuple[factories.Place, int]) -> None:
    place, _ = home
    with world.session() as session, pytest.raises(NotFound):
        service.record_visit(session, world.ctx(session, "collector_zhou"), place.dwelling_id, _visit())
    with world.session() as session, pytest.raises(NotFound):
        service.visits_of(session, world.ctx(session, "collector_zhou"), place.dwelling_id)


def test_visits_are_listed_newest_first(world: World, home: tuple[factories.Place, int]) -> None:
    place, _ = home
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        service.record_visit(session, ctx, place.dwelling_id, _visit("key-a0000001", outcome="nobody_home"))
        service.record_visit(session, ctx, place.dwelling_id, _visit("key-a0000002"))
    with world.session() as session:
        visits = service.visits_of(session, world.ctx(session, "police_liu"), place.dwelling_id)
        last = service.last_outcomes(session, [place.dwelling_id])
    assert [v.idempotency_key for v in visits] == ["key-a0000002", "key-a0000001"]
    assert last == {place.dwelling_id: "occupied"}


def test_a_concurrent_duplicate_loses_at_the_unique_key(
    world: World, home: tuple[factories.Place, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two submissions racing past the key check: the unique index refuses the second, which answers the first."""
    place, _ = home
    with world.session() as session:
        first = service.record_visit(
            session, world.ctx(session, "collector_zhang"), place.dwelling_id, _visit()
        )
    real = service._by_key
    calls = {"n": 0}

    def blind_once(session: object, key: str) -> object:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(session, key)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_by_key", blind_once)
    with world.session() as session:
        again = service.record_visit(
            session, world.ctx(session, "collector_zhang"), place.dwelling_id, _visit()
        )
        count = session.execute(select(func.count(Visit.id))).scalar_one()
    assert again.replayed and again.id == first.id and count == 1


@pytest.mark.no_unit_today
def test_a_person_found_at_a_dwelling_is_validated_against_the_context_today(world: World) -> None:
    """No today is bound: the service validates the person it creates against ctx.today (2026-11-27)."""
    from liangshi.campaign.schemas import PersonAtDwelling
    from liangshi.common.types import validation_context
    from liangshi.persons.models import PersonVersion

    with world.session() as session:
        place = factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
        ctx = world.ctx(session, "collector_zhang")
        data = PersonAtDwelling.model_validate(
            {
                "name": "王小雨",
                "id_number": factories.make_id("420704", ctx.today, seq=2),
                "birth_date": "2026-11-27",
                "arrival_date": "2026-11-27",
            },
            context=validation_context(ctx.today),
        )
        cs_id = service.add_person_at_dwelling(session, ctx, place.dwelling_id, data).id
    with world.session() as session:
        review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
        born = session.execute(
            select(PersonVersion.birth_date).where(PersonVersion.name == "王小雨")
        ).scalar_one()
    assert born == ctx.today == dt.date(2026, 11, 27)
