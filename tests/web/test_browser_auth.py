"""Log in as each persona in a real browser (Debian's Chromium via Playwright); Chinese renders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import PASSWORD, PERSONAS
from tests.web.conftest import DESK, MOBILE, browser_login, screenshot


def test_each_persona_sees_their_home_page(open_page: Callable[..., Any]) -> None:
    page = open_page(DESK)
    for username in PERSONAS:
        browser_login(page, username)
        assert page.text_content("h1") == f"{username}，您好"
        assert username in (page.text_content("[data-testid=who]") or "")
        page.click("text=退出")
        page.wait_for_selector("input[name=username]")
        assert "您已安全退出" in (page.text_content(".flash") or "")


def test_wrong_password_then_lockout_in_the_browser(open_page: Callable[..., Any]) -> None:
    page = open_page(MOBILE)
    page.goto("/web/login")
    for _ in range(5):
        page.fill("input[name=username]", "police_liu")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
        assert "用户名或密码错误" in (page.text_content("[data-testid=login-error]") or "")
    page.fill("input[name=username]", "police_liu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert "锁定" in (page.text_content("[data-testid=login-error]") or "")


def test_login_page_renders_chinese_and_switches_to_english(open_page: Callable[..., Any]) -> None:
    page = open_page(MOBILE)
    page.goto("/web/login")
    assert page.text_content("h1") == "登录"
    # The page really lays out CJK glyphs (a font is present): the heading has a width.
    box = page.locator("h1").bounding_box()
    assert box is not None and box["width"] > 20
    screenshot(page, "login")
    page.click("text=English")
    page.wait_for_selector("h1:has-text('Log in')")
    assert page.text_content("label") is not None and "Username" in (page.text_content("label") or "")
