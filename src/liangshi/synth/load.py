"""Load a synthetic city's police extracts into a database through the bulk importer."""

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


def load_police_extracts(
    sessions: sessionmaker[Session],
    directory: Path,
    *,
    actor: Actor,
    clock: Clock,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, ImportResult]:
    """Import police_<kind>.csv files in dependency order; returns each kind's result."""
    results: dict[str, ImportResult] = {}
    for kind in POLICE_ORDER:
        path = directory / f"police_{kind}.csv"

        def step(n: int, kind: str = kind) -> None:
            if progress is not None:
                progress(kind, n)

        results[kind] = exchange.import_file(
            sessions, kind=kind, path=path, source="police", actor=actor, clock=clock, progress=step
        )
    return results
