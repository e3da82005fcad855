"""The daily KPI aggregate answers any period with exactly the live count, after any write, folded or not.

The registry: the hand-built one of `helpers` (every KPI known) plus a small synthetic city loaded through the
importer (residences arriving since 1997, floating ones since 2022, some departed), then randomised churn through
the same functions the use cases and imports call — departures, departures without deregistration, category
changes and extensions from a date, back-dated corrections of arrival and registration dates, retirements,
moves — and hotel stays bulk-inserted, re-pointed, re-timed and purged, residences re-pointed to another area by
plain SQL. Each period's report from the aggregate must equal `compute(..., live=True)` for every area and KPI.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update

from liangshi.access.service import SYSTEM
from liangshi.clock import CHINA_TZ
from liangshi.errors import LiangshiError
from liangshi.kpis import daily, rules, service
from liangshi.kpis.models import KpiDaily, KpiDelta
from liangshi.registry import Provenance, history
from liangshi.residence import service as residence
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.schemas import DepartureIn, MoveIn
from liangshi.synth import write_city
from liangshi.synth.load import load_police_extracts
from liangshi.venues.models import Stay, Venue
from tests.conftest import World
from tests.kpis.helpers import EXPECTED, A, build

D = dt.date
PROV = Provenance("import", "kpi-daily-test", "document")
TODAY = D(2026, 11, 27)
CODES = ("420704001001", "420704001002", "420704002001")


@pytest.fixture(autouse=True)
def _aggregate_back_in_place(world: World) -> Any:
    """Tests here drop the triggers: put them back for the tests that follow (the database is shared)."""
    yield
    with world.session() as s:
        if not daily.ready(s):
            daily.install(s)


def _values(report: service.Report) -> dict[str, dict[str, tuple[int, int]]]:
    return {
        n.code: {k["key"]: (k["numerator"], k["denominator"]) for k in report.kpis(n.id)}
        for n in report.nodes.values()
    }


def _both(world: World, date_from: dt.date, date_to: dt.date, area: str = "420700") -> tuple[Any, Any]:
    """The city's report for a period counted live and from the aggregate (which must be in place)."""
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        assert daily.ready(s)
        live = service.compute(s, ctx, area_code=area, date_from=date_from, date_to=date_to, live=True)
        fast = service.compute(s, ctx, area_code=area, date_from=date_from, date_to=date_to)
    return _values(live), _values(fast)


def _random_day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _periods(rng: random.Random, n: int) -> list[tuple[dt.date, dt.date]]:
    """Random periods from 2021 to 2027 (long and short, some a single day), and a few fixed awkward ones."""
    out = [
        (D(2026, 1, 1), TODAY),
        (D(2026, 11, 1), D(2026, 11, 30)),
        (D(2020, 1, 1), D(2029, 12, 31)),
        (D(1990, 3, 1), D(1999, 12, 31)),  # before 1992: stays are counted live
        (TODAY, TODAY),
    ]
    for _ in range(n):
        first = _random_day(rng, D(2021, 1, 1), D(2027, 12, 31))
        length = rng.choice((0, 1, 6, 30, 45, 200, 400, 1500))
        out.append((first, min(first + dt.timedelta(days=length), D(2030, 12, 31))))
    return out


def _assert_same(world: World, periods: list[tuple[dt.date, dt.date]]) -> None:
    for date_from, date_to in periods:
        live, fast = _both(world, date_from, date_to)
        assert fast == live, (date_from, date_to)


def _synth_city(world: World, directory: Path, persons: int = 600, seed: int = 5) -> None:
    write_city(directory, persons=persons, seed=seed, today=TODAY)
    results = load_police_extracts(world.sessions, directory, actor=SYSTEM, clock=world.clock)
    assert not results["residences"].errors


