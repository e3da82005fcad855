"""The check routes: the named checks, a run, the findings page, a dismissal, a department file uploaded."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate
from tests.conftest import INSIDE, OUTSIDE, World


def test_run_list_and_dismiss_over_http(world: World, client: TestClient, login: Any) -> None:
    with world.session() as s:
        addresses.create_address(s, world.ctx(s), AddressCreate(area_id=world.area(INSIDE), number="4"))
    h = login("police_liu")
    named = client.get("/checks", headers=h).json()
    assert {c["code"] for c in named} >= {"plate.missing", "person.duplicate", "rental.no_agreement"}
    assert all(c["title"] and c["rule"] and c["owner"] for c in named)
    run = client.post("/checks/runs", json={"area": INSIDE}, headers=h)
    assert run.status_code == 201, run.text
    assert run.json()["per_check"]["plate.not_installed"] == 1 and run.json()["opened"] == 1
    page = client.get("/checks/findings", params={"check": "plate.not_installed"}, headers=h).json()
    [finding] = page["items"]
    assert finding["keys"] == {"community_code": INSIDE, "street": "", "number": "4号"}
    assert finding["assignee"] == "collector_zhang" and finding["status"] == "open"
    refused = client.post(f"/checks/findings/{finding['id']}/dismiss", json={}, headers=h)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "check.dismiss_reason_required"
    done = client.post(
        f"/checks/findings/{finding['id']}/dismiss", json={"reason": "村民自编门牌，待统一"}, headers=h
    )
    assert done.status_code == 200 and done.json()["status"] == "dismissed"
    again = client.post("/checks/runs", json={"area": INSIDE}, headers=h).json()
    assert (again["opened"], again["dismissed_kept"]) == (0, 1)


def test_bad_runs_are_refused_with_their_codes(world: World, client: TestClient, login: Any) -> None:
    h = login("police_liu")
    unknown = client.post("/checks/runs", json={"area": INSIDE, "checks": ["plate.nope"]}, headers=h)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "check.unknown"
    foreign = client.post("/checks/runs", json={"area": OUTSIDE}, headers=h)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "check.area_not_found"
    extra = client.post("/checks/runs", json={"area": INSIDE, "every": True}, headers=h)
    assert extra.status_code == 422


def test_an_uploaded_file_keeps_good_rows_and_reports_each_bad_one(
    world: World, client: TestClient, login: Any
) -> None:
    body = (
        "社区代码,街路巷,门牌号,楼栋,单元,楼层,房号,用途,状态\n"
        f"{INSIDE},,1号,1栋,,1,1,residential,vacant\n"
        f"{INSIDE},,一号半,1栋,,1,1,residential,vacant\n"
    ).encode("gb18030")
    r = client.post(
        "/checks/sources",
        data={"kind": "dwellings", "source": "housing"},
        files={"file": ("房屋.csv", body, "text/csv")},
        headers=login("station_admin_li"),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["rows"], r.json()["kept"]) == (2, 1)
    assert r.json()["problems"] == [{"line": 3, "field": "number", "code": "plate.number_invalid"}]
