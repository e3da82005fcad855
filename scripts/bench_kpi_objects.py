"""Time the lists behind the KPIs (issue 15) beside the KPI report itself, on a database `liangshi synth --db` built.

For every KPI: the first page of its gap (`missing`), checked to hold denominator − numerator objects in all;
the baseline is the live count of every KPI of the same area in the same run.

    .venv/bin/liangshi synth --persons 10000 --seed 15 --db sqlite:////tmp/city.db --today 2026-11-27
    .venv/bin/python scripts/bench_kpi_objects.py --db sqlite:////tmp/city.db --area 420700 \\
        --from 2026-01-01 --to 2026-11-27
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from liangshi.access.service import SYSTEM
from liangshi.clock import CHINA_TZ
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.kpis import objects, rules, service
from liangshi.registry import Context


def main() -> None:
    """Print one line per KPI: the gap's size, the denominator, the first page's time."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", required=True)
    ap.add_argument("--area", default="420700")
    ap.add_argument("--from", dest="date_from", default="2026-01-01")
    ap.add_argument("--to", dest="date_to", default="2026-11-27")
    args = ap.parse_args()
    first, last = dt.date.fromisoformat(args.date_from), dt.date.fromisoformat(args.date_to)
    engine = make_engine(args.db)
    with session_scope(make_session_factory(engine)) as s:
        now = dt.datetime.combine(last, dt.time(12), CHINA_TZ)
        ctx = Context(actor=SYSTEM, now=now, today=last, purpose="bench kpi objects")
        began = time.perf_counter()
        report = service.compute(s, ctx, area_code=args.area, date_from=first, date_to=last, live=True)
        print(f"baseline: every KPI counted live for {args.area}: {time.perf_counter() - began:.2f} s")
        counted = {k["key"]: (k["numerator"], k["denominator"]) for k in report.kpis(report.root.id)}
        for key in rules.BY_KEY:
            began = time.perf_counter()
            page = objects.objects(
                s, ctx, key, area_code=args.area, date_from=first, date_to=last, part="missing"
            )
            took = time.perf_counter() - began
            num, den = counted[key]
            assert page["total"] == den - num, (key, page["total"], num, den)
            print(f"{key:24s} gap {page['total']:8,} of {den:8,}   first page {took * 1000:7.0f} ms")
    engine.dispose()


if __name__ == "__main__":
    main()