def _attempt(s: Any, op: Any) -> bool:
    """Run one random write in a savepoint; a write the rules refuse leaves nothing behind."""
    savepoint = s.begin_nested()
    try:
        op()
    except LiangshiError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _churn_residences(world: World, rng: random.Random, count: int) -> int:
    """Random residence writes (see the module docstring); returns how many the rules accepted."""
    done = 0
    with world.session() as s:
        ctx = world.ctx(s)
        ids = list(s.execute(select(Residence.id).order_by(Residence.id)).scalars())
        dwellings = list(s.execute(select(Residence.dwelling_id).distinct()).scalars())
        for rid in rng.sample(ids, min(count, len(ids))):
            entity = s.get(Residence, rid)
            row = history.latest_row(s, residence.RESIDENCE, rid)
            assert entity is not None and row is not None
            start = row.valid_from
            day = _random_day(rng, start, TODAY) if start <= TODAY else TODAY
            op = rng.choice(
                ("deregister", "departed", "category", "extend", "arrival", "registration", "retire", "move")
            )

            def write(op: str = op, entity: Any = entity, row: Any = row, day: dt.date = day) -> None:
                if op == "deregister":
                    residence.deregister_departure(
                        s,
                        ctx,
                        entity.id,
                        DepartureIn(
                            expected_version=entity.version,
                            departure_date=day,
                            deregistration_date=rng.choice((day, TODAY)),
                            reason="left_city",  # type: ignore[arg-type]
                        ),
                    )
                elif op == "departed":  # an import brings a departure without deregistration
                    history.change(
                        s,
                        residence.RESIDENCE,
                        entity,
                        {"departure_date": day},
                        expected_version=entity.version,
                        effective=day,
                        prov=PROV,
                        actor_id=None,
                        now=world.clock.now(),
                    )
                elif op in ("category", "extend"):
                    changes: dict[str, Any] = (
                        {"category": rng.choice(("floating", "resident", "lodging", "separated"))}
                        if op == "category"
                        else {"intended_stay_until": D(2028, 1, 1) + dt.timedelta(days=rng.randint(0, 500))}
                    )
                    history.change(
                        s,
                        residence.RESIDENCE,
                        entity,
                        changes,
                        expected_version=entity.version,
                        effective=day,
                        prov=PROV,
                        actor_id=None,
                        now=world.clock.now(),
                    )
                elif op in ("arrival", "registration"):  # back-dated corrections
                    arrival = row.arrival_date - dt.timedelta(days=rng.randint(-20, 400))
                    if op == "arrival":
                        changes = {"arrival_date": min(arrival, TODAY)}
                    else:
                        late = rng.choice((None, 0, 1, 3, 5, 9, 40))
                        changes = {
                            "registration_date": None
                            if late is None
                            else min(row.arrival_date + dt.timedelta(days=late), TODAY)
                        }
                    history.correct(
                        s,
                        residence.RESIDENCE,
                        entity,
                        changes,
                        expected_version=entity.version,
                        row_id=None,
                        prov=PROV,
                        actor_id=None,
                        now=world.clock.now(),
                        reason="更正",
                    )
                elif op == "retire":  # 作废
                    history.retire(
                        s,
                        residence.RESIDENCE,
                        entity,
                        expected_version=entity.version,
                        effective=day,
                        prov=PROV,
                        actor_id=None,
                        now=world.clock.now(),
                        reason="登记错误",
                    )
                else:
                    residence.move(
                        s,
                        ctx,
                        entity.id,
                        MoveIn(
                            expected_version=entity.version,
                            move_date=day,
                            dwelling_id=rng.choice(dwellings),
                            registration_date=TODAY,
                        ),
                    )

            done += _attempt(s, write)
    return done


def _venue(world: World) -> tuple[int, int]:
    with world.session() as s:
        vid, area_id = s.execute(select(Venue.id, Venue.area_id)).first()  # type: ignore[misc]
        return int(vid), int(area_id)


