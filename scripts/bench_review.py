"""Benchmark the review desk (issue 14): the desk with N pending change sets, and approving 1,000 at once.

    .venv/bin/python scripts/bench_review.py --db sqlite --persons 50000 --pending 10000 --apply 1000

Loads N register persons living in dwellings (scripts/bench_lookup.py's loader), then has a collector propose
`--pending` new persons at those dwellings through `campaign.service.add_person_at_dwelling` (the real path:
validation, items, audit), committed per 500. Times, as the station reviewer:

- the desk's first page (`review.service.desk`, 50 items with their staleness, audited) in-process and through
  `GET /change-sets` (TestClient), median of `--samples` runs, beside a bare SQL count of the same pending sets;
- `review.service.approve_many` of `--apply` sets in one transaction (checks, staleness, one bulk write per kind
  through the registry, audit, commit), beside `registry.changeset_apply.apply_many` writing as many other sets
  alone (the write path without the review's checks).

Each time is given as wall time and as this process's CPU time (`*_cpu_*`): on a shared machine the wall time
mostly measures the others' load. `--profile` writes cProfile dumps timed in CPU time. `--snapshot FILE` (SQLite)
keeps the loaded database with its pending sets, so that code before and after a change is measured on the same
data (a snapshot made by older code is migrated to this code's head first); the database is ANALYZEd before
measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import PASSWORD, fresh_database, load_people, make_ids

from liangshi import migrate
from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.buildings.models import Dwelling
from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling
from liangshi.clock import Clock, today_is
from liangshi.common.types import validation_context
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.registry import Context, changeset_apply
from liangshi.registry.changesets import ChangeSet
from liangshi.review import service as review


def _ctx(session: Any, username: str, clock: Clock) -> Context:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return Context(
        actor=access.actor_for(session, user), now=clock.now(), today=clock.today(), purpose="bench"
    )


@contextlib.contextmanager
def _database(args: Any) -> Iterator[str]:
    """bench_lookup's fresh database, but a PostgreSQL one named with `--pg-prefix` (dropped at the end)."""
    if args.db == "sqlite":
        with fresh_database(args.db, "review", args.persons, args.pg_server) as url:
            yield url
        return
    import uuid

    import psycopg

    name = f"{args.pg_prefix}_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(args.pg_server, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield args.pg_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _load_and_propose(url: str, args: Any, ids: list[str], fresh: list[str]) -> tuple[float, float]:
    """Load the register persons and have the collector propose the fresh ones; the two times in seconds."""
    people = [
        {
            "id_number": n,
            "name": "张" + "伟芳娜秀英敏静丽强磊"[i % 10],
            "sex": "1" if int(n[16]) % 2 else "2",
            "birth": dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14])),
            "phone": None,
        }
        for i, n in enumerate(ids[: args.persons])
    ]
    t0 = time.perf_counter()
    load_people(url, people)
    load_s = time.perf_counter() - t0
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    with session_scope(factory) as s:
        for username, role in (("bench_collector", "collector"), ("bench_station", "station_admin")):
            access.create_user(
                s,
                username=username,
                display_name=username,
                password=PASSWORD,
                role=role,
                area_code="420704001001" if role == "collector" else "420704001",
                department=None,
                actor=access.SYSTEM,
                now=clock.now(),
            )
        dwellings = [int(d) for d in s.execute(select(Dwelling.id).order_by(Dwelling.id)).scalars()]
    t0 = time.perf_counter()
    for start in range(0, len(fresh), 500):
        with session_scope(factory) as s, today_is(clock.today()):
            ctx = _ctx(s, "bench_collector", clock)
            for i, number in enumerate(fresh[start : start + 500], start):
                data = PersonAtDwelling.model_validate(
                    {
                        "name": "李新",
                        "id_number": number,
                        "arrival_date": "2026-11-01",
                        "category": "lodging",
                    },
                    context=validation_context(clock.today()),
                )
                campaign.add_person_at_dwelling(s, ctx, dwellings[i % len(dwellings)], data)
    propose_s = time.perf_counter() - t0
    engine.dispose()
    return load_s, propose_s


