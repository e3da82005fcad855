"""The department exchange over HTTP: administration, cut reads, batches, conflicts, feedback, feeds out, the log."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from liangshi.audit.models import AuditEntry
from liangshi.persons import service as persons
from liangshi.registry import history
from tests.conftest import World
from tests.departments.helpers import HEALTH_PURPOSE, counts, csv_bytes, department, person, refused_batches

AGREEMENT = {
    "purpose": HEALTH_PURPOSE,
    "valid_from": "2026-01-01",
    "valid_to": "2028-01-01",
    "provides": {"person": ["death_date", "phone", "occupation"]},
    "reads": {"person": ["name", "sex", "birth_date"], "document": ["doc_type", "number"]},
}


def _wrong_check(number: str) -> str:
    """The ID number with a check character that is not its own."""
    return number[:-1] + ("1" if number[-1] == "0" else "0")


def _upload(
    client: TestClient, headers: dict[str, str], content: bytes, name: str = "feed.csv", code: str = "health"
) -> Any:
    return client.post(
        f"/departments/{code}/batches",
        files={"file": (name, content, "text/csv")},
        data={"kind": "persons"},
        headers=headers,
    )


def test_administrators_register_a_department_and_its_agreement_and_a_liaison_may_not(
    client: TestClient, login: Any
) -> None:
    r = client.post("/departments", json={"code": "health"}, headers=login("health_liaison_wang"))
    assert r.status_code == 403
    r = client.post("/departments", json={"code": "health"}, headers=login("city_admin_wang"))
    assert r.status_code == 201 and r.json()["name_zh"] == "卫生"
    bad = client.post(
        "/departments/health/agreements",
        json={**AGREEMENT, "reads": {"person": ["religion"]}},
        headers=login("district_admin_chen"),
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "agreement.field_unknown"
    r = client.post("/departments/health/agreements", json=AGREEMENT, headers=login("district_admin_chen"))
    assert r.status_code == 201 and r.json()["in_force"] is True
    listed = client.get("/departments", headers=login("city_admin_wang")).json()["departments"]
    assert [(d["code"], len(d["agreements"])) for d in listed] == [("health", 1)]
    unknown = client.post("/departments/nosuch/agreements", json=AGREEMENT, headers=login("city_admin_wang"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "department.unknown"


def test_a_liaison_reads_a_person_cut_to_the_agreement_and_the_read_is_audited_with_its_purpose(
    world: World, client: TestClient, login: Any
) -> None:
    department(world)
    pid, number = person(world, phone="13812345678", occupation="教师")
    r = client.get(f"/persons/{pid}", headers=login("health_liaison_wang"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["version"]) == (pid, 1)
    assert body["attributes"] == {"name": "张伟", "sex": "1", "birth_date": "1990-01-01"}
    assert body["provenance"] is None and body["refs"] == {}
    [doc] = body["extra"]["documents"]
    assert (
        set(doc) == {"id", "doc_type", "number", "masked"}
        and doc["number"] != number
        and "*" in doc["number"]
    )
    page = client.get("/persons", params={"name": "张"}, headers=login("health_liaison_wang")).json()
    assert page["items"][0]["attributes"] == body["attributes"]
    assert client.get(f"/persons/{pid}/history", headers=login("health_liaison_wang")).status_code == 403
    with world.session() as s:
        purposes = [
            p for (a, p) in s.execute(select(AuditEntry.action, AuditEntry.purpose)) if a == "person.read"
        ]
        assert purposes and all(HEALTH_PURPOSE in (p or "") for p in purposes)
    # The police see everything, as before.
    full = client.get(f"/persons/{pid}", headers=login("police_liu")).json()
    assert full["attributes"]["occupation"] == "教师" and full["provenance"] is not None


def test_a_liaison_without_an_agreement_gets_403_with_a_clear_code(
    world: World, client: TestClient, login: Any
) -> None:
    department(world, agreement=False)
    pid, _ = person(world)
    r = client.get(f"/persons/{pid}", headers={**login("health_liaison_wang"), "Accept-Language": "en"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "department.no_agreement"
    assert "agreement" in r.json()["error"]["message"]
    zh = client.get(f"/persons/{pid}", headers=login("health_liaison_wang")).json()
    assert zh["error"]["message"] == "该部门没有共享协议"


def test_an_expired_agreement_is_refused(world: World, client: TestClient, login: Any) -> None:
    department(world, valid_from="2025-01-01", valid_to="2026-01-01")
    pid, _ = person(world)
    r = client.get(f"/persons/{pid}", headers=login("health_liaison_wang"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "department.agreement_expired"


def test_a_csv_batch_is_accepted_and_its_conflict_decided_over_http(
    world: World, client: TestClient, login: Any
) -> None:
    department(world)
    pid, number = person(world, occupation="工人")
    content = csv_bytes([["证件号码", "联系电话", "职业"], [number, "13812345678", "教师"]], "gb18030")
    r = _upload(client, login("health_liaison_wang"), content)
    assert r.status_code == 201, r.text
    batch = r.json()
    assert (batch["matched"], batch["applied"], len(batch["conflicts"])) == (1, 1, 1)
    queue = client.get("/conflicts", params={"status": "open"}, headers=login("station_admin_li")).json()
    [item] = queue["items"]
    assert (item["field"], item["register_value"], item["department_value"]) == ("occupation", "工人", "教师")
    assert client.get("/conflicts", headers=login("health_liaison_wang")).status_code == 403
    d = client.post(
        f"/conflicts/{item['id']}/decide",
        json={"decision": "accept", "reason": "单位证明"},
        headers=login("station_admin_li"),
    )
    assert d.status_code == 200 and d.json()["status"] == "accepted"
    with world.session() as s:
        row = history.open_row(s, persons.PERSON, pid)
        assert (row.occupation, row.source_kind, row.source_ref) == (
            "教师",
            "department",
            f"batch:{batch['batch_id']}",
        )
    again = client.post(
        f"/conflicts/{item['id']}/decide",
        json={"decision": "reject", "reason": "x"},
        headers=login("station_admin_li"),
    )
    assert again.status_code == 409


def test_a_json_batch_is_accepted(world: World, client: TestClient, login: Any) -> None:
    department(world)
    pid, number = person(world)
    r = client.post(
        "/departments/health/batches",
        json={"kind": "persons", "records": [{"id_number": number, "phone": "13812345678"}]},
        headers=login("health_liaison_wang"),
    )
    assert r.status_code == 201, r.text
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, pid).phone == "+8613812345678"


def test_refused_batches_over_http_write_nothing(world: World, client: TestClient, login: Any) -> None:
    department(world, all_or_nothing=True)
    _, number = person(world)
    headers = login("health_liaison_wang")
    before = counts(world)
    cases = [
        (
            "nosuch",
            csv_bytes([["证件号码", "联系电话"], [number, "13812345678"]]),
            "feed.csv",
            404,
            "department.unknown",
        ),
        (
            "health",
            csv_bytes([["证件号码", "婚姻状况"], [number, "20"]]),
            "feed.csv",
            403,
            "department.field_not_provided",
        ),
        (
            "health",
            f"证件号码,联系电话\n{number},13812345678\n".encode("utf-16"),
            "feed.csv",
            422,
            "file.encoding",
        ),
        (
            "health",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "photo.png",
            422,
            "file.type_unsupported",
        ),
        (
            "health",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "photo.csv",
            422,
            "file.type_unsupported",
        ),
        (
            "health",
            csv_bytes([["姓名", "联系电话"], ["张伟", "13812345678"]]),
            "feed.csv",
            422,
            "import.columns_missing",
        ),
        (
            "health",
            # A wrong check character whatever the right one is (a fixed "0" is right for one number in eleven).
            csv_bytes(
                [["证件号码", "死亡日期"], [number, "2026-11-20"], [_wrong_check(number), "2026-11-20"]]
            ),
            "feed.csv",
            422,
            "department.batch_rows_invalid",
        ),
    ]
    for code, content, name, status, error in cases:
        r = _upload(client, headers, content, name, code)
        assert (r.status_code, r.json()["error"]["code"]) == (status, error), r.text
    rows = _upload(client, headers, cases[-1][1])
    assert rows.json()["error"]["data"]["errors"][0]["line"] == 3
    assert counts(world) == before
    # Each batch refused as a whole for its file or its rows is kept (status refused, nothing applied) with its
    # report; a refusal of the department (404) or of the sender's fields (403) is not a batch.
    kept = [error for code, _, _, status, error in cases if status == 422] + ["department.batch_rows_invalid"]
    assert refused_batches(world) == [("health", "persons", error) for error in kept]
    listed = client.get("/departments/health/batches?status=refused", headers=headers)
    assert listed.status_code == 200, listed.text
    newest = listed.json()[0]
    assert newest["status"] == "refused" and newest["applied"] == 0
    assert newest["report"]["code"] == "department.batch_rows_invalid"
    assert [e["line"] for e in newest["report"]["errors"]] == [3]
    other = client.get("/departments/justice/batches", headers=headers)
    assert (other.status_code, other.json()["error"]["code"]) == (403, "department.not_yours")


def test_feedback_over_http_with_deadlines_pickup_decision_and_the_overdue_list(
    world: World, client: TestClient, login: Any
) -> None:
    department(world)
    pid, _ = person(world)
    r = client.post(
        "/feedback",
        json={"object_kind": "person", "object_id": pid, "attribute": "name", "reason": "医院登记为张玮"},
        headers=login("health_liaison_wang"),
    )
    assert r.status_code == 201, r.text
    fb = r.json()
    assert (fb["pickup_due"], fb["decision_due"], fb["status"]) == ("2026-12-01", "2026-12-11", "open")
    flags = client.get(f"/persons/{pid}", headers=login("police_liu")).json()["flags"]
    assert [f["attribute"] for f in flags] == ["name"]
    assert client.get("/feedback", params={"overdue": True}, headers=login("police_liu")).json()["total"] == 0
    assert client.get("/feedback", headers=login("health_liaison_wang")).json()["total"] == 1
    assert (
        client.post(f"/feedback/{fb['id']}/pickup", headers=login("health_liaison_wang")).status_code == 403
    )
    p = client.post(f"/feedback/{fb['id']}/pickup", headers=login("police_liu"))
    assert p.status_code == 200 and p.json()["status"] == "picked_up"
    d = client.post(
        f"/feedback/{fb['id']}/decide",
        json={"outcome": "confirmed", "note": "核对身份证，无误"},
        headers=login("police_liu"),
    )
    assert d.status_code == 200 and d.json()["outcome"] == "confirmed"
    assert client.get(f"/persons/{pid}", headers=login("police_liu")).json()["flags"] == []


def test_changes_and_extracts_over_http(world: World, client: TestClient, login: Any) -> None:
    department(world)
    pid, _ = person(world)
    headers = login("health_liaison_wang")
    first = client.get("/departments/health/changes", params={"limit": 1}, headers=headers).json()
    assert len(first["items"]) == 1 and first["has_more"] is True
    rest = client.get(
        "/departments/health/changes", params={"cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert rest["has_more"] is False and {i["kind"] for i in first["items"] + rest["items"]} == {
        "person",
        "document",
    }
    bad = client.get("/departments/health/changes", params={"cursor": "!!"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "department.cursor_invalid"
    csv_r = client.get("/departments/health/extract.csv", params={"kind": "person"}, headers=headers)
    assert csv_r.status_code == 200
    lines = csv_r.content.decode("utf-8-sig").splitlines()
    assert lines == ["id,version,birth_date,name,sex", f"{pid},1,1990-01-01,张伟,1"]
    x = client.get("/departments/health/extract.xlsx", headers=headers)
    wb = load_workbook(io.BytesIO(x.content), read_only=True)
    assert sorted(wb.sheetnames) == ["document", "person"]
    refused = client.get("/departments/health/extract.csv", params={"kind": "residence"}, headers=headers)
    assert refused.status_code == 403


def test_statistics_gets_aggregates_over_http(world: World, client: TestClient, login: Any) -> None:
    department(world, "statistics", reads={"person": ["sex"]}, aggregates_only=True, purpose="人口统计")
    person(world)
    admin = login("city_admin_wang")
    r = client.get("/departments/statistics/extract.csv", headers=admin)
    assert r.status_code == 200
    assert r.content.decode("utf-8-sig").splitlines()[1].split(",")[-3:] == ["sex", "1", "1"]
    assert client.get("/departments/statistics/changes", headers=admin).json()["error"]["code"] == (
        "department.aggregates_only"
    )


def test_the_exchange_log_is_verified_over_http(world: World, client: TestClient, login: Any) -> None:
    department(world)
    person(world)
    client.get("/departments/health/extract.csv", headers=login("health_liaison_wang"))
    r = client.get("/departments/exchange-log/verify", headers=login("auditor_sun"))
    assert r.status_code == 200 and (r.json()["ok"], r.json()["entries"]) == (True, 1)
    assert client.get("/departments/exchange-log/verify", headers=login("police_liu")).status_code == 403


def test_an_xlsx_batch_with_chinese_headers_is_accepted(world: World, client: TestClient, login: Any) -> None:
    from openpyxl import Workbook

    department(world)
    pid, number = person(world)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["证件号码", "职业"])
    ws.append([number, "护士"])
    buf = io.BytesIO()
    wb.save(buf)
    r = _upload(client, login("health_liaison_wang"), buf.getvalue(), "feed.xlsx")
    assert r.status_code == 201, r.text
    with world.session() as s:
        row = history.open_row(s, persons.PERSON, pid)
        assert (row.occupation, row.source_ref) == ("护士", f"batch:{r.json()['batch_id']}")


def test_other_roles_may_not_submit_batches_or_pull(world: World, client: TestClient, login: Any) -> None:
    department(world)
    _, number = person(world)
    before = counts(world)
    r = _upload(
        client, login("collector_zhang"), csv_bytes([["证件号码", "联系电话"], [number, "13812345678"]])
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "access.forbidden"
    pulled = client.get("/departments/health/changes", headers=login("police_liu"))
    assert pulled.status_code == 403 and pulled.json()["error"]["code"] == "access.forbidden"
    assert counts(world) == before


def test_the_precedence_file_setting_replaces_the_packaged_rules(
    world: World, engine: Any, clock: Any, tmp_path: Any
) -> None:
    from liangshi.config import Settings
    from liangshi.http.app import create_app

    rules_file = tmp_path / "precedence.toml"
    rules_file.write_text('[authoritative.person]\noccupation = ["health"]\n', encoding="utf-8")
    own = TestClient(
        create_app(
            Settings(database_url="sqlite://", precedence_file=str(rules_file)), clock=clock, engine=engine
        )
    )
    department(world)
    pid, number = person(world, occupation="工人")
    token = own.post("/auth/token", json={"username": "health_liaison_wang", "password": "Test-password-1"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r = _upload(own, headers, csv_bytes([["证件号码", "职业"], [number, "教师"]]))
    assert r.status_code == 201 and (r.json()["applied"], r.json()["conflicts"]) == (1, [])
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, pid).occupation == "教师"
