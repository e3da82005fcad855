"""The kept progress counts' daily recount (a job in `liangshi serve`, `liangshi campaign recount` for cron) and
the first refresh made safe against a concurrent first refresh."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from liangshi.campaign import counts as building_counts
from liangshi.campaign import progress
from liangshi.campaign.models import BuildingCount, CountMark
from liangshi.cli.main import app as cli
from liangshi.clock import CHINA_TZ, Clock
from tests import factories
from tests.conftest import INSIDE, World


@pytest.fixture
def two_buildings(world: World) -> list[Any]:
    with world.session() as session:
        ctx = world.ctx(session)
        return [
            factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
            for _ in range(2)
        ]


def test_after_the_nightly_recount_the_first_reader_recounts_nothing(
    world: World, two_buildings: list[Any], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    assert building_counts.recount_now(world.sessions, world.clock) >= 2
    full = building_counts.per_building
    calls: list[Any] = []

    def spy(session: Any, building_ids: Any, today: dt.date) -> Any:
        calls.append(building_ids)
        return full(session, building_ids, today)

    monkeypatch.setattr(building_counts, "per_building", spy)
    with world.session() as session:
        got = progress.area_progress(session, world.ctx(session, "station_admin_li"), INSIDE)
    assert got["buildings"] == 2
    assert None not in calls  # no full recount: at most the buildings changed since the job
    with world.session() as session:
        again = building_counts.refresh(session, today=world.clock.today(), now=world.clock.now())
    # Nothing changed, nothing recounted (on PostgreSQL too, however many sessions of other databases run: only
    # the rows of transactions the last refresh did not see are looked at).
    assert again == 0


def test_the_recount_runs_shortly_after_midnight_china_time() -> None:
    # 23:59 in China (15:59 UTC): the job (5 minutes past midnight) is 6 minutes away.
    late = dt.datetime(2026, 11, 27, 23, 59, tzinfo=CHINA_TZ).astimezone(dt.UTC)
    assert building_counts.seconds_to_recount(late, 300) == 360
    # 00:05 exactly has passed for today: the next is tomorrow's.
    at = dt.datetime(2026, 11, 28, 0, 5, tzinfo=CHINA_TZ)
    assert building_counts.seconds_to_recount(at, 300) == 86400


def test_the_nightly_job_recounts_in_the_background(world: World, two_buildings: list[Any]) -> None:
    # A clock one second before the job's time: the thread sleeps one second, then recounts.
    at = dt.datetime.combine(world.clock.today(), dt.time(0, 4, 59), tzinfo=CHINA_TZ)
    stop = threading.Event()
    thread = building_counts.start_nightly_recount(
        world.sessions, Clock(lambda: at), after_midnight=300, stop=stop
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with world.session() as session:
            mark = session.get(CountMark, 1)
            if mark is not None and mark.day == world.clock.today():
                break
        threading.Event().wait(0.2)
    else:
        pytest.fail("the nightly recount did not run")
    stop.set()
    thread.join(30)
    assert not thread.is_alive()


def test_the_cli_recounts_for_cron(world: World, two_buildings: list[Any], db_url: str) -> None:
    result = CliRunner().invoke(cli, ["campaign", "recount"], env={"LIANGSHI_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert "buildings recounted: " in result.output
    assert int(result.output.rsplit(":", 1)[1]) >= 2


def test_two_very_first_refreshes_at_once_do_not_collide(
    world: World, two_buildings: list[Any], db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises its writers: two first refreshes cannot overlap")
    today, now = world.clock.today(), world.clock.now()
    errors: list[BaseException] = []
    second_done = threading.Event()
    with world.session() as first:
        assert building_counts.refresh(first, today=today, now=now) >= 2  # the mark inserted, not committed

        def second() -> None:
            try:
                with world.session() as s:
                    building_counts.refresh(s, today=today, now=now)
            except BaseException as exc:
                errors.append(exc)
            finally:
                second_done.set()

        thread = threading.Thread(target=second)
        thread.start()
        # The second waits on the first's uncommitted mark instead of failing on its key.
        assert not second_done.wait(1.5)
    thread.join(30)
    assert second_done.is_set()
    assert errors == []
    with world.session() as session:
        assert session.execute(select(func.count()).select_from(CountMark)).scalar_one() == 1
        assert session.get(CountMark, 1).day == today  # type: ignore[union-attr]


def test_a_long_transaction_holds_back_only_its_own_rows_not_everything_since_it_began(
    world: World, two_buildings: list[Any], db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises its writers: no transaction runs beside a refresh")
    today, now = world.clock.today(), world.clock.now()
    with world.session() as session:
        building_counts.refresh(session, today=today, now=now)
    with world.session() as long:
        # A transaction that began (and took its id) before the next refresh and commits after it: a backup or
        # a bulk job in another session, here one that adds a building.
        late = factories.place(
            long, world.ctx(long), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
        with world.session() as session:
            building_counts.refresh(session, today=today, now=now)
        # Buildings written after it began by transactions that have ended are counted once, not at every refresh.
        with world.session() as session:
            factories.place(
                session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
            )
        with world.session() as session:
            assert building_counts.refresh(session, today=today, now=now) == 1
            xid = long.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
            assert int(xid) in building_counts.in_progress(session.get(CountMark, 1))  # type: ignore[arg-type]
        with world.session() as session:
            assert building_counts.refresh(session, today=today, now=now) == 0
            got = progress.area_progress(session, world.ctx(session, "station_admin_li"), INSIDE)
        assert got["buildings"] == 3  # the long transaction's building is not visible yet
    # Once it has committed, the next refresh finds its rows (its id was in progress at the mark) and only those.
    with world.session() as session:
        assert building_counts.refresh(session, today=today, now=now) == 1
        got = progress.area_progress(session, world.ctx(session, "station_admin_li"), INSIDE)
    assert got["buildings"] == 4
    with world.session() as session:
        assert session.get(BuildingCount, late.building_id) is not None
