"""What every `liangshi` command shares: the consoles, the error exit, the database session and `--as USER`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from sqlalchemy import inspect, select

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.clock import Clock, today_is
from liangshi.config import Settings
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.departments import service as departments
from liangshi.errors import Conflict, LiangshiError, NotFound
from liangshi.registry import Context

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from liangshi.access.rules import Actor

err = Console(stderr=True)
out = Console()


def fail(exc: LiangshiError) -> typer.Exit:
    """Print `code: message` (Chinese, then English) and exit 2."""
    err.print(f"[red]{exc.code}[/red]: {exc.message_zh} / {exc.message_en}")
    if exc.data:
        err.print(json.dumps(exc.data, ensure_ascii=False, default=str))
    return typer.Exit(2)


@contextmanager
def database() -> Iterator[tuple[Session, Clock]]:
    """A session on the configured database in one transaction."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("alembic_version"):
            # A newcomer's first command on a fresh database: say what to do instead of a SQL traceback.
            raise fail(
                Conflict(
                    "db.not_migrated",
                    "数据库尚未建表，请先运行 liangshi db upgrade（或 make demo）",
                    "The database has no schema yet: run liangshi db upgrade (or make demo) first",
                    {"database": _shown(settings.database_url)},
                )
            )
        clock = Clock()
        # The command is the unit of work: what it validates checks "not in the future" against its clock.
        with session_scope(make_session_factory(engine)) as session, today_is(clock.today()):
            yield session, clock
    finally:
        engine.dispose()


def _shown(url: str) -> str:
    """A database URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
        return f"{scheme}{sep}…@{rest}"
    return url


def actor_as(session: Session, username: str | None) -> Actor:
    """The actor of `--as USER`, or the system operator without one; an unknown user is `user.not_found` (exit 2
    through `fail`)."""
    if not username:
        return access.SYSTEM
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound("user.not_found", "用户不存在", "No such user", {"user": username})
    return access.actor_for(session, user)


def context_as(session: Session, clock: Clock, username: str | None, purpose: str | None = "cli") -> Context:
    """A use-case context for `--as USER` (the system operator without one)."""
    actor = actor_as(session, username)
    return Context(
        actor=actor,
        now=clock.now(),
        today=clock.today(),
        purpose=purpose,
        read_cut=departments.read_policy(actor),
    )
