"""Data for the review pages' tests: department conflicts, feedback and match reviews, built through the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from liangshi.departments import service as departments
from liangshi.departments.models import Agreement, Department, DepartmentBatch, ExchangeConflict
from liangshi.linkage import api as linkage
from liangshi.mpi import service as mpi
from liangshi.mpi.models import MatchReview
from liangshi.registry import Context
from liangshi.residence.calendar import default_calendar
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World
from tests.departments.helpers import department
from tests.mpi import engine
from tests.mpi.helpers import rec

NEIGHBOUR = "420704001002"  # collector_zhou's community: in the station's jurisdiction, not in police_liu's


@pytest.fixture
def fake_linkage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The master person index tests' stand-in engine (known probabilities, no DuckDB)."""
    monkeypatch.setattr(linkage, "explain_pair", engine.explain_pair)
    monkeypatch.setattr(linkage, "match_against_master", engine.match_against_master)
    monkeypatch.setattr(linkage, "dedupe", engine.dedupe)
    yield


def _health(world: World) -> None:
    with world.session() as s:
        known = s.execute(select(Department).where(Department.code == "health")).scalar_one_or_none()
    if known is None:
        department(world)


def conflict(
    world: World,
    *,
    area: str = INSIDE,
    register: str = "工人",
    value: str = "教师",
    field: str = "occupation",
    name: str = "孙七",
) -> tuple[int, int]:
    """A health conflict on a person's item (the department says `value`); returns (conflict id, person)."""
    _health(world)
    with world.session() as s:
        ctx = world.ctx(s)
        person_id = factories.person(s, ctx, area_id=world.area(area), name=name)
        dept = s.execute(select(Department).where(Department.code == "health")).scalar_one()
        batch = DepartmentBatch(
            department_id=dept.id,
            agreement_id=s.execute(
                select(Agreement.id).where(Agreement.department_id == dept.id)
            ).scalar_one(),
            kind="persons",
            file_name="health-2026-11.csv",
            content_sha256="0" * 64,
            actor_name="health_liaison_wang",
            received_at=ctx.now,
        )
        s.add(batch)
        s.flush()
        row = ExchangeConflict(
            object_kind="person",
            object_id=person_id,
            field=field,
            register_value=register,
            department_value=value,
            department="health",
            batch_id=batch.id,
            line=2,
            status="open",
            created_at=ctx.now,
            area_id=world.area(area),
            county_code=area[:6],
        )
        s.add(row)
        s.flush()
        return int(row.id), person_id


def feedback(world: World, *, area: str = INSIDE, days_ago: int = 0) -> tuple[int, int]:
    """Health feedback on a person's name, filed `days_ago` days before today; returns (feedback id, person)."""
    _health(world)
    with world.session() as s:
        person_id = factories.person(s, world.ctx(s), area_id=world.area(area), name="周八")
    with world.session() as s:
        base = world.ctx(s, "health_liaison_wang")
        ctx = Context(
            actor=base.actor,
            now=base.now - dt.timedelta(days=days_ago),
            today=base.today - dt.timedelta(days=days_ago),
            purpose=None,
            read_cut=base.read_cut,
        )
        f = departments.file_feedback(
            s,
            ctx,
            object_kind="person",
            object_id=person_id,
            attribute="name",
            reason="医院登记为周捌",
            suggested_value="周捌",
            calendar=default_calendar(),
            decision_days=10,
        )
        return int(f.id), person_id


def review(world: World, *, area: str = INSIDE, birth: str = "1990-01-01") -> tuple[int, int]:
    """A pending match review: a health record named like a register person, no ID; returns (review, person)."""
    with world.session() as s:
        ctx = world.ctx(s)
        person_id = factories.person(
            s, ctx, area_id=world.area(area), name="赵六", birth=dt.date.fromisoformat(birth)
        )
        mpi.resolve(
            s,
            ctx,
            [rec(f"r{person_id}", name="赵六", birth=birth)],
            source="health",
            batch_ref="b1",
            area_id=world.area(area),
        )
        review_id = s.execute(
            select(MatchReview.id).where(MatchReview.candidate_person_id == person_id)
        ).scalar_one()
        return int(review_id), person_id


__all__ = ["NEIGHBOUR", "OUTSIDE", "conflict", "fake_linkage", "feedback", "review"]
