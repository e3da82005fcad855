"""Campaign pages: set up a campaign, assign a community, return it; progress and its lists; the map by visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.campaign.models import Assignment, Campaign
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.conftest import csrf_of


def _place(world: World) -> factories.Place:
    with world.session() as session:
        ctx = world.ctx(session)
        p = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        pid = factories.person(session, ctx, area_id=world.area(INSIDE))
        factories.arrival(session, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 3, 1))
        factories.household(
            session, ctx, area_id=world.area(INSIDE), dwelling_id=p.dwelling_id, members=[(pid, "02")]
        )
        return p


def test_a_station_admin_sets_up_a_campaign_and_assigns_a_community(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _place(world)
    admin = web_as("station_admin_li")
    form = admin.get("/web/campaigns")
    assert form.status_code == 200 and 'data-testid="campaign-form"' in form.text
    bad = admin.post(
        "/web/campaigns",
        data={"csrf_token": csrf_of(form.text), "name": "", "area": "420704001", "starts_on": "2026-11-01"},
    )
    assert bad.status_code == 422 and "form-error" in bad.text
    made = admin.post(
        "/web/campaigns",
        data={
            "csrf_token": csrf_of(form.text),
            "name": "凤凰街道两实采集",
            "area": "420704001",
            "starts_on": "2026-11-01",
            "pilots": INSIDE,
            "rollout_on": "2026-12-01",
            "yellow_days": "3",
        },
    )
    assert made.status_code == 303, made.text
    with world.session() as session:
        campaign_id = session.execute(select(Campaign.id)).scalar_one()
    page = admin.get(made.headers["location"])
    assert "准备宣传" in page.text and "长效管理" in page.text
    assigned = admin.post(
        f"/web/campaigns/{campaign_id}/assignments",
        data={
            "csrf_token": csrf_of(page.text),
            "collector": "collector_zhang",
            "unit": "community",
            "area_code": INSIDE,
            "due_on": "2026-12-01",
        },
    )
    assert assigned.status_code == 303, assigned.text
    page = admin.get(f"/web/campaigns/{campaign_id}")
    assert "collector_zhang" in page.text and "黄牌" in page.text  # due in 2 working days
    collector = web_as("collector_zhang")
    mine = collector.get(f"/web/campaigns/{campaign_id}")
    with world.session() as session:
        a = session.execute(select(Assignment)).scalar_one()
    back = collector.post(
        f"/web/assignments/{a.id}/return", data={"csrf_token": csrf_of(mine.text), "reason": "人手不足"}
    )
    assert back.status_code == 303
    with world.session() as session:
        assert session.execute(select(Assignment.status)).scalar_one() == "returned"


def test_the_progress_page_links_each_number_to_its_list(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    place = _place(world)
    client = web_as("collector_zhang")
    page = client.get("/web/progress", params={"area": INSIDE})
    assert page.status_code == 200
    assert f"/web/progress/buildings?area={INSIDE}&amp;status=visited" in page.text
    listed = client.get("/web/progress/buildings", params={"area": INSIDE, "status": "not_visited"})
    assert f"/web/collect/buildings/{place.building_id}" in listed.text
    dwellings = client.get("/web/progress/dwellings", params={"area": INSIDE, "status": "revisit"})
    assert f"/web/collect/dwellings/{place.dwelling_id}" in dwellings.text
    households = client.get("/web/progress/households", params={"area": INSIDE})
    assert "household-list" in households.text
    en = client.get("/web/progress", params={"area": INSIDE}, headers={"Accept-Language": "en"})
    assert en.status_code == 200


def test_the_map_colours_buildings_by_visit_status(world: World, web_as: Callable[[str], TestClient]) -> None:
    _place(world)
    client = web_as("collector_zhang")
    page = client.get(f"/web/areas/{world.area(INSIDE)}/map", params={"by": "visit"})
    assert page.status_code == 200
    assert 'data-testid="visit-count-not_visited"' in page.text
    assert '"by": "visit"' in page.text or '"by":"visit"' in page.text


def test_an_auditor_has_no_campaign_pages(world: World, web_as: Callable[[str], TestClient]) -> None:
    r: Any = web_as("auditor_sun").get("/web/campaigns")
    assert r.status_code == 403


def test_the_progress_page_filters_by_campaign(world: World, web_as: Callable[[str], TestClient]) -> None:
    from liangshi.campaign import organisation, rules  # the campaigns are only this test's set-up

    _place(world)
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        south = organisation.create_campaign(
            session,
            ctx,
            rules.parse_campaign({"name": "南浦采集", "area": "420704001002", "starts_on": "2026-11-01"}),
        )
    client = web_as("station_admin_li")
    page = client.get("/web/progress", params={"area": "420704001"}).text
    assert 'data-testid="progress-campaign"' in page and "南浦采集" in page
    assert '<span class="num" data-testid="buildings-visited">0</span> / 1' in page
    only = client.get("/web/progress", params={"campaign": south.id}).text
    assert f'<option value="{south.id}" selected>' in only
    assert '<span class="num" data-testid="buildings-visited">0</span> / 0' in only


CAMPAIGN_TOML = """
name = "凤凰街道两实采集（文件）"
area = "420704001"
starts_on = "2026-11-01"
yellow_days = 2

[[phases]]
key = "prepare"
name_zh = "准备培训"
name_en = "Prepare and train"
starts_on = "2026-11-01"
ends_on = "2026-11-15"

[[phases]]
key = "collect"
name_zh = "入户采集"
name_en = "Door to door"
starts_on = "2026-11-16"
ends_on = "2026-12-31"

[calendar]
holidays = ["2026-12-24..2026-12-25"]
"""


def test_a_station_admin_sets_up_a_campaign_from_a_toml_file_on_the_web(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    admin = web_as("station_admin_li")
    form = admin.get("/web/campaigns")
    assert 'data-testid="campaign-file-form"' in form.text
    token = csrf_of(form.text)
    # Bad files: a wrong kind, broken TOML, an unknown key; each names the problem and writes nothing.
    for name, body, code_text in (
        ("campaign.txt", b"name = 'x'", "TOML或JSON"),
        ("campaign.toml", b"name = ", "活动文件格式有误"),
        (
            "campaign.json",
            b'{"name": "x", "area": "420704001", "starts_on": "2026-11-01", "colour": 1}',
            "未知项",
        ),
    ):
        bad = admin.post("/web/campaigns/file", data={"csrf_token": token}, files={"file": (name, body)})
        assert bad.status_code == 422 and code_text in bad.text, (name, bad.text[:300])
    with world.session() as session:
        assert session.execute(select(Campaign.id)).first() is None
    made = admin.post(
        "/web/campaigns/file",
        data={"csrf_token": token},
        files={"file": ("campaign.toml", CAMPAIGN_TOML.encode())},
    )
    assert made.status_code == 303, made.text
    page = admin.get(made.headers["location"])
    assert "准备培训" in page.text and "入户采集" in page.text and "长效管理" not in page.text
    with world.session() as session:
        campaign = session.execute(select(Campaign)).scalar_one()
        assert campaign.name == "凤凰街道两实采集（文件）" and campaign.yellow_days == 2
        assert "2026-12-24" in campaign.calendar and "2026-12-25" in campaign.calendar
    collector = web_as("collector_zhang")
    token = csrf_of(collector.get("/web/collect").text)
    refused = collector.post(
        "/web/campaigns/file", data={"csrf_token": token}, files={"file": ("c.toml", CAMPAIGN_TOML.encode())}
    )
    assert refused.status_code == 403
    with world.session() as session:
        assert len(session.execute(select(Campaign.id)).all()) == 1
