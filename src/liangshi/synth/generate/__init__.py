"""The synthetic city: department extracts of a made-up Ezhou, with labelled defects and their ground truth.

``write_city`` generates the city community by community (each from its own ``Random(f"{seed}:{code}")``) and
appends rows to open CSV writers, so memory stays bounded whatever the size; only the set of issued ID numbers
(to keep them distinct) grows with the population. Same seed, persons and ``today`` give byte-identical CSV files.

Files (in ``out_dir``; column names exactly as in docs/import-formats.md, English headers for the police and
Chinese headers for the other departments):

- ``police_{areas,streets,plates,buildings,dwellings,persons,households,residences}.csv`` — import in this order;
- ``civil_affairs_{areas,streets}.csv``, ``health_persons.csv`` (children aged 0–3), ``justice_persons.csv``,
  with ``--more-kinds`` also ``health_births.csv`` and ``justice_corrections.csv`` (community-correction cases),
  ``housing_dwellings.csv``, ``housing_rentals.csv``;
- ``police_venues.csv`` (the hotels and internet cafés on their door plates), ``venues_hotel_stays.csv``,
  ``venues_cafe_stays.csv`` (their guests, naming the venue by community and name) — import these after the
  police files, in this order;
- ``truth/<defect>.csv`` — one file per defect kind with the keys of the affected objects.

The package's modules, in the order a run uses them: ``columns`` (the files, their columns, the defect rates and
the open writers), ``plan`` (the communities and their geography), ``community`` (one community's people and
housing, and who lives where), ``more`` (the defect kinds of stop 25, drawn only when asked for), ``numbers``,
``items`` and ``births`` (those of stop 29: numbers held twice, main items missing, the health department's births
file), ``corrections`` (stop 30: justice's community-correction cases) and ``extracts`` (its rows in every
file). This face holds the entry point.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from liangshi.synth.generate.births import open_births
from liangshi.synth.generate.columns import (
    DEFECT_KINDS,
    FILES,
    HEADERS,
    LATER_KINDS,
    MORE_KINDS,
    RULE_KINDS,
    TRUTH_COLUMNS,
    DefectRates,
    Out,
)
from liangshi.synth.generate.community import City, Community
from liangshi.synth.generate.corrections import open_corrections
from liangshi.synth.generate.extracts import write_community
from liangshi.synth.generate.plan import PERSONS_PER_COMMUNITY, plan_communities

__all__ = [
    "DEFECT_KINDS",
    "FILES",
    "HEADERS",
    "LATER_KINDS",
    "MORE_KINDS",
    "PERSONS_PER_COMMUNITY",
    "RULE_KINDS",
    "TRUTH_COLUMNS",
    "CitySummary",
    "DefectRates",
    "write_city",
]


@dataclass(frozen=True)
class CitySummary:
    """What ``write_city`` wrote: rows per file (stem), defects per kind and their bases, and the paths."""

    out_dir: Path
    persons: int
    communities: int
    files: dict[str, int]
    defects: dict[str, int]
    defect_bases: dict[str, int]
    paths: tuple[Path, ...]


def write_city(
    out_dir: Path,
    *,
    persons: int,
    seed: int,
    today: dt.date,
    rates: DefectRates = DefectRates(),
    formats: Sequence[str] = ("csv",),
    progress: Callable[[int], None] | None = None,
) -> CitySummary:
    """Generate a synthetic Ezhou of ``persons`` persons and write its department extracts and ground truth."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    unknown = set(formats) - {"csv", "xlsx"}
    if unknown:
        raise ValueError(f"unknown formats: {sorted(unknown)}")
    out_dir = Path(out_dir)
    out = Out(out_dir, "xlsx" in formats, more=rates.more, later=rates.later)
    if rates.births > 0:
        open_births(out, out_dir, "xlsx" in formats)
    if rates.corrections > 0:
        open_corrections(out, out_dir, "xlsx" in formats)
    city = City(out, seed, today, rates)
    plans = plan_communities(persons)
    done = 0
    try:
        for plan in plans:
            community = Community(city, plan)
            community.make_households()
            community.build_housing()
            community.settle()
            write_community(community)
            done += plan.persons
            if progress is not None:
                progress(done)
    finally:
        paths = out.close()
    return CitySummary(
        out_dir=out_dir,
        persons=persons,
        communities=len(plans),
        files={stem: table.rows for stem, table in out.files.items()},
        defects={kind: table.rows for kind, table in out.truth.items()},
        defect_bases=dict(out.bases),
        paths=tuple(paths),
    )
