"""Issue 14: the offline app's move, birth, document and member items. Each becomes on sync the pending change set
its online proposal route stores (the same use case, the collector the source); a replayed UUID is stored once; a
bad item is refused with its reason (code, field) and nothing written while the rest of the batch syncs; an item
for a dwelling outside the assignment, or about someone not living at its dwelling, is refused."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.campaign.models import SyncItem
from liangshi.persons.models import DocumentVersion, HouseholdVersion, MembershipVersion, PersonVersion
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import ResidenceVersion
from tests import factories
from tests.conftest import INSIDE, World

LIVE = (PersonVersion, DocumentVersion, HouseholdVersion, MembershipVersion, ResidenceVersion)


@dataclass
class Home:
    """赵磊 living at `dwelling` since May (residence `residence`), 李娜's household there, an empty dwelling
    `empty` in the same community, one `outside` in collector_zhou's community."""

    person: int
    dwelling: int
    residence: int
    household: int
    empty: int
    outside: int


@pytest.fixture
def home(world: World) -> Home:
    with world.session() as s:
        ctx = world.ctx(s)
        district = world.area("420704")
        here = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=district)
        empty = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=district)
        outside = factories.place(s, ctx, area_id=world.area("420704001002"), district_id=district)
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵磊")
        rid = factories.arrival(
            s, ctx, person_id=pid, dwelling_id=here.dwelling_id, arrived=dt.date(2026, 5, 1)
        )
        mother = factories.person(s, ctx, area_id=world.area(INSIDE), name="李娜", male=False)
        hid = factories.household(
            s, ctx, area_id=world.area(INSIDE), dwelling_id=here.dwelling_id, members=[(mother, "02")]
        )
    return Home(pid, here.dwelling_id, rid, hid, empty.dwelling_id, outside.dwelling_id)


def _item(kind: str, dwelling_id: int, **body: Any) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "kind": kind, "dwelling_id": dwelling_id, **body}


def _move(h: Home, **change: Any) -> dict[str, Any]:
    move = {"expected_version": 1, "move_date": "2026-11-20", "dwelling_id": h.empty, **change}
    return _item("move", h.dwelling, residence_id=h.residence, move=move)


def _birth(h: Home, at: int | None = None, **change: Any) -> dict[str, Any]:
    birth = {
        "name": "李小雨",
        "sex": "2",
        "birth_date": "2026-11-20",
        "household_id": h.household,
        "household_expected_version": 1,
        "relationship": "30",
        **change,
    }
    return _item("birth", at or h.dwelling, birth=birth)


def _document(h: Home, dwelling_id: int | None = None, **change: Any) -> dict[str, Any]:
    doc = {"expected_version": 1, "doc_type": "passport", "number": "E12345678", "country": "CHN", **change}
    return _item("document", dwelling_id or h.dwelling, person_id=h.person, document=doc)


def _member(h: Home, dwelling_id: int | None = None, **change: Any) -> dict[str, Any]:
    member = {"expected_version": 1, "person_id": h.person, "relationship": "20", "effective": "2026-11-01"}
    return _item("member", dwelling_id or h.dwelling, household_id=h.household, member={**member, **change})


def _live(world: World) -> tuple[int, ...]:
    with world.session() as s:
        return tuple(int(s.execute(select(func.count()).select_from(t)).scalar_one()) for t in LIVE)


