"""Shared builders for the department exchange tests."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.departments.models import (
    Department,
    DepartmentBatch,
    ExchangeConflict,
    ExchangeLogEntry,
    Feedback,
)
from liangshi.persons import service as persons
from liangshi.persons.models import PersonVersion
from liangshi.persons.schemas import DocumentIn, PersonCreate
from liangshi.registry import AttributeFlag
from tests import factories
from tests.conftest import INSIDE, World

HEALTH_PURPOSE = "出生、死亡医学证明与人口登记核对"
HEALTH_READS = {"person": ["name", "sex", "birth_date"], "document": ["doc_type", "number"]}
HEALTH_PROVIDES = {"person": ["death_date", "phone", "occupation"]}


def department(
    world: World,
    code: str = "health",
    *,
    reads: dict[str, list[str]] | None = None,
    provides: dict[str, list[str]] | None = None,
    valid_from: str = "2026-01-01",
    valid_to: str | None = "2028-01-01",
    aggregates_only: bool = False,
    purpose: str = HEALTH_PURPOSE,
    agreement: bool = True,
    all_or_nothing: bool = False,
) -> None:
    """Register a department (and its agreement) as the city administrator."""
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        departments.add_department(s, ctx, code=code, name_zh=None, name_en=None)
        if agreement:
            spec = rules.parse_agreement(
                {
                    "department": code,
                    "purpose": purpose,
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                    "aggregates_only": aggregates_only,
                    "all_or_nothing": all_or_nothing,
                    "reads": HEALTH_READS if reads is None else reads,
                    "provides": ({} if aggregates_only else HEALTH_PROVIDES)
                    if provides is None
                    else provides,
                },
                departments.known_fields(),
            )
            departments.add_agreement(s, ctx, spec)


def person(
    world: World,
    *,
    name: str = "张伟",
    male: bool = True,
    birth: dt.date = dt.date(1990, 1, 1),
    area: str = INSIDE,
    **attrs: Any,
) -> tuple[int, str]:
    """A person registered by the community police officer; returns (person id, ID number)."""
    number = factories.make_id("420704", birth, _seq(male))
    with world.session() as s:
        snap = persons.create_person(
            s,
            world.ctx(s, "police_liu" if area == INSIDE else None),
            PersonCreate(
                area_id=world.area(area),
                name=name,
                sex="1" if male else "2",
                birth_date=birth,
                documents=[DocumentIn(doc_type="resident_id", number=number)],
                valid_from=dt.date(2020, 1, 1),
                **attrs,
            ),
        )
        return int(snap.entity.id), number


_counter = [100]


def _seq(male: bool) -> int:
    _counter[0] += 2
    return _counter[0] % 998 + (1 if male else 2)


def counts(world: World) -> dict[str, int]:
    """Row counts of everything a batch could write (batches: the accepted ones; a batch refused as a whole is
    kept as a refused batch record, see `refused_batches`)."""
    with world.session() as s:
        found = {
            t.__tablename__: s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (
                PersonVersion,
                ExchangeConflict,
                ExchangeLogEntry,
                AuditEntry,
                Feedback,
                AttributeFlag,
            )
        }
        found[DepartmentBatch.__tablename__] = s.execute(
            select(func.count()).select_from(DepartmentBatch).where(DepartmentBatch.status == "accepted")
        ).scalar_one()
        return found


def refused_batches(world: World) -> list[tuple[str, str, str]]:
    """The refused batch records, oldest first: (department, kind, the refusal's code)."""
    with world.session() as s:
        rows = s.execute(
            select(DepartmentBatch.department_id, DepartmentBatch.kind, DepartmentBatch.report)
            .where(DepartmentBatch.status == "refused")
            .order_by(DepartmentBatch.id)
        ).all()
        codes = dict(s.execute(select(Department.id, Department.code)).all())
        return [(codes[d], k, json.loads(r)["code"]) for d, k, r in rows]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    """CSV content from rows."""
    return "\n".join(",".join(r) for r in rows).encode(encoding) + b"\n"
