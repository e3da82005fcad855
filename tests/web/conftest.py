"""Web page fixtures: a TestClient that logs in through the form, a live server and a real browser.

The live server is the real app served by uvicorn on a free port in a background thread, on the same test
database as every other test (SQLite or PostgreSQL, per LIANGSHI_TEST_DB); the browser is Debian's Chromium
driven by Playwright.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from liangshi.clock import fixed
from liangshi.config import Settings
from liangshi.http.app import create_app
from tests.conftest import NOW, PASSWORD, World

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MOBILE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 900}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered form."""
    found = _CSRF.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def form_login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the login form (with its CSRF token); returns the response."""
    page = client.get("/web/login")
    return client.post(
        "/web/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/web/"},
        follow_redirects=False,
    )


@pytest.fixture
def web(app: Any) -> TestClient:
    """An anonymous browser-like client of the web pages (cookies kept, redirects not followed)."""
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def web_as(app: Any) -> Callable[[str], TestClient]:
    """web_as(username) -> a client logged in as that persona through the login form."""

    def do(username: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        r = form_login(client, username)
        assert r.status_code == 303, r.text
        return client

    return do


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(engine: Engine) -> Iterator[str]:
    """Base URL of the real app served by uvicorn in a background thread, on the test database."""
    app = create_app(Settings(database_url="sqlite://"), clock=fixed(NOW), engine=engine)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, live_server: str, world: World) -> Iterator[Callable[..., Any]]:
    """open_page(viewport=MOBILE) -> a fresh browser page (own cookies) on the live server."""
    contexts: list[Any] = []

    def do(viewport: dict[str, int] | None = None, locale: str = "zh-CN") -> Any:
        context = browser.new_context(viewport=viewport or DESK, locale=locale, base_url=live_server)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield do
    for context in contexts:
        context.close()


def browser_login(page: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form in the browser and wait for the home page."""
    page.goto("/web/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")
