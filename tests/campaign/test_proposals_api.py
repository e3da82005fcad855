"""Issue 14: a collector's move, birth, document and household member are change sets until the station approves.

For each: the direct route refuses the collector with nothing written, bad input is 422 with nothing stored, the
proposal changes nothing live, the collector cannot approve their own, the station approves (the collector stays
the source, the approver is recorded) and a set that no longer applies is shown stale and never half-applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi import sealed
from liangshi.audit.models import AuditEntry
from liangshi.persons.models import (
    Document,
    DocumentVersion,
    Household,
    HouseholdVersion,
    Membership,
    MembershipVersion,
    Person,
    PersonVersion,
)
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import Residence, ResidenceVersion
from tests import factories
from tests.conftest import INSIDE, World

LIVE = (
    Person,
    PersonVersion,
    Document,
    DocumentVersion,
    Household,
    HouseholdVersion,
    Membership,
    MembershipVersion,
    Residence,
    ResidenceVersion,
)


def _live(world: World) -> tuple[Any, ...]:
    """Every live row the four actions could write, and each entity's lock counter."""
    with world.session() as s:
        rows = tuple(s.execute(select(func.count()).select_from(t)).scalar_one() for t in LIVE)
        counters = tuple(
            tuple(s.execute(select(t.id, t.version).order_by(t.id)).all())
            for t in (Person, Household, Residence)
        )
        return rows, counters


def _sets(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(ChangeSet)).scalar_one())


def _everything(world: World) -> tuple[Any, ...]:
    with world.session() as s:
        audit = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return _live(world), _sets(world), audit


def _place(world: World) -> factories.Place:
    with world.session() as s:
        return factories.place(s, world.ctx(s), area_id=world.area(INSIDE), district_id=world.area("420704"))


def _resident(world: World) -> tuple[int, int, int]:
    """A floating person living at a new dwelling since May (registered by the system): person, dwelling, residence."""
    p = _place(world)
    with world.session() as s:
        ctx = world.ctx(s)
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵磊")
        rid = factories.arrival(s, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 5, 1))
    return pid, p.dwelling_id, rid


def _household(world: World, dwelling_id: int) -> tuple[int, int]:
    with world.session() as s:
        ctx = world.ctx(s)
        mother = factories.person(s, ctx, area_id=world.area(INSIDE), name="李娜", male=False)
        hid = factories.household(
            s, ctx, area_id=world.area(INSIDE), dwelling_id=dwelling_id, members=[(mother, "02")]
        )
    return hid, mother


def _propose(
    client: TestClient, h: dict[str, str], direct: str, route: str, body: dict[str, Any], world: World
) -> dict[str, Any]:
    """The direct route refuses the collector (403 `changeset.required`, nothing written); the proposal is
    stored pending, changing nothing live."""
    before = _everything(world)
    r = client.post(direct, json=body, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.required"), r.text
    assert _everything(world) == before
    live = _live(world)
    r = client.post(route, json=body, headers=h)
    assert r.status_code == 201, r.text
    cs: dict[str, Any] = r.json()
    assert (cs["status"], cs["proposer"]) == ("pending_station", "collector_zhang")
    assert _live(world) == live  # nothing counts yet
    return cs


def _approve(
    client: TestClient, login: Any, h: dict[str, str], cs: dict[str, Any], world: World
) -> dict[str, Any]:
    """The collector cannot approve their own (nothing written); the station can."""
    live = _live(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=h)
    assert r.status_code == 403
    assert _live(world) == live
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=login("station_admin_li"))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    assert (out["status"], out["station_reviewer"], out["proposer"]) == (
        "approved",
        "station_admin_li",
        "collector_zhang",
    )
    return out


def _source_and_actor(world: World, version: Any, entity_id: int) -> tuple[str, str]:
    with world.session() as s:
        row = s.execute(
            select(version).where(
                version.entity_id == entity_id, version.superseded_at.is_(None), version.valid_to.is_(None)
            )
        ).scalar_one()
        actor = s.execute(
            select(func.count())
            .select_from(version)
            .where(version.actor_id == world.users["station_admin_li"])
        ).scalar_one()
        return str(row.source_ref), "station_admin_li" if actor else "someone else"


