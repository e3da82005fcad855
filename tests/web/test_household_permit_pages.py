"""Households, residence permits and department agreements in the web: each page for the roles that do the job,
over the services; refused input writes nothing; roles without the right are refused."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.departments import service as departments
from liangshi.departments.models import Agreement
from liangshi.permits.models import Permit
from liangshi.persons import service as persons
from liangshi.persons.models import Household
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.conftest import Scene, csrf_of


def test_an_officer_creates_a_household_and_a_member_joins_and_leaves(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    # Issue 14 changed who writes these live: a collector's household and member leaving are change sets now
    # (test_a_collectors_household_and_member_leaving_are_change_sets); the community police write them directly.
    client = web_as("police_liu")
    assert 'href="/web/households"' in client.get("/web/").text
    dwelling = client.get(f"/web/dwellings/{scene.place.dwelling_id}")
    assert 'data-testid="new-household"' in dwelling.text
    form = client.get(f"/web/dwellings/{scene.place.dwelling_id}/households/new")
    made = client.post(
        f"/web/dwellings/{scene.place.dwelling_id}/households",
        data={"csrf_token": csrf_of(form.text), "household_kind": "actual", "head_id_number": scene.zhang_id},
    )
    assert made.status_code == 303, made.text[-800:]
    household_id = int(made.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/web/households/{household_id}")
    assert "已建户" in page.text and "张三" in page.text and "户主" in page.text
    joined = client.post(
        f"/web/households/{household_id}/members",
        data={
            "csrf_token": csrf_of(page.text),
            "expected_version": "1",
            "id_number": scene.zhang_id,
            "relationship": "10",
        },
    )
    assert joined.status_code == 422 and "已是本户成员" in joined.text  # 张三 is the head already
    with world.session() as s:
        members = persons.members_view(s, world.ctx(s), household_id, world.clock.today())
        assert [m["relationship"] for m in members] == ["02"]
        membership = members[0]["membership_id"]
        version = s.get(Household, household_id).version  # type: ignore[union-attr]
    left = client.post(
        f"/web/households/{household_id}/members/{membership}/end",
        data={"csrf_token": csrf_of(page.text), "expected_version": str(version), "reason": "迁出"},
    )
    assert left.status_code == 303, left.text[-800:]
    assert "成员已离户" in client.get(f"/web/households/{household_id}").text


def test_a_collectors_household_and_member_leaving_are_change_sets(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("collector_zhang")
    form = client.get(f"/web/dwellings/{scene.place.dwelling_id}/households/new")
    with world.session() as s:
        before = s.execute(select(func.count()).select_from(Household)).scalar_one()
    made = client.post(
        f"/web/dwellings/{scene.place.dwelling_id}/households",
        data={"csrf_token": csrf_of(form.text), "household_kind": "actual", "head_id_number": scene.zhang_id},
    )
    assert made.status_code == 303, made.text[-800:]
    assert made.headers["location"] == f"/web/dwellings/{scene.place.dwelling_id}"
    assert "已提交审核" in client.get(made.headers["location"]).text
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Household)).scalar_one() == before
        household_id = factories.household(
            s,
            world.ctx(s),
            area_id=world.area(INSIDE),
            dwelling_id=scene.place.dwelling_id,
            members=[(scene.zhang, "02")],
        )
        membership = persons.members_view(s, world.ctx(s), household_id, world.clock.today())[0][
            "membership_id"
        ]
    page = client.get(f"/web/households/{household_id}")
    left = client.post(
        f"/web/households/{household_id}/members/{membership}/end",
        data={"csrf_token": csrf_of(page.text), "expected_version": "1", "reason": "迁出"},
    )
    assert left.status_code == 303, left.text[-800:]
    assert "已提交审核" in client.get(left.headers["location"]).text
    with world.session() as s:
        members = persons.members_view(s, world.ctx(s), household_id, world.clock.today())
        assert [m["membership_id"] for m in members] == [membership]  # still a member until approved


def test_the_person_page_links_the_household_page(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    with world.session() as s:
        household = factories.household(
            s,
            world.ctx(s),
            area_id=world.area(INSIDE),
            dwelling_id=scene.place.dwelling_id,
            members=[(scene.zhang, "02")],
        )
    client = web_as("police_liu")
    assert f'href="/web/households/{household}"' in client.get(f"/web/persons/{scene.zhang}").text
    assert client.get(f"/web/households/{household}").status_code == 200
    assert web_as("collector_zhou").get(f"/web/households/{household}").status_code == 404
    assert web_as("auditor_sun").get("/web/households").status_code == 403


def test_an_officer_issues_and_cancels_a_residence_permit(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("police_liu")
    person = client.get(f"/web/persons/{scene.zhang}")
    assert 'data-testid="permits-link"' in person.text
    page = client.get(f"/web/persons/{scene.zhang}/permits")
    assert page.status_code == 200 and 'data-testid="issue"' in page.text
    residence_id = page.text.split('name="residence_id"')[1].split('value="')[1].split('"')[0]
    issued = client.post(
        f"/web/persons/{scene.zhang}/permits",
        data={
            "csrf_token": csrf_of(page.text),
            "residence_id": residence_id,
            "basis": "job",
            "basis_detail": "鄂州市某物流公司 劳动合同",
        },
    )
    assert issued.status_code == 303, issued.text[-800:]
    listed = client.get(f"/web/persons/{scene.zhang}/permits")
    assert "居住证已签发" in listed.text and 'data-testid="permits"' in listed.text
    with world.session() as s:
        permit = s.execute(select(Permit)).scalar_one()
        pid, version = permit.id, permit.version
    cancelled = client.post(
        f"/web/permits/{pid}/cancel",
        data={
            "csrf_token": csrf_of(listed.text),
            "person_id": str(scene.zhang),
            "expected_version": str(version),
            "reason": "离开本市",
        },
    )
    assert cancelled.status_code == 303, cancelled.text[-800:]
    assert "居住证已注销" in client.get(f"/web/persons/{scene.zhang}/permits").text


def test_a_permit_for_a_short_stay_is_refused_in_place_and_collectors_may_not_issue(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("police_liu")
    page = client.get(f"/web/persons/{scene.zhang}/permits")
    residence_id = page.text.split('name="residence_id"')[1].split('value="')[1].split('"')[0]
    r = client.post(
        f"/web/persons/{scene.zhang}/permits",
        data={
            "csrf_token": csrf_of(page.text),
            "residence_id": residence_id,
            "basis": "job",
            "basis_detail": "x",
            "issued_on": "2026-04-01",
        },
    )
    assert r.status_code == 422 and 'data-testid="form-error"' in r.text
    collector = web_as("collector_zhang")
    seen = collector.get(f"/web/persons/{scene.zhang}/permits")
    assert seen.status_code == 200 and 'data-testid="issue"' not in seen.text
    refused = collector.post(
        f"/web/persons/{scene.zhang}/permits",
        data={
            "csrf_token": csrf_of(seen.text),
            "residence_id": residence_id,
            "basis": "job",
            "basis_detail": "x",
        },
    )
    assert refused.status_code == 403
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Permit)).scalar_one() == 0


def test_a_district_admin_registers_an_agreement_and_views_it(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    with world.session() as s:
        departments.add_department(s, world.ctx(s), code="health", name_zh="卫生健康委", name_en="Health")
    client = web_as("district_admin_chen")
    listed = client.get("/web/departments")
    assert listed.status_code == 200 and 'data-testid="department-health"' in listed.text
    form = client.get("/web/departments/health/agreements/new")
    assert form.status_code == 200 and 'value="person.death_date"' in form.text
    assert "floor_area_m2</label>" not in form.text and "建筑面积" in form.text  # fields by name, never raw
    done = client.post(
        "/web/departments/health/agreements",
        data={
            "csrf_token": csrf_of(form.text),
            "purpose": "死亡医学证明核对",
            "valid_from": "2026-11-01",
            "provides": ["person.death_date"],
            "reads": ["person.name", "person.birth_date"],
        },
    )
    assert done.status_code == 303, done.text[-800:]
    shown = client.get(done.headers["location"])
    assert "协议已登记" in shown.text and "死亡医学证明核对" in shown.text and "死亡日期" in shown.text
    empty = client.post(
        "/web/departments/health/agreements",
        data={"csrf_token": csrf_of(form.text), "purpose": "空协议", "valid_from": "2026-11-01"},
    )
    assert empty.status_code == 422
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Agreement)).scalar_one() == 1


def test_agreements_are_for_administrators_only(web_as: Callable[[str], TestClient]) -> None:
    for persona in ("police_liu", "health_liaison_wang", "housing_officer_he"):
        client = web_as(persona)
        assert client.get("/web/departments").status_code == 403
        assert 'href="/web/departments"' not in client.get("/web/").text
