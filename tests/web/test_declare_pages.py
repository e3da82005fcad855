"""A scanned QR door plate in the web app: a collector lands on the building, anyone else on the public
self-declaration form (CSRF-protected, nothing personal shown back); the collectors' desk verifies or declines;
the plate sheets download from the street and area pages. And the public form in a real browser."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from liangshi.addresses.models import Address
from liangshi.common.idnumber import compute_check_char
from liangshi.persons.models import Person
from liangshi.registry.changesets import ChangeSet
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.conftest import MOBILE, browser_login, csrf_of

ID_1 = factories.make_id("420111", dt.date(1993, 2, 3), 41)


def _plate(world: World) -> tuple[factories.Place, str]:
    with world.session() as s:
        ctx = world.ctx(s)
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        code = s.get(Address, place.address_id).code  # type: ignore[union-attr]
    return place, str(code)


def _declarations(world: World) -> list[ChangeSet]:
    with world.session() as s:
        return list(s.execute(select(ChangeSet).where(ChangeSet.flow == "declaration")).scalars())


def _form(name: str = "赵六", **extra: str) -> dict[str, Any]:
    return {
        "kind": "arrival",
        "date": "2026-11-25",
        "room": "3栋1单元501",
        "tenant": "on",
        "name": [name, "钱七"],
        "id_number": [ID_1, ""],
        "phone": ["13900001111", ""],
        **extra,
    }


def test_anyone_scanning_gets_the_form_and_a_receipt_without_personal_data(
    world: World, web: TestClient
) -> None:
    _, code = _plate(world)
    short = web.get(f"/q/{code}")
    assert short.status_code == 303 and short.headers["location"] == f"/web/q/{code}"
    form = web.get(f"/web/q/{code}")
    assert form.status_code == 200 and "自主申报" in form.text and "12号" in form.text
    refused = web.post(f"/web/q/{code}", data=_form())
    assert refused.status_code == 403  # no CSRF token
    assert _declarations(world) == []
    done = web.post(f"/web/q/{code}", data={**_form(), "csrf_token": csrf_of(form.text)})
    assert done.status_code == 201, done.text
    assert "申报已收到" in done.text
    for personal in ("赵六", "钱七", ID_1, "13900001111"):
        assert personal not in done.text
    [cs] = _declarations(world)
    assert cs.status == "pending_visit"
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Person)).scalar_one() == 0


def test_bad_form_input_says_what_is_wrong_and_stores_nothing(world: World, web: TestClient) -> None:
    _, code = _plate(world)
    token = csrf_of(web.get(f"/web/q/{code}").text)
    future = web.post(f"/web/q/{code}", data={**_form(), "date": "2027-01-01", "csrf_token": token})
    assert future.status_code == 422 and "日期不能晚于今天" in future.text
    nobody = web.post(f"/web/q/{code}", data={**_form(), "name": ["", ""], "csrf_token": token})
    assert nobody.status_code == 422 and "请检查填写内容：姓名" in nobody.text
    assert _declarations(world) == []
    unknown = web.get("/web/q/123")
    assert unknown.status_code == 404 and "未找到该门牌" in unknown.text
    # A plate code whose last digit happens to be an ID number's check character is read, not refused as one.
    lookalike = next(
        c for c in (f"420704{n:012d}" for n in range(1, 100)) if compute_check_char(c[:17]) == c[17]
    )
    scanned = web.get(f"/web/q/{lookalike}")
    assert scanned.status_code == 404 and "未找到该门牌" in scanned.text


def test_a_collector_scanning_lands_on_the_building(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    place, code = _plate(world)
    r = web_as("collector_zhang").get(f"/web/q/{code}")
    assert r.status_code == 303 and r.headers["location"] == f"/web/collect/buildings/{place.building_id}"
    # A collector of another community scanning it sees the public form, not the building.
    other = web_as("collector_zhou").get(f"/web/q/{code}")
    assert other.status_code == 200 and "自主申报" in other.text


def test_the_desk_verifies_a_declared_arrival_for_the_stations_review(
    world: World, web: TestClient, web_as: Callable[[str], TestClient]
) -> None:
    place, code = _plate(world)
    token = csrf_of(web.get(f"/web/q/{code}").text)
    assert web.post(f"/web/q/{code}", data={**_form(), "csrf_token": token}).status_code == 201
    zhang = web_as("collector_zhang")
    desk = zhang.get("/web/declarations")
    assert desk.status_code == 200 and "赵六" in desk.text and ID_1 not in desk.text
    assert 'data-testid="match-level-' in desk.text and ">房间</span>" in desk.text
    [cs] = _declarations(world)
    r = zhang.post(
        f"/web/declarations/{cs.id}/arrival",
        data={
            "dwelling_id": str(place.dwelling_id),
            "category": "floating",
            "sex": ["", "2"],
            "csrf_token": csrf_of(desk.text),
        },
    )
    assert r.status_code == 303, r.text
    [cs] = _declarations(world)
    assert cs.status == "verified"
    with world.session() as s:
        proposed = s.execute(select(ChangeSet).where(ChangeSet.flow == "collection")).scalars().all()
        assert len(proposed) == 2 and {p.status for p in proposed} == {"pending_station"}
    assert "没有待上门核录的申报" in zhang.get("/web/declarations").text


def test_the_desk_declines_a_declaration_found_untrue(
    world: World, web: TestClient, web_as: Callable[[str], TestClient]
) -> None:
    _, code = _plate(world)
    token = csrf_of(web.get(f"/web/q/{code}").text)
    web.post(f"/web/q/{code}", data={**_form(), "kind": "departure", "csrf_token": token})
    zhang = web_as("collector_zhang")
    desk = zhang.get("/web/declarations")
    [cs] = _declarations(world)
    r = zhang.post(
        f"/web/declarations/{cs.id}/decline", data={"reason": "查无此人", "csrf_token": csrf_of(desk.text)}
    )
    assert r.status_code == 303
    assert _declarations(world)[0].status == "closed"


def _departure_declared(world: World, web: TestClient) -> tuple[ChangeSet, int, int]:
    """A declared departure of 赵六 at a plate where 赵六 and 钱七 live: the declaration and both residences."""
    place, code = _plate(world)
    with world.session() as s:
        ctx = world.ctx(s)
        area = world.area(INSIDE)
        zhao = factories.person(s, ctx, area_id=area, name="赵六")
        qian = factories.person(s, ctx, area_id=area, name="钱七")
        kw = {"dwelling_id": place.dwelling_id, "arrived": dt.date(2026, 1, 5)}
        gone = factories.arrival(s, ctx, person_id=zhao, **kw)  # type: ignore[arg-type]
        stays = factories.arrival(s, ctx, person_id=qian, **kw)  # type: ignore[arg-type]
    token = csrf_of(web.get(f"/web/q/{code}").text)
    form = {**_form(), "kind": "departure", "name": ["赵六", ""], "id_number": ["", ""], "csrf_token": token}
    assert web.post(f"/web/q/{code}", data=form).status_code == 201
    [cs] = _declarations(world)
    return cs, gone, stays


def test_the_desk_verifies_a_declared_departure_for_the_stations_review(
    world: World, web: TestClient, web_as: Callable[[str], TestClient]
) -> None:
    cs, gone, stays = _departure_declared(world, web)
    zhang = web_as("collector_zhang")
    desk = zhang.get("/web/declarations")
    assert f'data-testid="verify-departure-{cs.id}"' in desk.text
    # The declared name is ticked, the co-resident who stays is offered but not ticked.
    assert f'value="{gone}" checked' in desk.text and f'value="{stays}" checked' not in desk.text
    token = csrf_of(desk.text)
    # Bad input: nobody ticked, a reason missing, a residence elsewhere — a clear message, nothing written.
    for data, message in (
        ({"reason": "left_city"}, "请勾选核实已搬离的人员"),
        ({"residence_id": [str(gone)]}, "Reason"),
        ({"residence_id": ["999999"], "reason": "left_city"}, "该人员不住在申报的门牌地址上"),
    ):
        bad = zhang.post(f"/web/declarations/{cs.id}/departure", data={**data, "csrf_token": token})
        assert bad.status_code == 422, bad.text
        assert 'data-testid="form-error"' in bad.text
        if message != "Reason":
            assert message in bad.text
        assert _declarations(world)[0].status == "pending_visit"
    r = zhang.post(
        f"/web/declarations/{cs.id}/departure",
        data={"residence_id": [str(gone)], "reason": "left_city", "destination": "武汉", "csrf_token": token},
    )
    assert r.status_code == 303, r.text
    [declared] = _declarations(world)
    assert declared.status == "verified"
    with world.session() as s:
        proposed = s.execute(select(ChangeSet).where(ChangeSet.flow == "collection")).scalars().all()
        assert [p.action for p in proposed] == ["departure"] and proposed[0].status == "pending_station"
        assert f'"residence_id": {gone}' in proposed[0].items + (proposed[0].payload or "")
    assert proposed[0].id in json.loads(declared.payload or "{}")["verified_as"]
    assert "没有待上门核录的申报" in zhang.get("/web/declarations").text


def test_the_desk_verifies_a_departure_in_a_browser(
    world: World, web: TestClient, open_page: Callable[..., Any]
) -> None:
    cs, gone, _ = _departure_declared(world, web)
    page = open_page(MOBILE)
    browser_login(page, "collector_zhang")
    page.goto("/web/declarations")
    form = f"[data-testid=verify-departure-{cs.id}]"
    page.wait_for_selector(form)
    assert page.is_checked(f"[data-testid=gone-{gone}]")  # the declared name, ticked already
    page.select_option(f"{form} select[name=reason]", "left_city")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("[data-testid=no-declarations]")
    assert _declarations(world)[0].status == "verified"


def test_the_street_and_area_pages_print_the_plates(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    place, _ = _plate(world)
    liu = web_as("police_liu")
    street = liu.get(f"/web/streets/{place.street_id}")
    assert f"/web/streets/{place.street_id}/plates.pdf" in street.text
    pdf = liu.get(f"/web/streets/{place.street_id}/plates.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "12号" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().replace("\n", "")
    area = liu.get(f"/web/areas/{world.area(INSIDE)}/plates.pdf")
    assert area.status_code == 200
    empty = web_as("collector_zhou").get(f"/web/areas/{world.area('420704001002')}/plates.pdf")
    assert empty.status_code == 404 and "没有可打印的门牌" in empty.text


def test_the_public_form_in_a_browser(world: World, open_page: Callable[..., Any]) -> None:
    _, code = _plate(world)
    page = open_page(MOBILE)
    page.goto(f"/q/{code}")
    page.wait_for_selector("[data-testid=declare]")
    assert "12号" in (page.text_content("[data-testid=plate-address]") or "")
    page.fill("input[name=date]", "2026-11-25")
    page.fill("[data-testid=person-0] input[name=name]", "孙八")
    page.fill("[data-testid=person-0] input[name=id_number]", ID_1)
    page.fill("[data-testid=person-1] input[name=name]", "周九")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=declared]")
    body = page.text_content("body") or ""
    assert "申报已收到" in body and "孙八" not in body and ID_1 not in body
    [cs] = _declarations(world)
    assert cs.status == "pending_visit" and "周九" in (cs.payload or "")
