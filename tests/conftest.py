"""Test fixtures: one database per run (SQLite file or a fresh PostgreSQL database), reset between tests.

Run on PostgreSQL with LIANGSHI_TEST_DB=postgresql (server URL in LIANGSHI_TEST_PG_URL). Under CI=true a
PostgreSQL run that cannot reach its server fails instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from liangshi import migrate
from liangshi.access import service as access
from liangshi.access.models import ApiToken, User
from liangshi.access.rules import Actor
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.areas.models import Area, AreaCode, AreaVersion
from liangshi.areas.schemas import AreaCreate
from liangshi.clock import CHINA_TZ, Clock, fixed, today_is
from liangshi.common.codes import ezhou_areas
from liangshi.config import Settings
from liangshi.db import Base, make_engine, make_session_factory, session_scope
from liangshi.departments import service as departments
from liangshi.http.app import create_app
from liangshi.kpis.models import KpiDaily, KpiDelta
from liangshi.registry import Context

# The personas log in with a password only: two-factor login is switched on by the tests of it
# (tests/access/test_totp.py), which build their app with totp_roles set. Every other Settings() reads this.
os.environ.setdefault("LIANGSHI_TOTP_ROLES", "")
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=CHINA_TZ)
PASSWORD = "Test-password-1"

# Areas the tests add below Ezhou's gazetteer, and one outside Ezhou (outside every persona's jurisdiction).
EXTRA_AREAS = (
    ("420704001001", "滨湖社区", "community", "420704001"),
    ("420704001002", "南浦社区", "community", "420704001"),
    ("420704002001", "洋澜社区", "community", "420704002"),
    ("420703100001", "华容社区", "community", "420703100"),
    ("420100", "武汉市", "city", "420000"),
    ("420102", "江岸区", "district", "420100"),
    ("420102001", "大智街道", "subdistrict", "420102"),
    ("420102001001", "大智社区", "community", "420102001"),
)
# Named personas: username -> (role, jurisdiction area code, department).
PERSONAS: dict[str, tuple[str, str, str | None]] = {
    "collector_zhang": ("collector", "420704001001", None),
    "police_liu": ("community_police", "420704001001", None),
    "station_admin_li": ("station_admin", "420704001", None),
    "district_admin_chen": ("district_admin", "420704", None),
    "city_admin_wang": ("city_admin", "420700", None),
    "health_liaison_wang": ("department_liaison", "420704", "health"),
    "inspector_zhao": ("inspector", "420704", None),
    "auditor_sun": ("auditor", "420700", None),
    "collector_zhou": ("collector", "420704001002", None),
    "housing_officer_he": ("housing_officer", "420704", None),
}
INSIDE = "420704001001"  # inside every persona's jurisdiction (but collector_zhou's)
OUTSIDE = "420102001001"  # inside nobody's


def _pg_server_url() -> str:
    return os.environ.get("LIANGSHI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _create_pg_database() -> tuple[str, Any]:
    import psycopg

    server = _pg_server_url()
    name = f"liangshi_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = psycopg.connect(server, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.exit(f"PostgreSQL is required under CI=true but unreachable: {exc}", returncode=3)
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()

    url = make_url(server).set(database=name, drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False), drop


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The server's data folder (the audit signing key is made there on first use), never the working folder."""
    path = tmp_path_factory.mktemp("data")
    before = os.environ.get("LIANGSHI_DATA_DIR")
    os.environ["LIANGSHI_DATA_DIR"] = str(path)
    yield path
    if before is None:
        os.environ.pop("LIANGSHI_DATA_DIR", None)
    else:
        os.environ["LIANGSHI_DATA_DIR"] = before


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test database URL (SQLite file or a fresh PostgreSQL database)."""
    kind = os.environ.get("LIANGSHI_TEST_DB", "sqlite")
    if kind == "postgresql":
        url, drop = _create_pg_database()
        yield url
        drop()
    else:
        path: Path = tmp_path_factory.mktemp("db") / "test.db"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """Engine with the schema made by the migrations (not by create_all)."""
    # Cheap password hashing in tests; production keeps argon2's defaults.
    access._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Session factory."""
    return make_session_factory(engine)


@pytest.fixture
def clock() -> Clock:
    """A fixed clock: 2026-11-27 10:00 in China."""
    return fixed(NOW)


@pytest.fixture(autouse=True)
def unit_today(request: pytest.FixtureRequest) -> Iterator[dt.date | None]:
    """The test is the entry point: schemas a test builds itself check "not in the future" against the fixed
    clock's today, as an HTTP request, web page, CLI command or import job binds its clock's today.
    A test marked `no_unit_today` runs with none bound, to show the code under test brings its own."""
    if request.node.get_closest_marker("no_unit_today"):
        yield None
        return
    with today_is(fixed(NOW).today()) as day:
        yield day


