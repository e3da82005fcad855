"""The offline inspection app's server side: its shell under the collection app's service worker, the sample
download (members with age band), and the outbox sync: stored once per UUID, refusals with their reason."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.inspections import service
from liangshi.inspections.models import InspectionResult, InspectionResultBand
from tests.conftest import INSIDE, World
from tests.inspections.test_service import _households, _plan

_TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def _drawn(world: World) -> tuple[int, list[int], int]:
    """Four households entered by the default actor and one by station_admin_li, all drawn (margin 0.01)."""
    others = _households(world, INSIDE, 4)
    own = _households(world, INSIDE, 1, "station_admin_li")[0]
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
    assert plan.lots[0].sample_size == 5
    return plan.id, others, own


def _result(present: int = 2, missed: int = 0) -> dict[str, Any]:
    return {
        "persons_registered": 2,
        "persons_present": present,
        "main_right": present,
        "general_right": present,
        "persons_missed": missed,
        "count_matches": present == 2 and not missed,
        "bands": [
            {"age_band": "unknown", "persons_registered": 2, "persons_present": present, "persons_missed": 0}
        ]
        + ([{"age_band": "18-34", "persons_missed": missed}] if missed else []),
    }


def _item(plan_id: int, household_id: int, **kw: Any) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "kind": "inspection",
        "plan_id": plan_id,
        "household_id": household_id,
        "result": _result(**kw),
    }


def _count(world: World, model: Any) -> int:
    with world.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_the_shell_is_kept_by_the_collection_apps_service_worker(web_as: Callable[[str], TestClient]) -> None:
    client = web_as("inspector_zhao")
    shell = client.get("/web/collect/inspect")
    assert shell.status_code == 200
    assert "/web/static/offline-outbox.js" in shell.text and "/web/static/inspect-app.js" in shell.text
    assert "离线抽查" in shell.text and "本人采集" in shell.text  # texts in Chinese by default
    worker = client.get("/web/collect/sw.js").text
    assert "/web/collect/inspect" in worker and "/web/static/inspect-app.js" in worker
    collector = web_as("collector_zhang")
    assert "/web/static/offline-outbox.js" in collector.get("/web/collect/app").text  # the shared machinery
    assert collector.get("/web/collect/inspect").status_code == 403


def test_the_download_lists_the_sample_with_members_and_marks_the_inspectors_own(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    plan_id, others, own = _drawn(world)
    work = web_as("station_admin_li").get("/web/collect/inspect/work.json").json()
    plan = next(p for p in work["plans"] if p["plan_id"] == plan_id)
    households = {h["household_id"]: h for h in plan["households"]}
    assert set(households) == {*others, own}
    assert households[own]["own"] is True and not any(households[h]["own"] for h in others)
    members = households[others[0]]["members"]
    assert sorted(m["name"] for m in members) == ["李秀英", "王建国"]
    assert all(m["age_band"] in {"0-17", "18-34", "35-59", "60+", "unknown"} for m in members)


def test_the_sync_stores_each_result_once_and_refuses_with_reasons(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    plan_id, others, own = _drawn(world)
    client = web_as("station_admin_li")
    token = _TOKEN.search(client.get("/web/collect/inspect").text)
    assert token
    headers = {"X-CSRF-Token": token.group(1)}
    good = _item(plan_id, others[0], missed=1)
    items = [
        good,
        _item(plan_id, own),  # station_admin_li entered it
        _item(plan_id, max(others) + 10_000),  # not in the sample
        {"uuid": "not-a-uuid", "kind": "inspection", "plan_id": plan_id},
        _item(plan_id, others[1], present=1),
    ]
    assert client.post("/web/collect/inspect/sync", json={"items": items}).status_code == 403  # no CSRF token
    r = client.post("/web/collect/inspect/sync", json={"items": items}, headers=headers)
    assert r.status_code == 200, r.text
    answers = r.json()["items"]
    assert [a["status"] for a in answers] == ["stored", "refused", "refused", "refused", "stored"]
    assert [a["code"] for a in answers[1:4]] == [
        "inspection.own_collection",
        "inspection.not_in_sample",
        "sync.item_invalid",
    ]
    assert answers[1]["message_zh"] == "检查人员不能检查本人采集录入的信息"
    assert _count(world, InspectionResult) == 2 and _count(world, InspectionResultBand) == 3
    # The phone lost the answers and sends everything again: nothing is stored twice.
    again = client.post("/web/collect/inspect/sync", json={"items": items}, headers=headers).json()
    assert [a["status"] for a in again["items"]] == ["replayed", "refused", "refused", "refused", "replayed"]
    assert again["items"][0]["data"]["result_id"] == answers[0]["data"]["result_id"]
    assert _count(world, InspectionResult) == 2
    # The same UUID with other content is refused; another UUID for an inspected household too.
    changed = {**good, "result": _result()}
    other = _item(plan_id, others[0])
    last = client.post("/web/collect/inspect/sync", json={"items": [changed, other]}, headers=headers).json()
    assert [a["code"] for a in last["items"]] == ["sync.uuid_reused", "inspection.already_inspected"]
    assert _count(world, InspectionResult) == 2
    with world.session() as session:
        stored = session.execute(
            select(InspectionResult).where(InspectionResult.client_uuid == good["uuid"])
        ).scalar_one()
        assert (stored.persons_missed, stored.count_matches) == (1, False)
