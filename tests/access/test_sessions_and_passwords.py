"""Issue 18, 等保 2.0 level 3: sessions end after a while without use (web and API), and passwords follow a policy
(length, three character classes, not the username, none of the last N) with clear zh/en errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.access.rules import password_problems
from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.errors import ValidationFailed
from tests.conftest import NOW, PASSWORD, World
from tests.web.conftest import form_login


class Moving:
    def __init__(self) -> None:
        self.at = NOW


@pytest.fixture
def moving() -> Moving:
    return Moving()


@pytest.fixture
def idle_app(world: World, engine: Engine, moving: Moving) -> Any:
    from liangshi.http.app import create_app

    settings = Settings(database_url="sqlite://", session_idle_minutes=30)
    return create_app(settings, clock=Clock(lambda: moving.at), engine=engine)


def test_an_api_token_unused_for_the_idle_time_is_refused(idle_app: Any, moving: Moving) -> None:
    client = TestClient(idle_app)
    token = client.post("/auth/token", json={"username": "police_liu", "password": PASSWORD}).json()
    h = {"Authorization": f"Bearer {token['access_token']}", "Accept-Language": "en"}
    moving.at += dt.timedelta(minutes=29)
    assert client.get("/users/me", headers=h).status_code == 200
    # Each use moves the deadline on: 29 + 29 minutes is fine, then 31 minutes idle is not.
    moving.at += dt.timedelta(minutes=29)
    assert client.get("/users/me", headers=h).status_code == 200
    moving.at += dt.timedelta(minutes=31)
    r = client.get("/users/me", headers=h)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth.session_idle"
    assert "without use" in r.json()["error"]["message"]
    moving.at += dt.timedelta(seconds=1)
    assert client.get("/users/me", headers=h).status_code == 401  # and stays refused


def test_a_web_session_idles_out_to_the_login_page(idle_app: Any, moving: Moving) -> None:
    client = TestClient(idle_app, follow_redirects=False)
    assert form_login(client, "police_liu").status_code == 303
    assert client.get("/web/").status_code == 200
    moving.at += dt.timedelta(minutes=31)
    r = client.get("/web/")
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login")


def test_integration_tokens_have_only_their_lifetime(idle_app: Any, moving: Moving, world: World) -> None:
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "police_liu")).scalar_one()
        token = access.issue_token(s, user, name="api", days=365, now=moving.at)
    moving.at += dt.timedelta(days=3)
    assert (
        TestClient(idle_app).get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_the_idle_timeout_can_be_switched_off(world: World, engine: Engine, moving: Moving) -> None:
    from liangshi.http.app import create_app

    app = create_app(
        Settings(database_url="sqlite://", session_idle_minutes=0),
        clock=Clock(lambda: moving.at),
        engine=engine,
    )
    client = TestClient(app)
    token = client.post("/auth/token", json={"username": "police_liu", "password": PASSWORD}).json()
    moving.at += dt.timedelta(hours=5)
    h = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/users/me", headers=h).status_code == 200


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short-1", "user.password_length"),
        ("alllowercaseletters", "user.password_classes"),
        ("Police_liu-2026", "user.password_has_username"),
    ],
)
def test_the_password_rules(password: str, problem: str) -> None:
    assert problem in password_problems(password, username="police_liu", min_length=10)
    assert password_problems("Wuhan-river-2026", username="police_liu", min_length=10) == []


def test_creating_a_user_with_a_weak_password_says_why_in_both_languages(
    client: TestClient, login: Any
) -> None:
    h = login("station_admin_li")
    body = {
        "username": "collector_new",
        "display_name": "新人",
        "password": "onlylowercase",
        "role": "collector",
        "area_code": "420704001001",
    }
    r = client.post("/users", json=body, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "user.password_classes"
    assert "至少三类" in r.json()["error"]["message"]
    r = client.post(
        "/users", json={**body, "password": "Collector_new-1"}, headers={**h, "Accept-Language": "en"}
    )
    assert r.json()["error"]["code"] == "user.password_has_username"
    assert r.json()["error"]["message"] == "The password must not contain the username"
    assert client.post("/users", json={**body, "password": "Good-password-7"}, headers=h).status_code == 201


def test_a_password_change_refuses_the_last_passwords_and_ends_the_sessions(
    client: TestClient, world: World
) -> None:
    token = client.post("/auth/token", json={"username": "police_liu", "password": PASSWORD}).json()
    h = {"Authorization": f"Bearer {token['access_token']}"}
    same = client.post(
        "/users/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD}, headers=h
    )
    assert same.status_code == 422 and same.json()["error"]["code"] == "user.password_reused"
    wrong = client.post(
        "/users/me/password", json={"current_password": "nope", "new_password": "Other-password-2"}, headers=h
    )
    assert wrong.status_code == 401
    other = client.post("/auth/token", json={"username": "police_liu", "password": PASSWORD}).json()
    elsewhere = {"Authorization": f"Bearer {other['access_token']}"}
    ok = client.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "Other-password-2"},
        headers=h,
    )
    assert ok.status_code == 204
    assert client.get("/users/me", headers=elsewhere).status_code == 401  # every other session ended...
    assert client.get("/users/me", headers=h).status_code == 200  # ...but not the one that changed it
    # Back to an earlier password: refused while it is among the last five.
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "police_liu")).scalar_one()
        policy = access.PasswordPolicy(min_length=10, history=5)
        with pytest.raises(ValidationFailed) as refused:
            access.change_password(
                s, user=user, password=PASSWORD, policy=policy, actor=access.SYSTEM, now=world.clock.now()
            )
        assert refused.value.code == "user.password_reused"
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "police_liu")).scalar_one()
        for n in range(3, 8):
            access.change_password(
                s, user=user, password=f"Rotate-password-{n}", policy=policy, actor=access.SYSTEM, now=NOW
            )
        # Five changes later the first password is out of the history again.
        access.change_password(s, user=user, password=PASSWORD, policy=policy, actor=access.SYSTEM, now=NOW)
