"""The user guide's pages, opened in Chromium as each demo role; screenshots for docs/guide/ on request.

Every page a chapter of docs/guide/ shows is opened as the role the chapter is written for: it must answer 200
and show its Chinese title. With `LIANGSHI_GUIDE_SHOTS=1` the pages are also saved as PNGs into docs/guide/img/
(`<role>-<page>.png`: 1280x800 at the desk, 375 px wide for the collector); otherwise nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi.registry.changesets import ChangeSet
from tests import factories
from tests.conftest import World
from tests.web.conftest import MOBILE, Scene, browser_login
from tests.web.review_data import conflict, feedback

GUIDE_IMG = Path(__file__).resolve().parents[2] / "docs" / "guide" / "img"
DESK_GUIDE = {"width": 1280, "height": 800}

# role slug -> (demo persona, viewport, [(page slug, path, Chinese title in the h1)]); "{d}" is the scene's
# dwelling, "{b}" its building, "{p}" 张三.
PAGES: dict[str, tuple[str, dict[str, int], list[tuple[str, str, str]]]] = {
    "collector": (
        "collector_zhang",
        MOBILE,
        [
            ("area", "/web/collect", "我的片区"),
            ("building", "/web/collect/buildings/{b}", "3栋"),
            ("visit", "/web/collect/dwellings/{d}", "入户走访"),
            ("add-person", "/web/collect/dwellings/{d}/persons/new", "添加人员"),
            ("outbox", "/web/collect/outbox", "我的提交"),
            ("offline", "/web/collect/app", "离线采集"),
        ],
    ),
    "police": (
        "police_liu",
        DESK_GUIDE,
        [
            ("search", "/web/search?q=zs", "查询"),
            ("person", "/web/persons/{p}", "张三"),
            ("claims", "/web/claims", "待认领的部门数据"),
            ("feedback", "/web/feedback", "存疑反馈"),
            ("declarations", "/web/declarations", "自主申报"),
        ],
    ),
    "station": (
        "station_admin_li",
        DESK_GUIDE,
        [
            ("changesets", "/web/changesets", "审核台"),
            ("changeset", "/web/changesets/{c}", "新增在住人员"),
            ("conflicts", "/web/conflicts", "数据冲突"),
            ("venues", "/web/venues", "旅馆网吧"),
            ("accountability", "/web/accountability", "采集员考核"),
            ("access-log", "/web/access-log", "查阅记录查询"),
        ],
    ),
    "district": (
        "district_admin_chen",
        DESK_GUIDE,
        [
            ("dashboard", "/web/dashboard", "统计看板"),
            ("tables", "/web/tables", "统计表格"),
            ("streets", "/web/streets", "街路巷"),
            ("departments", "/web/departments", "部门"),
        ],
    ),
    "liaison": (
        "health_liaison_wang",
        DESK_GUIDE,
        [
            ("home", "/web/", "您好"),
            ("search", "/web/search", "查询"),
            ("address-match", "/web/addresses/match", "地址匹配"),
            ("batches", "/web/batches", "部门数据上报"),
        ],
    ),
    "housing": (
        "housing_officer_he",
        DESK_GUIDE,
        [
            ("rentals", "/web/rentals", "出租房屋"),
            ("dwelling", "/web/dwellings/{d}", "501室"),
            ("rental-new", "/web/dwellings/{d}/rental/new", "出租登记"),
            ("grid", "/web/buildings/{b}/grid", "楼盘表"),
        ],
    ),
    "inspector": (
        "inspector_zhao",
        DESK_GUIDE,
        [
            ("inspections", "/web/inspections", "检查验收"),
            ("checks", "/web/checks", "检查问题"),
            ("progress", "/web/progress", "采集进度"),
        ],
    ),
    "auditor": (
        "auditor_sun",
        DESK_GUIDE,
        [
            ("audit", "/web/audit", "审计核验"),
            ("access-log", "/web/access-log", "查阅记录查询"),
        ],
    ),
    "admin": (
        "city_admin_wang",
        DESK_GUIDE,
        [
            ("home", "/web/", "您好"),
            ("audit", "/web/audit", "审计核验"),
            ("area", "/web/areas/{a}", "滨湖社区"),
        ],
    ),
}


def _seed(world: World, open_page: Callable[..., Any], scene: Scene, role: str) -> int:
    """Work on the desks the chapters show: two department conflicts, one feedback and (for the station) a person
    the collector submitted from the phone; returns the newest change set's id (0 if none)."""
    conflict(world)
    conflict(world, field="workplace", register="滨湖小学", value="滨湖中学", name="郑十")
    feedback(world)
    if role == "station":
        phone = open_page(MOBILE)
        browser_login(phone, "collector_zhang")
        phone.goto(f"/web/collect/dwellings/{scene.place.dwelling_id}/persons/new")
        phone.fill("input[name=id_number]", factories.make_id("420704", dt.date(1990, 6, 1), seq=51))
        phone.fill("input[name=name]", "刘晓鸣")
        phone.select_option("select[name=category]", "floating")
        phone.fill("input[name=arrival_date]", "2026-11-01")
        phone.click("#person-form button[type=submit]")
        phone.wait_for_selector(".flash")
    with world.session() as session:
        return int(session.execute(select(func.coalesce(func.max(ChangeSet.id), 0))).scalar_one())


