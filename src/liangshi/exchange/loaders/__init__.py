"""Per-kind bulk loaders: validate rows with the API's rules, resolve natural keys, insert in bulk.

Each loader takes a chunk of rows and returns what it loaded, what already existed (re-imports change nothing) and
the rejected rows with their line, field and reason. Rows are checked with the same schemas and rules as the API;
what the services check one object at a time (uniqueness, one head per household, one open residence) is checked
here for the whole chunk with a few queries, then the rows are written through the registry's bulk forms
(`registry.create_many`, `create_many_fast`, `create_records`), which check the actor's permission and
jurisdiction a second time, stamp the bookkeeping and audit the chunk.

The package splits by what is loaded: `resolver` (natural keys to ids, row refusals), `job` (what a loader runs in,
and the writes through the registry's bulk forms), `places` (areas, streets, plates, buildings, dwellings),
`people` (persons, households), `residences`, `rentals` and `venues` (venues and their stays).
"""

from __future__ import annotations

from collections.abc import Callable

from liangshi.exchange.loaders.job import Job, Outcome
from liangshi.exchange.loaders.people import load_households, load_persons
from liangshi.exchange.loaders.places import (
    load_areas,
    load_buildings,
    load_dwellings,
    load_plates,
    load_streets,
)
from liangshi.exchange.loaders.rentals import load_rentals
from liangshi.exchange.loaders.residences import load_residences
from liangshi.exchange.loaders.resolver import Rejected, Resolver, RowError, VenueRef, reject_from
from liangshi.exchange.loaders.venues import load_stays, load_venues
from liangshi.exchange.rows import AreaRef, Chunk

__all__ = [
    "LOADERS",
    "AreaRef",
    "Job",
    "Outcome",
    "Rejected",
    "Resolver",
    "RowError",
    "VenueRef",
    "load_areas",
    "load_buildings",
    "load_dwellings",
    "load_households",
    "load_persons",
    "load_plates",
    "load_rentals",
    "load_residences",
    "load_stays",
    "load_streets",
    "load_venues",
    "reject_from",
]

LOADERS: dict[str, Callable[[Job, Chunk], Outcome]] = {
    "areas": load_areas,
    "streets": load_streets,
    "plates": load_plates,
    "buildings": load_buildings,
    "dwellings": load_dwellings,
    "persons": load_persons,
    "households": load_households,
    "residences": load_residences,
    "rentals": load_rentals,
    "venues": load_venues,
    "stays": load_stays,
}
