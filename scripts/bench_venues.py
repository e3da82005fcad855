"""Benchmark venue stays ingested over HTTP in batches of 1,000, with the bare insert rate as baseline, in one run.

    .venv/bin/python scripts/bench_venues.py --db sqlite --stays 50000
    .venv/bin/python scripts/bench_venues.py --db postgresql --stays 50000

Loads a city of persons (the bulk loader of `bench_lookup.py`: each with a resident ID, a dwelling and an open
residence), registers a hotel and issues its key through the services, starts uvicorn in another process and
posts check-ins in batches of 1,000 with an Idempotency-Key each: half of the guests are in the registry, half
unknown, about 1 % foreigners (some reported late). Every stay goes through the whole path: key check, document
rules, one matching query per batch, bulk insert, one audit entry per stay, the stored batch summary, commit.

The baseline is the same rows written into a bare table (no keys, no indexes) with the driver alone:
`executemany` on SQLite, `COPY` on PostgreSQL, one transaction per 1,000 rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import free_port, load

from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Address
from liangshi.audit.models import AuditEntry
from liangshi.clock import Clock
from liangshi.common.idnumber import compute_check_char
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.registry import Context
from liangshi.venues import service as venues
from liangshi.venues.models import Stay
from liangshi.venues.schemas import KeyIn, VenueCreate

BATCH = 1000
COLUMNS = (
    "id",
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
)
BARE_DDL = {
    "sqlite": "CREATE TABLE bench_stays_bare (id INTEGER, venue_id INTEGER, county_code TEXT, area_id INTEGER, "
    "stay_ref TEXT, doc_type TEXT, doc_number TEXT, doc_country TEXT, guest_name TEXT, person_id INTEGER, "
    'check_in_at TEXT, check_out_at TEXT, received_at TEXT, "foreign" BOOLEAN, late_report BOOLEAN, '
    "unknown_person BOOLEAN)",
    "postgresql": "CREATE TABLE bench_stays_bare (id bigint, venue_id bigint, county_code text, area_id bigint, "
    "stay_ref text, doc_type text, doc_number text, doc_country text, guest_name text, person_id bigint, "
    'check_in_at timestamptz, check_out_at timestamptz, received_at timestamptz, "foreign" boolean, '
    "late_report boolean, unknown_person boolean)",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def unknown_ids(n: int, known: set[str], rng: random.Random) -> list[str]:
    """N valid ID numbers issued elsewhere (Beijing), none of them in the registry."""
    out: set[str] = set()
    while len(out) < n:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
        first17 = f"110101{birth:%Y%m%d}{rng.randrange(1, 1000):03d}"
        number = first17 + compute_check_char(first17)
        if number not in known:
            out.add(number)
    return sorted(out)


def make_items(n: int, ids: list[str], rng: random.Random, now: dt.datetime) -> list[dict[str, Any]]:
    """N check-ins: half of registered persons, half unknown, about 1 % foreign passports (a third of them late)."""
    others = unknown_ids(n - n // 2, set(ids), rng)
    items: list[dict[str, Any]] = []
    for i in range(n):
        at = now - dt.timedelta(minutes=rng.randrange(1, 60 * 20))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if i % 100 == 99:
            guest = {
                "doc_type": "passport",
                "country": rng.choice(["USA", "DEU", "JPN", "KOR"]),
                "number": f"P{i:08d}",
                "name": "John Smith",
            }
            if i % 300 == 299:
                at = now - dt.timedelta(hours=30)
        elif i % 2 == 0:
            guest = {"doc_type": "resident_id", "number": rng.choice(ids), "name": name}
        else:
            guest = {"doc_type": "resident_id", "number": others[i // 2], "name": name}
        items.append({"stay_ref": f"S{i:07d}", "event": "check_in", "at": at.isoformat(), "guest": guest})
    return items


def register_venue(url: str) -> tuple[int, str]:
    """A hotel on one of the loaded plates, and its key (through the services, as the system)."""
    engine = make_engine(url)
    clock = Clock()
    try:
        with session_scope(make_session_factory(engine)) as s:
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
            address_id = s.execute(select(func.min(Address.id))).scalar_one()
            snap = venues.register_venue(
                s, ctx, VenueCreate(venue_kind="hotel", address_id=address_id, name="基准宾馆")
            )
            key = venues.issue_key(s, ctx, snap.entity.id, KeyIn(name="bench"))
            return int(snap.entity.id), str(key["key"])
    finally:
        engine.dispose()


def over_http(url: str, venue_id: int, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Post the items in batches of 1,000 to a uvicorn server in another process; time the whole run."""
    bodies = [json.dumps({"items": items[i : i + BATCH]}).encode() for i in range(0, len(items), BATCH)]
    port = free_port()
    env = {**os.environ, "LIANGSHI_DATABASE_URL": url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "liangshi.http.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    latencies: list[float] = []
    totals = {
        "accepted": 0,
        "rejected": 0,
        "duplicates": 0,
        "unknown": 0,
        "foreign": 0,
        "late_foreign_report": 0,
    }
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(200):
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            t0 = time.perf_counter()
            for n, body in enumerate(bodies):
                b0 = time.perf_counter()
                r = client.post(
                    f"/venues/{venue_id}/stays",
                    content=body,
                    headers={**headers, "Idempotency-Key": f"bench-{n}"},
                )
                latencies.append(time.perf_counter() - b0)
                assert r.status_code == 200, r.text
                summary = r.json()
                for k in ("accepted", "rejected", "duplicates"):
                    totals[k] += summary[k]
                for item in summary["items"]:
                    for flag in item["flags"]:
                        totals[flag] += 1
            seconds = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait()
    ordered = sorted(latencies)
    return {
        "seconds": round(seconds, 2),
        "stays_per_s": round(len(items) / seconds),
        "batch_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "batch_p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
        **totals,
    }


def baseline(url: str, db: str, venue_id: int) -> dict[str, Any]:
    """The same rows (as stored) copied into a bare table with the driver alone, 1,000 per transaction."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = [
                tuple(r)
                for r in conn.execute(
                    select(*[Stay.__table__.c[c] for c in COLUMNS])
                    .where(Stay.venue_id == venue_id)
                    .order_by(Stay.id)
                )
            ]
        raw = engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            cur = driver.cursor()
            cur.execute("DROP TABLE IF EXISTS bench_stays_bare")
            cur.execute(BARE_DDL[db])
            driver.commit()
            names = ", ".join(f'"{c}"' for c in COLUMNS)
            t0 = time.perf_counter()
            for lo in range(0, len(rows), BATCH):
                chunk = rows[lo : lo + BATCH]
                if db == "sqlite":
                    cur.execute("BEGIN")
                    cur.executemany(
                        f"INSERT INTO bench_stays_bare ({names}) VALUES ({', '.join('?' for _ in COLUMNS)})",
                        [tuple(v.isoformat() if isinstance(v, dt.datetime) else v for v in r) for r in chunk],
                    )
                    cur.execute("COMMIT")
                else:
                    with cur.copy(f"COPY bench_stays_bare ({names}) FROM STDIN") as copy:
                        for r in chunk:
                            copy.write_row(r)
                    driver.commit()
            seconds = time.perf_counter() - t0
            cur.execute("DROP TABLE bench_stays_bare")
            driver.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()
    return {"rows": len(rows), "seconds": round(seconds, 3), "rows_per_s": round(len(rows) / seconds)}


def stored(url: str, venue_id: int) -> dict[str, int]:
    """What the run left in the database: stays and their audit entries."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stays = conn.execute(
                select(func.count()).select_from(Stay).where(Stay.venue_id == venue_id)
            ).scalar_one()
            audited = conn.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "stay.check_in")
            ).scalar_one()
            matched = conn.execute(
                select(func.count())
                .select_from(Stay)
                .where(Stay.venue_id == venue_id, Stay.person_id.is_not(None))
            ).scalar_one()
        return {"stays": int(stays), "matched": int(matched), "audit_entries": int(audited)}
    finally:
        engine.dispose()


def main() -> None:
    """Parse arguments, load, post, measure the baseline, print JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--stays", type=int, default=50_000)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    drop = None
    if args.db == "sqlite":
        path = Path("bench-out") / f"venues-{args.persons}.db"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        name = f"liangshi_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(args.pg_server, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        url = args.pg_server.rsplit("/", 1)[0] + f"/{name}"

        def drop() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        t0 = time.perf_counter()
        ids = load(url, args.persons, args.seed)
        venue_id, key = register_venue(url)
        load_s = time.perf_counter() - t0
        items = make_items(args.stays, ids, random.Random(args.seed + 2), Clock().now())
        http = over_http(url, venue_id, key, items)
        result = stored(url, venue_id)
        bare = baseline(url, args.db, venue_id)
    finally:
        if drop is not None:
            drop()
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "stays": args.stays,
                "batch": BATCH,
                "cores": os.cpu_count(),
                "load_s": round(load_s, 1),
                "http": http,
                "stored": result,
                "baseline_bare_insert": bare,
                "http_vs_bare": round(http["stays_per_s"] / bare["rows_per_s"], 3),
                "goal_stays_per_s": 5000,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
