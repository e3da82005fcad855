"""Sending civil affairs' areas in Chromium (issue 15): the liaison picks 区划名称与代码（民政）, sends the file and
reads the result (the new area written, the bad row with all its problems); a file of another type is refused
as a whole and is listed among the recent batches as refused, with why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.areas.models import Area
from liangshi.departments.models import DepartmentBatch
from tests.conftest import World
from tests.departments.helpers import csv_bytes
from tests.departments.test_feed_places import _civil
from tests.web.conftest import DESK, browser_login, menu_click, screenshot


def test_a_civil_affairs_liaison_sends_areas_in_the_browser(
    open_page: Callable[..., Any], world: World
) -> None:
    _civil(world)
    content = csv_bytes(
        [
            ["区划代码", "区划名称", "上级区划代码", "级别"],
            ["420704001007", "杜山社区", "420704001", "社区"],
            ["4207", "", "", "小区"],
        ],
        "gb18030",
    )
    page = open_page(DESK)
    browser_login(page, "civil_liaison_sun")
    menu_click(page, "部门数据上报")
    page.wait_for_selector("[data-testid=batch-form]")
    page.select_option("select[name=kind]", "areas")
    page.set_input_files(
        "input[name=file]", files=[{"name": "民政-区划.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.click("[data-testid=batch-form] button[type=submit]")
    page.wait_for_selector("[data-testid=batch-result][data-status=accepted]")
    counts = {
        name: page.text_content(f"[data-testid=batch-counts] [data-count={name}]")
        for name in ("rows", "accepted", "refused")
    }
    assert counts == {"rows": "2", "accepted": "1", "refused": "1"}
    refused = page.locator("[data-testid=refused-rows] tbody tr")
    assert {refused.nth(i).get_attribute("data-line") for i in range(refused.count())} == {"3"}
    assert refused.count() == 3  # the code, the name and the level, together under line 3
    with world.session() as s:
        assert s.execute(select(Area.id).where(Area.code == "420704001007")).first() is not None
    screenshot(page, "civil-areas-result")
    # A picture under a CSV's name: refused as a whole, nothing applied, kept and listed as refused.
    page.select_option("select[name=kind]", "streets")
    page.set_input_files(
        "input[name=file]",
        files=[
            {"name": "streets.csv", "mimeType": "text/csv", "buffer": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}
        ],
    )
    page.click("[data-testid=batch-form] button[type=submit]")
    page.wait_for_selector("[data-testid=batch-error]")
    row = page.locator("[data-testid=recent-batches] td[data-batch-status=refused]")
    assert row.count() == 1 and "file.type_unsupported" in (row.text_content() or "")
    with world.session() as s:
        kept = s.execute(
            select(DepartmentBatch.kind, DepartmentBatch.status).order_by(DepartmentBatch.id)
        ).all()
    assert [tuple(k) for k in kept] == [("areas", "accepted"), ("streets", "refused")]
