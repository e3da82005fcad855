"""The offline collection app's server side: manifest, service worker, shell, work download and outbox sync;
the complete person form and the visit paradata of the server-rendered collector pages."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.campaign.models import SyncItem, Visit
from liangshi.persons.models import Household, Membership, PersonVersion
from liangshi.registry.changesets import ChangeSet
from liangshi.rentals.models import RentalTenant
from tests.conftest import World
from tests.factories import make_id
from tests.web.conftest import Scene, csrf_of


def test_the_app_is_installable_with_a_manifest_and_a_service_worker(
    web_as: Callable[[str], TestClient], scene: Scene
) -> None:
    client = web_as("collector_zhang")
    manifest = client.get("/web/collect/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == "/web/collect/app" and body["scope"] == "/web/collect/"
    assert {i["sizes"] for i in body["icons"]} >= {"192x192", "512x512"}
    for icon in body["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.headers["content-type"] == icon["type"]
    worker = client.get("/web/collect/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "/web/collect/app" in worker.text and "caches.open" in worker.text
    shell = client.get("/web/collect/app")
    assert shell.status_code == 200
    assert 'rel="manifest"' in shell.text and "/web/static/collect-app.js" in shell.text
    assert "离线采集" in shell.text and "待同步" in shell.text  # the app's texts, in Chinese by default
    assert "已提交审核" in shell.text  # a synced item is sent for review, not yet a registry fact
    assert client.get("/web/static/collect-app.js").status_code == 200


def test_the_work_download_is_masked_and_the_sync_needs_the_csrf_token(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("collector_zhang")
    work = client.get("/web/collect/work.json").json()
    dwellings = {d["dwelling_id"]: d for b in work["buildings"] for d in b["dwellings"]}
    assert set(dwellings) == {scene.place.dwelling_id}  # not 南浦社区's
    occupants = dwellings[scene.place.dwelling_id]["occupants"]
    assert [o["name"] for o in occupants] == ["张三"]
    assert scene.zhang_id not in str(work) and "*" in occupants[0]["documents"][0]
    item = {
        "uuid": str(uuid.uuid4()),
        "kind": "visit",
        "dwelling_id": scene.place.dwelling_id,
        "base_version": dwellings[scene.place.dwelling_id]["version"],
        "visit": {"outcome": "occupied", "confirmed_person_ids": [scene.zhang]},
    }
    refused = client.post("/web/collect/sync", json={"items": [item]})
    assert refused.status_code == 403
    token = csrf_of(client.get(f"/web/collect/dwellings/{scene.place.dwelling_id}").text)
    malformed = client.post(
        "/web/collect/sync", json={"items": "not a list"}, headers={"X-CSRF-Token": token}
    )
    assert malformed.status_code == 422
    ok = client.post("/web/collect/sync", json={"items": [item]}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["items"][0]["status"] == "stored"
    with world.session() as session:
        assert session.execute(select(SyncItem.client_uuid)).scalars().all() == [item["uuid"]]


def test_the_visit_form_keeps_its_paradata(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{scene.place.dwelling_id}").text
    assert 'name="started_at"' in form
    r = client.post(
        f"/web/collect/dwellings/{scene.place.dwelling_id}/visits",
        data={
            "csrf_token": csrf_of(form),
            "outcome": "vacant",
            "idempotency_key": "paradata-0001",
            "started_at": "2026-11-27T09:45:00+08:00",
            "latitude": "30.3912",
            "longitude": "114.8949",
            "position_accuracy": "20",
        },
        headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"},
    )
    assert r.status_code == 303, r.text
    with world.session() as session:
        visit = session.execute(select(Visit)).scalar_one()
        assert visit.device == "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"
        assert visit.started_at == dt.datetime(2026, 11, 27, 1, 45, tzinfo=dt.UTC)
        assert visit.ended_at is not None and visit.ended_at > visit.started_at
        assert (visit.latitude, visit.longitude, visit.position_accuracy) == (30.3912, 114.8949, 20.0)


def test_the_complete_form_registers_a_tenant_with_household_and_codes(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{scene.place.dwelling_id}/persons/new").text
    # Codes by their names: 民族, 文化程度, 婚姻状况, 与户主关系, document types.
    for name in (">汉<", ">大学本科毕业<", ">未婚<", ">户主<", ">护照<", "外国人永久居留"):
        assert name in form, name
    assert 'name="tenant"' in form  # the dwelling has an open rental
    number = make_id("420102", dt.date(1995, 3, 8), 41)
    r = client.post(
        f"/web/collect/dwellings/{scene.place.dwelling_id}/persons",
        data={
            "csrf_token": csrf_of(form),
            "doc_type": "resident_id",
            "id_number": number,
            "name": "钱多多",
            "ethnicity": "01",
            "education": "21",
            "marital_status": "10",
            "occupation": "程序员",
            "workplace": "鄂州软件园",
            "phone": "13912345678",
            "category": "floating",
            "arrival_date": "2026-11-01",
            "intended_stay_until": "2027-10-31",
            "household": "new",
            "relationship": "02",
            "tenant": "on",
        },
    )
    assert r.status_code == 303, r.text
    with world.session() as session:
        # Submitted for review, not yet live: one change set awaiting the station, carrying the whole form.
        cs = session.execute(select(ChangeSet).where(ChangeSet.summary == "钱多多")).scalar_one()
        assert cs.status == "pending_station" and cs.proposer == "collector_zhang"
        kinds = [item["kind"] for item in json.loads(cs.items)]
        assert kinds == ["person", "document", "residence", "household", "membership", "rental_tenant"]
        assert session.execute(select(PersonVersion).where(PersonVersion.name == "钱多多")).first() is None
        assert session.execute(select(RentalTenant.id)).first() is None
        cs_id = cs.id
    # The station approves it on the desk: the person, their household and the tenancy become registry facts.
    station = web_as("station_admin_li")
    desk = station.get(f"/web/changesets/{cs_id}")
    assert desk.status_code == 200 and "钱多多" in desk.text
    approved = station.post(f"/web/changesets/{cs_id}/approve", data={"csrf_token": csrf_of(desk.text)})
    assert approved.status_code == 303, approved.text
    with world.session() as session:
        assert session.get(ChangeSet, cs_id).status == "approved"  # type: ignore[union-attr]
        row = session.execute(select(PersonVersion).where(PersonVersion.name == "钱多多")).scalar_one()
        assert row.hukou_region == "420102" and row.marital_status == "10" and row.occupation == "程序员"
        assert row.entity_id in session.execute(select(RentalTenant.person_id)).scalars().all()
        member = session.execute(select(Membership).where(Membership.person_id == row.entity_id)).scalar_one()
        assert session.get(Household, member.household_id) is not None
    # The households at the dwelling are offered to the next person.
    again = client.get(f"/web/collect/dwellings/{scene.place.dwelling_id}/persons/new").text
    assert "钱多多" in again


def test_a_passport_without_its_country_keeps_the_form(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{scene.place.dwelling_id}/persons/new").text
    r = client.post(
        f"/web/collect/dwellings/{scene.place.dwelling_id}/persons",
        data={
            "csrf_token": csrf_of(form),
            "doc_type": "passport",
            "id_number": "E12345678",
            "name": "Anna Berg",
            "sex": "2",
            "birth_date": "1990-01-01",
            "category": "overseas",
            "arrival_date": "2026-11-01",
        },
    )
    assert r.status_code == 422
    assert "签发国家" in r.text and 'value="Anna Berg"' in r.text
    with world.session() as session:
        assert session.execute(select(PersonVersion).where(PersonVersion.name == "Anna Berg")).first() is None


def test_a_returned_complete_form_comes_back_with_its_household_and_tenancy(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("collector_zhang")
    url = f"/web/collect/dwellings/{scene.place.dwelling_id}/persons"
    form = client.get(f"{url}/new").text
    data = {
        "csrf_token": csrf_of(form),
        "id_number": make_id("420102", dt.date(1994, 6, 1), 52),
        "name": "吴退回",
        "category": "floating",
        "arrival_date": "2026-11-02",
        "household": "new",
        "relationship": "02",
        "tenant": "on",
    }
    assert client.post(url, data=data).status_code == 303
    with world.session() as session:
        cs_id = session.execute(select(ChangeSet.id).where(ChangeSet.summary == "吴退回")).scalar_one()
    station = web_as("station_admin_li")
    desk = station.get(f"/web/changesets/{cs_id}")
    back = station.post(
        f"/web/changesets/{cs_id}/return", data={"csrf_token": csrf_of(desk.text), "reason": "请核对到达日期"}
    )
    assert back.status_code == 303, back.text
    # The collector opens it again: the household choice and the tenant box are as they were typed.
    fixing = client.get(f"{url}/new", params={"change_set": cs_id}).text
    assert "请核对到达日期" in fixing
    assert '<option value="new" selected>' in fixing
    assert 'name="tenant" id="tenant" checked' in fixing
    again = client.post(url, data={**data, "arrival_date": "2026-11-03", "change_set_id": str(cs_id)})
    assert again.status_code == 303, again.text
    with world.session() as session:
        cs = session.get(ChangeSet, cs_id)
        assert cs is not None and cs.status == "pending_station" and cs.round == 2
        kinds = [item["kind"] for item in json.loads(cs.items)]
        assert kinds[-3:] == ["household", "membership", "rental_tenant"]
        assert json.loads(cs.payload or "{}")["arrival_date"] == "2026-11-03"
