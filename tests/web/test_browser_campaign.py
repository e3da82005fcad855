"""A station admin sets up a campaign and assigns a community, in Debian's Chromium on a 375-px phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.campaign.models import Assignment
from tests.conftest import INSIDE, World
from tests.web.conftest import MOBILE, Scene, browser_login, screenshot


def test_a_station_admin_creates_a_campaign_and_assigns_a_community(
    open_page: Callable[..., Any], world: World, scene: Scene
) -> None:
    page = open_page(MOBILE)
    browser_login(page, "station_admin_li")
    page.goto("/web/campaigns")
    page.fill("input[name=name]", "凤凰街道两实采集")
    page.fill("input[name=area]", "420704001")
    page.fill("input[name=starts_on]", "2026-11-01")
    page.fill("input[name=pilots]", INSIDE)
    page.fill("input[name=rollout_on]", "2026-12-01")
    page.click("text=建立采集活动 >> nth=-1")
    page.wait_for_selector("[data-testid=phases]")
    assert page.locator("[data-testid=phases] tbody tr").count() == 5
    assert "准备宣传" in (page.text_content("[data-testid=phases]") or "")
    page.select_option("[data-testid=assign-form] select[name=collector]", "collector_zhang")
    page.select_option("[data-testid=assign-form] select[name=unit]", "community")
    page.select_option("[data-testid=assign-form] select[name=area_code]", INSIDE)
    page.fill("[data-testid=assign-form] input[name=due_on]", "2026-12-01")
    page.click("[data-testid=assign-form] button[type=submit]")
    page.wait_for_selector("[data-testid=assignments]")
    row = page.locator("[data-testid=assignments] tbody tr").first
    assert "collector_zhang" in (row.text_content() or "")
    assert page.locator("[data-testid=card]").first.text_content() == "黄牌"
    screenshot(page, "campaign")
    with world.session() as session:
        a = session.execute(select(Assignment)).scalar_one()
    assert a.unit_kind == "community" and a.workload_buildings == 1  # the scene's building in 滨湖社区
    # The collector sees the work on the progress page of the community.
    page.context.clear_cookies()
    browser_login(page, "collector_zhang")
    page.goto(f"/web/progress?area={INSIDE}")
    page.wait_for_selector("[data-testid=progress-collectors]")
    assert "collector_zhang" in (page.text_content("[data-testid=progress-collectors]") or "")
