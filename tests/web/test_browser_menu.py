"""Menus that fit (issue 17), in Chromium, for every demo role: one line at 1024 and 1280 px, every entry the role
had reachable from its section's drop-down by a click, a folded menu at 375 px with every entry inside the screen
and no sideways scroll, and the sections usable from the keyboard (Enter opens, Escape closes and returns)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from liangshi.access.rules import Actor
from liangshi.web.nav import nav_for
from tests.conftest import PERSONAS
from tests.web.conftest import MOBILE, Scene, browser_login, menu_click

# Where each direct child of the bar (an entry or a section's button) lies: one line means one top for all.
_BAR = """() => {
  const nav = document.querySelector('nav.menu');
  const kids = Array.from(nav.children).map(el => {
    const head = el.classList.contains('menu-section') ? el.querySelector('.menu-head') : el;
    const r = head.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, right: r.right, name: head.textContent.trim()};
  });
  return {kids, height: nav.getBoundingClientRect().height, width: window.innerWidth,
          overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""

_PHONE = """() => {
  const out = [];
  for (const a of document.querySelectorAll('nav.menu a[href]')) {
    const r = a.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) out.push(a.textContent.trim() + ': not shown');
    else if (r.left < -0.5 || r.right > window.innerWidth + 0.5) out.push(a.textContent.trim() + ': outside');
  }
  return {hidden: out, overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


def _expected(persona: str) -> list[tuple[str, str]]:
    """The entries the role's menu linked before the sections: every page its permissions open (nav_for)."""
    from liangshi.web import app as web_app  # registers every page module's entries

    for name in web_app.PAGE_MODULES:
        __import__(name)
    role, _, department = PERSONAS[persona]
    actor = Actor(
        user_id=None,
        username=persona,
        role=role,
        area_id=0,
        area_path="/",
        county_code="420704",
        department=department,
    )
    return [(i.path, i.label) for i in nav_for(actor)]


def _links(page: Any) -> list[str]:
    return [
        str(h)
        for h in page.eval_on_selector_all("nav.menu a[href]", "els => els.map(a => a.getAttribute('href'))")
    ]


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_the_menu_is_one_line_on_a_desk_and_reaches_every_page(
    open_page: Callable[..., Any], scene: Scene, persona: str
) -> None:
    expected = _expected(persona)
    page = open_page({"width": 1024, "height": 800})
    browser_login(page, persona)
    # The same pages as before the sections, each once, the home page first.
    links = _links(page)
    assert links[0] == "/web/"
    assert sorted(links) == sorted(p for p, _ in expected), persona
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        bar = page.evaluate(_BAR)
        tops = [k["top"] for k in bar["kids"]]
        line = max(k["bottom"] - k["top"] for k in bar["kids"])
        assert max(tops) - min(tops) < 2, (persona, width, bar["kids"])  # every entry on one line
        assert bar["height"] < 1.6 * line, (persona, width, bar["height"], line)
        assert max(k["right"] for k in bar["kids"]) <= width, (persona, width)
        assert bar["overflow"] <= 1, (persona, width)
    # Every entry is reached by a click (its section opened first when it lies in one), and opens.
    page.set_viewport_size({"width": 1024, "height": 800})
    names = dict(
        page.eval_on_selector_all(
            "nav.menu a[href]", "els => els.map(a => [a.getAttribute('href'), a.textContent.trim()])"
        )
    )
    for href in links:
        page.goto("/web/")
        name = names[href]
        hidden_before = not page.locator(f"nav.menu a[href='{href}']").is_visible()
        with page.expect_navigation() as navigation:
            _click_entry(page, href)
        response = navigation.value
        assert response is not None and response.status < 400, (persona, href, response and response.status)
        first = response.request
        while (
            first.redirected_from is not None
        ):  # an entry may redirect to its page (the floating lists' area)
            first = first.redirected_from
        assert urlsplit(first.url).path == href, (persona, href, first.url)
        if (
            hidden_before
        ):  # it was in a closed drop-down, so its section is labelled and was opened by a click
            assert name
    # On a phone: folded behind the Menu button, every entry inside the screen once opened, no sideways scroll.
    page.set_viewport_size(MOBILE)
    page.goto("/web/")
    assert not page.locator("nav.menu").is_visible()
    page.click("[data-testid=menu-toggle]")
    phone = page.evaluate(_PHONE)
    assert phone["hidden"] == [], (persona, phone["hidden"])
    assert phone["overflow"] <= 1, (persona, phone["overflow"])
    # And an entry in a section is clicked there like any other.
    last = links[-1]
    with page.expect_navigation():
        page.click(f"nav.menu a[href='{last}']")
    assert urlsplit(page.url).path.startswith(last)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1


def _click_entry(page: Any, href: str) -> None:
    target = page.locator(f"nav.menu a[href='{href}']")
    if not target.is_visible():
        head = (
            page.locator("nav.menu .menu-section")
            .filter(has=page.locator(f"a[href='{href}']"))
            .locator(".menu-head")
        )
        assert head.count() == 1, href
        assert head.get_attribute("aria-expanded") == "false"
        head.click()
        assert head.get_attribute("aria-expanded") == "true"
    target.click()


def test_a_section_opens_and_closes_from_the_keyboard(open_page: Callable[..., Any], scene: Scene) -> None:
    page = open_page({"width": 1280, "height": 800})
    browser_login(page, "station_admin_li")
    head = page.locator("[data-testid=menu-review]")
    entry = page.locator("#menu-review a").first
    assert head.get_attribute("aria-expanded") == "false" and not entry.is_visible()
    head.focus()
    page.keyboard.press("Enter")
    assert head.get_attribute("aria-expanded") == "true" and entry.is_visible()
    page.keyboard.press("Tab")  # into the drop-down: its first entry
    assert page.evaluate("document.activeElement.getAttribute('href')") == entry.get_attribute("href")
    page.keyboard.press("Escape")
    assert head.get_attribute("aria-expanded") == "false" and not entry.is_visible()
    assert page.evaluate("document.activeElement.dataset.testid") == "menu-review"
    # One drop-down open at a time; a click elsewhere closes it.
    page.keyboard.press("Space")
    assert head.get_attribute("aria-expanded") == "true"
    page.click("[data-testid=menu-stats]")
    assert head.get_attribute("aria-expanded") == "false"
    assert page.locator("[data-testid=menu-stats]").get_attribute("aria-expanded") == "true"
    page.click("main")
    assert page.locator("[data-testid=menu-stats]").get_attribute("aria-expanded") == "false"
    # The desk's helper reaches an entry inside a section.
    menu_click(page, "数据冲突")
    page.wait_for_selector("h1")
    assert urlsplit(page.url).path == "/web/conflicts"
