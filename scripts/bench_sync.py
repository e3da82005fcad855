"""Benchmark the offline outbox sync: 500 visits in one batch, beside the same visits recorded one by one.

    .venv/bin/python scripts/bench_sync.py --db sqlite --visits 500
    .venv/bin/python scripts/bench_sync.py --db postgresql --visits 500

Builds a fresh database (a temporary SQLite file, or a new PostgreSQL database on LIANGSHI_TEST_PG_URL) with
Ezhou's gazetteer, a collector and 2 × N dwellings (10 per building) through the services (not timed). Then:

- sync: one batch of N visit items through `campaign.sync.sync_outbox`, committed every `sync.CHUNK` items as
  POST /sync runs it
  (validation, UUID lookup, assignment check, conflict check, a savepoint per item, the visit use case with its
  dwelling and building status changes, the sync row), committed;
- replay: the same batch again (every item answered from its UUID, nothing written);
The baseline runs first (it pays the warm-up), then the sync, then the replay.

- baseline: N visits of the other N dwellings through the pre-existing visit use case (`record_visit`, what
  POST /dwellings/{id}/visits runs), in one transaction, committed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import factories

from liangshi import migrate
from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.areas.schemas import AreaCreate
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import DwellingCreate
from liangshi.campaign import service as campaign
from liangshi.campaign import sync
from liangshi.campaign.schemas import VisitCreate
from liangshi.clock import CHINA_TZ, fixed, today_is
from liangshi.common.codes import ezhou_areas
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.departments import service as departments
from liangshi.registry import Context

NOW = __import__("datetime").datetime(2026, 11, 27, 10, 0, tzinfo=CHINA_TZ)
COMMUNITY = "420704001001"


def _database(kind: str) -> tuple[str, object]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench_sync.db"
        return f"sqlite:///{path}", lambda: None
    import psycopg

    server = os.environ.get("LIANGSHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"liangshi_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg.connect(server, autocommit=True)
    conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()

    url = make_url(server).set(database=name, drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--visits", type=int, default=500)
    args = parser.parse_args()
    n = args.visits
    url, drop = _database(args.db)
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    clock = fixed(NOW)

    def ctx_of(session: object, actor: object) -> Context:
        return Context(
            actor=actor, now=clock.now(), today=clock.today(), read_cut=departments.read_policy(actor)
        )  # type: ignore[arg-type]

    with today_is(clock.today()):
        with session_scope(sessions) as session:
            ctx = ctx_of(session, SYSTEM)
            areas.load_gazetteer(session, ctx, ezhou_areas())
            areas.create_area(
                session,
                ctx,
                AreaCreate(code=COMMUNITY, name="滨湖社区", level="community", parent_code="420704001"),
            )
            user = access.create_user(
                session,
                username="collector_zhang",
                display_name="collector_zhang",
                password="Bench-password-1",
                role="collector",
                area_code=COMMUNITY,
                department=None,
                actor=SYSTEM,
                now=clock.now(),
            )
            user_id = user.id
        dwellings: list[int] = []
        started = time.perf_counter()
        with session_scope(sessions) as session:
            ctx = ctx_of(session, SYSTEM)
            community = session.execute(select(Area.id).where(Area.code == COMMUNITY)).scalar_one()
            district = session.execute(select(Area.id).where(Area.code == "420704")).scalar_one()
            for _ in range(2 * n // 10):
                place = factories.place(session, ctx, area_id=community, district_id=district)
                dwellings.append(place.dwelling_id)
                for i in range(2, 11):
                    snap = buildings.create_dwelling(
                        session,
                        ctx,
                        DwellingCreate(
                            building_id=place.building_id, unit=1, floor=i, room=f"{i}02", status="unknown"
                        ),
                    )
                    dwellings.append(int(snap.entity.id))
        print(f"setup: {len(dwellings)} dwellings in {time.perf_counter() - started:.1f} s", flush=True)
        synced, direct = dwellings[:n], dwellings[n : 2 * n]
        outcomes = ("vacant", "nobody_home", "refused", "occupied")
        items = [
            {
                "uuid": str(uuid.uuid4()),
                "kind": "visit",
                "dwelling_id": d,
                "base_version": 1,
                "visit": {
                    "outcome": outcomes[i % 4],
                    "started_at": "2026-11-27T09:00:00+08:00",
                    "ended_at": "2026-11-27T09:03:00+08:00",
                    "device": "Mozilla/5.0 (Linux; Android 14) bench",
                },
            }
            for i, d in enumerate(synced)
        ]

        def collector_ctx(session: object) -> Context:
            u = session.get(User, user_id)  # type: ignore[attr-defined]
            return ctx_of(session, access.actor_for(session, u))  # type: ignore[arg-type]

        t0 = time.perf_counter()
        with session_scope(sessions) as session:
            ctx = collector_ctx(session)
            for i, d in enumerate(direct):
                campaign.record_visit(
                    session,
                    ctx,
                    d,
                    VisitCreate(outcome=outcomes[i % 4], idempotency_key=f"bench-{i:06d}"),  # type: ignore[arg-type]
                )
        t_base = time.perf_counter() - t0
        t0 = time.perf_counter()
        parts = []
        for offset, part in sync.chunks(items):  # as the entry points do: commit every sync.CHUNK items
            with session_scope(sessions) as session:
                parts.append(sync.sync_outbox(session, collector_ctx(session), part, offset=offset))
        result = sync.merged(parts)
        t_sync = time.perf_counter() - t0
        assert result.counts["stored"] == n, result.counts
        t0 = time.perf_counter()
        parts = []
        for offset, part in sync.chunks(items):
            with session_scope(sessions) as session:
                parts.append(sync.sync_outbox(session, collector_ctx(session), part, offset=offset))
        again = sync.merged(parts)
        t_replay = time.perf_counter() - t0
        assert again.counts["replayed"] == n, again.counts
    print(f"db={args.db} visits={n}")
    print(f"sync of {n} visits (one batch):       {t_sync:.2f} s ({1000 * t_sync / n:.1f} ms per visit)")
    print(f"replay of the same batch:             {t_replay:.2f} s")
    print(f"baseline: {n} x record_visit directly: {t_base:.2f} s ({1000 * t_base / n:.1f} ms per visit)")
    engine.dispose()
    drop()  # type: ignore[operator]


if __name__ == "__main__":
    main()
