"""The check engine: a run stores findings, a re-run closes what was fixed and keeps what was dismissed; bad input
is refused; an interrupted run leaves the previous findings as they were; the plate rules on a drawn street."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from sqlalchemy import func, select

from liangshi.access.models import User
from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, AddressPatch, StreetCreate
from liangshi.checks import service as checks
from liangshi.checks.models import CheckRun, Finding, SourceRecord
from liangshi.errors import LiangshiError
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World


def _plate(world: World, number: str, status: str = "planned", **position: float) -> int:
    with world.session() as s:
        ctx = world.ctx(s)
        street = addresses.create_street(
            s, ctx, StreetCreate(area_id=world.area("420704"), name=f"检查{number}路", street_type="路")
        )
        snap = addresses.create_address(
            s,
            ctx,
            AddressCreate(
                area_id=world.area(INSIDE),
                street_id=street.entity.id,
                number=number,
                status=status,
                **position,
            ),
        )
        return int(snap.entity.id)


def _findings(world: World) -> list[Finding]:
    with world.session() as s:
        return list(s.execute(select(Finding).order_by(Finding.id)).scalars())


def _run(world: World, *codes: str, user: str | None = None) -> checks.RunResult:
    with world.session() as s:
        return checks.run_checks(s, world.ctx(s, user), area_code=INSIDE, codes=list(codes) or None)


def test_a_planned_plate_is_found_with_its_natural_keys_and_goes_to_the_collector_there(world: World) -> None:
    _plate(world, "7")
    result = _run(world, "plate.not_installed")
    assert [f.line() for f in result.found] == [
        {
            "check": "plate.not_installed",
            "keys": {"community_code": INSIDE, "street": "检查7路", "number": "7号"},
            "evidence": {"status": "planned"},
        }
    ]
    [stored] = _findings(world)
    assert stored.status == "open" and stored.owner == "collector" and stored.object_kind == "address"
    with world.session() as s:
        assignee = s.get(User, stored.assignee_id)
        assert assignee is not None and assignee.username == "collector_zhang"


def test_a_rerun_closes_what_was_fixed_and_keeps_what_was_dismissed(world: World) -> None:
    fixed = _plate(world, "7", status="made")
    waiting = _plate(world, "9")
    _run(world, "plate.not_installed")
    # The findings by the plate they concern (a run stores them in no particular order).
    by_plate = {f.object_id: f for f in _findings(world)}
    first, second = by_plate[fixed], by_plate[waiting]
    with world.session() as s:
        with pytest.raises(LiangshiError) as refused:
            checks.dismiss_finding(s, world.ctx(s, "police_liu"), second.id, reason="  ")
        assert refused.value.code == "check.dismiss_reason_required"
    with world.session() as s:
        checks.dismiss_finding(s, world.ctx(s, "police_liu"), second.id, reason="门牌已制作，等待统一安装")
    with world.session() as s:
        addresses.change_address(s, world.ctx(s), fixed, AddressPatch(expected_version=1, status="installed"))
    again = _run(world, "plate.not_installed")
    assert (again.opened, again.kept, again.closed, again.dismissed_kept) == (0, 0, 1, 1)
    after = {f.id: f for f in _findings(world)}
    assert after[first.id].status == "fixed" and after[first.id].closed_at is not None
    assert after[second.id].status == "dismissed"
    assert after[second.id].dismiss_reason == "门牌已制作，等待统一安装"


def test_an_interrupted_run_leaves_the_previous_findings_as_they_were(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plate(world, "7")
    _run(world, "plate.not_installed")
    before = [(f.id, f.status, f.last_run_id) for f in _findings(world)]

    def broken(session: object, prefix: str) -> list[checks.Found]:
        raise RuntimeError("the database went away")

    monkeypatch.setitem(checks.RUNNERS, "plate.missing", broken)
    with pytest.raises(RuntimeError):
        _run(world)  # plate.not_installed runs first, then plate.missing breaks the run
    assert [(f.id, f.status, f.last_run_id) for f in _findings(world)] == before
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(CheckRun)).scalar_one() == 1


@pytest.mark.parametrize(
    ("area", "codes", "code"),
    [
        (OUTSIDE, None, "check.area_not_found"),
        ("999999999999", None, "check.area_not_found"),
        (INSIDE, ["plate.nonsense"], "check.unknown"),
        ("420704001002", None, "check.area_empty"),
    ],
)
def test_a_foreign_unknown_or_empty_area_and_an_unknown_check_are_refused(
    world: World, area: str, codes: list[str] | None, code: str
) -> None:
    _plate(world, "7")
    with world.session() as s, pytest.raises(LiangshiError) as refused:
        checks.run_checks(s, world.ctx(s, "station_admin_li"), area_code=area, codes=codes)
    assert refused.value.code == code
    assert _findings(world) == []


def test_a_collector_may_read_findings_but_not_run_the_checks(world: World) -> None:
    _plate(world, "7")
    with world.session() as s, pytest.raises(LiangshiError) as refused:
        checks.run_checks(s, world.ctx(s, "collector_zhang"), area_code=INSIDE)
    assert refused.value.code == "access.forbidden"
    _run(world, "plate.not_installed")
    with world.session() as s:
        items, total = checks.list_findings(s, world.ctx(s, "collector_zhang"), mine=True)
    assert total == 1 and items[0].assignee == "collector_zhang"


def _street_plates(world: World, plates: list[tuple[str, str, float]]) -> None:
    """A street from (114.8, 30.4) bearing due east; (number, side, chainage) plates 10 m off its axis."""
    with world.session() as s:
        ctx = world.ctx(s)
        street = addresses.create_street(
            s,
            ctx,
            StreetCreate(
                area_id=world.area("420704"),
                name="几何路",
                street_type="路",
                start_description="起点 114.800000,30.400000",
                bearing_deg=90,
            ),
        )
        for number, side, chainage in plates:
            # Due east: north of the axis is the left-hand side.
            lat = 30.4 + (10 if side == "left" else -10) / 111_320
            lon = 114.8 + chainage / (111_320 * math.cos(math.radians(30.4)))
            addresses.create_address(
                s,
                ctx,
                AddressCreate(
                    area_id=world.area(INSIDE),
                    street_id=street.entity.id,
                    number=number,
                    status="installed",
                    lon=lon,
                    lat=lat,
                    chainage_m=chainage,
                ),
            )


def test_wrong_side_comes_from_the_position_and_out_of_order_from_the_chainage(world: World) -> None:
    _street_plates(
        world,
        [
            ("1", "left", 10),
            ("3", "left", 30),
            ("7", "left", 50),  # out of order with 5
            ("5", "left", 70),
            ("9", "left", 90),
            ("2", "right", 15),
            ("4", "right", 35),
            ("11", "right", 55),  # odd on the even side: wrong side, not out of order
            ("6", "right", 75),
            ("8", "right", 95),
        ],
    )
    result = _run(world, "plate.wrong_side", "plate.out_of_order")
    found = {(f.check, f.keys["number"]) for f in result.found}
    assert found == {
        ("plate.wrong_side", "11号"),
        ("plate.out_of_order", "7号"),
        ("plate.out_of_order", "5号"),
    }
    side = next(f for f in result.found if f.check == "plate.wrong_side")
    assert side.evidence["side"] == "right" and side.evidence["street_convention"] == "odd_left"
    assert (side.evidence["plates_following_it"], side.evidence["plates_against_it"]) == (9, 1)


def test_a_department_file_is_held_with_every_problem_of_a_bad_row_reported_at_once(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "health_persons.csv"
    path.write_text(
        "证件号码,姓名,性别,出生日期,管辖社区\n"
        f"{factories.make_id()},王芳,2,1990-01-01,{INSIDE}\n"
        f"{factories.make_id()},李四,1,1990-13-45,{OUTSIDE}\n",
        encoding="utf-8",
    )
    with world.session() as s:
        loaded = checks.load_source(
            s, world.ctx(s, "station_admin_li"), source="health", kind="persons", path=path
        )
    assert (loaded.rows, loaded.kept) == (2, 1)
    assert {(p["line"], p["field"]) for p in loaded.problems} == {(3, "birth_date"), (3, "community_code")}
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(SourceRecord)).scalar_one() == 1


def test_a_department_record_written_differently_is_a_duplicate_and_one_written_alike_is_not(
    world: World, tmp_path: Path
) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        p = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        number = factories.make_id(seq=104)  # an even sequence number: a woman's (not the counter's parity)
        wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
        factories.person(s, ctx, area_id=world.area(INSIDE), name="王芳", male=False, id_number=number)
    path = tmp_path / "justice_persons.csv"
    path.write_text(
        "证件号码,姓名,性别,出生日期,管辖社区\n"
        f"{number},王芳,2,1990-01-01,{INSIDE}\n"  # the register's person, written alike
        f"{number},王方,2,1990-01-01,{INSIDE}\n"  # a homophone of her name
        f"{wrong},王芳,2,1990-01-01,{INSIDE}\n",  # a wrong check digit
        encoding="utf-8",
    )
    with world.session() as s:
        checks.load_source(s, world.ctx(s), source="justice_persons", kind="persons", path=path)
    assert p.dwelling_id
    result = _run(world, "person.duplicate")
    assert sorted((f.keys["id_number"], f.evidence["name"]) for f in result.found) == sorted(
        [(number, "王方"), (wrong, "王芳")]
    )
    with world.session() as s:
        views, _ = checks.list_findings(s, world.ctx(s, "police_liu"), check="person.duplicate")
    assert all("*" in v.keys["id_number"] for v in views), "lists show ID numbers masked"
    assert json.dumps([v.keys for v in views]).count(number) == 0


def test_a_village_plate_the_housing_file_names_but_the_register_lacks_is_missing(
    world: World, tmp_path: Path
) -> None:
    with world.session() as s:
        addresses.create_address(
            s, world.ctx(s), AddressCreate(area_id=world.area(INSIDE), number="1", status="installed")
        )
    path = tmp_path / "housing_dwellings.csv"
    path.write_text(
        "社区代码,街路巷,门牌号,楼栋,单元,楼层,房号,用途,状态\n"
        f"{INSIDE},,1号,1栋,,1,1,residential,occupied\n"
        f"{INSIDE},,2号,1栋,,1,1,residential,vacant\n",
        encoding="utf-8",
    )
    with world.session() as s:
        checks.load_source(s, world.ctx(s), source="housing_dwellings", kind="dwellings", path=path)
    result = _run(world, "plate.missing")
    assert [f.line() for f in result.found] == [
        {
            "check": "plate.missing",
            "keys": {"community_code": INSIDE, "street": "", "number": "2号"},
            "evidence": {"source": "housing_dwellings", "line": 3, "dwellings_named": 1, "as_written": "2号"},
        }
    ]


def test_the_scheduled_run_checks_the_whole_register_and_commits(world: World) -> None:
    _plate(world, "7")
    result = checks.run_scheduled(world.sessions, world.clock)
    assert result.per_check["plate.not_installed"] == 1
    assert [f.status for f in _findings(world)] == ["open"]
