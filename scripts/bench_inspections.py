"""Benchmark checking and acceptance (issue 16): draw a city's inspection sample and compute every estimate.

    .venv/bin/python scripts/bench_inspections.py --db sqlite --persons 1000000
    .venv/bin/python scripts/bench_inspections.py --db postgresql --persons 1000000

Loads a synthetic city: 300 communities and villages under Ezhou's 25 subdistricts and towns, and one household
per 2.8 persons spread over them (bulk inserts of the rows the services write; persons themselves are not
needed to draw households). Then times, each in its own transaction and committed:
- the baseline: the bare SQL that reads the frame (every household id with its area, and the ended versions);
- `create_plan`: the frame, each community's sample size and acceptance plan (n, Ac), the draw, the samples;
- after simulated results for every sampled household (loaded in bulk, not timed): `rates` (the five rates per
  community with Wilson intervals and the weighted roll-up) and `coverage` (Chapman per community, summed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liangshi import migrate
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.areas.schemas import AreaCreate
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.inspections import service as inspections
from liangshi.inspections.models import InspectionResult, InspectionSample
from liangshi.inspections.schemas import PlanCreate
from liangshi.persons.models import Household, HouseholdVersion
from liangshi.registry import Context

PER_PARENT = 12
CHUNK = 50_000
# The floor of drawing: reading every household id with its area, and the few ended versions, bare SQL.
FRAME_SQL = "SELECT id, area_id FROM households"
ENDED_SQL = "SELECT entity_id FROM household_versions WHERE superseded_at IS NULL AND valid_to IS NOT NULL"


def _version(now: dt.datetime, county: str, household_id: int) -> dict[str, Any]:
    return {
        "entity_id": household_id,
        "version": 1,
        "valid_from": dt.date(2020, 1, 1),
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
        "dwelling_id": None,
        "household_number": f"H{household_id:08d}",
    }


def load(url: str, persons: int, seed: int) -> tuple[int, int]:
    """Schema, areas, households; returns (communities, households)."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    clock = Clock()
    now = clock.now() - dt.timedelta(days=1)
    rng = random.Random(seed)
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=now, today=clock.today(), purpose="bench")
        rows = list(ezhou_areas())
        areas.load_gazetteer(s, ctx, rows)
        parents = [r for r in rows if r["level"] in ("subdistrict", "town", "township")]
        communities: list[tuple[int, str]] = []
        for parent in parents:
            level = "community" if parent["level"] == "subdistrict" else "village"
            for i in range(1, PER_PARENT + 1):
                snap = areas.create_area(
                    s,
                    ctx,
                    AreaCreate(
                        code=f"{parent['code']}{i:03d}",
                        name=f"测试{i}社区" if level == "community" else f"测试{i}村",
                        level=level,  # type: ignore[arg-type]
                        parent_code=parent["code"],
                    ),
                )
                communities.append((int(snap.entity.id), str(parent["code"])[:6]))
    households = persons * 10 // 28
    next_id = 1
    with session_scope(factory) as s:
        while next_id <= households:
            last = min(households, next_id + CHUNK - 1)
            entities, versions = [], []
            for hid in range(next_id, last + 1):
                area_id, county = communities[rng.randrange(len(communities))]
                entities.append(
                    {"id": hid, "county_code": county, "version": 1, "created_at": now, "area_id": area_id}
                    | {"household_kind": "actual"}
                )
                versions.append(_version(now, county, hid))
            s.execute(insert(Household), entities)
            s.execute(insert(HouseholdVersion), versions)
            next_id = last + 1
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    return len(communities), households


