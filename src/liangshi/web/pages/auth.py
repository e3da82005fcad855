"""Login, logout, the language switch and each role's home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from liangshi.access import service as access
from liangshi.db import session_scope
from liangshi.errors import Unauthenticated
from liangshi.web import i18n
from liangshi.web.pages import web_router
from liangshi.web.render import local_path, redirect, render
from liangshi.web.session import PRE_CSRF_COOKIE, SESSION_COOKIE, page, pre_login_csrf

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
            token = access.issue_token(
                session, user, name="web", days=settings.web_session_days, now=clock.now()
            )
    except Unauthenticated as exc:
        # The failed-login counter must survive the refusal: count it in its own transaction.
        with session_scope(request.app.state.sessions) as session:
            access.record_failed_login(session, username=username, now=clock.now())
        message = exc.message(i18n.short(i18n.language(request)))
        return _login_form(request, next_url=local_path(next), username=username, error=message, status=401)
    response = redirect(local_path(next))
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
