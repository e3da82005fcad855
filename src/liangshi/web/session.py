"""Web sessions: the login cookie (a server-side token of the access service), CSRF and the page's unit of work.

The session cookie holds an access-service token (only its SHA-256 is stored, logout revokes it). The CSRF token
of a logged-in session is derived from the session token, so it is per session and needs no storage; before login
(the login form) a random double-submit cookie stands in. Every POST to a web route is checked by `csrf_protect`
(a dependency of every web router): the form field `csrf_token` or, for htmx, the `X-CSRF-Token` header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.access.rules import ROLES
from liangshi.areas import service as areas
from liangshi.clock import Clock, today_is
from liangshi.db import session_scope
from liangshi.departments import service as departments
from liangshi.errors import Forbidden, Unauthenticated
from liangshi.registry import Context
from liangshi.web import i18n

SESSION_COOKIE = "ls_session"
PRE_CSRF_COOKIE = "ls_csrf"
FLASH_COOKIE = "ls_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Unauthenticated):
    """No valid web session: pages answer with a redirect to the login page."""

    def __init__(self) -> None:
        super().__init__("auth.required", "请先登录", "Please log in")


class CsrfRejected(Forbidden):
    """A state-changing request without the session's CSRF token."""

    def __init__(self) -> None:
        super().__init__(
            "csrf.invalid",
            "表单已失效或来源不明（缺少安全令牌），请刷新页面后重试",
            "The form expired or did not come from this site (missing security token); reload the page and retry",
        )


def csrf_for(session_token: str) -> str:
    """The CSRF token of a login session: a digest of the session token (never the token itself)."""
    return hashlib.sha256(b"liangshi-csrf:" + session_token.encode()).hexdigest()


def pre_login_csrf(request: Request) -> tuple[str, bool]:
    """The double-submit token for forms shown before login, and whether the cookie must be set."""
    value = request.cookies.get(PRE_CSRF_COOKIE, "")
    if len(value) == 43:
        return value, False
    return secrets.token_urlsafe(32), True


def expected_csrf(request: Request) -> list[str]:
    """The CSRF tokens this request may present."""
    expected = []
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        expected.append(csrf_for(token))
    pre = request.cookies.get(PRE_CSRF_COOKIE)
    if pre:
        expected.append(pre)
    return expected


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request whose CSRF token (form field or header) is missing or wrong (403)."""
    if request.method not in UNSAFE:
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else ""
    if not given or not any(hmac.compare_digest(given, e) for e in expected_csrf(request)):
        raise CsrfRejected()


@dataclass
class Page:
    """What a page handler works with: the transaction, the use-case context and who is looking."""

    session: Session
    ctx: Context
    user: User
    lang: str
    csrf: str
    area_name: str

    def gettext(self, message: str) -> str:
        """Translate a message into the page language."""
        return i18n.translations(self.lang).gettext(message)

    @property
    def role_label(self) -> str:
        """The user's role in the page language."""
        zh, en = ROLES.get(self.user.role, (self.user.role, self.user.role))
        return en if self.lang == "en" else zh

    def may(self, action: str) -> bool:
        """Whether the user's role allows an action (menus and buttons; services still check)."""
        return self.ctx.actor.may(action)

    def template_context(self) -> dict[str, Any]:
        """The variables every page template gets."""
        return {"page": self, "user": self.user, "csrf_token": self.csrf, "lang": self.lang}


@contextmanager
def page(request: Request, *, purpose: str | None = None) -> Iterator[Page]:
    """One transaction for one page, acting as the logged-in user; no valid session → LoginRequired."""
    clock: Clock = request.app.state.clock
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    with session_scope(request.app.state.sessions) as session:
        now = clock.now()
        try:
            minutes = request.app.state.settings.session_idle_minutes
            idle = dt.timedelta(minutes=minutes) if minutes else None
            actor = access.actor_from_token(session, token, now=now, idle=idle)
        except Unauthenticated:
            raise LoginRequired() from None
        user = session.get(User, actor.user_id)
        assert user is not None
        today = clock.today()
        name = areas.names_of(session, [actor.area_id], today).get(actor.area_id, "")
        with today_is(today):
            yield Page(
                session=session,
                ctx=Context(
                    actor=actor,
                    now=now,
                    today=today,
                    purpose=purpose,
                    read_cut=departments.read_policy(actor),
                ),
                user=user,
                lang=i18n.language(request),
                csrf=csrf_for(token),
                area_name=name,
            )
