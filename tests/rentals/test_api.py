"""Rentals over HTTP: file, list, read with tenants, agreement, end, the dwelling's rental and the area rates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import INSIDE, World
from tests.rentals.helpers import counts, dwelling, person, place, resident

D = dt.date


def _body(dwelling_id: int, landlord: int, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dwelling_id": dwelling_id,
        "landlord_person_id": landlord,
        "use": "residential",
        "rooms": 2,
        "monthly_rent": 1500,
        "lease_start": "2026-03-01",
        "lease_end": "2027-02-28",
        "filing_number": "鄂租备2026-0101",
        "provenance": {"source_kind": "collector", "evidence": "document", "document_ref": "租赁合同"},
    }
    body.update(over)
    return body


def test_a_collector_files_a_rental_attaches_a_tenant_records_the_agreement_and_ends_it(
    world: World, client: TestClient, login: Any
) -> None:
    p = place(world)
    landlord = person(world, "王芳")
    tenant = resident(world, p.dwelling_id, name="李强")
    h = login("collector_zhang")
    r = client.post("/rentals", json=_body(p.dwelling_id, landlord), headers=h)
    assert r.status_code == 201, r.text
    rental = r.json()
    rid = rental["id"]
    assert rental["kind"] == "rental"
    assert rental["refs"]["dwelling_id"] == p.dwelling_id
    assert rental["attributes"]["status"] == "open"
    assert rental["extra"]["landlord_name"] == "王芳"
    assert rental["extra"]["tenants"] == []

    r = client.post(
        f"/rentals/{rid}/tenants",
        json={"expected_version": rental["version"], "person_id": tenant},
        headers=h,
    )
    assert r.status_code == 201, r.text
    [t] = r.json()["extra"]["tenants"]
    assert (t["person_id"], t["name"], t["primary"]) == (tenant, "李强", True)
    assert "*" in t["document"]
    version = r.json()["version"]

    r = client.post(
        f"/rentals/{rid}/agreement",
        json={"expected_version": version, "signed_on": "2026-03-02", "signer": "王芳"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["attributes"]["agreement_signed_on"] == "2026-03-02"
    version = r.json()["version"]

    listed = client.get(f"/rentals?dwelling_id={p.dwelling_id}", headers=h).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == rid
    of_dwelling = client.get(f"/dwellings/{p.dwelling_id}/rental", headers=h).json()
    assert of_dwelling["rental"]["id"] == rid
    rates = client.get(f"/areas/{world.area(INSIDE)}/rental-rates", headers=h).json()
    assert rates["registration"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    assert rates["entry"]["numerator"] == 1 and rates["agreement"]["numerator"] == 1

    r = client.post(
        f"/rentals/{rid}/end", json={"expected_version": version, "ended_on": "2026-11-20"}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["retired"] and r.json()["attributes"]["status"] == "ended"
    assert r.json()["extra"]["tenants"][0]["until"] == "2026-11-20"
    assert client.get(f"/dwellings/{p.dwelling_id}/rental", headers=h).json()["rental"] is None
    assert client.get(f"/rentals?dwelling_id={p.dwelling_id}", headers=h).json()["total"] == 0
    assert (
        client.get(f"/rentals?dwelling_id={p.dwelling_id}&include_ended=true", headers=h).json()["total"] == 1
    )
    history = client.get(f"/rentals/{rid}/history", headers=h).json()
    assert [v["change"] for v in history["versions"]][:2] == ["create", "close"]
    before = client.get(f"/areas/{world.area(INSIDE)}/rental-rates?on=2026-06-01", headers=h).json()
    assert before["registration"]["numerator"] == 1


def test_bad_input_is_refused_with_stable_codes_and_nothing_written(
    world: World, client: TestClient, login: Any
) -> None:
    p = place(world)
    landlord = person(world)
    h = login("collector_zhang")
    before = counts(world)
    r = client.post("/rentals", json=_body(p.dwelling_id, landlord, monthly_rent=-5), headers=h)
    assert r.status_code == 422
    r = client.post("/rentals", json=_body(p.dwelling_id, landlord, use="hotel"), headers=h)
    assert r.status_code == 422
    r = client.post("/rentals", json=_body(p.dwelling_id, landlord, lease_end="2026-02-01"), headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "rental.lease_end_before_start")
    r = client.post("/rentals", json=_body(p.dwelling_id, 99999999), headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "rental.landlord_not_found")
    assert counts(world) == before


def test_a_tenant_for_a_dwelling_they_do_not_live_in_gets_409(
    world: World, client: TestClient, login: Any
) -> None:
    p = place(world)
    landlord = person(world)
    stranger = person(world, "孙丽", male=False)
    h = login("collector_zhang")
    rental = client.post("/rentals", json=_body(p.dwelling_id, landlord), headers=h).json()
    before = counts(world)
    r = client.post(
        f"/rentals/{rental['id']}/tenants",
        json={"expected_version": rental["version"], "person_id": stranger},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "rental.tenant_not_resident")
    assert counts(world) == before


def test_a_stale_version_gets_409_and_the_change_is_not_written(
    world: World, client: TestClient, login: Any
) -> None:
    p = place(world)
    landlord = person(world)
    h = login("collector_zhang")
    rental = client.post("/rentals", json=_body(p.dwelling_id, landlord), headers=h).json()
    rid = rental["id"]
    r = client.patch(
        f"/rentals/{rid}", json={"expected_version": rental["version"], "monthly_rent": 1600}, headers=h
    )
    assert r.status_code == 200, r.text
    assert r.json()["attributes"]["monthly_rent"] == 1600
    before = counts(world)
    r = client.patch(
        f"/rentals/{rid}", json={"expected_version": rental["version"], "monthly_rent": 1700}, headers=h
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "version.stale")
    r = client.post(
        f"/rentals/{rid}/agreement",
        json={"expected_version": rental["version"], "signed_on": "2026-03-02", "signer": "王芳"},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "version.stale")
    assert counts(world) == before


def test_an_ended_rental_cannot_be_changed(world: World, client: TestClient, login: Any) -> None:
    p = place(world)
    h = login("collector_zhang")
    rental = client.post("/rentals", json=_body(p.dwelling_id, person(world)), headers=h).json()
    ended = client.post(
        f"/rentals/{rental['id']}/end",
        json={"expected_version": rental["version"], "ended_on": "2026-11-01"},
        headers=h,
    ).json()
    r = client.patch(
        f"/rentals/{rental['id']}", json={"expected_version": ended["version"], "rooms": 3}, headers=h
    )
    assert r.status_code == 409
    r = client.post(
        f"/rentals/{rental['id']}/tenants",
        json={"expected_version": ended["version"], "person_id": 1},
        headers=h,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "rental.action_not_allowed")


def test_outside_the_jurisdiction_a_rental_is_404_and_retiring_is_for_the_police(
    world: World, client: TestClient, login: Any
) -> None:
    p = place(world)
    h = login("collector_zhang")
    rental = client.post("/rentals", json=_body(p.dwelling_id, person(world)), headers=h).json()
    rid = rental["id"]
    other = login("collector_zhou")
    r = client.get(f"/rentals/{rid}", headers=other)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "rental.not_found")
    assert client.get(f"/rentals/{rid}/tenants", headers=other).status_code == 404
    assert client.get(f"/areas/{world.area(INSIDE)}/rental-rates", headers=other).status_code == 404
    assert client.get(f"/rentals/{rid}", headers=login("health_liaison_wang")).status_code == 403
    body = {"expected_version": rental["version"], "reason": "重复登记"}
    assert client.post(f"/rentals/{rid}/retire", json=body, headers=h).status_code == 403
    r = client.post(f"/rentals/{rid}/retire", json=body, headers=login("police_liu"))
    assert r.status_code == 200, r.text
    assert r.json()["retired"]


def test_rates_count_rented_dwellings_without_a_rental_as_found_but_not_registered(
    world: World, client: TestClient, login: Any
) -> None:
    p = place(world)
    dwelling(world, p.building_id, "502", status="rented")
    dwelling(world, p.building_id, "503", status="rented")
    h = login("police_liu")
    client.post("/rentals", json=_body(p.dwelling_id, person(world), lease_end=None), headers=h)
    rates = client.get(f"/areas/{world.area(INSIDE)}/rental-rates?on=2026-11-27", headers=h).json()
    assert rates["registration"] == {"numerator": 1, "denominator": 3, "rate": round(1 / 3, 6)}
    assert rates["entry"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
    assert rates["agreement"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
    assert rates["on"] == "2026-11-27"
