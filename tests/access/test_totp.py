"""Issue 18, 等保 2.0 level 3: administrators and auditors log in with a second factor (TOTP, RFC 6238), enrolled
on their first web login; codes in the web and the API token flow, recovery codes, a CLI reset."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from liangshi.access.models import ApiToken, RecoveryCode, User
from liangshi.audit.models import AuditEntry
from liangshi.cli.main import app as cli
from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.http.app import create_app
from tests.conftest import NOW, PASSWORD, World
from tests.web.conftest import csrf_of, form_login

ROLES = "city_admin,district_admin,station_admin,auditor"


class Moving:
    """A clock the test moves on."""

    def __init__(self) -> None:
        self.at = NOW

    def clock(self) -> Clock:
        return Clock(lambda: self.at)


@pytest.fixture
def moving() -> Moving:
    return Moving()


@pytest.fixture
def totp_app(world: World, engine: Engine, moving: Moving) -> Any:
    """The app with two-factor login for the admin and auditor roles (the default outside the tests)."""
    return create_app(
        Settings(database_url="sqlite://", totp_roles=ROLES), clock=moving.clock(), engine=engine
    )


def _code(secret: str, at: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def _enrol(client: TestClient, at: dt.datetime) -> tuple[str, list[str]]:
    """Log in as station_admin_li through the forms and enrol; the secret and the recovery codes."""
    r = form_login(client, "station_admin_li")
    assert r.status_code == 303
    assert r.headers["location"].startswith("/web/totp/enrol")
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    assert 'src="data:image/svg+xml' in page.text  # the QR code, no external service
    done = client.post(
        "/web/totp/enrol", data={"code": _code(secret, at), "csrf_token": csrf_of(page.text), "next": "/web/"}
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def test_the_default_settings_ask_admins_and_auditors_for_a_second_factor() -> None:
    default = Settings.model_fields["totp_roles"].default
    assert set(default.split(",")) == {"city_admin", "district_admin", "station_admin", "auditor"}


def test_an_admin_enrols_on_first_login_and_the_session_opens(
    totp_app: Any, moving: Moving, world: World
) -> None:
    client = TestClient(totp_app, follow_redirects=False)
    r = form_login(client, "station_admin_li")
    # Before enrolment the staged session opens no page.
    assert client.get("/web/").status_code == 303
    assert client.get("/web/").headers["location"].startswith("/web/login")
    secret, codes = _enrol(TestClient(totp_app, follow_redirects=False), moving.at)
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "station_admin_li")).scalar_one()
        assert user.totp_enabled_at is not None and user.totp_secret == secret
        stored = (
            s.execute(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).scalars().all()
        )
        assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "user.totp_enrol")).first()
    assert r.status_code == 303


def test_an_enrolled_admin_gives_a_code_at_the_next_web_login(totp_app: Any, moving: Moving) -> None:
    first = TestClient(totp_app, follow_redirects=False)
    secret, _ = _enrol(first, moving.at)
    assert first.get("/web/").status_code == 200
    moving.at += dt.timedelta(minutes=1)
    client = TestClient(totp_app, follow_redirects=False)
    r = form_login(client, "station_admin_li")
    assert r.headers["location"].startswith("/web/login/totp")
    form = client.get(r.headers["location"])
    wrong = client.post("/web/login/totp", data={"code": "000000", "csrf_token": csrf_of(form.text)})
    assert wrong.status_code == 401 and "动态验证码或恢复码错误" in wrong.text
    assert client.get("/web/").status_code == 303  # still no session
    ok = client.post(
        "/web/login/totp",
        data={"code": _code(secret, moving.at), "csrf_token": csrf_of(form.text), "next": "/web/"},
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/web/"
    assert client.get("/web/").status_code == 200


def test_the_api_token_flow_asks_for_the_code(totp_app: Any, moving: Moving) -> None:
    client = TestClient(totp_app)
    body = {"username": "station_admin_li", "password": PASSWORD}
    r = client.post("/auth/token", json=body)
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.totp_enrolment_required"
    secret, codes = _enrol(TestClient(totp_app, follow_redirects=False), moving.at)
    moving.at += dt.timedelta(minutes=1)
    assert client.post("/auth/token", json=body).json()["error"]["code"] == "auth.totp_required"
    assert client.post("/auth/token", json={**body, "totp_code": "123456"}).json()["error"]["code"] == (
        "auth.totp_invalid"
    )
    code = _code(secret, moving.at)
    r = client.post("/auth/token", json={**body, "totp_code": code})
    assert r.status_code == 200
    assert (
        client.get("/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).status_code
        == 200
    )
    # The same code is never accepted twice (a replayed code).
    assert client.post("/auth/token", json={**body, "totp_code": code}).status_code == 401
    # A recovery code logs in once.
    assert client.post("/auth/token", json={**body, "totp_code": codes[0]}).status_code == 200
    assert client.post("/auth/token", json={**body, "totp_code": codes[0]}).status_code == 401
    # Roles without the second factor are not asked.
    assert (
        client.post("/auth/token", json={"username": "police_liu", "password": PASSWORD}).status_code == 200
    )


def test_wrong_codes_count_towards_the_lockout(totp_app: Any, moving: Moving) -> None:
    secret, _ = _enrol(TestClient(totp_app, follow_redirects=False), moving.at)
    client = TestClient(totp_app)
    body = {"username": "station_admin_li", "password": PASSWORD}
    for _ in range(5):
        assert client.post("/auth/token", json={**body, "totp_code": "000000"}).status_code == 401
    r = client.post(
        "/auth/token", json={**body, "totp_code": _code(secret, moving.at + dt.timedelta(seconds=30))}
    )
    assert r.json()["error"]["code"] == "auth.locked"


def test_a_wrong_first_code_keeps_the_enrolment_open(totp_app: Any) -> None:
    client = TestClient(totp_app, follow_redirects=False)
    r = form_login(client, "station_admin_li")
    page = client.get(r.headers["location"])
    bad = client.post("/web/totp/enrol", data={"code": "12345", "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 422 and "验证码不正确" in bad.text
    assert client.get("/web/").status_code == 303


def test_the_cli_resets_a_users_totp(
    totp_app: Any, moving: Moving, world: World, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _enrol(TestClient(totp_app, follow_redirects=False), moving.at)
    monkeypatch.setenv("LIANGSHI_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["user", "totp-reset", "station_admin_li"])
    assert result.exit_code == 0, result.output
    assert "station_admin_li" in result.output
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "station_admin_li")).scalar_one()
        assert user.totp_enabled_at is None and user.totp_secret is None
        assert not s.execute(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).first()
        assert all(
            t.revoked_at for t in s.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalars()
        )
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "user.totp_reset")).first()
    # At the next login the admin enrols again.
    assert (
        form_login(TestClient(totp_app, follow_redirects=False), "station_admin_li")
        .headers["location"]
        .startswith("/web/totp/enrol")
    )
    unknown = CliRunner().invoke(cli, ["user", "totp-reset", "nobody_at_all"])
    assert unknown.exit_code != 0 and "user.not_found" in unknown.output
