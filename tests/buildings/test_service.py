"""Buildings and dwellings: jurisdiction, one room number per unit, retired buildings, standard addresses."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.buildings.models import Dwelling
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.errors import Conflict, NotFound
from liangshi.registry import Provenance
from tests import factories
from tests.conftest import INSIDE, World

PROV = Provenance("collector", "police_liu", "observed")


def _place(world: World) -> factories.Place:
    with world.session() as s:
        return factories.place(
            s,
            world.ctx(s, "district_admin_chen"),
            area_id=world.area(INSIDE),
            district_id=world.area("420704"),
        )


def test_collector_records_a_building_on_a_plate_in_their_community(world: World) -> None:
    p = _place(world)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        snap = buildings.create_building(
            s, ctx, BuildingCreate(address_id=p.address_id, label="5号楼", floors_above=6, units=2)
        )
        assert (snap.entity.area_id, snap.entity.county_code) == (world.area(INSIDE), "420704")
        assert snap.row.label == "5号楼" and snap.row.visit_status == "not_visited"


def test_building_on_a_plate_in_another_jurisdiction_is_invisible(world: World) -> None:
    p = _place(world)
    with pytest.raises(NotFound) as exc, world.session() as s:
        # collector_zhou works in 南浦社区 (420704001002); the plate is in 滨湖社区.
        buildings.create_building(
            s, world.ctx(s, "collector_zhou"), BuildingCreate(address_id=p.address_id, label="4栋")
        )
    assert exc.value.code == "address.not_found"
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhou")
        with pytest.raises(NotFound) as read_exc:
            registry.read(s, ctx, buildings.BUILDING, p.building_id)
        assert read_exc.value.code == "building.not_found"
        with pytest.raises(NotFound):
            registry.read(s, ctx, buildings.DWELLING, p.dwelling_id)


def test_room_number_is_unique_within_a_unit(world: World) -> None:
    p = _place(world)  # has unit 1, room 501
    with pytest.raises(Conflict) as exc, world.session() as s:
        buildings.create_dwelling(
            s,
            world.ctx(s, "collector_zhang"),
            DwellingCreate(building_id=p.building_id, unit=1, floor=5, room="501"),
        )
    assert exc.value.code == "dwelling.room_taken"
    with world.session() as s:
        count = s.execute(
            select(func.count()).select_from(Dwelling).where(Dwelling.building_id == p.building_id)
        )
        assert count.scalar_one() == 1


def test_the_same_room_number_in_another_unit_is_fine(world: World) -> None:
    p = _place(world)
    with world.session() as s:
        snap = buildings.create_dwelling(
            s,
            world.ctx(s, "collector_zhang"),
            DwellingCreate(building_id=p.building_id, unit=2, floor=5, room="501"),
        )
        assert snap.entity.id != p.dwelling_id


def test_changing_a_dwelling_to_a_room_in_use_is_refused(world: World) -> None:
    p = _place(world)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        other = buildings.create_dwelling(
            s, ctx, DwellingCreate(building_id=p.building_id, unit=1, room="502")
        )
    with pytest.raises(Conflict) as exc, world.session() as s:
        registry.change(
            s,
            world.ctx(s, "collector_zhang"),
            buildings.DWELLING,
            other.entity.id,
            {"room": "501"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason=None,
            check=buildings.dwelling_check(s),
        )
    assert exc.value.code == "dwelling.room_taken"


def test_cannot_add_a_dwelling_to_a_retired_building(world: World) -> None:
    p = _place(world)
    with world.session() as s:
        registry.retire(
            s,
            world.ctx(s, "police_liu"),
            buildings.BUILDING,
            p.building_id,
            expected_version=1,
            effective=None,
            prov=PROV,
            reason="已拆除",
        )
    with pytest.raises(Conflict) as exc, world.session() as s:
        buildings.create_dwelling(
            s, world.ctx(s, "collector_zhang"), DwellingCreate(building_id=p.building_id, unit=1, room="601")
        )
    assert exc.value.code == "building.retired"


def test_describe_dwelling_gives_the_full_standard_address(world: World) -> None:
    p = _place(world)
    with world.session() as s:
        d = buildings.describe_dwelling(s, p.dwelling_id, world.clock.today())
    assert (d["building"], d["unit"], d["room"]) == ("3栋", 1, "501")
    assert "栋" in d["text"] and "单元" in d["text"] and "室" in d["text"]
    assert d["text"].startswith("鄂州市鄂城区凤凰街道滨湖社区")
    assert d["text"].endswith("12号3栋1单元501室")


def test_describe_dwelling_without_unit_leaves_the_unit_out(world: World) -> None:
    p = _place(world)
    with world.session() as s:
        snap = buildings.create_dwelling(
            s, world.ctx(s, "collector_zhang"), DwellingCreate(building_id=p.building_id, room="101")
        )
        d = buildings.describe_dwelling(s, snap.entity.id, world.clock.today())
    assert d["text"].endswith("12号3栋101室")
    assert "单元" not in d["text"]


def test_describe_dwellings_equals_describe_dwelling_one_by_one(world: World) -> None:
    import datetime as dt

    from liangshi.addresses.service.core import describe_dwellings

    p = _place(world)
    with world.session() as s:
        other = buildings.create_dwelling(
            s, world.ctx(s, "collector_zhang"), DwellingCreate(building_id=p.building_id, room="101")
        ).entity.id
        ids = [p.dwelling_id, other, p.dwelling_id, 999_999]
        for on in (world.clock.today(), world.clock.today() - dt.timedelta(days=3650)):
            batch = describe_dwellings(s, ids, on)
            assert batch == {i: buildings.describe_dwelling(s, i, on) for i in ids}
            assert batch[999_999] == {}


def test_describe_many_equals_describe_one_by_one(world: World) -> None:
    import datetime as dt

    from liangshi.addresses.service.core import describe, describe_many

    p = _place(world)
    with world.session() as s:
        q = factories.place(
            s,
            world.ctx(s, "district_admin_chen"),
            area_id=world.area(INSIDE),
            district_id=world.area("420704"),
            tag="b",
        )
    ids = [p.address_id, q.address_id, p.address_id, 999_999]
    with world.session() as s:
        # Today (valid plates and streets) and ten years back (no version valid yet: the last-known fallback).
        for on in (world.clock.today(), world.clock.today() - dt.timedelta(days=3650)):
            batch = describe_many(s, ids, on)
            assert batch == {i: describe(s, i, on) for i in ids}
            assert batch[p.address_id]["text"] and batch[999_999] == {}
        assert describe_many(s, [], world.clock.today()) == {}