def results(url: str, plan_id: int, seed: int) -> int:
    """A simulated result for every sampled household (2–3 persons, about 2 % wrong, 3 % missed); not timed."""
    engine = make_engine(url)
    rng = random.Random(seed)
    now = Clock().now()
    with session_scope(make_session_factory(engine)) as s:
        samples = s.execute(
            select(InspectionSample.id, InspectionSample.lot_id, InspectionSample.county_code).where(
                InspectionSample.plan_id == plan_id
            )
        ).all()
        rows = []
        for sample_id, lot_id, county in samples:
            registered = rng.choice((2, 3))
            present = registered - (rng.random() < 0.02)
            main = present - (rng.random() < 0.02 and present > 0)
            rows.append(
                {
                    "sample_id": sample_id,
                    "lot_id": lot_id,
                    "county_code": county,
                    "inspector_id": None,
                    "inspected_at": now,
                    "persons_registered": registered,
                    "persons_present": present,
                    "main_right": main,
                    "general_right": main,
                    # one general item wrong for each person not right, five expected per person present
                    "general_items_wrong": present - main,
                    "general_items_expected": 5 * present,
                    "general_items_right": 5 * present - (present - main),
                    "floating_found": 0,
                    "floating_registered": 0,
                    "floating_entered": 0,
                    "floating_right": 0,
                    "persons_missed": int(rng.random() < 0.03),
                    "count_matches": present == registered,
                    "defective": present < registered or main < present,
                    "note": None,
                }
            )
        s.execute(insert(InspectionResult), rows)
    engine.dispose()
    return len(samples)


def measure(url: str, seed: int) -> dict[str, Any]:
    """Baseline frame read, the draw, and the estimates, each timed with its commit."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        frame = s.execute(text(FRAME_SQL)).all()
        s.execute(text(ENDED_SQL)).all()
    out["baseline_frame_sql_s"] = round(time.perf_counter() - t0, 3)
    out["frame_households"] = len(frame)
    with session_scope(factory) as s:
        city = s.execute(select(Area.id).where(Area.code == "420700")).scalar_one()
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        plan = inspections.create_plan(s, ctx, PlanCreate(area_id=city, name="bench", seed=seed))
    out["draw_s"] = round(time.perf_counter() - t0, 3)
    out["lots"] = len(plan.lots)
    out["sampled"] = sum(lot.sample_size for lot in plan.lots)
    out["models"] = sorted({lot.model for lot in plan.lots})
    with session_scope(factory) as s:
        drawn = s.execute(
            select(InspectionSample.household_id)
            .where(InspectionSample.plan_id == plan.id)
            .order_by(InspectionSample.household_id)
        ).scalars()
        # The same seed draws the same households on either database: compare this digest between the runs.
        out["sample_sha256"] = hashlib.sha256(",".join(map(str, drawn)).encode()).hexdigest()[:16]
    t0 = time.perf_counter()
    results(url, plan.id, seed)
    out["load_results_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        report = inspections.rates(s, ctx, plan.id)
    out["rates_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        cover = inspections.coverage(s, ctx, plan.id)
    out["coverage_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        month = clock.today().replace(day=1) - dt.timedelta(days=31)
        scores = inspections.collector_report(
            s, ctx, area_code="420700", date_from=month, date_to=clock.today()
        )
        trend = inspections.monthly_rates(s, ctx, area_code="420700", date_from=month, date_to=clock.today())
    out["scores_and_trends_s"] = round(time.perf_counter() - t0, 3)
    out["scored_collectors"] = len(scores["collectors"])
    out["trend_months"] = len(trend["months"])
    out["estimates_s"] = round(out["rates_s"] + out["coverage_s"], 3)
    out["draw_and_estimates_s"] = round(out["draw_s"] + out["estimates_s"], 3)
    headcount = next(r for r in report["overall"] if r.key == "headcount")
    out["headcount"] = [
        round(headcount.rate or 0, 4),
        round(headcount.low or 0, 4),
        round(headcount.high or 0, 4),
    ]
    out["missed"] = [round(cover["missed"]), round(cover["low"]), round(cover["high"])]
    engine.dispose()
    return out


@contextmanager
def fresh_database(db: str, persons: int, pg_server: str, prefix: str = "liangshi") -> Iterator[str]:
    """A new SQLite file bench-out/inspections-<persons>.db, or a new PostgreSQL database dropped afterwards."""
    if db == "sqlite":
        path = Path("bench-out") / f"inspections-{persons}.db"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    import psycopg  # only the PostgreSQL run needs the driver directly

    name = f"{prefix}_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(pg_server, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Parse arguments, load, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="liangshi", help="prefix of the PostgreSQL database's name")
    args = parser.parse_args()
    with fresh_database(args.db, args.persons, args.pg_server, args.pg_prefix) as url:
        t0 = time.perf_counter()
        communities, households = load(url, args.persons, args.seed)
        load_s = time.perf_counter() - t0
        figures = measure(url, args.seed)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "communities": communities,
                "households": households,
                "load_s": round(load_s, 1),
                "cores": os.cpu_count(),
                **figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
