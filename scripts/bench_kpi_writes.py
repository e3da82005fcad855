"""What the KPI aggregate's triggers cost a write: departures with and without them, on a bench_web database.

    .venv/bin/python scripts/bench_kpi_writes.py sqlite:///bench-out/web-1000000.db
    .venv/bin/python scripts/bench_kpi_writes.py postgresql://postgres@127.0.0.1:5432/liangshi_bench_web_1000000

Deregisters 2,000 open residences through `residence.service.deregister_departure` in one transaction, with the
triggers in place and then with `kpis.daily.uninstall` run first in the same transaction, twice each; every
transaction is rolled back, so the database is left as it was (the triggers too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sqlalchemy import func, select

from liangshi.access.service import SYSTEM
from liangshi.db import make_engine, make_session_factory
from liangshi.kpis import daily
from liangshi.kpis.models import KpiDelta
from liangshi.registry import Context
from liangshi.residence import service as residence
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.schemas import DepartureIn

COUNT = 2000


def main() -> None:
    """Time the departures both ways and print one line per round."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="a database built by scripts/bench_web.py")
    url = parser.parse_args().url
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    v = ResidenceVersion
    for triggers in (True, False, True, False):
        s = factory()
        if not triggers:
            daily.uninstall(s)
        ids = list(
            s.execute(
                select(Residence.id)
                .join(v, v.entity_id == Residence.id)
                .where(
                    v.valid_to.is_(None),
                    v.departure_date.is_(None),
                    v.superseded_at.is_(None),
                    v.arrival_date < dt.date(2026, 9, 1),
                )
                .order_by(Residence.id)
                .limit(COUNT)
            ).scalars()
        )
        ctx = Context(actor=SYSTEM, now=now, today=now.date(), purpose="bench")
        t0 = time.perf_counter()
        for rid in ids:
            entity = s.get(Residence, rid)
            assert entity is not None
            data = DepartureIn(
                expected_version=entity.version, departure_date=dt.date(2026, 11, 20), reason="left_city"
            )
            residence.deregister_departure(s, ctx, rid, data)
        s.flush()
        took = time.perf_counter() - t0
        deltas = s.execute(select(func.count()).select_from(KpiDelta)).scalar_one()
        s.rollback()
        s.close()
        print(
            f"triggers={triggers}: {len(ids)} departures in {took:.2f} s "
            f"({took / len(ids) * 1000:.2f} ms each), {deltas} deltas appended"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