@dataclass
class World:
    """The base world every test starts from: Ezhou's areas, test communities, personas."""

    sessions: sessionmaker[Session]
    clock: Clock
    areas: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    def area(self, code: str) -> int:
        """Area id by code."""
        return self.areas[code]

    def actor(self, session: Session, username: str) -> Actor:
        """The actor of a persona."""
        user = session.get(User, self.users[username])
        assert user is not None
        return access.actor_for(session, user)

    def ctx(self, session: Session, username: str | None = None, *, purpose: str | None = None) -> Context:
        """A use-case context for a persona (or the system)."""
        actor = SYSTEM if username is None else self.actor(session, username)
        return Context(
            actor=actor,
            now=self.clock.now(),
            today=self.clock.today(),
            purpose=purpose,
            read_cut=departments.read_policy(actor),
        )

    def session(self) -> Any:
        """A committed transaction."""
        return session_scope(self.sessions)


_BASELINE: dict[str, Any] = {}
KEPT = {"areas", "area_versions", "area_codes", "area_epoch", "users", "api_tokens"}


def _reset(session: Session) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in KEPT:
            session.execute(delete(table))
    session.execute(delete(ApiToken))
    session.execute(
        update(User)
        .values(
            failed_logins=0,
            locked_until=None,
            active=True,
            totp_secret=None,
            totp_pending_secret=None,
            totp_enabled_at=None,
            totp_last_step=None,
            # A test that changes a persona's password (the password policy's) leaves no trace for the next.
            password_hash=_BASELINE["password_hash"],
            password_changed_at=None,
        )
        # Sealed columns (the TOTP secrets) cannot be compared in Python's evaluation of the update.
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(AreaCode).where(AreaCode.id > _BASELINE["area_code"]))
    session.execute(delete(AreaVersion).where(AreaVersion.row_id > _BASELINE["area_version"]))
    session.execute(update(AreaVersion).values(superseded_at=None))
    session.execute(update(Area).values(version=1))
    for (area_id,) in session.execute(
        select(Area.id).where(Area.id > _BASELINE["area"]).order_by(Area.id.desc())
    ).all():
        session.execute(delete(Area).where(Area.id == area_id))
    # A re-coded or renamed base area (a civil-affairs feed's) gets its code and its open name back.
    session.execute(update(AreaCode).values(valid_to=None))
    session.execute(update(AreaVersion).values(valid_to=None))
    for area_id, code in session.execute(
        select(Area.id, AreaCode.code)
        .join(AreaCode, AreaCode.area_id == Area.id)
        .where(AreaCode.code != Area.code)
    ).all():
        session.execute(update(Area).where(Area.id == area_id).values(code=code))
    # Users last: the rows above may name a test's own user as their recorder.
    session.execute(delete(User).where(User.id > _BASELINE["user"]))
    # Deleting residences and stays above made their triggers append negated counts: start the aggregate empty.
    session.execute(delete(KpiDelta))
    session.execute(delete(KpiDaily))


def _build_base(world: World) -> None:
    with world.session() as session:
        ctx = world.ctx(session)
        areas.load_gazetteer(session, ctx, ezhou_areas())
        for code, name, level, parent in EXTRA_AREAS:
            areas.create_area(
                session,
                ctx,
                AreaCreate(code=code, name=name, level=level, parent_code=parent),  # type: ignore[arg-type]
            )
        for username, (role, area_code, dept) in PERSONAS.items():
            access.create_user(
                session,
                username=username,
                display_name=username,
                password=PASSWORD,
                role=role,
                area_code=area_code,
                department=dept,
                actor=SYSTEM,
                now=world.clock.now(),
            )
        _BASELINE["area"] = session.execute(select(Area.id).order_by(Area.id.desc()).limit(1)).scalar_one()
        _BASELINE["area_code"] = session.execute(
            select(AreaCode.id).order_by(AreaCode.id.desc()).limit(1)
        ).scalar_one()
        _BASELINE["area_version"] = session.execute(
            select(AreaVersion.row_id).order_by(AreaVersion.row_id.desc()).limit(1)
        ).scalar_one()
        _BASELINE["user"] = session.execute(select(User.id).order_by(User.id.desc()).limit(1)).scalar_one()
        _BASELINE["password_hash"] = session.execute(select(User.password_hash).limit(1)).scalar_one()


@pytest.fixture
def world(sessions: sessionmaker[Session], clock: Clock) -> World:
    """A clean registry on the base world (areas and personas kept from the first build)."""
    w = World(sessions, clock)
    if not _BASELINE:
        _build_base(w)
    else:
        with w.session() as session:
            _reset(session)
            session.execute(text("SELECT 1"))
    with w.session() as session:
        w.areas = {code: i for code, i in session.execute(select(Area.code, Area.id))}
        w.users = {name: i for name, i in session.execute(select(User.username, User.id))}
    return w


@pytest.fixture
def app(world: World, engine: Engine, clock: Clock) -> Any:
    """The application on the test database with the fixed clock."""
    return create_app(Settings(database_url="sqlite://"), clock=clock, engine=engine)


@pytest.fixture
def client(app: Any) -> TestClient:
    """An HTTP client."""
    return TestClient(app)


@pytest.fixture
def login(client: TestClient) -> Any:
    """login(username) -> Authorization headers for that persona."""
    cache: dict[str, dict[str, str]] = {}

    def do(username: str) -> dict[str, str]:
        if username not in cache:
            r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            cache[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return cache[username]

    return do
