"""Login, tokens, users."""

from fastapi import APIRouter, Request

from liangshi.access import service
from liangshi.access.models import User
from liangshi.access.schemas import LoginIn, PasswordChange, TokenRead, UserCreate, UserRead
from liangshi.errors import Unauthenticated
from liangshi.http.tx import anonymous, bearer, unit

router = APIRouter(tags=["access 用户与权限"])


# Refusals that count towards the lockout (a right password awaiting its second factor does not).
COUNTED = frozenset({"auth.invalid", "auth.totp_invalid"})


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
                    "该角色须启用双因素登录：请先在网页登录并登记认证器",
                    "This role needs two-factor login: log in on the web pages once to enrol an authenticator",
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
        if exc.code in COUNTED:
            # The failed-login counter must survive the refusal: count it in its own transaction.
            with anonymous(request) as session:
                service.record_failed_login(session, username=body.username, now=clock.now())
        raise


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
    the current one is checked first, and every session of the user ends."""
    with unit(request) as (session, ctx):
        user = session.get(User, ctx.actor.user_id)
        assert user is not None
        service.authenticate(session, username=user.username, password=body.current_password, now=ctx.now)
        service.change_password(
            session,
            user=user,
            password=body.new_password,
            policy=policy_of(request),
            actor=ctx.actor,
            now=ctx.now,
        )


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
