"""Areas: creating areas under a parent, renaming from a date, the gazetteer, jurisdiction paths."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.areas import service as areas
from liangshi.areas.models import Area, AreaCode
from liangshi.areas.schemas import AreaCreate
from liangshi.common.codes import ezhou_areas
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.registry import Provenance
from tests.conftest import World

PROV = Provenance("department", "civil_affairs", "document", "民政局区划调整批复")


def _community(
    code: str = "420704200001",
    *,
    parent: str = "420704200",
    name: str = "沙窝社区",
    level: str = "community",
    valid_from: dt.date | None = None,
) -> AreaCreate:
    return AreaCreate(code=code, name=name, level=level, parent_code=parent, valid_from=valid_from)


def test_city_admin_creates_a_community_under_a_township(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        snap = areas.create_area(s, ctx, _community())
        area_id = snap.entity.id
    with world.session() as s:
        area = s.get(Area, area_id)
        parent = areas.by_code(s, "420704200")
        assert area is not None and parent is not None
        assert (area.code, area.level, area.parent_id, area.county_code) == (
            "420704200001",
            "community",
            parent.id,
            "420704",
        )
        assert area.path == f"{parent.path}{area.id}/"
        assert areas.names_of(s, [area.id], world.clock.today()) == {area.id: "沙窝社区"}
        codes = s.execute(select(AreaCode.code, AreaCode.scheme).where(AreaCode.area_id == area.id)).all()
        assert [tuple(c) for c in codes] == [("420704200001", "stats")]


def test_community_code_must_extend_its_parents_code(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc, world.session() as s:
        # 420704100 is 泽林镇, not 沙窝乡.
        areas.create_area(s, world.ctx(s, "city_admin_wang"), _community("420704100099"))
    assert exc.value.code == "area.code_mismatch"
    assert exc.value.data["parent_code"] == "420704200"


def test_community_code_must_be_exactly_three_digits_longer_than_its_parent(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc, world.session() as s:
        areas.create_area(s, world.ctx(s, "city_admin_wang"), _community("420704200001001"))
    assert exc.value.code == "area.code_mismatch"


def test_a_district_cannot_sit_under_a_township(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc, world.session() as s:
        areas.create_area(s, world.ctx(s, "city_admin_wang"), _community("420704200001", level="district"))
    assert exc.value.code == "area.level_invalid"
    assert "community" in exc.value.data["allowed"]


def test_an_area_code_cannot_be_given_twice(world: World) -> None:
    with pytest.raises(Conflict) as exc, world.session() as s:
        # 滨湖社区 has this code already.
        areas.create_area(s, world.ctx(s, "city_admin_wang"), _community("420704001001", parent="420704001"))
    assert exc.value.code == "area.code_taken"


def test_collector_cannot_create_areas(world: World) -> None:
    with pytest.raises(Forbidden) as exc, world.session() as s:
        areas.create_area(s, world.ctx(s, "collector_zhang"), _community())
    assert exc.value.code == "access.forbidden"
    with world.session() as s:
        assert areas.by_code(s, "420704200001") is None


def test_city_admin_cannot_create_areas_under_a_parent_outside_the_city(world: World) -> None:
    with pytest.raises(NotFound) as exc, world.session() as s:
        areas.create_area(
            s,
            world.ctx(s, "city_admin_wang"),
            _community("420102001002", parent="420102001", name="黎黄陂路社区"),
        )
    assert exc.value.code == "area.not_found"


def test_renamed_community_keeps_its_old_name_before_the_rename_date(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        area_id = areas.create_area(s, ctx, _community(valid_from=dt.date(2015, 1, 1))).entity.id
        registry.change(
            s,
            ctx,
            areas.AREA,
            area_id,
            {"name": "沙窝新村社区"},
            expected_version=1,
            effective=dt.date(2026, 7, 1),
            prov=PROV,
            reason="区划更名",
        )
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        assert areas.names_of(s, [area_id], dt.date(2026, 6, 30)) == {area_id: "沙窝社区"}
        assert areas.names_of(s, [area_id], dt.date(2026, 7, 1)) == {area_id: "沙窝新村社区"}
        assert areas.names_of(s, [area_id], dt.date(2014, 12, 31)) == {}
        assert registry.read(s, ctx, areas.AREA, area_id, on=dt.date(2020, 1, 1)).row.name == "沙窝社区"
        current = registry.read(s, ctx, areas.AREA, area_id)
        assert current.row.name == "沙窝新村社区"
        assert current.entity.version == 2


def test_address_lineage_uses_the_names_valid_on_the_date(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        area_id = areas.create_area(s, ctx, _community(valid_from=dt.date(2015, 1, 1))).entity.id
        registry.change(
            s,
            ctx,
            areas.AREA,
            area_id,
            {"name": "沙窝新村社区"},
            expected_version=1,
            effective=dt.date(2026, 7, 1),
            prov=PROV,
            reason="区划更名",
        )
    with world.session() as s:
        area = s.get(Area, area_id)
        assert area is not None
        before = [name for _, name in areas.lineage(s, area, dt.date(2026, 1, 1))]
        after = [name for _, name in areas.lineage(s, area, dt.date(2026, 8, 1))]
        assert before == ["湖北省", "鄂州市", "鄂城区", "沙窝乡", "沙窝社区"]
        assert after[-1] == "沙窝新村社区"


def test_loading_the_gazetteer_twice_adds_nothing_the_second_time(world: World) -> None:
    rows: list[dict[str, str | None]] = [
        *ezhou_areas(),
        {"code": "420704200002", "name": "沙窝村", "level": "village", "parent": "420704200"},
    ]
    with world.session() as s:
        before = s.execute(select(func.count()).select_from(Area)).scalar_one()
        assert areas.load_gazetteer(s, world.ctx(s), rows) == 1
    with world.session() as s:
        assert areas.load_gazetteer(s, world.ctx(s), rows) == 0
        assert s.execute(select(func.count()).select_from(Area)).scalar_one() == before + 1
        village = areas.by_code(s, "420704200002")
        township = areas.by_code(s, "420704200")
        assert village is not None and township is not None
        assert village.parent_id == township.id


def test_the_path_of_an_area_makes_its_subtree(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        community = areas.create_area(s, ctx, _community()).entity.id
        grid = areas.create_area(
            s,
            ctx,
            AreaCreate(code="420704200001001", name="第一网格", level="grid", parent_code="420704200001"),
        ).entity.id
    with world.session() as s:
        township = areas.by_code(s, "420704200")
        assert township is not None
        subtree = set(s.execute(select(Area.id).where(Area.path.startswith(township.path))).scalars())
        assert {township.id, community, grid} <= subtree
        # A sibling township is not in it, though its code shares the county prefix.
        other = areas.by_code(s, "420704100")
        assert other is not None and other.id not in subtree
        grid_area = s.get(Area, grid)
        assert grid_area is not None
        ids = [int(x) for x in grid_area.path.strip("/").split("/")]
        assert ids[-3:] == [township.id, community, grid]


def test_collector_sees_the_areas_above_their_community_but_not_its_siblings(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        assert registry.read(s, ctx, areas.AREA, world.area("420704001")).row.name == "凤凰街道"
        assert registry.read(s, ctx, areas.AREA, world.area("420704")).row.name == "鄂城区"
        with pytest.raises(NotFound):
            registry.read(s, ctx, areas.AREA, world.area("420704001002"))
