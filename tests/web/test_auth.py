"""Login, logout, lockout, CSRF and the language switch, through the web pages (fast, no browser)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.access.models import ApiToken
from liangshi.clock import fixed
from liangshi.config import Settings
from liangshi.http.app import create_app
from tests.conftest import NOW, PERSONAS, World
from tests.web.conftest import csrf_of, form_login


def test_login_page_is_chinese_by_default(web: TestClient) -> None:
    r = web.get("/web/login")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text
    assert "用户名" in r.text and "密码" in r.text and "登录" in r.text


def test_pages_need_a_login_and_come_back_after_it(web: TestClient) -> None:
    r = web.get("/web/")
    assert r.status_code == 303
    assert r.headers["location"] == "/web/login?next=%2Fweb%2F"


def test_htmx_requests_without_login_get_an_hx_redirect(web: TestClient) -> None:
    r = web.get("/web/", headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r.headers["HX-Redirect"].startswith("/web/login")


@pytest.mark.parametrize("username", list(PERSONAS))
def test_every_persona_logs_in_and_sees_their_home_page(
    web_as: Callable[[str], TestClient], username: str
) -> None:
    client = web_as(username)
    r = client.get("/web/")
    assert r.status_code == 200
    assert f"{username}，您好" in r.text
    assert 'data-testid="who"' in r.text


def test_session_cookie_is_httponly_and_samesite_lax(web: TestClient, world: World) -> None:
    r = form_login(web, "collector_zhang")
    assert r.status_code == 303
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("ls_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    with world.session() as session:
        stored = session.execute(select(ApiToken.token_hash)).scalars().all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_secure_cookie_when_configured(engine: Any, world: World) -> None:
    app = create_app(Settings(database_url="sqlite://", cookie_secure=True), clock=fixed(NOW), engine=engine)
    r = form_login(TestClient(app, follow_redirects=False), "collector_zhang")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("ls_session="))
    assert "Secure" in cookie


def test_wrong_password_is_refused_with_a_chinese_message(web: TestClient) -> None:
    r = form_login(web, "collector_zhang", "wrong-password")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert "ls_session" not in r.cookies


def test_five_failures_lock_the_account(web: TestClient) -> None:
    for _ in range(5):
        assert form_login(web, "police_liu", "wrong-password").status_code == 401
    r = form_login(web, "police_liu")
    assert r.status_code == 401
    assert "账户已暂时锁定" in r.text


def test_logout_revokes_the_session(web_as: Callable[[str], TestClient]) -> None:
    client = web_as("collector_zhang")
    token = client.cookies["ls_session"]
    home = client.get("/web/")
    r = client.post("/web/logout", data={"csrf_token": csrf_of(home.text)})
    assert r.status_code == 303 and r.headers["location"] == "/web/login"
    # The old cookie no longer opens anything, even when replayed.
    client.cookies.set("ls_session", token)
    assert client.get("/web/").status_code == 303
    assert "您已安全退出" in client.get("/web/login").text


def test_post_without_csrf_token_is_refused(web_as: Callable[[str], TestClient]) -> None:
    client = web_as("collector_zhang")
    r = client.post("/web/logout", data={})
    assert r.status_code == 403
    assert 'data-code="csrf.invalid"' in r.text and "安全令牌" in r.text
    r = client.post("/web/logout", data={"csrf_token": "forged"})
    assert r.status_code == 403
    # Still logged in: the refused POST changed nothing.
    assert client.get("/web/").status_code == 200


def test_login_form_without_csrf_token_is_refused(web: TestClient) -> None:
    r = web.post("/web/login", data={"username": "collector_zhang", "password": "x"})
    assert r.status_code == 403


def test_csrf_token_is_accepted_as_an_htmx_header(web_as: Callable[[str], TestClient]) -> None:
    client = web_as("collector_zhang")
    token = csrf_of(client.get("/web/").text)
    r = client.post("/web/logout", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 303


def test_language_switch_sets_a_cookie_and_pages_turn_english(web_as: Callable[[str], TestClient]) -> None:
    client = web_as("collector_zhang")
    r = client.get("/web/lang", params={"lang": "en", "next": "/web/"})
    assert r.status_code == 303 and r.headers["location"] == "/web/"
    page = client.get("/web/")
    assert '<html lang="en">' in page.text
    assert "Welcome, collector_zhang" in page.text and "Collector" in page.text
    assert "中文" in page.text  # the switch back


def test_language_switch_never_redirects_off_site(web: TestClient) -> None:
    r = web.get("/web/lang", params={"lang": "en", "next": "//evil.example/"})
    assert r.headers["location"] == "/web/"


def test_unknown_web_page_is_an_html_404(web_as: Callable[[str], TestClient]) -> None:
    client = web_as("collector_zhang")
    r = client.get("/web/no-such-page")
    assert r.status_code == 404
    assert "未找到该页面" in r.text and r.headers["content-type"].startswith("text/html")


def test_api_errors_stay_json(client: TestClient) -> None:
    r = client.get("/persons/1")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth.required"


def test_static_files_and_vendored_htmx_are_served_locally(web: TestClient) -> None:
    css = web.get("/web/static/app.css")
    assert css.status_code == 200 and "mobile first" in css.text
    htmx = web.get("/web/static/vendor/htmx.min.js")
    assert htmx.status_code == 200, "run `make assets` (npm) to vendor the front-end libraries"
    assert "htmx" in htmx.text[:2000]
