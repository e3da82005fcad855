"""Coverage by area × housing type × age band (issue 16, stop 25): time `coverage_by_age` against the per-community
`coverage` and `coverage_by_housing` on the same plan, the same results.

The city, the plan and the simulated results are those of scripts/bench_inspections.py (its `load`, `results`
and `fresh_database`); each result gets its persons split over the age bands (registered, found, missed), as
the offline inspection app sends them. Not timed: loading. Timed, each in its own committed transaction: the three
estimates. Prints JSON.

Stop 26: `coverage_by_age` groups in the database and keeps its report per plan. Timed beside it in the same run:
the stop-25 computation (a row per household in Python, kept in tests/inspections/coverage_age_reference.py) as
the baseline, the grouped computation on a miss (nothing kept), and a read of the kept report (what the dashboard
does between two results).

    .venv/bin/python scripts/bench_coverage_age.py --db sqlite --persons 100000
    .venv/bin/python scripts/bench_coverage_age.py --db postgresql --persons 100000 --pg-prefix insp16
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from liangshi.access.service import SYSTEM
from liangshi.areas.models import Area
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.inspections import service as inspections
from liangshi.inspections.models import InspectionEstimate, InspectionResult, InspectionResultBand
from liangshi.inspections.schemas import PlanCreate
from liangshi.registry import Context

_SPEC = importlib.util.spec_from_file_location(
    "bench_inspections", Path(__file__).with_name("bench_inspections.py")
)
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_inspections"] = bench
_SPEC.loader.exec_module(bench)
_REF = importlib.util.spec_from_file_location(
    "coverage_age_reference",
    Path(__file__).parent.parent / "tests" / "inspections" / "coverage_age_reference.py",
)
assert _REF is not None and _REF.loader is not None
reference = importlib.util.module_from_spec(_REF)
_REF.loader.exec_module(reference)

BANDS = ("0-17", "18-34", "35-59", "60+")


def bands(url: str, seed: int) -> int:
    """Split every result's persons over the age bands at random (not timed); the number of band rows."""
    engine = make_engine(url)
    rng = random.Random(seed)
    with session_scope(make_session_factory(engine)) as s:
        rows = []
        for rid, county, registered, present, missed in s.execute(
            select(
                InspectionResult.id,
                InspectionResult.county_code,
                InspectionResult.persons_registered,
                InspectionResult.persons_present,
                InspectionResult.persons_missed,
            )
        ):
            people = [rng.choice(BANDS) for _ in range(registered)]
            found = people[:present]
            split: dict[str, list[int]] = {}
            for i, band in enumerate(people):
                slot = split.setdefault(band, [0, 0, 0])
                slot[0] += 1
                slot[1] += i < len(found)
            for _ in range(missed):
                split.setdefault("18-34", [0, 0, 0])[2] += 1
            rows += [
                {
                    "result_id": rid,
                    "county_code": county,
                    "age_band": band,
                    "persons_registered": r,
                    "persons_present": p,
                    "persons_missed": m,
                }
                for band, (r, p, m) in split.items()
            ]
        s.execute(insert(InspectionResultBand), rows)
    engine.dispose()
    return len(rows)


def measure(url: str, seed: int) -> dict[str, Any]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    out: dict[str, Any] = {}

    def ctx(s: Any) -> Context:
        return Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")

    with session_scope(factory) as s:
        city = s.execute(select(Area.id).where(Area.code == "420700")).scalar_one()
        plan = inspections.create_plan(s, ctx(s), PlanCreate(area_id=city, name="bench", seed=seed))
    out["sampled"] = sum(lot.sample_size for lot in plan.lots)
    out["results"] = bench.results(url, plan.id, seed)
    out["band_rows"] = bands(url, seed)
    for name, estimate in (
        ("coverage", inspections.coverage),
        ("coverage_by_housing", inspections.coverage_by_housing),
        ("coverage_by_age_per_household", reference.coverage_by_age_per_household),
        ("coverage_by_age_first_read", inspections.coverage_by_age),
        ("coverage_by_age_kept", inspections.coverage_by_age),
    ):
        t0 = time.perf_counter()
        with session_scope(factory) as s:
            report = estimate(s, ctx(s), plan.id)
        out[f"{name}_s"] = round(time.perf_counter() - t0, 3)
        out[f"{name}_strata"] = len(report["strata"])
        out[f"{name}_missed"] = [round(report["missed"]), round(report["low"]), round(report["high"])]
    with session_scope(factory) as s:
        s.execute(delete(InspectionEstimate))
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        inspections.latest_summary(s, ctx(s), city)
    out["dashboard_summary_first_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        inspections.latest_summary(s, ctx(s), city)
    out["dashboard_summary_kept_s"] = round(time.perf_counter() - t0, 3)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="liangshi", help="prefix of the PostgreSQL database's name")
    args = parser.parse_args()
    with bench.fresh_database(args.db, args.persons, args.pg_server, args.pg_prefix) as url:
        communities, households = bench.load(url, args.persons, args.seed)
        figures = measure(url, args.seed)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "communities": communities,
                "households": households,
                "cores": os.cpu_count(),
                **figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
