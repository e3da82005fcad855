"""Benchmark a mixed load over HTTP against `liangshi serve --workers N`: throughput, latency, errors, then the
audit log verified.

    .venv/bin/python scripts/bench_mixed.py --db postgresql --persons 100000 --clients 16,64 --seconds 60
    .venv/bin/python scripts/bench_mixed.py --db postgresql --persons 100000 --clients 64 --workers 2 --keep x

Loads N persons with Faker zh_CN names (seeded) through the bulk loader of `bench_lookup.py` (each with a resident
ID, a dwelling and an open residence, and the pinyin keys of the name search), registers a hotel and issues its
key through the services (as `bench_venues.py`), starts `liangshi serve --workers N` in another process (its
audit sequencer and other background jobs in one worker, as in production) and runs C concurrent clients
(asyncio + httpx, in this process, on the same cores) for S seconds each round, every request picked at random:

- 30 % 查人知住: `POST /persons/lookup` with a loaded person's ID number (scope, masking, one audit entry, commit);
- 25 % name search: `GET /persons/search?q=<a loaded person's name>` (the forgiving search, audited);
- 25 % 查房知人: `GET /dwellings/{id}/occupants` of a loaded dwelling (audited);
- 20 % venue check-ins: `POST /venues/{id}/stays`, one check-in of a loaded person, with the venue's key.

Each client logs in as its own officer (one community police account per client). Any answer but 200 is an
error (counted by route and status). After the last round the server is stopped and `liangshi audit verify`
runs over the database: every entry the load wrote must be in the signed Merkle tree.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
from faker import Faker
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import PASSWORD, free_port, fresh_database, load_people, make_ids, pct
from bench_venues import register_venue

from liangshi.access import service as access
from liangshi.access.service import SYSTEM
from liangshi.audit.models import AuditEntry
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.residence.models import Residence

MIX = (("lookup", 30), ("search", 25), ("occupants", 25), ("check_in", 20))


def load(url: str, n: int, seed: int, officers: int) -> dict[str, Any]:
    """The city, the hotel and its key, and one police account per client; what the clients pick from."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    ids = make_ids(n, rng)
    people = [
        {
            "id_number": num,
            "name": fake.name(),
            "sex": "1" if int(num[16]) % 2 else "2",
            "birth": dt.date(int(num[6:10]), int(num[10:12]), int(num[12:14])),
            "phone": None,
        }
        for num in ids
    ]
    load_people(url, people)
    venue_id, key = register_venue(url)
    engine = make_engine(url)
    clock = Clock()
    try:
        with session_scope(make_session_factory(engine)) as s:
            for i in range(officers):
                access.create_user(
                    s,
                    username=f"bench_police_{i}",
                    display_name=f"bench {i}",
                    password=PASSWORD,
                    role="community_police",
                    area_code="420704001001",
                    department=None,
                    actor=SYSTEM,
                    now=clock.now(),
                )
            dwellings = [int(d) for d in s.execute(select(Residence.dwelling_id)).scalars()]
    finally:
        engine.dispose()
    return {
        "people": [(p["id_number"], p["name"]) for p in people],
        "dwellings": dwellings,
        "venue_id": venue_id,
        "venue_key": key,
    }


