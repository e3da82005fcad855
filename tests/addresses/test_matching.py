"""Matching free text to standard addresses; numbering checks and proposals over the register."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, StreetCreate, StreetPatch
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.cli.main import app as cli
from tests.conftest import INSIDE, World


def _street_with_plates(
    world: World, numbers: list[str], name: str = "滨湖南路"
) -> tuple[int, dict[str, int]]:
    with world.session() as s:
        ctx = world.ctx(s)
        sid = int(
            addresses.create_street(
                s,
                ctx,
                StreetCreate(
                    area_id=world.area("420704"), name=name, street_type="路", valid_from=dt.date(2020, 1, 1)
                ),
            ).entity.id
        )
        plates = {}
        for number in numbers:
            plates[number] = int(
                addresses.create_address(
                    s,
                    ctx,
                    AddressCreate(
                        area_id=world.area(INSIDE),
                        street_id=sid,
                        number=number,
                        status="installed",
                        valid_from=dt.date(2020, 1, 1),
                    ),
                ).entity.id
            )
    return sid, plates


def _dwelling(world: World, address_id: int) -> int:
    with world.session() as s:
        ctx = world.ctx(s)
        bid = buildings.create_building(s, ctx, BuildingCreate(address_id=address_id, label="3栋")).entity.id
        return int(
            buildings.create_dwelling(
                s, ctx, DwellingCreate(building_id=bid, unit=2, floor=5, room="501")
            ).entity.id
        )


def test_full_address_matches_the_dwelling_with_full_confidence(world: World) -> None:
    _, plates = _street_with_plates(world, ["28-3"])
    did = _dwelling(world, plates["28-3"])
    with world.session() as s:
        r = addresses.match_address(
            s, world.ctx(s, "police_liu"), "湖北省鄂州市鄂城区凤凰街道滨湖社区滨湖南路28-3号3栋2单元501室"
        )
    assert (r["level"], r["dwelling_id"], r["confidence"]) == ("dwelling", did, 1.0)
    assert r["standard"].endswith("滨湖南路28-3号3栋2单元501室")
    assert "room:501" in r["reasons"]


def test_loose_writing_still_finds_the_plate(world: World) -> None:
    _, plates = _street_with_plates(world, ["12", "14"])
    with world.session() as s:
        r = addresses.match_address(s, world.ctx(s, "police_liu"), "鄂州 滨湖南路１２号")
    assert (r["level"], r["address_id"]) == ("plate", plates["12"])
    assert 0.7 <= r["confidence"] < 1.0


def test_a_former_street_name_matches_with_a_reason(world: World) -> None:
    sid, plates = _street_with_plates(world, ["8"], name="解放路")
    with world.session() as s:
        addresses.change_street(
            s,
            world.ctx(s),
            sid,
            StreetPatch(expected_version=1, effective=dt.date(2025, 1, 1), name="滨湖北路"),
        )
    with world.session() as s:
        r = addresses.match_address(s, world.ctx(s, "police_liu"), "鄂城区解放路8号")
    assert r["address_id"] == plates["8"]
    assert "street:former_name=解放路" in r["reasons"]


def test_unknown_number_is_reported_not_guessed(world: World) -> None:
    _street_with_plates(world, ["12"])
    with world.session() as s:
        r = addresses.match_address(s, world.ctx(s, "police_liu"), "滨湖南路99号")
    assert r["address_id"] is None and "number:not_found" in r["reasons"]


def test_plate_gaps_and_proposal_over_the_register(world: World, client: TestClient, login: Any) -> None:
    sid, _ = _street_with_plates(world, ["1", "3", "7", "2", "8", "12"])
    h = login("police_liu")
    gaps = client.get(f"/areas/{world.area(INSIDE)}/plate-gaps", headers=h).json()
    assert gaps["滨湖南路"]["missing_odd"] == [5]
    assert gaps["滨湖南路"]["missing_even"] == [4, 6, 10]
    proposal = client.get(f"/streets/{sid}/proposal", params={"lower": "8", "upper": "12"}, headers=h)
    assert proposal.status_code == 200, proposal.text
    assert proposal.json()["number"] == "10号"
    matched = client.post("/addresses/match", json={"texts": ["滨湖南路7号", "火星路1号"]}, headers=h).json()
    assert matched[0]["level"] == "plate" and matched[1]["address_id"] is None
    assert client.post("/addresses/match", json={"texts": []}, headers=h).status_code == 422


def test_a_bad_reserved_number_is_named_in_the_refusal(world: World, client: TestClient, login: Any) -> None:
    sid, _ = _street_with_plates(world, ["8", "12"])
    r = client.get(
        f"/streets/{sid}/proposal",
        params={"lower": "8", "upper": "12", "reserved": "10,x4"},
        headers={**login("police_liu"), "Accept-Language": "zh-CN"},
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "plate.reserved_invalid" and error["data"]["field"] == "reserved"
    assert "“x4”" in error["message"]


def test_cli_gaps_over_an_area_and_match(world: World, db_url: str) -> None:
    _street_with_plates(world, ["1", "5"])
    runner = CliRunner()
    env = {"LIANGSHI_DATABASE_URL": db_url}
    out = runner.invoke(cli, ["plates", "gaps", "--area", INSIDE, "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["滨湖南路"]["missing_odd"] == [3]
    m = runner.invoke(cli, ["address", "match", "滨湖南路5号"], env=env)
    assert m.exit_code == 0 and json.loads(m.output.splitlines()[0])["level"] == "plate"
    assert runner.invoke(cli, ["plates", "gaps", "--json"], env=env).exit_code == 2
