"""Score the quality checks against the synthetic city's ground truth (issue 15).

Builds the city (`liangshi synth`: its files, then the police extracts, rentals, venues and stays through the
importer), holds the housing, health and justice files for checking, runs every check and scores each planted
defect kind: planted, found, recall, precision. Matching is on the natural keys the truth file gives.

    .venv/bin/python scripts/bench_truth.py --persons 30000 [--seed 2010] [--db URL] [--keep DIR] [--nine-only]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from liangshi.access.service import SYSTEM
from liangshi.checks import service as checks
from liangshi.cli.synth import load_into
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory
from liangshi.departments.models import CorrectionCase
from liangshi.departments.service import feed_births, resolve_persons
from liangshi.registry import Context
from liangshi.synth import write_city
from liangshi.synth.generate import DefectRates
from liangshi.versioned import ChangeSet

# Truth file -> (check code, the truth columns and the finding keys they match).
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "plate_not_installed": (
        "plate.not_installed",
        ("community_code", "street", "number"),
        ("community_code", "street", "number"),
    ),
    "plate_missing": (
        "plate.missing",
        ("community_code", "street", "number"),
        ("community_code", "street", "number"),
    ),
    "plate_wrong_side": (
        "plate.wrong_side",
        ("community_code", "street", "number"),
        ("community_code", "street", "number"),
    ),
    "plate_out_of_order": (
        "plate.out_of_order",
        ("community_code", "street", "number"),
        ("community_code", "street", "number"),
    ),
    "duplicate_person": ("person.duplicate", ("file", "id_number"), ("source", "id_number")),
    "not_deregistered": ("residence.departed_not_deregistered", ("id_number",), ("id_number",)),
    "tenant_unregistered": ("rental.tenant_unregistered", ("id_number",), ("id_number",)),
    "rental_no_agreement": (
        "rental.no_agreement",
        ("community_code", "street", "number", "building", "unit", "room"),
        ("community_code", "street", "number", "building", "unit", "room"),
    ),
    "vacant_recorded_occupied": (
        "dwelling.vacant_recorded_occupied",
        ("community_code", "street", "number", "building", "unit", "room"),
        ("community_code", "street", "number", "building", "unit", "room"),
    ),
    # Drawn, not planted at a rate: the dated rules the city's own rows break as of its day (synth RULE_KINDS).
    "stay_expired": ("residence.stay_expired", ("doc_type", "id_number"), ("doc_type", "id_number")),
    "registered_late": ("residence.registered_late", ("doc_type", "id_number"), ("doc_type", "id_number")),
    "lease_ended_open": (
        "rental.lease_ended_open",
        ("community_code", "street", "number", "building", "unit", "room"),
        ("community_code", "street", "number", "building", "unit", "room"),
    ),
    "foreign_guest_late": (
        "venue.foreign_guest_late",
        ("venue", "doc_type", "id_number"),
        ("venue", "doc_type", "id_number"),
    ),
}
_PLATE = ("community_code", "street", "number")
_DWELLING = (*_PLATE, "building", "unit", "room")
# The kinds of stop 25 and after (synth MORE_KINDS), planted with `DefectRates.every_kind()` (not with --nine-only).
MORE: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "address_no_plate": ("address.no_plate", (*_PLATE, "building"), (*_PLATE, "building")),
    "number_without_place": ("address.number_without_place", _PLATE, _PLATE),
    "plate_no_building": ("plate.no_building", _PLATE, _PLATE),
    "number_mismatch": ("address.number_mismatch", _DWELLING, _DWELLING),
    "many_numbers_one_place": ("address.many_numbers_one_place", _PLATE, _PLATE),
    "household_member_missing": (
        "household.member_count_mismatch",
        (*_DWELLING, "household_number"),
        (*_DWELLING, "household_number"),
    ),
    "id_invalid": ("person.id_invalid", ("file", "id_number"), ("source", "id_number")),
    "id_disagrees": ("person.id_disagrees", ("file", "id_number"), ("source", "id_number")),
    # A tenant the housing file still names on an open rental, deregistered there in the police files.
    "departed_tenant": (
        "rental.departed_tenant",
        (*_DWELLING, "doc_type", "id_number"),
        (*_DWELLING, "doc_type", "id_number"),
    ),
    # Stop 29: the members left out of their household (no relationship), and ethnicity or hukou left blank.
    "main_items_missing": ("person.main_items_missing", ("doc_type", "id_number"), ("doc_type", "id_number")),
}
# The kinds of stop 29 (synth LATER_KINDS), scored where their truth file was written (`every_kind` writes them): a
# number held twice in its community, or in two communities of one street.
LATER: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "duplicate_number": ("plate.duplicate_number", _PLATE, _PLATE),
    "one_number_many_places": ("address.one_number_many_places", _PLATE, _PLATE),
}
# The kind of stop 30 (synth `DefectRates.corrections`, in `every_kind`), scored where its truth file was written: a
# person under community correction (justice_corrections.csv) the police files hold as departed.
CORRECTIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "correction_person_departed": (
        "correction.person_departed",
        ("doc_type", "id_number"),
        ("doc_type", "id_number"),
    ),
}
SOURCES = (
    ("housing_dwellings", "dwellings"),
    ("housing_rentals", "rentals"),
    ("health_persons", "persons"),
    ("justice_persons", "persons"),
)


# A plate missing from the register has no status or position in it: whether it is installed, its side and its
# place in the order cannot be checked there (it is found as missing instead).
NEEDS_THE_PLATE = {"plate_not_installed", "plate_wrong_side", "plate_out_of_order"}


def _truth(city: Path, kind: str, cols: tuple[str, ...]) -> set[tuple[str, ...]]:
    with (city / "truth" / f"{kind}.csv").open(encoding="utf-8") as fh:
        return {tuple(row[c] for c in cols) for row in csv.DictReader(fh)}


def _swaps_with_a_missing_plate(city: Path, missing: set[tuple[str, ...]]) -> set[tuple[str, str, str]]:
    """Planted swaps of which one plate is missing from the register: the other then stands in order there."""
    with (city / "truth" / "plate_out_of_order.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {
        (r["community_code"], r["street"], r["number"])
        for r in rows
        if (r["community_code"], r["street"], r["number"]) in missing
        or (r["community_code"], r["street"], r["swapped_with"]) in missing
    }


def _duplicates_of_absent_persons(city: Path) -> set[tuple[str, str]]:
    """Planted duplicates of a person the police files do not hold (a child of an unregistered tenant): a second
    copy of nobody in the register; `rental.tenant_unregistered` finds the household instead."""
    with (city / "police_persons.csv").open(encoding="utf-8") as fh:
        held = {row["id_number"] for row in csv.DictReader(fh)}
    with (city / "truth" / "duplicate_person.csv").open(encoding="utf-8") as fh:
        return {(r["file"], r["id_number"]) for r in csv.DictReader(fh) if r["true_id_number"] not in held}


def score(city: Path, found: list[dict[str, object]]) -> list[dict[str, object]]:
    """Per planted kind: planted, found, true positives, recall and precision; `unseeable` counts the planted
    defects the register cannot show (a not-installed, wrong-side or out-of-order plate that is
    also missing from it, or swapped with one that is; a duplicate of a person it does not hold)."""
    table = []
    missing = _truth(city, "plate_missing", ("community_code", "street", "number"))
    later = MORE | LATER | CORRECTIONS
    kinds = KINDS | {k: v for k, v in later.items() if (city / "truth" / f"{k}.csv").exists()}
    for kind, (code, truth_cols, key_cols) in kinds.items():
        planted = _truth(city, kind, truth_cols)
        unseeable = len(planted & missing) if kind in NEEDS_THE_PLATE else 0
        if kind == "duplicate_person":
            unseeable = len(_duplicates_of_absent_persons(city))
        if kind == "plate_out_of_order":
            unseeable = len(_swaps_with_a_missing_plate(city, missing))
        keys = [f["keys"] for f in found if f["check"] == code]
        got = {tuple(str(k.get(c, "")) for c in key_cols) for k in keys}  # type: ignore[attr-defined]
        hit = len(planted & got)
        table.append(
            {
                "kind": kind,
                "check": code,
                "planted": len(planted),
                "found": len(got),
                "true": hit,
                "unseeable": unseeable,
                "recall": hit / len(planted) if planted else None,
                "recall_seeable": hit / (len(planted) - unseeable) if len(planted) > unseeable else None,
                "precision": hit / len(got) if got else None,
            }
        )
    return table


def score_births(city: Path, session: Session) -> dict[str, int] | None:
    """The health department's births file against truth/births.csv: each row the truth says is to be proposed
    has its birth proposal (by the feed's idempotency key), no other row has one, and no other proposal exists."""
    path = city / "truth" / "births.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keys = {
        feed_births.idempotency_key(
            "health",
            feed_births.BirthRow(
                0,
                r["name"],
                r["sex"],
                dt.date.fromisoformat(r["birth_date"]),
                r["mother_id_number"],
                None,
                None,
                None,
                None,
            ),
        ): r["outcome"]
        for r in rows
    }
    held = set(
        session.execute(
            select(ChangeSet.idempotency_key).where(ChangeSet.idempotency_key.like("birth:%"))
        ).scalars()
    )
    expected = {k for k, outcome in keys.items() if outcome == "proposed"}
    return {
        "rows": len(rows),
        "to_propose": len(expected),
        "proposed": len(held & expected),
        "refused_as_labelled": sum(1 for k, o in keys.items() if o != "proposed" and k not in held),
        "to_refuse": len(keys) - len(expected),
        "other_proposals": len(held - expected),
    }


