"""Mount the web pages on the application: templates, static files, page routers and HTML error pages."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from liangshi.errors import LiangshiError, Unauthenticated
from liangshi.web import i18n
from liangshi.web.render import Templates, is_htmx, login_url, redirect, render

STATIC = Path(__file__).parent / "static"

# Page modules, each with a `router`; add yours here.
PAGE_MODULES = (
    "liangshi.web.pages.auth",
    "liangshi.web.pages.places",
    "liangshi.web.pages.dashboard",
    "liangshi.web.pages.collect",
    "liangshi.web.pages.collect_changes",
    "liangshi.web.pages.campaign",
    "liangshi.web.pages.search",
    "liangshi.web.pages.person",
    "liangshi.web.pages.conflicts",
    "liangshi.web.pages.checks",
    "liangshi.web.pages.feedback",
    "liangshi.web.pages.reviews",
    "liangshi.web.pages.changesets",
    "liangshi.web.pages.dwelling",
    "liangshi.web.pages.rentals",
    "liangshi.web.pages.floating",
    "liangshi.web.pages.audit",
    "liangshi.web.pages.inspections",
    "liangshi.web.pages.inspect_offline",
    "liangshi.web.pages.address_match",
    # Issue 17: the rest of the job in the web (thin pages over the existing services).
    "liangshi.web.pages.housing",
    "liangshi.web.pages.streets",
    "liangshi.web.pages.households",
    "liangshi.web.pages.permits",
    "liangshi.web.pages.agreements",
    "liangshi.web.pages.venues",
    "liangshi.web.pages.areas",
    "liangshi.web.pages.declare",
    "liangshi.web.pages.tables",
    "liangshi.web.pages.accountability",
    # Issue 18: one's own password and two-factor authenticator.
    "liangshi.web.pages.account",
    # Issue 15: a department's batch sent from the web.
    "liangshi.web.pages.batches",
)

_HTTP_TEXT = {
    404: ("未找到该页面", "Page not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    413: ("请求内容过大", "Request body too large"),
}


def is_web(request: Request) -> bool:
    """Whether a request is for a web page (errors render as HTML, not JSON)."""
    return request.url.path == "/web" or request.url.path.startswith("/web/")


def page_text(request: Request, zh: str, en: str) -> str:
    """The Chinese or English text, by the page language (for messages outside the catalogues)."""
    return en if i18n.short(i18n.language(request)) == "en" else zh


def error_page(request: Request, status: int, message: str, code: str) -> Response:
    """The HTML error page (htmx gets the message as a fragment)."""
    lang = i18n.language(request)
    if is_htmx(request):
        return render(request, "_error_fragment.html", status=status, lang=lang, message=message, code=code)
    return render(request, "error.html", status=status, lang=lang, message=message, code=code)


def mount(app: FastAPI) -> None:
    """Add the web pages to an application built by create_app."""
    app.state.web_templates = Templates.build()
    app.mount("/web/static", StaticFiles(directory=STATIC, check_dir=False), name="web-static")
    for name in PAGE_MODULES:
        module = importlib.import_module(name)
        app.include_router(module.router)
        if hasattr(module, "public_router"):  # a page's short address outside /web (a plate's /q/<code>)
            app.include_router(module.public_router)
    _install_errors(app)


def _install_errors(app: FastAPI) -> None:
    api_domain: Any = app.exception_handlers[LiangshiError]
    api_http: Any = app.exception_handlers[StarletteHTTPException]
    api_invalid: Any = app.exception_handlers[RequestValidationError]

    async def domain(request: Request, exc: Exception) -> Response:
        if not is_web(request):
            return await api_domain(request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, LiangshiError)
        if isinstance(exc, Unauthenticated) and exc.code == "auth.required":
            return redirect(login_url(request), htmx=is_htmx(request))
        return error_page(request, exc.http_status, exc.message(i18n.short(i18n.language(request))), exc.code)

    async def http(request: Request, exc: Exception) -> Response:
        if not is_web(request):
            return await api_http(request, exc)  # type: ignore[no-any-return]
        assert isinstance(exc, StarletteHTTPException)
        zh, en = _HTTP_TEXT.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        lang = i18n.short(i18n.language(request))
        return error_page(request, exc.status_code, en if lang == "en" else zh, f"http.{exc.status_code}")

    async def invalid(request: Request, exc: Exception) -> Response:
        if not is_web(request):
            return await api_invalid(request, exc)  # type: ignore[no-any-return]
        lang = i18n.short(i18n.language(request))
        message = "The form has a missing or invalid field" if lang == "en" else "表单有缺失或无效的字段"
        return error_page(request, 422, message, "request.invalid")

    app.add_exception_handler(LiangshiError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, invalid)
