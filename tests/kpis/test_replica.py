"""Reading the reports from a replica (issue 19): the dashboard, the KPI API and the statistical tables (web, API,
CLI) count on the read-only replica when LIANGSHI_REPLICA_URL is set; login, jurisdiction and audit stay on the
primary; a write on the replica fails; a replica that is down or lags too much is passed over for the primary.

The "replica" is a copy of the test database taken after the KPI world is built (SQLite: the backup API;
PostgreSQL: a second database made from it as a template); the primary's registry is then emptied, so what the
reports show can only have come from the copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from liangshi import db as db_module
from liangshi.access.models import ApiToken
from liangshi.audit.models import AuditEntry
from liangshi.cli.main import app as cli
from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.db import make_read_only_engine, make_replica, make_session_factory
from liangshi.http.app import create_app
from liangshi.residence.models import Residence
from tests.conftest import PASSWORD, World, _reset
from tests.kpis.helpers import EXPECTED, FROM, TO, A, build
from tests.web.conftest import form_login

PERIOD = {"from": FROM.isoformat(), "to": TO.isoformat()}


def _copy(engine: Engine, db_url: str) -> Iterator[str]:
    """A copy of the test database as it is now, as a URL; dropped afterwards."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        target = url.database.removesuffix(".db") + f"-replica-{uuid.uuid4().hex[:6]}.db"
        source = sqlite3.connect(url.database)
        copy = sqlite3.connect(target)
        source.backup(copy)
        copy.close()
        source.close()
        yield f"sqlite:///{target}"
        return
    import psycopg

    name = f"{url.database}_replica"
    engine.dispose()  # a template database must have no other connection
    server = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        )
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def replica_url(world: World, engine: Engine, db_url: str) -> Iterator[str]:
    """The KPI world on the replica only: built, copied, then emptied on the primary (personas kept)."""
    build(world)
    yield from _copy(engine, db_url)


@pytest.fixture
def primary_emptied(replica_url: str, world: World) -> str:
    """The replica's URL once the primary's registry is empty again."""
    with world.session() as session:
        _reset(session)
    return replica_url


def _app(engine: Engine, clock: Clock, replica: str | None, **settings: Any) -> Any:
    return create_app(
        Settings(database_url="sqlite://", replica_url=replica, **settings), clock=clock, engine=engine
    )


def _token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _kpis_of(body: dict[str, Any], code: str) -> dict[str, tuple[int, int]]:
    child = next(c for c in body["children"] if c["area"]["code"] == code)
    return {k["key"]: (k["numerator"], k["denominator"]) for k in child["kpis"]}


def _count(url: str, table: Any) -> int:
    engine = make_read_only_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_the_kpis_are_counted_on_the_replica_while_login_and_audit_stay_on_the_primary(
    world: World, engine: Engine, clock: Clock, primary_emptied: str
) -> None:
    replica_audit = _count(primary_emptied, AuditEntry)
    client = TestClient(_app(engine, clock, primary_emptied, kpi_cache_seconds=0))
    headers = _token(client, "station_admin_li")
    r = client.get("/kpis", params={"area": "420704001", **PERIOD}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["read_from"] == "replica"
    counted = _kpis_of(body, A)
    for key in ("plate_installation", "rental_registration", "floating_timeliness", "venue_realtime"):
        assert counted[key] == EXPECTED[A][key], key
    # The login token and its audit entry were written on the primary; the replica got nothing.
    with world.session() as session:
        assert session.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(Residence)).scalar_one() == 0
    assert _count(primary_emptied, ApiToken) == 0
    assert _count(primary_emptied, AuditEntry) == replica_audit
    # Without the setting the same request reads the primary, which holds none of those facts.
    plain = TestClient(_app(engine, clock, None, kpi_cache_seconds=0))
    body = plain.get(
        "/kpis", params={"area": "420704001", **PERIOD}, headers=_token(plain, "station_admin_li")
    )
    assert body.json()["read_from"] == "primary" and body.json()["as_of"] is None
    assert _kpis_of(body.json(), A)["plate_installation"] == (0, 0)


