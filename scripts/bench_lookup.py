"""Benchmark 查人知住 by ID number and 查房知人 by dwelling: in-process, over HTTP, and bare SQL, in one run.

    .venv/bin/python scripts/bench_lookup.py --db sqlite --persons 100000
    .venv/bin/python scripts/bench_lookup.py --db postgresql --persons 100000
    .venv/bin/python scripts/bench_lookup.py --db postgresql --persons 20000 --clients 1,8,32 --seconds 8

With --clients: only the audited 查人知住 in process, by that many client processes at once for --seconds each
(throughput and latency percentiles), with the audit sequencer running beside them when the code has one (as
`liangshi serve` runs it). Run the same script under another checkout's code (PYTHONPATH=<checkout>/src) to
compare before and after in one run.

Loads N persons (each with a resident ID, a dwelling and an open residence) with bulk inserts that write the
same rows the services write, then times the lookup: the service call in its own transaction (scope, masking,
audit entry, commit), the same over HTTP against a uvicorn server in another process, and the bare SQL query
that finds the person's open residences by document number, with no scope, audit or rendering.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress
from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liangshi import migrate
from liangshi.access import service as access
from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Address, AddressVersion, Street, StreetVersion
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.common.idnumber import compute_check_char
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.persons.models import Document, DocumentVersion, Person, PersonVersion
from liangshi.persons.rules import name_keys
from liangshi.registry import Context
from liangshi.residence import service as residence
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.sealed import index_rows, keyring

PASSWORD = "Bench-password-1"
BARE_SQL = """
SELECT r.id, rv.category, rv.arrival_date, r.dwelling_id
FROM document_versions dv
JOIN documents d ON d.id = dv.entity_id
JOIN residences r ON r.person_id = d.person_id
JOIN residence_versions rv ON rv.entity_id = r.id AND rv.superseded_at IS NULL AND rv.valid_to IS NULL
WHERE dv.number_idx = :number_idx AND dv.superseded_at IS NULL AND dv.valid_to IS NULL
"""


BARE_OCCUPANTS_SQL = """
SELECT r.id, r.person_id, rv.category, rv.arrival_date
FROM residences r
JOIN residence_versions rv ON rv.entity_id = r.id AND rv.superseded_at IS NULL
WHERE r.dwelling_id = :dwelling AND rv.valid_from <= :on AND (rv.valid_to IS NULL OR rv.valid_to > :on)
"""


def make_ids(n: int, rng: random.Random) -> list[str]:
    """N distinct valid ID numbers."""
    out: set[str] = set()
    while len(out) < n:
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
        first17 = f"420704{birth:%Y%m%d}{rng.randrange(1, 1000):03d}"
        out.add(first17 + compute_check_char(first17))
    return sorted(out)


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


def phone_index(engine: Any, phone: str | None) -> dict[str, Any]:
    """The keyed-hash index column of a phone where the code has one (issue 18; the Core insert encrypts the phone
    itself through its column type), else nothing: the same script runs under the code before and after."""
    if not hasattr(PersonVersion, "phone_idx"):
        return {}
    from liangshi import sealed  # the code before issue 18 has no such module

    return {
        "phone_idx": None if phone is None else sealed.keyring(engine.dialect).index("person.phone", phone)
    }


def name_key_columns(name: str) -> dict[str, Any]:
    """The pinyin keys the forgiving name search reads (its full pinyin and initials), as the services write them."""
    full, initials = name_keys(name)
    return {"name_pinyin": full, "name_initials": initials}


def load_people(url: str, people: list[dict[str, Any]]) -> None:
    """Create the schema and the given persons (id_number, name, sex, birth, phone), each living in a dwelling of
    its own building floor; sets each one's person_id."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    clock = Clock()
    now = clock.now()
    with session_scope(factory) as s:
        ctx = Context(actor=SYSTEM, now=now, today=clock.today(), purpose="bench")
        areas.load_gazetteer(s, ctx, ezhou_areas())
        community = areas.create_area(
            s,
            ctx,
            AreaCreate(code="420704001001", name="滨湖社区", level="community", parent_code="420704001"),
        )
        access.create_user(
            s,
            username="bench_police",
            display_name="bench",
            password=PASSWORD,
            role="community_police",
            area_code="420704001001",
            department=None,
            actor=SYSTEM,
            now=now,
        )
        area_id = community.entity.id
    county, start = "420704", dt.date(2020, 1, 1)
    per_building = 60
    with engine.begin() as conn, Progress() as progress:
        task = progress.add_task("loading persons", total=len(people))
        sid = conn.execute(
            insert(Street)
            .values(county_code=county, version=1, created_at=now, area_id=area_id)
            .returning(Street.id)
        ).scalar_one()
        conn.execute(
            insert(StreetVersion).values(
                entity_id=sid,
                name="基准路",
                street_type="路",
                numbering_style="dash",
                start_description=None,
                bearing_deg=None,
                **meta(now, county, start),
            )
        )
        batch = 5000
        for lo in range(0, len(people), batch):
            chunk = people[lo : lo + batch]
            buildings_needed = (len(chunk) + per_building - 1) // per_building
            addr_ids = list(
                conn.execute(
                    insert(Address).returning(Address.id, sort_by_parameter_order=True),
                    [
                        {
                            "county_code": county,
                            "version": 1,
                            "created_at": now,
                            "area_id": area_id,
                            "street_id": sid,
                            "code": uuid.uuid4().hex[:18],
                        }
                        for _ in range(buildings_needed)
                    ],
                ).scalars()
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
                    for a in addr_ids
                ],
            )
            b_ids = list(
                conn.execute(
                    insert(Building).returning(Building.id, sort_by_parameter_order=True),
                    [
                        {
                            "county_code": county,
                            "version": 1,
                            "created_at": now,
                            "area_id": area_id,
                            "address_id": a,
                        }
                        for a in addr_ids
                    ],
                ).scalars()
            )
            conn.execute(
                insert(BuildingVersion),
                [
                    {
                        "entity_id": b,
                        "label": "1栋",
                        "floors_above": 30,
                        "floors_below": 0,
                        "units": 2,
                        "use": "residential",
                        "structure": None,
                        "year_built": 2000,
                        "visit_status": "visited",
                        **meta(now, county, start),
                    }
                    for b in b_ids
                ],
            )
            d_ids = list(
                conn.execute(
                    insert(Dwelling).returning(Dwelling.id, sort_by_parameter_order=True),
                    [
                        {
                            "county_code": county,
                            "version": 1,
                            "created_at": now,
                            "area_id": area_id,
                            "building_id": b_ids[i // per_building],
                        }
                        for i in range(len(chunk))
                    ],
                ).scalars()
            )
            conn.execute(
                insert(DwellingVersion),
                [
                    {
                        "entity_id": d,
                        "unit": 1,
                        "floor": i % 30 + 1,
                        "room": f"{i % 30 + 1}{i % 2 + 1:02d}",
                        "use": "residential",
                        "floor_area_m2": 80.0,
                        "owner_name": None,
                        "status": "occupied",
                        **meta(now, county, start),
                    }
                    for i, d in enumerate(d_ids)
                ],
            )
            p_ids = list(
                conn.execute(
                    insert(Person).returning(Person.id, sort_by_parameter_order=True),
                    [
                        {"county_code": county, "version": 1, "created_at": now, "area_id": area_id}
                        for _ in chunk
                    ],
                ).scalars()
            )
            conn.execute(
                insert(PersonVersion),
                [
                    {
                        "entity_id": p,
                        "name": x["name"],
                        "sex": x["sex"],
                        "birth_date": x["birth"],
                        "ethnicity": "01",
                        "nationality": "CHN",
                        "hukou_region": "420704",
                        "hukou_address": None,
                        "education": None,
                        "marital_status": None,
                        "occupation": None,
                        "workplace": None,
                        "phone": x["phone"],
                        **phone_index(engine, x["phone"]),
                        **name_key_columns(x["name"]),
                        **meta(now, county, start),
                    }
                    for p, x in zip(p_ids, chunk, strict=True)
                ],
            )
            doc_ids = list(
                conn.execute(
                    insert(Document).returning(Document.id, sort_by_parameter_order=True),
                    [
                        {
                            "county_code": county,
                            "version": 1,
                            "created_at": now,
                            "area_id": area_id,
                            "person_id": p,
                        }
                        for p in p_ids
                    ],
                ).scalars()
            )
            doc_rows = [
                {
                    "entity_id": d,
                    "doc_type": "resident_id",
                    "number": x["id_number"],
                    "country": "CHN",
                    **meta(now, county, start),
                }
                for d, x in zip(doc_ids, chunk, strict=True)
            ]
            # The number is sealed: an ORM bulk insert encrypts it but fires no event to fill its indexes.
            index_rows(keyring(conn.dialect), DocumentVersion.__table__, doc_rows)
            conn.execute(insert(DocumentVersion), doc_rows)
            r_ids = list(
                conn.execute(
                    insert(Residence).returning(Residence.id, sort_by_parameter_order=True),
                    [
                        {
                            "county_code": county,
                            "version": 1,
                            "created_at": now,
                            "area_id": area_id,
                            "person_id": p,
                            "dwelling_id": d,
                        }
                        for p, d in zip(p_ids, d_ids, strict=True)
                    ],
                ).scalars()
            )
            conn.execute(
                insert(ResidenceVersion),
                [
                    {
                        "entity_id": r,
                        "category": "resident",
                        "arrival_date": start,
                        "registration_date": start,
                        "intended_stay_until": None,
                        "departure_date": None,
                        "deregistration_date": None,
                        "deregistration_reason": None,
                        "destination": None,
                        **meta(now, county, start),
                    }
                    for r in r_ids
                ],
            )
            for p, x in zip(p_ids, chunk, strict=True):
                x["person_id"] = p
            progress.update(task, advance=len(chunk))
    if url.startswith("postgresql"):
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()


def load(url: str, n: int, seed: int, phones: bool = False) -> list[str]:
    """Create the schema and N persons living in dwellings (each with a mobile number if `phones`); returns their
    ID numbers."""
    ids = make_ids(n, random.Random(seed))
    load_people(
        url,
        [
            {
                "id_number": num,
                "name": "测试人员",
                "sex": "1" if int(num[16]) % 2 else "2",
                "birth": dt.date(int(num[6:10]), int(num[10:12]), int(num[12:14])),
                "phone": f"+86139{i:08d}" if phones else None,
            }
            for i, num in enumerate(ids)
        ],
    )
    return ids


def pct(samples: list[float], q: float) -> float:
    """Percentile in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def free_port() -> int:
    """An unused local port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(url: str, ids: list[str], samples: int, seed: int) -> dict[str, Any]:
    """Time bare SQL, the in-process service, and HTTP, on the same sampled ID numbers."""
    rng = random.Random(seed + 1)
    picks = [rng.choice(ids) for _ in range(samples)]
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    results: dict[str, Any] = {}

    bare: list[float] = []
    dwellings: list[int] = []
    with engine.connect() as conn:
        stmt = text(BARE_SQL)
        for number in picks:
            t0 = time.perf_counter()
            key = keyring(conn.dialect).index("document.number", number)
            rows = conn.execute(stmt, {"number_idx": key}).all()
            bare.append(time.perf_counter() - t0)
            assert rows, number
            dwellings.append(int(rows[0][3]))
        results["bare_sql"] = bare
        occupants_sql = text(BARE_OCCUPANTS_SQL)
        bare_rooms: list[float] = []
        for dwelling_id in dwellings:
            t0 = time.perf_counter()
            conn.execute(occupants_sql, {"dwelling": dwelling_id, "on": clock.today()}).all()
            bare_rooms.append(time.perf_counter() - t0)
        results["occupants_bare_sql"] = bare_rooms

    with session_scope(factory) as s:
        from liangshi.access.models import User

        user = s.execute(select(User).where(User.username == "bench_police")).scalar_one()
        actor = access.actor_for(s, user)
    inproc: list[float] = []
    cpu0 = time.process_time()
    for number in picks:
        t0 = time.perf_counter()
        with session_scope(factory) as s:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
            found = residence.where_lives_by_document(s, ctx, number)
        inproc.append(time.perf_counter() - t0)
        assert found["current"], number
    results["in_process"] = inproc
    cpu: dict[str, float] = {"in_process_cpu_ms": (time.process_time() - cpu0) * 1000 / len(picks)}
    rooms: list[float] = []
    for dwelling_id in dwellings:
        t0 = time.perf_counter()
        with session_scope(factory) as s:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
            occupied = residence.occupants(s, ctx, dwelling_id, None)
        rooms.append(time.perf_counter() - t0)
        assert occupied["occupants"], dwelling_id
    results["occupants_in_process"] = rooms
    engine.dispose()

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
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(3000):  # up to five minutes: on a busy machine the server takes long to import
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = client.post("/auth/token", json={"username": "bench_police", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            over_http: list[float] = []
            cpu0 = _cpu_seconds(server.pid)
            for number in picks:
                t0 = time.perf_counter()
                r = client.post("/persons/lookup", json={"id_number": number}, headers=headers)
                over_http.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
            results["http"] = over_http
            cpu["http_server_cpu_ms"] = (_cpu_seconds(server.pid) - cpu0) * 1000 / len(picks)
            rooms_http: list[float] = []
            for dwelling_id in dwellings:
                t0 = time.perf_counter()
                r = client.get(f"/dwellings/{dwelling_id}/occupants", headers=headers)
                rooms_http.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
            results["occupants_http"] = rooms_http
    finally:
        server.terminate()
        server.wait()
    figures: dict[str, Any] = {
        k: {
            "p50_ms": round(pct(v, 0.50), 3),
            "p99_ms": round(pct(v, 0.99), 3),
            "n": len(v),
            "mean_ms": round(statistics.fmean(v) * 1000, 3),
        }
        for k, v in results.items()
    }
    # CPU per 查人知住: of this process for the in-process calls, of the uvicorn server process over HTTP (user +
    # system, from /proc); PostgreSQL's own backends are not counted in either.
    figures["cpu_per_lookup"] = {k: round(v, 3) for k, v in cpu.items()}
    return figures


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def fresh_database(
    db: str,
    label: str,
    persons: int,
    pg_server: str,
    *,
    prefix: str = "liangshi_bench",
    folder: str = "bench-out",
) -> Iterator[str]:
    """The URL of an empty benchmark database: a SQLite file <folder>/<label>-<persons>.db (replaced, kept
    afterwards for inspection), or a new PostgreSQL database named <prefix>_…, dropped when the benchmark ends."""
    if db == "sqlite":
        path = Path(folder) / f"{label}-{persons}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(pg_server, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _client(url: str, ids: list[str], seconds: float, seed: int, start: Any, out: Any, hold: float) -> None:
    """One client process: audited lookups in their own transactions until the time is up; its latencies."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    rng = random.Random(seed)
    with session_scope(factory) as s:
        from liangshi.access.models import User

        user = s.execute(select(User).where(User.username == "bench_police")).scalar_one()
        actor = access.actor_for(s, user)
    start.wait()
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        number = rng.choice(ids)
        t0 = time.perf_counter()
        with session_scope(factory) as s:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
            found = residence.where_lives_by_document(s, ctx, number)
            if hold:
                # The rest of the unit of work after the audited read (a web page renders inside it), before commit.
                time.sleep(hold)
        latencies.append(time.perf_counter() - t0)
        assert found["current"], number
    engine.dispose()
    out.put(latencies)


def _sequencer(url: str, stop: Any) -> None:
    """The audit sequencer as `liangshi serve` runs it (every second), for code that has one."""
    from liangshi.audit import service as audit
    from liangshi.config import Settings

    engine = make_engine(url)
    factory = make_session_factory(engine)
    keys = audit.load_keys(Settings(), create=True)
    clock = Clock()
    while not stop.is_set():
        with session_scope(factory) as s:
            audit.sequence(s, keys, now=clock.now())
        stop.wait(1.0)
    engine.dispose()


def measure_concurrent(
    url: str,
    ids: list[str],
    clients: list[int],
    seconds: float,
    seed: int,
    sequencer_on: bool = True,
    hold: float = 0.0,
) -> dict[str, Any]:
    """Audited 查人知住 by N processes at once, for each N: lookups per second and latency percentiles."""
    import multiprocessing

    from liangshi.audit import service as audit

    ctx = multiprocessing.get_context("fork")
    # The baseline in the same run: the bare SQL of the lookup, one client, no scope, audit or commit.
    engine = make_engine(url)
    rng = random.Random(seed)
    bare: list[float] = []
    with engine.connect() as conn:
        for _ in range(300):
            t0 = time.perf_counter()
            key = keyring(conn.dialect).index("document.number", rng.choice(ids))
            conn.execute(text(BARE_SQL), {"number_idx": key}).all()
            bare.append(time.perf_counter() - t0)
    engine.dispose()
    # --no-sequencer: the appends alone, to tell their cost from the sequencer's.
    figures: dict[str, Any] = {
        "sequencer": hasattr(audit, "sequence") and sequencer_on,
        "bare_sql_p50_ms": round(pct(bare, 0.5), 3),
        "hold_ms": hold * 1000,
    }
    for n in clients:
        start, out, stop = ctx.Barrier(n + 1), ctx.Queue(), ctx.Event()
        procs = [
            ctx.Process(target=_client, args=(url, ids, seconds, seed + i, start, out, hold))
            for i in range(n)
        ]
        sequencer = ctx.Process(target=_sequencer, args=(url, stop)) if figures["sequencer"] else None
        for p in procs:
            p.start()
        if sequencer:
            sequencer.start()
        start.wait()
        t0 = time.perf_counter()
        samples = [x for _ in procs for x in out.get()]
        wall = time.perf_counter() - t0
        for p in procs:
            p.join()
        stop.set()
        if sequencer:
            sequencer.join()
        figures[f"clients_{n}"] = {
            "lookups": len(samples),
            "per_second": round(len(samples) / wall, 1),
            "p50_ms": round(pct(samples, 0.50), 2),
            "p99_ms": round(pct(samples, 0.99), 2),
        }
    return figures


def main() -> None:
    """Parse arguments, load, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--phones", action="store_true", help="give every person a mobile number")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--pg-prefix", default="liangshi_bench", help="name prefix of the PostgreSQL database"
    )
    parser.add_argument("--out", default="bench-out", help="folder of the SQLite database")
    parser.add_argument("--clients", default="", help="e.g. 1,8,32: concurrent audited lookups only")
    parser.add_argument("--seconds", type=float, default=8.0, help="per client count, with --clients")
    parser.add_argument(
        "--no-sequencer", action="store_true", help="with --clients: no sequencer beside them"
    )
    parser.add_argument(
        "--hold-ms", type=float, default=0.0, help="with --clients: wait this long before commit"
    )
    args = parser.parse_args()
    with fresh_database(
        args.db, "lookup", args.persons, args.pg_server, prefix=args.pg_prefix, folder=args.out
    ) as url:
        t0 = time.perf_counter()
        ids = load(url, args.persons, args.seed, args.phones)
        load_s = time.perf_counter() - t0
        if args.clients:
            counts = [int(c) for c in args.clients.split(",")]
            figures = measure_concurrent(
                url, ids, counts, args.seconds, args.seed, not args.no_sequencer, args.hold_ms / 1000
            )
        else:
            figures = measure(url, ids, args.samples, args.seed)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "load_s": round(load_s, 1),
                "cores": os.cpu_count(),
                "code": str(Path(migrate.__file__).resolve().parent),
                **figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
