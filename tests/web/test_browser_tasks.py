"""Task tests in Chromium that count the user's actions (issue 17): a housing officer files a rental with its
security agreement in at most eight, a collector adds a tenant at a rented dwelling in at most eight."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.registry.changesets import ChangeSet
from liangshi.rentals import service as rentals
from liangshi.rentals.models import RentalTenant
from liangshi.rentals.schemas import RentalEnd
from tests.conftest import World
from tests.factories import make_id
from tests.web.conftest import DESK, MOBILE, Scene, browser_login, screenshot
from tests.web.test_browser_person import Counted


def _end_scene_rental(world: World, scene: Scene) -> None:
    with world.session() as s:
        snap = rentals.rental_of_dwelling(s, world.ctx(s), scene.place.dwelling_id)
        assert snap is not None
        body = RentalEnd.model_validate({"expected_version": snap.entity.version, "ended_on": "2026-11-01"})
        rentals.end_rental(s, world.ctx(s), snap.entity.id, body)


def test_a_housing_officer_files_a_rental_with_its_agreement_in_at_most_eight_actions(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    _end_scene_rental(world, scene)
    page = open_page(DESK)
    browser_login(page, "housing_officer_he")
    page.goto(f"/web/dwellings/{scene.place.dwelling_id}")
    page.wait_for_selector("[data-testid=address]")
    user = Counted(page)
    user.click("[data-testid=file-rental]")
    user.fill("input[name=landlord_id_number]", scene.zhang_id)
    user.click(f"input[name=tenant][value='{scene.zhang}']")
    user.fill("input[name=filing_number]", "BH-2026-808")
    user.fill("input[name=agreement_signer]", "张三")
    screenshot(page, "housing-officer-rental")
    user.click("[data-testid=rental-form] button[type=submit]")
    page.wait_for_selector(".flash")
    assert "出租房屋已登记" in (page.text_content(".flash") or "")
    assert user.actions <= 8, user.actions
    with world.session() as s:
        snap = rentals.rental_of_dwelling(s, world.ctx(s), scene.place.dwelling_id)
        assert snap is not None and snap.row.filing_number == "BH-2026-808"
        assert snap.row.agreement_signer == "张三" and snap.row.agreement_signed_on == dt.date(2026, 11, 27)
        tenants = s.execute(select(RentalTenant.person_id).where(RentalTenant.rental_id == snap.entity.id))
        assert list(tenants.scalars()) == [scene.zhang]


def test_a_collector_adds_a_tenant_in_at_most_eight_actions(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    page = open_page(MOBILE)
    browser_login(page, "collector_zhang")
    page.goto(f"/web/collect/dwellings/{scene.place.dwelling_id}")
    user = Counted(page)
    user.click(f"a[href='/web/collect/dwellings/{scene.place.dwelling_id}/persons/new']")
    user.fill("#id_number", make_id("420102", dt.date(1996, 6, 6), 17))
    user.fill("input[name=name]", "孙租客")
    user.select("select[name=category]", "floating")
    user.click("#tenant")
    screenshot(page, "collector-tenant")
    user.click("form button[type=submit].primary")
    page.wait_for_selector(".flash")
    assert user.actions <= 8, user.actions
    with world.session() as s:
        cs = s.execute(select(ChangeSet).where(ChangeSet.summary == "孙租客")).scalar_one()
        kinds = [item["kind"] for item in json.loads(cs.items)]
        assert "rental_tenant" in kinds and cs.proposer == "collector_zhang"


def test_the_new_pages_fit_a_phone(open_page: Callable[..., Any], scene: Scene, world: World) -> None:
    page = open_page(MOBILE)
    browser_login(page, "police_liu")
    for path in (
        f"/web/streets/{scene.place.street_id}",
        "/web/streets",
        "/web/households",
        f"/web/persons/{scene.zhang}/permits",
        f"/web/dwellings/{scene.place.dwelling_id}/edit",
        "/web/venues",
        f"/web/areas/{world.area('420704001001')}",
    ):
        page.goto(path)
        page.wait_for_selector("main")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], (path, width)
