"""Profile the audited 查人知住 in process (cProfile) on a database that `scripts/bench_lookup.py` loaded.

    .venv/bin/python scripts/bench_lookup.py --db sqlite --persons 100000     # keeps bench-out/lookup-100000.db
    .venv/bin/python scripts/profile_lookup.py --url sqlite:///bench-out/lookup-100000.db --lookups 500
    .venv/bin/python scripts/profile_lookup.py --db postgresql --persons 100000 --lookups 500   # loads its own

Upgrades the schema first (the code under test may carry a newer migration). Prints the CPU per lookup and the
share of the lookup's time in its parts (cumulative time of the named functions over the whole), then the top
functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import random
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from liangshi import migrate
from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.persons.models import DocumentVersion
from liangshi.registry import Context
from liangshi.residence import service as residence

PARTS = {
    "describe_dwellings": "describe the dwelling's address",
    "_prefetch_area_names": "of which the area lineage",
    "person_by_document": "find the person by document",
    "_residence_views": "the residences (with their addresses)",
    "names_on": "the person's name",
    "documents_view": "the documents, masked",
    "log": "the audited read (registry.log)",
    "commit": "commit",
    "_compile_w_cache": "SQLAlchemy: compiling or finding a statement in the cache",
    "expect": "SQLAlchemy: coercing expression arguments (building statements)",
}


def main() -> None:
    """Load the sample, warm up, profile, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="a database bench_lookup.py loaded (else --db and --persons load one)")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if args.url:
        profile(args, args.url)
        return
    bench = _bench_lookup()
    with bench.fresh_database(args.db, "profile", args.persons, args.pg_server) as url:
        bench.load(url, args.persons, args.seed)
        profile(args, url)


def _bench_lookup() -> Any:
    # The loader of scripts/bench_lookup.py (a script beside this one, not a package).
    spec = importlib.util.spec_from_file_location("bench_lookup", Path(__file__).with_name("bench_lookup.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile(args: argparse.Namespace, url: str) -> None:
    """Warm up, time, profile and print on the database at `url`."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    clock = Clock()
    with session_scope(factory) as s:
        user = s.execute(select(User).where(User.username == "bench_police")).scalar_one()
        actor = access.actor_for(s, user)
        numbers = list(
            s.execute(
                select(DocumentVersion.number).where(DocumentVersion.superseded_at.is_(None)).limit(20000)
            ).scalars()
        )
    rng = random.Random(args.seed)
    picks = [rng.choice(numbers) for _ in range(args.lookups)]

    def run(batch: list[str]) -> None:
        for number in batch:
            with session_scope(factory) as s:
                ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
                found = residence.where_lives_by_document(s, ctx, number)
                assert found["current"], number

    run(picks[:50])  # warm: statement caches, the area lineage cache
    cpu0 = time.process_time()
    run(picks)
    plain = (time.process_time() - cpu0) * 1000 / len(picks)
    profiler = cProfile.Profile()
    profiler.enable()
    run(picks)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"CPU per lookup without the profiler: {plain:.3f} ms ({len(picks)} lookups)")
    print("share of the profiled time (cumulative, overlapping):")
    for func, label in PARTS.items():
        cum = sum(v[3] for k, v in stats.stats.items() if k[2] == func)  # type: ignore[attr-defined]
        calls = sum(v[1] for k, v in stats.stats.items() if k[2] == func)  # type: ignore[attr-defined]
        print(f"  {label:62s} {100 * cum / total:5.1f} %  ({calls / len(picks):.1f} calls per lookup)")
    stats.sort_stats("cumulative").print_stats(args.top)
    engine.dispose()


if __name__ == "__main__":
    main()
