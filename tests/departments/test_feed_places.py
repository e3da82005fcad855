"""Areas and streets from civil affairs (issue 15): a civil-affairs office's file of areas (new ones, renames, new
codes) and of streets (new ones, renames) is written through the area and street services; the former name and
code stay readable; bad rows are reported with all their problems, the good rows kept unless the agreement is
all-or-nothing; a re-sent file changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.access import service as access
from liangshi.access.service import SYSTEM
from liangshi.addresses import service as addresses
from liangshi.addresses.models import Street, StreetVersion
from liangshi.areas import service as areas
from liangshi.areas.models import Area, AreaVersion
from liangshi.audit.models import AuditEntry
from liangshi.departments import service as departments
from liangshi.departments.models import DepartmentBatch
from liangshi.errors import Forbidden, ValidationFailed
from tests.conftest import PASSWORD, World
from tests.departments.helpers import csv_bytes, department
from tests.departments.test_bulk import PRECEDENCE

PROVIDES = {"area": ["name"], "street": ["name"]}
AREA_HEADER = ["区划代码", "区划名称", "上级区划代码", "级别", "生效日期", "原区划代码"]
STREET_HEADER = ["所属区划代码", "街路巷名称", "类别", "起点", "止点", "生效日期", "原名称"]


def _civil(world: World, *, all_or_nothing: bool = False, provides: Any = None) -> None:
    department(
        world,
        "civil_affairs",
        reads={"person": ["name"]},
        provides=PROVIDES if provides is None else provides,
        purpose="区划与地名登记核对",
        all_or_nothing=all_or_nothing,
    )
    with world.session() as s:
        user = access.create_user(
            s,
            username="civil_liaison_sun",
            display_name="civil_liaison_sun",
            password=PASSWORD,
            role="department_liaison",
            area_code="420704",
            department="civil_affairs",
            actor=SYSTEM,
            now=world.clock.now(),
        )
        s.flush()
        world.users["civil_liaison_sun"] = user.id


def _submit(
    world: World, kind: str, rows: list[list[str]], user: str = "civil_liaison_sun"
) -> departments.BatchResult:
    table = departments.FeedTable("mz.csv", rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)], "2" * 64)
    with world.session() as s:
        return departments.submit_batch(
            s, world.ctx(s, user), department="civil_affairs", kind=kind, table=table, precedence=PRECEDENCE
        )


def _names(world: World, code: str) -> list[tuple[str, dt.date | None]]:
    with world.session() as s:
        area_id = s.execute(select(Area.id).where(Area.code == code)).scalar_one()
        return [
            (str(n), to)
            for n, to in s.execute(
                select(AreaVersion.name, AreaVersion.valid_to)
                .where(AreaVersion.entity_id == area_id, AreaVersion.superseded_at.is_(None))
                .order_by(AreaVersion.valid_from)
            )
        ]


def _areas(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(Area)).scalar_one())


def test_new_renamed_and_recoded_areas_keep_their_history_and_a_resend_changes_nothing(world: World) -> None:
    _civil(world)
    rows = [
        AREA_HEADER,
        ["420704001003", "新港社区", "420704001", "社区", "2026-11-01", ""],
        ["420704003", "西山新区街道", "", "", "2026-11-01", ""],
        ["420704002009", "洋澜社区", "", "", "", "420704002001"],
    ]
    result = _submit(world, "areas", rows)
    assert (result.rows, result.applied, result.same, result.rejected) == (3, 3, 0, [])
    assert _names(world, "420704001003") == [("新港社区", None)]
    # The rename: the former name stays readable before the date.
    assert _names(world, "420704003") == [("西山街道", dt.date(2026, 11, 1)), ("西山新区街道", None)]
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        recoded = areas.by_code(s, "420704002009")
        assert recoded is not None and areas.by_code(s, "420704002001") is None
        codes = areas.codes_of(s, ctx, recoded.id)
        assert [(c["code"], c["valid_to"], c["current"]) for c in codes] == [
            ("420704002001", world.clock.today(), False),
            ("420704002009", None, True),
        ]
        actions = set(
            s.execute(
                select(AuditEntry.action).where(
                    AuditEntry.action.in_(("area.create", "area.change", "area.recode"))
                )
            ).scalars()
        )
        assert actions == {"area.create", "area.change", "area.recode"}
        batch = s.execute(select(DepartmentBatch)).scalar_one()
        assert (batch.kind, batch.values_applied) == ("areas", 3)
    count = _areas(world)
    again = _submit(world, "areas", rows)  # the same file again: the re-code and the rename are held already
    assert (again.applied, again.same, again.rejected) == (0, 3, [])
    assert _areas(world) == count


def test_bad_area_rows_are_reported_with_all_their_problems_and_the_good_rows_kept(world: World) -> None:
    _civil(world)
    count = _areas(world)
    result = _submit(
        world,
        "areas",
        [
            AREA_HEADER,
            ["420704001004", "月湖社区", "420704001", "community", "", ""],
            # Three problems on one row, all reported at once.
            ["4207", "x" * 51, "", "小区", "2099-01-01", ""],
            ["420704009001", "无父社区", "420704009", "社区", "", ""],  # no such parent
            ["420102001001", "大智新社区", "", "", "2026-11-01", ""],  # outside the jurisdiction
            [
                "420704001005",
                "错码社区",
                "420704002",
                "社区",
                "",
                "",
            ],  # the code does not extend the parent's
        ],
    )
    assert result.applied == 1
    by_line: dict[int, set[str]] = {}
    for p in result.rejected:
        by_line.setdefault(p.line, set()).add(p.code)
    assert by_line == {
        3: {
            "department.area_code_invalid",
            "department.area_name_too_long",
            "department.area_level_unknown",
            "department.place_date_future",
        },
        4: {"department.area_parent_unknown"},
        5: {"department.area_not_yours"},
        6: {"area.code_mismatch"},
    }
    assert _areas(world) == count + 1
    assert _names(world, "420102001001") == [("大智社区", None)]


def test_all_or_nothing_refuses_an_area_batch_and_writes_nothing(world: World) -> None:
    _civil(world, all_or_nothing=True)
    count = _areas(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(
            world,
            "areas",
            [
                AREA_HEADER,
                ["420704001004", "月湖社区", "420704001", "社区", "", ""],
                ["420704001004", "月湖社区", "420704001", "社区", "", ""],
            ],
        )
    assert exc.value.code == "department.batch_rows_invalid"
    assert exc.value.data["errors"][0]["code"] == "department.area_repeated"
    assert _areas(world) == count
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(DepartmentBatch)).scalar_one() == 0


def _street_names(world: World) -> list[tuple[str, bool]]:
    with world.session() as s:
        return [
            (str(n), to is None)
            for n, to in s.execute(
                select(StreetVersion.name, StreetVersion.valid_to)
                .where(StreetVersion.superseded_at.is_(None))
                .order_by(StreetVersion.valid_from, StreetVersion.name)
            )
        ]


def test_new_and_renamed_streets_keep_the_former_name_for_the_matcher(world: World) -> None:
    _civil(world)
    first = _submit(
        world,
        "streets",
        [STREET_HEADER, ["420704001001", "滨湖北路", "路", "寿山大道", "洋澜湖", "2026-01-01", ""]],
    )
    assert (first.applied, first.rejected) == (1, [])
    with world.session() as s:
        v = s.execute(select(StreetVersion).where(StreetVersion.name == "滨湖北路")).scalar_one()
        assert v.start_description == "起于寿山大道，止于洋澜湖" and v.street_type == "路"
    renamed = _submit(
        world,
        "streets",
        [STREET_HEADER, ["420704001001", "凤凰北路", "", "", "", "2026-11-01", "滨湖北路"]],
    )
    assert (renamed.applied, renamed.rejected) == (1, [])
    assert _street_names(world) == [("滨湖北路", False), ("凤凰北路", True)]
    with world.session() as s:
        found = addresses.match_batch(s, world.ctx(s, "police_liu"), ["鄂城区滨湖北路"])[0]
        assert "former_name" in str(found)
    again = _submit(
        world, "streets", [STREET_HEADER, ["420704001001", "凤凰北路", "", "", "", "2026-11-01", "滨湖北路"]]
    )
    assert (again.applied, again.same) == (0, 1)


def test_bad_street_rows_are_reported_and_the_good_rows_kept(world: World) -> None:
    _civil(world)
    result = _submit(
        world,
        "streets",
        [
            STREET_HEADER,
            ["420704001001", "南浦路", "路", "", "", "", ""],
            ["12", "", "桥", "", "", "2099-01-01", ""],  # four problems at once
            ["420704001001", "东门路", "", "", "", "", ""],  # a new street needs its kind
            ["420704001001", "西门路", "", "", "", "", "没有的路"],  # the former name is unknown
            ["420102001001", "大智路", "路", "", "", "", ""],  # outside the jurisdiction
        ],
    )
    assert result.applied == 1
    by_line: dict[int, set[str]] = {}
    for p in result.rejected:
        by_line.setdefault(p.line, set()).add(p.code)
    assert by_line == {
        3: {
            "department.area_code_invalid",
            "department.place_field_required",
            "department.street_type_unknown",
            "department.place_date_future",
        },
        4: {"department.place_field_required"},
        5: {"department.street_not_found"},
        6: {"department.street_area_unknown"},
    }
    assert _street_names(world) == [("南浦路", True)]


POLICE_AREA_HEADER = ["代码", "名称", "级别", "上级代码", "起始日期"]
POLICE_STREET_HEADER = ["区县代码", "名称", "类型", "编号样式", "起点", "走向", "起始日期"]


def test_files_under_the_police_extracts_headers_are_read_as_the_synthetic_city_sends_them(
    world: World,
) -> None:
    """The synthetic city's civil-affairs files carry the police extracts' Chinese headers (docs/import-formats.md
    `areas`, `streets`): a street named on its district, with its numbering style, start and bearing."""
    _civil(world)
    areas_file = [
        POLICE_AREA_HEADER,
        ["420704001003", "新港社区", "community", "420704001", "2026-11-01"],
        ["420704003", "西山街道", "subdistrict", "420704", "2010-01-01"],  # held as it is
    ]
    result = _submit(world, "areas", areas_file)
    assert (result.rows, result.applied, result.same, result.rejected) == (2, 1, 1, [])
    assert _names(world, "420704001003") == [("新港社区", None)]
    street = ["420704", "滨湖北路", "路", "fu", "起点 114.887209,30.381243", "43", "2026-01-01"]
    first = _submit(world, "streets", [POLICE_STREET_HEADER, street])
    assert (first.applied, first.same, first.rejected) == (1, 0, [])
    with world.session() as s:
        v = s.execute(select(StreetVersion).where(StreetVersion.name == "滨湖北路")).scalar_one()
        district = s.execute(select(Area).where(Area.code == "420704")).scalar_one()
        # The start as the police extract writes it is kept as written, not wrapped in 起于….
        assert (v.start_description, v.numbering_style, v.bearing_deg, v.street_type) == (
            "起点 114.887209,30.381243",
            "fu",
            43,
            "路",
        )
        assert s.get(Street, v.entity_id).area_id == district.id  # type: ignore[union-attr]
    again = _submit(world, "streets", [POLICE_STREET_HEADER, street])
    assert (again.applied, again.same) == (0, 1)
    turned_row = [*street[:5], "90", "2026-11-01"]
    turned = _submit(world, "streets", [POLICE_STREET_HEADER, turned_row])
    assert (turned.applied, turned.same) == (1, 0)
    with world.session() as s:
        held = s.execute(
            select(StreetVersion.bearing_deg, StreetVersion.valid_to)
            .where(StreetVersion.name == "滨湖北路", StreetVersion.superseded_at.is_(None))
            .order_by(StreetVersion.valid_from)
        ).all()
    assert [tuple(h) for h in held] == [(43, dt.date(2026, 11, 1)), (90, None)]
    bad = _submit(
        world,
        "streets",
        [POLICE_STREET_HEADER, turned_row, ["420704", "凤凰北路", "路", "slash", "", "360", ""]],
    )
    assert (bad.same, bad.applied) == (1, 0)
    assert sorted((p.line, p.field, p.code) for p in bad.rejected) == [
        (3, "bearing_deg", "department.street_bearing_invalid"),
        (3, "numbering_style", "department.street_style_unknown"),
    ]


def test_an_agreement_without_area_names_and_another_departments_liaison_are_refused(world: World) -> None:
    _civil(world, provides={"street": ["name"]})
    count = _areas(world)
    row = ["420704001004", "月湖社区", "420704001", "社区", "", ""]
    with pytest.raises(Forbidden) as forbidden:
        _submit(world, "areas", [AREA_HEADER, row])
    assert forbidden.value.code == "department.kind_not_provided"
    with pytest.raises(Forbidden):
        _submit(world, "areas", [AREA_HEADER, row], user="health_liaison_wang")
    assert _areas(world) == count


def test_a_civil_affairs_file_is_uploaded_over_http(world: World, client: TestClient, login: Any) -> None:
    _civil(world)
    content = csv_bytes(
        [
            ["区划代码", "区划名称", "上级区划代码", "级别"],
            ["420704001006", "莲花社区", "420704001", "社区"],
            ["42", "", "", ""],
        ]
    )
    r = client.post(
        "/departments/civil_affairs/batches",
        headers=login("civil_liaison_sun"),
        files={"file": ("mz.csv", content, "text/csv")},
        data={"kind": "areas"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "areas" and body["applied"] == 1
    assert {(e["line"], e["code"]) for e in body["rejected"]} == {
        (3, "department.area_code_invalid"),
        (3, "department.place_field_required"),
    }
    assert _names(world, "420704001006") == [("莲花社区", None)]
