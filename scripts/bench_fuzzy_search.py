"""Benchmark the forgiving name search (mpi.forgiving_search, the web search page's and GET /persons/search's
query) beside the bare SQL of the same key lookup.

    .venv/bin/python scripts/bench_fuzzy_search.py --db sqlite --persons 100000 --samples 100
    .venv/bin/python scripts/bench_fuzzy_search.py --db postgresql --persons 100000 --samples 100

Loads N persons with Faker zh_CN names (seeded) the way scripts/bench_search.py does, then for random persons
types their name wrongly: in traditional characters (OpenCC s2t), with its last character replaced by another of
the same sound found among the loaded names, and as its full pinyin with one letter dropped. "In process" is the
whole search (scope, the candidates by the indexed keys, the linkage normaliser's ranking, audit entries,
commit); the baseline is the bare query on the same keys (names and pinyin keys IN the variants the search
tries, current versions, first 100 ids), no scope, ranking or audit, in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import fresh_database
from bench_search import load, pct

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.linkage.normalise import normalise_name
from liangshi.mpi import service as mpi
from liangshi.persons import rules
from liangshi.registry import Context

BARE = text(
    "SELECT entity_id FROM person_versions WHERE (name IN :names OR name_pinyin IN :keys) "
    "AND superseded_at IS NULL AND valid_to IS NULL ORDER BY entity_id LIMIT 100"
).bindparams(bindparam("names", expanding=True), bindparam("keys", expanding=True))


def typed_wrongly(names: list[str], samples: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """(query, the name meant) per series."""
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    by_sound: dict[str, set[str]] = defaultdict(set)
    for name in names:
        for ch in name[1:]:
            by_sound[rules.syllables(ch)[0] if rules.syllables(ch) else ""].add(ch)
    series: dict[str, list[tuple[str, str]]] = {"traditional": [], "same sound": [], "pinyin typo": []}
    while min(len(v) for v in series.values()) < samples:
        name = rng.choice(names)
        series["traditional"].append((to_traditional.convert(name), name))
        last = name[-1]
        others = sorted(by_sound.get((rules.syllables(last) or [""])[0], set()) - {last})
        if others:
            series["same sound"].append((name[:-1] + rng.choice(others), name))
        key = rules.name_keys(name)[0]
        if len(key) >= 5:
            i = rng.randrange(1, len(key))
            series["pinyin typo"].append((key[:i] + key[i + 1 :], name))
    return {k: v[:samples] for k, v in series.items()}


def keys_of(query: str) -> tuple[list[str], list[str]]:
    """The names and pinyin keys the search looks up for a query (as mpi.forgiving_search builds them)."""
    name, _ = rules.query_parts(query)
    latin = rules.search_key(name) is not None
    norm = None if latin else normalise_name(name)
    simplified = norm.simplified if norm is not None else name
    key = rules.search_key(name) if latin else rules.name_keys(simplified)[0]
    keys = {key or ""} | rules.one_edit_keys(key or "")
    if not latin:
        keys |= rules.dialect_keys(rules.syllables(simplified))
    return sorted({name, simplified}), sorted(keys)


def measure(url: str, names: list[str], samples: int, seed: int) -> dict[str, Any]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    out: dict[str, Any] = {}
    for series, typed in typed_wrongly(names, samples, seed).items():
        service_t, bare_t, found_first, found_any = [], [], 0, 0
        for query, meant in typed:
            q_names, q_keys = keys_of(query)
            t0 = time.perf_counter()
            with engine.connect() as conn:
                conn.execute(BARE, {"names": q_names, "keys": q_keys}).all()
            bare_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with session_scope(factory) as s:
                user = s.execute(select(User).where(User.username == "bench_police")).scalar_one()
                ctx = Context(
                    actor=access.actor_for(s, user), now=clock.now(), today=clock.today(), purpose="bench"
                )
                found, _ = mpi.forgiving_search(s, ctx, query, limit=20)
            service_t.append(time.perf_counter() - t0)
            shown = [r["snapshot"].row.name for r in found]
            found_any += meant in shown
            found_first += bool(shown) and shown[0] == meant
        out[series] = {
            "bare_p50_ms": round(pct(bare_t, 0.5), 2),
            "bare_p99_ms": round(pct(bare_t, 0.99), 2),
            "search_p50_ms": round(pct(service_t, 0.5), 2),
            "search_p99_ms": round(pct(service_t, 0.99), 2),
            "meant_name_found": f"{found_any}/{len(typed)}",
            "meant_name_ranked_first": f"{found_first}/{len(typed)}",
        }
    engine.dispose()
    return out


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[tuple[str, bool]]:
    """The benchmark's database URL and whether it is already loaded (`--keep`)."""
    if not args.keep or args.db != "postgresql":
        with fresh_database(args.db, "fuzzy", args.persons, args.pg_server) as url:
            yield url, False
        return
    import psycopg

    with psycopg.connect(args.pg_server, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.keep,)).fetchone()
        if exists is None:
            admin.execute(f'CREATE DATABASE "{args.keep}"')
    yield args.pg_server.rsplit("/", 1)[0] + f"/{args.keep}", exists is not None


def _names(url: str) -> list[str]:
    """The names of a kept database, in load order (the order `load` returned them)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        names = list(conn.execute(text("SELECT name FROM person_versions ORDER BY entity_id")).scalars())
    engine.dispose()
    return names


def main() -> None:
    """Parse arguments, load, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--keep",
        help="PostgreSQL only: a database of this name, loaded if missing and kept afterwards, so that code "
        "before and after a change is measured on the same data (drop it yourself when done)",
    )
    args = parser.parse_args()
    with _database(args) as (url, loaded):
        t0 = time.perf_counter()
        names = _names(url) if loaded else load(url, args.persons, args.seed)
        load_s = 0.0 if loaded else time.perf_counter() - t0
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
