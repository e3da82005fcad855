"""Benchmark person import against the raw baseline measured in the same run.

    .venv/bin/python scripts/bench_import.py --db sqlite --persons 100000
    .venv/bin/python scripts/bench_import.py --db postgresql --persons 100000

Writes a persons CSV (the police extract's columns), then times in the same run
- the baseline: SQLite — Python `executemany` of the same rows (as text) into a bare table with the file's columns;
  PostgreSQL — `COPY` of the same file into a bare table;
- the write floor: the rows the import writes for this file (person and document identities and first versions
  with provenance, one audit entry per table per chunk), prepared before the clock starts and written by the
  import's own writer in the same chunks, into a second database with the registry's schema (its indexes, foreign
  keys and unique constraints);
- `liangshi import persons`: read, validate every row with the API's rules (ID check character, birth date and sex
  against the ID, code tables, phone, names), de-duplicate against the register, then the writes above, in chunks
  of 2,000 rows per transaction.
Wall times, and this process's CPU times (less disturbed when other processes share the cores; on PostgreSQL
the server's CPU is not in them).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from liangshi import migrate
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.common.idnumber import compute_check_char
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.exchange import service
from liangshi.registry import Context

HEADER = ["id_number", "name", "sex", "birth_date", "ethnicity", "hukou_region", "phone", "community_code"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲红梅鑫宇浩然欣怡子涵梓轩雨萱"


def write_file(path: Path, n: int, seed: int) -> None:
    """N persons with valid, distinct ID numbers consistent with sex and birth date."""
    rng = random.Random(seed)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        while len(seen) < n:
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
            seq = rng.randrange(1, 1000)
            first17 = f"420704{birth:%Y%m%d}{seq:03d}"
            number = first17 + compute_check_char(first17)
            if number in seen:
                continue
            seen.add(number)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            writer.writerow(
                [
                    number,
                    name,
                    "男" if seq % 2 else "女",
                    birth.isoformat(),
                    "01",
                    "420704",
                    f"13{rng.randrange(0, 10)}{rng.randrange(10_000_000, 100_000_000)}",
                    "420704001001",
                ]
            )


def baseline_sqlite(path: Path, csv_path: Path) -> tuple[float, float]:
    """executemany of the same rows into a bare table."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE raw_persons ({', '.join(c + ' TEXT' for c in HEADER)})")
    t0, c0 = time.perf_counter(), time.process_time()
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        conn.executemany(f"INSERT INTO raw_persons VALUES ({', '.join('?' * len(HEADER))})", reader)
    conn.commit()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.close()
    return seconds, cpu


def baseline_postgres(url: str, csv_path: Path) -> tuple[float, float]:
    """COPY of the same file into a bare table."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE raw_persons ({', '.join(c + ' text' for c in HEADER)})")
        t0, c0 = time.perf_counter(), time.process_time()
        with (
            conn.cursor() as cur,
            cur.copy("COPY raw_persons FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            csv_path.open("rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        conn.commit()
        return time.perf_counter() - t0, time.process_time() - c0


def write_floor(url: str, csv_path: Path, chunk: int) -> tuple[float, float]:
    """The import's own writes alone: the same rows, prepared before the clock starts, written by the loader's
    writer (persons, documents, first versions, audit) in the same chunks and transactions. What is left over
    between this and the import is reading, validating and looking up."""
    from liangshi import bulk
    from liangshi.exchange import loaders
    from liangshi.exchange.loaders.people import write_persons
    from liangshi.exchange.models import ImportBatch
    from liangshi.registry import Provenance

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    clock = Clock()
    with session_scope(sessions) as s:
        area = loaders.Resolver(s, SYSTEM).area("420704001001")
        # The batch the chunks' audit entries are indexed under, as the import creates it first.
        batch = ImportBatch(
            kind="persons",
            source="police",
            file_name=csv_path.name,
            file_sha256="0" * 64,
            actor_id=None,
            actor_name=SYSTEM.username,
            started_at=clock.now(),
            status="running",
        )
        s.add(batch)
        s.flush()
        batch_id = batch.id
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        new = [
            (
                area,
                (
                    name,
                    "1" if sex == "男" else "2",
                    birth,
                    ethnicity,
                    "CHN",
                    region,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "+86" + phone,
                ),
                ("resident_id", number, "CHN"),
            )
            for number, name, sex, birth, ethnicity, region, phone, _ in reader
        ]
    prov = Provenance("department", "police", "document", "floor")
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(new), chunk):
        with session_scope(sessions) as s:
            bulk.tune_for_load(s)
            job = loaders.Job(
                s, SYSTEM, clock.now(), clock.today(), prov, batch_id, loaders.Resolver(s, SYSTEM)
            )
            write_persons(job, new[start : start + chunk])
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    return seconds, cpu


FLOOR_TABLES = ("persons", "person_versions", "documents", "document_versions")


def _weaken(url: str, *, foreign_keys: bool, indexes: bool) -> None:
    """For the floor variants only, on a throwaway database: drop secondary indexes, disable FK triggers."""
    engine = make_engine(url)
    with engine.begin() as conn:
        postgres = engine.dialect.name == "postgresql"
        for table in FLOOR_TABLES if not indexes else ():
            query = (
                f"SELECT indexname FROM pg_indexes WHERE tablename = '{table}' AND indexname NOT LIKE 'pk_%%'"
                if postgres
                else f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' AND sql IS NOT NULL"
            )
            for (index,) in conn.exec_driver_sql(query).fetchall():
                conn.exec_driver_sql(f'DROP INDEX "{index}"')
        for table in FLOOR_TABLES if postgres and not foreign_keys else ():
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER ALL")  # needs a superuser
    engine.dispose()


def floor_variants(args: argparse.Namespace, csv_path: Path) -> None:
    """The write floor as the schema is, without foreign-key checks, and also without secondary indexes."""
    import psycopg

    import liangshi.db as ldb

    for label, foreign_keys, indexes in (
        ("as is", True, True),
        ("FK checks off", False, True),
        ("FK checks off, no secondary indexes", False, False),
    ):
        if args.db == "sqlite":
            db = Path("bench-out") / "floor-variant.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{db}"
            prepare(url)
            _weaken(url, foreign_keys=foreign_keys, indexes=indexes)
            pragmas = ldb._sqlite_pragmas
            if not foreign_keys:

                def no_fk(conn: object, record: object, pragmas: Any = pragmas) -> None:
                    pragmas(conn, record)
                    conn.execute("PRAGMA foreign_keys=OFF")  # type: ignore[attr-defined]

                ldb._sqlite_pragmas = no_fk
            try:
                seconds, cpu = write_floor(url, csv_path, args.chunk)
            finally:
                ldb._sqlite_pragmas = pragmas
        else:
            name = f"liangshi_floor_{uuid.uuid4().hex[:8]}"
            admin = psycopg.connect(args.pg_server, autocommit=True)
            admin.execute(f'CREATE DATABASE "{name}"')
            url = args.pg_server.rsplit("/", 1)[0] + f"/{name}"
            try:
                prepare(url)
                _weaken(url, foreign_keys=foreign_keys, indexes=indexes)
                seconds, cpu = write_floor(url, csv_path, args.chunk)
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(
            json.dumps(
                {
                    "db": args.db,
                    "persons": args.persons,
                    "floor_variant": label,
                    "wall_s": round(seconds, 2),
                    "cpu_s": round(cpu, 2),
                }
            )
        )


def prepare(url: str) -> None:
    """Schema, Ezhou's areas and the community the persons belong to."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    clock = Clock()
    with session_scope(make_session_factory(engine)) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today())
        areas.load_gazetteer(s, ctx, ezhou_areas())
        areas.create_area(
            s,
            ctx,
            AreaCreate(code="420704001001", name="滨湖社区", level="community", parent_code="420704001"),
        )
    engine.dispose()


