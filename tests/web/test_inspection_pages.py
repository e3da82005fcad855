"""Inspection pages: draw a plan with its OC curve, the phone form of a household's check, the 通报 list."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.inspections import service
from liangshi.inspections.models import InspectionPlan, InspectionResult
from liangshi.inspections.schemas import PlanCreate, ResultCreate
from tests.conftest import INSIDE, World
from tests.inspections.test_service import TOWNSHIP, _households
from tests.web.conftest import csrf_of

Web = Callable[[str], TestClient]


def test_an_inspector_draws_a_plan_inspects_a_household_and_sees_the_rates(world: World, web_as: Web) -> None:
    households = _households(world, INSIDE, 4)
    client = web_as("inspector_zhao")
    home = client.get("/web/inspections")
    assert home.status_code == 200 and "检查验收" in home.text and 'data-testid="plan-form"' in home.text
    form = {"csrf_token": csrf_of(home.text), "area_code": TOWNSHIP, "name": "十一月抽查", "seed": "11"}
    r = client.post("/web/inspections", data={**form, "margin": "0.3", "aql": "0.05", "lq": "0.5"})
    assert r.status_code == 303, r.text
    plan_page = client.get(r.headers["location"])
    assert plan_page.status_code == 200
    assert 'data-testid="oc"' in plan_page.text and "/web/static/inspection.js" in plan_page.text
    assert '"points"' in plan_page.text and "常住人口人头准确率" in plan_page.text
    assert 'data-testid="seed">11<' in plan_page.text
    plan_id = r.headers["location"].rsplit("/", 1)[1]
    link = plan_page.text.split('data-testid="inspect-link"')[0].rsplit('href="', 1)[1].split('"')[0]
    household = int(link.rsplit("/", 1)[1])
    assert household in households
    phone = client.get(link)
    assert phone.status_code == 200 and "户内人数是否相符" in phone.text
    body = {
        "csrf_token": csrf_of(phone.text),
        "persons_registered": "2",
        "persons_present": "2",
        "main_right": "2",
        "general_right": "2",
        "count_matches": "yes",
        "persons_missed": "1",
    }
    wrong = client.post(link, data={**body, "main_right": "3"})
    assert wrong.status_code == 422 and 'data-testid="form-error"' in wrong.text
    done = client.post(link, data=body)
    assert done.status_code == 303 and done.headers["location"] == f"/web/inspections/{plan_id}"
    with world.session() as session:
        assert session.execute(select(func.count(InspectionResult.id))).scalar_one() == 1
    again = client.get(f"/web/inspections/{plan_id}")
    assert "2 / 2" in again.text and 'data-testid="collectors"' in again.text
    assert 'data-testid="coverage"' in again.text and "漏登" in again.text


def test_a_bad_plan_shows_the_error_and_stores_nothing(world: World, web_as: Web) -> None:
    client = web_as("inspector_zhao")
    home = client.get("/web/inspections")
    data = {"csrf_token": csrf_of(home.text), "name": "坏方案", "aql": "0.3", "lq": "0.1"}
    r = client.post("/web/inspections", data=data)
    assert r.status_code == 422 and "可接收质量水平须低于极限质量" in r.text
    with world.session() as session:
        assert session.execute(select(func.count(InspectionPlan.id))).scalar_one() == 0


def test_collectors_see_the_rectification_list_but_not_the_plans(world: World, web_as: Web) -> None:
    client = web_as("collector_zhang")
    assert client.get("/web/inspections").status_code == 403
    page = client.get("/web/rectifications")
    assert page.status_code == 200 and "整改通报" in page.text and "没有整改事项" in page.text
    assert 'href="/web/rectifications"' in page.text and 'href="/web/inspections"' not in page.text


def test_the_dashboard_shows_the_sample_based_rates_and_the_people_missed(world: World, web_as: Web) -> None:
    households = _households(world, INSIDE, 3)
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        plan = service.create_plan(
            session, ctx, PlanCreate(area_id=world.area(TOWNSHIP), name="看板抽查", margin=0.01)
        )
        found = ResultCreate(
            persons_registered=2,
            persons_present=2,
            main_right=2,
            general_right=2,
            count_matches=True,
            persons_missed=1,
        )
        service.record_result(session, ctx, plan.id, households[0], found)
    page = web_as("station_admin_li").get("/web/dashboard")
    assert page.status_code == 200
    card = page.text.split('data-testid="inspection-rates"')[1].split("</section>")[0]
    assert "看板抽查" in card and "常住人口人头准确率" in card and "2 / 2" in card
    assert 'data-testid="missed"' in card
    assert 'data-testid="inspection-rates"' not in web_as("collector_zhang").get("/web/dashboard").text
