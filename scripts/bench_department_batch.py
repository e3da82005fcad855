"""Benchmark a department batch (set-based writes) against the per-row path it replaced and the bulk person import,
all measured in the same run on the same database.

    PYTHONPATH=src .venv/bin/python scripts/bench_department_batch.py --db sqlite --persons 2000
    PYTHONPATH=src .venv/bin/python scripts/bench_department_batch.py --db postgresql --persons 2000
    PYTHONPATH=src .venv/bin/python scripts/bench_department_batch.py --db sqlite --persons 20000 --no-reference
    PYTHONPATH=src .venv/bin/python scripts/bench_department_batch.py --db sqlite --persons 2000 --deaths 20 --homes

Writes 2N persons (the police extract's columns, no occupation; N without the per-row reference) and a health feed
for each half (`id_number`, `phone` changed for every person, `occupation` filled where empty, a death date for 1 %
of them, or `--deaths` per cent). With `--homes` every person who dies lives somewhere before the clock starts (a
residence in one of a few dwellings, every other one also a lodging elsewhere, and a household shared by two of
them), so that each death also closes residences and ends a membership. Then it times
- the baseline: `liangshi import persons` of the police file (bulk loader: validate, de-duplicate, bulk insert);
- the department batch as it is now: parse and check every row, match the records to persons by ID number, compare
  every field with the register under the precedence rules, write the applied values with `registry.change_many`
  (a few statements per 5,000 rows), the deaths with `residence.register_deaths` (likewise), queue the
  disagreements, append the exchange log — in one transaction;
- the reference (unless --no-reference): the same submission for the other half of the persons with the per-row
  writes the batch used before (match, read, `registry.change` and the death use case one person at a time,
  conflicts added one by one), kept here only for this comparison.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import write_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import migrate
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.areas.schemas import AreaCreate
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.departments.models import ExchangeConflict
from liangshi.departments.service import feeds_in, review
from liangshi.exchange import service as exchange
from liangshi.persons import service as persons
from liangshi.registry import Context, history


def per_row_chunk(
    session: Session,
    ctx: Context,
    feed: Any,
    rows: list[tuple[int, str, str, dict[str, Any]]],
    result: departments.BatchResult,
) -> int:
    """The batch's write loop before the set-based path: one person at a time through `registry.change`."""
    queued: list[ExchangeConflict] = []
    for line, _doc_type, number, record in rows:
        person_id = persons.person_id_by_document(session, ctx, number)
        if person_id is None:
            result.unmatched_lines.append(line)
            continue
        result.matched += 1
        person = session.get(persons.PERSON.entity, person_id)
        row = history.latest_row(session, persons.PERSON, person_id)
        assert person is not None and row is not None
        current = history.attributes_of(persons.PERSON, row)
        retired = row.valid_to is not None
        current["death_date"] = row.valid_to if retired and row.change == "retire" else None
        changes: dict[str, Any] = {}
        for name, incoming in record.items():
            verdict = feed.precedence.decide(
                feed.object_kind, name, feed.department, current.get(name), incoming
            )
            if verdict == "apply" and retired:
                verdict = "conflict"
            if verdict == "same":
                result.same += 1
            elif verdict == "apply":
                changes[name] = incoming
            else:
                conflict = ExchangeConflict(
                    object_kind=feed.object_kind,
                    object_id=person_id,
                    field=name,
                    register_value=feeds_in._text(current.get(name)),
                    department_value=feeds_in._text(incoming),
                    department=feed.department,
                    batch_id=feed.batch_id,
                    line=line,
                    status="open",
                    created_at=ctx.now,
                    area_id=person.area_id,
                    county_code=person.county_code,
                )
                session.add(conflict)
                queued.append(conflict)
        if changes:
            review._apply(session, feed.writer, person_id, dict(changes), feed.prov, feed.reason)
            result.applied += len(changes)
    session.flush()
    result.conflicts.extend(c.id for c in queued)
    return len(rows)


DEATH_DATE = "2026-01-02"


def dies(i: int, per_cent: float) -> bool:
    """Whether feed row i carries a death date (`per_cent` of the rows, spread evenly)."""
    return int((i + 1) * per_cent / 100) > int(i * per_cent / 100)