def start_server(url: str, workers: int, port: int) -> subprocess.Popen[bytes]:
    """`liangshi serve --workers N` in its own process group (so that all its workers stop together)."""
    env = {**os.environ, "LIANGSHI_DATABASE_URL": url}
    code = "from liangshi.cli.main import app; app()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, as a service manager stops it; wait for it to exit."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(1200):  # up to two minutes: on a busy machine the workers take long to import
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def run_round(
    base: str, city: dict[str, Any], clients: int, seconds: float, seed: int
) -> dict[str, Any]:
    """C clients, each its own officer, sending the mix until the time is up."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    people, dwellings = city["people"], city["dwellings"]
    venue = {"Authorization": f"Bearer {city['venue_key']}"}
    clock = Clock()
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        tokens = []
        for i in range(clients):
            r = await http.post("/auth/token", json={"username": f"bench_police_{i}", "password": PASSWORD})
            r.raise_for_status()
            tokens.append({"Authorization": f"Bearer {r.json()['access_token']}"})
        end = time.perf_counter() + seconds

        async def client(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            auth = tokens[i]
            n = 0
            while time.perf_counter() < end:
                kind = rng.choices(kinds, weights)[0]
                number, name = rng.choice(people)
                t0 = time.perf_counter()
                try:
                    if kind == "lookup":
                        r = await http.post("/persons/lookup", json={"id_number": number}, headers=auth)
                    elif kind == "search":
                        r = await http.get("/persons/search", params={"q": name}, headers=auth)
                    elif kind == "occupants":
                        r = await http.get(f"/dwellings/{rng.choice(dwellings)}/occupants", headers=auth)
                    else:
                        n += 1
                        item = {
                            "stay_ref": f"M{seed}-{clients}-{i}-{n}",
                            "event": "check_in",
                            "at": clock.now().isoformat(),
                            "guest": {"doc_type": "resident_id", "number": number, "name": name},
                        }
                        r = await http.post(f"/venues/{city['venue_id']}/stays", json=item, headers=venue)
                    status = r.status_code
                    if status == 200 and kind == "check_in" and r.json().get("accepted") != 1:
                        status = -1  # answered, but the check-in was not accepted
                except httpx.HTTPError as exc:
                    status = -2
                    errors[f"{kind}: {type(exc).__name__}"] += 1
                latencies[kind].append(time.perf_counter() - t0)
                if status != 200 and status != -2:
                    errors[f"{kind}: {status}"] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        wall = time.perf_counter() - t0
    every = [x for v in latencies.values() for x in v]
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(every),
        "per_second": round(len(every) / wall, 1),
        "p50_ms": round(pct(every, 0.5), 1),
        "p99_ms": round(pct(every, 0.99), 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "by_route": {
            k: {"n": len(v), "p50_ms": round(pct(v, 0.5), 1), "p99_ms": round(pct(v, 0.99), 1)}
            for k, v in sorted(latencies.items())
        },
        "load_average": os.getloadavg(),
    }


def verify_audit(url: str) -> dict[str, Any]:
    """`liangshi audit verify --json` over the database, after the server stopped; and the entries it holds."""
    env = {**os.environ, "LIANGSHI_DATABASE_URL": url}
    code = "from liangshi.cli.main import app; app()"
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, "audit", "verify", "--json"], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            entries = int(conn.execute(select(func.count()).select_from(AuditEntry.__table__)).scalar_one())
    finally:
        engine.dispose()
    result: dict[str, Any] = {"exit_code": done.returncode, "seconds": round(seconds, 1), "entries": entries}
    try:
        parsed = json.loads(done.stdout.strip().splitlines()[-1])
        result.update({k: parsed[k] for k in ("ok", "entries", "heads_checked") if k in parsed})
        result["problems"] = len(parsed.get("problems") or [])
    except (ValueError, IndexError):
        result["output"] = (done.stdout + done.stderr)[-2000:]
    return result


def main() -> None:
    """Parse arguments, load, run each round, verify, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--clients", default="16,64")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--pg-prefix", default="liangshi_bench", help="name prefix of the PostgreSQL database"
    )
    parser.add_argument("--out", default="bench-out", help="folder of the SQLite database")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    label = f"mixed-{uuid.uuid4().hex[:6]}"
    with fresh_database(
        args.db, label, args.persons, args.pg_server, prefix=args.pg_prefix, folder=args.out
    ) as url:
        t0 = time.perf_counter()
        city = load(url, args.persons, args.seed, max(counts))
        load_s = time.perf_counter() - t0
        port = free_port()
        server = start_server(url, args.workers, port)
        rounds = []
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_ready(base))
            for n in counts:
                start_load = os.getloadavg()
                figures = asyncio.run(run_round(base, city, n, args.seconds, args.seed))
                rounds.append({"load_average_at_start": start_load, **figures})
        finally:
            stop_server(server)
        audit = verify_audit(url)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "workers": args.workers,
                "load_s": round(load_s, 1),
                "cores": os.cpu_count(),
                "code": str(Path(access.__file__).resolve().parent.parent),
                "rounds": rounds,
                "audit_verify": audit,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
