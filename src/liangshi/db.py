"""Declarative base, naming convention, engine and session factories."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as UTC; SQLite's naive values come back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; liangshi stores timezone-aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """Engine for SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3; a pool of `pool_size` connections and up
    to `max_overflow` more at a peak)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Writers take the lock at BEGIN so a read-then-write transaction cannot deadlock with another.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)
    event.listen(engine, "connect", _no_jit)
    return engine


def _no_jit(dbapi_connection: Any, _record: Any) -> None:
    """PostgreSQL's JIT off for the application's sessions (issue 17): a page's statement over a city's register
    is estimated dear enough to be compiled (`jit_above_cost`), and compiling it took 0.5 s at 1M persons where
    running it took 0.1–0.2 s. Set on each new connection; docs/deploy.md sets it on the server too (behind
    PgBouncer's transaction pooling a session setting is not guaranteed to reach every server connection)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET jit = off")
    finally:
        cursor.close()
        dbapi_connection.autocommit = autocommit


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Session factory; sessions never expire on commit so returned objects stay readable."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The boundary's transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# ---- the reporting replica (issue 19) -------------------------------------------------------------------------


def _read_only_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Any INSERT, UPDATE, DELETE or DDL on this connection fails ("attempt to write a readonly database").
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_read_only_engine(
    url: str, *, echo: bool = False, pool_size: int = 5, max_overflow: int = 10
) -> Engine:
    """Engine whose every transaction is read-only: `SET TRANSACTION READ ONLY` at each BEGIN on PostgreSQL (per
    transaction, so it holds behind PgBouncer's transaction pooling too), `PRAGMA query_only` on SQLite."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _read_only_sqlite)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        # A deferred BEGIN: a reader never takes the write lock.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # A replica that is down must not hold a request for long: the primary answers instead.
        connect_args={"connect_timeout": 3},
    )
    event.listen(engine, "connect", _no_jit)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("SET TRANSACTION READ ONLY"))
    return engine


@dataclass(frozen=True)
class ReadSource:
    """Where a reporting read ran: the replica (with the time its data is as of, when known) or the primary
    (`fallback` says why, when a replica is configured: "down" or "lag")."""

    replica: bool
    as_of: dt.datetime | None = None
    fallback: str | None = None


PRIMARY = ReadSource(replica=False)

# PostgreSQL: the replayed state of a standby. Caught up (everything received is replayed) means as of now, not as
# of the last replayed transaction (an idle primary would otherwise look like a lagging replica). A database that
# is not in recovery (a copy, a logical subscriber) is as of now too.
_PG_AS_OF = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN now()
  WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN now()
  ELSE pg_last_xact_replay_timestamp()
END, now()
"""


def replica_as_of(session: Session) -> tuple[dt.datetime | None, float]:
    """The time the replica's data is as of (None when it cannot tell: SQLite) and its lag in seconds."""
    if session.get_bind().dialect.name != "postgresql":
        # Connects (a replica that cannot be opened fails here) and begins the read's snapshot.
        session.execute(text("SELECT count(*) FROM sqlite_master"))
        return None, 0.0
    as_of, now = session.execute(text(_PG_AS_OF)).one()
    if as_of is None:  # a standby that has replayed nothing yet
        return None, float("inf")
    return as_of, max(0.0, (now - as_of).total_seconds())


class Replica:
    """The read-only reporting database (`Settings.replica_url`): a session on it for a reporting read, or None
    when it is down or lags more than `max_lag_seconds` (the caller reads the primary then; said in the log).
    After a failure the replica is left alone for `retry_seconds` before it is tried again."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_lag_seconds: float,
        retry_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.sessions = make_session_factory(engine)
        self.max_lag_seconds = max_lag_seconds
        self.retry_seconds = retry_seconds
        self.monotonic = monotonic
        self._down_until = 0.0
        self._down_reason = "down"
        self._lock = threading.Lock()
        self.log = logging.getLogger("liangshi.replica")

    def _failed(self, reason: str, detail: str) -> str:
        with self._lock:
            self._down_until = self.monotonic() + self.retry_seconds
            self._down_reason = reason
        self.log.warning(
            "replica %s (%s): reading the primary for %.0f s", reason, detail, self.retry_seconds
        )
        return reason

    def open(self) -> tuple[Session | None, ReadSource]:
        """A read-only session on the replica and its source, or (None, why the primary must answer)."""
        if self.monotonic() < self._down_until:
            return None, ReadSource(replica=False, fallback=self._down_reason)
        session = self.sessions()
        try:
            as_of, lag = replica_as_of(session)
        except (
            Exception
        ) as exc:  # any failure to reach it: the primary answers (a report must not fail for it)
            session.close()
            return None, ReadSource(replica=False, fallback=self._failed("down", type(exc).__name__))
        if lag > self.max_lag_seconds:
            session.close()
            return None, ReadSource(replica=False, fallback=self._failed("lag", f"{lag:.0f} s behind"))
        return session, ReadSource(replica=True, as_of=as_of)


def make_replica(settings: Any) -> Replica | None:
    """The reporting replica of these settings (`replica_url`), or None when none is configured."""
    url: str | None = settings.replica_url
    if not url:
        return None
    engine = make_read_only_engine(
        url, echo=settings.sql_echo, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )
    return Replica(
        engine, max_lag_seconds=settings.replica_max_lag_seconds, retry_seconds=settings.replica_retry_seconds
    )


@contextmanager
def reporting(primary: Session, replica: Replica | None) -> Iterator[tuple[Session, ReadSource]]:
    """The session a reporting read runs on: the replica's (read-only, closed afterwards, never committed) when
    one is configured and fit, else the request's own session on the primary."""
    if replica is None:
        yield primary, PRIMARY
        return
    session, source = replica.open()
    if session is None:
        yield primary, source
        return
    try:
        yield session, source
    finally:
        session.rollback()
        session.close()
