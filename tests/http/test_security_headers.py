"""Issue 18 web hygiene: every response carries the security headers; personal pages are never cached."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.http.app import create_app


def _hygienic(r: Any) -> None:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"


def test_api_responses_carry_the_security_headers_and_are_not_stored(client: TestClient, login: Any) -> None:
    r = client.get("/persons", headers=login("collector_zhang"))
    assert r.status_code == 200
    _hygienic(r)
    assert r.headers["cache-control"] == "no-store"


def test_error_responses_carry_them_too(client: TestClient) -> None:
    r = client.get("/persons")
    assert r.status_code == 401
    _hygienic(r)
    assert r.headers["cache-control"] == "no-store"


def test_web_pages_carry_them_and_are_not_stored(client: TestClient) -> None:
    r = client.get("/web/login")
    assert r.status_code == 200
    _hygienic(r)
    assert r.headers["cache-control"] == "no-store"


def test_static_files_may_be_cached_but_are_not_sniffed(client: TestClient) -> None:
    r = client.get("/web/static/app.css")
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers.get("cache-control") != "no-store"


def test_no_hsts_without_secure_cookies(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/health").headers


def test_hsts_when_secure_cookies_are_on(engine: Any, clock: Clock) -> None:
    app = create_app(Settings(database_url="sqlite://", cookie_secure=True), clock=clock, engine=engine)
    r = TestClient(app).get("/health")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")
