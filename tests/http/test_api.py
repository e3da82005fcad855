"""The HTTP API: the registry's use cases over HTTP, errors, bad input, concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.persons.models import Person, PersonVersion
from tests import factories
from tests.conftest import INSIDE, World

VALID_ID = "11010519491231002X"


def _counts(world: World) -> tuple[int, int, int]:
    with world.session() as s:
        return (
            s.execute(select(func.count()).select_from(Person)).scalar_one(),
            s.execute(select(func.count()).select_from(PersonVersion)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def _person_body(world: World, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "area_id": world.area(INSIDE),
        "name": "张伟",
        "sex": "2",  # sequence 002 is even: female
        "ethnicity": "01",
        "hukou_region": "110105",
        "phone": "138 1234 5678",
        "documents": [{"doc_type": "resident_id", "number": "11010519491231002x"}],
        "provenance": {"source_kind": "collector", "evidence": "document", "document_ref": "身份证原件"},
    }
    body.update(over)
    return body


def _place(world: World) -> factories.Place:
    with world.session() as s:
        return factories.place(s, world.ctx(s), area_id=world.area(INSIDE), district_id=world.area("420704"))


def test_police_registers_a_person_and_a_collector_reads_it_back_masked(
    world: World, client: TestClient, login: Any
) -> None:
    # Issue 14: a collector no longer registers a person through POST /persons (a change set via POST /sync; see
    # test_a_collector_never_writes_live_persons_through_the_generic_api); the police does, and the collector
    # reads it back, masked.
    h = login("collector_zhang")
    r = client.post("/persons", json=_person_body(world), headers=login("police_liu"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["attributes"]["name"] == "张伟"
    assert body["attributes"]["birth_date"] == "1949-12-31"  # taken from the ID number
    assert body["attributes"]["phone"] == "+8613812345678"
    assert body["extra"]["documents"][0]["number"] == "110105********002X"
    assert body["provenance"]["document_ref"] == "身份证原件"
    got = client.get(f"/persons/{body['id']}", headers=h).json()
    assert got["version"] == 1 and got["extra"]["documents"][0]["masked"] is True


def test_police_unmask_needs_a_reason_and_is_audited(world: World, client: TestClient, login: Any) -> None:
    # Registered by the community police (issue 14: a collector's POST /persons is a change set, not a person).
    pid = client.post("/persons", json=_person_body(world), headers=login("police_liu")).json()["id"]
    h = login("police_liu")
    assert client.post(f"/persons/{pid}/unmask", json={}, headers=h).status_code == 422
    r = client.post(f"/persons/{pid}/unmask", json={"reason": "核对身份"}, headers=h)
    assert r.status_code == 200
    assert r.json()["documents"][0]["number"] == VALID_ID
    log = client.get(f"/persons/{pid}/access-log", headers=login("auditor_sun")).json()
    unmasks = [e for e in log["entries"] if e["action"] == "person.unmask"]
    assert unmasks and unmasks[0]["actor"] == "police_liu"
    assert (
        client.post(
            f"/persons/{pid}/unmask", json={"reason": "x"}, headers=login("collector_zhang")
        ).status_code
        == 403
    )


def test_access_log_lists_every_read_and_write_with_purpose(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("police_liu")
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    client.get(f"/persons/{pid}", headers={**h, "X-Purpose": quote("入户核查")})
    log = client.get(f"/persons/{pid}/access-log", headers=login("auditor_sun")).json()
    actions = [(e["actor"], e["action"], e["purpose"]) for e in log["entries"]]
    assert ("police_liu", "person.read", "入户核查") in actions
    assert ("police_liu", "person.create", None) in actions
    assert log["total"] == len(log["entries"])


def test_access_log_entries_carry_the_action_label_beside_the_raw_action(
    world: World, client: TestClient, login: Any
) -> None:
    h = login("police_liu")
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    client.get(f"/persons/{pid}", headers=h)
    log = client.get(f"/persons/{pid}/access-log", headers=login("auditor_sun")).json()
    by_action = {e["action"]: e["action_label"] for e in log["entries"]}
    assert by_action["person.read"] == {"zh": "查阅人员", "en": "Read the person"}
    assert by_action["person.create"] == {"zh": "新建人员", "en": "Created the person"}


def test_change_correct_and_history_over_http(world: World, client: TestClient, login: Any) -> None:
    h = login("police_liu")
    pid = client.post("/persons", json=_person_body(world, valid_from="2020-01-01"), headers=h).json()["id"]
    r = client.patch(
        f"/persons/{pid}",
        json={"expected_version": 1, "effective": "2026-06-01", "occupation": "教师"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = client.post(
        f"/persons/{pid}/corrections",
        json={"expected_version": 2, "reason": "职业录错", "occupation": "医生"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["attributes"]["occupation"] == "医生"
    old = client.get(f"/persons/{pid}", params={"as_of": "2026-05-01"}, headers=h).json()
    assert old["attributes"]["occupation"] is None
    hist = client.get(f"/persons/{pid}/history", headers=h).json()["versions"]
    assert [v["change"] for v in hist] == ["create", "close", "change", "correct"]
    assert hist[3]["corrects_row_id"] == hist[2]["row_id"]


def test_stale_write_gets_409_with_versions(world: World, client: TestClient, login: Any) -> None:
    h = login("police_liu")
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    assert (
        client.patch(
            f"/persons/{pid}", json={"expected_version": 1, "occupation": "司机"}, headers=h
        ).status_code
        == 200
    )
    r = client.patch(f"/persons/{pid}", json={"expected_version": 1, "occupation": "厨师"}, headers=h)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "version.stale"
    assert r.json()["error"]["data"]["current_version"] == 2


def test_two_writers_on_one_household_the_second_gets_409(
    world: World, client: TestClient, login: Any
) -> None:
    place = _place(world)
    with world.session() as s:
        ctx = world.ctx(s)
        head = factories.person(s, ctx, area_id=world.area(INSIDE), name="王强")
        wife = factories.person(s, ctx, area_id=world.area(INSIDE), name="李梅", male=False)
        son = factories.person(s, ctx, area_id=world.area(INSIDE), name="王小明")
        hid = factories.household(
            s, ctx, area_id=world.area(INSIDE), dwelling_id=place.dwelling_id, members=[(head, "02")]
        )
    version = client.get(f"/households/{hid}", headers=login("police_liu")).json()["version"]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def write(person_id: int, relationship: str, who: str) -> None:
        headers = login(who)
        barrier.wait()
        r = client.post(
            f"/households/{hid}/members",
            json={"expected_version": version, "person_id": person_id, "relationship": relationship},
            headers=headers,
        )
        results.append(r.status_code)

    login("police_liu")
    threads = [
        threading.Thread(target=write, args=(wife, "10", "police_liu")),
        threading.Thread(target=write, args=(son, "20", "police_liu")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    members = client.get(f"/households/{hid}", headers=login("police_liu")).json()["extra"]["members"]
    assert len(members) == 2


def test_cha_ren_zhi_zhu_and_cha_fang_zhi_ren(world: World, client: TestClient, login: Any) -> None:
    place = _place(world)
    h = login("police_liu")
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    r = client.post(
        "/residences",
        json={
            "person_id": pid,
            "dwelling_id": place.dwelling_id,
            "category": "floating",
            "arrival_date": "2026-03-01",
            "registration_date": "2026-03-02",
            "intended_stay_until": "2027-03-01",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    found = client.post("/persons/lookup", json={"id_number": "110105 19491231 002x"}, headers=h).json()
    assert found["person_id"] == pid
    assert found["current"][0]["dwelling_id"] == place.dwelling_id
    assert "3栋1单元501室" in found["current"][0]["address"]["text"]
    r = client.post(
        f"/residences/{rid}/deregister",
        json={
            "expected_version": 1,
            "departure_date": "2026-10-01",
            "reason": "left_city",
            "destination": "武汉市",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    before = client.get(
        f"/dwellings/{place.dwelling_id}/occupants", params={"on": "2026-09-30"}, headers=h
    ).json()
    after = client.get(
        f"/dwellings/{place.dwelling_id}/occupants", params={"on": "2026-10-01"}, headers=h
    ).json()
    assert [o["person_id"] for o in before["occupants"]] == [pid]
    assert after["occupants"] == []
    history = client.get(f"/persons/{pid}/residences", headers=h).json()
    assert history["current"] == [] and history["history"][0]["deregistration_reason"] == "left_city"


def test_out_of_jurisdiction_object_is_404_not_403(world: World, client: TestClient, login: Any) -> None:
    pid = client.post("/persons", json=_person_body(world), headers=login("police_liu")).json()["id"]
    r = client.get(f"/persons/{pid}", headers=login("collector_zhou"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "person.not_found"
    missing = client.get("/persons/999999", headers=login("collector_zhou"))
    assert missing.json()["error"] == r.json()["error"] | {"data": {"id": 999999}}


def test_english_messages_on_request(world: World, client: TestClient, login: Any) -> None:
    r = client.get("/persons/999999", headers={**login("collector_zhang"), "Accept-Language": "en"})
    assert r.json()["error"]["message"] == "Person not found"
    r = client.get("/persons/999999", headers=login("collector_zhang"))
    assert r.json()["error"]["message"] == "未找到该人员"


def test_requests_without_a_valid_token_are_401(client: TestClient, world: World) -> None:
    assert client.get("/persons/1").status_code == 401
    r = client.get("/persons/1", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.token_invalid"


def test_login_locks_after_five_failures(client: TestClient, world: World) -> None:
    for _ in range(5):
        assert (
            client.post("/auth/token", json={"username": "collector_zhang", "password": "wrong"}).status_code
            == 401
        )
    r = client.post("/auth/token", json={"username": "collector_zhang", "password": "Test-password-1"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.locked"


def test_logout_revokes_the_token(client: TestClient, world: World, login: Any) -> None:
    h = login("police_liu")
    assert client.post("/auth/logout", headers=h).status_code == 204
    assert client.get("/users/me", headers=h).status_code == 401


# ---- bad input: a clear 4xx naming the field, and nothing written -------------------------------------------


def _refused(
    world: World,
    client: TestClient,
    login: Any,
    body: Any,
    *,
    status: int,
    field: str | None,
    raw: bytes | None = None,
) -> dict[str, Any]:
    before = _counts(world)
    h = {**login("police_liu"), "Content-Type": "application/json"}
    r = (
        client.post("/persons", content=raw, headers=h)
        if raw is not None
        else client.post("/persons", json=body, headers=h)
    )
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "data"} and err["message"]
    if field is not None:
        assert err["data"]["field"] == field, err
    assert _counts(world) == before
    return err


def test_malformed_json_is_400(world: World, client: TestClient, login: Any) -> None:
    err = _refused(world, client, login, None, status=400, field=None, raw='{"name": "张伟",'.encode())
    assert err["code"] == "request.malformed_json"


def test_wrong_type_names_the_field(world: World, client: TestClient, login: Any) -> None:
    _refused(world, client, login, _person_body(world, area_id="abc"), status=422, field="area_id")


def test_unknown_code_names_the_field(world: World, client: TestClient, login: Any) -> None:
    err = _refused(world, client, login, _person_body(world, ethnicity="99"), status=422, field="ethnicity")
    assert err["data"]["errors"][0]["code"] == "code.unknown"


def test_impossible_date_names_the_field(world: World, client: TestClient, login: Any) -> None:
    _refused(
        world, client, login, _person_body(world, birth_date="1990-02-30"), status=422, field="birth_date"
    )
    _refused(
        world, client, login, _person_body(world, birth_date="2030-01-01"), status=422, field="birth_date"
    )


def test_id_with_wrong_check_character_is_refused(world: World, client: TestClient, login: Any) -> None:
    body = _person_body(world, documents=[{"doc_type": "resident_id", "number": "110105194912310021"}])
    err = _refused(world, client, login, body, status=422, field="documents.0")
    assert err["data"]["errors"][0]["code"] == "id_number.checksum"


def test_html_and_sql_in_text_fields_are_refused(world: World, client: TestClient, login: Any) -> None:
    _refused(world, client, login, _person_body(world, name="<b>张伟</b>"), status=422, field="name")
    err = _refused(
        world,
        client,
        login,
        _person_body(world, workplace="x'; DROP TABLE persons; --"),
        status=422,
        field="workplace",
    )
    assert err["data"]["errors"][0]["code"] == "text.forbidden"
    _refused(
        world,
        client,
        login,
        _person_body(world, hukou_address="<script>alert(1)</script>"),
        status=422,
        field="hukou_address",
    )


def test_unknown_fields_are_refused(world: World, client: TestClient, login: Any) -> None:
    _refused(world, client, login, _person_body(world, is_admin=True), status=422, field="is_admin")


def test_oversized_payload_is_413(world: World, client: TestClient, login: Any) -> None:
    err = _refused(
        world, client, login, _person_body(world, occupation="教" * 600_000), status=413, field=None
    )
    assert err["code"] == "request.too_large"


def test_business_rule_failure_writes_nothing(world: World, client: TestClient, login: Any) -> None:
    h = login("police_liu")
    assert client.post("/persons", json=_person_body(world), headers=h).status_code == 201
    # The same ID again: refused after the person row was flushed — the whole transaction rolls back.
    err = _refused(world, client, login, _person_body(world, name="张伟伟"), status=409, field="documents")
    assert err["code"] == "person.document_taken"


def test_id_contradicting_birth_date_is_refused(world: World, client: TestClient, login: Any) -> None:
    err = _refused(
        world, client, login, _person_body(world, birth_date="1950-01-01"), status=422, field="birth_date"
    )
    assert err["code"] == "person.birth_date_mismatch"


def test_openapi_documents_every_route_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/persons/lookup" in spec["paths"] and "/dwellings/{object_id}/occupants" in spec["paths"]
    person_create = spec["components"]["schemas"]["PersonCreate"]
    assert person_create.get("examples")


def test_arrival_in_the_future_is_refused_over_http(world: World, client: TestClient, login: Any) -> None:
    place = _place(world)
    h = login("police_liu")
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    tomorrow = (world.clock.today() + dt.timedelta(days=1)).isoformat()
    r = client.post(
        "/residences",
        json={
            "person_id": pid,
            "dwelling_id": place.dwelling_id,
            "category": "floating",
            "arrival_date": tomorrow,
        },
        headers=h,
    )
    assert r.status_code == 422
    assert r.json()["error"]["data"]["field"] == "arrival_date"


def test_correcting_an_arrival_date_moves_the_residence_in_time(
    world: World, client: TestClient, login: Any
) -> None:
    place = _place(world)
    h = login("police_liu")
    pid = client.post("/persons", json=_person_body(world), headers=h).json()["id"]
    rid = client.post(
        "/residences",
        json={
            "person_id": pid,
            "dwelling_id": place.dwelling_id,
            "category": "floating",
            "arrival_date": "2026-05-01",
        },
        headers=h,
    ).json()["id"]
    r = client.post(
        f"/residences/{rid}/corrections",
        json={"expected_version": 1, "reason": "来住日期录错", "arrival_date": "2026-04-01"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["valid_from"] == "2026-04-01"
    occupants = client.get(
        f"/dwellings/{place.dwelling_id}/occupants", params={"on": "2026-04-15"}, headers=h
    )
    assert [o["person_id"] for o in occupants.json()["occupants"]] == [pid]
    bad = client.post(
        f"/residences/{rid}/corrections",
        json={"expected_version": 2, "reason": "x", "arrival_date": "2030-01-01"},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json()["error"]["data"]["field"] == "arrival_date"


def test_a_collector_never_writes_live_persons_through_the_generic_api(
    world: World, client: TestClient, login: Any
) -> None:
    """Issue 14: what a collector collects is a change set (POST /sync); the generic writes of persons,
    households and residences refuse them with a pointer to that route, and write nothing."""
    collector = {**login("collector_zhang"), "Accept-Language": "en"}
    r = client.post("/persons", json=_person_body(world), headers=collector)
    assert r.status_code == 403
    error = r.json()["error"]
    assert error["code"] == "changeset.required" and "POST /sync" in error["message"]
    assert error["data"] == {"kind": "person", "route": "POST /sync", "desk": "GET /change-sets/outbox"}
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Person)).scalar_one() == 0
    pid = client.post("/persons", json=_person_body(world), headers=login("police_liu")).json()["id"]
    version = client.get(f"/persons/{pid}", headers=collector).json()["version"]  # reading stays open
    patch = {"expected_version": version, "occupation": "司机"}
    r = client.patch(f"/persons/{pid}", json=patch, headers=collector)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.required")
    r = client.post("/households", json={"area_id": world.area(INSIDE), "members": []}, headers=collector)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "changeset.required")
    # The station keeps its direct writes.
    assert client.patch(f"/persons/{pid}", json=patch, headers=login("police_liu")).status_code == 200
    assert client.get(f"/persons/{pid}", headers=collector).json()["attributes"]["occupation"] == "司机"
