"""Login, tokens, users."""

from fastapi import APIRouter, Request

from liangshi.access import service
from liangshi.access.models import User
from liangshi.access.schemas import LoginIn, TokenRead, UserCreate, UserRead
from liangshi.errors import Unauthenticated
from liangshi.http.tx import anonymous, bearer, unit

router = APIRouter(tags=["access 用户与权限"])


@router.post("/auth/token", response_model=TokenRead, summary="Log in and get a bearer token")
def login(body: LoginIn, request: Request) -> TokenRead:
    """Exchange a username and password for a token; five failures lock the account for 15 minutes."""
    clock = request.app.state.clock
    settings = request.app.state.settings
    try:
        with anonymous(request) as session:
            user = service.authenticate(
                session, username=body.username, password=body.password, now=clock.now()
            )
            token = service.issue_token(
                session, user, name="login", days=settings.token_days, now=clock.now()
            )
            return TokenRead(access_token=token, role=user.role, username=user.username)
    except Unauthenticated:
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
        )
        return UserRead.model_validate(user, from_attributes=True)
