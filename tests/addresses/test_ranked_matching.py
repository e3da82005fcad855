"""Matching that ranks: candidates with confidence and reasons, tolerant of how people write a road."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from liangshi.addresses import service as addresses
from liangshi.addresses.matching import road_likeness
from liangshi.addresses.schemas import StreetPatch
from tests.addresses.test_matching import _dwelling, _street_with_plates
from tests.conftest import World


def test_road_likeness_kinds() -> None:
    assert road_likeness("花园路", "花园路") == (1.0, "exact")
    assert road_likeness("经3路", "经三路") == (0.95, "numerals")
    assert road_likeness("花圆路", "花园路") == (0.85, "homophone")
    assert road_likeness("滨湖南", "滨湖南路") == (0.8, "suffix")
    assert road_likeness("滨湖楠路", "滨湖南路") == (0.85, "homophone")
    assert road_likeness("凤凰西路", "凤凰东路") is None  # two roads, not a typo
    assert road_likeness("解放路", "解放大道") is None
    assert road_likeness("人民路", "花园路") is None
    assert road_likeness("", "花园路") is None


def test_a_typo_in_the_road_still_finds_the_plate_with_less_confidence(world: World) -> None:
    _, plates = _street_with_plates(world, ["12", "14"], name="花园路")
    with world.session() as s:
        exact = addresses.match_address(s, world.ctx(s, "police_liu"), "鄂城区花园路12号")
        typo = addresses.match_address(s, world.ctx(s, "police_liu"), "鄂城区花圆路12号")
    assert typo["address_id"] == exact["address_id"] == plates["12"]
    assert typo["match_level"] == "plate"
    assert "street:homophone=花圆路→花园路" in typo["reasons"]
    assert 0.5 < typo["confidence"] < exact["confidence"]
    assert typo["candidates"][0]["address_id"] == plates["12"]
    assert typo["candidates"][0]["reasons"][0] == "street:homophone=花园路"


def test_chinese_numerals_and_a_missing_shi_still_match(world: World) -> None:
    _, plates = _street_with_plates(world, ["27"], name="花园路")
    with world.session() as s:
        r = addresses.match_address(s, world.ctx(s, "police_liu"), "鄂州花园路二十七号")
    assert (r["address_id"], r["match_level"]) == (plates["27"], "plate")


def test_a_road_written_with_arabic_numerals_matches_its_chinese_name(world: World) -> None:
    _, plates = _street_with_plates(world, ["5"], name="经三路")
    with world.session() as s:
        r = addresses.match_address(s, world.ctx(s, "police_liu"), "鄂城区经3路5号")
    assert r["address_id"] == plates["5"]
    assert "street:numerals=经3路→经三路" in r["reasons"]


def test_candidates_are_ranked_with_their_own_reasons(world: World) -> None:
    _, south = _street_with_plates(world, ["8"], name="滨湖南路")
    _, typo_street = _street_with_plates(world, ["8"], name="滨湖楠路")
    with world.session() as s:
        r = addresses.match_address(s, world.ctx(s, "police_liu"), "滨湖南路8号")
    assert r["address_id"] == south["8"]
    ids = [c["address_id"] for c in r["candidates"]]
    assert ids[:2] == [south["8"], typo_street["8"]]
    confidences = [c["confidence"] for c in r["candidates"]]
    assert confidences == sorted(confidences, reverse=True) and confidences[0] > confidences[1]
    assert r["candidates"][1]["reasons"] == ["street:homophone=滨湖楠路", "number:8"]


def test_a_former_street_name_is_a_candidate_with_its_reason(world: World) -> None:
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
    assert r["candidates"][0]["address_id"] == plates["8"]
    assert r["candidates"][0]["reasons"][0] == "street:former_name=解放路"


def test_the_match_level_names_how_deep_the_match_went(world: World) -> None:
    _, plates = _street_with_plates(world, ["28-3", "30"])
    _dwelling(world, plates["28-3"])
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        room = addresses.match_address(s, ctx, "鄂州市滨湖南路28-3号3栋2单元501室")
        road = addresses.match_address(s, ctx, "鄂州市滨湖南路99号")
        none = addresses.match_address(s, ctx, "，。！")
    assert room["match_level"] == "room"
    assert road["match_level"] == "road" and road["address_id"] is None
    assert road["candidates"][0]["level"] == "road" and "number:not_found" in road["candidates"][0]["reasons"]
    assert none["match_level"] is None and none["candidates"] == [] and "no_address_text" in none["notes"]


def test_a_unit_or_floor_without_a_known_room_is_matched_to_that_level(world: World) -> None:
    _, plates = _street_with_plates(world, ["28-3"])
    _dwelling(world, plates["28-3"])  # 3栋 2单元 5层 501
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        level = {
            text: addresses.match_address(s, ctx, f"鄂州市滨湖南路28-3号3栋{text}")
            for text in ("2单元502室", "2单元", "2单元8楼", "9单元", "2单元501室")
        }
    floor = level["2单元502室"]
    assert floor["match_level"] == "floor" and floor["dwelling_id"] is None and floor["building_id"]
    assert {"room:not_found", "unit:2", "floor:5"} <= set(floor["reasons"])
    assert level["2单元"]["match_level"] == "unit" and "unit:2" in level["2单元"]["reasons"]
    assert level["2单元8楼"]["match_level"] == "unit"  # no dwelling of unit 2 on the 8th floor
    assert level["9单元"]["match_level"] == "building"  # the building has no unit 9
    assert level["2单元501室"]["match_level"] == "room"
    confidence = [level[t]["confidence"] for t in ("9单元", "2单元", "2单元502室", "2单元501室")]
    assert confidence == sorted(confidence) and len(set(confidence)) == 4


def test_the_level_reached_within_a_plate_names_a_unit_and_a_floor(world: World) -> None:
    _, plates = _street_with_plates(world, ["28-3"])
    did = _dwelling(world, plates["28-3"])
    on = dt.date(2026, 12, 1)
    with world.session() as s:
        within = {
            t: addresses.match_within_plate(s, plates["28-3"], t, on)
            for t in ("3栋2单元5楼", "3栋2单元", "3栋2单元501")
        }
    assert within["3栋2单元5楼"]["level"] == "floor" and within["3栋2单元5楼"]["dwelling_id"] is None
    assert within["3栋2单元"]["level"] == "unit"
    assert (within["3栋2单元501"]["level"], within["3栋2单元501"]["dwelling_id"]) == ("room", did)


def test_the_api_returns_ranked_candidates(world: World, client: TestClient, login: Any) -> None:
    _, plates = _street_with_plates(world, ["12"], name="花园路")
    r = client.post("/addresses/match", json={"texts": ["鄂城区花圆路12号"]}, headers=login("police_liu"))
    assert r.status_code == 200, r.text
    body = r.json()[0]
    assert body["address_id"] == plates["12"] and body["candidates"][0]["address_id"] == plates["12"]
