"""An empty denominator is said in words on the dashboard: no "NaN", no "0/0"; at 375 px the menu is one line and
the drill-down table keeps its names whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.kpis.helpers import FROM, TO, build
from tests.web.conftest import MOBILE, browser_login, screenshot

Web = Callable[[str], TestClient]


def test_a_period_with_nothing_to_count_says_so_in_words(world: World, web_as: Web) -> None:
    build(world)
    client = web_as("station_admin_li")
    # Long before anything was recorded: every denominator is empty.
    r = client.get("/web/dashboard", params={"from": "2011-01-01", "to": "2011-03-31"})
    assert r.status_code == 200
    assert "无统计对象（分母为零）" in r.text
    assert "0/0" not in r.text and "NaN" not in r.text
    assert '"empty": "无统计对象（分母为零）"' in r.text or '"empty":"无统计对象（分母为零）"' in r.text
    full = client.get("/web/dashboard", params={"from": FROM.isoformat(), "to": TO.isoformat()})
    assert "0/0" not in full.text and "NaN" not in full.text


def test_the_dashboard_on_a_phone_folds_the_menu_into_a_button_and_keeps_the_names_whole(
    open_page: Callable[..., Any], world: World
) -> None:
    from tests.web.test_browser_crawl import _MENU_HIDDEN

    build(world)
    page = open_page(MOBILE)
    browser_login(page, "station_admin_li")
    page.goto(f"/web/dashboard?from={FROM.isoformat()}&to={TO.isoformat()}")
    page.wait_for_selector("[data-testid=drill]")
    # Closed: the menu takes no line of the top bar (never three wrapped lines), only its button.
    assert page.is_visible("[data-testid=menu-toggle]")
    assert not page.is_visible("nav.menu")
    # Opened: every entry inside the screen, none cut off (the crawl's check, which _MENU_HIDDEN opens it for).
    entries = page.eval_on_selector_all("nav.menu a", "els => els.length")
    assert entries >= 6, entries
    assert page.evaluate(_MENU_HIDDEN) == []
    assert page.get_attribute("[data-testid=menu-toggle]", "aria-expanded") == "true"
    assert page.is_visible("nav.menu a[href='/web/dashboard']")
    screenshot(page, "menu-phone")
    # The crawl's check sees the old one-line menu that scrolled inside itself: entries past the edge are caught.
    page.add_style_tag(
        content="nav.menu.open { display: flex !important; flex-wrap: nowrap; overflow-x: auto; white-space: nowrap; }"
    )
    assert any("cut off" in e or "outside" in e for e in page.evaluate(_MENU_HIDDEN))
    page.goto(f"/web/dashboard?from={FROM.isoformat()}&to={TO.isoformat()}")
    page.wait_for_selector("[data-testid=drill]")
    widths = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-testid=drill] tbody td:first-child'))"
        ".map(td => [td.getBoundingClientRect().width, td.getBoundingClientRect().height])"
    )
    assert widths and all(w >= 80 for w, _ in widths), widths
    line = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('[data-testid=drill-link]')).lineHeight) || 24"
    )
    assert all(h < 3 * line for _, h in widths), (widths, line)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= MOBILE["width"]
    assert "NaN" not in (page.text_content("[data-testid=gauge]") or "")
    screenshot(page, "dashboard-phone")
