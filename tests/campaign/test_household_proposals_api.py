"""Issue 14: a collector's end of a household membership and a collector's new household are change sets.

For each: the direct route refuses the collector with 403 `changeset.required` and nothing written, bad input is
refused with nothing stored, the proposal changes nothing live, the collector cannot approve their own, the station
approves (the collector stays the source, the approver is recorded), a return needs a reason and goes back to the
collector's outbox, and a set that no longer applies is shown stale and never half-applied.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.persons.models import Household, HouseholdVersion, Membership, MembershipVersion
from liangshi.registry.changesets import ChangeSet
from tests.campaign.test_proposals_api import _approve, _everything, _household, _live, _place, _resident
from tests.conftest import INSIDE, OUTSIDE, World


def _membership(world: World, household_id: int, person_id: int) -> int:
    with world.session() as s:
        return int(
            s.execute(
                select(Membership.id).where(
                    Membership.household_id == household_id, Membership.person_id == person_id
                )
            ).scalar_one()
        )


def _open_membership(world: World, membership_id: int) -> Any:
    with world.session() as s:
        return s.execute(
            select(
                MembershipVersion.valid_to, MembershipVersion.source_ref, MembershipVersion.actor_id
            ).where(MembershipVersion.entity_id == membership_id, MembershipVersion.superseded_at.is_(None))
        ).one()


def _household_version(world: World, household_id: int) -> int:
    with world.session() as s:
        return int(s.execute(select(Household.version).where(Household.id == household_id)).scalar_one())


def test_a_collectors_end_of_a_membership_is_a_change_set(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    _, dwelling_id, _ = _resident(world)
    hid, head = _household(world, dwelling_id)
    mid = _membership(world, hid, head)
    other, _ = _household(world, dwelling_id)
    body = {"expected_version": 1, "reason": "迁出本市"}  # from today: the household began today
    route = f"/households/{hid}/members/{mid}/end-proposals"
    before = _everything(world)
    # Bad input: no reason, a date before the membership began, another household's membership.
    r = client.post(route, json={"expected_version": 1, "reason": ""}, headers=h)
    assert r.status_code == 422
    r = client.post(route, json={**body, "effective": "2001-01-01"}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "version.retire_before_current")
    r = client.post(f"/households/{other}/members/{mid}/end-proposals", json=body, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "membership.not_found")
    assert _everything(world) == before
    # The direct route refuses the collector, nothing written.
    r = client.post(f"/households/{hid}/members/{mid}/end", json=body, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.required"), r.text
    assert _everything(world) == before
    live = _live(world)
    r = client.post(route, json=body, headers=h)
    assert r.status_code == 201, r.text
    cs = r.json()
    assert (cs["status"], cs["proposer"], cs["action"]) == (
        "pending_station",
        "collector_zhang",
        "member_end",
    )
    assert cs["target"] == {"household_id": hid, "person_id": head}
    assert _live(world) == live  # nothing counts yet
    assert _open_membership(world, mid).valid_to is None
    # The desk shows it field by field: the membership's end and the household's version.
    station = login("station_admin_li")
    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    fields = {(i["kind"], i["op"]): {f["name"]: f["proposed"] for f in i["fields"]} for i in shown["items"]}
    assert fields == {
        ("membership", "retire"): {"valid_to": world.clock.today().isoformat()},
        ("household", "bump"): {"version": 2},
    }
    assert shown["stale"] == []
    _approve(client, login, h, cs, world)
    ended = _open_membership(world, mid)
    assert (ended.valid_to, ended.source_ref, ended.actor_id) == (
        world.clock.today(),
        "collector_zhang",
        world.users["station_admin_li"],
    )
    assert _household_version(world, hid) == 2
    members = client.get(f"/households/{hid}", headers=station).json()["extra"]["members"]
    assert head not in {m["person_id"] for m in members}
    with world.session() as s:
        audited = s.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "membership.retire", AuditEntry.object_id == mid)
        ).scalar_one()
    assert audited == 1
    # Approving it again: a clear refusal, nothing written.
    live = _live(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "changeset.already_approved")
    assert _live(world) == live


def test_an_end_of_a_membership_ended_meanwhile_is_stale_and_nothing_is_written(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    _, dwelling_id, _ = _resident(world)
    hid, head = _household(world, dwelling_id)
    mid = _membership(world, hid, head)
    body = {"expected_version": 1, "reason": "迁出本市"}  # from today: the household began today
    cs = client.post(f"/households/{hid}/members/{mid}/end-proposals", json=body, headers=h).json()
    police = login("police_liu")
    r = client.post(
        f"/households/{hid}/members/{mid}/end",
        json={"expected_version": 1, "reason": "死亡"},
        headers=police,
    )
    assert r.status_code == 200, r.text
    station = login("station_admin_li")
    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    assert {(s["kind"], s["reason"]) for s in shown["stale"]} == {
        ("membership", "retired"),
        ("household", "version_moved"),
    }
    live = _live(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "changeset.stale")
    assert _live(world) == live
    assert _open_membership(world, mid).source_ref != "collector_zhang"  # the police's end stands
    assert client.get(f"/change-sets/{cs['id']}", headers=station).json()["status"] == "pending_station"


def test_an_end_of_a_membership_is_returned_with_a_reason_and_resubmitted(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    _, dwelling_id, _ = _resident(world)
    hid, head = _household(world, dwelling_id)
    mid = _membership(world, hid, head)
    route = f"/households/{hid}/members/{mid}/end-proposals"
    body = {"expected_version": 1, "reason": "迁出"}
    cs = client.post(route, json=body, headers=h).json()
    station = login("station_admin_li")
    r = client.post(f"/change-sets/{cs['id']}/return", json={"reason": ""}, headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "changeset.reason_required")
    r = client.post(f"/change-sets/{cs['id']}/return", json={"reason": "请写明迁往何处"}, headers=station)
    assert r.status_code == 200, r.text
    outbox = client.get("/change-sets/outbox", headers=h).json()
    assert [(o["id"], o["status"], o["return_reason"]) for o in outbox] == [
        (cs["id"], "returned", "请写明迁往何处")
    ]
    fixed = {**body, "reason": "迁往武汉市洪山区"}
    r = client.post(f"{route}?change_set_id={cs['id']}", json=fixed, headers=h)
    assert r.status_code == 201, r.text
    assert (r.json()["id"], r.json()["status"], r.json()["round"]) == (cs["id"], "pending_station", 2)
    _approve(client, login, h, r.json(), world)
    with world.session() as s:
        reason = s.execute(
            select(MembershipVersion.reason).where(
                MembershipVersion.entity_id == mid, MembershipVersion.superseded_at.is_(None)
            )
        ).scalar_one()
    assert reason == "迁往武汉市洪山区"


def _household_rows(world: World) -> tuple[int, int, int]:
    with world.session() as s:
        return tuple(  # type: ignore[return-value]
            int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (Household, HouseholdVersion, Membership)
        )


def test_a_collectors_new_household_is_a_change_set(world: World, client: TestClient, login: Any) -> None:
    h = login("collector_zhang")
    pid, dwelling_id, _ = _resident(world)
    _, mother = _household(world, dwelling_id)
    body = {
        "household_kind": "actual",
        "area_id": world.area(INSIDE),
        "dwelling_id": dwelling_id,
        "household_number": "H-0007",
        "members": [{"person_id": pid, "relationship": "02"}, {"person_id": mother, "relationship": "10"}],
        "valid_from": "2026-11-01",
    }
    before = _everything(world)
    two_heads = {
        **body,
        "members": [{"person_id": pid, "relationship": "02"}, {"person_id": mother, "relationship": "02"}],
    }
    r = client.post("/household-proposals", json=two_heads, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "household.head_exists")
    twice = {
        **body,
        "members": [{"person_id": pid, "relationship": "02"}, {"person_id": pid, "relationship": "10"}],
    }
    r = client.post("/household-proposals", json=twice, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "household.already_member")
    r = client.post("/household-proposals", json={**body, "area_id": world.area(OUTSIDE)}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "area.not_found")
    r = client.post("/household-proposals", json={**body, "household_kind": "tent"}, headers=h)
    assert r.status_code == 422
    assert _everything(world) == before
    r = client.post("/households", json=body, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.required"), r.text
    assert _everything(world) == before
    rows = _household_rows(world)
    r = client.post("/household-proposals", json=body, headers=h)
    assert r.status_code == 201, r.text
    cs = r.json()
    assert (cs["status"], cs["action"], cs["summary"]) == ("pending_station", "household", "赵磊")
    assert cs["target"] == {"dwelling_id": dwelling_id}
    assert _household_rows(world) == rows  # nothing counts yet
    _approve(client, login, h, cs, world)
    assert _household_rows(world) == (rows[0] + 1, rows[1] + 1, rows[2] + 2)
    station = login("station_admin_li")
    new_id = client.get(f"/change-sets/{cs['id']}", headers=station).json()["result"]["household"][0]
    household = client.get(f"/households/{new_id}", headers=station).json()
    assert {m["person_id"]: m["relationship"] for m in household["extra"]["members"]} == {
        pid: "02",
        mother: "10",
    }
    with world.session() as s:
        row = s.execute(
            select(HouseholdVersion).where(
                HouseholdVersion.entity_id == new_id, HouseholdVersion.superseded_at.is_(None)
            )
        ).scalar_one()
        assert (row.household_number, row.dwelling_id, row.valid_from.isoformat()) == (
            "H-0007",
            dwelling_id,
            "2026-11-01",
        )
        assert (row.source_ref, row.actor_id) == ("collector_zhang", world.users["station_admin_li"])


def test_a_household_at_a_dwelling_demolished_since_is_stale_and_nothing_is_written(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    pid, _, _ = _resident(world)
    place = _place(world)
    body = {
        "area_id": world.area(INSIDE),
        "dwelling_id": place.dwelling_id,
        "members": [{"person_id": pid, "relationship": "02"}],
    }
    cs = client.post("/household-proposals", json=body, headers=h).json()
    police = login("police_liu")
    r = client.patch(
        f"/dwellings/{place.dwelling_id}",
        json={"expected_version": 1, "status": "demolished"},
        headers=police,
    )
    assert r.status_code == 200, r.text
    # A new proposal at the demolished dwelling is refused at once.
    r = client.post("/household-proposals", json=body, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "household.dwelling_unavailable")
    station = login("station_admin_li")
    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    assert [(s["kind"], s["reason"]) for s in shown["stale"]] == [("dwelling", "status")]
    rows = _household_rows(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "changeset.stale")
    assert _household_rows(world) == rows  # neither the household nor its membership: never half-applied


def test_a_reviewer_cannot_approve_their_own_household_proposal(
    world: World, client: TestClient, login: Any
) -> None:
    pid, dwelling_id, _ = _resident(world)
    station = login("station_admin_li")
    body = {
        "area_id": world.area(INSIDE),
        "dwelling_id": dwelling_id,
        "members": [{"person_id": pid, "relationship": "02"}],
    }
    cs = client.post("/household-proposals", json=body, headers=station).json()
    assert cs["proposer"] == "station_admin_li"
    rows = _household_rows(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.own_collection")
    assert _household_rows(world) == rows
    with world.session() as s:
        status = s.execute(select(ChangeSet.status).where(ChangeSet.id == cs["id"])).scalar_one()
    assert status == "pending_station"
