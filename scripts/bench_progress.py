"""Benchmark the completeness progress of a synthetic township against a bare SQL count of the same numbers.

    .venv/bin/python scripts/bench_progress.py --db sqlite --persons 200000
    .venv/bin/python scripts/bench_progress.py --db postgresql --persons 200000

Loads N persons' worth of housing with bulk inserts that write the rows the services write: 10 communities, one
dwelling per 2.5 persons, 40 dwellings per building, a household in 90 % of the dwellings with its members, a visit
of 70 % of the dwellings and a declared size for half of the households; then (also on a `--reuse`d database that
lacks them) a campaign over the township with, per community, a collector, a team (the collector and a community
police officer) and the community assigned to the collector, through the use cases. Then times
`progress.area_progress` (the seven counts `liangshi campaign progress --json` prints), `progress.report` (the web
page's numbers with each community, collector and team), and a bare SQL count of the seven numbers with no scope or
rendering.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liangshi import migrate
from liangshi.access.service import SYSTEM, create_user
from liangshi.addresses.models import Address, AddressVersion
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.campaign import counts as building_counts
from liangshi.campaign import organisation, progress, rules, service
from liangshi.campaign.models import Campaign, HouseholdCount, Visit
from liangshi.campaign.schemas import AssignmentCreate, MemberIn, TeamCreate, VisitCreate
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.persons.models import Household, HouseholdVersion, Membership, MembershipVersion, Person
from liangshi.registry import Context

TOWNSHIP = "420704001"
BARE_SQL = """
WITH sub AS (SELECT id FROM areas WHERE path LIKE :path),
b AS (SELECT bv.visit_status FROM buildings x JOIN building_versions bv ON bv.entity_id = x.id
      AND bv.superseded_at IS NULL AND bv.valid_to IS NULL WHERE x.area_id IN (SELECT id FROM sub)),
d AS (SELECT x.id, dv.status FROM dwellings x JOIN building_versions bv ON bv.entity_id = x.building_id
      AND bv.superseded_at IS NULL AND bv.valid_to IS NULL
      JOIN dwelling_versions dv ON dv.entity_id = x.id AND dv.superseded_at IS NULL AND dv.valid_to IS NULL
      JOIN buildings y ON y.id = x.building_id WHERE y.area_id IN (SELECT id FROM sub)),
h AS (SELECT hv.entity_id AS id FROM household_versions hv JOIN d ON d.id = hv.dwelling_id
      WHERE hv.superseded_at IS NULL AND hv.valid_to IS NULL)
SELECT
 (SELECT count(*) FROM b), (SELECT count(*) FROM b WHERE visit_status = 'visited'),
 (SELECT count(*) FROM d),
 (SELECT count(*) FROM d WHERE status = 'demolished' OR EXISTS (SELECT 1 FROM visits v WHERE v.dwelling_id = d.id)),
 (SELECT count(*) FROM h),
 (SELECT count(*) FROM (SELECT c.members, count(mv.row_id) AS n FROM campaign_household_counts c
   JOIN h ON h.id = c.household_id LEFT JOIN memberships m ON m.household_id = c.household_id
   LEFT JOIN membership_versions mv ON mv.entity_id = m.id AND mv.superseded_at IS NULL AND mv.valid_to IS NULL
   GROUP BY c.household_id, c.members) g WHERE g.members = g.n)