def score_corrections(city: Path, session: Session, ctx: Context) -> dict[str, int] | None:
    """Justice's corrections file against truth/corrections.csv: each row labelled `accepted` is a current case of
    the person holding its number (kind and start date), each other row (a person the police files do not hold)
    has neither a person nor a case, and no other case exists."""
    path = city / "truth" / "corrections.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    holders = resolve_persons(session, ctx, [("resident_id", r["id_number"]) for r in rows])
    cases = {
        (int(c.person_id), c.case_kind, c.start_date)
        for c in session.execute(
            select(CorrectionCase).where(CorrectionCase.superseded_at.is_(None))
        ).scalars()
    }
    accepted = [r for r in rows if r["outcome"] == "accepted"]
    held = {
        (holders[r["id_number"]], r["case_kind"], dt.date.fromisoformat(r["start_date"]))
        for r in accepted
        if r["id_number"] in holders
    }
    return {
        "rows": len(rows),
        "to_accept": len(accepted),
        "accepted": len(held & cases),
        "to_refuse": len(rows) - len(accepted),
        "refused_as_labelled": sum(
            1 for r in rows if r["outcome"] != "accepted" and r["id_number"] not in holders
        ),
        "other_cases": len(cases - held),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=2010)
    parser.add_argument("--today", default="2026-12-01")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--nine-only",
        action="store_true",
        help="plant only the nine kinds of before stop 25 (the city of stop 24, byte for byte)",
    )
    parser.add_argument("--keep", type=Path, help="write the city here and keep it")
    parser.add_argument(
        "--checks-only",
        action="store_true",
        help="re-run the checks over a city built before with --keep DIR (and --db URL): no write, no load",
    )
    args = parser.parse_args()
    if args.checks_only and args.keep is None:
        parser.error("--checks-only needs --keep DIR, the city built before")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-truth-"))
    url = args.db or f"sqlite:///{work / 'city.db'}"
    t0 = time.perf_counter()
    if not args.checks_only:
        # Every kind, and main items left blank in the persons file (which --more-kinds leaves as before).
        rates = (
            DefectRates() if args.nine_only else replace(DefectRates.every_kind(), main_items_missing=0.005)
        )
        write_city(
            work, persons=args.persons, seed=args.seed, today=dt.date.fromisoformat(args.today), rates=rates
        )
    t_write = time.perf_counter() - t0
    if not args.checks_only:
        load_into(url, work, everything=True)
    t_load = time.perf_counter() - t0 - t_write
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    clock = Clock()
    # The checks run as of the city's day: the dated rules (a stay's end, a late arrival, a lease's end) are true
    # of the city on the day it was written for, as its truth files are.
    city_day = dt.date.fromisoformat(args.today)
    ctx = Context(actor=SYSTEM, now=clock.now(), today=city_day, purpose="bench_truth")
    with sessions() as session:
        # After a bulk load, analyse what was loaded (the import leaves that to the operator on PostgreSQL).
        session.execute(text("ANALYZE"))
        session.commit()
        for stem, kind in SOURCES if not args.checks_only else ():
            loaded = checks.load_source(session, ctx, source=stem, kind=kind, path=work / f"{stem}.csv")
            print(f"  held {stem}: {loaded.kept}/{loaded.rows} rows, {len(loaded.problems)} with problems")
        session.commit()
        t1 = time.perf_counter()
        seconds: dict[str, float] = {}
        mark = [t1]

        def timed(code: str, _count: int) -> None:
            now = time.perf_counter()
            seconds[code] = now - mark[0]
            mark[0] = now

        result = checks.run_checks(session, ctx, progress=timed)
        session.commit()
        t_checks = time.perf_counter() - t1
        t2 = time.perf_counter()
        residences = session.execute(text("SELECT COUNT(*) FROM residences")).scalar_one()
        t_count = time.perf_counter() - t2
        births = score_births(work, session)
        corrections = score_corrections(work, session, ctx)
    engine.dispose()
    table = score(work, [f.line() for f in result.found])
    print(f"\n{args.persons:,} persons, seed {args.seed}, {url.split(':')[0]}")
    print(
        f"write {t_write:.1f} s, load {t_load:.1f} s, all checks {t_checks:.1f} s,"
        f" COUNT(*) of {residences:,} residences {t_count * 1000:.1f} ms"
    )
    print(
        "\n| planted kind | check | planted | of them unseeable | found | recall | recall of seeable | precision |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in table:
        recall = "–" if row["recall"] is None else f"{row['recall']:.1%}"
        precision = "–" if row["precision"] is None else f"{row['precision']:.1%}"
        seeable = "–" if row["recall_seeable"] is None else f"{row['recall_seeable']:.1%}"
        print(
            f"| {row['kind']} | `{row['check']}` | {row['planted']} | {row['unseeable']} | {row['found']} |"
            f" {recall} | {seeable} | {precision} |"
        )
    if births is not None:
        print(
            f"\nbirths (health_births.csv, {births['rows']} rows): {births['proposed']} of {births['to_propose']}"
            f" proposed as labelled, {births['refused_as_labelled']} of {births['to_refuse']} refused as labelled,"
            f" {births['other_proposals']} other proposals"
        )
    if corrections is not None:
        print(
            f"corrections (justice_corrections.csv, {corrections['rows']} rows): {corrections['accepted']} of"
            f" {corrections['to_accept']} kept as labelled, {corrections['refused_as_labelled']} of"
            f" {corrections['to_refuse']} refused as labelled, {corrections['other_cases']} other cases"
        )
    print("\nper check:", json.dumps(result.per_check))
    print("seconds per check:", json.dumps({k: round(v, 2) for k, v in seconds.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
