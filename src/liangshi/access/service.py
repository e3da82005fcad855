"""Users, passwords, tokens and jurisdictions."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import ApiToken, User
from liangshi.access.rules import ROLE_RANK, Actor, ensure_role
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.clock import CHINA_TZ
from liangshi.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed

_hasher = PasswordHasher()
USERNAME = re.compile(r"^[a-z][a-z0-9_.]{2,49}$")
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)

SYSTEM = Actor(
    user_id=None, username="system", role="city_admin", area_id=0, area_path="/", county_code="000000"
)


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def _check_password(password: str) -> None:
    if len(password) < 8 or len(password) > 128:
        raise ValidationFailed(
            "user.password_weak",
            "密码长度须为8至128位",
            "The password must have 8 to 128 characters",
            {"field": "password"},
        )


def actor_for(session: Session, user: User) -> Actor:
    """The acting identity of a user, with its jurisdiction path."""
    area = session.get(Area, user.area_id)
    assert area is not None
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        area_id=area.id,
        area_path=area.path,
        county_code=area.county_code,
        department=user.department,
    )


def scoped_area_ids(actor: Actor) -> Select[Any]:
    """Ids of the areas in the actor's jurisdiction (their subtree)."""
    return select(Area.id).where(Area.path.startswith(actor.area_path))


def area_in_scope(session: Session, actor: Actor, area_id: int) -> bool:
    """Whether an area lies inside the actor's jurisdiction."""
    area = session.get(Area, area_id)
    return area is not None and actor.covers_path(area.path)


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    area_code: str,
    department: str | None,
    actor: Actor,
    now: dt.datetime,
) -> User:
    """Create a user in a jurisdiction the creating admin covers, with a role not above theirs."""
    if actor is not SYSTEM:
        actor.ensure("user.manage")
    ensure_role(role)
    if not USERNAME.match(username):
        raise ValidationFailed(
            "user.username_invalid",
            "用户名须以小写字母开头，由3至50位小写字母、数字、下划线或点组成",
            "A username is 3 to 50 lowercase letters, digits, '_' or '.', starting with a letter",
            {"field": "username"},
        )
    _check_password(password)
    area = session.execute(select(Area).where(Area.code == area_code)).scalar_one_or_none()
    if area is None or (actor is not SYSTEM and not actor.covers_path(area.path)):
        raise NotFound("area.not_found", "未找到该区划", "Area not found", {"field": "area_code"})
    if actor is not SYSTEM and ROLE_RANK[role] > ROLE_RANK[actor.role]:
        raise Forbidden(
            "user.role_above_creator",
            "不能创建高于自己角色的用户",
            "You cannot create a user with a role above your own",
            {"field": "role"},
        )
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict("user.exists", "用户名已存在", "The username is taken", {"field": "username"})
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        area_id=area.id,
        department=department,
        active=True,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    session.flush()
    # The registry's log, as every use case appends (the day as Clock.today() reads it from the same instant).
    ctx = registry.Context(actor=actor, now=now, today=now.astimezone(CHINA_TZ).date())
    registry.log(
        ctx, session, [audit.Event("user.create", "user", user.id, detail={"role": role, "area": area.code})]
    )
    return user


def _bad_login() -> Unauthenticated:
    return Unauthenticated("auth.invalid", "用户名或密码错误", "Wrong username or password")


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password with the hasher's parameters, made on first use (not at import)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def authenticate(session: Session, *, username: str, password: str, now: dt.datetime) -> User:
    """Check a password; a locked or unknown account and a wrong password all answer 401."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        # Check the password against a dummy hash all the same, so that the answer takes as long as for a real
        # user and its timing does not tell which usernames exist (issue 18).
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash(), password)
        raise _bad_login()
    if user.locked_until is not None and user.locked_until > now:
        raise Unauthenticated(
            "auth.locked",
            "登录失败次数过多，账户已暂时锁定",
            "Too many failed logins; the account is locked for a while",
            {"locked_until": user.locked_until.isoformat()},
        )
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise _bad_login() from None
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def record_failed_login(session: Session, *, username: str, now: dt.datetime) -> None:
    """Count a failed login; the fifth in a row locks the account for a while."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or (user.locked_until is not None and user.locked_until > now):
        return
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0
    session.flush()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, name: str, days: int, now: dt.datetime) -> str:
    """Create an API token for a user; the clear token is returned once and never stored."""
    token = "ls_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_digest(token),
            name=name,
            created_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
    )
    session.flush()
    return token


def actor_from_token(session: Session, token: str, *, now: dt.datetime) -> Actor:
    """Resolve a bearer token to its actor, refusing expired, revoked or unknown tokens."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _digest(token))
    ).first()
    if row is None:
        raise Unauthenticated("auth.token_invalid", "令牌无效", "Invalid token")
    tok, user = row
    if tok.revoked_at is not None or tok.expires_at <= now or not user.active:
        raise Unauthenticated("auth.token_expired", "令牌已过期或已吊销", "The token expired or was revoked")
    return actor_for(session, user)


def revoke_token(session: Session, token: str, *, now: dt.datetime) -> None:
    """Revoke a token (logout)."""
    tok = session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token))).scalar_one_or_none()
    if tok is not None and tok.revoked_at is None:
        tok.revoked_at = now
        session.flush()


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Usernames by id (for provenance and logs)."""
    if not user_ids:
        return {}
    return {
        int(i): str(n)
        for i, n in session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    }
