"""The phone form of a household's check takes the general items missing or wrong and the floating persons
entered in the system; counts that do not add up are shown and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.inspections.models import InspectionResult
from tests.conftest import World
from tests.inspections.test_item_rates import ITEMS, _drawn, _results
from tests.web.conftest import csrf_of

Web = Callable[[str], TestClient]


def test_the_phone_form_takes_the_items_wrong_and_the_floating_persons_entered(
    world: World, web_as: Web
) -> None:
    plan_id, sampled = _drawn(world, 3)
    client = web_as("inspector_zhao")
    link = f"/web/inspections/{plan_id}/households/{sampled[0]}"
    form = client.get(link)
    assert form.status_code == 200 and 'name="general_items_wrong"' in form.text and "文化程度" in form.text
    body = {
        "csrf_token": csrf_of(form.text),
        "persons_registered": "2",
        "persons_present": "2",
        "main_right": "2",
        "general_right": "1",
        "floating_found": "1",
        "floating_registered": "1",
        "count_matches": "yes",
    }
    missing = client.post(link, data=body)
    assert missing.status_code == 422 and "缺漏或错误的项目数" in missing.text
    entered = client.post(link, data={**body, "general_items_wrong": "2"})
    assert entered.status_code == 422 and "已录入系统" in entered.text
    assert _results(world) == 0
    done = client.post(link, data={**body, "general_items_wrong": "2", "floating_entered": "1"})
    assert done.status_code == 303, done.text
    with world.session() as session:
        result = session.execute(select(InspectionResult)).scalar_one()
        assert (result.general_items_right, result.floating_entered) == (2 * ITEMS - 2, 1)
    page = client.get(f"/web/inspections/{plan_id}")
    assert "流动人口人来登记率" in page.text and "流动人口采集录入率" in page.text
    assert 'data-reading="missed"' in page.text  # 一般项目: 8 of 10 items, below 98 % for certain
