"""Sending a department batch in Chromium (issue 15): the liaison opens 部门数据上报 from the menu, picks the file,
sends it and reads the result: the counts, the refused row with all its problems, the batch in the recent list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.departments.models import DepartmentBatch
from tests.conftest import World
from tests.departments.helpers import csv_bytes, department, person
from tests.web.conftest import DESK, browser_login, menu_click, screenshot

PROVIDES = {"person": ["name", "sex", "birth_date", "phone", "occupation", "ethnicity"]}


def test_a_liaison_sends_a_file_in_the_browser_and_reads_its_refused_rows(
    open_page: Callable[..., Any], world: World
) -> None:
    department(world, provides=PROVIDES)
    _, good = person(world, occupation=None)
    _, bad = person(world, name="李娜", male=False, occupation=None)
    content = csv_bytes(
        [
            ["证件号码", "职业", "出生日期", "联系电话", "民族"],
            [good, "护士", "", "", ""],
            [bad, "医生", "1991-02-03", "not-a-phone", "99"],
        ],
        "gb18030",
    )
    page = open_page(DESK)
    browser_login(page, "health_liaison_wang")
    menu_click(page, "部门数据上报")
    page.wait_for_selector("[data-testid=batch-form]")
    page.select_option("select[name=kind]", "persons")
    page.set_input_files(
        "input[name=file]", files=[{"name": "卫健-11月.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.click("[data-testid=batch-form] button[type=submit]")
    page.wait_for_selector("[data-testid=batch-result][data-status=accepted]")
    counts = {
        name: page.text_content(f"[data-testid=batch-counts] [data-count={name}]")
        for name in ("rows", "accepted", "refused")
    }
    assert counts == {"rows": "2", "accepted": "1", "refused": "1"}
    refused = page.locator("[data-testid=refused-rows] tbody tr")
    assert refused.count() == 3  # line 3's three problems, together under one line
    assert {refused.nth(i).get_attribute("data-line") for i in range(3)} == {"3"}
    assert page.locator("[data-testid=refused-rows] th[rowspan='3']").text_content() == "3"
    with world.session() as s:
        [batch_id] = s.execute(select(DepartmentBatch.id)).scalars()
    assert page.locator(f"[data-testid=recent-batches] tr[data-batch='{batch_id}']").count() == 1
    screenshot(page, "batch-result")
