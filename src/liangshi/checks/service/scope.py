"""The run's vocabulary (a finding as computed, a run's result) and its scope: the area subtree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.addresses.models import Address
from liangshi.areas.models import Area
from liangshi.checks.models import CheckRun, SourceRecord
from liangshi.errors import NotFound
from liangshi.mpi.models import PersonSourceRecord
from liangshi.persons.models import Person
from liangshi.registry import Context


@dataclass(frozen=True)
class Found:
    """One finding as a check computed it, before it is merged with the stored ones."""

    check: str
    object_kind: str
    object_id: int | None
    area_id: int
    county_code: str
    keys: dict[str, str]
    evidence: dict[str, Any]

    def line(self) -> dict[str, Any]:
        """The finding as one line of `liangshi checks run --json`."""
        return {"check": self.check, "keys": self.keys, "evidence": self.evidence}


@dataclass
class RunResult:
    """What a run found and what became of the stored findings."""

    run: CheckRun
    found: list[Found] = field(default_factory=list)
    opened: int = 0
    kept: int = 0
    closed: int = 0
    dismissed_kept: int = 0
    per_check: dict[str, int] = field(default_factory=dict)


# -- scope ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The area subtree a run or a list covers (the whole register for the system actor)."""

    id: int | None
    path: str
    code: str


def scope_area(session: Session, ctx: Context, area_code: str | None) -> Scope:
    """The area a run or a list covers: the actor's own when none is named; a foreign or unknown one refused."""
    if area_code is None:
        if ctx.actor.area_path == "/":
            return Scope(None, "/", "")
        area = session.get(Area, ctx.actor.area_id)
    else:
        area = session.execute(select(Area).where(Area.code == area_code.strip())).scalar_one_or_none()
    if area is None or not ctx.actor.covers_path(area.path):
        raise NotFound(
            "check.area_not_found",
            f"区划“{area_code}”不存在或不在您的辖区内",
            f"Area {area_code!r} does not exist or lies outside your jurisdiction",
            {"field": "area", "input": area_code},
        )
    return Scope(area.id, area.path, area.code)


def area_is_empty(session: Session, area: Scope) -> bool:
    """Whether the scope holds no plate, person or department record at all (nothing to check)."""
    scoped = select(Area.id).where(Area.path.like(area.path + "%"))
    for table in (Address, Person, SourceRecord, PersonSourceRecord):
        if session.execute(select(table.id).where(table.area_id.in_(scoped)).limit(1)).first() is not None:
            return False
    return True
