"""The review queue and merges over HTTP: jurisdiction, masking, decisions with reasons, undo."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.mpi import service
from liangshi.mpi.models import MatchReview
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World
from tests.mpi.helpers import bare_person, rec, totals


def _queue(world: World) -> tuple[int, int]:
    """Two reviews: one inside (its candidate lives in the test community), one outside every jurisdiction."""
    with world.session() as s:
        ctx = world.ctx(s)
        inside = factories.person(s, ctx, area_id=world.area(INSIDE), name="赵六")
        outside = factories.person(
            s, ctx, area_id=world.area(OUTSIDE), name="赵六", birth=dt.date(1991, 1, 1)
        )
        service.resolve(
            s, ctx, [rec("in", name="赵六")], source="health", batch_ref="b1", area_id=world.area(INSIDE)
        )
        service.resolve(
            s,
            ctx,
            [rec("out", name="赵六", birth="1991-01-01")],
            source="health",
            batch_ref="b1",
            area_id=world.area(OUTSIDE),
        )
        ids = {r.candidate_person_id: r.id for r in s.execute(select(MatchReview)).scalars()}
    return ids[inside], ids[outside]


def test_review_queue_is_scoped_and_pending_first(world: World, client: TestClient, login: Any) -> None:
    inside, outside = _queue(world)
    r = client.get("/mpi/reviews", headers=login("police_liu"))
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [inside]
    assert r.json()["items"][0]["status"] == "pending"
    assert client.get(f"/mpi/reviews/{outside}", headers=login("police_liu")).status_code == 404
    assert client.get("/mpi/reviews", headers=login("collector_zhang")).status_code == 403
    assert client.get("/mpi/reviews", headers=login("health_liaison_wang")).status_code == 403


def test_review_side_by_side_masks_id_numbers_and_shows_weights(
    world: World, client: TestClient, login: Any
) -> None:
    inside, _ = _queue(world)
    r = client.get(f"/mpi/reviews/{inside}", headers=login("police_liu"))
    assert r.status_code == 200, r.text
    body = r.json()
    fields = {f["field"]: f for f in body["fields"]}
    assert fields["name"]["left"] == fields["name"]["right"] == "赵六"
    assert fields["name"]["weight"] == 4.0 and fields["name"]["level"] == "exact"
    assert "*" in fields["id_number"]["right"]
    assert body["left"]["source"] == "health" and body["left"]["source_record_id"] == "in"
    assert any(e["field"] == "prior" for e in body["evidence"])


def test_decision_needs_a_reason_and_is_final(world: World, client: TestClient, login: Any) -> None:
    inside, _ = _queue(world)
    headers = login("police_liu")
    before = totals(world)
    r = client.post(f"/mpi/reviews/{inside}/decision", json={"decision": "same"}, headers=headers)
    assert r.status_code == 422
    r = client.post(
        f"/mpi/reviews/{inside}/decision", json={"decision": "maybe", "reason": "x"}, headers=headers
    )
    assert r.status_code == 422
    assert totals(world) == before
    r = client.post(
        f"/mpi/reviews/{inside}/decision", json={"decision": "same", "reason": "电话核实"}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "linked" and r.json()["record_status"] == "linked"
    r = client.post(
        f"/mpi/reviews/{inside}/decision", json={"decision": "distinct", "reason": "x"}, headers=headers
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "mpi.review_decided"
    listed = client.get("/mpi/reviews?status=linked", headers=headers).json()
    assert [i["id"] for i in listed["items"]] == [inside]


def test_merge_and_undo_over_http(world: World, client: TestClient, login: Any) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        keep = factories.person(s, ctx, area_id=world.area(INSIDE), name="钱一")
        other = bare_person(s, ctx, area_id=world.area(INSIDE), name="钱一")
    headers = login("police_liu")
    r = client.post(f"/persons/{keep}/merge", json={"other": other, "reason": "重复登记"}, headers=headers)
    assert r.status_code == 201, r.text
    event = r.json()
    assert (event["kind"], event["keep_person_id"], event["other_person_id"]) == ("merge", keep, other)
    assert client.get(f"/persons/{other}", headers=headers).json()["retired"] is True
    assert client.get(f"/mpi/events/{event['id']}", headers=headers).json()["id"] == event["id"]
    r = client.post(f"/mpi/events/{event['id']}/undo", json={"reason": "合并错误"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["undoes_id"] == event["id"]
    assert client.get(f"/persons/{other}", headers=headers).json()["retired"] is False
    r = client.post(f"/persons/{keep}/merge", json={"other": keep, "reason": "x"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "mpi.merge_self"
    r = client.post(f"/persons/{keep}/merge", json={"other": other}, headers=headers)
    assert r.status_code == 422
