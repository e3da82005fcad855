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


def test_one_run_from_the_campaign_to_the_review_desk_on_a_phone(
    open_page: Callable[..., Any], world: World, scene: Scene
) -> None:
    """Issue 13's single run: the station admin creates a campaign and assigns the community; the collector
    sees the work with its card, downloads it, goes offline, records three visits and a new tenant, reloads
    offline (the outbox is still there), comes back online and syncs: each item stored exactly once, as change
    sets awaiting review."""
    import datetime as dt  # the rest of this module needs neither

    from sqlalchemy import func

    from liangshi.campaign.models import HouseholdCount, SyncItem, Visit
    from liangshi.registry.changesets import ChangeSet
    from tests import factories
    from tests.factories import make_id
    from tests.web.test_browser_collect_offline import _more_rooms, _open_app, _outbox_states, _visit

    rooms = _more_rooms(world, scene)
    with world.session() as session:
        # 张三's household at 501: its size is asked at the visit.
        household = factories.household(
            session,
            world.ctx(session),
            area_id=world.area(INSIDE),
            dwelling_id=scene.place.dwelling_id,
            members=[(scene.zhang, "02")],
        )
    page = open_page(MOBILE)
    browser_login(page, "station_admin_li")
    page.goto("/web/campaigns")
    page.fill("input[name=name]", "凤凰街道两实采集")
    page.fill("input[name=area]", "420704001")
    page.fill("input[name=starts_on]", "2026-11-01")
    page.click("text=建立采集活动 >> nth=-1")
    page.wait_for_selector("[data-testid=phases]")
    page.select_option("[data-testid=assign-form] select[name=collector]", "collector_zhang")
    page.select_option("[data-testid=assign-form] select[name=unit]", "community")
    page.select_option("[data-testid=assign-form] select[name=area_code]", INSIDE)
    page.fill("[data-testid=assign-form] input[name=due_on]", "2026-12-01")
    page.click("[data-testid=assign-form] button[type=submit]")
    page.wait_for_selector("[data-testid=assignments]")
    page.context.clear_cookies()

    browser_login(page, "collector_zhang")
    page.goto("/web/collect")
    page.wait_for_selector("[data-testid=my-assignments]")
    assert page.locator("[data-testid=my-assignments] [data-testid=card]").first.text_content() == "黄牌"
    _open_app(page, scene)
    context = page.context
    context.set_offline(True)
    page.wait_for_selector("[data-testid=net][data-online=false]")
    page.click(f"[data-testid=app-building-{scene.place.building_id}]")
    page.click("[data-testid=app-dwelling-501]")
    page.wait_for_selector("#app-visit [data-testid=app-household-size]")
    page.check("#app-visit input[name=outcome][value=occupied]")
    page.fill(f"#app-visit input[name=size_{household}]", "1")
    page.click("#app-visit button[type=submit]")
    page.wait_for_selector("[data-testid=app-dwelling-501]")
    page.click("text=← ")
    _visit(page, scene, "502", "vacant")
    _visit(page, scene, "601", "nobody_home")
    page.goto(f"/web/collect/app#/p/{rooms['502']}")
    page.wait_for_selector("#app-person")
    page.fill("#app-id", make_id("420102", dt.date(1995, 4, 2), 31))
    page.wait_for_selector("#app-id-hint[data-valid=true]")
    page.fill("#app-person input[name=name]", "钱芳")
    page.select_option("#app-person select[name=category]", "floating")
    page.select_option("#app-person select[name=ethnicity]", "01")
    page.click("#app-person button[type=submit]")
    page.wait_for_selector("#app-visit")
    page.reload()
    page.wait_for_selector("#view[data-ready=true]")
    assert _outbox_states(page) == ["waiting"] * 4
    with world.session() as session:
        assert session.execute(select(func.count()).select_from(SyncItem)).scalar_one() == 0

    context.set_offline(False)
    page.wait_for_selector("[data-testid=net][data-online=true]")
    page.click("[data-testid=sync]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=outbox-item]')].every(e => e.dataset.state === 'sent')"
    )
    screenshot(page, "campaign-run-synced")
    with world.session() as session:
        items = session.execute(select(SyncItem).order_by(SyncItem.id)).scalars().all()
        assert sorted(i.kind for i in items) == ["person", "visit", "visit", "visit"]
        assert session.execute(select(func.count()).select_from(Visit)).scalar_one() == 3
        proposed = [i.change_set_id for i in items if i.change_set_id is not None]
        assert len(proposed) == len(set(proposed)) >= 2  # the tenant and at least the vacant 502
        sets = session.execute(select(ChangeSet).where(ChangeSet.id.in_(proposed))).scalars().all()
        assert {cs.status for cs in sets} == {"pending_station"}
        assert session.execute(select(func.count()).select_from(ChangeSet)).scalar_one() == len(proposed)
        declared = session.execute(select(HouseholdCount.household_id, HouseholdCount.members)).all()
        assert [(int(h), int(m)) for h, m in declared] == [(household, 1)]
