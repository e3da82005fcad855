"""An inspector on a 375 px phone: the plan with its OC curve drawn by ECharts, then a household's check form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from liangshi.inspections import service
from liangshi.inspections.models import InspectionResult
from liangshi.inspections.schemas import PlanCreate
from tests.conftest import INSIDE, World
from tests.inspections.test_service import TOWNSHIP, _households
from tests.web.conftest import MOBILE, browser_login, menu_click, screenshot


def test_an_inspector_checks_a_household_on_a_phone(open_page: Callable[..., Any], world: World) -> None:
    _households(world, INSIDE, 3)
    with world.session() as session:
        plan = service.create_plan(
            session,
            world.ctx(session, "inspector_zhao"),
            PlanCreate(area_id=world.area(TOWNSHIP), name="手机抽查", seed=8, margin=0.01),
        )
    page = open_page(MOBILE)
    browser_login(page, "inspector_zhao")
    menu_click(page, "检查验收")
    page.wait_for_selector("h1:has-text('检查验收')")
    page.click("[data-testid=plan-link]")
    page.wait_for_selector("[data-testid=oc] svg", state="attached")  # ECharts drew the OC curve
    assert page.locator("[data-testid=oc] svg path").count() >= 5
    screenshot(page, "inspection-plan")
    page.click("[data-testid=inspect-link] >> nth=0")
    page.wait_for_selector("[data-testid=result-form]")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= MOBILE["width"], "the form scrolls sideways on a phone"
    page.fill("input[name=persons_registered]", "2")
    page.fill("input[name=persons_present]", "2")
    page.fill("input[name=main_right]", "2")
    page.fill("input[name=general_right]", "2")
    page.check("input[name=count_matches][value=yes]")
    screenshot(page, "inspection-form")
    page.click("[data-testid=result-form] button[type=submit]")
    page.wait_for_selector(f"h1:has-text('{plan.name}')")
    assert "已录入核查结果" in (page.text_content(".flash") or "")
    with world.session() as session:
        assert session.execute(select(func.count(InspectionResult.id))).scalar_one() == 1


def test_the_web_form_stores_the_persons_not_confirmed_gone_general_items_and_floating_entered(
    open_page: Callable[..., Any], world: World
) -> None:
    _households(world, INSIDE, 3)
    with world.session() as session:
        service.create_plan(
            session,
            world.ctx(session, "inspector_zhao"),
            PlanCreate(area_id=world.area(TOWNSHIP), name="手机抽查", seed=8, margin=0.01),
        )
    page = open_page(MOBILE)
    browser_login(page, "inspector_zhao")
    page.goto("/web/inspections")
    page.click("[data-testid=plan-link]")
    page.click("[data-testid=inspect-link] >> nth=0")
    page.wait_for_selector("[data-testid=result-form]")
    for name, value in {
        "persons_registered": "2",
        "persons_present": "1",
        "persons_unconfirmed": "1",
        "main_right": "1",
        "general_right": "0",
        "general_items_wrong": "3",
        "floating_found": "2",
        "floating_registered": "2",
        "floating_entered": "1",
        "floating_right": "1",
        "persons_missed": "2",
    }.items():
        page.fill(f"[data-testid=result-form] input[name={name}]", value)
    page.check("input[name=count_matches][value=no]")
    page.click("[data-testid=result-form] button[type=submit]")
    page.wait_for_selector(".flash")
    assert "已录入核查结果" in (page.text_content(".flash") or "")
    with world.session() as session:
        result = session.execute(select(InspectionResult)).scalar_one()
        assert (result.persons_present, result.persons_unconfirmed, result.general_items_wrong) == (1, 1, 3)
        assert (result.floating_registered, result.floating_entered, result.floating_right) == (2, 1, 1)
