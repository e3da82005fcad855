"""The batched forms added for the review desk's speed (issue 14, stop 25) write what the per-value and shared
forms write: SQLite's bulk rows converted per column, and per-object audit details in the bulk writes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.bulk import _sqlite_rows, _sqlite_value
from liangshi.clock import CHINA_TZ
from liangshi.persons import service as persons
from liangshi.registry import ChangeItem, NewItem, Provenance, plan_changes
from tests import factories
from tests.conftest import INSIDE, World

PROV = Provenance("collector", "collector_zhang", "observed")
NOW = dt.datetime(2026, 11, 27, 9, 30, 5, 123456, tzinfo=dt.UTC)


def _per_value(columns: list[str], rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    # The conversion the bulk writer made before: every value through `_sqlite_value`.
    return [tuple(_sqlite_value(row[c]) for c in columns) for row in rows]


def test_sqlite_rows_are_the_per_value_conversion() -> None:
    rows = [
        {"a": 1, "b": "王", "c": None, "d": NOW, "e": dt.date(2026, 1, 2), "f": True, "g": 1.5, "h": b"x"},
        # The same instant in China time, a date only in a later row, a text among dates.
        {"a": 2, "b": None, "c": dt.date(2025, 5, 6), "d": NOW.astimezone(CHINA_TZ), "e": "2026-01-03"},
        {"a": 3, "b": "李", "c": NOW, "d": None, "e": dt.date(2026, 1, 2), "f": False, "g": None, "h": None},
    ]
    for row in rows:
        row.setdefault("f", None)
        row.setdefault("g", None)
        row.setdefault("h", None)
    columns = list(rows[0])
    assert _sqlite_rows(columns, rows) == _per_value(columns, rows)
    assert _sqlite_rows(columns, rows)[1][3] == NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    for name in columns:  # one column alone (the driver then gets 1-tuples)
        assert _sqlite_rows([name], rows) == _per_value([name], rows)
    plain = [{"x": i, "y": str(i)} for i in range(5)]
    assert _sqlite_rows(["x", "y"], plain) == _per_value(["x", "y"], plain)


def _details(world: World, kind: str, ids: list[int]) -> list[dict[str, Any]]:
    with world.session() as s:
        entries = s.execute(
            select(AuditEntry)
            .where(AuditEntry.object_kind == kind, AuditEntry.object_id.in_(ids))
            .order_by(AuditEntry.seq)
        ).scalars()
        return [json.loads(e.detail) for e in entries]


def test_create_many_adds_each_objects_own_detail_to_its_entry(world: World) -> None:
    attrs = {"name": "王芳", "sex": "2", "birth_date": dt.date(1988, 3, 4), "nationality": "CHN"}
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        created = registry.create_many(
            s,
            ctx,
            persons.PERSON,
            [
                NewItem(world.area(INSIDE), dict(attrs)),
                NewItem(world.area(INSIDE), {**attrs, "name": "王丽"}),
            ],
            prov=PROV,
            audit_detail={"batch": "b1"},
            item_details=[{"change_sets": [7]}, {"change_sets": [8]}],
        )
    details = _details(world, "person", created.ids)
    assert [d["change_sets"] for d in details] == [[7], [8]]
    assert all(d["batch"] == "b1" and "valid_from" in d for d in details)
    with world.session() as s, pytest.raises(ValueError, match="one audit detail per item"):
        registry.create_many(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            [NewItem(world.area(INSIDE), dict(attrs))],
            prov=PROV,
            item_details=[],
        )


def test_change_many_and_correct_many_add_each_entitys_own_detail(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        one = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵一")
        two = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵二")
    with world.session() as s:
        planned = plan_changes(
            s, persons.PERSON, [ChangeItem(p, 1, {"phone": "+8613800000009"}) for p in (one, two)]
        )
        registry.change_many(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            planned,
            effective=None,
            prov=PROV,
            reason="新电话",
            item_details=[{"change_sets": [1]}, {"change_sets": [2]}],
        )
    with world.session() as s:
        registry.correct_many(
            s,
            world.ctx(s, "collector_zhang"),
            persons.PERSON,
            [registry.CorrectItem(p, 2, None, {"occupation": "教师"}) for p in (one, two)],
            prov=PROV,
            reason="更正",
            item_details=[{"change_sets": [3]}, {"change_sets": [4]}],
        )
    details = _details(world, "person", [one, two])
    changed = [d for d in details if "effective" in d]
    corrected = [d for d in details if "corrects_row_id" in d]
    assert sorted(d["change_sets"][0] for d in changed) == [1, 2]
    assert sorted(d["change_sets"][0] for d in corrected) == [3, 4]
    assert all(d["fields"] == ["phone"] for d in changed)
