"""Page modules: each defines `router = web_router()` and is listed in liangshi.web.app.PAGE_MODULES."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends

from liangshi import registry
from liangshi.clock import CHINA_TZ
from liangshi.db import ReadSource
from liangshi.errors import NotFound, ValidationFailed
from liangshi.web.session import csrf_protect


def web_router() -> APIRouter:
    """A router for pages under /web: hidden from the OpenAPI document, every POST CSRF-checked."""
    return APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_protect)])


def as_of(value: str | None) -> dt.date | None:
    """A page's "as of" date from `?on=YYYY-MM-DD` (empty: today, None); a malformed one is `date.invalid`."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "date.invalid", f"日期“{value}”无效", f"Invalid date {value!r}", {"field": "on", "input": value}
        ) from None


def read_as_of(p: Any, kind: Any, entity_id: int, on: dt.date | None) -> tuple[Any, bool]:
    """The object as on the date, or its current state when it has no version that day (recorded later than
    the world it describes): (snapshot, whether the date was before its first version)."""
    if on is None:
        return registry.read(p.session, p.ctx, kind, entity_id), False
    try:
        return registry.read(p.session, p.ctx, kind, entity_id, on=on), False
    except NotFound as exc:
        if exc.code != "version.none_at_date":
            raise
        return registry.read(p.session, p.ctx, kind, entity_id), True


def read_source(source: ReadSource) -> dict[str, Any]:
    """What `_read_source.html` says of where a report was read: the replica and the time its data is as of
    (China time), or that the replica was passed over for the primary."""
    as_of = source.as_of.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S") if source.as_of else None
    return {"replica": source.replica, "as_of": as_of, "fallback": source.fallback}
