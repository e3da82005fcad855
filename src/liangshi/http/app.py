"""Build the FastAPI application: nothing is built at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liangshi import __version__
from liangshi.audit import service as audit
from liangshi.clock import Clock, today_is
from liangshi.config import Settings
from liangshi.db import make_engine, make_replica, make_session_factory
from liangshi.http import errors, limits, oversized, routes
from liangshi.kpis.service import ReportCache
from liangshi.web import app as web

# Swagger UI is vendored from the npm registry (swagger-ui-dist, `make assets`): /docs works without the internet.
SWAGGER = "/web/static/vendor/swagger-ui"
FAVICON = web.STATIC / "favicon.svg"


class BodyLimit:
    """Refuse request bodies over the limit with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            head = await self._head(scope, receive) if oversized.is_feed(scope) else b""
            await self._refuse(scope, send, head=head, size=int(declared))
            return
        seen = 0
        too_large = False

        async def limited() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        if scope.get("method") in ("POST", "PUT", "PATCH"):
            # Read the whole body first so an oversized stream never reaches a handler.
            chunks: list[bytes] = []
            while True:
                message = await limited()
                if too_large:
                    head = b"".join(chunks)[: oversized.HEAD_BYTES]
                    await self._refuse(scope, send, head=head, size=seen)
                    return
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def _head(self, scope: Scope, receive: Receive) -> bytes:
        """The first bytes of an oversized batch's body (at most `oversized.HEAD_BYTES`): who sends what."""
        head = b""
        while len(head) < oversized.HEAD_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                break
            head += message.get("body", b"")
            if not message.get("more_body"):
                break
        return head[: oversized.HEAD_BYTES]

    async def _refuse(self, scope: Scope, send: Send, *, head: bytes = b"", size: int | None = None) -> None:
        request = Request(scope)
        if oversized.is_feed(scope):
            # A department's batch over the limit is kept as a refused batch (nothing of its body).
            await run_in_threadpool(oversized.record, request, head, self.limit, size)
        if web.is_web(request):
            # A web form (a department's batch, a campaign file) gets the error page, in the page's language.
            mb = f"{self.limit / 1_000_000:g}"
            page = web.error_page(
                request,
                413,
                web.page_text(
                    request,
                    f"上传内容过大（上限 {mb} MB），未保存任何内容；请拆分文件后分批上传",
                    f"The upload is too large (at most {mb} MB); nothing was stored. Split the file and send "
                    "the parts one by one",
                ),
                "request.too_large",
            )
            await page(scope, lambda: _empty(), send)
            return
        lang = errors.language(request)
        response = errors.render(
            413,
            "request.too_large",
            "Request body too large" if lang == "en" else "请求内容过大",
            {"limit_bytes": self.limit},
        )
        await response(scope, lambda: _empty(), send)


class RequestToday:
    """Bind the request's today from the app's clock, so request bodies FastAPI validates before any handler
    runs (PastDate, document numbers) check "not in the future" against the same date as the handler's Context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        clock: Clock = scope["app"].state.clock
        with today_is(clock.today()):
            await self.app(scope, receive, send)


# Scripts only from our own files: no inline script or handler anywhere (tests/web/test_no_inline_script.py
# greps the templates; /docs starts Swagger UI from a static file).
CSP = "script-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """nosniff, no framing, no referrer, and no-store on every response but static files (issue 18: personal
    data must not stay in shared caches); HSTS when the session cookie is HTTPS-only."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/web/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", CSP.encode()),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not static:
                    extra.append((b"cache-control", b"no-store"))
                if self.hsts:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


async def _empty() -> Message:
    return {"type": "http.disconnect"}


# Swagger UI's own pages without inline script (FastAPI's helpers inline one): each starts from a static file.
DOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="/favicon.ico"><link rel="stylesheet" href="{swagger}/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="/web/static/swagger-init.js"></script></body></html>"""
DOCS_REDIRECT = """<!doctype html><html lang="en-US"><head><meta charset="utf-8">
<title>Swagger UI: OAuth2 Redirect</title></head>
<body><script src="{swagger}/oauth2-redirect.js"></script></body></html>"""

HOME = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>两实 liangshi</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>两实 · liangshi</h1><p>实有人口、实有房屋登记系统 — registry of actual population and actual housing.</p>
<p><a href="/web/">网页登录 (web pages)</a> · <a href="/docs">API 文档 (OpenAPI)</a></p></body></html>"""


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, engine: Any = None
) -> FastAPI:
    """The application for these settings (tests pass an engine and a fixed clock)."""
    settings = settings or Settings()
    app = FastAPI(
        title="liangshi 两实",
        version=__version__,
        description='实有人口、实有房屋 registry API. Errors: `{"error": {"code", "message", "data"}}`; '
        "send `Accept-Language: en` for English messages and `X-Purpose` to state why you read personal data.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock or Clock()
    app.state.engine = engine or make_engine(
        settings.database_url,
        echo=settings.sql_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app.state.sessions = make_session_factory(app.state.engine)
    # The read-only reporting replica (None unless LIANGSHI_REPLICA_URL is set): `http.tx.reporting`.
    app.state.replica = make_replica(settings)
    app.state.kpi_cache = ReportCache(settings.kpi_cache_seconds)
    # The audit log's signing key (made on first use in the data folder) and the public keys of older heads.
    app.state.audit_keys = audit.load_keys(settings, create=True)
    errors.install(app)
    routes.include_all(app)
    web.mount(app)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return HOME

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API explorer, from the vendored Swagger UI."""
        page = DOCS.format(
            title=f"{app.title} · API", swagger=SWAGGER, openapi=app.openapi_url or "/openapi.json"
        )
        return HTMLResponse(page)

    @app.get("/docs/oauth2-redirect", response_class=HTMLResponse, include_in_schema=False)
    def docs_redirect() -> HTMLResponse:
        """Swagger UI's OAuth2 redirect page."""
        return HTMLResponse(DOCS_REDIRECT.format(swagger=SWAGGER))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        """The site icon (an SVG; browsers that ask for /favicon.ico accept it)."""
        return FileResponse(FAVICON, media_type="image/svg+xml")

    @app.get("/health", tags=["system"])
    def health() -> dict[str, str]:
        """Liveness check."""
        return {"status": "ok", "version": __version__}

    limits.install(app)

    app.add_middleware(RequestToday)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    return app
