"""Issue 18 findings on input: integers beyond 64 bits and NUL bytes give 422 naming the field, never 500."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import INSIDE, World

HUGE = 2**63  # one past the largest signed 64-bit integer


def _field(r: Any) -> str:
    assert r.status_code == 422, r.text
    return str(r.json()["error"]["data"]["field"])


def test_path_id_beyond_64_bits_is_422_naming_the_field(client: TestClient, login: Any) -> None:
    r = client.get(f"/persons/{HUGE}/residences", headers=login("collector_zhang"))
    assert _field(r) == "object_id"
    assert r.json()["error"]["code"] == "request.invalid"


def test_negative_path_id_beyond_64_bits_is_422(client: TestClient, login: Any) -> None:
    r = client.get(f"/persons/{-(HUGE + 1)}/residences", headers=login("collector_zhang"))
    assert _field(r) == "object_id"


def test_largest_64_bit_id_is_an_ordinary_404(client: TestClient, login: Any) -> None:
    r = client.get(f"/persons/{HUGE - 1}/residences", headers=login("collector_zhang"))
    assert r.status_code == 404, r.text


def test_query_filter_beyond_64_bits_is_422(client: TestClient, login: Any) -> None:
    r = client.get("/persons", params={"area_id": str(HUGE)}, headers=login("collector_zhang"))
    assert _field(r) == "area_id"


def test_json_integer_beyond_64_bits_is_422_naming_the_field(
    world: World, client: TestClient, login: Any
) -> None:
    body = {"area_id": HUGE, "name": "张伟"}
    r = client.post("/persons", json=body, headers=login("collector_zhang"))
    assert _field(r) == "area_id"


def test_nul_byte_in_json_string_is_422_naming_the_field(
    world: World, client: TestClient, login: Any
) -> None:
    body = {"area_id": world.area(INSIDE), "name": "张\x00伟"}
    r = client.post("/persons", json=body, headers=login("collector_zhang"))
    assert _field(r) == "name"


def test_nul_byte_in_login_is_422_not_500(client: TestClient) -> None:
    r = client.post("/auth/token", json={"username": "admin\x00", "password": "x"})
    assert _field(r) == "username"


def test_nul_byte_in_form_login_is_422(client: TestClient) -> None:
    r = client.post("/web/login", data={"username": "admin\x00", "password": "x"})
    assert r.status_code == 422, r.text


def test_nul_byte_in_query_is_422(client: TestClient, login: Any) -> None:
    r = client.get("/persons", params={"name": "张\x00"}, headers=login("collector_zhang"))
    assert _field(r) == "name"


def test_nested_json_field_is_named_with_its_path(world: World, client: TestClient, login: Any) -> None:
    body = {"area_id": world.area(INSIDE), "documents": [{"doc_type": "resident_id", "number": "1\x00"}]}
    r = client.post("/persons", json=body, headers=login("collector_zhang"))
    assert _field(r) == "documents.0.number"


def test_english_message_names_the_field(client: TestClient, login: Any) -> None:
    h = {**login("collector_zhang"), "Accept-Language": "en"}
    r = client.get(f"/persons/{HUGE}/residences", headers=h)
    assert "object_id" in r.json()["error"]["message"]
    assert "64-bit" in r.json()["error"]["message"]


def test_json_nested_beyond_the_depth_limit_is_422(client: TestClient, login: Any) -> None:
    deep = "[" * 5_000 + "]" * 5_000
    r = client.post(
        "/persons",
        content=b'{"name": ' + deep.encode() + b"}",
        headers={**login("collector_zhang"), "Content-Type": "application/json"},
    )
    assert _field(r) == "body"
    assert r.json()["error"]["data"]["errors"][0]["code"] == "json_too_deep"
