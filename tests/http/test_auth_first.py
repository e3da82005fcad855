"""Issue 18: a request without credentials gets 401 before any validation of its parameters or body."""

from __future__ import annotations

from fastapi.testclient import TestClient


def _required(r: object) -> None:
    assert r.status_code == 401, r.text  # type: ignore[attr-defined]
    assert r.json()["error"]["code"] == "auth.required"  # type: ignore[attr-defined]


def test_invalid_body_without_credentials_is_401_not_422(client: TestClient) -> None:
    _required(client.post("/persons", json={"name": 5}))


def test_invalid_path_parameter_without_credentials_is_401(client: TestClient) -> None:
    _required(client.get("/persons/not-a-number/residences"))


def test_out_of_range_id_without_credentials_is_401(client: TestClient) -> None:
    _required(client.get(f"/persons/{2**64}/residences"))


def test_department_upload_without_credentials_is_401_before_the_file_is_read(client: TestClient) -> None:
    _required(client.post("/departments/x/batches", files={"file": ("a.csv", b"\xff\xfe broken")}))


def test_a_non_bearer_authorization_is_401(client: TestClient) -> None:
    _required(client.post("/persons", json={}, headers={"Authorization": "Basic abc"}))


def test_login_itself_still_validates_its_body(client: TestClient) -> None:
    r = client.post("/auth/token", json={"username": 5})
    assert r.status_code == 422


def test_health_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


def test_web_pages_still_redirect_to_login(client: TestClient) -> None:
    r = client.get("/web/", follow_redirects=False)
    assert r.status_code in (302, 303)
