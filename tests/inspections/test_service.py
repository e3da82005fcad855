"""Inspection plans, results, lot decisions and rectification, through the service layer."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.inspections import rules, service
from liangshi.inspections.models import InspectionPlan, InspectionResult, InspectionSample, Rectification
from liangshi.inspections.schemas import PlanCreate, ResultCreate
from tests import factories
from tests.conftest import INSIDE, World

OTHER = "420704001002"  # 南浦社区, beside INSIDE in the same subdistrict
TOWNSHIP = "420704001"


def _households(world: World, code: str, count: int, username: str | None = None) -> list[int]:
    with world.session() as session:
        ctx = world.ctx(session, username)
        area = world.area(code)
        ids = []
        for _ in range(count):
            head = factories.person(session, ctx, area_id=area, name="王建国")
            other = factories.person(session, ctx, area_id=area, name="李秀英", male=False)
            ids.append(
                factories.household(
                    session, ctx, area_id=area, dwelling_id=None, members=[(head, "02"), (other, "10")]
                )
            )
        return ids


@pytest.fixture
def town(world: World) -> dict[str, list[int]]:
    """Two communities of one subdistrict: 40 households in 滨湖, 12 in 南浦."""
    return {INSIDE: _households(world, INSIDE, 40), OTHER: _households(world, OTHER, 12)}


def _plan(world: World, username: str = "inspector_zhao", **kw: object) -> PlanCreate:
    data = {"area_id": world.area(TOWNSHIP), "name": "2026年11月检查验收", "seed": 20261101, **kw}
    return PlanCreate.model_validate(data)


def _all_right(registered: int = 2) -> ResultCreate:
    return ResultCreate(
        persons_registered=registered,
        persons_present=registered,
        main_right=registered,
        general_right=registered,
        count_matches=True,
    )


def _wrong() -> ResultCreate:
    return ResultCreate(
        persons_registered=2,
        persons_present=1,
        main_right=1,
        general_right=0,
        general_items_wrong=2,
        count_matches=False,
        note="少一人",
    )


def test_a_plan_draws_a_stratified_sample_per_community_with_its_acceptance_plan(
    world: World, town: dict[str, list[int]]
) -> None:
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.1))
        drawn = service.sample_of(session, world.ctx(session, "inspector_zhao"), plan.id)
    lots = {lot.community_code: lot for lot in plan.lots}
    assert set(lots) == {INSIDE, OTHER}
    for code, lot in lots.items():
        assert lot.households == len(town[code])
        assert lot.estimate_n == rules.sample_size(0.1, 0.95, len(town[code]))
        assert lot.sample_size == min(lot.households, max(lot.estimate_n, lot.plan_n))
        mine = [d.household_id for d in drawn if d.lot_id == lot.id]
        assert len(mine) == lot.sample_size and set(mine) <= set(town[code])
        assert all(d.members == 2 and not d.inspected for d in drawn)
    # The small lots are planned with the hypergeometric model (or inspected whole), never a binomial sample
    # larger than a tenth of the lot.
    assert all(lot.model in ("hypergeometric", "full") for lot in plan.lots)


def test_anyone_with_the_seed_redraws_the_same_sample(world: World, town: dict[str, list[int]]) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        first = service.create_plan(session, ctx, _plan(world, margin=0.2, aql=0.05, lq=0.4))
        second = service.create_plan(session, ctx, _plan(world, margin=0.2, aql=0.05, lq=0.4))
        other = service.create_plan(session, ctx, _plan(world, margin=0.2, aql=0.05, lq=0.4, seed=7))
        check = service.redraw(session, world.ctx(session, "station_admin_li"), first.id)

        def households(plan_id: int) -> set[int]:
            return set(
                session.execute(
                    select(InspectionSample.household_id).where(InspectionSample.plan_id == plan_id)
                ).scalars()
            )

        assert households(first.id) == households(second.id)
        assert households(first.id) != households(other.id)
    assert check == {
        "plan_id": first.id,
        "seed": 20261101,
        "draw_method": "pcg64",
        "same": True,
        "differing": [],
    }


def test_a_plan_drawn_before_stop_25_still_redraws_with_its_own_method(
    world: World, town: dict[str, list[int]]
) -> None:
    # Plans stored before the draw moved to numpy carry draw_method "sample" (the migration's default) and their
    # households as Python's random.sample drew them: the redraw uses that method, not today's.
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        plan = service.create_plan(session, ctx, _plan(world, margin=0.2, aql=0.05, lq=0.4))
        stored = session.get(InspectionPlan, plan.id)
        assert stored is not None and stored.draw_method == "pcg64" and plan.draw_method == "pcg64"
        stored.draw_method = "sample"
        session.flush()
        check = service.redraw(session, world.ctx(session, "station_admin_li"), plan.id)
        assert check["same"] is False and check["draw_method"] == "sample"
        session.execute(delete(InspectionSample).where(InspectionSample.plan_id == plan.id))
        for lot in plan.lots:
            seed = rules.stratum_seed(plan.seed, lot.community_code)
            for household in rules.draw(town[lot.community_code], lot.sample_size, seed, "sample"):
                session.add(
                    InspectionSample(
                        plan_id=plan.id, lot_id=lot.id, household_id=household, county_code="420704"
                    )
                )
        session.flush()
        again = service.redraw(session, world.ctx(session, "station_admin_li"), plan.id)
    assert again == {
        "plan_id": plan.id,
        "seed": 20261101,
        "draw_method": "sample",
        "same": True,
        "differing": [],
    }


def test_a_plan_with_the_aql_above_the_lq_is_refused_and_stores_nothing(
    world: World, town: dict[str, list[int]]
) -> None:
    with world.session() as session, pytest.raises(ValidationFailed) as caught:
        service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, aql=0.2, lq=0.1))
    assert caught.value.code == "stats.aql_not_below_lq"
    with world.session() as session:
        assert session.execute(select(func.count(InspectionPlan.id))).scalar_one() == 0


def test_a_collector_cannot_draw_or_see_a_plan(world: World, town: dict[str, list[int]]) -> None:
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world))
    with world.session() as session, pytest.raises(Forbidden):
        service.create_plan(session, world.ctx(session, "collector_zhang"), _plan(world))
    with world.session() as session, pytest.raises(Forbidden):
        service.plan_read(session, world.ctx(session, "collector_zhang"), plan.id)


def _sampled(world: World, plan_id: int, code: str) -> list[int]:
    with world.session() as session:
        return [
            d.household_id
            for d in service.sample_of(session, world.ctx(session, "inspector_zhao"), plan_id)
            if d.community_code == code
        ]


def test_results_give_the_five_rates_with_wilson_intervals_and_accept_a_good_lot(
    world: World, town: dict[str, list[int]]
) -> None:
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world))
    sampled = _sampled(world, plan.id, INSIDE)
    for household_id in sampled:
        with world.session() as session:
            service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, _all_right()
            )
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        report = service.rates(session, ctx, plan.id)
        read = service.plan_read(session, ctx, plan.id)
    lot = next(lot for lot in read.lots if lot.community_code == INSIDE)
    assert lot.decision == "accepted" and lot.inspected == len(sampled) and lot.defects == 0
    inside = next(r for r in report["lots"] if r["community_code"] == INSIDE)
    headcount = next(r for r in inside["rates"] if r.key == "headcount")
    expected = rules.wilson(2 * len(sampled), 2 * len(sampled))
    assert (headcount.x, headcount.n) == (2 * len(sampled), 2 * len(sampled))
    assert headcount.low == pytest.approx(expected.low) and headcount.high == pytest.approx(expected.high)
    floating = next(r for r in inside["rates"] if r.key == "floating_collected")
    assert floating.n == 0 and floating.rate is None
    overall = {r.key: r for r in report["overall"]}
    assert overall["headcount"].rate == 1.0 and overall["headcount"].target_met is (expected.low >= 0.98)


def test_a_rejected_lot_opens_rectification_items_with_owner_and_working_day_deadline(
    world: World, town: dict[str, list[int]]
) -> None:
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world))
        lot = next(lot for lot in plan.lots if lot.community_code == INSIDE)
    sampled = _sampled(world, plan.id, INSIDE)
    for household_id in sampled[: lot.ac + 1]:
        with world.session() as session:
            result = service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, _wrong()
            )
            assert result.defective
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        read = service.plan_read(session, ctx, plan.id)
        items = service.notices(session, ctx)
    assert next(x for x in read.lots if x.id == lot.id).decision == "rejected"
    assert {i.household_id for i in items} == set(sampled[: lot.ac + 1])
    today = world.clock.today()
    assert all(i.status == "open" and i.opened_on == today and not i.overdue for i in items)
    # Ten working days: two working weeks from Friday 27 November 2026.
    assert {i.due_on for i in items} == {dt.date(2026, 12, 11)}
    item = items[0]
    with world.session() as session:
        fixed = service.fix_rectification(session, world.ctx(session, "police_liu"), item.id)
        assert fixed.status == "fixed"
        with pytest.raises(Conflict):
            service.fix_rectification(session, world.ctx(session, "police_liu"), item.id)
        closed = service.reinspect(session, world.ctx(session, "inspector_zhao"), item.id, passed=True)
        assert closed.status == "closed"
        assert item.id not in {i.id for i in service.notices(session, world.ctx(session, "police_liu"))}


def test_bad_results_are_refused_and_store_nothing(world: World, town: dict[str, list[int]]) -> None:
    own = _households(world, INSIDE, 1, "station_admin_li")
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "station_admin_li"), _plan(world, margin=0.01))
    sampled = _sampled(world, plan.id, INSIDE)
    assert own[0] in sampled  # margin 0.01: the whole community is drawn
    with world.session() as session, pytest.raises(ValidationFailed) as caught:
        service.record_result(
            session, world.ctx(session, "inspector_zhao"), plan.id, town[OTHER][0] + 10_000, _all_right()
        )
    assert caught.value.code == "inspection.not_in_sample"
    with world.session() as session, pytest.raises(Forbidden) as refused:
        service.record_result(session, world.ctx(session, "station_admin_li"), plan.id, own[0], _all_right())
    assert refused.value.code == "inspection.own_collection"
    bad = ResultCreate(
        persons_registered=2, persons_present=3, main_right=2, general_right=2, count_matches=True
    )
    with world.session() as session, pytest.raises(ValidationFailed) as caught:
        service.record_result(session, world.ctx(session, "inspector_zhao"), plan.id, sampled[1], bad)
    assert caught.value.code == "inspection.count_exceeds"
    with world.session() as session:
        service.record_result(
            session, world.ctx(session, "inspector_zhao"), plan.id, sampled[1], _all_right()
        )
    with world.session() as session, pytest.raises(Conflict):
        service.record_result(
            session, world.ctx(session, "inspector_zhao"), plan.id, sampled[1], _all_right()
        )
    with world.session() as session:
        assert session.execute(select(func.count(InspectionResult.id))).scalar_one() == 1
        assert session.execute(select(func.count(Rectification.id))).scalar_one() == 0


def test_a_plan_outside_the_jurisdiction_is_not_found(world: World, town: dict[str, list[int]]) -> None:
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session), _plan(world, area_id=world.area("420102001")))
        assert plan.lots == []
    with world.session() as session, pytest.raises(NotFound):
        service.plan_read(session, world.ctx(session, "inspector_zhao"), plan.id)


def test_the_collector_is_found_through_the_provenance_of_the_values(world: World) -> None:
    mine = _households(world, INSIDE, 1, "collector_zhang")[0]
    theirs = _households(world, INSIDE, 1)[0]
    with world.session() as session:
        assert service.collectors_of(session, mine) == {world.users["collector_zhang"]}
        assert service.collectors_of(session, theirs) == set()


def test_a_rectification_item_belongs_to_the_collector_who_entered_the_household(world: World) -> None:
    entered = _households(world, INSIDE, 3, "collector_zhang")
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
    lot = next(lot for lot in plan.lots if lot.community_code == INSIDE)
    assert lot.sample_size == 3 and lot.model == "full"
    for household_id in entered:
        with world.session() as session:
            service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, _wrong()
            )
    with world.session() as session:
        items = service.notices(session, world.ctx(session, "collector_zhang"))
    assert {i.owner for i in items} == {"collector_zhang"} and len(items) == 3


def test_coverage_estimates_the_people_the_register_missed_per_community(
    world: World, town: dict[str, list[int]]
) -> None:
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world))
    sampled = _sampled(world, plan.id, INSIDE)
    found = [1 if i % 4 == 0 else 0 for i in range(len(sampled))]
    for household_id, missed in zip(sampled, found, strict=True):
        with world.session() as session:
            data = _all_right().model_copy(update={"persons_missed": missed})
            service.record_result(session, world.ctx(session, "inspector_zhao"), plan.id, household_id, data)
    with world.session() as session:
        report = service.coverage(session, world.ctx(session, "station_admin_li"), plan.id)
    lot = next(lot for lot in plan.lots if lot.community_code == INSIDE)
    n1 = 2 * len(sampled)
    expected = rules.coverage(n1, n1 + sum(found), n1, lot.households, len(sampled), sum(found))
    (stratum,) = report["strata"]
    assert (stratum["n1"], stratum["n2"], stratum["m"]) == (n1, n1 + sum(found), n1)
    assert stratum["missed"] == pytest.approx(expected.missed)
    assert report["missed"] == pytest.approx(expected.missed)
    assert sum(found) <= report["low"] <= report["missed"] <= report["high"]


def test_defects_are_traced_to_the_collector_who_entered_them(world: World) -> None:
    zhang = _households(world, INSIDE, 3, "collector_zhang")
    liu = _households(world, INSIDE, 2, "police_liu")
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
    for household_id in zhang[:2]:
        with world.session() as session:
            service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, _wrong()
            )
    for household_id in [zhang[2], *liu]:
        with world.session() as session:
            service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, _all_right()
            )
    with world.session() as session:
        rows = {
            r["collector"]: r
            for r in service.accountability(session, world.ctx(session, "inspector_zhao"), plan.id)
        }
    assert set(rows) == {"collector_zhang", "police_liu"}
    assert (rows["collector_zhang"]["inspected"], rows["collector_zhang"]["defective"]) == (3, 2)
    assert (rows["police_liu"]["inspected"], rows["police_liu"]["defective"]) == (2, 0)
    expected = rules.wilson(2, 3)
    assert rows["collector_zhang"]["low"] == pytest.approx(expected.low)
    assert (
        rows["collector_zhang"]["main_wrong"] == 0
    )  # the defect found was a person not there, not a wrong item
