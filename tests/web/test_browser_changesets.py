"""The whole review loop in Chromium, a phone for the collector and a desk for the reviewers (issue 14):
the collector submits two persons → the station returns one with a reason and approves the other → the collector
fixes the returned one from the outbox and submits again → the station approves it → the district approves the
境外 person its policy names → only then do search, the person page and the dashboard show them, with the
collector as source and both approvers recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.persons.models import PersonVersion
from liangshi.registry.changesets import ChangeSet
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.conftest import DESK, MOBILE, browser_login, menu_click, screenshot


def _add_person(page: Any, dwelling_id: int, *, name: str, id_number: str, category: str) -> None:
    page.goto(f"/web/collect/dwellings/{dwelling_id}/persons/new")
    page.fill("input[name=id_number]", id_number)
    page.fill("input[name=name]", name)
    page.select_option("select[name=category]", category)
    page.fill("input[name=arrival_date]", "2026-11-01")
    page.click("#person-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert "派出所审核通过后生效" in (page.text_content(".flash") or "")


def _search(page: Any, text: str) -> str:
    page.goto("/web/search?q=" + text)
    page.wait_for_selector("main")
    return page.text_content("main") or ""


def test_collect_return_fix_approve_district_in_the_browser(
    open_page: Callable[..., Any], world: World
) -> None:
    with world.session() as session:
        place = factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )
    floating_id = factories.make_id("420704", dt.date(1990, 6, 1), seq=51)
    overseas_id = factories.make_id("420704", dt.date(1979, 2, 3), seq=53)

    phone = open_page(MOBILE)
    browser_login(phone, "collector_zhang")
    _add_person(phone, place.dwelling_id, name="刘晓鸣", id_number=floating_id, category="floating")
    _add_person(phone, place.dwelling_id, name="陈安娜", id_number=overseas_id, category="overseas")
    with world.session() as s:
        ids = {cs.summary: cs.id for cs in s.execute(select(ChangeSet)).scalars()}
    wrong, foreign = ids["刘晓鸣"], ids["陈安娜"]

    desk = open_page(DESK)
    browser_login(desk, "station_admin_li")
    assert "刘晓鸣" not in _search(desk, "刘晓鸣")
    menu_click(desk, "审核台")
    desk.wait_for_selector("[data-testid=changesets]")
    assert desk.locator("[data-testid=changesets] tbody tr").count() == 2
    screenshot(desk, "changesets")
    desk.click(f"tr[data-changeset='{wrong}'] a")
    desk.wait_for_selector("[data-testid=diff]")
    assert "刘晓鸣" in (desk.text_content("tr[data-field=name]") or "")
    desk.fill("[data-testid=return-reason]", "姓名应为刘晓明，请核对身份证")
    desk.click("[data-testid=return]")
    desk.wait_for_selector(".flash")
    desk.check(f"tr[data-changeset='{foreign}'] input[name=ids]")
    desk.click("[data-testid=bulk-approve]")
    desk.wait_for_selector("[data-testid=bulk-outcomes]")
    assert desk.get_attribute(f"[data-outcome='{foreign}']", "data-ok") == "yes"
    assert "待区级审核" in (desk.text_content(f"[data-outcome='{foreign}']") or "")

    menu_click(phone, "我的提交")
    phone.wait_for_selector("[data-testid=outbox]")
    assert "姓名应为刘晓明" in (phone.text_content(f"li[data-changeset='{wrong}']") or "")
    screenshot(phone, "outbox")
    phone.click(f"li[data-changeset='{wrong}'] [data-testid=fix]")
    phone.wait_for_selector("[data-testid=returned-reason]")
    assert phone.input_value("input[name=name]") == "刘晓鸣"
    phone.fill("input[name=name]", "刘晓明")
    phone.click("#person-form button[type=submit]")
    phone.wait_for_selector(".flash")

    desk.goto("/web/changesets")
    desk.wait_for_selector("[data-testid=changesets]")
    assert desk.locator("[data-testid=changesets] tbody tr").count() == 1
    desk.click(f"tr[data-changeset='{wrong}'] a")
    desk.wait_for_selector("[data-testid=diff]")
    assert "刘晓明" in (desk.text_content("tr[data-field=name]") or "")
    desk.click("[data-testid=approve]")
    desk.wait_for_selector(".flash")
    assert "刘晓明" in _search(desk, "刘晓明")
    assert "陈安娜" not in _search(desk, "陈安娜")  # awaits the district

    district = open_page(DESK)
    browser_login(district, "district_admin_chen")
    district.goto("/web/changesets")
    district.wait_for_selector("[data-testid=changesets]")
    district.click(f"tr[data-changeset='{foreign}'] a")
    district.wait_for_selector("[data-testid=needs-district]")
    district.click("[data-testid=approve]")
    district.wait_for_selector(".flash")

    assert "陈安娜" in _search(district, "陈安娜")
    with world.session() as s:
        person_id = s.execute(
            select(PersonVersion.entity_id).where(PersonVersion.name == "陈安娜")
        ).scalar_one()
    district.goto(f"/web/persons/{person_id}")
    district.wait_for_selector("[data-testid=approvals]")
    approvals = district.text_content("[data-testid=approvals]") or ""
    assert (
        "collector_zhang" in approvals
        and "station_admin_li" in approvals
        and "district_admin_chen" in approvals
    )
    assert "collector_zhang" in (district.text_content("[data-testid=prov-name]") or "")
    screenshot(district, "person_approved")
    district.goto("/web/dashboard?area=" + INSIDE)
    district.wait_for_selector("[data-testid=counts]")
    assert (district.text_content("tr[data-kpi=category_overseas] td.num") or "").strip() == "1"
    assert (district.text_content("tr[data-kpi=category_floating] td.num") or "").strip() == "1"
