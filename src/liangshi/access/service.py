"""Users, passwords, tokens and jurisdictions."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import ApiToken, PasswordHistory, RecoveryCode, User
from liangshi.access.rules import ROLE_RANK, Actor, ensure_role, password_problems
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


@dataclass(frozen=True)
class PasswordPolicy:
    """The password rules in force (from Settings: password_min_length, password_history)."""

    min_length: int = 10
    history: int = 5


def check_password(password: str, *, username: str, policy: PasswordPolicy) -> None:
    """Refuse a password that breaks the policy, with the first problem as a clear zh/en error."""
    problems = password_problems(password, username=username, min_length=policy.min_length)
    if not problems:
        return
    data = {"field": "password", "min_length": policy.min_length, "problems": problems}
    if problems[0] == "user.password_length":
        raise ValidationFailed(
            "user.password_length",
            "密码长度不足或过长（至少须为所设最小长度，最多128位）",
            "The password is too short or too long (at least the minimum length set, at most 128 characters)",
            data,
        )
    if problems[0] == "user.password_classes":
        raise ValidationFailed(
            "user.password_classes",
            "密码须包含小写字母、大写字母、数字、其他符号中的至少三类",
            "The password must mix at least three of: lower case, upper case, digits, other characters",
            data,
        )
    raise ValidationFailed(
        "user.password_has_username",
        "密码不得包含用户名",
        "The password must not contain the username",
        data,
    )


def _check_reuse(session: Session, user: User, password: str, policy: PasswordPolicy) -> None:
    """Refuse the current password and any of the last N (password history)."""
    earlier = [user.password_hash]
    if policy.history > 1:
        earlier += list(
            session.execute(
                select(PasswordHistory.password_hash)
                .where(PasswordHistory.user_id == user.id)
                .order_by(PasswordHistory.id.desc())
                .limit(policy.history - 1)
            ).scalars()
        )
    for old in earlier[: max(policy.history, 1)]:
        with contextlib.suppress(VerificationError, InvalidHashError):
            if _hasher.verify(old, password):
                raise ValidationFailed(
                    "user.password_reused",
                    "新密码不得与最近使用过的密码相同",
                    "The new password must differ from the passwords used recently",
                    {"field": "password", "history": policy.history},
                )


def change_password(
    session: Session,
    *,
    user: User,
    password: str,
    policy: PasswordPolicy,
    actor: Actor,
    now: dt.datetime,
    keep_token: str | None = None,
) -> None:
    """Set a new password under the policy (not one of the last N); the old hash joins the history and every
    token of the user is revoked but `keep_token` (the session that changed it), so the other sessions must log
    in again."""
    check_password(password, username=user.username, policy=policy)
    _check_reuse(session, user, password, policy)
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=now))
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    ended = _revoke_all(session, user, now, keep=keep_token)
    _log_user(session, actor, now, "user.password_change", user.id, {"sessions_ended": ended})


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
    policy: PasswordPolicy | None = None,
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
    check_password(password, username=username, policy=policy or PasswordPolicy())
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
    _log_user(session, actor, now, "user.create", user.id, {"role": role, "area": area.code})
    return user


def _log_user(
    session: Session, actor: Actor, now: dt.datetime, action: str, user_id: int, detail: dict[str, Any]
) -> None:
    """The registry's log, as every use case appends (the day as Clock.today() reads it from the same instant)."""
    session.flush()
    ctx = registry.Context(actor=actor, now=now, today=now.astimezone(CHINA_TZ).date())
    registry.log(ctx, session, [audit.Event(action, "user", user_id, detail=detail)])


def _revoke_all(session: Session, user: User, now: dt.datetime, *, keep: str | None = None) -> int:
    """Revoke every live token of the user but `keep` (a clear token); how many were revoked."""
    kept = None if keep is None else _digest(keep)
    ended = 0
    for tok in session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars():
        if tok.token_hash != kept:
            tok.revoked_at = now
            ended += 1
    return ended


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


def issue_token(
    session: Session,
    user: User,
    *,
    name: str,
    days: int,
    now: dt.datetime,
    stage: str | None = None,
    lifetime: dt.timedelta | None = None,
) -> str:
    """Create an API token for a user; the clear token is returned once and never stored. A staged token
    ("totp", "enrol") opens no session: it only carries a login to its second factor or to enrolment."""
    token = "ls_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_digest(token),
            name=name,
            created_at=now,
            expires_at=now + (lifetime or dt.timedelta(days=days)),
            last_used_at=now,
            stage=stage,
        )
    )
    session.flush()
    return token


