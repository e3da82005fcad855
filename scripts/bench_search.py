"""Benchmark name search by Chinese prefix, full pinyin, pinyin prefix and initials (the web search page's query).

    .venv/bin/python scripts/bench_search.py --db sqlite --persons 100000
    .venv/bin/python scripts/bench_search.py --db postgresql --persons 100000

Loads N persons with Faker zh_CN names (seeded) in one community by bulk insert, filling the pinyin keys as the
import loaders do, then times `persons.service.search_persons` (scope, count, page of 20, audit entries, commit)
against a bare-SQL baseline: the same prefix condition on the current versions, first 20 ids, no scope, count or
audit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from faker import Faker
from rich.progress import Progress
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import fresh_database, meta

from liangshi import migrate
from liangshi.access import service as access
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.persons import service as persons
from liangshi.persons.models import Person, PersonVersion
from liangshi.persons.rules import name_keys
from liangshi.registry import Context

BARE = {
    "name": "SELECT entity_id FROM person_versions WHERE name LIKE :q AND superseded_at IS NULL "
    "AND valid_to IS NULL ORDER BY entity_id LIMIT 20",
    "pinyin": "SELECT entity_id FROM person_versions WHERE (name_pinyin LIKE :q OR name_initials LIKE :q) "
    "AND superseded_at IS NULL AND valid_to IS NULL ORDER BY entity_id LIMIT 20",
    # SQLite: GLOB is case-sensitive and uses the BINARY index (as the service does there).
    "name_sqlite": "SELECT entity_id FROM person_versions WHERE name GLOB :g "
    "AND superseded_at IS NULL AND valid_to IS NULL ORDER BY entity_id LIMIT 20",
    "pinyin_sqlite": "SELECT entity_id FROM person_versions WHERE (name_pinyin GLOB :g OR name_initials GLOB :g) "
    "AND superseded_at IS NULL AND valid_to IS NULL ORDER BY entity_id LIMIT 20",
}


def load(url: str, n: int, seed: int) -> list[str]:
    """Schema, one community, a police user and N persons; returns their names."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    clock = Clock()
    now = clock.now()
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    names = [fake.name() for _ in range(n)]
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
            password="Bench-password-1",
            role="community_police",
            area_code="420704001001",
            department=None,
            actor=SYSTEM,
            now=now,
        )
        area_id = community.entity.id
    county, start = "420704", dt.date(2020, 1, 1)
    with engine.begin() as conn, Progress() as progress:
        task = progress.add_task("loading persons", total=n)
        for lo in range(0, n, 5000):
            chunk = names[lo : lo + 5000]
            ids = list(
                conn.execute(
                    insert(Person).returning(Person.id, sort_by_parameter_order=True),
                    [
                        {"county_code": county, "version": 1, "created_at": now, "area_id": area_id}
                        for _ in chunk
                    ],
                ).scalars()
            )
            rows = []
            for pid, name in zip(ids, chunk, strict=True):
                full, initials = name_keys(name)
                rows.append(
                    {
                        "entity_id": pid,
                        "name": name,
                        "name_pinyin": full,
                        "name_initials": initials,
                        "sex": "1",
                        "birth_date": None,
                        "ethnicity": "01",
                        "nationality": "CHN",
                        "hukou_region": None,
                        "hukou_address": None,
                        "education": None,
                        "marital_status": None,
                        "occupation": None,
                        "workplace": None,
                        "phone": None,
                        **meta(now, county, start),
                    }
                )
            conn.execute(insert(PersonVersion), rows)
            progress.update(task, advance=len(chunk))
    if url.startswith("postgresql"):
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()
    return names


def queries(names: list[str], samples: int, seed: int) -> dict[str, list[str]]:
    """The typed queries per series, from random persons' names."""
    rng = random.Random(seed)
    picked = [rng.choice(names) for _ in range(samples)]
    return {
        "chinese prefix (2 chars)": [n[:2] for n in picked],
        "full pinyin": [name_keys(n)[0] for n in picked],
        "pinyin prefix (5 letters)": [name_keys(n)[0][:5] for n in picked],
        "initials": [name_keys(n)[1] for n in picked],
    }


def pct(samples: list[float], q: float) -> float:
    """Percentile in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def measure(url: str, names: list[str], samples: int, seed: int) -> dict[str, Any]:
    """Time the service and the bare query for each series."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    from sqlalchemy import select

    from liangshi.access.models import User

    out: dict[str, Any] = {}
    for series, typed in queries(names, samples, seed).items():
        bare_kind = "name" if series.startswith("chinese") else "pinyin"
        if url.startswith("sqlite"):
            bare_kind += "_sqlite"
        service_t, bare_t, like_t, hits = [], [], [], []
        for q in typed:
            if bare_kind == "name_sqlite":
                # The query name search used before (case-insensitive LIKE: SQLite cannot use the index).
                t0 = time.perf_counter()
                with engine.connect() as conn:
                    conn.execute(text(BARE["name"]), {"q": q + "%"}).all()
                like_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with engine.connect() as conn:
                conn.execute(text(BARE[bare_kind]), {"q": q + "%", "g": q + "*"}).all()
            bare_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with session_scope(factory) as s:
                user = s.execute(select(User).where(User.username == "bench_police")).scalar_one()
                ctx = Context(
                    actor=access.actor_for(s, user), now=clock.now(), today=clock.today(), purpose="bench"
                )
                page = persons.search_persons(
                    s, ctx, name=q, id_number=None, phone=None, area_id=None, offset=0, limit=20
                )
                hits.append(page.total)
            service_t.append(time.perf_counter() - t0)
        out[series] = {
            "bare_p50_ms": round(pct(bare_t, 0.5), 3),
            "bare_p99_ms": round(pct(bare_t, 0.99), 3),
            "service_p50_ms": round(pct(service_t, 0.5), 2),
            "service_p99_ms": round(pct(service_t, 0.99), 2),
            "median_matches": sorted(hits)[len(hits) // 2],
        }
        if like_t:
            out[series]["old_like_p50_ms"] = round(pct(like_t, 0.5), 3)
    engine.dispose()
    return out


def main() -> None:
    """Parse arguments, load, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with fresh_database(args.db, "search", args.persons, args.pg_server) as url:
        t0 = time.perf_counter()
        names = load(url, args.persons, args.seed)
        load_s = time.perf_counter() - t0
        figures = measure(url, names, args.samples, args.seed)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "load_s": round(load_s, 1),
                "cores": os.cpu_count(),
                "series": figures,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
