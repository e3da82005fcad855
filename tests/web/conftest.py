"""Web page fixtures: a TestClient that logs in through the form, a live server and a real browser.

The live server is the real app served by uvicorn on a free port in a background thread, on the same test
database as every other test (SQLite or PostgreSQL, per LIANGSHI_TEST_DB); the browser is Debian's Chromium
driven by Playwright.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from liangshi.clock import fixed
from liangshi.config import Settings
from liangshi.http.app import create_app
from tests.conftest import INSIDE, NOW, PASSWORD, World

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


def menu_click(page: Any, entry: str) -> None:
    """Click a menu entry as a user does: on a phone the menu is folded behind its button, which is tapped
    first (issue 17); on a desk the entry is in the bar or in its section's drop-down, which is opened first."""
    toggle = page.locator("[data-testid=menu-toggle]")
    if toggle.count() and toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    target = page.locator(f"nav >> text={entry}").first
    if not target.is_visible():
        section = page.locator("nav.menu .menu-section").filter(has=page.locator(f"text={entry}"))
        if section.count():
            section.first.locator(".menu-head").click()
    target.click()


@dataclass
class Scene:
    """A small registry for page tests: one building in 滨湖社区 and one in 南浦社区."""

    place: Any  # factories.Place in collector_zhang's community (滨湖社区)
    other: Any  # factories.Place in collector_zhou's community (南浦社区)
    zhang: int  # 张三, living at place.dwelling_id since 2026-03-01
    li: int  # 李四, lived there 2025-05-01 .. 2026-02-20
    wang: int  # 王五, the landlord
    zhang_id: str


@pytest.fixture
def scene(world: World) -> Scene:
    """The page-test registry, built through the services."""
    import datetime as dt

    from liangshi.rentals import service as rentals
    from liangshi.rentals.schemas import RentalCreate
    from liangshi.residence import service as residence
    from liangshi.residence.schemas import DepartureIn
    from tests import factories

    with world.session() as session:
        ctx = world.ctx(session)
        inside, district = world.area(INSIDE), world.area("420704")
        place = factories.place(session, ctx, area_id=inside, district_id=district)
        other = factories.place(session, ctx, area_id=world.area("420704001002"), district_id=district)
        zhang_id = factories.make_id("420704", dt.date(1985, 4, 12), 31)
        zhang = factories.person(
            session, ctx, area_id=inside, name="张三", id_number=zhang_id, birth=dt.date(1985, 4, 12)
        )
        li = factories.person(
            session, ctx, area_id=inside, name="李四", male=False, birth=dt.date(1991, 8, 3)
        )
        wang = factories.person(session, ctx, area_id=inside, name="王五", birth=dt.date(1960, 1, 9))
        factories.arrival(
            session, ctx, person_id=zhang, dwelling_id=place.dwelling_id, arrived=dt.date(2026, 3, 1)
        )
        rid = factories.arrival(
            session, ctx, person_id=li, dwelling_id=place.dwelling_id, arrived=dt.date(2025, 5, 1)
        )
        residence.deregister_departure(
            session,
            ctx,
            rid,
            DepartureIn.model_validate(
                {
                    "expected_version": 1,
                    "departure_date": "2026-02-20",
                    "reason": "left_city",
                    "destination": "武汉",
                }
            ),
        )
        rentals.file_rental(
            session,
            ctx,
            RentalCreate.model_validate(
                {
                    "dwelling_id": place.dwelling_id,
                    "landlord_person_id": wang,
                    "lease_start": "2026-03-01",
                    "filing_number": "BH-2026-001",
                    "agreement_signed_on": "2026-03-02",
                    "agreement_signer": "王五",
                }
            ),
        )
    return Scene(place, other, zhang, li, wang, zhang_id)


def screenshot(page: Any, name: str) -> Path:
    """Take a full-page screenshot: into docs/screenshots/ with LIANGSHI_SCREENSHOTS=1, else a temp directory.

    `LIANGSHI_SCREENSHOTS=1 pytest tests/web -k browser` refreshes the README's pictures.
    """
    if os.environ.get("LIANGSHI_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    else:
        folder = Path(tempfile.gettempdir()) / "liangshi-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path