def main() -> None:
    """Write the file, run the baseline and the import, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--floor-variants",
        action="store_true",
        help="only the write floor: as is, without FK checks, without secondary indexes",
    )
    parser.add_argument("--chunk", type=int, default=service.CHUNK, help="rows per transaction")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    out = Path("bench-out")
    out.mkdir(exist_ok=True)
    csv_path = out / f"persons-{args.persons}.csv"
    write_file(csv_path, args.persons, args.seed)
    if args.floor_variants:
        floor_variants(args, csv_path)
        return
    drop = None
    if args.db == "sqlite":
        db = out / f"import-{args.persons}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
        prepare(url)
        raw, raw_cpu = baseline_sqlite(db, csv_path)
        floor_db = out / f"floor-{args.persons}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{floor_db}{suffix}").unlink(missing_ok=True)
        prepare(f"sqlite:///{floor_db}")
        floor, floor_cpu = write_floor(f"sqlite:///{floor_db}", csv_path, args.chunk)
    else:
        import psycopg

        name = f"liangshi_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg.connect(args.pg_server, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        url = args.pg_server.rsplit("/", 1)[0] + f"/{name}"

        def drop() -> None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP DATABASE IF EXISTS "{name}_floor" WITH (FORCE)')

        admin.execute(f'CREATE DATABASE "{name}_floor"')
        prepare(url)
        raw, raw_cpu = baseline_postgres(url, csv_path)
        prepare(f"{url}_floor")
        floor, floor_cpu = write_floor(f"{url}_floor", csv_path, args.chunk)
    try:
        engine = make_engine(url)
        t0, c0 = time.perf_counter(), time.process_time()
        result = service.import_file(
            make_session_factory(engine),
            kind="persons",
            path=csv_path,
            source="police",
            actor=SYSTEM,
            clock=Clock(),
            chunk_size=args.chunk,
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        engine.dispose()
    finally:
        if drop is not None:
            drop()
    assert result.loaded == args.persons and not result.errors, (result.loaded, result.errors[:3])
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "cores": os.cpu_count(),
                "baseline_s": round(raw, 2),
                "baseline_rows_per_s": round(args.persons / raw),
                "import_s": round(seconds, 2),
                "import_rows_per_s": round(args.persons / seconds),
                "ratio": round(seconds / raw, 1),
                "write_floor_s": round(floor, 2),
                "floor_ratio": round(floor / raw, 1),
                # CPU time of this process (on SQLite the database engine runs in it; on PostgreSQL the server's is not
                # counted): less disturbed than wall time when other processes share the cores.
                "baseline_cpu_s": round(raw_cpu, 2),
                "write_floor_cpu_s": round(floor_cpu, 2),
                "import_cpu_s": round(cpu, 2),
                "cpu_ratio": round(cpu / raw_cpu, 1) if raw_cpu else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
