"""Offline sync API: a batch of outbox items, each stored once by its UUID, each refused or held back on its own."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi import sealed
from liangshi.audit.models import AuditEntry
from liangshi.buildings import service as buildings
from liangshi.buildings.models import BuildingVersion
from liangshi.buildings.schemas import DwellingCreate
from liangshi.campaign import sync
from liangshi.campaign.models import SyncItem, Visit
from liangshi.persons.models import Document, DocumentVersion, HouseholdVersion, Membership, PersonVersion
from liangshi.registry.changesets import ChangeSet
from liangshi.rentals import service as rentals
from liangshi.rentals.models import RentalTenant
from liangshi.rentals.schemas import RentalCreate
from liangshi.residence.models import Residence
from tests import factories
from tests.conftest import INSIDE, World


@dataclass
class Round:
    """Two dwellings in collector_zhang's community (one rented, with 张三 living there) and one in zhou's."""

    rented: Any
    plain: Any
    other: Any
    zhang: int


@pytest.fixture
def round_(world: World) -> Round:
    with world.session() as session:
        ctx = world.ctx(session)
        district = world.area("420704")
        rented = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=district)
        plain = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=district)
        other = factories.place(session, ctx, area_id=world.area("420704001002"), district_id=district)
        zhang = factories.person(session, ctx, area_id=world.area(INSIDE), name="张三")
        landlord = factories.person(session, ctx, area_id=world.area(INSIDE), name="王五")
        factories.arrival(
            session, ctx, person_id=zhang, dwelling_id=rented.dwelling_id, arrived=dt.date(2026, 3, 1)
        )
        rentals.file_rental(
            session,
            ctx,
            RentalCreate.model_validate(
                {
                    "dwelling_id": rented.dwelling_id,
                    "landlord_person_id": landlord,
                    "lease_start": "2026-03-01",
                }
            ),
        )
    return Round(rented, plain, other, zhang)


def _visit(dwelling_id: int, outcome: str = "vacant", **extra: Any) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "kind": "visit",
        "dwelling_id": dwelling_id,
        "visit": {"outcome": outcome, **extra},
    }


def _tenant(dwelling_id: int, number: str, **extra: Any) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "kind": "person",
        "dwelling_id": dwelling_id,
        "person": {
            "name": "赵敏",
            "id_number": number,
            "category": "floating",
            "arrival_date": "2026-11-20",
            "tenant": True,
            **extra,
        },
    }


def _count(world: World, model: Any) -> int:
    with world.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _status(world: World, change_set_id: int) -> str:
    with world.session() as session:
        cs = session.get(ChangeSet, change_set_id)
        assert cs is not None
        return cs.status


def _approve(client: TestClient, login: Any, change_set_id: int) -> dict[str, list[int]]:
    """The station approves (and the district after it where the policy names the set): what was written."""
    r = client.post(f"/change-sets/{change_set_id}/approve", headers=login("station_admin_li"))
    assert r.status_code == 200, r.text
    if r.json()["status"] == "pending_district":
        r = client.post(
            f"/change-sets/{change_set_id}/approve-district", headers=login("district_admin_chen")
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved", r.json()
    result: dict[str, list[int]] = r.json()["result"]
    return result


def test_a_batch_is_stored_once_and_sending_it_again_stores_nothing_new(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    number = factories.make_id("420704", dt.date(1993, 7, 21), 58)
    started = "2026-11-27T09:50:00+08:00"
    items = [
        _visit(
            round_.plain.dwelling_id,
            started_at=started,
            ended_at="2026-11-27T09:52:30+08:00",
            device="Mozilla/5.0 (Linux; Android 14)",
            latitude=30.39,
            longitude=114.89,
            position_accuracy=12.5,
        ),
        _visit(round_.rented.dwelling_id, "occupied", confirmed_person_ids=[round_.zhang]),
        _tenant(round_.rented.dwelling_id, number),
    ]
    first = client.post("/sync", json={"items": items}, headers=login("collector_zhang"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert [r["status"] for r in body["items"]] == ["stored", "stored", "stored"], body
    assert body["counts"] == {"stored": 3, "replayed": 0, "refused": 0, "conflict": 0}
    # Each item is stored as what the collector proposes: change sets awaiting the station's review (the vacant
    # status the first visit implies, the tenant found), not yet registry facts. The rented dwelling is
    # already occupied: that visit proposes nothing.
    proposed = [r["change_set_id"] for r in body["items"]]
    assert proposed[0] is not None and proposed[1] is None and proposed[2] is not None, body
    assert [_status(world, proposed[0]), _status(world, proposed[2])] == ["pending_station"] * 2
    again = client.post("/sync", json={"items": items}, headers=login("collector_zhang"))
    assert [r["status"] for r in again.json()["items"]] == ["replayed"] * 3
    assert [r["visit_id"] for r in again.json()["items"]] == [r["visit_id"] for r in body["items"]]
    assert [r["change_set_id"] for r in again.json()["items"]] == proposed
    assert _count(world, Visit) == 2 and _count(world, SyncItem) == 3 and _count(world, ChangeSet) == 2
    with world.session() as session:
        # Nothing of the tenant is live before the review: no person, no residence, no tenant link.
        assert (
            session.execute(select(PersonVersion.entity_id).where(PersonVersion.name == "赵敏")).first()
            is None
        )
        assert session.execute(select(RentalTenant.id)).first() is None
    written = _approve(client, login, proposed[2])
    assert set(written) == {"person", "document", "residence", "rental_tenant"}
    person_id = written["person"][0]
    with world.session() as session:
        visit = session.get(Visit, body["items"][0]["visit_id"])
        assert visit is not None
        assert visit.device == "Mozilla/5.0 (Linux; Android 14)"
        assert visit.started_at == dt.datetime(2026, 11, 27, 1, 50, tzinfo=dt.UTC)
        assert visit.ended_at is not None and (visit.ended_at - visit.started_at).seconds == 150
        assert (visit.latitude, visit.longitude, visit.position_accuracy) == (30.39, 114.89, 12.5)
        # Approved, the tenant is registered at the dwelling and tied to its rental (承租人), through the
        # residence the same change set created.
        tenants = session.execute(select(RentalTenant.person_id, RentalTenant.residence_id)).all()
        residences = session.execute(select(Residence.id).where(Residence.person_id == person_id)).all()
        assert len(residences) == 1
        assert [(int(p), int(r)) for p, r in tenants] == [(person_id, int(residences[0][0]))]
        assert written["residence"] == [int(residences[0][0])]
        # The approval audits the tenant as the direct attach does (issue 14): `rental.tenant_attach` on the
        # rental, about the person, by the approver; not as a bare `rental_tenant.create`.
        [attach] = session.execute(
            select(AuditEntry).where(AuditEntry.action == "rental.tenant_attach")
        ).scalars()
        rental_id = session.execute(select(RentalTenant.rental_id)).scalar_one()
        assert (attach.object_kind, attach.object_id, attach.subject_person_id) == (
            "rental",
            rental_id,
            person_id,
        )
        assert attach.actor_name == "station_admin_li"
        detail = json.loads(attach.detail)
        assert detail["tenant_id"] == written["rental_tenant"][0]
        assert (detail["residence_id"], detail["change_set"]) == (written["residence"][0], proposed[2])
        assert (
            session.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "rental_tenant.create")
            ).scalar_one()
            == 0
        )
    visits = client.get(f"/dwellings/{round_.plain.dwelling_id}/visits", headers=login("station_admin_li"))
    assert visits.json()[0]["device"] == "Mozilla/5.0 (Linux; Android 14)"


def test_a_reused_uuid_with_other_content_is_refused_and_the_rest_stored(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    item = _visit(round_.plain.dwelling_id)
    assert client.post("/sync", json={"items": [item]}, headers=login("collector_zhang")).status_code == 200
    changed = {**item, "visit": {"outcome": "refused"}}
    other = _visit(round_.rented.dwelling_id, "occupied")
    r = client.post("/sync", json={"items": [changed, other]}, headers=login("collector_zhang"))
    results = r.json()["items"]
    assert results[0]["status"] == "refused" and results[0]["code"] == "sync.uuid_reused"
    assert results[0]["message_en"].startswith("This item's UUID was already used")
    assert results[1]["status"] == "stored"
    with world.session() as session:
        outcomes = session.execute(select(Visit.outcome).order_by(Visit.id)).scalars().all()
    assert outcomes == ["vacant", "occupied"]
    # Another collector sending the same UUID is refused too (a UUID is one item, whoever sends it).
    stolen = client.post("/sync", json={"items": [item]}, headers=login("police_liu"))
    assert stolen.json()["items"][0]["code"] == "sync.uuid_reused"


def test_a_malformed_item_gets_its_own_error_and_nothing_half_applied(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    number = factories.make_id("420704", dt.date(1990, 2, 2), 71)
    items: list[Any] = [
        "not an object",
        {
            "kind": "visit",
            "uuid": "short",
            "dwelling_id": round_.plain.dwelling_id,
            "visit": {"outcome": "x"},
        },
        _visit(
            round_.plain.dwelling_id,
            started_at="2026-11-27T10:00:00+08:00",
            ended_at="2026-11-27T09:00:00+08:00",
        ),
        # Valid in shape but refused by the rules half-way: the plain dwelling has no rental for the tenant.
        _tenant(round_.plain.dwelling_id, number),
        _visit(round_.plain.dwelling_id, "nobody_home"),
    ]
    r = client.post("/sync", json={"items": items}, headers=login("collector_zhang"))
    results = r.json()["items"]
    assert [x["code"] for x in results[:3]] == ["sync.item_invalid"] * 3
    fields = {e["field"] for e in results[1]["data"]["errors"]}
    assert {"visit.uuid", "visit.visit.outcome"} <= fields
    assert results[3]["status"] == "refused" and results[3]["code"] == "visit.no_rental"
    assert results[4]["status"] == "stored"
    with world.session() as session:
        # The refused tenant left neither a person nor a residence nor a document behind.
        assert (
            session.execute(select(PersonVersion.entity_id).where(PersonVersion.name == "赵敏")).first()
            is None
        )
        docs = session.execute(
            select(Document.id)
            .join(DocumentVersion)
            .where(DocumentVersion.number_idx == sealed.key_for(session, DocumentVersion.number, number))
        ).first()
        assert docs is None
    assert _count(world, SyncItem) == 1 and _count(world, Visit) == 1
    with world.session() as session:
        # Nor a change set: only the stored visit's proposal (nobody home leaves the status as it is).
        summaries = session.execute(select(ChangeSet.summary)).scalars().all()
        assert "赵敏" not in summaries


def test_an_item_for_a_dwelling_outside_the_assignment_is_refused(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    items = [_visit(round_.other.dwelling_id), _visit(round_.plain.dwelling_id)]
    results = client.post("/sync", json={"items": items}, headers=login("collector_zhang")).json()["items"]
    assert results[0]["status"] == "refused" and results[0]["code"] == "sync.not_assigned"
    assert results[0]["message_zh"] == "该房屋不在您的采集任务范围内，未保存"
    assert results[1]["status"] == "stored"
    assert _count(world, Visit) == 1


def test_work_reassigned_while_offline_is_refused_and_stays_in_the_outbox(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    admin = login("station_admin_li")
    campaign = client.post(
        "/campaigns", json={"name": "离线改派", "area": "420704001", "starts_on": "2026-11-01"}, headers=admin
    )
    assert campaign.status_code == 201, campaign.text
    body = {"collector": "collector_zhang", "unit": "community", "area_code": INSIDE, "due_on": "2026-12-20"}
    assigned = client.post(f"/campaigns/{campaign.json()['id']}/assignments", json=body, headers=admin)
    assert assigned.status_code == 201, assigned.text
    # The collector downloads the assigned work and goes offline with it.
    work = client.get("/sync/work", headers=login("collector_zhang")).json()
    assert round_.plain.dwelling_id in {d["dwelling_id"] for b in work["buildings"] for d in b["dwellings"]}
    # Meanwhile the station gives the community to the community officer.
    moved = client.post(
        f"/assignments/{assigned.json()['id']}/reassign", json={"collector": "police_liu"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    outbox = [
        _visit(round_.plain.dwelling_id),
        _tenant(round_.rented.dwelling_id, factories.make_id("420704", dt.date(1991, 4, 4), 12)),
    ]
    for _ in range(2):  # refused each time it is sent: nothing stored, so it stays waiting on the phone
        results = client.post("/sync", json={"items": outbox}, headers=login("collector_zhang")).json()[
            "items"
        ]
        assert [r["status"] for r in results] == ["refused", "refused"], results
        assert {r["code"] for r in results} == {"sync.not_assigned"}
        assert results[0]["message_en"] == "This dwelling is not in your assignment; the item was not stored"
        assert results[0]["data"] == {"dwelling_id": round_.plain.dwelling_id, "reason": "sync.not_assigned"}
        assert all(r["change_set_id"] is None for r in results)
    assert _count(world, SyncItem) == 0 and _count(world, Visit) == 0 and _count(world, ChangeSet) == 0
    # The reassigned work no longer downloads for the first collector; the new collector's sync is stored.
    again = client.get("/sync/work", headers=login("collector_zhang")).json()
    assert not [d for b in again["buildings"] for d in b["dwellings"]]
    theirs = client.post("/sync", json={"items": outbox[:1]}, headers=login("police_liu")).json()["items"]
    assert theirs[0]["status"] == "stored", theirs


def test_a_conflict_is_held_back_until_sent_as_is(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    work = client.get("/sync/work", headers=login("collector_zhang")).json()
    dwellings = {d["dwelling_id"]: d for b in work["buildings"] for d in b["dwellings"]}
    assert round_.other.dwelling_id not in dwellings
    base = dwellings[round_.plain.dwelling_id]["version"]
    rented = dwellings[round_.rented.dwelling_id]
    assert rented["rental_id"] is not None and [o["name"] for o in rented["occupants"]] == ["张三"]
    assert all("*" in n for o in rented["occupants"] for n in o["documents"])  # masked for a collector
    # The collector's own two visits of one dwelling, both downloaded at the same version: no conflict.
    own = [
        {**_visit(round_.plain.dwelling_id, "nobody_home"), "base_version": base},
        {**_visit(round_.plain.dwelling_id, "vacant"), "base_version": base},
    ]
    results = client.post("/sync", json={"items": own}, headers=login("collector_zhang")).json()["items"]
    assert [x["status"] for x in results] == ["stored", "stored"]
    # Meanwhile the community officer finds the dwelling vacant and the station approves the status it proposes
    # (the collector's own visits are still awaiting review): the server's version moves.
    police = client.post(
        f"/dwellings/{round_.plain.dwelling_id}/visits",
        json={"outcome": "vacant", "idempotency_key": "police-visit-1"},
        headers=login("police_liu"),
    )
    assert police.status_code == 201, police.text
    _approve(client, login, police.json()["change_set_id"])
    late = {**_visit(round_.plain.dwelling_id, "refused"), "base_version": base}
    held = client.post("/sync", json={"items": [late]}, headers=login("collector_zhang")).json()["items"][0]
    assert held["status"] == "conflict" and held["code"] == "sync.conflict"
    assert held["data"]["server"]["status"] == "vacant"
    assert held["dwelling_version"] > base
    assert _count(world, Visit) == 3
    # The collector decides to send it as it is: stored once, marked as forced for the review.
    forced = client.post(
        "/sync", json={"items": [{**late, "force": True}]}, headers=login("collector_zhang")
    ).json()["items"][0]
    assert forced["status"] == "stored" and forced["data"]["forced"] is True
    with world.session() as session:
        row = session.execute(select(SyncItem).where(SyncItem.client_uuid == late["uuid"])).scalar_one()
        assert row.forced
    assert _count(world, Visit) == 4


def test_sync_needs_the_permission(client: TestClient, login: Any, round_: Round) -> None:
    r = client.post(
        "/sync", json={"items": [_visit(round_.plain.dwelling_id)]}, headers=login("health_liaison_wang")
    )
    assert r.status_code == 403
    assert client.get("/sync/work", headers=login("auditor_sun")).status_code == 403


def test_the_complete_form_passport_household_and_hukou_from_the_id(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    number = factories.make_id("420102", dt.date(1988, 5, 6), 33)
    head = {
        "uuid": str(uuid.uuid4()),
        "kind": "person",
        "dwelling_id": round_.plain.dwelling_id,
        "person": {
            "name": "刘洋",
            "id_number": number,
            "ethnicity": "01",
            "education": "21",
            "marital_status": "20",
            "occupation": "教师",
            "workplace": "鄂州市第一中学",
            "phone": "13812345678",
            "category": "resident",
            "arrival_date": "2026-10-01",
            "household": {"mode": "create", "relationship": "02"},
        },
    }
    r = client.post("/sync", json={"items": [head]}, headers=login("collector_zhang")).json()["items"][0]
    assert r["status"] == "stored", r
    assert _status(world, r["change_set_id"]) == "pending_station"
    before = client.get("/sync/work", headers=login("collector_zhang")).json()
    assert all(not d["households"] for b in before["buildings"] for d in b["dwellings"])  # not live yet
    head_written = _approve(client, login, r["change_set_id"])
    assert set(head_written) == {"person", "document", "residence", "household", "membership"}
    head_id = head_written["person"][0]
    work = client.get("/sync/work", headers=login("collector_zhang")).json()
    plain = next(
        d for b in work["buildings"] for d in b["dwellings"] if d["dwelling_id"] == round_.plain.dwelling_id
    )
    assert len(plain["households"]) == 1 and plain["households"][0]["head"] == "刘洋"
    household_id = plain["households"][0]["household_id"]
    guest = {
        "uuid": str(uuid.uuid4()),
        "kind": "person",
        "dwelling_id": round_.plain.dwelling_id,
        "person": {
            "name": "John Smith",
            "doc_type": "passport",
            "id_number": "E12345678",
            "country": "GBR",
            "sex": "1",
            "birth_date": "1980-01-01",
            "category": "overseas",
            "arrival_date": "2026-11-01",
            "household": {"mode": "join", "household_id": household_id, "relationship": "97"},
        },
    }
    r2 = client.post("/sync", json={"items": [guest]}, headers=login("collector_zhang")).json()["items"][0]
    assert r2["status"] == "stored", (r2["code"], r2["message_en"], r2["data"])
    assert _status(world, r2["change_set_id"]) == "pending_station"
    # 境外 (overseas) goes to the district after the station, by the default policy.
    guest_written = _approve(client, login, r2["change_set_id"])
    guest_id = guest_written["person"][0]
    with world.session() as session:
        head_row = session.execute(
            select(PersonVersion).where(PersonVersion.entity_id == head_id)
        ).scalar_one()
        assert head_row.hukou_region == "420102"  # 户籍地 from the ID number
        assert (head_row.ethnicity, head_row.education, head_row.marital_status) == ("01", "21", "20")
        assert head_row.workplace == "鄂州市第一中学"
        guest_row = session.execute(
            select(PersonVersion).where(PersonVersion.entity_id == guest_id)
        ).scalar_one()
        assert guest_row.nationality == "GBR"
        doc = session.execute(
            select(DocumentVersion).join(Document).where(Document.person_id == guest_id)
        ).scalar_one()
        assert (doc.doc_type, doc.country) == ("passport", "GBR")
        members = session.execute(select(Membership.person_id).where(Membership.household_id == household_id))
        assert set(members.scalars()) == {head_id, guest_id}
        # The household the head's form created lives at the dwelling.
        dwelling_of = session.execute(
            select(HouseholdVersion.dwelling_id).where(
                HouseholdVersion.entity_id == household_id, HouseholdVersion.superseded_at.is_(None)
            )
        ).scalar_one()
        assert dwelling_of == round_.plain.dwelling_id
    bad = {
        **guest,
        "uuid": str(uuid.uuid4()),
        "person": {**guest["person"], "country": None, "id_number": "E7654321"},
    }
    r3 = client.post("/sync", json={"items": [bad]}, headers=login("collector_zhang")).json()["items"][0]
    assert r3["status"] == "refused" and r3["code"] == "document.country_required"


def test_a_visit_of_one_of_two_dwellings_marks_the_building_partly_visited(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    # "partly_visited" (14 characters) once overflowed the 12-character column on PostgreSQL.
    with world.session() as session:
        buildings.create_dwelling(
            session,
            world.ctx(session),
            DwellingCreate(building_id=round_.plain.building_id, unit=1, floor=6, room="601"),
        )
    r = client.post(
        "/sync", json={"items": [_visit(round_.plain.dwelling_id)]}, headers=login("collector_zhang")
    )
    assert r.json()["items"][0]["status"] == "stored"
    with world.session() as session:
        status = session.execute(
            select(BuildingVersion.visit_status).where(
                BuildingVersion.entity_id == round_.plain.building_id, BuildingVersion.superseded_at.is_(None)
            )
        ).scalar_one()
    assert status == "partly_visited"


def test_a_batch_larger_than_a_chunk_is_committed_in_parts_and_answered_in_order(
    world: World, client: TestClient, login: Any, round_: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "CHUNK", 2)
    items: list[Any] = [_visit(round_.plain.dwelling_id) for _ in range(4)]
    items.insert(3, {"kind": "visit"})
    body = client.post("/sync", json={"items": items}, headers=login("collector_zhang")).json()
    assert [r["index"] for r in body["items"]] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in body["items"]] == ["stored", "stored", "stored", "refused", "stored"]
    assert body["counts"] == {"stored": 4, "replayed": 0, "refused": 1, "conflict": 0}
    assert _count(world, Visit) == 4


# ---- the set-based sync (issue 13: 500 visits in ≤ 10 s) ----------------------------------------------------------


def test_one_spoilt_visit_of_a_set_is_refused_alone_and_the_rest_stored_once(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    first = _visit(round_.plain.dwelling_id)
    # 张三 lives in the rented dwelling, not in the plain one: the set-based write fails on this visit alone.
    stranger = _visit(round_.plain.dwelling_id, "occupied", confirmed_person_ids=[round_.zhang])
    rented = _visit(round_.rented.dwelling_id, "occupied", confirmed_person_ids=[round_.zhang])
    twice = dict(first)
    changed = {**rented, "visit": {"outcome": "refused"}}
    items = [first, stranger, rented, twice, changed]
    body = client.post("/sync", json={"items": items}, headers=login("collector_zhang")).json()
    assert [r["index"] for r in body["items"]] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in body["items"]] == ["stored", "refused", "stored", "replayed", "refused"], (
        body
    )
    assert body["items"][1]["code"] == "visit.not_an_occupant"
    assert body["items"][4]["code"] == "sync.uuid_reused"
    assert body["items"][3]["visit_id"] == body["items"][0]["visit_id"]
    assert _count(world, Visit) == 2 and _count(world, SyncItem) == 2
    again = client.post("/sync", json={"items": [first, rented]}, headers=login("collector_zhang")).json()
    assert [r["status"] for r in again["items"]] == ["replayed", "replayed"]
    assert _count(world, Visit) == 2


def test_the_set_based_sync_writes_what_record_visit_writes(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    from liangshi.audit.models import AuditEntry  # only this test reads the audit table

    items = [_visit(round_.plain.dwelling_id, "vacant"), _visit(round_.rented.dwelling_id, "refused")]
    body = client.post("/sync", json={"items": items}, headers=login("collector_zhang")).json()
    assert [r["status"] for r in body["items"]] == ["stored", "stored"], body
    with world.session() as session:
        for result, place in zip(body["items"], (round_.plain, round_.rented), strict=True):
            cs = session.get(ChangeSet, result["change_set_id"])
            assert cs is not None and cs.status == "pending_station" and cs.action == "occupancy"
            assert cs.idempotency_key == f"visit:{result['visit_id']}"
            assert cs.proposer == "collector_zhang"
            proposed = json.loads(cs.items)
            assert [(p["kind"], p["entity_id"]) for p in proposed] == [("dwelling", place.dwelling_id)]
            visit_status = session.execute(
                select(BuildingVersion.visit_status).where(
                    BuildingVersion.entity_id == place.building_id, BuildingVersion.superseded_at.is_(None)
                )
            ).scalar_one()
            assert visit_status == "visited"
        actions = session.execute(
            select(AuditEntry.action).where(AuditEntry.action.in_(("visit.create", "changeset.propose")))
        ).scalars()
        assert sorted(actions) == ["changeset.propose"] * 2 + ["visit.create"] * 2


def test_the_set_based_assignment_check_answers_as_the_one_by_one_check(world: World, round_: Round) -> None:
    from liangshi.campaign import batch, organisation, rules  # the organisation is only this test's set-up
    from liangshi.campaign.schemas import AssignmentCreate

    with world.session() as session:
        ctx = world.ctx(session)
        more = [
            factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
            for _ in range(3)
        ]
        spec = rules.parse_campaign(
            {"name": "2026年两实采集", "area": "420704001", "starts_on": "2026-11-01"}
        )
        admin = world.ctx(session, "station_admin_li")
        campaign_id = organisation.create_campaign(session, admin, spec).id
        for collector, place in (("collector_zhang", more[0]), ("police_liu", more[1])):
            organisation.assign(
                session,
                admin,
                campaign_id,
                AssignmentCreate(
                    collector=collector,
                    unit="buildings",
                    building_ids=[place.building_id],
                    due_on=dt.date(2026, 12, 20),
                ),
            )
    dwellings = [p.dwelling_id for p in (round_.rented, round_.plain, round_.other, *more)]
    answers: dict[str, set[int]] = {}
    for username in ("collector_zhang", "collector_zhou", "police_liu"):
        with world.session() as session:
            ctx = world.ctx(session, username)
            one_by_one = {d for d in dwellings if sync._assignment_refusal(session, ctx, d) is None}
            assert batch.assigned_dwellings(session, ctx, dwellings) == one_by_one, username
            answers[username] = one_by_one
    assert more[0].dwelling_id in answers["collector_zhang"]
    assert more[1].dwelling_id not in answers["collector_zhang"]
    assert round_.other.dwelling_id in answers["collector_zhou"]


def test_a_synced_visit_declares_the_household_size_and_refuses_one_living_elsewhere(
    world: World, client: TestClient, login: Any, round_: Round
) -> None:
    from liangshi.campaign.models import HouseholdCount  # only this test reads the declared sizes

    with world.session() as session:
        hid = factories.household(
            session,
            world.ctx(session),
            area_id=world.area(INSIDE),
            dwelling_id=round_.rented.dwelling_id,
            members=[(round_.zhang, "02")],
        )
    good = _visit(
        round_.rented.dwelling_id, "occupied", household_sizes=[{"household_id": hid, "members": 1}]
    )
    bad = _visit(round_.plain.dwelling_id, "occupied", household_sizes=[{"household_id": hid, "members": 2}])
    body = client.post("/sync", json={"items": [good, bad]}, headers=login("collector_zhang")).json()
    assert [r["status"] for r in body["items"]] == ["stored", "refused"], body
    assert body["items"][1]["code"] == "visit.household_elsewhere"
    with world.session() as session:
        sizes = session.execute(select(HouseholdCount.household_id, HouseholdCount.members)).all()
    assert [(int(h), int(m)) for h, m in sizes] == [(hid, 1)]
    assert _count(world, Visit) == 1
