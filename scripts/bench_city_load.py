"""Time `liangshi synth --db`: a synthetic city's files written once, then loaded whole, per kind (issue 19).

    .venv/bin/python scripts/bench_city_load.py --persons 100000 --db sqlite:////tmp/x.db [--city DIR] [--profile P]

Writes the city (`write_city`, every defect kind as `synth --more-kinds`) into --city unless it is there already
(so two trees can load the same files), then loads it as `synth --db` does (`load_into(..., everything=True)`),
timing each file's import, department batch and held check source. Prints one JSON object: the seconds per kind,
the total and the peak RSS. Runs in whichever tree's liangshi is imported (PYTHONPATH), so main's code can be
the baseline in the same sitting.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from liangshi.checks import service as checks
from liangshi.cli import synth as synth_cli
from liangshi.departments import service as departments
from liangshi.synth import load as synth_load
from liangshi.synth import write_city
from liangshi.synth.generate import DefectRates

TIMES: dict[str, float] = {}
CPU: dict[str, float] = {}  # this process's CPU seconds (on SQLite the database's work too)


def _timed(name: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            key = name(*args, **kwargs)
            TIMES[key] = TIMES.get(key, 0.0) + time.perf_counter() - start
            CPU[key] = CPU.get(key, 0.0) + time.process_time() - cpu
            print(f"  {key:<28} {TIMES[key]:8.1f} s  cpu {CPU[key]:8.1f} s", file=sys.stderr, flush=True)

    return wrapper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=2010)
    parser.add_argument("--today", default="2026-12-01")
    parser.add_argument("--db", required=True)
    parser.add_argument("--city", type=Path, help="the city's files (written here when absent)")
    parser.add_argument("--nine-only", action="store_true", help="the nine first defect kinds only")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the load here")
    args = parser.parse_args()
    city = args.city or Path(f"/tmp/city-{args.persons}")
    if not (city / "police_persons.csv").exists():
        start = time.perf_counter()
        write_city(
            city,
            persons=args.persons,
            seed=args.seed,
            today=dt.date.fromisoformat(args.today),
            rates=DefectRates() if args.nine_only else DefectRates.every_kind(),
            formats=("csv",),
        )
        print(f"city written in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    # Timed where `load_whole_city` calls them (module attributes, looked up at each call).
    setattr(synth_load, "import_one", _timed(lambda *a, **k: str(a[4]), synth_load.import_one))  # noqa: B010
    setattr(  # noqa: B010
        departments,
        "submit_batch",
        _timed(lambda *a, **k: f"batch {k['department']}/{k['kind']}", departments.submit_batch),
    )
    setattr(checks, "load_source", _timed(lambda *a, **k: f"held {k['source']}", checks.load_source))  # noqa: B010
    start, cpu = time.perf_counter(), time.process_time()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    synth_cli.load_into(args.db, city, everything=True)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "persons": args.persons,
        "total_s": round(total, 1),
        "cpu_s": round(total_cpu, 1),
        "peak_rss_mb": round(rss),
        "kinds": {k: [round(v, 1), round(CPU[k], 1)] for k, v in TIMES.items()},
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
