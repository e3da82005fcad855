"""The checks within the register on plates, buildings, addresses, dwellings and households: each finds what was
planted and leaves alone the look-alike beside it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, AddressPatch, StreetCreate
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.checks import service as checks
from tests import factories
from tests.conftest import INSIDE, World

NEIGHBOUR = "420704001002"  # another community of the same subdistrict, in the same jurisdictions


def _run(world: World, *codes: str) -> checks.RunResult:
    with world.session() as s:
        return checks.run_checks(s, world.ctx(s), area_code=INSIDE, codes=list(codes))


def _numbers(result: checks.RunResult, code: str) -> set[str]:
    return {f.keys["number"] for f in result.found if f.check == code}


class Street:
    """A street in the district with helpers to put plates, buildings and dwellings on it."""

    def __init__(self, world: World, name: str = "核查路") -> None:
        self.world = world
        with world.session() as s:
            self.id = int(
                addresses.create_street(
                    s, world.ctx(s), StreetCreate(area_id=world.area("420704"), name=name, street_type="路")
                ).entity.id
            )

    def plate(self, number: str, *, area: str = INSIDE, status: str = "installed", **position: float) -> int:
        with self.world.session() as s:
            snap = addresses.create_address(
                s,
                self.world.ctx(s),
                AddressCreate(
                    area_id=self.world.area(area), street_id=self.id, number=number, status=status, **position
                ),
            )
            return int(snap.entity.id)

    def renumber(self, address_id: int, base: int) -> None:
        """Give a plate another's number behind the form's back (a legacy import: the form refuses a duplicate)."""
        with self.world.session() as s:
            s.execute(
                text(
                    "UPDATE address_versions SET base_number = :b WHERE entity_id = :a AND superseded_at IS NULL"
                ),
                {"b": base, "a": address_id},
            )

    def building(
        self, address_id: int, label: str = "1栋", room: str = "101", status: str = "occupied"
    ) -> int:
        """A building with one dwelling (unit 1); returns the dwelling id."""
        with self.world.session() as s:
            ctx = self.world.ctx(s)
            b = buildings.create_building(s, ctx, BuildingCreate(address_id=address_id, label=label))
            d = buildings.create_dwelling(
                s, ctx, DwellingCreate(building_id=b.entity.id, unit=1, floor=1, room=room, status=status)
            )
            return int(d.entity.id)


def plate_id_of(world: World, street_id: int, base: int) -> int:
    """The plate of a street carrying a number."""
    with world.session() as s:
        return int(
            s.execute(
                text(
                    "SELECT a.id FROM addresses a JOIN address_versions v ON v.entity_id = a.id"
                    " AND v.superseded_at IS NULL WHERE a.street_id = :s AND v.base_number = :b"
                ),
                {"s": street_id, "b": base},
            ).scalar_one()
        )


def _housing_file(world: World, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "housing_dwellings.csv"
    path.write_text(
        "社区代码,街路巷,门牌号,楼栋,单元,楼层,房号,用途,状态\n" + "".join(rows), encoding="utf-8"
    )
    with world.session() as s:
        loaded = checks.load_source(s, world.ctx(s), source="housing_dwellings", kind="dwellings", path=path)
        assert loaded.problems == []


def test_a_number_twice_in_one_community_is_a_duplicate_and_across_communities_one_number_many_places(
    world: World,
) -> None:
    street = Street(world)
    for number in ("1", "101", "3"):
        street.building(street.plate(number))
    street.building(street.plate("5"))
    street.building(street.plate("105", area=NEIGHBOUR))
    street.building(street.plate("7"))
    retired = street.plate("107")
    with world.session() as s:
        addresses.change_address(s, world.ctx(s), retired, AddressPatch(expected_version=1, status="retired"))
    for plate_id, base in ((101, 1), (105, 5), (107, 7)):
        street.renumber(plate_id_of(world, street.id, plate_id), base)
    # 1 twice in one community; 5 in this one and the next (the same number, another place); 7 again on a retired
    # plate (a retired number taken again is no duplicate).
    result = _run(world, "plate.duplicate_number", "address.one_number_many_places")
    assert _numbers(result, "plate.duplicate_number") == {"1号"}
    [dup] = [f for f in result.found if f.check == "plate.duplicate_number"]
    assert dup.evidence == {"plates": 2}
    assert dup.keys == {"community_code": INSIDE, "street": "核查路", "number": "1号"}
    assert _numbers(result, "address.one_number_many_places") == {"5号"}


def test_two_numbers_at_one_point_are_many_numbers_one_place(world: World) -> None:
    street = Street(world)
    for number, lon in (("9", 114.81), ("11", 114.81), ("13", 114.8105)):
        street.building(street.plate(number, lon=lon, lat=30.4))
    result = _run(world, "address.many_numbers_one_place")
    assert _numbers(result, "address.many_numbers_one_place") == {"9号", "11号"}


def test_an_installed_plate_without_a_building_is_left_out_or_points_nowhere(
    world: World, tmp_path: Path
) -> None:
    street = Street(world)
    street.plate("2")  # the housing department has dwellings there: the register left the building out
    street.plate("4")  # nothing anywhere: a number without a place
    street.plate("6", status="made")  # not installed: found as plate.not_installed, not here
    street.building(street.plate("8"))
    _housing_file(world, tmp_path, [f"{INSIDE},核查路,2号,1栋,1,1,101,residential,occupied\n"])
    result = _run(world, "plate.no_building", "address.number_without_place")
    assert _numbers(result, "plate.no_building") == {"2号"}
    assert _numbers(result, "address.number_without_place") == {"4号"}


def test_buildings_on_a_retired_plate_and_inhabited_buildings_without_a_plate_on_the_door(
    world: World,
) -> None:
    street = Street(world)
    retired = street.plate("10")
    street.building(retired, label="2栋")
    made = street.plate("12", status="made")
    inhabited = street.building(made, label="3栋")
    street.building(street.plate("14", status="made"), label="4栋")  # nobody lives there
    street.building(street.plate("16"), label="5栋")  # installed
    with world.session() as s:
        ctx = world.ctx(s)
        addresses.change_address(s, ctx, retired, AddressPatch(expected_version=1, status="retired"))
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        factories.arrival(s, ctx, person_id=pid, dwelling_id=inhabited, arrived=world.clock.today())
    result = _run(world, "building.no_installed_plate", "address.no_plate")
    [on_retired] = [f for f in result.found if f.check == "building.no_installed_plate"]
    assert on_retired.keys == {
        "community_code": INSIDE,
        "street": "核查路",
        "number": "10号",
        "building": "2栋",
    }
    assert on_retired.evidence["plate_status"] == "retired"
    [no_plate] = [f for f in result.found if f.check == "address.no_plate"]
    assert no_plate.keys["building"] == "3栋"
    assert no_plate.evidence == {"plate_status": "made", "inhabited_dwellings": 1}


def test_a_dwelling_the_housing_file_puts_at_another_number_is_number_and_address_disagreeing(
    world: World, tmp_path: Path
) -> None:
    street = Street(world)
    street.building(street.plate("20"), label="1栋", room="101")
    street.building(street.plate("22"), label="7栋", room="702")
    _housing_file(
        world,
        tmp_path,
        [
            f"{INSIDE},核查路,20号,7栋,1,7,702,residential,occupied\n",  # the register has 7栋 702 at 22号
            f"{INSIDE},核查路,20号,1栋,1,1,101,residential,occupied\n",  # agrees with the register
            f"{INSIDE},核查路,24号,7栋,1,7,702,residential,occupied\n",  # 24号 is no register plate: plate.missing
        ],
    )
    result = _run(world, "address.number_mismatch")
    assert [f.line() for f in result.found] == [
        {
            "check": "address.number_mismatch",
            "keys": {
                "community_code": INSIDE,
                "street": "核查路",
                "number": "20号",
                "building": "7栋",
                "unit": "1",
                "room": "702",
            },
            "evidence": {"register_number": "22号", "source": "housing_dwellings", "line": 2},
        }
    ]


def test_a_vacant_dwelling_with_an_open_residence_is_found_and_an_empty_one_is_not(world: World) -> None:
    street = Street(world)
    vacant = street.building(street.plate("30"), status="vacant")
    street.building(street.plate("32"), status="vacant")
    lived = street.building(street.plate("34"))
    with world.session() as s:
        ctx = world.ctx(s)
        for dwelling in (vacant, lived):
            pid = factories.person(s, ctx, area_id=world.area(INSIDE))
            factories.arrival(s, ctx, person_id=pid, dwelling_id=dwelling, arrived=world.clock.today())
        # A status recorded by the housing department's feed after the arrival (the form would refuse it).
        s.execute(
            text(
                "UPDATE dwelling_versions SET status = 'vacant' WHERE entity_id = :d AND superseded_at IS NULL"
            ),
            {"d": vacant},
        )
    result = _run(world, "dwelling.vacant_with_residents")
    assert [(f.keys["number"], f.evidence) for f in result.found] == [
        ("30号", {"status": "vacant", "open_residences": 1})
    ]


def test_a_household_whose_members_do_not_live_there_is_found(world: World) -> None:
    street = Street(world)
    short = street.building(street.plate("40"))
    whole = street.building(street.plate("42"))
    with world.session() as s:
        ctx = world.ctx(s)
        area = world.area(INSIDE)
        today = world.clock.today()
        head, child = factories.person(s, ctx, area_id=area), factories.person(s, ctx, area_id=area)
        factories.arrival(s, ctx, person_id=head, dwelling_id=short, arrived=today)  # the child never arrived
        factories.household(s, ctx, area_id=area, dwelling_id=short, members=[(head, "02"), (child, "20")])
        alone = factories.person(s, ctx, area_id=area)
        factories.arrival(s, ctx, person_id=alone, dwelling_id=whole, arrived=today)
        factories.household(s, ctx, area_id=area, dwelling_id=whole, members=[(alone, "02")])
    result = _run(world, "household.member_count_mismatch")
    [found] = result.found
    assert found.keys["number"] == "40号"
    assert found.evidence == {
        "members": 2,
        "members_living_there": 1,
        "living_there_outside_it": 0,
        "households_at_dwelling": 1,
    }
