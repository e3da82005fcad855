"""Issue 18: two-factor enrolment without the web pages — by API (issued once, confirmed by a first code,
re-enrolment, an administrator's reset, rate limited like a login) and the secrets sealed at rest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.audit.models import AuditEntry
from tests.access.test_totp import Moving, _code, moving, totp_app
from tests.conftest import PASSWORD, World

__all__ = ["moving", "totp_app"]  # the fixtures of test_totp, used here too

AUDITOR = {"username": "auditor_sun", "password": PASSWORD}
SECRET = pyotp.random_base32()


def _enrol(client: TestClient, at: dt.datetime) -> tuple[str, dict[str, Any]]:
    """Enrol auditor_sun by API; the secret and the confirmation's answer."""
    started = client.post("/auth/totp/enrol", json=AUDITOR)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    done = client.post("/auth/totp/confirm", json={**AUDITOR, "code": _code(secret, at)})
    assert done.status_code == 200, done.text
    return secret, done.json()


def _actions(world: World, action: str) -> int:
    with world.session() as s:
        return len(s.execute(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_an_auditor_enrols_by_api_with_a_secret_issued_once_and_confirmed_by_a_first_code(
    totp_app: Any, moving: Moving, world: World, engine: Engine
) -> None:
    client = TestClient(totp_app)
    assert client.post("/auth/token", json=AUDITOR).json()["error"]["code"] == "auth.totp_enrolment_required"
    first = client.post("/auth/totp/enrol", json=AUDITOR).json()
    assert first["reenrol"] is False and first["otpauth_uri"].startswith("otpauth://totp/")
    assert first["secret"] in first["otpauth_uri"]
    # Each call issues another secret: the first one, shown once, can no longer be confirmed.
    second = client.post("/auth/totp/enrol", json=AUDITOR).json()
    assert second["secret"] != first["secret"]
    stale = client.post("/auth/totp/confirm", json={**AUDITOR, "code": _code(first["secret"], moving.at)})
    assert stale.status_code == 422 and stale.json()["error"]["code"] == "totp.code_invalid"
    # Not confirmed yet: it does not count, the login still asks for enrolment.
    assert client.post("/auth/token", json=AUDITOR).json()["error"]["code"] == "auth.totp_enrolment_required"
    done = client.post("/auth/totp/confirm", json={**AUDITOR, "code": _code(second["secret"], moving.at)})
    assert done.status_code == 200, done.text
    body = done.json()
    assert len(body["recovery_codes"]) == 10 and body["role"] == "auditor"
    me = client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "auditor_sun"
    assert _actions(world, "user.totp_enrol") == 1
    moving.at += dt.timedelta(minutes=1)
    assert client.post("/auth/token", json=AUDITOR).json()["error"]["code"] == "auth.totp_required"
    ok = client.post("/auth/token", json={**AUDITOR, "totp_code": _code(second["secret"], moving.at)})
    assert ok.status_code == 200
    # Confirming again: nothing is pending.
    again = client.post("/auth/totp/confirm", json={**AUDITOR, "code": "123456"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "totp.not_pending"
    # The secret is stored sealed (AES-256-GCM), not as base32 in clear.
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT totp_secret FROM users WHERE username = 'auditor_sun'")
        ).scalar_one()
    assert stored.startswith("v1:") and second["secret"] not in stored


def test_a_wrong_password_or_code_is_refused_and_counts_towards_the_lockout(
    totp_app: Any, moving: Moving
) -> None:
    client = TestClient(totp_app)
    wrong = client.post("/auth/totp/enrol", json={**AUDITOR, "password": "Not-the-password-1"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "auth.invalid"
    secret = client.post("/auth/totp/enrol", json=AUDITOR).json()["secret"]
    for _ in range(5):
        r = client.post("/auth/totp/confirm", json={**AUDITOR, "code": "000000"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "totp.code_invalid"
    # The fifth wrong code in a row locks the account: even the right code is refused now.
    right = client.post("/auth/totp/confirm", json={**AUDITOR, "code": _code(secret, moving.at)})
    assert right.status_code == 401 and right.json()["error"]["code"] == "auth.locked"
    assert client.post("/auth/totp/enrol", json=AUDITOR).json()["error"]["code"] == "auth.locked"


def test_re_enrolment_needs_the_current_code_and_switches_only_when_confirmed(
    totp_app: Any, moving: Moving, world: World
) -> None:
    client = TestClient(totp_app)
    old, first = _enrol(client, moving.at)
    old_token = {"Authorization": f"Bearer {first['access_token']}"}
    moving.at += dt.timedelta(minutes=1)
    bare = client.post("/auth/totp/enrol", json=AUDITOR)
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "auth.totp_required"
    started = client.post("/auth/totp/enrol", json={**AUDITOR, "totp_code": _code(old, moving.at)})
    assert started.status_code == 200 and started.json()["reenrol"] is True
    new = started.json()["secret"]
    # Until confirmed the old authenticator keeps working.
    moving.at += dt.timedelta(minutes=1)
    assert client.post("/auth/token", json={**AUDITOR, "totp_code": _code(old, moving.at)}).status_code == 200
    assert client.get("/users/me", headers=old_token).status_code == 200
    done = client.post("/auth/totp/confirm", json={**AUDITOR, "code": _code(new, moving.at)})
    assert done.status_code == 200, done.text
    assert not set(done.json()["recovery_codes"]) & set(first["recovery_codes"])
    # The old sessions ended; the old secret and the old recovery codes no longer log in, the new ones do.
    assert client.get("/users/me", headers=old_token).status_code == 401
    moving.at += dt.timedelta(minutes=1)
    refused = client.post("/auth/token", json={**AUDITOR, "totp_code": _code(old, moving.at)})
    assert refused.status_code == 401
    recovery = client.post("/auth/token", json={**AUDITOR, "totp_code": first["recovery_codes"][0]})
    assert recovery.status_code == 401
    assert client.post("/auth/token", json={**AUDITOR, "totp_code": _code(new, moving.at)}).status_code == 200
    assert _actions(world, "user.totp_reenrol") == 1


def test_an_administrator_resets_a_users_totp_within_jurisdiction_and_rank(
    totp_app: Any, moving: Moving, world: World
) -> None:
    client = TestClient(totp_app)
    _enrol(client, moving.at)

    def token_of(username: str) -> dict[str, str]:
        r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    with world.session() as s:
        access.create_user(
            s,
            username="district_admin_xu",
            display_name="许",
            password=PASSWORD,
            role="district_admin",
            area_code="420704001",
            department=None,
            actor=access.SYSTEM,
            now=moving.at,
        )
    # Without a token: 401; a collector may not; a station admin does not find a user outside their
    # jurisdiction and may not reset a higher role inside it.
    assert client.post("/users/auditor_sun/totp/reset").status_code == 401
    police = client.post("/users/auditor_sun/totp/reset", headers=token_of("police_liu"))
    assert police.status_code == 403
    with world.session() as s:
        user = s.execute(select(User).where(User.username == "station_admin_li")).scalar_one()
        user.totp_enabled_at = moving.at  # enrolled (the test skips the pages): log in with a code below
        user.totp_secret = SECRET
    moving.at += dt.timedelta(minutes=1)
    r = client.post(
        "/auth/token",
        json={"username": "station_admin_li", "password": PASSWORD, "totp_code": _code(SECRET, moving.at)},
    )
    station = {"Authorization": f"Bearer {r.json()['access_token']}"}
    outside = client.post("/users/auditor_sun/totp/reset", headers=station)
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "user.not_found"
    above = client.post("/users/district_admin_xu/totp/reset", headers=station)
    assert above.status_code == 403 and above.json()["error"]["code"] == "user.role_above_actor"
    # The city administrator covers the auditor: reset, audited, and the auditor enrols again.
    assert _actions(world, "user.totp_reset") == 0
    with world.session() as s:
        wang = s.execute(select(User).where(User.username == "city_admin_wang")).scalar_one()
        wang.totp_enabled_at = moving.at
        wang.totp_secret = SECRET
        wang.totp_last_step = None
    moving.at += dt.timedelta(minutes=1)
    r = client.post(
        "/auth/token",
        json={"username": "city_admin_wang", "password": PASSWORD, "totp_code": _code(SECRET, moving.at)},
    )
    done = client.post(
        "/users/auditor_sun/totp/reset", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert done.status_code == 204, done.text
    assert _actions(world, "user.totp_reset") == 1
    assert client.post("/auth/token", json=AUDITOR).json()["error"]["code"] == "auth.totp_enrolment_required"