def test_a_collectors_move_is_a_change_set_applied_whole_on_approval(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    pid, _, rid = _resident(world)
    new = _place(world)
    body = {"expected_version": 1, "move_date": "2026-11-20", "dwelling_id": new.dwelling_id}
    before = _everything(world)
    bad = {**body, "move_date": "2026-04-01"}
    r = client.post(f"/residences/{rid}/move-proposals", json=bad, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "residence.departure_before_arrival")
    r = client.post(f"/residences/{rid}/move-proposals", json={**body, "dwelling_id": "x"}, headers=h)
    assert r.status_code == 422
    assert _everything(world) == before
    cs = _propose(client, h, f"/residences/{rid}/move", f"/residences/{rid}/move-proposals", body, world)
    assert cs["action"] == "move"
    shown = client.get(f"/change-sets/{cs['id']}", headers=login("station_admin_li")).json()
    assert [(i["op"], i["kind"]) for i in shown["items"]] == [
        ("retire", "residence"),
        ("create", "residence"),
    ]
    fields = {f["name"]: f["proposed"] for f in shown["items"][1]["fields"]}
    assert (fields["dwelling_id"], fields["arrival_date"]) == (new.dwelling_id, "2026-11-20")
    out = _approve(client, login, h, cs, world)
    opened = out["result"]["residence"]
    assert rid in opened and len(opened) == 2
    where = client.get(f"/persons/{pid}/residences", headers=h).json()
    [current] = where["current"]
    assert current["residence_id"] != rid
    assert _source_and_actor(world, ResidenceVersion, current["residence_id"]) == (
        "collector_zhang",
        "station_admin_li",
    )


def test_a_move_to_a_dwelling_demolished_since_is_stale_and_nothing_is_written(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    _, _, rid = _resident(world)
    new = _place(world)
    body = {"expected_version": 1, "move_date": "2026-11-20", "dwelling_id": new.dwelling_id}
    cs = client.post(f"/residences/{rid}/move-proposals", json=body, headers=h).json()
    police = login("police_liu")
    r = client.patch(
        f"/dwellings/{new.dwelling_id}", json={"expected_version": 1, "status": "demolished"}, headers=police
    )
    assert r.status_code == 200, r.text
    station = login("station_admin_li")
    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    assert [s["reason"] for s in shown["stale"]] == ["status"]
    live = _live(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "changeset.stale")
    assert _live(world) == live  # the old residence is not closed either: never half-applied
    assert client.get(f"/change-sets/{cs['id']}", headers=station).json()["status"] == "pending_station"


def _birth_body(hid: int) -> dict[str, Any]:
    return {
        "name": "李小雨",
        "sex": "2",
        "birth_date": "2026-11-20",
        "household_id": hid,
        "household_expected_version": 1,
        "relationship": "30",
    }


def test_a_collectors_birth_is_a_change_set_until_the_station_approves(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    p = _place(world)
    hid, _ = _household(world, p.dwelling_id)
    body = _birth_body(hid)
    before = _everything(world)
    for bad, code in (
        ({"birth_date": "2026-11-28"}, "person.birth_in_future"),
        ({"relationship": "02"}, "birth.relationship_invalid"),
    ):
        r = client.post("/birth-proposals", json={**body, **bad}, headers=h)
        assert (r.status_code, r.json()["error"]["code"]) == (422, code), r.text
    r = client.post("/birth-proposals", json={**body, "resident_id": "42070420261120002X"}, headers=h)
    assert r.status_code == 422
    assert _everything(world) == before
    cs = _propose(client, h, "/births", "/birth-proposals", body, world)
    assert (cs["action"], cs["summary"]) == ("birth", "李小雨")
    out = _approve(client, login, h, cs, world)
    [newborn] = out["result"]["person"]
    station = login("station_admin_li")
    members = client.get(f"/households/{hid}", headers=station).json()
    assert members["version"] == 2
    assert {m["person_id"]: m["relationship"] for m in members["extra"]["members"]}[newborn] == "30"
    where = client.get(f"/persons/{newborn}/residences", headers=station).json()
    assert [c["dwelling_id"] for c in where["current"]] == [p.dwelling_id]
    assert _source_and_actor(world, PersonVersion, newborn) == ("collector_zhang", "station_admin_li")


def test_a_birth_into_a_household_changed_since_is_stale(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    p = _place(world)
    hid, _ = _household(world, p.dwelling_id)
    cs = client.post("/birth-proposals", json=_birth_body(hid), headers=h).json()
    police = login("police_liu")
    r = client.post(
        "/births",
        json={**_birth_body(hid), "name": "李小雷", "sex": "1", "relationship": "20"},
        headers=police,
    )
    assert r.status_code == 201, r.text
    station = login("station_admin_li")
    live = _live(world)
    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    assert [(s["kind"], s["reason"]) for s in shown["stale"]] == [("household", "version_moved")]
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "changeset.stale")
    assert _live(world) == live


def test_a_collectors_document_is_a_two_item_change_set(world: World, client: TestClient, login: Any) -> None:
    h = login("collector_zhang")
    pid, _, _ = _resident(world)
    body = {"expected_version": 1, "doc_type": "passport", "number": "E12345678", "country": "CHN"}
    before = _everything(world)
    r = client.post(f"/persons/{pid}/document-proposals", json={**body, "number": "??"}, headers=h)
    assert r.status_code == 422
    with world.session() as s:
        taken = s.execute(select(DocumentVersion.number).limit(1)).scalar_one()
    r = client.post(
        f"/persons/{pid}/document-proposals",
        json={"expected_version": 1, "doc_type": "resident_id", "number": taken},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "person.document_taken")
    assert _everything(world) == before
    cs = _propose(client, h, f"/persons/{pid}/documents", f"/persons/{pid}/document-proposals", body, world)
    station = login("station_admin_li")
    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    assert [(i["op"], i["kind"]) for i in shown["items"]] == [("create", "document"), ("bump", "person")]
    numbers = {f["name"]: f["proposed"] for f in shown["items"][0]["fields"]}
    assert numbers["number"] != "E12345678"  # masked on the desk
    _approve(client, login, h, cs, world)
    person = client.get(f"/persons/{pid}", headers=station).json()
    assert person["version"] == 2
    with world.session() as s:
        doc = s.execute(
            select(DocumentVersion).where(
                DocumentVersion.number_idx == sealed.key_for(s, DocumentVersion.number, "E12345678")
            )
        ).scalar_one()
        assert (doc.source_ref, doc.actor_id) == ("collector_zhang", world.users["station_admin_li"])
    # Approving twice is refused and writes nothing.
    live = _live(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "changeset.already_approved")
    assert _live(world) == live


def test_a_document_for_a_person_who_died_since_is_stale(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    pid, _, _ = _resident(world)
    body = {"expected_version": 1, "doc_type": "passport", "number": "E12345678", "country": "CHN"}
    cs = client.post(f"/persons/{pid}/document-proposals", json=body, headers=h).json()
    police = login("police_liu")
    r = client.post(
        f"/persons/{pid}/death", json={"expected_version": 1, "death_date": "2026-11-25"}, headers=police
    )
    assert r.status_code == 200, r.text
    station = login("station_admin_li")
    shown = client.get(f"/change-sets/{cs['id']}", headers=station).json()
    assert ("person", "retired") in {(s["kind"], s["reason"]) for s in shown["stale"]}
    live = _live(world)
    r = client.post(f"/change-sets/{cs['id']}/approve", headers=station)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "changeset.stale")
    assert _live(world) == live
    with world.session() as s:
        assert (
            s.execute(
                select(DocumentVersion).where(
                    DocumentVersion.number_idx == sealed.key_for(s, DocumentVersion.number, "E12345678")
                )
            ).first()
            is None
        )


def test_a_collectors_household_member_is_a_change_set(world: World, client: TestClient, login: Any) -> None:
    h = login("collector_zhang")
    pid, dwelling_id, _ = _resident(world)
    hid, head = _household(world, dwelling_id)
    body = {"expected_version": 1, "person_id": pid, "relationship": "20", "effective": "2026-11-01"}
    before = _everything(world)
    r = client.post(f"/households/{hid}/member-proposals", json={**body, "person_id": head}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "household.already_member")
    r = client.post(f"/households/{hid}/member-proposals", json={**body, "relationship": "02"}, headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "household.head_exists")
    r = client.post(f"/households/{hid}/member-proposals", json={**body, "relationship": "zz"}, headers=h)
    assert r.status_code == 422
    assert _everything(world) == before
    cs = _propose(client, h, f"/households/{hid}/members", f"/households/{hid}/member-proposals", body, world)
    assert (cs["action"], cs["target"]) == ("member", {"person_id": pid, "household_id": hid})
    _approve(client, login, h, cs, world)
    station = login("station_admin_li")
    household = client.get(f"/households/{hid}", headers=station).json()
    assert household["version"] == 2
    assert {m["person_id"] for m in household["extra"]["members"]} == {head, pid}
    with world.session() as s:
        row = s.execute(
            select(MembershipVersion)
            .join(Membership, Membership.id == MembershipVersion.entity_id)
            .where(Membership.person_id == pid)
        ).scalar_one()
        assert (row.source_ref, row.actor_id) == ("collector_zhang", world.users["station_admin_li"])


def test_two_members_proposed_against_the_same_household_version_apply_one(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("collector_zhang")
    pid, dwelling_id, _ = _resident(world)
    hid, _ = _household(world, dwelling_id)
    with world.session() as s:
        other = factories.person(s, world.ctx(s), area_id=world.area(INSIDE), name="王芳", male=False)
    ids = []
    for person in (pid, other):
        body = {"expected_version": 1, "person_id": person, "relationship": "20"}
        ids.append(client.post(f"/households/{hid}/member-proposals", json=body, headers=h).json()["id"])
    station = login("station_admin_li")
    r = client.post("/change-sets/approve", json={"ids": ids}, headers=station)
    assert r.status_code == 200, r.text
    outcomes = {o["id"]: (o["ok"], o["code"]) for o in r.json()}
    assert outcomes == {ids[0]: (True, None), ids[1]: (False, "version.stale")}
    household = client.get(f"/households/{hid}", headers=station).json()
    assert (household["version"], len(household["extra"]["members"])) == (2, 2)
