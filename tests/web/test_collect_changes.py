"""Issue 14 on the collect pages: a collector proposes an extension of stay, a move, a document, a household member
and a birth from the dwelling page (Chinese and English); nothing counts until the station approves it, bad input
is shown in place (422) with nothing stored, and a returned one is fixed in the same form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.persons.models import Document, DocumentVersion, MembershipVersion, PersonVersion
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import ResidenceVersion
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.changesets_data import approve_all
from tests.web.conftest import csrf_of


@pytest.fixture
def home(world: World) -> dict[str, int]:
    """A dwelling in collector_zhang's community with 张三 living there (floating, until the end of November),
    his household (he is its head), 李四 living there outside it, and another dwelling."""
    with world.session() as session:
        ctx = world.ctx(session)
        p = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        other = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        pid = factories.person(session, ctx, area_id=world.area(INSIDE), name="张三")
        lodger = factories.person(session, ctx, area_id=world.area(INSIDE), name="李四")
        rid = factories.arrival(
            session, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 3, 1)
        )
        factories.arrival(
            session, ctx, person_id=lodger, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 3, 1)
        )
        hid = factories.household(
            session, ctx, area_id=world.area(INSIDE), dwelling_id=p.dwelling_id, members=[(pid, "02")]
        )
    return {
        "dwelling": p.dwelling_id,
        "other": other.dwelling_id,
        "person": pid,
        "lodger": lodger,
        "residence": rid,
        "household": hid,
    }


def _sets(world: World) -> list[tuple[str, str]]:
    with world.session() as s:
        return [
            (str(a), str(st))
            for a, st in s.execute(select(ChangeSet.action, ChangeSet.status).order_by(ChangeSet.id))
        ]


def _submit(client: TestClient, url: str, values: dict[str, Any]) -> Any:
    form = client.get(url)
    assert form.status_code == 200, form.text
    version = re.search(r'name="expected_version" value="(\d+)"', form.text)
    assert version
    data = {"csrf_token": csrf_of(form.text), "expected_version": version.group(1), **values}
    extra = re.search(r'name="change_set_id" value="(\d+)"', form.text)
    if extra:
        data["change_set_id"] = extra.group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', form.text)
    assert action
    return client.post(action.group(1).replace("&amp;", "&"), data=data)


def _until(world: World, residence_id: int) -> dt.date | None:
    with world.session() as s:
        value: dt.date | None = s.execute(
            select(ResidenceVersion.intended_stay_until).where(
                ResidenceVersion.entity_id == residence_id,
                ResidenceVersion.superseded_at.is_(None),
                ResidenceVersion.valid_to.is_(None),
            )
        ).scalar_one_or_none()
        return value


def test_a_collector_proposes_an_extension_from_the_dwelling_page(
    web_as: Callable[[str], TestClient], home: dict[str, int], world: World
) -> None:
    client = web_as("collector_zhang")
    visit = client.get(f"/web/collect/dwellings/{home['dwelling']}")
    link = f"/web/collect/residences/{home['residence']}/extension"
    assert link in visit.text and "续住" in visit.text
    form = client.get(link)
    assert "续住" in form.text and "张三" in form.text and "提交续住" in form.text
    # Bad input: shown in place in Chinese, nothing stored.
    r = _submit(client, link, {"intended_stay_until": "2026-01-01"})
    assert r.status_code == 422 and 'data-testid="form-error"' in r.text
    assert _sets(world) == []
    r = _submit(client, link, {"intended_stay_until": "2027-06-30"})
    assert r.status_code == 303, r.text
    assert "已提交审核" in client.get(r.headers["location"]).text
    assert _sets(world) == [("extension", "pending_station")]
    assert _until(world, home["residence"]) is None  # nothing live yet
    approve_all(web_as, "station_admin_li")
    assert _until(world, home["residence"]) == dt.date(2027, 6, 30)
    assert _sets(world) == [("extension", "approved")]


def test_the_extension_form_in_english(web_as: Callable[[str], TestClient], home: dict[str, int]) -> None:
    client = web_as("collector_zhang")
    client.get("/web/lang", params={"lang": "en", "next": "/web/collect"})
    form = client.get(f"/web/collect/residences/{home['residence']}/extension")
    assert form.status_code == 200
    assert "Extension of stay" in form.text and "Submit the extension" in form.text
    visit = client.get(f"/web/collect/dwellings/{home['dwelling']}")
    for text in (
        "Extend stay",
        "Moved within the city",
        "Add a document",
        "Add a member",
        "Register a birth",
    ):
        assert text in visit.text


def test_a_returned_extension_is_fixed_in_the_same_form(
    web_as: Callable[[str], TestClient], home: dict[str, int], world: World
) -> None:
    client = web_as("collector_zhang")
    link = f"/web/collect/residences/{home['residence']}/extension"
    assert _submit(client, link, {"intended_stay_until": "2027-06-30"}).status_code == 303
    with world.session() as s:
        cs_id = s.execute(select(ChangeSet.id)).scalar_one()
    station = web_as("station_admin_li")
    detail = station.get(f"/web/changesets/{cs_id}")
    r = station.post(
        f"/web/changesets/{cs_id}/return", data={"csrf_token": csrf_of(detail.text), "reason": "日期核对有误"}
    )
    assert r.status_code == 303, r.text
    outbox = client.get("/web/collect/outbox")
    fix = re.search(r'href="([^"]+)" data-testid="fix"', outbox.text)
    assert fix and fix.group(1).startswith(link)
    form = client.get(fix.group(1).replace("&amp;", "&"))
    assert "日期核对有误" in form.text and 'value="2027-06-30"' in form.text
    r = _submit(client, fix.group(1).replace("&amp;", "&"), {"intended_stay_until": "2027-05-31"})
    assert r.status_code == 303, r.text
    assert _sets(world) == [("extension", "pending_station")]
    approve_all(web_as, "station_admin_li")
    assert _until(world, home["residence"]) == dt.date(2027, 5, 31)


def test_a_collector_proposes_a_move_document_member_and_birth(
    web_as: Callable[[str], TestClient], home: dict[str, int], world: World
) -> None:
    client = web_as("collector_zhang")
    d = home["dwelling"]
    r = _submit(
        client,
        f"/web/collect/residences/{home['residence']}/move",
        {"move_date": "2026-11-20", "dwelling_id": str(home["other"])},
    )
    assert r.status_code == 303, r.text
    r = _submit(
        client,
        f"/web/collect/persons/{home['person']}/document?dwelling_id={d}",
        {"doc_type": "passport", "number": "E12345678", "country": "CHN"},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/web/collect/dwellings/{d}")
    member = client.get(f"/web/collect/households/{home['household']}/member")
    assert "李四" in member.text
    r = _submit(
        client,
        f"/web/collect/households/{home['household']}/member",
        {"person_id": str(home["lodger"]), "relationship": "97"},
    )
    assert r.status_code == 303, r.text
    # A second head is refused in place, nothing stored.
    r = _submit(
        client,
        f"/web/collect/households/{home['household']}/member",
        {"person_id": str(home["lodger"]), "relationship": "02"},
    )
    assert r.status_code == 422
    assert len(_sets(world)) == 3
    r = _submit(
        client,
        f"/web/collect/households/{home['household']}/birth",
        {"name": "张小雨", "sex": "2", "birth_date": "2026-11-20", "relationship": "30"},
    )
    assert r.status_code == 303, r.text
    assert [a for a, _ in _sets(world)] == ["move", "document", "member", "birth"]
    with world.session() as s:
        before = (
            s.execute(select(func.count()).select_from(PersonVersion)).scalar_one(),
            s.execute(select(func.count()).select_from(MembershipVersion)).scalar_one(),
            s.execute(select(func.count()).select_from(DocumentVersion)).scalar_one(),
        )
    # The station's desk shows each; the member and the birth raise the same household version, so the desk
    # applies the first and reports the second stale until it is fixed.
    station = web_as("station_admin_li")
    desk = station.get("/web/changesets")
    for label in ("市内迁移", "新增证件", "新增家庭成员", "出生登记"):
        assert label in desk.text
    ids = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', desk.text)]
    r = station.post("/web/changesets/approve", data={"csrf_token": csrf_of(desk.text), "ids": ids})
    assert r.status_code == 200
    with world.session() as s:
        after = (
            s.execute(select(func.count()).select_from(PersonVersion)).scalar_one(),
            s.execute(select(func.count()).select_from(MembershipVersion)).scalar_one(),
            s.execute(select(func.count()).select_from(DocumentVersion)).scalar_one(),
        )
    assert after[1] == before[1] + 1  # one of the two household changes applied, never both
    assert after[2] == before[2] + 1  # the passport
    assert dict(_sets(world))["move"] == "approved"
    statuses = dict(_sets(world))
    assert sorted((statuses["member"], statuses["birth"])) == ["approved", "pending_station"]


def test_a_collectors_member_on_the_household_page_is_a_change_set(
    web_as: Callable[[str], TestClient], home: dict[str, int], world: World
) -> None:
    client = web_as("collector_zhang")
    page = client.get(f"/web/households/{home['household']}")
    with world.session() as s:
        number = s.execute(
            select(DocumentVersion.number)
            .join(Document, Document.id == DocumentVersion.entity_id)
            .where(Document.person_id == home["lodger"])
        ).scalar_one()
        members = s.execute(select(func.count()).select_from(MembershipVersion)).scalar_one()
    r = client.post(
        f"/web/households/{home['household']}/members",
        data={
            "csrf_token": csrf_of(page.text),
            "expected_version": "1",
            "id_number": number,
            "relationship": "97",
        },
    )
    assert r.status_code == 303, r.text
    assert "已提交审核" in client.get(r.headers["location"]).text
    assert _sets(world) == [("member", "pending_station")]
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(MembershipVersion)).scalar_one() == members
    approve_all(web_as, "station_admin_li")
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(MembershipVersion)).scalar_one() == members + 1
