"""Helpers of the master person index tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liangshi.audit.models import AuditEntry
from liangshi.linkage.api import LinkRecord
from liangshi.mpi import service
from liangshi.mpi.models import MatchReview, PersonLinkEvent, PersonSourceRecord
from liangshi.persons import service as persons
from liangshi.persons.models import Person
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import Context, history
from tests.conftest import World


def rec(
    record_id: str,
    name: str | None = "张伟",
    sex: str | None = "男",
    birth: str | None = "1990-01-01",
    id_number: str | None = None,
    phone: str | None = None,
) -> LinkRecord:
    """A department record."""
    return LinkRecord(
        record_id=record_id,
        source="health",
        name=name,
        sex=sex,
        birth_date=birth,
        id_number=id_number,
        phone=phone,
    )


def bare_person(
    s: Session, ctx: Context, *, area_id: int, name: str, male: bool = True, birth: str = "1990-01-01"
) -> int:
    """A person without documents."""
    snap = persons.create_person(
        s,
        ctx,
        PersonCreate(
            area_id=area_id, name=name, sex="1" if male else "2", birth_date=dt.date.fromisoformat(birth)
        ),
    )
    return int(snap.entity.id)


def count(world: World, model: Any, *where: Any) -> int:
    """Rows of a table (matching conditions)."""
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def person_state(s: Session, person_id: int) -> dict[str, Any]:
    """What a person is now: current attributes, validity, retirement."""
    row = history.latest_row(s, persons.PERSON, person_id)
    assert row is not None
    return {
        "attrs": history.attributes_of(persons.PERSON, row),
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
    }


def world_state(world: World, person_ids: list[int]) -> dict[str, Any]:
    """Everything a merge moves, for these persons: rows per table, and each person's current state."""
    with world.session() as s:
        rows = {
            label: sorted(
                (int(i), int(p)) for i, p in s.execute(select(table.id, col).where(col.in_(person_ids)))
            )
            for label, (table, col) in service.MOVABLE.items()
        }
        return {"rows": rows, "persons": {p: person_state(s, p) for p in person_ids}}


def totals(world: World) -> dict[str, int]:
    """Row counts of what MPI writes (a refused action must leave them all unchanged)."""
    return {
        "persons": count(world, Person),
        "records": count(world, PersonSourceRecord),
        "reviews": count(world, MatchReview),
        "events": count(world, PersonLinkEvent),
        "audit": count(world, AuditEntry),
    }
