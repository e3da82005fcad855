"""Time and peak memory of one synthetic-city run (CSV only); prints JSON {persons, seconds, peak_rss_mb, files}.

Usage: .venv/bin/python scripts/bench_synth.py [--persons 1000000] [--seed 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from liangshi.synth import write_city


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="synth-bench-"))
    started = time.perf_counter()
    summary = write_city(out, persons=args.persons, seed=args.seed, today=dt.date(2024, 6, 1))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    result = {
        "persons": args.persons,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "out": str(out),
        "files": summary.files,
        "defects": summary.defects,
        "bytes": sum(p.stat().st_size for p in summary.paths),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
