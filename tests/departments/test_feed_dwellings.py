"""Dwelling statuses from housing (issue 15): a housing office's file keyed by the standard address code, building,
unit and room writes dwelling versions through the registry; bad rows are reported with all their problems and
nothing of a refused batch is written; a re-sent file changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.access import service as access
from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Address
from liangshi.audit.models import AuditEntry
from liangshi.buildings.models import DwellingVersion
from liangshi.departments import service as departments
from liangshi.departments.models import DepartmentBatch
from liangshi.errors import Forbidden, ValidationFailed
from tests import factories
from tests.conftest import INSIDE, PASSWORD, World
from tests.departments.helpers import csv_bytes, department
from tests.departments.test_bulk import PRECEDENCE

HOUSING_PROVIDES = {"dwelling": ["status"]}
HOUSING_READS = {"dwelling": ["room", "status"]}
HEADER = ["标准地址编码", "楼栋", "单元", "房号", "房屋状态", "变动日期"]


def _housing(world: World, *, all_or_nothing: bool = False, provides: Any = None) -> None:
    department(
        world,
        "housing",
        reads=HOUSING_READS,
        provides=HOUSING_PROVIDES if provides is None else provides,
        purpose="房屋状态与实有房屋登记核对",
        all_or_nothing=all_or_nothing,
    )
    with world.session() as s:
        user = access.create_user(
            s,
            username="housing_liaison_qian",
            display_name="housing_liaison_qian",
            password=PASSWORD,
            role="department_liaison",
            area_code="420704",
            department="housing",
            actor=SYSTEM,
            now=world.clock.now(),
        )
        s.flush()
        world.users["housing_liaison_qian"] = user.id


def _place(world: World) -> tuple[str, int]:
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        code = s.get(Address, place.address_id).code
        return str(code), place.dwelling_id


def _submit(
    world: World, rows: list[list[str]], user: str = "housing_liaison_qian"
) -> departments.BatchResult:
    table = departments.FeedTable("fang.csv", rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)], "1" * 64)
    with world.session() as s:
        return departments.submit_batch(
            s, world.ctx(s, user), department="housing", kind="dwellings", table=table, precedence=PRECEDENCE
        )


def _statuses(world: World, dwelling_id: int) -> list[str]:
    with world.session() as s:
        return list(
            s.execute(
                select(DwellingVersion.status)
                .where(DwellingVersion.entity_id == dwelling_id, DwellingVersion.superseded_at.is_(None))
                .order_by(DwellingVersion.valid_from)
            ).scalars()
        )


def test_a_housing_status_writes_a_dwelling_version_and_a_resend_changes_nothing(world: World) -> None:
    _housing(world)
    code, dwelling = _place(world)
    rows = [HEADER, [code, "3栋", "1", "501", "空置", "2026-11-27"]]
    result = _submit(world, rows)
    assert (result.rows, result.matched, result.applied, result.same, result.rejected) == (1, 1, 1, 0, [])
    # The same day as the dwelling's current version: the change replaces it (history keeps the record).
    assert _statuses(world, dwelling) == ["vacant"]
    with world.session() as s:
        row = s.execute(
            select(DwellingVersion).where(
                DwellingVersion.entity_id == dwelling,
                DwellingVersion.superseded_at.is_(None),
                DwellingVersion.valid_to.is_(None),
            )
        ).scalar_one()
        assert row.source_kind == "department" and row.source_ref == f"batch:{result.batch_id}"
        assert (
            s.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "department.batch")
            ).scalar_one()
            == 1
        )
        assert (
            s.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dwelling.change")
            ).scalar_one()
            == 1
        )
    again = _submit(world, rows)
    assert (again.applied, again.same) == (0, 1)
    assert _statuses(world, dwelling) == ["vacant"]
    with world.session() as s:
        assert (
            s.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "dwelling.change")
            ).scalar_one()
            == 1
        )


def test_bad_rows_are_reported_with_all_their_problems_and_the_good_rows_kept(world: World) -> None:
    _housing(world)
    code, dwelling = _place(world)
    result = _submit(
        world,
        [
            HEADER,
            [code, "3栋", "1", "501", "已拆除", ""],
            # Three problems on one row, all reported at once.
            ["", "3栋", "x", "502", "塌了", ""],
            [code, "3栋", "1", "999", "空置", ""],  # no such dwelling
        ],
    )
    assert result.applied == 1
    by_line: dict[int, set[tuple[str, str]]] = {}
    for p in result.rejected:
        by_line.setdefault(p.line, set()).add((p.field, p.code))
    assert by_line == {
        3: {
            ("address_code", "department.dwelling_field_required"),
            ("unit", "department.dwelling_unit_invalid"),
            ("status", "department.dwelling_status_unknown"),
        },
        4: {("room", "department.dwelling_not_found")},
    }
    assert _statuses(world, dwelling)[-1] == "demolished"


def test_all_or_nothing_refuses_the_batch_and_writes_nothing(world: World) -> None:
    _housing(world, all_or_nothing=True)
    code, dwelling = _place(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(world, [HEADER, [code, "3栋", "1", "501", "空置", ""], [code, "3栋", "1", "501", "空置", ""]])
    assert exc.value.code == "department.batch_rows_invalid"
    assert exc.value.data["errors"][0]["code"] == "department.dwelling_repeated"
    assert _statuses(world, dwelling) == ["occupied"]
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(DepartmentBatch)).scalar_one() == 0


def test_an_unknown_column_is_refused(world: World) -> None:
    _housing(world)
    code, dwelling = _place(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(world, [["标准地址编码", "房号", "房屋状态", "业主"], [code, "501", "空置", "x"]])
    assert exc.value.code == "department.column_unknown"
    assert _statuses(world, dwelling) == ["occupied"]


def test_an_agreement_without_the_status_is_refused(world: World) -> None:
    _housing(world, provides={"dwelling": ["owner_name"]})
    code, dwelling = _place(world)
    with pytest.raises(Forbidden) as forbidden:
        _submit(world, [HEADER, [code, "3栋", "1", "501", "空置", ""]])
    assert forbidden.value.code == "department.kind_not_provided"
    assert _statuses(world, dwelling) == ["occupied"]


def test_another_departments_liaison_may_not_send_dwelling_statuses(world: World) -> None:
    _housing(world)
    code, dwelling = _place(world)
    with pytest.raises(Forbidden):
        _submit(world, [HEADER, [code, "3栋", "1", "501", "空置", ""]], user="health_liaison_wang")
    assert _statuses(world, dwelling) == ["occupied"]


def test_a_housing_file_is_uploaded_over_http(world: World, client: TestClient, login: Any) -> None:
    _housing(world)
    code, dwelling = _place(world)
    content = csv_bytes([["标准地址编码", "房号", "房屋状态"], [code, "501", "出租"], [code, "777", "空置"]])
    r = client.post(
        "/departments/housing/batches",
        headers=login("housing_liaison_qian"),
        files={"file": ("fang.csv", content, "text/csv")},
        data={"kind": "dwellings"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "dwellings" and body["applied"] == 1
    assert [(e["line"], e["code"]) for e in body["rejected"]] == [(3, "department.dwelling_not_found")]
    assert _statuses(world, dwelling)[-1] == "rented"
