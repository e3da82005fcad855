"""A department's batch over the body-size limit (issue 15): refused with 413 before any route reads it, and kept
as a refused batch of the sender's department (department, kind, size, the reason; nothing of the body), listed
by `GET /departments/{code}/batches?status=refused` and on /web/batches. Who sends what is read from the body's
first bytes only; a request that names no sender, or a sender who may not send for that department, leaves
nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import Message

from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.departments.models import DepartmentBatch
from liangshi.http import oversized
from liangshi.http.app import create_app
from tests.conftest import PASSWORD, World
from tests.departments.helpers import department, refused_batches
from tests.web.conftest import csrf_of, form_login

LIMIT = 20_000
PROVIDES = {"person": ["name", "phone"]}


def _client(engine: object, clock: Clock) -> TestClient:
    app = create_app(Settings(database_url="sqlite://", max_body_bytes=LIMIT), clock=clock, engine=engine)  # type: ignore[arg-type]
    return TestClient(app, follow_redirects=False)


def _bearer(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _reports(world: World) -> list[dict[str, Any]]:
    with world.session() as s:
        rows = s.execute(
            select(DepartmentBatch.report, DepartmentBatch.file_name, DepartmentBatch.content_sha256)
            .where(DepartmentBatch.status == "refused")
            .order_by(DepartmentBatch.id)
        ).all()
    return [json.loads(r) | {"file_name": f, "sha256": h} for r, f, h in rows]


def test_an_oversized_api_batch_is_kept_as_refused_with_its_kind_and_size_and_nothing_of_it(
    world: World, engine: object, clock: Clock
) -> None:
    department(world, provides=PROVIDES)
    client = _client(engine, clock)
    h = _bearer(client, "health_liaison_wang")
    body = b"\xe8\xaf\x81\xe4\xbb\xb6\xe5\x8f\xb7\xe7\xa0\x81\n" + b"4" * 30_000
    r = client.post(
        "/departments/health/batches",
        data={"kind": "dwellings"},
        files={"file": ("大文件.csv", body)},
        headers=h,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "request.too_large"
    # A JSON body names its kind in its first bytes; the query may name it too.
    big = json.dumps({"kind": "births", "records": [{"name": "x" * 100}] * 300}).encode()
    assert client.post("/departments/health/batches", content=big, headers=h).status_code == 413
    assert client.post("/departments/health/batches?kind=persons", content=big, headers=h).status_code == 413
    assert refused_batches(world) == [
        ("health", "dwellings", "request.too_large"),
        ("health", "births", "request.too_large"),
        ("health", "persons", "request.too_large"),
    ]
    first = _reports(world)[0]
    assert first["status"] == 413 and first["limit_bytes"] == LIMIT and first["size_bytes"] > LIMIT
    assert first["file_name"] == "大文件.csv" and first["sha256"] == ""
    assert first["rows"] == 0 and first["errors"] == []
    assert "4444" not in json.dumps(first)  # nothing of the body
    assert f"{first['size_bytes']:,} 字节" in first["message_zh"]
    listed = client.get("/departments/health/batches?status=refused", headers=h).json()
    assert [(b["kind"], b["report"]["code"]) for b in listed] == [
        ("persons", "request.too_large"),
        ("births", "request.too_large"),
        ("dwellings", "request.too_large"),
    ]


def test_a_streamed_body_is_read_up_to_the_limit_only_and_kept_as_refused(
    world: World, engine: object, clock: Clock
) -> None:
    department(world, provides=PROVIDES)
    client = _client(engine, clock)
    token = _bearer(client, "health_liaison_wang")["Authorization"].encode()
    pulled: list[int] = []
    sent: list[Message] = []

    async def receive() -> Message:
        pulled.append(1)
        return {"type": "http.request", "body": b"y" * 4_000, "more_body": len(pulled) < 100}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/departments/health/batches",
        "raw_path": b"/departments/health/batches",
        "root_path": "",
        "query_string": b"kind=persons",
        "headers": [(b"host", b"testserver"), (b"authorization", token), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413
    # A chunked body (no declared length) is read to the chunk that crosses the limit, never further.
    assert len(pulled) == LIMIT // 4_000 + 1
    [report] = _reports(world)
    assert report["size_bytes"] == len(pulled) * 4_000 and report["limit_bytes"] == LIMIT


def test_no_sender_or_a_sender_of_another_department_leaves_nothing(
    world: World, engine: object, clock: Clock
) -> None:
    department(world, provides=PROVIDES)
    department(world, "justice", provides=PROVIDES)
    client = _client(engine, clock)
    big = b"z" * 30_000
    assert client.post("/departments/health/batches", content=big).status_code == 413
    h = _bearer(client, "health_liaison_wang")
    assert client.post("/departments/justice/batches", content=big, headers=h).status_code == 413
    assert client.post("/departments/nosuch/batches", content=big, headers=h).status_code == 413
    # Not a batch route: refused as before, nothing kept.
    assert client.post("/persons", content=big, headers=h).status_code == 413
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(DepartmentBatch)).scalar_one() == 0


def test_an_oversized_web_upload_is_kept_as_refused_and_listed_on_the_batches_page(
    world: World, engine: object, clock: Clock
) -> None:
    department(world, provides=PROVIDES)
    liaison = _client(engine, clock)
    assert form_login(liaison, "health_liaison_wang").status_code == 303
    form = liaison.get("/web/batches")
    token = csrf_of(form.text)
    data = {"csrf_token": token, "department": "health", "kind": "births"}
    r = liaison.post("/web/batches", data=data, files={"file": ("出生.csv", b"x" * 30_000)})
    assert r.status_code == 413 and 'data-code="request.too_large"' in r.text
    # Without the form's token (a forged form), nothing is kept.
    forged = data | {"csrf_token": "0" * 64}
    assert (
        liaison.post("/web/batches", data=forged, files={"file": ("a.csv", b"x" * 30_000)}).status_code == 413
    )
    assert refused_batches(world) == [("health", "births", "request.too_large")]
    recent = liaison.get("/web/batches").text.split('data-testid="recent-batches"', 1)[1]
    assert recent.count('data-batch-status="refused"') == 1 and "request.too_large" in recent
    assert "出生.csv" in recent


def test_the_head_of_a_body_names_department_kind_and_file() -> None:
    head = (
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\nabc\r\n'
        b'--b\r\nContent-Disposition: form-data; name="department"\r\n\r\nhealth\r\n'
        b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nbirths\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n1,2'
    )
    seen = oversized.read_head({"path": "/web/batches", "query_string": b""}, head)
    assert seen == oversized.Oversized("health", "births", "a.csv", "abc")
    api = oversized.read_head(
        {"path": "/departments/justice/batches", "query_string": b"kind=corrections"}, b""
    )
    assert (api.department, api.kind, api.file_name) == ("justice", "corrections", "upload")
