"""Venues over HTTP: registration, keys, stays posted with the venue's own key, follow-ups, a person's stays."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.audit import service as audit
from liangshi.audit.models import AuditEntry
from liangshi.venues.models import VenueKey
from tests import factories
from tests.conftest import NOW, World
from tests.venues.helpers import D, H, check_in, check_out, counts, person, plate, post, stays, venue


def _register(client: TestClient, login: Any, address_id: int, persona: str = "station_admin_li") -> Any:
    return client.post(
        "/venues",
        json={
            "venue_kind": "hotel",
            "address_id": address_id,
            "name": "滨湖宾馆",
            "licence_number": "鄂特旅-001",
        },
        headers=login(persona),
    )


def _key(client: TestClient, login: Any, venue_id: int) -> str:
    r = client.post(f"/venues/{venue_id}/keys", json={"name": "前台"}, headers=login("station_admin_li"))
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def _vk(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def test_a_station_admin_registers_a_venue_and_issues_a_key_stored_only_as_its_hash(
    world: World, client: TestClient, login: Any
) -> None:
    r = _register(client, login, plate(world))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["kind"], body["attributes"]["status"], body["extra"]["venue_kind"]) == (
        "venue",
        "open",
        "hotel",
    )
    vid = body["id"]
    key = _key(client, login, vid)
    assert key.startswith("vk_")
    with world.session() as s:
        [stored] = s.execute(select(VenueKey)).scalars()
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in (stored.key_hash, stored.prefix)
    listed = client.get(f"/venues/{vid}/keys", headers=login("station_admin_li")).json()["keys"]
    assert "key" not in listed[0]
    assert client.get(f"/venues/{vid}", headers=login("collector_zhang")).status_code == 200


def test_collectors_and_community_police_cannot_register_venues_or_issue_keys(
    world: World, client: TestClient, login: Any
) -> None:
    address = plate(world)
    for persona in ("collector_zhang", "police_liu"):
        assert _register(client, login, address, persona).status_code == 403
    vid = venue(world)
    for persona in ("collector_zhang", "police_liu"):
        r = client.post(f"/venues/{vid}/keys", json={}, headers=login(persona))
        assert r.status_code == 403, r.text
    with world.session() as s:
        assert s.execute(select(VenueKey)).first() is None


def test_a_venue_posts_a_single_check_in_and_a_batch(world: World, client: TestClient, login: Any) -> None:
    pid, number = person(world)
    vid = venue(world)
    key = _key(client, login, vid)
    r = client.post(f"/venues/{vid}/stays", json=check_in("A1", number), headers=_vk(key))
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [
        {"stay_ref": "A1", "status": "accepted", "code": None, "person_id": pid, "flags": []}
    ]
    r = client.post(
        f"/venues/{vid}/stays",
        json={"items": [check_out("A1"), check_out("NONE"), check_in("A1", number)]},
        headers=_vk(key),
    )
    assert [(i["status"], i["code"]) for i in r.json()["items"]] == [
        ("accepted", None),
        ("rejected", "stay.checkout_without_checkin"),
        ("duplicate", None),
    ]
    assert (r.json()["accepted"], r.json()["rejected"], r.json()["duplicates"]) == (1, 1, 1)


def test_a_batch_of_1000_is_accepted(world: World, client: TestClient, login: Any) -> None:
    vid = venue(world)
    key = _key(client, login, vid)
    items = [check_in(f"B{i:04d}", factories.make_id(seq=i % 999 + 1), at=NOW - 2 * H) for i in range(1000)]
    r = client.post(f"/venues/{vid}/stays", json={"items": items}, headers=_vk(key))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1000
    assert counts(world)[0] == 1000
    with world.session() as s:
        entries = s.execute(select(AuditEntry.action).where(AuditEntry.action == "stay.check_in")).all()
        assert len(entries) == 1000
        assert audit.verify(s).ok


def test_a_batch_over_1000_is_refused_whole(world: World, client: TestClient, login: Any) -> None:
    vid = venue(world)
    key = _key(client, login, vid)
    before = counts(world)
    items = [check_in(f"B{i:04d}", factories.make_id(seq=i % 999 + 1)) for i in range(1001)]
    r = client.post(f"/venues/{vid}/stays", json={"items": items}, headers=_vk(key))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "request.invalid"
    assert counts(world) == before


def test_a_repeated_idempotency_key_answers_the_stored_summary_and_writes_nothing(
    world: World, client: TestClient, login: Any
) -> None:
    vid = venue(world)
    key = _key(client, login, vid)
    body = {"items": [check_in("A1", factories.make_id(seq=5)), check_in("A2", factories.make_id(seq=7))]}
    first = client.post(f"/venues/{vid}/stays", json=body, headers=_vk(key, **{"Idempotency-Key": "batch-1"}))
    assert first.status_code == 200 and first.json()["duplicate"] is False
    after_first = counts(world)
    assert after_first[:2] == (2, 1)
    again = client.post(f"/venues/{vid}/stays", json=body, headers=_vk(key, **{"Idempotency-Key": "batch-1"}))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["items"] == first.json()["items"]
    assert counts(world) == after_first


def test_wrong_or_foreign_keys_are_refused_and_write_nothing(
    world: World, client: TestClient, login: Any
) -> None:
    vid, other = venue(world), venue(world, name="南浦宾馆")
    key, other_key = _key(client, login, vid), _key(client, login, other)
    body = {"items": [check_in("A1", factories.make_id(seq=9))]}
    before = counts(world)
    assert client.post(f"/venues/{vid}/stays", json=body, headers=_vk("vk_wrong")).status_code == 401
    assert client.post(f"/venues/{vid}/stays", json=body).status_code == 401
    assert (
        client.post(f"/venues/{vid}/stays", json=body, headers=login("station_admin_li")).status_code == 401
    )
    r = client.post(f"/venues/{vid}/stays", json=body, headers=_vk(other_key))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "venue.key_other_venue")
    r = client.post("/venues/999999/stays", json=body, headers=_vk(key))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "venue.not_found")
    assert counts(world)[:2] == before[:2]
    key_id = client.get(f"/venues/{vid}/keys", headers=login("station_admin_li")).json()["keys"][0]["key_id"]
    assert client.delete(f"/venues/{vid}/keys/{key_id}", headers=login("station_admin_li")).status_code == 200
    assert client.post(f"/venues/{vid}/stays", json=body, headers=_vk(key)).status_code == 401
    assert counts(world)[0] == 0


def test_a_closed_venue_is_refused_with_409(world: World, client: TestClient, login: Any) -> None:
    vid = venue(world)
    key = _key(client, login, vid)
    r = client.patch(
        f"/venues/{vid}", json={"expected_version": 1, "status": "closed"}, headers=login("station_admin_li")
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/venues/{vid}/stays", json=check_in("A1", factories.make_id(seq=3)), headers=_vk(key))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "venue.closed")
    assert stays(world) == {}


def test_followups_and_a_persons_stays_over_http(world: World, client: TestClient, login: Any) -> None:
    pid, number = person(world, "访客乙")
    vid = venue(world)
    key = _key(client, login, vid)
    items = [check_in("V1", number, at=NOW - 10 * D, name="访客乙"), check_out("V1", NOW - 1 * D)]
    assert client.post(f"/venues/{vid}/stays", json={"items": items}, headers=_vk(key)).status_code == 200
    r = client.get(f"/areas/{world.area('420704001')}/venue-followups", headers=login("police_liu"))
    assert r.status_code == 404  # the station lies above the officer's community: not theirs to list
    r = client.get(f"/areas/{world.area('420704001001')}/venue-followups?days=7", headers=login("police_liu"))
    assert r.status_code == 200, r.text
    [guest] = r.json()["guests"]
    assert (guest["person_id"], guest["name"], guest["nights"], guest["venue_name"]) == (
        pid,
        "访客乙",
        9,
        "滨湖宾馆",
    )
    r = client.get(f"/persons/{pid}/stays", headers=login("police_liu"))
    assert r.status_code == 200, r.text
    [stay] = r.json()["stays"]
    assert (stay["venue_id"], stay["venue_kind"]) == (vid, "hotel")
    assert "*" in stay["document"]["number"]
    r = client.get(f"/persons/{pid}/access-log", headers=login("station_admin_li"))
    actions = {e["action"] for e in r.json()["entries"]}
    assert {"stay.check_in", "venue.followup_read", "person.stays_read"} <= actions


def test_a_venues_guest_register_is_masked_and_filters_the_late_foreign_reports(
    client: TestClient, login: Any, world: World
) -> None:
    vid = venue(world)
    _pid, number = person(world, id_number=factories.make_id(seq=654))
    post(
        world,
        vid,
        [
            check_in("LOCAL", number, at=NOW - 2 * H),
            check_in(
                "LATE", "X7654321", at=NOW - 30 * H, name="Jane Doe", doc_type="passport", country="USA"
            ),
        ],
    )
    r = client.get(f"/venues/{vid}/stays", headers=login("police_liu"))
    assert r.status_code == 200 and len(r.json()["stays"]) == 2
    assert number not in r.text
    late = client.get(f"/venues/{vid}/stays", params={"late": "true"}, headers=login("police_liu")).json()
    assert [s["guest_name"] for s in late["stays"]] == ["Jane Doe"]
    assert client.get(f"/venues/{vid}/stays", headers=login("housing_officer_he")).status_code == 403
