"""Plates that share a number: a duplicate number or one number in two communities (一号多址) is imported as its
own plate, so the checks can find it; a repeated row stays one plate (a re-run changes nothing)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Address, AddressVersion
from liangshi.buildings.models import Building
from liangshi.exchange import service
from tests.conftest import INSIDE, World

NEIGHBOUR = "420704001002"  # 南浦社区, beside INSIDE (滨湖社区) in the same district
PLATE_HEADER = ["community_code", "street", "number", "plate_kind", "status", "lon", "lat", "chainage_m"]


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(world: World, kind: str, path: Path) -> service.ImportResult:
    return service.import_file(
        world.sessions, kind=kind, path=path, source=None, actor=SYSTEM, clock=world.clock
    )


def _street(world: World, tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "streets.csv",
        ["district_code", "name", "street_type", "numbering_style", "start_description", "bearing_deg"],
        [["420704", "滨湖南路", "路", "dash", "114.8900,30.3950", "90"]],
    )
    assert not _import(world, "streets", path).errors


def _plates(world: World) -> list[tuple[str, str, int, float | None]]:
    """(community code, street or village, number, lon) of every current plate, in the order recorded."""
    from liangshi.areas.models import Area

    v = AddressVersion
    with world.session() as s:
        rows = s.execute(
            select(Area.code, Address.street_id, v.base_number, v.lon)
            .join(v, v.entity_id == Address.id)
            .join(Area, Area.id == Address.area_id)
            .where(v.superseded_at.is_(None), v.valid_to.is_(None))
            .order_by(Address.id)
        ).all()
    return [(code, "street" if sid else "village", base, lon) for code, sid, base, lon in rows]


def test_a_second_village_house_with_a_taken_number_is_its_own_plate_and_a_rerun_adds_nothing(
    world: World, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "plates.csv",
        PLATE_HEADER,
        [
            [INSIDE, "", "7", "door", "installed", "114.9001", "30.3901", ""],
            [INSIDE, "", "7", "door", "installed", "114.9001", "30.3901", ""],  # the same row again
            [INSIDE, "", "7", "door", "installed", "114.9050", "30.3950", ""],  # another house, number 7 too
            [INSIDE, "", "8", "door", "planned", "", "", ""],
            [
                INSIDE,
                "",
                "8",
                "door",
                "made",
                "",
                "",
                "",
            ],  # the same plate (no place), status as written later
        ],
    )
    first = _import(world, "plates", path)
    assert (first.loaded, first.existing, first.errors) == (3, 2, [])
    assert _plates(world) == [
        (INSIDE, "village", 7, 114.9001),
        (INSIDE, "village", 7, 114.9050),
        (INSIDE, "village", 8, None),
    ]
    rerun = _import(world, "plates", path)
    assert (rerun.loaded, rerun.existing, rerun.errors) == (0, 5, [])
    assert len(_plates(world)) == 3


def test_one_number_in_two_communities_and_a_duplicate_on_a_street_are_held(
    world: World, tmp_path: Path
) -> None:
    _street(world, tmp_path)
    path = _csv(
        tmp_path / "plates.csv",
        PLATE_HEADER,
        [
            [INSIDE, "滨湖南路", "12", "door", "installed", "114.8950", "30.3960", "420"],
            [NEIGHBOUR, "滨湖南路", "12", "door", "installed", "114.8950", "30.3960", "420"],  # 一号多址
            [INSIDE, "滨湖南路", "12", "door", "installed", "114.8990", "30.3960", "800"],  # a second door 12
        ],
    )
    result = _import(world, "plates", path)
    assert (result.loaded, result.existing, result.errors) == (3, 0, [])
    assert [(c, n) for c, _, n, _ in _plates(world)] == [(INSIDE, 12), (NEIGHBOUR, 12), (INSIDE, 12)]
    # A building row names its community's plate of that number (of two in one community, the first recorded).
    buildings = _csv(
        tmp_path / "buildings.csv",
        ["community_code", "street", "number", "building"],
        [[NEIGHBOUR, "滨湖南路", "12", "1栋"], [INSIDE, "滨湖南路", "12", "1栋"]],
    )
    assert _import(world, "buildings", buildings).loaded == 2
    with world.session() as s:
        on = dict(s.execute(select(Building.address_id, func.count()).group_by(Building.address_id)).all())
        first_ids = [i for (i,) in s.execute(select(Address.id).order_by(Address.id))]
    assert on == {first_ids[0]: 1, first_ids[1]: 1}
    assert _import(world, "plates", path).loaded == 0


def test_the_checks_find_what_the_import_kept(world: World, tmp_path: Path) -> None:
    from liangshi.checks import service as checks

    _street(world, tmp_path)
    path = _csv(
        tmp_path / "plates.csv",
        PLATE_HEADER,
        [
            [INSIDE, "", "3", "door", "installed", "114.9001", "30.3901", ""],
            [INSIDE, "", "3", "door", "installed", "114.9050", "30.3950", ""],
            [INSIDE, "滨湖南路", "12", "door", "installed", "114.8950", "30.3960", "420"],
            [NEIGHBOUR, "滨湖南路", "12", "door", "planned", "", "", ""],
        ],
    )
    assert _import(world, "plates", path).loaded == 4
    with world.session() as s:
        result = checks.run_checks(
            s,
            world.ctx(s),
            area_code="420704",
            codes=["plate.duplicate_number", "address.one_number_many_places"],
        )
        found = sorted((f.check, tuple(sorted(f.keys.items()))) for f in result.found)
    assert found == [
        (
            "address.one_number_many_places",
            (("community_code", INSIDE), ("number", "12号"), ("street", "滨湖南路")),
        ),
        (
            "address.one_number_many_places",
            (("community_code", NEIGHBOUR), ("number", "12号"), ("street", "滨湖南路")),
        ),
        ("plate.duplicate_number", (("community_code", INSIDE), ("number", "3号"), ("street", ""))),
    ]