def write_feed(path: Path, rows: list[dict[str, str]], per_cent: float) -> None:
    """A health feed for the given police rows."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id_number", "phone", "occupation", "death_date"])
        for i, r in enumerate(rows):
            death = DEATH_DATE if dies(i, per_cent) else ""
            w.writerow([r["id_number"], f"139{i:08d}", "护士", death])


def give_homes(sessions: Any, clock: Clock, id_numbers: list[str], street_name: str) -> None:
    """Residences and households for the persons who will die (through the services, before timing)."""
    from liangshi.addresses import service as addresses
    from liangshi.addresses.schemas import AddressCreate, StreetCreate
    from liangshi.buildings import service as buildings
    from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
    from liangshi.persons.schemas import HouseholdCreate, MemberIn
    from liangshi.residence import service as residence
    from liangshi.residence.schemas import ArrivalIn

    with session_scope(sessions) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        code = dict(
            s.execute(select(Area.code, Area.id).where(Area.code.in_(["420704001001", "420704"]))).all()
        )
        community, district = code["420704001001"], code["420704"]
        street = addresses.create_street(
            s, ctx, StreetCreate(area_id=district, name=street_name, street_type="路")
        )
        dwellings = []
        for n in range(8):
            plate = addresses.create_address(
                s,
                ctx,
                AddressCreate(
                    area_id=community, street_id=street.entity.id, number=str(n + 1), status="installed"
                ),
            )
            building = buildings.create_building(
                s, ctx, BuildingCreate(address_id=plate.entity.id, label="1栋")
            )
            dwellings.append(
                buildings.create_dwelling(
                    s,
                    ctx,
                    DwellingCreate(
                        building_id=building.entity.id, unit=1, floor=1, room="101", status="occupied"
                    ),
                ).entity.id
            )
        ids = [persons.person_id_by_document(s, ctx, number) for number in id_numbers]
        for i, pid in enumerate(ids):
            assert pid is not None
            for category, dwelling in [("resident", dwellings[i % 4]), ("lodging", dwellings[4 + i % 4])][
                : 1 + (i % 2)
            ]:
                residence.register_arrival(
                    s,
                    ctx,
                    ArrivalIn(
                        person_id=pid,
                        dwelling_id=dwelling,
                        category=category,  # type: ignore[arg-type]
                        arrival_date=dt.date(2020, 1, 1),
                        registration_date=dt.date(2020, 1, 1),
                    ),
                )
        for i in range(0, len(ids), 2):
            members = [MemberIn(person_id=ids[i], relationship="02")]
            if i + 1 < len(ids):
                members.append(MemberIn(person_id=ids[i + 1], relationship="20"))
            persons.create_household(
                s,
                ctx,
                HouseholdCreate(
                    area_id=community,
                    dwelling_id=dwellings[i % 4],
                    members=members,
                    valid_from=dt.date(2020, 1, 1),
                ),
            )


def submit(sessions: Any, clock: Clock, feed: Path) -> tuple[float, departments.BatchResult]:
    """Submit a feed as the system user; seconds and the result."""
    table = departments.table_from_file(feed)
    t0 = time.perf_counter()
    with session_scope(sessions) as s:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="bench")
        batch = departments.submit_batch(
            s, ctx, department="health", kind="persons", table=table, precedence=rules.load_precedence()
        )
    return time.perf_counter() - t0, batch


def ended(sessions: Any) -> str:
    """How many residences and memberships the deaths so far closed."""
    from sqlalchemy import func

    from liangshi.persons.models import MembershipVersion
    from liangshi.residence.models import ResidenceVersion

    with session_scope(sessions) as s:
        rv, mv = ResidenceVersion, MembershipVersion
        closed = s.execute(
            select(func.count()).where(rv.change == "retire", rv.deregistration_reason == "died")
        ).scalar_one()
        memberships = s.execute(select(func.count()).where(mv.change == "retire")).scalar_one()
    return f"residences closed {closed}, memberships ended {memberships}"


def database(kind: str, server: str, tmp: Path) -> tuple[str, Callable[[], None] | None]:
    """A fresh database URL and how to drop it."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}", None
    import psycopg

    name = f"liangshi_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(server, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return server.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=2000, help="rows per department batch")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the per-row reference (slow: about 45 rows/s)"
    )
    parser.add_argument(
        "--deaths", type=float, default=1.0, help="per cent of the feed rows with a death date"
    )
    parser.add_argument(
        "--homes", action="store_true", help="give the persons who die residences and households first"
    )
    args = parser.parse_args()
    n = args.persons
    tmp = Path(tempfile.mkdtemp(prefix="bench-dept-"))
    url, drop = database(args.db, args.pg_server, tmp)
    try:
        engine = make_engine(url)
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
        total = n if args.no_reference else 2 * n
        police = tmp / "police.csv"
        write_file(police, total, seed=7)
        with police.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        write_feed(tmp / "health.csv", rows[:n], args.deaths)
        write_feed(tmp / "health-reference.csv", rows[n:], args.deaths)

        t0 = time.perf_counter()
        result = exchange.import_file(
            sessions, kind="persons", path=police, source="police", actor=SYSTEM, clock=clock
        )
        base = time.perf_counter() - t0
        assert result.loaded == total, (result.loaded, result.errors[:3])
        dying = [r["id_number"] for i, r in enumerate(rows[:n]) if dies(i, args.deaths)]
        if args.homes:
            give_homes(sessions, clock, dying, "测试一路")
            if not args.no_reference:
                others = [r["id_number"] for i, r in enumerate(rows[n:]) if dies(i, args.deaths)]
                give_homes(sessions, clock, others, "测试二路")

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

        took, batch = submit(sessions, clock, tmp / "health.csv")
        print(
            f"{args.db}, persons imported {total}: bulk import (baseline) {base:.2f} s ({total / base:,.0f} rows/s)"
        )
        print(
            f"department batch, set-based: {n} rows in {took:.2f} s ({n / took:,.0f} rows/s); "
            f"matched {batch.matched}, applied {batch.applied}, conflicts {len(batch.conflicts)}, "
            f"deaths {len(dying)}, {ended(sessions)}"
        )
        if not args.no_reference:
            bulk_chunk = feeds_in._submit_chunk
            feeds_in._submit_chunk = per_row_chunk  # type: ignore[assignment]
            try:
                ref, rbatch = submit(sessions, clock, tmp / "health-reference.csv")
            finally:
                feeds_in._submit_chunk = bulk_chunk  # type: ignore[assignment]
            print(
                f"department batch, per-row reference: {n} rows in {ref:.2f} s ({n / ref:,.0f} rows/s); "
                f"matched {rbatch.matched}, applied {rbatch.applied}, conflicts {len(rbatch.conflicts)}"
            )
            print(f"speed-up: {ref / took:.1f}x")
        engine.dispose()
    finally:
        if drop is not None:
            drop()


if __name__ == "__main__":
    main()