"""


def meta(now: dt.datetime, county: str, valid_from: dt.date) -> dict[str, Any]:
    """The version columns every bulk row carries."""
    return {
        "version": 1,
        "valid_from": valid_from,
        "valid_to": None,
        "recorded_at": now,
        "superseded_at": None,
        "change": "create",
        "reason": None,
        "source_kind": "import",
        "source_ref": "bench",
        "evidence": "observed",
        "document_ref": None,
        "county_code": county,
        "actor_id": None,
        "corrects_row_id": None,
        "replaces_row_id": None,
    }


def _ids(conn: Any, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    return list(conn.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows).scalars())


def load(url: str, persons: int) -> None:
    """The schema, 10 communities and the housing, households, visits and declared sizes of `persons` persons."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    clock = Clock()
    now, county, start = clock.now(), "420704", dt.date(2020, 1, 1)
    with session_scope(make_session_factory(engine)) as s:
        ctx = Context(actor=SYSTEM, now=now, today=clock.today(), purpose="bench")
        areas.load_gazetteer(s, ctx, ezhou_areas())
        communities = [
            int(
                areas.create_area(
                    s,
                    ctx,
                    AreaCreate(
                        code=f"{TOWNSHIP}{i:03d}",
                        name=f"基准{i}社区",
                        level="community",
                        parent_code=TOWNSHIP,
                    ),
                ).entity.id
            )
            for i in range(1, 11)
        ]
    dwellings_total = persons * 2 // 5
    per_building, batch = 40, 20000
    base = {"county_code": county, "version": 1, "created_at": now}
    done = 0
    with engine.begin() as conn:
        while done < dwellings_total:
            n = min(batch, dwellings_total - done)
            area = communities[(done // batch) % len(communities)]
            nb = (n + per_building - 1) // per_building
            addr = _ids(
                conn,
                Address,
                [
                    {**base, "area_id": area, "street_id": None, "code": uuid.uuid4().hex[:18]}
                    for _ in range(nb)
                ],
            )
            conn.execute(
                insert(AddressVersion),
                [
                    {
                        "entity_id": a,
                        "plate_kind": "door",
                        "base_number": a,
                        "sub_number": None,
                        "status": "installed",
                        "lon": None,
                        "lat": None,
                        **meta(now, county, start),
                    }
                    for a in addr
                ],
            )
            bids = _ids(conn, Building, [{**base, "area_id": area, "address_id": a} for a in addr])
            conn.execute(
                insert(BuildingVersion),
                [
                    {
                        "entity_id": b,
                        "label": "1栋",
                        "floors_above": 20,
                        "floors_below": 0,
                        "units": 2,
                        "use": "residential",
                        "structure": None,
                        "year_built": 2000,
                        "visit_status": "visited" if i % 10 < 7 else "not_visited",
                        **meta(now, county, start),
                    }
                    for i, b in enumerate(bids)
                ],
            )
            dids = _ids(
                conn,
                Dwelling,
                [{**base, "area_id": area, "building_id": bids[i // per_building]} for i in range(n)],
            )
            conn.execute(
                insert(DwellingVersion),
                [
                    {
                        "entity_id": d,
                        "unit": 1,
                        "floor": i % 20 + 1,
                        "room": f"{i % 20 + 1}01",
                        "use": "residential",
                        "floor_area_m2": 80.0,
                        "owner_name": None,
                        "status": "occupied",
                        **meta(now, county, start),
                    }
                    for i, d in enumerate(dids)
                ],
            )
            conn.execute(
                insert(Visit),
                [
                    {
                        "dwelling_id": d,
                        "building_id": bids[i // per_building],
                        "area_id": area,
                        "county_code": county,
                        "collector_id": None,
                        "outcome": "occupied",
                        "note": None,
                        "visited_at": now,
                        "idempotency_key": uuid.uuid4().hex,
                    }
                    for i, d in enumerate(dids)
                    if i % 10 < 7
                ],
            )
            homes = [d for i, d in enumerate(dids) if i % 10 != 9]
            hids = _ids(
                conn, Household, [{**base, "area_id": area, "household_kind": "actual"} for _ in homes]
            )
            conn.execute(
                insert(HouseholdVersion),
                [
                    {"entity_id": h, "dwelling_id": d, "household_number": None, **meta(now, county, start)}
                    for h, d in zip(hids, homes, strict=True)
                ],
            )
            size = max(1, round(persons / max(dwellings_total, 1) * 0.9))
            pids = _ids(conn, Person, [{**base, "area_id": area} for _ in range(len(hids) * size)])
            mids = _ids(
                conn,
                Membership,
                [
                    {**base, "area_id": area, "household_id": hids[i // size], "person_id": p}
                    for i, p in enumerate(pids)
                ],
            )
            conn.execute(
                insert(MembershipVersion),
                [{"entity_id": m, "relationship": "02", **meta(now, county, start)} for m in mids],
            )
            conn.execute(
                insert(HouseholdCount),
                [
                    {
                        "household_id": h,
                        "members": size if i % 4 else size + 1,
                        "county_code": county,
                        "recorded_at": now,
                        "recorded_by": None,
                    }
                    for i, h in enumerate(hids)
                    if i % 2 == 0
                ],
            )
            done += n
            print(f"  loaded {done:,} / {dwellings_total:,} dwellings", file=sys.stderr)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def organise(factory: Any, clock: Clock) -> None:
    """A campaign over the township; per community a collector, a team and the community assigned (once)."""
    with session_scope(factory) as s:
        if s.execute(select(Campaign.id).where(Campaign.name == "基准采集")).first() is not None:
            return
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        spec = rules.parse_campaign(
            {"name": "基准采集", "area": TOWNSHIP, "starts_on": clock.today().isoformat()}
        )
        campaign = organisation.create_campaign(s, ctx, spec)
        due = clock.today() + dt.timedelta(days=60)
        for i in range(1, 11):
            code = f"{TOWNSHIP}{i:03d}"
            for name, role in ((f"bench_collector_{i}", "collector"), (f"bench_police_{i}", "collector")):
                create_user(
                    s,
                    username=name,
                    display_name=name,
                    password="bench-Passw0rd!",
                    role=role,
                    area_code=code,
                    department=None,
                    actor=SYSTEM,
                    now=ctx.now,
                )
            team = organisation.create_team(
                s,
                ctx,
                campaign.id,
                TeamCreate(
                    area_code=code,
                    name=f"基准{i}社区专班",
                    members=[
                        MemberIn(username=f"bench_collector_{i}", role="enumerator", leader=True),
                        MemberIn(username=f"bench_police_{i}", role="community_police"),
                    ],
                ),
            )
            organisation.assign(
                s,
                ctx,
                campaign.id,
                AssignmentCreate(
                    collector=f"bench_collector_{i}",
                    unit="community",
                    area_code=code,
                    due_on=due,
                    team_id=team.id,
                ),
            )


def _time(fn: Any, runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, result


def http_page(url: str, engine: Any, factory: Any, clock: Clock, runs: int) -> dict[str, float]:
    """The whole web page over HTTP in process (TestClient: session, scope, audit, template), as a station
    admin of the township; the first request (cold) apart."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from liangshi.access.models import User
    from liangshi.config import Settings
    from liangshi.http.app import create_app

    password = "bench-Pass-2026!"
    with session_scope(factory) as s:
        if s.execute(select(User.id).where(User.username == "bench_progress_station")).first() is None:
            create_user(
                s,
                username="bench_progress_station",
                display_name="bench_progress_station",
                password=password,
                role="station_admin",
                area_code=TOWNSHIP,
                department=None,
                actor=SYSTEM,
                now=clock.now(),
            )
    app = create_app(Settings(database_url=url, kpi_warm_seconds=0, totp_roles=""), engine=engine)
    times: list[float] = []
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/web/login").text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post(
            "/web/login",
            data={
                "username": "bench_progress_station",
                "password": password,
                "csrf_token": token,
                "next": "/web/",
            },
        )
        assert r.status_code == 303, r.text[:300]
        for _ in range(runs + 1):
            t = time.perf_counter()
            r = client.get(f"/web/progress?area={TOWNSHIP}")
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.status_code
    return {
        "cold_ms": round(times[0], 1),
        "median_ms": round(statistics.median(times[1:]), 1),
        "min_ms": round(min(times[1:]), 1),
    }


def main() -> None:
    """Load, then time the three series."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--persons", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prefix", default="liangshi_bench", help="prefix of the PostgreSQL database's name")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database (or file) afterwards")
    parser.add_argument(
        "--reuse",
        default=None,
        help="time an already loaded database (a name kept by --keep, or a SQLite file)",
    )
    args = parser.parse_args()
    if args.db == "sqlite":
        path = Path(args.reuse) if args.reuse else Path("bench-out") / f"progress-{args.persons}.db"
        path.parent.mkdir(exist_ok=True)
        if not args.reuse:
            path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg  # only the PostgreSQL run needs a fresh database

        server = os.environ.get("LIANGSHI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = args.reuse or f"{args.prefix}_{uuid.uuid4().hex[:8]}"
        if not args.reuse:
            with psycopg.connect(server, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
        url = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        print(f"database {name}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    if args.reuse:
        migrate.upgrade(make_engine(url))  # a migration added since the load (an index) applies to it too
    else:
        load(url, args.persons)
    load_s = time.perf_counter() - t0
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    organise(factory, clock)

    def counts() -> dict[str, int]:
        with session_scope(factory) as s:
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
            return progress.area_progress(s, ctx, TOWNSHIP)

    def report() -> Any:
        with session_scope(factory) as s:
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
            return progress.report(s, ctx, TOWNSHIP)

    def bare() -> tuple[int, ...]:
        with engine.connect() as conn:
            path = conn.execute(text("SELECT path FROM areas WHERE code = :c"), {"c": TOWNSHIP}).scalar_one()
            return tuple(conn.execute(text(BARE_SQL), {"path": path + "%"}).one())

    # The kept counts are built by the first refresh of the day (a full recount, timed on its own); the series
    # below then read them, refreshing incrementally (nothing changed: the steady state of a dashboard).
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        rebuilt = building_counts.refresh(s, today=clock.today(), now=clock.now())
    rebuild_ms = round(1000 * (time.perf_counter() - t0), 1)
    series = {}
    for name, fn in (("bare SQL", bare), ("area_progress", counts), ("report (web page)", report)):
        times, result = _time(fn, args.runs)
        series[name] = {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1)}
        if name == "area_progress":
            got = result
        if name == "bare SQL":
            expected = result
        if name == "report (web page)":
            shown = result
    assert tuple(got[k] for k in list(got)[:6]) == expected, (got, expected)
    assert shown.totals.model_dump() == got, (shown.totals, got)
    # Then 20 visits through the use case (not timed) and the dashboard again: the refresh recounts the buildings
    # those visits touched, then sums.
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        dwellings = s.execute(text("SELECT id FROM dwellings ORDER BY id DESC LIMIT 400")).scalars().all()
        for i, d in enumerate(dwellings[::20]):
            service.record_visit(
                s, ctx, int(d), VisitCreate(outcome="vacant", idempotency_key=f"bench-after-{i:04d}")
            )
    times, after = _time(counts, 1)
    series["area_progress after 20 visits"] = {"median_ms": round(times[0], 1), "min_ms": round(times[0], 1)}
    bare_after = bare()
    assert tuple(after[k] for k in list(after)[:6]) == bare_after, (after, bare_after)
    series["GET /web/progress (HTTP, station admin)"] = http_page(url, engine, factory, clock, args.runs)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "load_s": round(load_s, 1),
                "counts": got,
                "rebuild": {"buildings": rebuilt, "ms": rebuild_ms},
                "report_rows": {
                    "areas": len(shown.areas),
                    "collectors": len(shown.collectors),
                    "teams": len(shown.teams),
                },
                "series": series,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    engine.dispose()
    if args.db == "postgresql" and not args.keep:
        with psycopg.connect(server, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
