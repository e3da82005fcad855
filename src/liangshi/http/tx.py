"""The HTTP boundary's unit of work: authenticate, build the context, commit or roll back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote

from fastapi import Request
from sqlalchemy.orm import Session

from liangshi.access import service as access
from liangshi.clock import Clock, today_is
from liangshi.db import ReadSource, session_scope
from liangshi.db import reporting as reporting_on
from liangshi.departments import service as departments
from liangshi.errors import Forbidden, Unauthenticated
from liangshi.registry import Context

MAX_PURPOSE = 200


def bearer(request: Request) -> str:
    """The bearer token of a request, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("auth.required", "请先登录", "Please log in")
    return token.strip()


def idle_of(request: Request) -> dt.timedelta | None:
    """The idle timeout of sessions (Settings.session_idle_minutes; None when off)."""
    minutes: int = request.app.state.settings.session_idle_minutes
    return dt.timedelta(minutes=minutes) if minutes else None


def change_set_required(kind: str) -> Forbidden:
    """The 403 of a live write a role makes only through change sets (`access.rules.PROPOSE_ONLY`)."""
    return Forbidden(
        "changeset.required",
        "采集员采集的信息须经审核后生效：请通过采集同步（POST /sync）或采集页面提交，由派出所审核",
        "What a collector collects counts only once reviewed: send it through the collection sync (POST /sync)"
        " or the collect pages, for the station's review",
        {"kind": kind, "route": "POST /sync", "desk": "GET /change-sets/outbox"},
    )


@contextmanager
def unit(request: Request, *, writes: str | None = None) -> Iterator[tuple[Session, Context]]:
    """One transaction for one request, acting as the token's user; any error rolls everything back. `writes`:
    the kind whose live facts the route writes directly (a role that only proposes them is refused first)."""
    clock: Clock = request.app.state.clock
    with session_scope(request.app.state.sessions) as session:
        now = clock.now()
        actor = access.actor_from_token(session, bearer(request), now=now, idle=idle_of(request))
        if writes is not None and actor.proposes_only(writes):
            raise change_set_required(writes)
        # Header values are Latin-1 on the wire: a Chinese purpose arrives percent-encoded (UTF-8).
        purpose = unquote(request.headers.get("x-purpose") or "").strip()[:MAX_PURPOSE] or None
        policy = departments.read_policy(actor)
        ctx = Context(actor=actor, now=now, today=clock.today(), purpose=purpose, read_cut=policy)
        # What the use case validates inside this unit checks "not in the future" against ctx.today.
        with today_is(ctx.today):
            yield session, ctx


@contextmanager
def anonymous(request: Request) -> Iterator[Session]:
    """A transaction without an actor (login)."""
    with session_scope(request.app.state.sessions) as session:
        yield session


@contextmanager
def reporting(request: Request, primary: Session) -> Iterator[tuple[Session, ReadSource]]:
    """The session a reporting read (KPIs, statistical tables, progress) counts on: the app's read-only replica
    when one is configured and fit, else `primary` (the request's unit, which authenticated and audits)."""
    with reporting_on(primary, request.app.state.replica) as reads:
        yield reads
