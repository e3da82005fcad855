"""A department batch writes its values through the registry's one write path (`registry.change_many`, issue 12
item 2): the batch writer (the liaison under the agreement, with the registry's write permissions) passes the
permission check there, and a writer that may not write persons is refused as a whole, with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi import registry
from liangshi.access import rules as access_rules
from liangshi.db import Base
from liangshi.persons import service as persons
from liangshi.registry import Context, history
from tests.conftest import World
from tests.departments.helpers import csv_bytes, department, person

PHONE = "13812345678"


def _counts(world: World) -> dict[str, int]:
    with world.session() as s:
        return {
            t.name: int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables
        }


def _upload(client: TestClient, headers: dict[str, str], content: bytes) -> Any:
    return client.post(
        "/departments/health/batches",
        files={"file": ("health.csv", content, "text/csv")},
        data={"kind": "persons"},
        headers=headers,
    )


def test_a_liaisons_batch_writes_its_values_through_registry_change_many(
    world: World, client: TestClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    department(world)
    pid, number = person(world)
    calls: list[tuple[str, str, int | None, list[int]]] = []
    real = registry.change_many

    def spy(session: Any, ctx: Context, kind: Any, items: Any, **kwargs: Any) -> dict[int, int]:
        calls.append((kind.name, ctx.actor.role, ctx.actor.user_id, [i.entity_id for i in items]))
        return real(session, ctx, kind, items, **kwargs)

    monkeypatch.setattr(registry, "change_many", spy)
    r = _upload(client, login("health_liaison_wang"), csv_bytes([["证件号码", "联系电话"], [number, PHONE]]))
    assert r.status_code == 201, r.text
    with world.session() as s:
        liaison = world.actor(s, "health_liaison_wang")
        assert history.open_row(s, persons.PERSON, pid).phone == "+86" + PHONE
    # Written under the liaison's own name with the registry's write permissions (the agreement authorises it).
    assert calls == [("person", "city_admin", liaison.user_id, [pid])]


def test_a_batch_whose_writer_may_not_write_persons_is_refused_as_a_whole(
    world: World, client: TestClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    department(world)
    pid, number = person(world)
    headers = login("health_liaison_wang")
    before = _counts(world)
    monkeypatch.setitem(
        access_rules.PERMISSIONS, "city_admin", access_rules.PERMISSIONS["city_admin"] - {"person.write"}
    )
    r = _upload(client, headers, csv_bytes([["证件号码", "联系电话"], [number, PHONE]]))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "access.forbidden"
    assert r.json()["error"]["data"]["action"] == "person.write"
    assert _counts(world) == before  # no batch record, no log entry, no audit entry, no value
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, pid).phone != "+86" + PHONE
