"""The review desk in Chromium at 1280 px: a department conflict and a match review decided; screenshots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liangshi.departments.models import ExchangeConflict
from liangshi.mpi.models import MatchReview
from tests.conftest import World
from tests.web.conftest import DESK, browser_login, menu_click, screenshot
from tests.web.review_data import conflict, fake_linkage, feedback, review

__all__ = ["fake_linkage"]


def test_decide_a_conflict_and_a_review_in_the_browser(
    open_page: Callable[..., Any], world: World, fake_linkage: None
) -> None:
    cid, _ = conflict(world)
    conflict(world, field="phone", register="+8613800001111", value="+8613900002222", name="吴九")
    conflict(world, field="workplace", register="滨湖小学", value="滨湖中学", name="郑十")
    rid, _ = review(world)
    late, _ = feedback(world, days_ago=20)
    feedback(world)

    page = open_page(DESK)
    browser_login(page, "station_admin_li")
    menu_click(page, "数据冲突")
    page.wait_for_selector("[data-testid=conflicts]")
    assert page.locator("[data-testid=conflicts] tbody tr").count() == 3
    screenshot(page, "conflicts")
    page.click(f"tr[data-conflict='{cid}'] a")
    page.wait_for_selector("[data-testid=department-value]")
    assert page.text_content("[data-testid=register-value]") == "工人"
    assert page.text_content("[data-testid=department-value]") == "教师"
    page.check("input[name=decision][value=accept]")
    page.fill("input[name=reason]", "单位出具在职证明")
    page.click("form button[type=submit].primary")
    page.wait_for_selector(".flash")
    assert "已采纳部门数据" in (page.text_content(".flash") or "")
    assert "已采纳" in (page.text_content(f"tr[data-conflict='{cid}']") or "")
    with world.session() as s:
        assert s.get(ExchangeConflict, cid).status == "accepted"  # type: ignore[union-attr]

    page = open_page(DESK)
    browser_login(page, "police_liu")
    menu_click(page, "存疑反馈")
    page.wait_for_selector(f"li.overdue[data-feedback='{late}']")
    assert page.locator("li.feedback.overdue").count() == 1
    screenshot(page, "feedback")
    page.click(f"li[data-feedback='{late}'] button:has-text('签收')")
    page.wait_for_selector(".flash")
    assert "已签收" in (page.text_content(f"li[data-feedback='{late}']") or "")

    menu_click(page, "比对审核")
    page.wait_for_selector("[data-testid=reviews]")
    page.click(f"tr[data-review='{rid}'] a")
    page.wait_for_selector("[data-testid=side-by-side]")
    assert "完全相同" in (page.text_content("tr[data-field=name]") or "")
    page.fill("input[name=reason]", "电话联系本人核实")
    page.check("input[name=decision][value=same]")
    screenshot(page, "review")
    page.click("form button[type=submit].primary")
    page.wait_for_selector(".flash")
    assert "同一人" in (page.text_content(".flash") or "")
    with world.session() as s:
        assert s.get(MatchReview, rid).status == "linked"  # type: ignore[union-attr]
