"""Login, tokens, users."""

from fastapi import APIRouter, Request

from liangshi.access import service
from liangshi.access.models import User
from liangshi.access.schemas import (
    LoginIn,
    PasswordChange,
    TokenRead,
    TotpConfirmIn,
    TotpConfirmRead,
    TotpEnrolIn,
    TotpEnrolRead,
    UserCreate,
    UserRead,
)
from liangshi.errors import LiangshiError, Unauthenticated, ValidationFailed
from liangshi.http.tx import anonymous, bearer, unit

router = APIRouter(tags=["access 用户与权限"])


# Refusals that count towards the lockout (a right password awaiting its second factor does not); a wrong code at
# the confirmation of an enrolment counts too, so that codes cannot be guessed there either.
COUNTED = frozenset({"auth.invalid", "auth.totp_invalid", "totp.code_invalid"})


def _counted(request: Request, exc: LiangshiError, username: str) -> None:
    """Count a refusal towards the lockout in its own transaction (it must survive the refusal's rollback)."""
    if exc.code in COUNTED:
        with anonymous(request) as session:
            service.record_failed_login(session, username=username, now=request.app.state.clock.now())


@router.post("/auth/token", response_model=TokenRead, summary="Log in and get a bearer token")
def login(body: LoginIn, request: Request) -> TokenRead:
    """Exchange a username and password (and, for roles with two-factor login, `totp_code`: the authenticator's
    6 digits or a recovery code) for a token; five failures lock the account for 15 minutes."""
    clock = request.app.state.clock
    settings = request.app.state.settings
    try:
        with anonymous(request) as session:
            user = service.authenticate(
                session, username=body.username, password=body.password, now=clock.now()
            )
            stage = service.login_stage(user, service.roles_needing_totp(settings.totp_roles))
            if stage == "enrol":
                raise Unauthenticated(
                    "auth.totp_enrolment_required",
                    "该角色须启用双因素登录：请先登记认证器（网页或 /auth/totp/enrol）",
                    "This role needs two-factor login: enrol an authenticator first (web pages or /auth/totp/enrol)",
                )
            if stage == "totp":
                if not body.totp_code:
                    raise Unauthenticated(
                        "auth.totp_required",
                        "请输入动态验证码完成登录",
                        "Enter the code from your authenticator app to finish logging in",
                    )
                service.check_second_factor(session, user, body.totp_code, now=clock.now())
            token = service.issue_token(
                session, user, name="login", days=settings.token_days, now=clock.now()
            )
            return TokenRead(access_token=token, role=user.role, username=user.username)
    except Unauthenticated as exc:
        _counted(request, exc, body.username)
        raise


@router.post("/auth/totp/enrol", response_model=TotpEnrolRead, summary="Start a two-factor enrolment")
def totp_enrol(body: TotpEnrolIn, request: Request) -> TotpEnrolRead:
    """A new TOTP secret for the user, shown once (each call issues another; only the last one can be
    confirmed). A user already enrolled re-enrols: `totp_code` (the authenticator in force, or a recovery code)
    is due, and the old secret keeps working until the new one is confirmed. Wrong passwords and codes count
    towards the lockout like a login's."""
    clock = request.app.state.clock
    try:
        with anonymous(request) as session:
            user = service.authenticate(
                session, username=body.username, password=body.password, now=clock.now()
            )
            reenrol = user.totp_enabled_at is not None
            secret, uri = service.issue_enrolment(session, user, code=body.totp_code, now=clock.now())
            return TotpEnrolRead(secret=secret, otpauth_uri=uri, reenrol=reenrol)
    except Unauthenticated as exc:
        _counted(request, exc, body.username)
        raise


@router.post("/auth/totp/confirm", response_model=TotpConfirmRead, summary="Confirm a two-factor enrolment")
def totp_confirm(body: TotpConfirmIn, request: Request) -> TotpConfirmRead:
    """Switch two-factor login on (or to the new authenticator) with the first code of the new secret: the
    recovery codes are shown once and a session token is issued; a re-enrolment ends every other session.
    Audited."""
    clock = request.app.state.clock
    settings = request.app.state.settings
    try:
        with anonymous(request) as session:
            user = service.authenticate(
                session, username=body.username, password=body.password, now=clock.now()
            )
            actor = service.actor_for(session, user)
            codes = service.confirm_enrolment(session, user, body.code, actor=actor, now=clock.now())
            token = service.issue_token(
                session, user, name="login", days=settings.token_days, now=clock.now()
            )
            return TotpConfirmRead(
                access_token=token, role=user.role, username=user.username, recovery_codes=codes
            )
    except (Unauthenticated, ValidationFailed) as exc:
        _counted(request, exc, body.username)
        raise


@router.post("/users/{username}/totp/reset", status_code=204, summary="Reset a user's two-factor login")
def totp_reset(username: str, request: Request) -> None:
    """Administrators switch the two-factor login of a user in their jurisdiction (with a role not above
    theirs) off, for a lost phone: the secret and the recovery codes go, every session of the user ends, and the
    user enrols again at the next login. Audited."""
    with unit(request) as (session, ctx):
        service.reset_totp(session, username=username, actor=ctx.actor, now=ctx.now)


@router.post("/auth/logout", status_code=204, summary="Revoke the current token")
def logout(request: Request) -> None:
    """Revoke the bearer token of this request."""
    with anonymous(request) as session:
        service.revoke_token(session, bearer(request), now=request.app.state.clock.now())


@router.get("/users/me", response_model=UserRead, summary="Who am I")
def me(request: Request) -> UserRead:
    """The calling user."""
    with unit(request) as (session, ctx):
        user = session.get(User, ctx.actor.user_id)
        assert user is not None
        return UserRead.model_validate(user, from_attributes=True)


def policy_of(request: Request) -> service.PasswordPolicy:
    """The password policy in the app's settings."""
    settings = request.app.state.settings
    return service.PasswordPolicy(min_length=settings.password_min_length, history=settings.password_history)


@router.post("/users/me/password", status_code=204, summary="Change my password")
def change_password(body: PasswordChange, request: Request) -> None:
    """A new password under the policy (length, three character classes, not the username, none of the last N);
    the current one is checked first (a wrong one counts towards the lockout like a failed login), and every
    other session of the user ends (this token stays valid). Audited."""
    username: str | None = None
    try:
        with unit(request) as (session, ctx):
            user = session.get(User, ctx.actor.user_id)
            assert user is not None
            username = user.username
            service.authenticate(session, username=username, password=body.current_password, now=ctx.now)
            service.change_password(
                session,
                user=user,
                password=body.new_password,
                policy=policy_of(request),
                actor=ctx.actor,
                now=ctx.now,
                keep_token=bearer(request),
            )
    except Unauthenticated as exc:
        if username is not None:
            _counted(request, exc, username)
        raise


@router.post("/users", response_model=UserRead, status_code=201, summary="Create a user")
def create_user(body: UserCreate, request: Request) -> UserRead:
    """Administrators create users inside their jurisdiction with a role not above their own."""
    with unit(request) as (session, ctx):
        user = service.create_user(
            session,
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            role=body.role,
            area_code=body.area_code,
            department=body.department,
            actor=ctx.actor,
            now=ctx.now,
            policy=policy_of(request),
        )
        return UserRead.model_validate(user, from_attributes=True)