def test_the_replica_answers_within_the_primary_jurisdiction_only(
    engine: Engine, clock: Clock, primary_emptied: str
) -> None:
    client = TestClient(_app(engine, clock, primary_emptied))
    headers = _token(client, "police_liu")  # a community officer of A: the subdistrict is beyond them
    r = client.get("/kpis", params={"area": "420704001", **PERIOD}, headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "area.not_found"
    r = client.get("/tables/population", params={"area": "420704001"}, headers=headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "area.not_found"


def test_the_dashboard_and_the_tables_pages_say_they_were_read_from_the_replica(
    engine: Engine, clock: Clock, primary_emptied: str
) -> None:
    client = TestClient(_app(engine, clock, primary_emptied, kpi_cache_seconds=0), follow_redirects=False)
    assert form_login(client, "station_admin_li").status_code == 303
    page = client.get("/web/dashboard", params={"area": "420704001", **PERIOD})
    assert page.status_code == 200, page.text
    assert 'data-source="replica"' in page.text and "读自只读副本" in page.text
    table = client.get("/web/tables", params={"name": "housing", "area": "420704001"})
    assert table.status_code == 200
    assert 'data-source="replica"' in table.text


def test_the_statistical_tables_read_the_replica_over_the_api_and_the_command_line(
    world: World, engine: Engine, clock: Clock, db_url: str, replica_url: str
) -> None:
    plain = TestClient(_app(engine, clock, None))
    before = plain.get(
        "/tables/housing", params={"area": "420704001"}, headers=_token(plain, "station_admin_li")
    )
    assert before.status_code == 200 and before.json()["read_from"] == "primary"
    with world.session() as session:
        _reset(session)
    client = TestClient(_app(engine, clock, replica_url))
    after = client.get(
        "/tables/housing", params={"area": "420704001"}, headers=_token(client, "station_admin_li")
    )
    assert after.status_code == 200 and after.json()["read_from"] == "replica"
    assert after.json()["totals"] == before.json()["totals"]
    assert any(after.json()["totals"]["values"])
    env = {"LIANGSHI_DATABASE_URL": db_url, "LIANGSHI_REPLICA_URL": replica_url}
    result = CliRunner().invoke(cli, ["tables", "housing", "--area", "420704001", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "read from the replica" in result.output
    primary_only = CliRunner().invoke(
        cli, ["tables", "housing", "--area", "420704001", "--json"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert primary_only.exit_code == 0 and "replica" not in primary_only.output


def test_a_write_on_the_replica_fails_and_leaves_it_unchanged(replica_url: str, clock: Clock) -> None:
    replica = make_replica(Settings(replica_url=replica_url))
    assert replica is not None
    try:
        session, source = replica.open()
        assert session is not None and source.replica
        before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        with pytest.raises(DBAPIError):
            session.execute(
                insert(AuditEntry).values(
                    seq=10**9,
                    at=clock.now(),
                    actor_name="intruder",
                    action="x",
                    detail="{}",
                    leaf_hash="0" * 64,
                )
            )
        session.rollback()
        with pytest.raises(DBAPIError):
            session.execute(text("CREATE TABLE written_on_replica (x INTEGER)"))
        session.rollback()
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before
        session.close()
    finally:
        replica.engine.dispose()


def test_a_replica_that_is_down_is_passed_over_for_the_primary_and_said_in_the_log(
    world: World, engine: Engine, clock: Clock, db_url: str, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    build(world)
    down = (
        f"sqlite:///{tmp_path}/no-such-folder/replica.db"
        if db_url.startswith("sqlite")
        else make_url(db_url).set(port=1).render_as_string(hide_password=False)
    )
    client = TestClient(_app(engine, clock, down, kpi_cache_seconds=0))
    headers = _token(client, "station_admin_li")
    with caplog.at_level(logging.WARNING, logger="liangshi.replica"):
        r = client.get("/kpis", params={"area": "420704001", **PERIOD}, headers=headers)
    assert r.status_code == 200 and r.json()["read_from"] == "primary"
    assert _kpis_of(r.json(), A)["plate_installation"] == EXPECTED[A]["plate_installation"]
    assert any("replica down" in m and "reading the primary" in m for m in caplog.messages)


def test_a_replica_lagging_beyond_the_limit_is_passed_over_and_tried_again_later(
    engine: Engine, clock: Clock, primary_emptied: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    behind = {"seconds": 900.0}

    def lagging(_session: Any) -> tuple[dt.datetime, float]:
        return clock.now() - dt.timedelta(seconds=behind["seconds"]), behind["seconds"]

    monkeypatch.setattr(db_module, "replica_as_of", lagging)
    app = _app(engine, clock, primary_emptied, kpi_cache_seconds=0, replica_max_lag_seconds=600)
    moments = iter([0.0, 0.0, 10.0, 100.0, 100.0])
    app.state.replica.monotonic = lambda: next(moments)
    client = TestClient(app, follow_redirects=False)
    headers = _token(client, "station_admin_li")
    lagged = client.get("/kpis", params={"area": "420704001", **PERIOD}, headers=headers).json()
    assert lagged["read_from"] == "primary"
    assert _kpis_of(lagged, A)["plate_installation"] == (0, 0)
    behind["seconds"] = 60.0
    # Within the retry pause the primary still answers; after it the replica (60 s behind, within the limit).
    assert client.get("/kpis", params={"area": "420704001", **PERIOD}, headers=headers).json()[
        "read_from"
    ] == ("primary")
    fresh = client.get("/kpis", params={"area": "420704001", **PERIOD}, headers=headers).json()
    assert fresh["read_from"] == "replica"
    assert dt.datetime.fromisoformat(fresh["as_of"]) == clock.now() - dt.timedelta(seconds=60)
    assert _kpis_of(fresh, A)["plate_installation"] == EXPECTED[A]["plate_installation"]