# Interactive sessions (the web and POST /auth/token) idle out; integration tokens have only their lifetime.
IDLE_TOKENS = frozenset({"web", "login"})
_TOUCH_EVERY = dt.timedelta(seconds=30)


@functools.cache
def _token_stmt() -> Any:
    # Built once: every authenticated request reads its token (issue 19).
    return (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


def token_row(session: Session, token: str, *, now: dt.datetime) -> tuple[ApiToken, User]:
    """A live token and its user, refusing expired, revoked or unknown tokens."""
    row = session.execute(_token_stmt(), {"token_hash": _digest(token)}).first()
    if row is None:
        raise Unauthenticated("auth.token_invalid", "令牌无效", "Invalid token")
    tok, user = row
    if tok.revoked_at is not None or tok.expires_at <= now or not user.active:
        raise Unauthenticated("auth.token_expired", "令牌已过期或已吊销", "The token expired or was revoked")
    return tok, user


def actor_from_token(
    session: Session, token: str, *, now: dt.datetime, idle: dt.timedelta | None = None
) -> Actor:
    """Resolve a bearer token to its actor, refusing expired, revoked, unknown, idle or staged tokens; each use
    moves the idle deadline on (等保 2.0 level 3: a session ends after a while without use)."""
    tok, user = token_row(session, token, now=now)
    if tok.stage is not None:
        raise Unauthenticated(
            "auth.totp_required",
            "请输入动态验证码完成登录",
            "Enter the code from your authenticator app to finish logging in",
        )
    if idle and tok.name in IDLE_TOKENS:
        last = tok.last_used_at or tok.created_at
        if now - last > idle:
            # Refused every time from now on: its last use no longer moves (nothing is written on a refusal).
            raise Unauthenticated(
                "auth.session_idle",
                "长时间未操作，会话已结束，请重新登录",
                "The session ended after a while without use; please log in again",
            )
        if now - last > _TOUCH_EVERY:
            tok.last_used_at = now
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


# ---------------------------------------------------------------------------------------------------------
# TOTP two-factor login (RFC 6238, pyotp): 等保 2.0 level 3 asks two factors of administrators and auditors.
# ---------------------------------------------------------------------------------------------------------

ISSUER = "liangshi 两实"
RECOVERY_CODES = 10
PENDING_LOGIN = dt.timedelta(minutes=5)


def roles_needing_totp(setting: str) -> frozenset[str]:
    """The roles the totp_roles setting names."""
    return frozenset(r.strip() for r in setting.split(",") if r.strip())


def login_stage(user: User, roles: frozenset[str]) -> str | None:
    """What a login with the right password still needs: "totp" (a code), "enrol" (enrolment) or nothing."""
    if user.totp_enabled_at is not None:
        return "totp"
    if user.role in roles:
        return "enrol"
    return None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _step(now: dt.datetime) -> int:
    return int(now.timestamp()) // 30


def _accepts(user: User, secret: str, code: str, now: dt.datetime, *, new_secret: bool = False) -> bool:
    """Whether a 6-digit code fits the secret now (one step of drift either way), never the same step twice
    (`new_secret`: a re-enrolment's secret, whose codes the last step of the old one does not bound)."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return False
    totp = _totp(secret)
    last = None if new_secret else user.totp_last_step
    for offset in (0, -1, 1):
        step = _step(now) + offset
        if secrets.compare_digest(totp.at(step * 30), code):
            if last is not None and step <= last:
                return False
            user.totp_last_step = step
            return True
    return False


def _use_recovery_code(session: Session, user: User, code: str, now: dt.datetime) -> bool:
    digest = _digest("".join(code.split()).lower())
    row = session.execute(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None)
        )
    ).scalar_one_or_none()
    if row is None:
        return False
    row.used_at = now
    return True


def _bad_code() -> Unauthenticated:
    return Unauthenticated(
        "auth.totp_invalid", "动态验证码或恢复码错误", "Wrong authenticator code or recovery code"
    )


def check_second_factor(session: Session, user: User, code: str, *, now: dt.datetime) -> None:
    """Accept a TOTP code or an unused recovery code of an enrolled user, else 401 (counted as a failed login)."""
    if user.locked_until is not None and user.locked_until > now:
        raise Unauthenticated(
            "auth.locked",
            "登录失败次数过多，账户已暂时锁定",
            "Too many failed logins; the account is locked for a while",
            {"locked_until": user.locked_until.isoformat()},
        )
    secret = user.totp_secret
    if user.totp_enabled_at is None or secret is None:
        raise _bad_code()
    if not (_accepts(user, secret, code, now) or _use_recovery_code(session, user, code, now)):
        raise _bad_code()
    session.flush()


def start_enrolment(session: Session, user: User) -> tuple[str, str]:
    """A new secret for a user not yet enrolled (kept until confirmed): the secret and its otpauth:// URI."""
    if user.totp_enabled_at is not None:
        raise Conflict(
            "totp.already_enrolled",
            "已启用双因素登录；如需更换认证器请重新登记，或由管理员重置",
            "Two-factor login is already on; re-enrol to change the authenticator, or ask an administrator to reset it",
        )
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        session.flush()
    uri = _totp(user.totp_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return user.totp_secret, uri


def _bad_enrol_code() -> ValidationFailed:
    return ValidationFailed(
        "totp.code_invalid",
        "验证码不正确，请输入认证器应用上当前显示的6位数字",
        "Wrong code: enter the 6 digits your authenticator app shows now",
        {"field": "code"},
    )


def issue_enrolment(session: Session, user: User, *, code: str | None, now: dt.datetime) -> tuple[str, str]:
    """Start an enrolment by API: a new secret each time, shown once (the caller answers it and nothing shows it
    again); it counts only once a code from it confirms it. A user already enrolled re-enrols: the code of the
    secret in force (or a recovery code) is due first, and that secret keeps working until the new one is
    confirmed. A wrong code is a failed login (lockout)."""
    if user.totp_enabled_at is not None:
        if not code:
            raise Unauthenticated(
                "auth.totp_required",
                "请输入动态验证码完成登录",
                "Enter the code from your authenticator app to finish logging in",
            )
        check_second_factor(session, user, code, now=now)
        user.totp_pending_secret = pyotp.random_base32()
        secret = user.totp_pending_secret
    else:
        user.totp_secret = pyotp.random_base32()
        secret = user.totp_secret
    session.flush()
    return secret, _totp(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def confirm_enrolment(
    session: Session,
    user: User,
    code: str,
    *,
    actor: Actor,
    now: dt.datetime,
    keep_token: str | None = None,
) -> list[str]:
    """Switch TOTP on once a code from the new secret proves the app has it; returns the recovery codes (shown
    once, stored as hashes). For a re-enrolment the new secret replaces the old one, the old recovery codes go
    and every session ends but `keep_token` (the one that confirmed it)."""
    reenrol = user.totp_enabled_at is not None
    secret = user.totp_pending_secret if reenrol else user.totp_secret
    if secret is None:
        raise Conflict(
            "totp.not_pending",
            "没有待确认的双因素登记，请重新开始",
            "No two-factor enrolment is waiting for confirmation; start again",
        )
    if not _accepts(user, secret, code, now, new_secret=reenrol):
        raise _bad_enrol_code()
    if reenrol:
        user.totp_secret = secret
        user.totp_pending_secret = None
        _revoke_all(session, user, now, keep=keep_token)
    user.totp_enabled_at = now
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    for c in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=_digest(c)))
    _log_user(session, actor, now, "user.totp_reenrol" if reenrol else "user.totp_enrol", user.id, {})
    return codes


def reset_totp(session: Session, *, username: str, actor: Actor, now: dt.datetime) -> User:
    """Switch a user's TOTP off (a lost phone): secret and recovery codes go, every token is revoked; the user
    enrols again at the next login. Audited. An administrator resets only users inside their jurisdiction (others
    are not found) with a role not above their own."""
    if actor is not SYSTEM:
        actor.ensure("user.manage")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    area = None if user is None else session.get(Area, user.area_id)
    if user is None or area is None or (actor is not SYSTEM and not actor.covers_path(area.path)):
        raise NotFound("user.not_found", "用户不存在", "No such user", {"field": "username"})
    if actor is not SYSTEM and ROLE_RANK[user.role] > ROLE_RANK[actor.role]:
        raise Forbidden(
            "user.role_above_actor",
            "不能管理角色高于自己的用户",
            "You cannot manage a user with a role above your own",
            {"field": "username"},
        )
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _revoke_all(session, user, now)
    _log_user(session, actor, now, "user.totp_reset", user.id, {})
    return user
