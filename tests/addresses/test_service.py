"""Streets and door plates: unique street names, one door one number, the plate lifecycle, standard addresses."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, AddressPatch, StreetCreate, StreetPatch
from liangshi.errors import Conflict, Forbidden, NotFound
from liangshi.registry import Context
from tests.conftest import INSIDE, World


def _street(
    s: Session,
    ctx: Context,
    world: World,
    name: str = "滨湖南路",
    *,
    district: str = "420704",
    style: str = "dash",
    valid_from: dt.date | None = None,
) -> int:
    snap = addresses.create_street(
        s,
        ctx,
        StreetCreate(
            area_id=world.area(district),
            name=name,
            street_type="路",
            numbering_style=style,
            valid_from=valid_from,
        ),
    )
    return int(snap.entity.id)


def _plate(
    s: Session,
    ctx: Context,
    world: World,
    street_id: int | None,
    number: str,
    *,
    status: str = "installed",
    area: str = INSIDE,
) -> int:
    snap = addresses.create_address(
        s,
        ctx,
        AddressCreate(area_id=world.area(area), street_id=street_id, number=number, status=status),
    )
    return int(snap.entity.id)


# ---- streets ---------------------------------------------------------------------------------------------------


def test_street_name_is_unique_within_a_district(world: World) -> None:
    with world.session() as s:
        _street(s, world.ctx(s, "district_admin_chen"), world, "滨湖南路")
    with pytest.raises(Conflict) as exc, world.session() as s:
        _street(s, world.ctx(s, "district_admin_chen"), world, "滨湖南路")
    assert exc.value.code == "street.name_taken"
    assert exc.value.data["field"] == "name"


def test_the_same_street_name_in_another_district_is_fine(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        a = _street(s, ctx, world, "人民路", district="420704")
        b = _street(s, ctx, world, "人民路", district="420703")
        assert a != b


def test_collector_cannot_name_streets(world: World) -> None:
    with pytest.raises(Forbidden), world.session() as s:
        _street(s, world.ctx(s, "collector_zhang"), world, "滨湖南路")


def test_renamed_street_keeps_its_old_name_readable_before_the_rename(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "district_admin_chen")
        sid = _street(s, ctx, world, "滨湖南路", valid_from=dt.date(2018, 1, 1))
        addresses.change_street(
            s,
            ctx,
            sid,
            StreetPatch(expected_version=1, effective=dt.date(2026, 7, 1), name="凤凰南路", reason="更名"),
        )
    with world.session() as s:
        ctx = world.ctx(s, "district_admin_chen")
        assert registry.read(s, ctx, addresses.STREET, sid, on=dt.date(2026, 6, 30)).row.name == "滨湖南路"
        now = registry.read(s, ctx, addresses.STREET, sid)
        assert now.row.name == "凤凰南路"
        assert now.row.street_type == "路"  # unchanged attributes carry over


def test_street_cannot_be_renamed_to_a_name_taken_in_the_district(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "district_admin_chen")
        _street(s, ctx, world, "凤凰路")
        sid = _street(s, ctx, world, "滨湖南路")
    with pytest.raises(Conflict) as exc, world.session() as s:
        addresses.change_street(
            s, world.ctx(s, "district_admin_chen"), sid, StreetPatch(expected_version=1, name="凤凰路")
        )
    assert exc.value.code == "street.name_taken"


# ---- plates ----------------------------------------------------------------------------------------------------


def test_community_police_records_a_plate_on_a_street_of_their_district(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        pid = _plate(s, ctx, world, sid, "12")
        assert addresses.describe(s, pid, ctx.today)["street"] == "滨湖南路"


def test_street_of_another_district_cannot_carry_a_plate_of_this_community(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "city_admin_wang"), world, "华容大道", district="420703")
    with pytest.raises(NotFound) as exc, world.session() as s:
        _plate(s, world.ctx(s, "police_liu"), world, sid, "12")
    assert exc.value.code == "street.not_found"
    with pytest.raises(Conflict) as exc2, world.session() as s:
        # Even an actor who sees both may not put a 鄂城区 plate on a 华容区 street.
        _plate(s, world.ctx(s, "city_admin_wang"), world, sid, "12")
    assert exc2.value.code == "address.street_elsewhere"


def test_one_door_one_number(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
        _plate(s, world.ctx(s, "district_admin_chen"), world, sid, "12")
    with pytest.raises(Conflict) as exc, world.session() as s:
        _plate(s, world.ctx(s, "district_admin_chen"), world, sid, "12号")
    assert exc.value.code == "plate.duplicate_number"


def test_sub_numbers_are_distinct_numbers_but_not_in_another_spelling(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
        ctx = world.ctx(s, "district_admin_chen")
        _plate(s, ctx, world, sid, "12")
        _plate(s, ctx, world, sid, "12-1")
        _plate(s, ctx, world, sid, "12-2")
    with pytest.raises(Conflict) as exc, world.session() as s:
        # 12附1 is 12-1 written in another style: the same number.
        _plate(s, world.ctx(s, "district_admin_chen"), world, sid, "12附1")
    assert exc.value.code == "plate.duplicate_number"


def test_the_same_number_on_another_street_is_fine(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "district_admin_chen")
        a, b = _street(s, ctx, world, "滨湖南路"), _street(s, ctx, world, "滨湖北路")
        police = world.ctx(s, "district_admin_chen")
        assert _plate(s, police, world, a, "12") != _plate(s, police, world, b, "12")


def test_changing_a_plate_to_a_number_in_use_is_refused(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
        ctx = world.ctx(s, "district_admin_chen")
        _plate(s, ctx, world, sid, "12")
        other = _plate(s, ctx, world, sid, "14")
    with pytest.raises(Conflict) as exc, world.session() as s:
        addresses.change_address(
            s, world.ctx(s, "district_admin_chen"), other, AddressPatch(expected_version=1, number="12号")
        )
    assert exc.value.code == "plate.duplicate_number"


def test_plate_goes_from_planned_to_installed_one_step_at_a_time(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
        pid = _plate(s, world.ctx(s, "district_admin_chen"), world, sid, "12", status="planned")
    for version, status in enumerate(("assigned", "made", "installed"), start=1):
        with world.session() as s:
            snap = addresses.change_address(
                s,
                world.ctx(s, "district_admin_chen"),
                pid,
                AddressPatch(expected_version=version, status=status),
            )
            assert snap.row.status == status
    with world.session() as s:
        snap = registry.read(s, world.ctx(s, "district_admin_chen"), addresses.ADDRESS, pid)
        assert (snap.row.status, snap.entity.version, snap.row.base_number) == ("installed", 4, 12)


def test_plate_cannot_skip_from_planned_to_installed(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
        pid = _plate(s, world.ctx(s, "district_admin_chen"), world, sid, "12", status="planned")
    with pytest.raises(Conflict) as exc, world.session() as s:
        addresses.change_address(
            s, world.ctx(s, "district_admin_chen"), pid, AddressPatch(expected_version=1, status="installed")
        )
    assert exc.value.code == "plate.transition_invalid"
    assert exc.value.data["allowed"] == ["assigned", "retired"]
    with world.session() as s:
        snap = registry.read(s, world.ctx(s, "district_admin_chen"), addresses.ADDRESS, pid)
        assert (snap.row.status, snap.entity.version) == ("planned", 1)


def test_address_code_is_stable_and_starts_with_the_county_code(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
        ctx = world.ctx(s, "district_admin_chen")
        first = _plate(s, ctx, world, sid, "12", status="made")
        second = _plate(s, ctx, world, sid, "14")
        code = registry.read(s, ctx, addresses.ADDRESS, first).entity.code
        other = registry.read(s, ctx, addresses.ADDRESS, second).entity.code
    assert len(code) == 18 and code.startswith("420704") and code.isdigit()
    assert other != code
    with world.session() as s:
        addresses.change_address(
            s,
            world.ctx(s, "district_admin_chen"),
            first,
            AddressPatch(expected_version=1, status="installed", number="12-1"),
        )
    with world.session() as s:
        assert (
            registry.read(s, world.ctx(s, "district_admin_chen"), addresses.ADDRESS, first).entity.code
            == code
        )


def test_collector_cannot_record_plates(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world)
    with pytest.raises(Forbidden), world.session() as s:
        _plate(s, world.ctx(s, "collector_zhang"), world, sid, "12")


def test_plate_in_a_community_outside_the_jurisdiction_is_refused(world: World) -> None:
    with pytest.raises(NotFound) as exc, world.session() as s:
        _plate(s, world.ctx(s, "police_liu"), world, None, "12", area="420704001002")
    assert exc.value.code == "area.not_found"


def test_describe_builds_the_standard_address_text(world: World) -> None:
    with world.session() as s:
        sid = _street(s, world.ctx(s, "district_admin_chen"), world, "滨湖南路", style="fu")
        pid = _plate(s, world.ctx(s, "district_admin_chen"), world, sid, "16-1")
    with world.session() as s:
        d = addresses.describe(s, pid, world.clock.today())
    assert d["areas"] == ["鄂州市", "鄂城区", "凤凰街道", "滨湖社区"]
    assert (d["street"], d["number"]) == ("滨湖南路", "16附1号")
    assert d["text"] == "鄂州市鄂城区凤凰街道滨湖社区滨湖南路16附1号"
    assert len(d["code"]) == 18


def test_describe_uses_the_street_name_valid_on_the_date(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "district_admin_chen")
        sid = _street(s, ctx, world, "滨湖南路", valid_from=dt.date(2018, 1, 1))
        pid = _plate(s, world.ctx(s, "district_admin_chen"), world, sid, "12")
        addresses.change_street(
            s, ctx, sid, StreetPatch(expected_version=1, effective=dt.date(2026, 7, 1), name="凤凰南路")
        )
    with world.session() as s:
        assert addresses.describe(s, pid, dt.date(2026, 6, 30))["text"].endswith("滨湖南路12号")
        assert addresses.describe(s, pid, dt.date(2026, 7, 1))["text"].endswith("凤凰南路12号")


def test_describe_of_a_plate_without_street_is_areas_and_number(world: World) -> None:
    with world.session() as s:
        pid = _plate(s, world.ctx(s, "district_admin_chen"), world, None, "3")
    with world.session() as s:
        d = addresses.describe(s, pid, world.clock.today())
    assert d["street"] is None
    assert d["text"] == "鄂州市鄂城区凤凰街道滨湖社区3号"
