"""One's own account: changing the password, and re-enrolling the two-factor authenticator (issue 18)."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import Form, Request
from fastapi.responses import Response

from liangshi.access import service as access
from liangshi.db import session_scope
from liangshi.errors import LiangshiError, Unauthenticated
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import SESSION_COOKIE, Page, page

router = web_router()

register_flash("password_changed", N_("Your password is changed; your other sessions have ended."))
MISMATCH = N_("The two new passwords differ.")


def _count_failure(request: Request, username: str, exc: LiangshiError) -> None:
    """A wrong password or code counts towards the lockout like a failed login (in its own transaction)."""
    if exc.code in ("auth.invalid", "auth.totp_invalid", "totp.code_invalid"):
        with session_scope(request.app.state.sessions) as session:
            access.record_failed_login(session, username=username, now=request.app.state.clock.now())


def _password_form(request: Request, p: Page, error: str | None = None, status: int = 200) -> Response:
    settings = request.app.state.settings
    return render(
        request,
        "account_password.html",
        p,
        status=status,
        error=error,
        min_length=settings.password_min_length,
        history=settings.password_history,
    )


@router.get("/account/password")
def password_page(request: Request) -> Response:
    """The form: the current password, the new one twice, and the policy it must meet."""
    with page(request) as p:
        return _password_form(request, p)


@router.post("/account/password")
def change_password(
    request: Request,
    current_password: Annotated[str, Form(max_length=128)],
    new_password: Annotated[str, Form(max_length=128)],
    new_password_again: Annotated[str, Form(max_length=128)],
) -> Response:
    """Check the current password (a wrong one counts towards the lockout), set the new one under the policy,
    end every other session of the user; this one stays open. Audited."""
    token = request.cookies.get(SESSION_COOKIE, "")
    with page(request) as p:
        username = p.user.username
        if new_password != new_password_again:
            return _password_form(request, p, p.gettext(MISMATCH), 422)
        try:
            access.authenticate(p.session, username=username, password=current_password, now=p.ctx.now)
            access.change_password(
                p.session,
                user=p.user,
                password=new_password,
                policy=access.PasswordPolicy(
                    min_length=request.app.state.settings.password_min_length,
                    history=request.app.state.settings.password_history,
                ),
                actor=p.ctx.actor,
                now=p.ctx.now,
                keep_token=token,
            )
        except LiangshiError as exc:
            if not isinstance(exc, Unauthenticated) and exc.http_status != 422:
                raise
            p.session.rollback()
            failed = exc
        else:
            return redirect("/web/", flash="password_changed")
    _count_failure(request, username, failed)
    with page(request) as p:
        return _password_form(request, p, failed.message(i18n.short(p.lang)), 422)


def _totp_page(
    request: Request,
    p: Page,
    *,
    secret: str | None = None,
    uri: str | None = None,
    codes: list[str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "account_totp.html",
        p,
        status=status,
        enrolled=p.user.totp_enabled_at is not None,
        secret=secret,
        qr=segno.make(uri, error="m").svg_data_uri(scale=4) if uri else None,
        codes=codes,
        error=error,
    )


@router.get("/account/totp")
def totp_page(request: Request) -> Response:
    """Two-factor login: whether it is on, and the form to re-enrol (a new phone) with the current code."""
    with page(request) as p:
        return _totp_page(request, p)


@router.post("/account/totp")
def totp_start(
    request: Request,
    password: Annotated[str, Form(max_length=128)],
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Start a (re-)enrolment: the password and the current code (or a recovery code); the new secret is shown
    this once, and the one in force keeps working until a code of the new one confirms it."""
    with page(request) as p:
        username = p.user.username
        try:
            access.authenticate(p.session, username=username, password=password, now=p.ctx.now)
            secret, uri = access.issue_enrolment(p.session, p.user, code=code or None, now=p.ctx.now)
        except Unauthenticated as exc:
            p.session.rollback()
            failed: LiangshiError = exc
        else:
            return _totp_page(request, p, secret=secret, uri=uri)
    _count_failure(request, username, failed)
    with page(request) as p:
        return _totp_page(request, p, error=failed.message(i18n.short(p.lang)), status=422)


@router.post("/account/totp/confirm")
def totp_confirm(request: Request, code: Annotated[str, Form(max_length=20)]) -> Response:
    """Confirm with a code of the new secret: the new recovery codes are shown once; a re-enrolment ends every
    other session of the user."""
    token = request.cookies.get(SESSION_COOKIE, "")
    with page(request) as p:
        username = p.user.username
        try:
            codes = access.confirm_enrolment(
                p.session, p.user, code, actor=p.ctx.actor, now=p.ctx.now, keep_token=token
            )
        except LiangshiError as exc:
            if exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            failed = exc
        else:
            return _totp_page(request, p, codes=codes)
    _count_failure(request, username, failed)
    with page(request) as p:
        return _totp_page(request, p, error=failed.message(i18n.short(p.lang)), status=422)