def main() -> None:
    """Load, propose, measure, print JSON."""
    import random

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--apply", type=int, default=1_000, help="at most half of --pending")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument(
        "--profile", help="write a cProfile of the desk and of approve_many to this path prefix"
    )
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="liangshi", help="prefix of the PostgreSQL database's name")
    parser.add_argument(
        "--snapshot",
        help="SQLite only: a copy of the loaded database with its pending sets; made if missing, else used "
        "instead of loading and proposing (so code before and after a change is measured on the same data)",
    )
    args = parser.parse_args()
    rng = random.Random(14)
    with _database(args) as url:
        ids = make_ids(args.persons + args.pending, rng)
        fresh = ids[args.persons :]
        snapshot = Path(args.snapshot) if args.snapshot and args.db == "sqlite" else None
        if snapshot is not None and snapshot.exists():
            shutil.copyfile(snapshot, url.removeprefix("sqlite:///"))
            load_s = propose_s = 0.0
        else:
            load_s, propose_s = _load_and_propose(url, args, ids, fresh)
            if snapshot is not None:
                shutil.copyfile(url.removeprefix("sqlite:///"), snapshot)
        engine = make_engine(url)
        # A snapshot made by older code gets this code's migrations (an index of the desk), then fresh statistics.
        migrate.upgrade(engine)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        factory = make_session_factory(engine)
        clock = Clock()
        # The desk: in-process and over HTTP, beside a bare count.
        desk_ms, desk_cpu_ms, count_ms = [], [], []
        for _ in range(args.samples):
            with session_scope(factory) as s:
                ctx = _ctx(s, "bench_station", clock)
                t, c = time.perf_counter(), time.process_time()
                page = review.desk(s, ctx, limit=50)
                desk_ms.append((time.perf_counter() - t) * 1000)
                desk_cpu_ms.append((time.process_time() - c) * 1000)
            with engine.connect() as conn:
                t = time.perf_counter()
                conn.execute(
                    text(
                        "SELECT count(*) FROM change_sets WHERE status IN ('pending_station', 'pending_district') "
                        "AND area_path LIKE :p"
                    ),
                    {"p": ctx.actor.area_path + "%"},
                ).scalar_one()
                count_ms.append((time.perf_counter() - t) * 1000)
        assert page.total == len(fresh), page.total

        from fastapi.testclient import TestClient

        from liangshi.config import Settings
        from liangshi.http.app import create_app

        app = create_app(Settings(database_url=url, kpi_warm_seconds=0, totp_roles=""), engine=engine)
        http_ms = []
        with TestClient(app) as client:
            token = client.post(
                "/auth/token", json={"username": "bench_station", "password": PASSWORD}
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            for _ in range(args.samples):
                t = time.perf_counter()
                r = client.get("/change-sets", headers=headers)
                http_ms.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200 and r.json()["total"] == len(fresh)

        # Approving --apply sets at once, beside the bare bulk write of the same persons.
        with session_scope(factory) as s:
            chosen = [
                int(i)
                for i in s.execute(select(ChangeSet.id).order_by(ChangeSet.id).limit(args.apply)).scalars()
            ]
        if args.profile:
            import cProfile

            with session_scope(factory) as s:
                ctx = _ctx(s, "bench_station", clock)
                # CPU time, not wall time: on a shared machine the wall clock mostly measures the others' load.
                desk_profiler = cProfile.Profile(time.process_time)
                desk_profiler.runctx("review.desk(s, ctx, limit=50)", globals(), locals())
                desk_profiler.dump_stats(args.profile + ".desk")
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        t, c = time.perf_counter(), time.process_time()
        with session_scope(factory) as s, today_is(clock.today()):
            outcomes = review.approve_many(s, _ctx(s, "bench_station", clock), chosen)
        approve_s, approve_cpu_s = time.perf_counter() - t, time.process_time() - c
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile + ".approve")
        assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok][:3]
        with session_scope(factory) as s:
            others = list(
                s.execute(
                    select(ChangeSet)
                    .where(ChangeSet.status == "pending_station")
                    .order_by(ChangeSet.id)
                    .limit(args.apply)
                ).scalars()
            )
            t, c = time.perf_counter(), time.process_time()
            # The write path alone for as many other sets: no review checks, staleness or status.
            changeset_apply.apply_many(s, _ctx(s, "bench_station", clock), others, review.KINDS)
            s.flush()
            baseline_s, baseline_cpu_s = time.perf_counter() - t, time.process_time() - c
        with session_scope(factory) as s:
            left = s.execute(
                select(func.count()).select_from(ChangeSet).where(ChangeSet.status == "pending_station")
            ).scalar_one()
        engine.dispose()
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "pending": len(fresh),
                "load_s": round(load_s, 1),
                "propose_s": round(propose_s, 1),
                "desk_ms_median": round(statistics.median(desk_ms), 1),
                "desk_cpu_ms_median": round(statistics.median(desk_cpu_ms), 1),
                "desk_http_ms_median": round(statistics.median(http_ms), 1),
                "bare_count_ms_median": round(statistics.median(count_ms), 2),
                "approve_sets": len(chosen),
                "approve_s": round(approve_s, 2),
                "approve_cpu_s": round(approve_cpu_s, 2),
                "apply_many_alone_s": round(baseline_s, 2),
                "apply_many_alone_cpu_s": round(baseline_cpu_s, 2),
                "pending_after": left,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
