"""The auditor's pages in Chromium at 1280 px: verify both chains, look up an access log; screenshots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liangshi.departments import service as departments
from tests.conftest import World
from tests.web.conftest import DESK, Scene, browser_login, menu_click, screenshot


def test_auditor_verifies_the_chains_and_looks_up_an_access_log(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    with world.session() as s:
        departments.log_exchange(
            s,
            world.ctx(s, "health_liaison_wang"),
            direction="in",
            operation="batch",
            department="health",
            agreement_id=None,
            kinds=["person"],
            row_count=12,
            sha256="b" * 64,
            detail={},
        )
    police = open_page(DESK)
    browser_login(police, "police_liu")
    police.goto(f"/web/persons/{scene.zhang}")
    police.fill("input[name=reason]", "核对租户身份")
    police.click("form[action$='/unmask'] button[type=submit]")
    police.wait_for_selector(f"[data-testid=documents] >> text={scene.zhang_id}")

    page = open_page(DESK)
    browser_login(page, "auditor_sun")
    menu_click(page, "审计核验")
    page.wait_for_selector("h1:has-text('审计核验')")
    page.click("[data-testid=verify-audit]")  # htmx: the result appears under the button
    page.wait_for_selector("[data-testid=result-audit][data-ok=true]")
    page.click("[data-testid=verify-exchange]")
    page.wait_for_selector("[data-testid=result-exchange][data-ok=true]")
    assert "已核验 1 条记录" in (page.text_content("[data-testid=result-exchange]") or "")
    assert page.url.endswith("/web/audit")
    screenshot(page, "auditor-verify")

    menu_click(page, "查阅记录查询")
    page.wait_for_selector("h1:has-text('查阅记录查询')")
    page.fill("[data-testid=person-id]", str(scene.zhang))
    page.click("form button[type=submit].primary")
    page.wait_for_selector("[data-testid=access-entries]")
    row = page.text_content("tr[data-action='person.unmask']") or ""
    assert "police_liu" in row and "查看完整证件号码" in row and "核对租户身份" in row
    assert scene.zhang_id not in (page.content() or "")
    screenshot(page, "auditor-access-log")


def test_a_role_without_the_permission_is_refused_the_audit_page(
    open_page: Callable[..., Any], scene: Scene
) -> None:
    page = open_page(DESK)
    browser_login(page, "collector_zhang")
    assert page.locator("nav >> text=审计核验").count() == 0
    response = page.goto("/web/audit")
    assert response is not None and response.status == 403
    assert "无权" in (page.text_content("[data-testid=error]") or "")
