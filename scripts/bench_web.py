"""Benchmark the dashboard's KPI computation and the building grid (楼盘表) at N persons, with a bare-SQL baseline.

    .venv/bin/python scripts/bench_web.py --db sqlite --persons 1000000
    .venv/bin/python scripts/bench_web.py --db postgresql --persons 1000000
    .venv/bin/python scripts/bench_web.py --db sqlite --persons 1000000 --reuse   # measure an existing database

Loads N persons with `bench_lookup.load` (each with a resident ID, a dwelling in a 60-dwelling building on its own
door plate and an open residence), then makes the city uneven with set-based updates: 20 communities under one
subdistrict, categories (30 % floating, 10 % separated, 5 % lodging, 1 % overseas), arrival and registration dates
through 2026 (some registered late), floating departures (half deregistered), plates not yet installed, rentals on
5 % of the dwellings (some without agreement or lease end) and 200,000 hotel stays (some unmatched, some late).

Then it times, on the same database in the same run:
- **baseline**: bare `SELECT COUNT(*)` over `residence_versions ⋈ residences` (the largest join the KPIs read);
- **dashboard KPIs**: `kpis.service.compute` for the whole city (every KPI of every area in the city);
- **dashboard page**: `GET /web/dashboard?area=420700` in process (compute + template) as a city administrator,
  counted afresh on every request (cold), and reused from the report cache (the default 300 s), also for the
  drill-down pages of the district, the subdistrict and two communities;
- **grid**: `buildings.service.grid` for random buildings (60 dwellings each), and `GET /web/buildings/{id}/grid`;
- **another period** (2026-03-01 … 2026-08-31, never warmed): `kpis.service.compute` for the city, the dashboard
  page of the city and of a community with every request counted afresh, and — where the code has it — the same
  count from the registry tables alone (`live=True`), which must give the same numbers (checked).

On a database of an older schema (`--reuse`), the migrations are run first and timed (`upgrade_s`): that is where
the daily KPI aggregate is built from the registry. After loading, the KPI deltas the load appended are folded
as the server's warm-up round would (`fold_s`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import String, case, cast, insert, literal, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import bench_lookup

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Address, AddressVersion
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.buildings import service as buildings
from liangshi.buildings.models import Building, Dwelling, DwellingVersion
from liangshi.clock import CHINA_TZ, Clock
from liangshi.db import UtcDateTime, make_engine, make_session_factory, session_scope
from liangshi.kpis import service as kpis
from liangshi.persons.models import Person
from liangshi.registry import Context
from liangshi.rentals.models import Rental, RentalVersion
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.venues.models import Stay, Venue, VenueVersion

PASSWORD = bench_lookup.PASSWORD
COMMUNITIES = 20
PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 11, 27))
OTHER_PERIOD = (dt.date(2026, 3, 1), dt.date(2026, 8, 31))
BASELINE_SQL = """
SELECT COUNT(*) FROM residence_versions rv JOIN residences r ON r.id = rv.entity_id
WHERE rv.superseded_at IS NULL
"""


def _communities(factory: Any, now: dt.datetime, today: dt.date) -> int:
    """20 communities under 凤凰街道 with consecutive ids and a city administrator; returns the first id."""
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=now, today=today, purpose="bench")
        ids = []
        for i in range(COMMUNITIES):
            snap = areas.create_area(
                s,
                ctx,
                AreaCreate(
                    code=f"420704001{101 + i:03d}",
                    name=f"基准{i + 1}社区",
                    level="community",
                    parent_code="420704001",
                ),
            )
            ids.append(int(snap.entity.id))
        assert ids == list(range(ids[0], ids[0] + COMMUNITIES)), ids
        access.create_user(
            s,
            username="bench_city",
            display_name="bench city",
            password=PASSWORD,
            role="city_admin",
            area_code="420700",
            department=None,
            actor=SYSTEM,
            now=now,
        )
        return ids[0]


def _by_mod(column: Any, modulo: int, values: list[Any]) -> Any:
    """CASE column % modulo WHEN i THEN values[i] … (one value per residue)."""
    return case(*((column % modulo == i, v) for i, v in enumerate(values[:-1])), else_=values[-1])


def enrich(url: str) -> None:
    """Make the loaded city uneven (see the module docstring): idempotent per database."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    now = clock.now()
    with session_scope(factory) as s:
        if s.execute(select(User.id).where(User.username == "bench_city")).first() is not None:
            engine.dispose()
            return
    first = _communities(factory, now, clock.today())
    t0 = time.perf_counter()
    rv = ResidenceVersion
    arrivals = [dt.date(2026, 1, 5) + dt.timedelta(days=23 * i) for i in range(14)]  # through November
    with engine.begin() as conn:
        conn.execute(update(Address).values(area_id=first + Address.id % COMMUNITIES))
        conn.execute(
            update(Building).values(
                area_id=select(Address.area_id).where(Address.id == Building.address_id).scalar_subquery()
            )
        )
        conn.execute(
            update(Dwelling).values(
                area_id=select(Building.area_id).where(Building.id == Dwelling.building_id).scalar_subquery()
            )
        )
        conn.execute(
            update(Residence).values(
                area_id=select(Dwelling.area_id).where(Dwelling.id == Residence.dwelling_id).scalar_subquery()
            )
        )
        conn.execute(update(Person).values(area_id=first + Person.id % COMMUNITIES))
        # Categories by residue mod 100: 0–29 floating, 30–39 separated, 40–44 lodging, 45 overseas, else resident.
        m = rv.entity_id % 100
        conn.execute(
            update(rv).values(
                category=case(
                    (m < 30, "floating"),
                    (m < 40, "separated"),
                    (m < 45, "lodging"),
                    (m == 45, "overseas"),
                    else_="resident",
                )
            )
        )
        # Arrival dates through 2026; registration 0–6 days later (some beyond 3 working days), 1 % never.
        conn.execute(update(rv).values(arrival_date=_by_mod(rv.entity_id, 14, arrivals)))
        registrations = [a + dt.timedelta(days=d) for a in arrivals for d in (0, 1, 2, 6)]
        conn.execute(
            update(rv).values(
                registration_date=case(
                    (rv.entity_id % 100 == 99, None), else_=_by_mod(rv.entity_id, 56, registrations)
                ),
                valid_from=_by_mod(rv.entity_id, 14, arrivals),
            )
        )
        # Floating departures: residue 1 mod 30 departs 40 days after arrival; half of them deregistered.
        departures = [a + dt.timedelta(days=40) for a in arrivals]
        departing = (rv.entity_id % 30 == 1) & (rv.category == "floating")
        conn.execute(
            update(rv)
            .where(departing)
            .values(
                departure_date=_by_mod(rv.entity_id, 14, departures),
                deregistration_date=case(
                    (rv.entity_id % 60 == 1, _by_mod(rv.entity_id, 14, departures)), else_=None
                ),
                deregistration_reason=case((rv.entity_id % 60 == 1, "left_city"), else_=None),
            )
        )
        av = AddressVersion
        conn.execute(update(av).values(status=case((av.entity_id % 10 == 0, "made"), else_="installed")))
        # Rentals on 5 % of the dwellings; a landlord who is simply person 1.
        conn.execute(
            insert(Rental).from_select(
                ["county_code", "version", "created_at", "area_id", "dwelling_id"],
                select(
                    Dwelling.county_code,
                    literal(1),
                    literal(now, UtcDateTime()),
                    Dwelling.area_id,
                    Dwelling.id,
                ).where(Dwelling.id % 20 == 0),
            )
        )
        meta = bench_lookup.meta(now, "420704", dt.date(2026, 1, 1))
        cols = {k: v for k, v in meta.items() if k not in ("county_code",)}
        conn.execute(
            insert(RentalVersion).from_select(
                [
                    "entity_id",
                    "county_code",
                    "landlord_person_id",
                    "use",
                    "rooms",
                    "monthly_rent",
                    "lease_start",
                    "lease_end",
                    "filing_number",
                    "agreement_signed_on",
                    "agreement_signer",
                    "status",
                    *cols,
                ],
                select(
                    Rental.id,
                    Rental.county_code,
                    literal(1),
                    literal("residential"),
                    literal(2),
                    literal(1500.0),
                    literal(dt.date(2026, 1, 1)),
                    case((Rental.id % 3 == 0, None), else_=literal(dt.date(2027, 1, 1))),
                    literal(None, String),
                    case((Rental.id % 4 == 0, None), else_=literal(dt.date(2026, 1, 2))),
                    case((Rental.id % 4 == 0, None), else_="房东"),
                    literal("open"),
                    *(
                        literal(v, UtcDateTime()) if isinstance(v, dt.datetime) else literal(v)
                        for v in cols.values()
                    ),
                ),
            )
        )
        # A rented status on some dwellings without a rental (rented, not registered).
        dv = DwellingVersion
        conn.execute(update(dv).where(dv.entity_id % 50 == 7).values(status="rented"))
        # One hotel and 200,000 stays: 10 % unmatched, 5 % received after two days.
        vid = conn.execute(
            insert(Venue)
            .values(
                county_code="420704",
                version=1,
                created_at=now,
                area_id=first,
                venue_kind="hotel",
                address_id=1,
            )
            .returning(Venue.id)
        ).scalar_one()
        conn.execute(
            insert(VenueVersion).values(
                entity_id=vid,
                name="基准宾馆",
                licence_number=None,
                status="open",
                **bench_lookup.meta(now, "420704", dt.date(2026, 1, 1)),
            )
        )
        check_in = dt.datetime(2026, 6, 1, 20, 0, tzinfo=CHINA_TZ)
        conn.execute(
            insert(Stay).from_select(
                [
                    "venue_id",
                    "county_code",
                    "area_id",
                    "stay_ref",
                    "doc_type",
                    "doc_number",
                    "doc_country",
                    "guest_name",
                    "person_id",
                    "check_in_at",
                    "check_out_at",
                    "received_at",
                    "foreign",
                    "late_report",
                    "unknown_person",
                ],
                select(
                    literal(vid),
                    Residence.county_code,
                    Residence.area_id,
                    literal("r") + cast(Residence.id, String),
                    literal("resident_id"),
                    literal("x") + cast(Residence.id, String),
                    literal("CHN"),
                    literal("住客"),
                    case((Residence.id % 50 == 0, None), else_=Residence.person_id),
                    literal(check_in, UtcDateTime()),
                    literal(None, UtcDateTime()),
                    case(
                        (Residence.id % 100 == 5, literal(check_in + dt.timedelta(days=2), UtcDateTime())),
                        else_=literal(check_in + dt.timedelta(minutes=5), UtcDateTime()),
                    ),
                    literal(False),
                    literal(False),
                    case((Residence.id % 50 == 0, True), else_=False),
                )
                .where(Residence.id % 5 == 0)
                .limit(200_000),
            )
        )
    if url.startswith("postgresql"):
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    print(f"enriched in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    engine.dispose()


def fold(url: str) -> float | None:
    """What the server's warm-up round does first: fold the KPI deltas the load appended (None: no aggregate)."""
    try:
        from liangshi.kpis import daily
    except ImportError:
        return None
    engine = make_engine(url)
    t0 = time.perf_counter()
    with session_scope(make_session_factory(engine)) as s:
        done = daily.maintain(s)
    print(f"KPI daily aggregate {done}", file=sys.stderr)
    engine.dispose()
    return round(time.perf_counter() - t0, 1)


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Wall times of `runs` calls (seconds) and the last result."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def summary(times: list[float]) -> dict[str, float]:
    """Median, min and max in milliseconds."""
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "min_ms": round(min(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "n": len(times),
    }


def measure(url: str, runs: int, grids: int, seed: int) -> dict[str, Any]:
    """Time the baseline, the KPIs of the city (service and page) and building grids (service and page)."""
    from fastapi.testclient import TestClient

    from liangshi.config import Settings
    from liangshi.http.app import create_app

    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        times, count = timed(lambda: conn.execute(text(BASELINE_SQL)).scalar_one(), runs)
        out["baseline_count_residences"] = {**summary(times), "rows": int(count)}
    with session_scope(factory) as s:
        user = s.execute(select(User).where(User.username == "bench_city")).scalar_one()
        actor = access.actor_for(s, user)
        building_ids = list(s.execute(select(Building.id)).scalars())

    def city() -> Any:
        with session_scope(factory) as s:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
            return kpis.compute(s, ctx, area_code="420700", date_from=PERIOD[0], date_to=PERIOD[1])

    times, report = timed(city, runs)
    root = {k["key"]: (k["numerator"], k["denominator"]) for k in report.kpis(report.root.id)}
    out["dashboard_kpis_city"] = {**summary(times), "areas": len(report.nodes), "kpis": root}

    def city_other(**options: Any) -> Any:
        with session_scope(factory) as s:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
            return kpis.compute(
                s, ctx, area_code="420700", date_from=OTHER_PERIOD[0], date_to=OTHER_PERIOD[1], **options
            )

    times, other = timed(city_other, runs)
    counted = {i: other.kpis(i) for i in other.nodes}
    out["dashboard_kpis_city_other_period"] = {
        **summary(times),
        "kpis": {k["key"]: (k["numerator"], k["denominator"]) for k in other.kpis(other.root.id)},
    }
    if "live" in inspect.signature(kpis.compute).parameters:
        times, live = timed(lambda: city_other(live=True), runs)
        out["dashboard_kpis_city_other_period_live"] = summary(times)
        assert {i: live.kpis(i) for i in live.nodes} == counted, "the aggregate differs from the live count"
        out["other_period_same_as_live"] = True
    rng = random.Random(seed)
    picks = [rng.choice(building_ids) for _ in range(grids)]

    def grid_of(bid: int) -> Any:
        with session_scope(factory) as s:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
            return buildings.grid(s, ctx, bid, None)

    times = []
    for bid in picks:
        t0 = time.perf_counter()
        g = grid_of(bid)
        times.append(time.perf_counter() - t0)
    out["grid_service"] = {**summary(times), "dwellings": g["dwellings"]}

    def logged_in(client: Any) -> None:
        login = client.get("/web/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post(
            "/web/login",
            data={"username": "bench_city", "password": PASSWORD, "csrf_token": token, "next": "/web/"},
        )
        assert r.status_code == 303, r.text

    query = f"from={PERIOD[0]}&to={PERIOD[1]}"
    # Every request counts afresh (kpi_cache_seconds=0): the cold figure.
    cold = create_app(Settings(database_url=url, kpi_cache_seconds=0, totp_roles=""), engine=engine)
    with TestClient(cold, follow_redirects=False) as client:
        logged_in(client)
        times, page = timed(lambda: client.get(f"/web/dashboard?area=420700&{query}"), runs)
        assert page.status_code == 200, page.text[:500]
        out["dashboard_page_city_cold"] = summary(times)
        times = []
        for bid in picks:
            t0 = time.perf_counter()
            r = client.get(f"/web/buildings/{bid}/grid")
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text[:500]
        out["grid_page"] = summary(times)
        other_query = f"from={OTHER_PERIOD[0]}&to={OTHER_PERIOD[1]}"
        times, page = timed(lambda: client.get(f"/web/dashboard?area=420700&{other_query}"), runs)
        assert page.status_code == 200, page.text[:500]
        out["dashboard_page_city_other_period_cold"] = summary(times)
        times, page = timed(lambda: client.get(f"/web/dashboard?area=420704001101&{other_query}"), runs)
        assert page.status_code == 200, page.text[:500]
        out["dashboard_page_community_other_period_cold"] = summary(times)
    # With the default reuse (300 s): after one count of the city, the city and every area below it.
    warm = create_app(Settings(database_url=url, totp_roles=""), engine=engine)
    with TestClient(warm, follow_redirects=False) as client:
        logged_in(client)
        client.get(f"/web/dashboard?area=420700&{query}")
        times, _ = timed(lambda: client.get(f"/web/dashboard?area=420700&{query}"), runs)
        out["dashboard_page_city_reused"] = summary(times)
        codes = ["420704", "420704001", "420704001101", "420704001120"]
        times = []
        for code in codes:
            t0 = time.perf_counter()
            r = client.get(f"/web/dashboard?area={code}&{query}")
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text[:300]
        out["dashboard_page_drill_down_reused"] = summary(times)
    engine.dispose()
    return out


def main() -> None:
    """Parse arguments, load (unless reusing), enrich, measure, print JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="dashboard repetitions")
    parser.add_argument("--grids", type=int, default=50, help="random buildings for the grid")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run kept")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.db == "sqlite":
        path = Path("bench-out") / f"web-{args.persons}.db"
        path.parent.mkdir(exist_ok=True)
        url = f"sqlite:///{path}"
        fresh = not (args.reuse and path.exists())
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        name = f"liangshi_bench_web_{args.persons}"
        admin = psycopg.connect(args.pg_server, autocommit=True)
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        fresh = not (args.reuse and exists)
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        url = args.pg_server.rsplit("/", 1)[0] + f"/{name}"
    load_s = upgrade_s = None
    if fresh:
        t0 = time.perf_counter()
        bench_lookup.load(url, args.persons, args.seed)
        load_s = round(time.perf_counter() - t0, 1)
    else:
        from liangshi import migrate

        engine = make_engine(url)
        t0 = time.perf_counter()
        migrate.upgrade(engine)
        upgrade_s = round(time.perf_counter() - t0, 1)
        engine.dispose()
    enrich(url)
    fold_s = fold(url)
    figures = measure(url, args.runs, args.grids, args.seed)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "load_s": load_s,
                "upgrade_s": upgrade_s,
                "fold_s": fold_s,
                "cores": os.cpu_count(),
                "run": uuid.uuid4().hex[:6],
                **figures,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