def _churn_stays(world: World, rng: random.Random, count: int) -> None:
    """Bulk-insert stays (some unmatched, some received exactly at or just past the limit), then re-point,
    re-time and delete some of them with plain statements."""
    vid, area_id = _venue(world)
    with world.session() as s:
        areas = [int(a) for a in s.execute(text("SELECT id FROM areas WHERE code LIKE '4207%'")).scalars()]
        person = s.execute(select(Residence.person_id)).scalars().first()
        first = s.execute(select(func.coalesce(func.max(Stay.id), 0))).scalar_one()
        rows = []
        for i in range(count):
            at = dt.datetime.combine(
                _random_day(rng, D(2024, 1, 1), TODAY),
                dt.time(rng.randint(0, 23), rng.choice((0, 59))),
                CHINA_TZ,
            )
            delay = rng.choice(
                (dt.timedelta(minutes=5), dt.timedelta(hours=24), dt.timedelta(hours=24, seconds=1))
            )
            rows.append(
                Stay(
                    id=first + i + 1,
                    venue_id=vid,
                    county_code="420704",
                    area_id=rng.choice((area_id, *areas)),
                    stay_ref=f"r{first + i + 1}",
                    doc_type="resident_id",
                    doc_number=f"x{i}",
                    doc_country="CHN",
                    guest_name="住客",
                    person_id=rng.choice((None, person, person)),
                    check_in_at=at,
                    check_out_at=None,
                    received_at=at + delay,
                    foreign=False,
                    late_report=False,
                    unknown_person=False,
                )
            )
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
        s.execute(update(Stay).where(Stay.id.in_(rng.sample(ids, count // 5))).values(person_id=None))
        s.execute(
            update(Stay).where(Stay.id.in_(rng.sample(ids, count // 5))).values(area_id=rng.choice(areas))
        )
        for sid in rng.sample(ids, count // 10):
            s.execute(
                update(Stay)
                .where(Stay.id == sid)
                .values(check_in_at=dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC))  # 2026-01-01 in China
            )
        s.execute(delete(Stay).where(Stay.id.in_(rng.sample(ids, count // 10))))


def _move_residences(world: World, rng: random.Random, count: int) -> None:
    """Re-point some residences to another area with plain SQL (as a boundary fix would)."""
    with world.session() as s:
        ids = list(s.execute(select(Residence.id)).scalars())
        target = s.execute(text("SELECT id FROM areas WHERE code = '420704002001'")).scalar_one()
        s.execute(update(Residence).where(Residence.id.in_(rng.sample(ids, count))).values(area_id=target))


def _compact(world: World) -> int:
    with world.session() as s:
        return daily.compact(s)


def test_the_migrations_install_the_aggregate(world: World) -> None:
    with world.session() as s:
        assert daily.ready(s)


def test_random_periods_on_a_churned_synthetic_city_equal_the_live_count(
    world: World, tmp_path: Path
) -> None:
    rng = random.Random(20261127)
    build(world)
    _synth_city(world, tmp_path)
    # Nothing folded yet: every count is still a delta.
    _assert_same(world, _periods(rng, 6))
    assert _compact(world) > 0
    _assert_same(world, _periods(rng, 6))
    # Writes after the fold: folded buckets and fresh deltas are summed together.
    assert _churn_residences(world, rng, 120) > 40
    _churn_stays(world, rng, 300)
    _move_residences(world, rng, 25)
    _assert_same(world, _periods(rng, 12))
    _compact(world)
    assert _churn_residences(world, rng, 120) > 40
    _compact(world)
    _churn_stays(world, rng, 100)
    _assert_same(world, _periods(rng, 12))
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(KpiDaily).where(KpiDaily.grain == "x")).scalar_one()


def test_a_back_dated_correction_moves_an_arrival_into_a_closed_month(world: World) -> None:
    build(world)
    _compact(world)  # every count folded: August and November are "closed"
    august, autumn = (D(2026, 8, 1), D(2026, 8, 31)), (D(2026, 9, 1), TODAY)
    live, fast = _both(world, *august, area=A)
    assert fast[A]["floating_registration"] == live[A]["floating_registration"] == (1, 1)  # f5
    with world.session() as s:
        # f3 (arrived 2 November, registered 6 November) really arrived on 15 August.
        rid = s.execute(
            select(ResidenceVersion.entity_id).where(
                ResidenceVersion.registration_date == D(2026, 11, 6), ResidenceVersion.superseded_at.is_(None)
            )
        ).scalar_one()
        entity = s.get(Residence, rid)
        assert entity is not None
        history.correct(
            s,
            residence.RESIDENCE,
            entity,
            {"arrival_date": D(2026, 8, 15)},
            expected_version=entity.version,
            row_id=None,
            prov=PROV,
            actor_id=None,
            now=world.clock.now(),
            reason="入住日期更正",
        )
    live, fast = _both(world, *august, area=A)
    assert fast == live
    assert fast[A]["floating_registration"] == (2, 2)
    assert fast[A]["floating_timeliness"] == (1, 2)  # registered 83 days late
    live, fast = _both(world, *autumn, area=A)
    assert fast == live
    assert fast[A]["floating_registration"] == (4, 4)
    assert fast[A]["floating_timeliness"] == (3, 4)


def test_the_hand_counted_registry_reads_the_same_from_the_aggregate(world: World) -> None:
    build(world)
    _compact(world)
    _, fast = _both(world, D(2026, 9, 1), TODAY, area="420704")
    for code, expected in EXPECTED.items():
        for key, pair in expected.items():
            assert fast[code][key] == pair, (code, key)


def test_compaction_folds_every_delta_at_four_grains_and_keeps_every_number(world: World) -> None:
    build(world)
    before = _both(world, D(2026, 9, 1), TODAY)[1]
    with world.session() as s:
        deltas = s.execute(select(func.count()).select_from(KpiDelta)).scalar_one()
    assert _compact(world) == deltas > 0
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(KpiDelta)).scalar_one() == 0
        grains = set(s.execute(select(KpiDaily.grain).distinct()).scalars())
        assert grains == set(rules.GRAINS)
        # Arrivals stay by day: their deadline depends on the day.
        assert set(
            s.execute(select(KpiDaily.grain).where(KpiDaily.kind == daily.ARRIVAL).distinct()).scalars()
        ) == {"d"}
        assert (
            s.execute(
                select(func.count()).select_from(KpiDaily).where(KpiDaily.n == 0, KpiDaily.m == 0)
            ).scalar_one()
            == 0
        )
    assert _both(world, D(2026, 9, 1), TODAY)[1] == before
    assert _compact(world) == 0


def test_without_its_triggers_the_dashboard_counts_live_until_maintenance_rebuilds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(world)
    with world.session() as s:
        daily.uninstall(s)
        assert not daily.ready(s)
    # A write the aggregate does not see while its triggers are gone.
    _churn_residences(world, random.Random(3), 5)

    def unused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the aggregate was read without its triggers")

    with monkeypatch.context() as patched:
        patched.setattr(daily, "read", unused)
        with world.session() as s:
            ctx = world.ctx(s, "district_admin_chen")
            report = service.compute(s, ctx, area_code="420704", date_from=D(2026, 9, 1), date_to=TODAY)
    with world.session() as s:
        assert daily.maintain(s) == "rebuilt"
    with world.session() as s:
        assert daily.ready(s)
        assert daily.maintain(s) == "compacted"
    live, fast = _both(world, D(2026, 9, 1), TODAY, area="420704")
    assert fast == live == _values(report)


def test_the_warm_up_rebuilds_a_missing_aggregate(world: World) -> None:
    build(world)
    with world.session() as s:
        daily.uninstall(s)
    service.warm(world.sessions, service.ReportCache(300), world.clock)
    with world.session() as s:
        assert daily.ready(s)
    live, fast = _both(world, D(2026, 9, 1), TODAY)
    assert fast == live


def test_a_refused_write_leaves_no_count_behind(world: World) -> None:
    build(world)
    _compact(world)
    with world.session() as s:
        entity = s.execute(select(Residence).limit(1)).scalar_one()
        savepoint = s.begin_nested()
        s.execute(
            update(Residence).where(Residence.id == entity.id).values(area_id=world.area("420704002001"))
        )
        savepoint.rollback()
        assert s.execute(select(func.count()).select_from(KpiDelta)).scalar_one() == 0


@pytest.mark.parametrize("seed", range(5))
def test_the_buckets_of_a_period_tile_it_exactly(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        first = _random_day(rng, D(1990, 1, 1), D(2040, 12, 31))
        last = first + dt.timedelta(days=rng.randint(0, 4000))
        covered: list[dt.date] = []
        for grain, lo, hi in rules.cover(first, last):
            assert lo is not None
            start = lo
            while start <= hi:
                end = rules.bucket_last(grain, start)
                covered.extend(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
                start = end + dt.timedelta(days=1)
        assert covered == [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        # From the beginning of time: each day up to `last` in exactly one bucket, none after it.
        ranges = rules.cover(None, last)
        for day in [_random_day(rng, D(1, 1, 1), D(2050, 12, 31)) for _ in range(20)] + [last, first]:
            holders = [
                (g, lo, hi)
                for g, lo, hi in ranges
                if (lo is None or rules.bucket_start(g, day) >= lo) and rules.bucket_start(g, day) <= hi
            ]
            assert len(holders) == (1 if day <= last else 0), (day, last, ranges)


def test_a_fold_during_an_open_write_keeps_that_write_for_later(world: World) -> None:
    """PostgreSQL: a compaction takes only the deltas it sees; a write still open when it runs is counted once it
    commits (SQLite serialises the two, so the question does not arise there)."""
    if world.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers")
    build(world)
    _compact(world)
    writer = world.sessions()
    try:
        entity = writer.execute(select(Residence).order_by(Residence.id).limit(1)).scalar_one()
        writer.execute(
            update(Residence).where(Residence.id == entity.id).values(area_id=world.area(CODES[2]))
        )
        writer.flush()  # its deltas are written but not committed
        assert _compact(world) == 0  # another transaction folds: it does not see them
        writer.commit()
    finally:
        writer.close()
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(KpiDelta)).scalar_one() > 0
    _assert_same(world, [(D(2026, 9, 1), TODAY), (D(2026, 1, 1), TODAY)])
    assert _compact(world) > 0
    _assert_same(world, [(D(2026, 9, 1), TODAY)])