def _shoot(page: Any, name: str) -> None:
    """Save the visible page as docs/guide/img/<name>.png, only when LIANGSHI_GUIDE_SHOTS=1."""
    if os.environ.get("LIANGSHI_GUIDE_SHOTS") != "1":
        return
    GUIDE_IMG.mkdir(parents=True, exist_ok=True)
    path = GUIDE_IMG / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("role", list(PAGES))
def test_guide_pages_open_for_their_role(
    role: str, open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    username, viewport, pages = PAGES[role]
    change_set = _seed(world, open_page, scene, role)
    page = open_page(viewport)
    browser_login(page, username)
    ids = {
        "d": scene.place.dwelling_id,
        "b": scene.place.building_id,
        "p": scene.zhang,
        "a": world.area("420704001001"),
        "c": change_set,
    }
    for slug, path, title in pages:
        response = page.goto(path.format(**ids))
        assert response is not None and response.status == 200, (role, path)
        heading = page.text_content("h1") or ""
        assert title in heading, (role, path, heading)
        _shoot(page, f"{role}-{slug}")


def test_guide_chapters_show_only_existing_shots() -> None:
    """Every picture a chapter references is one this test takes (so the guide never shows a missing page)."""
    import re

    guide = GUIDE_IMG.parent
    taken = {f"{role}-{slug}.png" for role, (_, _, pages) in PAGES.items() for slug, _, _ in pages}
    referenced: set[str] = set()
    for chapter in (*guide.glob("zh/*.md"), *guide.glob("en/*.md")):
        referenced |= set(re.findall(r"\(\.\./img/([\w-]+\.png)\)", chapter.read_text(encoding="utf-8")))
    assert referenced, "the chapters show no screenshot"
    assert referenced <= taken, sorted(referenced - taken)


def test_guide_names_only_pages_that_exist() -> None:
    """Every `/web/...` page a chapter names is a route of a page module (the guide describes no missing page)."""
    import importlib
    import re

    from liangshi.web.app import PAGE_MODULES

    routes: set[str] = set()
    for name in PAGE_MODULES:
        module = importlib.import_module(name)
        for router in (module.router, getattr(module, "public_router", None)):
            if router is not None:
                routes |= {re.sub(r"\{[^}]+\}", "{}", r.path).rstrip("/") for r in router.routes}
    named: set[str] = set()
    for chapter in (*GUIDE_IMG.parent.glob("zh/*.md"), *GUIDE_IMG.parent.glob("en/*.md")):
        named |= set(re.findall(r"`(/web/[^`?\s]*)", chapter.read_text(encoding="utf-8")))
    assert len(named) > 20, sorted(named)
    missing = [p for p in sorted(named) if re.sub(r"<[^>]+>", "{}", p).rstrip("/") not in routes]
    assert not missing, missing
