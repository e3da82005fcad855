"""Login, logout, the language switch and each role's home page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liangshi.access import service as access
from liangshi.access.models import ApiToken, User
from liangshi.db import session_scope
from liangshi.errors import Unauthenticated, ValidationFailed
from liangshi.web import i18n
from liangshi.web.pages import web_router
from liangshi.web.render import local_path, redirect, render
from liangshi.web.session import (
    PRE_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginRequired,
    csrf_for,
    page,
    pre_login_csrf,
)

router = web_router()


def _login_form(
    request: Request, *, next_url: str, username: str = "", error: str | None = None, status: int = 200
) -> Response:
    token, fresh = pre_login_csrf(request)
    response = render(
        request,
        "login.html",
        status=status,
        csrf_token=token,
        next_url=next_url,
        username=username,
        error=error,
    )
    if fresh:
        response.set_cookie(PRE_CSRF_COOKIE, token, path="/web", httponly=True, samesite="lax")
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    """The login form."""
    return _login_form(request, next_url=local_path(next))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=50)],
    password: Annotated[str, Form(max_length=128)],
    next: Annotated[str, Form(max_length=500)] = "/web/",
) -> Response:
    """Check the password (five failures lock the account), open a session and go to the page asked for."""
    clock = request.app.state.clock
    settings = request.app.state.settings
    username = username.strip()
    try:
        with session_scope(request.app.state.sessions) as session:
            user = access.authenticate(session, username=username, password=password, now=clock.now())
            stage = access.login_stage(user, access.roles_needing_totp(settings.totp_roles))
            # A login still owing its second factor (or its enrolment) gets a short-lived staged token that opens
            # no page but the next step's.
            token = access.issue_token(
                session,
                user,
                name="web",
                days=settings.web_session_days,
                now=clock.now(),
                stage=stage,
                lifetime=access.PENDING_LOGIN if stage else None,
            )
    except Unauthenticated as exc:
        # The failed-login counter must survive the refusal: count it in its own transaction.
        with session_scope(request.app.state.sessions) as session:
            access.record_failed_login(session, username=username, now=clock.now())
        message = exc.message(i18n.short(i18n.language(request)))
        return _login_form(request, next_url=local_path(next), username=username, error=message, status=401)
    target = local_path(next)
    if stage is not None:
        step = "/web/login/totp" if stage == "totp" else "/web/totp/enrol"
        target = f"{step}?{urlencode({'next': target})}"
    return _with_session(redirect(target), token, settings)


def _with_session(response: Response, token: str, settings: Any) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.web_session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


def _staged(session: Session, request: Request, stage: str) -> tuple[ApiToken, User]:
    """The staged login token of this browser and its user (else back to the login form)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        tok, user = access.token_row(session, token, now=request.app.state.clock.now())
    except Unauthenticated:
        raise LoginRequired() from None
    if tok.stage != stage:
        raise LoginRequired()
    return tok, user


def _finish(session: Session, request: Request, tok: ApiToken, user: User) -> str:
    """Swap the staged token for a full session (a new token: nothing of the half-done login carries over)."""
    clock = request.app.state.clock
    tok.revoked_at = clock.now()
    days = request.app.state.settings.web_session_days
    return access.issue_token(session, user, name="web", days=days, now=clock.now())


def _code_form(request: Request, *, next_url: str, error: str | None = None, status: int = 200) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    return render(
        request, "login_totp.html", status=status, csrf_token=csrf_for(token), next_url=next_url, error=error
    )


@router.get("/login/totp")
def totp_page(request: Request, next: str | None = None) -> Response:
    """The second step of a login with two-factor authentication: the authenticator's code."""
    with session_scope(request.app.state.sessions) as session:
        _staged(session, request, "totp")
    return _code_form(request, next_url=local_path(next))


@router.post("/login/totp")
def totp_login(
    request: Request,
    code: Annotated[str, Form(max_length=20)],
    next: Annotated[str, Form(max_length=500)] = "/web/",
) -> Response:
    """Check the code (or a recovery code); wrong codes count towards the lockout like wrong passwords."""
    clock = request.app.state.clock
    try:
        with session_scope(request.app.state.sessions) as session:
            tok, user = _staged(session, request, "totp")
            access.check_second_factor(session, user, code, now=clock.now())
            token = _finish(session, request, tok, user)
    except LoginRequired:
        raise
    except Unauthenticated as exc:
        with session_scope(request.app.state.sessions) as session:
            _, user = _staged(session, request, "totp")
            access.record_failed_login(session, username=user.username, now=clock.now())
        message = exc.message(i18n.short(i18n.language(request)))
        return _code_form(request, next_url=local_path(next), error=message, status=401)
    return _with_session(redirect(local_path(next)), token, request.app.state.settings)


def _enrol_form(
    request: Request, secret: str, uri: str, *, next_url: str, error: str | None = None, status: int = 200
) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    return render(
        request,
        "totp_enrol.html",
        status=status,
        csrf_token=csrf_for(token),
        next_url=next_url,
        secret=secret,
        qr=segno.make(uri, error="m").svg_data_uri(scale=4),
        error=error,
    )


@router.get("/totp/enrol")
def enrol_page(request: Request, next: str | None = None) -> Response:
    """Enrolment on first login of a role that needs two factors: the secret as a QR code and as text."""
    with session_scope(request.app.state.sessions) as session:
        _, user = _staged(session, request, "enrol")
        secret, uri = access.start_enrolment(session, user)
    return _enrol_form(request, secret, uri, next_url=local_path(next))


@router.post("/totp/enrol")
def enrol(
    request: Request,
    code: Annotated[str, Form(max_length=20)],
    next: Annotated[str, Form(max_length=500)] = "/web/",
) -> Response:
    """Confirm the enrolment with a first code; the recovery codes are shown once, then the session opens."""
    clock = request.app.state.clock
    with session_scope(request.app.state.sessions) as session:
        tok, user = _staged(session, request, "enrol")
        try:
            codes = access.confirm_enrolment(
                session, user, code, actor=access.actor_for(session, user), now=clock.now()
            )
        except ValidationFailed as exc:
            secret, uri = access.start_enrolment(session, user)
            message = exc.message(i18n.short(i18n.language(request)))
            return _enrol_form(request, secret, uri, next_url=local_path(next), error=message, status=422)
        token = _finish(session, request, tok, user)
    response = render(request, "totp_codes.html", codes=codes, next_url=local_path(next), csrf_token="")
    return _with_session(response, token, request.app.state.settings)


@router.post("/logout")
def logout(request: Request) -> Response:
    """Revoke the session's token and forget the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with session_scope(request.app.state.sessions) as session:
            access.revoke_token(session, token, now=request.app.state.clock.now())
    response = redirect("/web/login", flash="logged_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang")
def set_language(request: Request, lang: str, next: str | None = None) -> Response:
    """Switch the page language (a cookie; Chinese unless English is chosen)."""
    response = redirect(local_path(next))
    if lang in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax")
    return response


@router.get("/")
def home(request: Request) -> Response:
    """The user's home page: what their role can do here, in their jurisdiction."""
    with page(request) as p:
        return render(request, "home.html", p)
