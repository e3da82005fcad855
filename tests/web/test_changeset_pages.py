"""The review desk pages through the TestClient: filters, a return without a reason keeps the page and writes
nothing, a reviewer's own collection is refused on the page, the collector's outbox shows the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient

from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling
from liangshi.common.types import validation_context
from liangshi.registry.changesets import ChangeSet
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.conftest import csrf_of


def _propose(world: World, who: str, name: str, seq: int, category: str = "floating") -> int:
    with world.session() as session:
        place = factories.place(
            session,
            world.ctx(session),
            area_id=world.area(INSIDE),
            district_id=world.area("420704"),
            tag=str(seq),
        )
        data = PersonAtDwelling.model_validate(
            {
                "name": name,
                "id_number": factories.make_id("420704", dt.date(1992, 9, 9), seq=seq),
                "arrival_date": "2026-11-01",
                "category": category,
            },
            context=validation_context(dt.date(2026, 11, 27)),
        )
        return campaign.add_person_at_dwelling(session, world.ctx(session, who), place.dwelling_id, data).id


def test_desk_filters_returns_and_refusals(web_as: Callable[[str], TestClient], world: World) -> None:
    mine = _propose(world, "station_admin_li", "林一", 81)
    theirs = _propose(world, "collector_zhang", "林二", 83, category="overseas")
    station = web_as("station_admin_li")
    desk = station.get("/web/changesets")
    assert desk.status_code == 200 and "林一" in desk.text and "林二" in desk.text and "审核台" in desk.text
    only = station.get("/web/changesets", params={"tag": "overseas"})
    assert "林二" in only.text and "林一" not in only.text

    page = station.get(f"/web/changesets/{theirs}")
    assert 'data-field="name"' in page.text and "****" in page.text  # the ID number masked
    blank = station.post(
        f"/web/changesets/{theirs}/return", data={"csrf_token": csrf_of(page.text), "reason": ""}
    )
    assert blank.status_code == 422 and "必须填写原因" in blank.text
    own = station.get(f"/web/changesets/{mine}")
    refused = station.post(f"/web/changesets/{mine}/approve", data={"csrf_token": csrf_of(own.text)})
    assert refused.status_code == 403 and "不能审核自己采集的信息" in refused.text
    with world.session() as session:
        assert session.get(ChangeSet, theirs).status == "pending_station"
        assert session.get(ChangeSet, mine).status == "pending_station"

    back = station.post(
        f"/web/changesets/{theirs}/return",
        data={"csrf_token": csrf_of(page.text), "reason": "请补充护照信息"},
    )
    assert back.status_code == 303
    outbox = web_as("collector_zhang").get("/web/collect/outbox")
    assert "请补充护照信息" in outbox.text and "/web/collect/dwellings/" in outbox.text

    english = web_as("district_admin_chen")
    english.get("/web/lang", params={"lang": "en", "next": "/web/"})
    assert "Review desk" in english.get("/web/changesets").text


def test_claim_page_claims_hands_on_and_marks_duplicates(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    from liangshi.review import service as review

    ids = []
    with world.session() as session:
        ctx = world.ctx(session, "health_liaison_wang")
        for seq, name in ((91, "何一"), (93, "何二"), (95, "何三")):
            ids.append(
                review.propose_claim(
                    session,
                    ctx,
                    area_id=world.area(INSIDE),
                    person={"name": name, "sex": "1", "birth_date": "1975-05-05"},
                    documents=[{"number": factories.make_id("420704", dt.date(1975, 5, 5), seq=seq)}],
                    source="health",
                    record_id=f"H-{seq}",
                ).id
            )
    police = web_as("police_liu")
    page = police.get("/web/claims")
    assert page.status_code == 200 and all(n in page.text for n in ("何一", "何二", "何三"))
    csrf = csrf_of(page.text)
    assert (
        police.post(f"/web/claims/{ids[0]}", data={"csrf_token": csrf, "decision": "claimed"}).status_code
        == 303
    )
    bad = police.post(
        f"/web/claims/{ids[1]}", data={"csrf_token": csrf, "decision": "elsewhere", "area_code": "9"}
    )
    assert bad.status_code == 404 and "未找到该区划" in bad.text
    moved = police.post(
        f"/web/claims/{ids[1]}",
        data={"csrf_token": csrf, "decision": "elsewhere", "area_code": "420704001002"},
    )
    assert moved.status_code == 303
    assert (
        police.post(f"/web/claims/{ids[2]}", data={"csrf_token": csrf, "decision": "duplicate"}).status_code
        == 303
    )
    after = police.get("/web/claims").text
    assert "何一" not in after and "何二" not in after and "何三" not in after
    assert police.post(f"/web/claims/{ids[2]}/undo", data={"csrf_token": csrf}).status_code == 303
    assert "何三" in police.get("/web/claims").text
    with world.session() as session:
        statuses = [session.get(ChangeSet, i).status for i in ids]
        assert statuses == ["approved", "pending_claim", "pending_claim"]
        assert session.get(ChangeSet, ids[1]).area_id == world.area("420704001002")


def test_cross_unit_change_refused_and_ruled_on_the_pages(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    from liangshi.registry import history
    from liangshi.review import service as review

    with world.session() as session:
        ctx = world.ctx(session)
        there = factories.place(
            session, ctx, area_id=world.area("420704001002"), district_id=world.area("420704")
        )
        pid = factories.person(session, ctx, area_id=world.area(INSIDE), name="王六")
        factories.arrival(
            session, ctx, person_id=pid, dwelling_id=there.dwelling_id, arrived=dt.date(2026, 2, 1)
        )
        cs_id = review.propose_cross_unit(
            session,
            world.ctx(session, "collector_zhou"),
            pid,
            {"workplace": "南浦饭店"},
            expected_version=1,
            reason="本人说明",
        ).id
    holder = web_as("police_liu")
    page = holder.get("/web/coordination")
    assert page.status_code == 200 and "南浦饭店" in page.text and "业务协同" in page.text
    csrf = csrf_of(page.text)
    blank = holder.post(
        f"/web/coordination/{cs_id}/holder", data={"csrf_token": csrf, "agree": "no", "reason": ""}
    )
    assert blank.status_code == 422
    refused = holder.post(
        f"/web/coordination/{cs_id}/holder",
        data={"csrf_token": csrf, "agree": "no", "reason": "单位资料不符"},
    )
    assert refused.status_code == 303
    station = web_as("station_admin_li")
    page = station.get("/web/coordination")
    assert "单位资料不符" in page.text
    ruled = station.post(
        f"/web/coordination/{cs_id}/ruling",
        data={"csrf_token": csrf_of(page.text), "ruling": "initiator", "reason": "核实属实"},
    )
    assert ruled.status_code == 303
    with world.session() as session:
        assert history.open_row(session, review.KINDS["person"], pid).workplace == "南浦饭店"
        assert session.get(ChangeSet, cs_id).status == "approved"
