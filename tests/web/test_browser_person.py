"""Task tests in Chromium that count the user's actions: an officer deregisters a departure from the person page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.residence.models import ResidenceVersion
from tests.conftest import World
from tests.web.conftest import DESK, MOBILE, Scene, browser_login, screenshot


class Counted:
    """The user's actions on a page (clicks, fills, choices), counted; navigation the page does itself is free."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.actions = 0

    def click(self, selector: str) -> None:
        self.actions += 1
        self.page.click(selector)

    def fill(self, selector: str, value: str) -> None:
        self.actions += 1
        self.page.fill(selector, value)

    def select(self, selector: str, value: str) -> None:
        self.actions += 1
        self.page.select_option(selector, value)


def test_an_officer_deregisters_a_departure_from_the_person_page_in_at_most_five_actions(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    page = open_page(DESK)
    browser_login(page, "police_liu")
    page.goto(f"/web/persons/{scene.zhang}")
    page.wait_for_selector("[data-testid=person-name]")
    user = Counted(page)
    user.click("[data-testid=deregister] summary")
    user.select("[data-testid=deregister] select[name=reason]", "left_city")
    user.fill("[data-testid=deregister] input[name=destination]", "武汉市洪山区")
    screenshot(page, "person-deregister")
    user.click("[data-testid=deregister] button[type=submit]")
    page.wait_for_selector(".flash")
    assert "人走注销已登记" in (page.text_content(".flash") or "")
    assert user.actions <= 5, user.actions
    assert page.locator("[data-testid=current-residence]").count() == 0
    with world.session() as s:
        v = ResidenceVersion
        departed = s.execute(
            select(v.departure_date, v.destination).where(
                v.change == "retire", v.destination == "武汉市洪山区"
            )
        ).one()
        assert departed == (dt.date(2026, 11, 27), "武汉市洪山区")


def test_the_person_page_fits_a_phone_and_offers_a_past_date(
    open_page: Callable[..., Any], scene: Scene
) -> None:
    page = open_page(MOBILE)
    browser_login(page, "police_liu")
    page.goto(f"/web/persons/{scene.li}")
    page.fill("[data-testid=as-of] input[name=on]", "2025-12-01")
    page.click("[data-testid=as-of] button[type=submit]")
    page.wait_for_selector("[data-testid=as-of-badge]")
    assert page.locator("[data-testid=current-residence]").count() == 1
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= MOBILE["width"], width
