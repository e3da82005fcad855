"""Load a synthetic city's extracts into a database through the bulk importer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from liangshi.access.rules import Actor
from liangshi.clock import Clock
from liangshi.exchange import service as exchange
from liangshi.exchange.service import ImportResult

# Dependency order: each kind refers only to kinds before it.
POLICE_ORDER = ("areas", "streets", "plates", "buildings", "dwellings", "persons", "households", "residences")
# After the police files: file stem, import kind, sending source. Rentals name their tenants' residences, stays
# their venue by community and name.
CITY_ORDER = (
    ("housing_rentals", "rentals", "housing"),
    ("police_venues", "venues", "police"),
    ("venues_hotel_stays", "stays", "venues"),
    ("venues_cafe_stays", "stays", "venues"),
)


def import_one(
    sessions: sessionmaker[Session],
    path: Path,
    kind: str,
    source: str,
    label: str,
    *,
    actor: Actor,
    clock: Clock,
    progress: Callable[[str, int], None] | None,
) -> ImportResult:
    def step(n: int) -> None:
        if progress is not None:
            progress(label, n)

    return exchange.import_file(
        sessions, kind=kind, path=path, source=source, actor=actor, clock=clock, progress=step
    )


def load_police_extracts(
    sessions: sessionmaker[Session],
    directory: Path,
    *,
    actor: Actor,
    clock: Clock,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, ImportResult]:
    """Import police_<kind>.csv files in dependency order; returns each kind's result."""
    return {
        kind: import_one(
            sessions,
            directory / f"police_{kind}.csv",
            kind,
            "police",
            kind,
            actor=actor,
            clock=clock,
            progress=progress,
        )
        for kind in POLICE_ORDER
    }


def load_city(
    sessions: sessionmaker[Session],
    directory: Path,
    *,
    actor: Actor,
    clock: Clock,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, ImportResult]:
    """The police extracts, then the housing department's rentals, the venues and their guests' stays; returns
    each file's result (police files by kind, the others by file stem).

    Rows the importer refuses are the city's labelled defects (tenants missing from the police files: see
    truth/tenant_unregistered.csv); everything else loads.
    """
    results = load_police_extracts(sessions, directory, actor=actor, clock=clock, progress=progress)
    for stem, kind, source in CITY_ORDER:
        results[stem] = import_one(
            sessions,
            directory / f"{stem}.csv",
            kind,
            source,
            stem,
            actor=actor,
            clock=clock,
            progress=progress,
        )
    return results
