"""The findings page (检查问题): list and filter by check, dismiss only with a reason, the collector's own list."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, StreetCreate
from liangshi.checks import service as checks
from liangshi.checks.models import Finding
from tests.conftest import INSIDE, World
from tests.web.conftest import csrf_of


def _finding(world: World) -> int:
    with world.session() as s:
        ctx = world.ctx(s)
        street = addresses.create_street(
            s, ctx, StreetCreate(area_id=world.area("420704"), name="网页检查路", street_type="路")
        )
        addresses.create_address(
            s, ctx, AddressCreate(area_id=world.area(INSIDE), street_id=street.entity.id, number="8")
        )
        checks.run_checks(s, ctx, area_code=INSIDE)
        return int(s.execute(select(Finding.id)).scalar_one())


def test_the_findings_page_lists_filters_and_dismisses_only_with_a_reason(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    finding = _finding(world)
    client = web_as("police_liu")
    page = client.get("/web/checks")
    assert page.status_code == 200
    assert (
        f'data-finding="{finding}"' in page.text and "门牌未安装" in page.text and "网页检查路" in page.text
    )
    other = client.get("/web/checks", params={"check": "person.duplicate"})
    assert f'data-finding="{finding}"' not in other.text and "没有问题" in other.text
    refused = client.post(
        f"/web/checks/{finding}/dismiss", data={"reason": " ", "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 422 and "排除问题须写明理由" in refused.text
    done = client.post(
        f"/web/checks/{finding}/dismiss",
        data={"reason": "门牌已订制，待安装", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303)
    with world.session() as s:
        stored = s.get(Finding, finding)
        assert stored is not None and stored.status == "dismissed"
    assert "门牌已订制，待安装" in client.get("/web/checks", params={"status": "dismissed"}).text


def test_a_collector_sees_the_findings_assigned_to_them_and_no_dismiss_form(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    finding = _finding(world)
    page = web_as("collector_zhang").get("/web/checks", params={"mine": "true"})
    assert page.status_code == 200 and f'data-finding="{finding}"' in page.text
    assert f"/web/checks/{finding}/dismiss" not in page.text
    english = web_as("collector_zhang").get("/web/checks", headers={"Accept-Language": "en"})
    assert english.status_code == 200
    assert (
        web_as("collector_zhou").get("/web/checks", params={"mine": "true"}).text.count("data-finding=") == 0
    )
