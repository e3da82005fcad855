"""Deterministic view of the SQLite person import: statements, rows written, database size and a profile.

    .venv/bin/python scripts/profile_import.py --persons 100000 --out bench-out/profile-after
    /work/wt/base0a3/.venv/bin/python scripts/profile_import.py --persons 100000 --out bench-out/profile-before

Runs in whichever tree's virtualenv starts it (the tree's own `scripts/bench_import.py` builds the file and the
schema), so two trees' imports can be compared by what they do rather than by wall time on a busy machine:
- every SQL statement SQLite runs (sqlite3's trace callback, so the driver-level `executemany` of the bulk writers
  is counted per row, and SQLAlchemy's statements too), grouped by statement shape;
- the rows and bytes each table ends with, the database's page count, and the storage class of each column;
- with `--profile`, a cProfile of the import (`<out>.prof`, and its top functions by own time printed).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import gc
import importlib.util
import json
import pstats
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

import liangshi
from liangshi.access.service import SYSTEM
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory
from liangshi.exchange import service

TABLES = (
    "persons",
    "person_versions",
    "documents",
    "document_versions",
    "audit_log",
    "import_audit_entries",
    "import_batches",
)


def _tree_bench() -> Any:
    """The bench_import module of the tree whose liangshi is imported (its `prepare` fits that tree's API)."""
    path = Path(liangshi.__file__).resolve().parents[2] / "scripts" / "bench_import.py"
    spec = importlib.util.spec_from_file_location("tree_bench_import", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shape(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql.strip())
    sql = re.sub(r"'[^']*'", "'?'", sql)
    sql = re.sub(r"\b\d+\b", "N", sql)
    sql = re.sub(r"\(\?(, \?)+\)", "(?…)", sql)
    return sql[:110]


def main() -> None:
    """Import a file of persons with statement counting (and optionally a profile); print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default="bench-out/profile")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--template",
        action="store_true",
        help="build the schema once into <out>.template.db and copy it on later runs (for callgrind: no migrations)",
    )
    parser.add_argument(
        "--startup-only", action="store_true", help="stop before the import (callgrind's baseline)"
    )
    parser.add_argument("--no-trace", action="store_true", help="do not count statements (less overhead)")
    args = parser.parse_args()
    bench = _tree_bench()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.parent / f"persons-{args.persons}.csv"
    if not csv_path.exists():
        bench.write_file(csv_path, args.persons, args.seed)
    db = Path(f"{out}.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    template = Path(f"{out}.template.db")
    if args.template and template.exists():
        shutil.copyfile(template, db)  # the schema and areas, built outside the measured process
    else:
        bench.prepare(url)
        if args.template:
            shutil.copyfile(db, template)
    if args.startup_only:
        return
    engine = make_engine(url)
    counts: collections.Counter[str] = collections.Counter()
    counting = [False]

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        def seen(sql: str) -> None:
            if counting[0]:
                counts[_shape(sql)] += 1

        if not args.no_trace:
            dbapi_connection.set_trace_callback(seen)

    gc_time = [0.0, 0.0]
    gc_runs: collections.Counter[int] = collections.Counter()
    gc_by_gen: collections.Counter[int] = collections.Counter()

    def _gc(phase: str, info: dict[str, int]) -> None:
        if not counting[0]:
            return
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            gc_runs[info["generation"]] += 1
            spent = time.perf_counter() - gc_time[1]
            gc_time[0] += spent
            gc_by_gen[info["generation"]] += spent

    gc.callbacks.append(_gc)
    profiler = cProfile.Profile() if args.profile else None
    counting[0] = True
    t0, c0 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = service.import_file(
        make_session_factory(engine),
        kind="persons",
        path=csv_path,
        source="police",
        actor=SYSTEM,
        clock=Clock(),
    )
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    counting[0] = False
    assert result.loaded == args.persons and not result.errors, (result.loaded, result.errors[:3])
    tables: dict[str, Any] = {}
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for table in TABLES:
            cols = [r[1] for r in raw.execute(f'PRAGMA table_info("{table}")')]
            n = raw.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            size = " + ".join(f'coalesce(length("{c}"), 0)' for c in cols)
            nbytes = raw.execute(f'SELECT coalesce(sum({size}), 0) FROM "{table}"').fetchone()[0]
            kinds = raw.execute(
                f'SELECT {", ".join(f"typeof({chr(34)}{c}{chr(34)})" for c in cols)} FROM "{table}" '
                "ORDER BY rowid DESC LIMIT 1"
            ).fetchone()
            tables[table] = {"rows": n, "bytes": nbytes, "types": dict(zip(cols, kinds or (), strict=False))}
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        indexes = sorted(r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
    engine.dispose()
    report = {
        "liangshi": str(Path(liangshi.__file__).resolve().parents[2]),
        "persons": args.persons,
        "import_s": round(seconds, 2),
        "import_cpu_s": round(cpu, 2),
        "gc_runs_by_generation": dict(sorted(gc_runs.items())),
        "gc_s": round(gc_time[0], 3),
        "gc_s_by_generation": {g: round(v, 3) for g, v in sorted(gc_by_gen.items())},
        "objects_after": len(gc.get_objects()),
        "statements": sum(counts.values()),
        "by_shape": dict(counts.most_common()),
        "tables": tables,
        "page_count": pages,
        "indexes": len(indexes),
    }
    Path(f"{out}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k not in ("by_shape", "tables")}))
    for shape, n in counts.most_common(25):
        print(f"{n:>9}  {shape}")
    if profiler:
        profiler.dump_stats(f"{out}.prof")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
