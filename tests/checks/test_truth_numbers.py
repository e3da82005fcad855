"""The kinds of stop 29 against the synthetic city's truth: a number recorded twice in its community
(`plate.duplicate_number`), a door of a street crossing into the next community registered there too (一号多址,
`address.one_number_many_places`), main items missing (`person.main_items_missing`), and the health department's
births file (each row proposed, or refused, as its truth says)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from scripts.bench_truth import KINDS, LATER, MORE, score, score_births

from liangshi.access.service import SYSTEM
from liangshi.checks import service as checks
from liangshi.checks.rules import out_of_order
from liangshi.demo.city import load_whole_city
from liangshi.departments.service.feed_births import BIRTH_COLUMNS
from liangshi.synth import write_city
from liangshi.synth.generate import RULE_KINDS
from liangshi.synth.generate.births import BIRTHS_HEADER
from tests.checks.test_truth import MORE_RATES, TODAY
from tests.conftest import World

NUMBER_RATES = replace(
    MORE_RATES, duplicate_number=0.1, one_number_many_places=0.2, main_items_missing=0.05, births=0.05
)
NEW = ("duplicate_number", "one_number_many_places", "main_items_missing")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_numbers_held_twice_main_items_and_births_are_planted_and_each_found_exactly(
    world: World, tmp_path: Path
) -> None:
    city = tmp_path / "city"
    write_city(city, persons=6000, seed=18, today=TODAY, rates=NUMBER_RATES)
    load = load_whole_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    # Every second record of a number is imported as its own plate (none counted as the plate held already).
    assert load.imports["plates"].existing == 0
    assert load.imports["plates"].loaded == len(_rows(city / "police_plates.csv"))
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s))
    table = {row["kind"]: row for row in score(city, [f.line() for f in result.found])}
    assert set(table) == set(KINDS) | set(MORE) | set(LATER)
    for kind in (*NEW, "plate_no_building"):
        assert int(table[kind]["planted"]) > 0, kind  # type: ignore[call-overload]
    for kind, row in table.items():
        seeable = int(row["planted"]) - int(row["unseeable"])  # type: ignore[call-overload]
        assert seeable > 0 or kind in RULE_KINDS, kind
        assert (row["true"], row["found"]) == (seeable, seeable), row
    # 一号多址: each planted number is held in two communities of one street, both plates in the truth.
    pairs = _rows(city / "truth" / "one_number_many_places.csv")
    assert {(r["street"], r["number"]) for r in pairs} == {
        (r["street"], r["number"]) for r in pairs if r["other_community"] != r["community_code"]
    }
    # Births: each row the truth says is proposed has its proposal, each refused row the feed's code on its line.
    truth = _rows(city / "truth" / "births.csv")
    refused = {line: r["outcome"] for line, r in enumerate(truth, start=2) if r["outcome"] != "proposed"}
    assert refused and len(refused) < len(truth)
    batch = load.batches["health_births"]
    assert {p.line: p.code for p in batch.rejected} == refused
    with world.session() as s:
        births = score_births(city, s)
    assert births is not None
    assert births["proposed"] == births["to_propose"] == len(truth) - len(refused) == len(batch.proposals)
    assert births["refused_as_labelled"] == births["to_refuse"] == len(refused)
    assert births["other_proposals"] == 0


def test_the_kinds_of_stop_29_add_rows_and_leave_every_other_row_as_before(tmp_path: Path) -> None:
    before, now = tmp_path / "before", tmp_path / "now"
    write_city(before, persons=6000, seed=18, today=TODAY, rates=MORE_RATES)
    write_city(now, persons=6000, seed=18, today=TODAY, rates=NUMBER_RATES)
    assert not (before / "health_births.csv").exists() and not (before / "truth" / "births.csv").exists()
    assert set(BIRTHS_HEADER) <= set(BIRTH_COLUMNS.values())
    for stem in (
        "police_residences",
        "police_households",
        "housing_dwellings",
        "housing_rentals",
        "health_persons",
    ):
        assert (before / f"{stem}.csv").read_bytes() == (now / f"{stem}.csv").read_bytes(), stem
    # The plates and buildings: the rows of before, in their order, and the second records of numbers after them.
    doubled = len(_rows(now / "truth" / "duplicate_number.csv"))
    shared = len(_rows(now / "truth" / "one_number_many_places.csv")) // 2
    for stem, extra in (("police_plates", doubled + shared), ("police_buildings", shared)):
        was, rows = _rows(before / f"{stem}.csv"), _rows(now / f"{stem}.csv")
        kept = iter(rows)
        assert all(any(r == w for r in kept) for w in was), stem  # a subsequence
        assert len(rows) == len(was) + extra > len(was), stem
    # The persons: as before but for an ethnicity or a hukou place left blank; those living there are in the truth.
    changed: dict[str, str] = {}
    for was, row in zip(_rows(before / "police_persons.csv"), _rows(now / "police_persons.csv"), strict=True):
        diff = {k for k in row if row[k] != was[k]}
        if diff:
            assert diff in ({"ethnicity"}, {"hukou_region", "hukou_address"}) and all(
                row[k] == "" for k in diff
            )
            changed[row["id_number"]] = "ethnicity" if diff == {"ethnicity"} else "hukou"
    blanked = {
        r["id_number"]: item
        for r in _rows(now / "truth" / "main_items_missing.csv")
        for item in r["missing"].split(";")
        if item != "relationship"
    }
    assert blanked and blanked.items() <= changed.items()


def test_two_plates_of_one_number_one_after_the_other_are_in_order() -> None:
    # 10, 12, 12 (one number held twice), 16 and 14 swapped: only the swapped pair is out of order.
    assert out_of_order([(10, 0), (12, 0), (12, 0), (16, 0), (14, 0)]) == {3, 4}
    assert out_of_order([(10, 0), (12, 0), (12, 0), (14, 0)]) == set()
    assert out_of_order([(12, 0), (10, 0), (14, 0)]) == {0, 1}
