"""The forgiving search of two versions of its module, interleaved query by query, on a database kept by
scripts/bench_fuzzy_search.py --keep: the same queries, process and load for both (stop 29).

    git show <before>:src/liangshi/mpi/service/search.py > /tmp/old_search.py
    .venv/bin/python scripts/bench_fuzzy_search_ab.py --old /tmp/old_search.py --keep fuzzy_100k

The old module is loaded beside the current one (it must run on the current package's other modules). Prints,
per series, the p50 and p90 ms of the bare SQL, the old and the new search, and for both how often the meant
name was among the 20 shown and shown first. Alternates which version runs first on each query.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_fuzzy_search as b

from liangshi.mpi.service import search as new


def main() -> None:
    """Parse arguments, measure both versions, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", required=True, help="the old version of src/liangshi/mpi/service/search.py")
    parser.add_argument(
        "--keep", required=True, help="the kept PostgreSQL database (bench_fuzzy_search --keep)"
    )
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("old_search", args.old)
    assert spec is not None and spec.loader is not None
    old: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    url = args.pg_server.rsplit("/", 1)[0] + f"/{args.keep}"
    names = b._names(url)
    engine = b.make_engine(url)
    factory = b.make_session_factory(engine)
    clock = b.Clock()
    out: dict[str, Any] = {}
    for sname, typed in b.typed_wrongly(names, args.samples, args.seed).items():
        t = {"bare": [], "old": [], "new": []}
        hit = {"old": [0, 0], "new": [0, 0]}
        for n, (query, meant) in enumerate(typed):
            q_names, q_keys = b.keys_of(query)
            t0 = time.perf_counter()
            with engine.connect() as conn:
                conn.execute(b.BARE, {"names": q_names, "keys": q_keys}).all()
            t["bare"].append(time.perf_counter() - t0)
            for which in ("old", "new") if n % 2 else ("new", "old"):
                mod = old if which == "old" else new
                t0 = time.perf_counter()
                with b.session_scope(factory) as s:
                    user = s.execute(select(b.User).where(b.User.username == "bench_police")).scalar_one()
                    ctx = b.Context(
                        actor=b.access.actor_for(s, user),
                        now=clock.now(),
                        today=clock.today(),
                        purpose="bench",
                    )
                    found, _ = mod.forgiving_search(s, ctx, query, limit=20)
                t[which].append(time.perf_counter() - t0)
                shown = [r["snapshot"].row.name for r in found]
                hit[which][0] += meant in shown
                hit[which][1] += bool(shown) and shown[0] == meant
        out[sname] = {k: [round(b.pct(v, 0.5), 1), round(b.pct(v, 0.9), 1)] for k, v in t.items()} | {
            "found_first": hit
        }
    engine.dispose()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
