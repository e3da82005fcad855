"""Collector pages through the TestClient: area, building, visit (stored once), add a person, departure, correction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.campaign.models import Visit
from liangshi.residence.models import ResidenceVersion
from tests import factories
from tests.conftest import INSIDE, World
from tests.factories import make_id
from tests.web.changesets_data import approve_all
from tests.web.conftest import csrf_of


@pytest.fixture
def home(world: World) -> tuple[factories.Place, int]:
    """A dwelling in collector_zhang's community (滨湖社区) with 张三 living there."""
    with world.session() as session:
        ctx = world.ctx(session)
        p = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        pid = factories.person(session, ctx, area_id=world.area(INSIDE), name="张三")
        factories.arrival(session, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 3, 1))
        return p, pid


def _key(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_my_area_lists_streets_and_buildings(web_as: Callable[[str], TestClient], home: tuple) -> None:
    r = web_as("collector_zhang").get("/web/collect")
    assert r.status_code == 200
    assert "滨湖社区" in r.text and "3栋" in r.text and "未走访" in r.text
    assert f"/web/collect/buildings/{home[0].building_id}" in r.text


def test_building_page_lists_dwellings_and_links_the_grid(
    web_as: Callable[[str], TestClient], home: tuple
) -> None:
    r = web_as("collector_zhang").get(f"/web/collect/buildings/{home[0].building_id}")
    assert r.status_code == 200
    assert "501室" in r.text and f"/web/buildings/{home[0].building_id}/grid" in r.text


def test_visit_saved_twice_is_stored_once(
    web_as: Callable[[str], TestClient], home: tuple, world: World
) -> None:
    place, pid = home
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{place.dwelling_id}")
    assert form.status_code == 200 and "张三" in form.text and "420704********" in form.text
    data = {
        "csrf_token": csrf_of(form.text),
        "idempotency_key": _key(form.text),
        "outcome": "occupied",
        "confirmed": str(pid),
        "note": "户主在家",
    }
    first = client.post(f"/web/collect/dwellings/{place.dwelling_id}/visits", data=data)
    second = client.post(f"/web/collect/dwellings/{place.dwelling_id}/visits", data=data)
    assert first.status_code == second.status_code == 303
    with world.session() as session:
        assert session.execute(select(func.count(Visit.id))).scalar_one() == 1
    page = client.get(first.headers["location"])
    assert "已保存" in page.text
    assert "有人居住" in client.get(f"/web/collect/dwellings/{place.dwelling_id}").text


def test_visit_without_outcome_shows_a_chinese_message(
    web_as: Callable[[str], TestClient], home: tuple
) -> None:
    place, _ = home
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{place.dwelling_id}")
    r = client.post(
        f"/web/collect/dwellings/{place.dwelling_id}/visits",
        data={"csrf_token": csrf_of(form.text), "idempotency_key": _key(form.text), "outcome": ""},
    )
    assert r.status_code == 422 and 'data-testid="form-error"' in r.text


def test_visit_form_post_without_csrf_is_refused(web_as: Callable[[str], TestClient], home: tuple) -> None:
    place, _ = home
    client = web_as("collector_zhang")
    r = client.post(
        f"/web/collect/dwellings/{place.dwelling_id}/visits",
        data={"idempotency_key": "abcdefgh1234", "outcome": "vacant"},
    )
    assert r.status_code == 403


def test_collector_cannot_open_a_dwelling_of_another_community(
    web_as: Callable[[str], TestClient], home: tuple
) -> None:
    place, _ = home
    client = web_as("collector_zhou")
    for url in (
        f"/web/collect/dwellings/{place.dwelling_id}",
        f"/web/collect/buildings/{place.building_id}",
        f"/web/collect/dwellings/{place.dwelling_id}/persons/new",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "未找到" in r.text


def test_id_check_fills_birth_date_and_sex(web_as: Callable[[str], TestClient], home: tuple) -> None:
    client = web_as("collector_zhang")
    token = csrf_of(client.get("/web/").text)
    number = make_id("420704", dt.date(1988, 6, 15), 23)
    r = client.post(
        "/web/collect/idcheck",
        data={"id_number": number},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert r.status_code == 200
    assert 'value="1988-06-15"' in r.text and '<option value="1" selected>' in r.text
    bad = client.post(
        "/web/collect/idcheck",
        data={"id_number": number[:-1] + ("0" if number[-1] != "0" else "1")},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert "校验位不符" in bad.text


def test_add_a_person_registers_their_arrival(
    web_as: Callable[[str], TestClient], home: tuple, world: World
) -> None:
    place, _ = home
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{place.dwelling_id}/persons/new")
    number = make_id("420704", dt.date(1992, 2, 29), 46)
    r = client.post(
        f"/web/collect/dwellings/{place.dwelling_id}/persons",
        data={
            "csrf_token": csrf_of(form.text),
            "name": "王芳",
            "id_number": number,
            "category": "floating",
            "arrival_date": "2026-11-01",
        },
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    # Issue 14: a person the collector adds is a change set, not live until the station approves it.
    assert "王芳" not in page.text and "已提交该人员" in page.text
    approve_all(web_as, "station_admin_li")
    page = client.get(r.headers["location"])
    assert "王芳" in page.text


def test_add_a_person_with_a_wrong_id_keeps_the_form(
    web_as: Callable[[str], TestClient], home: tuple
) -> None:
    place, _ = home
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{place.dwelling_id}/persons/new")
    r = client.post(
        f"/web/collect/dwellings/{place.dwelling_id}/persons",
        data={
            "csrf_token": csrf_of(form.text),
            "name": "王芳",
            "id_number": "12345",
            "arrival_date": "2026-11-01",
        },
    )
    assert r.status_code == 422
    assert "身份证号码格式不正确" in r.text and 'value="王芳"' in r.text


def test_add_a_person_born_after_the_clock_today_keeps_the_form(
    web_as: Callable[[str], TestClient], home: tuple
) -> None:
    """The app clock says 2026-11-27 (the real date is later): a birth on 2026-11-30 is in the future."""
    place, _ = home
    client = web_as("collector_zhang")
    form = client.get(f"/web/collect/dwellings/{place.dwelling_id}/persons/new")
    r = client.post(
        f"/web/collect/dwellings/{place.dwelling_id}/persons",
        data={
            "csrf_token": csrf_of(form.text),
            "name": "王小雨",
            "sex": "2",
            "birth_date": "2026-11-30",
            "arrival_date": "2026-11-27",
        },
    )
    assert r.status_code == 422
    assert "日期须在1900年1月1日至今天之间" in r.text and 'value="王小雨"' in r.text


def test_mark_departed(web_as: Callable[[str], TestClient], home: tuple, world: World) -> None:
    place, _ = home
    client = web_as("collector_zhang")
    visit = client.get(f"/web/collect/dwellings/{place.dwelling_id}")
    link = re.search(r'href="(/web/collect/residences/\d+/departure)"', visit.text)
    assert link
    form = client.get(link.group(1))
    version = re.search(r'name="expected_version" value="(\d+)"', form.text)
    assert version
    r = client.post(
        link.group(1),
        data={
            "csrf_token": csrf_of(form.text),
            "expected_version": version.group(1),
            "departure_date": "2026-11-20",
            "reason": "left_city",
            "destination": "武汉市",
        },
    )
    assert r.status_code == 303, r.text
    # Issue 14: a departure is a change set; deregistrations go to the district after the station by default.
    with world.session() as session:
        rows = session.execute(
            select(ResidenceVersion.departure_date).where(ResidenceVersion.superseded_at.is_(None))
        ).all()
    assert (dt.date(2026, 11, 20),) not in rows
    approve_all(web_as, "station_admin_li", "district_admin_chen")
    with world.session() as session:
        rows = session.execute(
            select(ResidenceVersion.departure_date).where(ResidenceVersion.superseded_at.is_(None))
        ).all()
    assert (dt.date(2026, 11, 20),) in rows


def test_correct_a_name(web_as: Callable[[str], TestClient], home: tuple) -> None:
    place, pid = home
    client = web_as("collector_zhang")
    url = f"/web/collect/persons/{pid}/correction?dwelling_id={place.dwelling_id}"
    form = client.get(url)
    version = re.search(r'name="expected_version" value="(\d+)"', form.text)
    assert version
    r = client.post(
        f"/web/collect/persons/{pid}/correction",
        data={
            "csrf_token": csrf_of(form.text),
            "expected_version": version.group(1),
            "name": "张叁",
            "phone": "",
            "reason": "户口簿上是“叁”",
            "dwelling_id": str(place.dwelling_id),
        },
    )
    assert r.status_code == 303, r.text
    # Issue 14: the correction counts once the station approves it.
    assert "张叁" not in client.get(r.headers["location"]).text
    approve_all(web_as, "station_admin_li")
    assert "张叁" in client.get(r.headers["location"]).text


def test_my_area_shows_my_assignments_with_their_yellow_and_red_cards(
    web_as: Callable[[str], TestClient], world: World, home: tuple
) -> None:
    from liangshi.campaign import organisation, rules  # the campaign set-up is only this test's
    from liangshi.campaign.models import Assignment
    from liangshi.campaign.schemas import AssignmentCreate

    with world.session() as session:
        ctx = world.ctx(session)
        other = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        admin = world.ctx(session, "station_admin_li")
        spec = rules.parse_campaign({"name": "采集", "area": "420704001", "starts_on": "2026-11-01"})
        c = organisation.create_campaign(session, admin, spec)
        ids = []
        for place, due in ((home[0], dt.date(2026, 12, 1)), (other, dt.date(2026, 12, 20))):
            a = organisation.assign(
                session,
                admin,
                c.id,
                AssignmentCreate(
                    collector="collector_zhang",
                    unit="buildings",
                    building_ids=[place.building_id],
                    due_on=due,
                ),
            )
            ids.append(a.id)
    with world.session() as session:
        # The second one's deadline has passed since (set directly: the clock of the test world stands still).
        late = session.get(Assignment, ids[1])
        assert late is not None
        late.due_on = dt.date(2026, 11, 20)
    html = web_as("collector_zhang").get("/web/collect").text
    assert 'data-testid="my-assignments"' in html
    cards = re.findall(r'data-assignment="(\d+)".*?data-card="(\w+)">([^<]+)<', html, re.S)
    assert [(int(i), card) for i, card, _ in cards] == [(ids[1], "red"), (ids[0], "yellow")]
    assert [label for _, _, label in cards] == ["红牌", "黄牌"]
    assert 'data-testid="my-assignments"' not in web_as("collector_zhou").get("/web/collect").text


def test_the_visit_form_asks_each_households_size_and_the_progress_counts_it(
    web_as: Callable[[str], TestClient], world: World, home: tuple
) -> None:
    from liangshi.campaign import progress  # the counts are only this test's check

    place, pid = home
    with world.session() as session:
        hid = factories.household(
            session,
            world.ctx(session),
            area_id=world.area(INSIDE),
            dwelling_id=place.dwelling_id,
            members=[(pid, "02")],
        )
    client = web_as("collector_zhang")
    page = client.get(f"/web/collect/dwellings/{place.dwelling_id}").text
    assert 'data-testid="household-size"' in page and "已登记 1 人" in page
    r = client.post(
        f"/web/collect/dwellings/{place.dwelling_id}/visits",
        data={
            "csrf_token": csrf_of(page),
            "idempotency_key": _key(page),
            "outcome": "occupied",
            "household_id": str(hid),
            "household_size": "1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with world.session() as session:
        got = progress.area_progress(session, world.ctx(session, "station_admin_li"), INSIDE)
    assert got["households"] == 1 and got["households_count_matched"] == 1
    # A household of another dwelling is refused and nothing is stored.
    page = client.get(f"/web/collect/dwellings/{place.dwelling_id}").text
    bad = client.post(
        f"/web/collect/dwellings/{place.dwelling_id}/visits",
        data={
            "csrf_token": csrf_of(page),
            "idempotency_key": _key(page),
            "outcome": "occupied",
            "household_id": str(hid + 1000),
            "household_size": "3",
        },
    )
    assert bad.status_code == 422 and "所选家庭户不在该房屋" in bad.text
    with world.session() as session:
        assert session.execute(select(func.count()).select_from(Visit)).scalar_one() == 1