def _count(world: World, model: Any) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _sync(client: TestClient, login: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = client.post("/sync", json={"items": items}, headers=login("collector_zhang"))
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["items"]
    return results


def test_each_kind_becomes_a_pending_change_set_stored_once(
    world: World, client: TestClient, login: Any, home: Home
) -> None:
    items = [_move(home), _birth(home), _document(home), _member(home)]
    live = _live(world)
    first = _sync(client, login, items)
    assert [r["status"] for r in first] == ["stored"] * 4, first
    assert [r["kind"] for r in first] == ["move", "birth", "document", "member"]
    assert _live(world) == live  # nothing counts before the station approves
    station = login("station_admin_li")
    sets = [client.get(f"/change-sets/{r['change_set_id']}", headers=station).json() for r in first]
    assert [(c["action"], c["status"], c["proposer"]) for c in sets] == [
        ("move", "pending_station", "collector_zhang"),
        ("birth", "pending_station", "collector_zhang"),
        ("document", "pending_station", "collector_zhang"),
        ("member", "pending_station", "collector_zhang"),
    ]
    # The items the online routes store: a move closes and opens, a document raises the person's version.
    assert [(i["op"], i["kind"]) for i in sets[0]["items"]] == [
        ("retire", "residence"),
        ("create", "residence"),
    ]
    assert [(i["op"], i["kind"]) for i in sets[2]["items"]] == [("create", "document"), ("bump", "person")]
    assert (first[0]["residence_id"], first[2]["person_id"]) == (home.residence, home.person)
    # Replayed (the phone lost the answer): the same change sets, nothing stored twice.
    again = _sync(client, login, items)
    assert [r["status"] for r in again] == ["replayed"] * 4, again
    assert [r["change_set_id"] for r in again] == [r["change_set_id"] for r in first]
    assert (_count(world, ChangeSet), _count(world, SyncItem)) == (4, 4)
    # The same UUID with other content is refused.
    changed = {**items[2], "document": {**items[2]["document"], "number": "E87654321"}}
    [reused] = _sync(client, login, [changed])
    assert (reused["status"], reused["code"], reused["data"]) == (
        "refused",
        "sync.uuid_reused",
        {"field": "uuid"},
    )
    # The station approves the move: the collector stays the source.
    r = client.post(f"/change-sets/{first[0]['change_set_id']}/approve", headers=station)
    assert (r.status_code, r.json()["status"]) == (200, "approved"), r.text
    where = client.get(f"/persons/{home.person}/residences", headers=station).json()
    [current] = where["current"]
    assert current["dwelling_id"] == home.empty
    with world.session() as s:
        opened = s.execute(
            select(ResidenceVersion).where(
                ResidenceVersion.entity_id == current["residence_id"],
                ResidenceVersion.superseded_at.is_(None),
            )
        ).scalar_one()
        assert (opened.source_ref, opened.actor_id) == ("collector_zhang", world.users["station_admin_li"])


def test_a_bad_item_is_refused_with_its_reason_and_the_rest_syncs(
    world: World, client: TestClient, login: Any, home: Home
) -> None:
    with world.session() as s:
        taken = s.execute(select(DocumentVersion.number).limit(1)).scalar_one()
    items = [
        _move(home, move_date="2026-04-01"),  # before the arrival
        _birth(home, relationship="02"),  # a newborn is not the head's spouse
        _document(home, doc_type="resident_id", number=taken, country=None),  # someone else's
        _member(home, person_id="x"),  # malformed
        _document(home),
    ]
    live, sets = _live(world), _count(world, ChangeSet)
    results = _sync(client, login, items)
    assert [r["status"] for r in results] == ["refused"] * 4 + ["stored"], results
    assert [r["code"] for r in results[:4]] == [
        "residence.departure_before_arrival",
        "birth.relationship_invalid",
        "person.document_taken",
        "sync.item_invalid",
    ]
    assert all(r["message_zh"] and r["message_en"] for r in results[:4])
    assert [e["field"] for e in results[3]["data"]["errors"]] == ["member.member.person_id"]
    assert all(r["change_set_id"] is None for r in results[:4])
    assert _live(world) == live
    assert (_count(world, ChangeSet), _count(world, SyncItem)) == (sets + 1, 1)
    # A refused item is not stored: sent again (fixed on the phone, same UUID) it is stored.
    fixed = {**items[0], "move": {**items[0]["move"], "move_date": "2026-11-20"}}
    [r] = _sync(client, login, [fixed])
    assert r["status"] == "stored", r


def test_an_item_outside_the_assignment_or_not_living_at_its_dwelling_is_refused(
    world: World, client: TestClient, login: Any, home: Home
) -> None:
    items = [
        {**_move(home), "dwelling_id": home.outside},
        _document(home, dwelling_id=home.empty),
        _member(home, dwelling_id=home.empty),
        _birth(home, at=home.empty),
        _birth(home, dwelling_id=home.empty),  # the household's home, but the newborn's home elsewhere
        {**_move(home), "dwelling_id": home.empty},
    ]
    before = (_live(world), _count(world, ChangeSet), _count(world, SyncItem))
    results = _sync(client, login, items)
    assert [r["status"] for r in results] == ["refused"] * 6, results
    assert results[0]["code"] == "sync.not_assigned"
    assert results[0]["data"] == {"dwelling_id": home.outside, "reason": "sync.not_assigned"}
    assert [(r["code"], r["data"]["field"]) for r in results[1:]] == [
        ("sync.subject_elsewhere", "person_id"),
        ("sync.subject_elsewhere", "household_id"),
        ("sync.subject_elsewhere", "birth.household_id"),
        ("sync.subject_elsewhere", "birth.dwelling_id"),
        ("sync.subject_elsewhere", "residence_id"),
    ]
    assert (_live(world), _count(world, ChangeSet), _count(world, SyncItem)) == before


def test_a_returned_item_comes_back_to_the_outbox_with_the_reason(
    world: World, client: TestClient, login: Any, home: Home
) -> None:
    [stored] = _sync(client, login, [_document(home)])
    station = login("station_admin_li")
    why = "护照号码与照片页不符，请核实"
    r = client.post(f"/change-sets/{stored['change_set_id']}/return", json={"reason": why}, headers=station)
    assert r.status_code == 200, r.text
    outbox = client.get("/change-sets/outbox", headers=login("collector_zhang")).json()
    [mine] = [c for c in outbox if c["id"] == stored["change_set_id"]]
    assert (mine["status"], mine["return_reason"], mine["target"]["person_id"]) == (
        "returned",
        why,
        home.person,
    )
