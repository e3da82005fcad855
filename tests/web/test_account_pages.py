"""Issue 18: one's own account on the web — changing the password (current once, new twice, the policy shown,
the other sessions ended, audited) and moving two-factor login to a new authenticator."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.access.models import User
from liangshi.audit.models import AuditEntry
from tests.access.test_totp import Moving, moving, totp_app
from tests.conftest import PASSWORD, World
from tests.web.conftest import csrf_of, form_login

__all__ = ["moving", "totp_app"]
NEW = "Harbour-lights-42"


def _post(client: TestClient, current: str, new: str, again: str) -> Any:
    form = client.get("/web/account/password")
    assert form.status_code == 200
    return client.post(
        "/web/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "new_password_again": again,
            "csrf_token": csrf_of(form.text),
        },
    )


def test_the_password_page_shows_the_policy_and_is_linked_from_every_page(
    web_as: Callable[[str], TestClient],
) -> None:
    client = web_as("police_liu")
    assert 'href="/web/account/password"' in client.get("/web/").text
    page = client.get("/web/account/password")
    assert page.status_code == 200
    policy = re.search(r'data-testid="password-policy">([^<]+)<', page.text)
    assert policy and "至少10位" in policy.group(1) and "最近5次" in policy.group(1)
    assert page.text.count('type="password"') == 3


def test_changing_the_password_on_the_web_ends_the_other_sessions_only(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    client = web_as("police_liu")
    other = web_as("police_liu")
    differ = _post(client, PASSWORD, NEW, NEW + "x")
    assert differ.status_code == 422 and "两次输入的新密码不一致" in differ.text
    weak = _post(client, PASSWORD, "alllowercaseletters", "alllowercaseletters")
    assert weak.status_code == 422 and "至少三类" in weak.text
    wrong = _post(client, "Not-the-password-9", NEW, NEW)
    assert wrong.status_code == 422 and "用户名或密码错误" in wrong.text
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "police_liu")).scalar_one()
        assert user.failed_logins == 1  # a wrong current password counts towards the lockout
        assert user.password_changed_at is None
    done = _post(client, PASSWORD, NEW, NEW)
    assert done.status_code == 303 and done.headers["location"] == "/web/"
    assert client.get("/web/").status_code == 200  # this session stays
    assert other.get("/web/").status_code == 303  # the other one ended
    assert form_login(TestClient(client.app, follow_redirects=False), "police_liu").status_code == 401
    assert form_login(TestClient(client.app, follow_redirects=False), "police_liu", NEW).status_code == 303
    with world.session() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "user.password_change")).scalars()
        assert '"sessions_ended": 1' in entry.detail or '"sessions_ended":1' in entry.detail


def test_an_admin_moves_two_factor_login_to_a_new_phone_on_the_web(
    totp_app: Any, moving: Moving, world: World
) -> None:
    client = TestClient(totp_app, follow_redirects=False)
    r = form_login(client, "station_admin_li")
    enrol = client.get(r.headers["location"])
    old = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', enrol.text).group(1)  # type: ignore[union-attr]
    done = client.post(
        "/web/totp/enrol",
        data={"code": pyotp.TOTP(old).at(moving.at), "csrf_token": csrf_of(enrol.text), "next": "/web/"},
    )
    assert done.status_code == 200
    other = TestClient(totp_app, follow_redirects=False)
    moving.at += dt.timedelta(minutes=1)
    step = form_login(other, "station_admin_li")
    form = other.get(step.headers["location"])
    other.post(
        "/web/login/totp", data={"code": pyotp.TOTP(old).at(moving.at), "csrf_token": csrf_of(form.text)}
    )
    assert other.get("/web/").status_code == 200
    page = client.get("/web/account/totp")
    assert page.status_code == 200 and 'data-testid="totp-form"' in page.text
    moving.at += dt.timedelta(minutes=1)
    wrong = client.post(
        "/web/account/totp", data={"password": PASSWORD, "code": "000000", "csrf_token": csrf_of(page.text)}
    )
    assert wrong.status_code == 422 and "动态验证码或恢复码错误" in wrong.text
    started = client.post(
        "/web/account/totp",
        data={"password": PASSWORD, "code": pyotp.TOTP(old).at(moving.at), "csrf_token": csrf_of(page.text)},
    )
    assert started.status_code == 200
    new = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', started.text).group(1)  # type: ignore[union-attr]
    assert new != old
    confirmed = client.post(
        "/web/account/totp/confirm",
        data={"code": pyotp.TOTP(new).at(moving.at), "csrf_token": csrf_of(started.text)},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert len(re.findall(r"<li><code>([0-9a-f]{10})</code></li>", confirmed.text)) == 10
    assert client.get("/web/").status_code == 200  # this session stays
    assert other.get("/web/").status_code == 303  # the other one ended
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "station_admin_li")).scalar_one()
        assert user.totp_secret == new and user.totp_pending_secret is None
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "user.totp_reenrol")).first()
