"""Benchmark a department batch against the bulk person import of the same people, measured in the same run.

    .venv/bin/python scripts/bench_department_batch.py --persons 2000

Writes N persons (the police extract's columns, no occupation) and a health feed for them (`id_number`, `phone`
changed for every person, `occupation` filled where empty, a death date for 1 % of them), then times
- the baseline: `liangshi import persons` of the police file (bulk loader: validate, de-duplicate, bulk insert);
- the department batch: parse and check every row, match each record to its person by ID number, compare every
  field with the register under the precedence rules, write the applied values through `registry.change` (and
  deaths through the death use case), queue the disagreements, append the exchange log — in one transaction.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import write_file

from liangshi import migrate
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.exchange import service as exchange
from liangshi.registry import Context


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=2000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dept-"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    clock = Clock()
    with session_scope(sessions) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        areas.load_gazetteer(s, ctx, ezhou_areas())
        areas.create_area(
            s,
            ctx,
            AreaCreate(code="420704001001", name="滨湖社区", level="community", parent_code="420704001"),
        )
    police = tmp / "police.csv"
    write_file(police, args.persons, seed=7)
    with police.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    feed = tmp / "health.csv"
    with feed.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id_number", "phone", "occupation", "death_date"])
        for i, r in enumerate(rows):
            death = "2026-01-02" if i % 100 == 0 else ""
            w.writerow([r["id_number"], f"139{i:08d}", "护士", death])

    t0 = time.perf_counter()
    result = exchange.import_file(
        sessions, kind="persons", path=police, source="police", actor=SYSTEM, clock=clock
    )
    base = time.perf_counter() - t0
    assert result.loaded == args.persons, (result.loaded, result.errors[:3])

    with session_scope(sessions) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        departments.add_department(s, ctx, code="health", name_zh=None, name_en=None)
        spec = rules.parse_agreement(
            {
                "department": "health",
                "purpose": "bench",
                "valid_from": "2026-01-01",
                "provides": {"person": ["phone", "occupation", "death_date"]},
            },
            departments.known_fields(),
        )
        departments.add_agreement(s, ctx, spec)
    table = departments.table_from_file(feed)
    t0 = time.perf_counter()
    with session_scope(sessions) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        batch = departments.submit_batch(
            s, ctx, department="health", kind="persons", table=table, precedence=rules.load_precedence()
        )
    took = time.perf_counter() - t0
    n = args.persons
    print(f"persons {n}: bulk import (baseline) {base:.2f} s ({n / base:,.0f} rows/s)")
    print(
        f"department batch: {took:.2f} s ({n / took:,.0f} rows/s); matched {batch.matched}, "
        f"applied {batch.applied}, conflicts {len(batch.conflicts)}"
    )


if __name__ == "__main__":
    main()
