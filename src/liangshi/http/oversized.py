"""A department batch over the body-size limit, kept as a refused batch (issue 15).

`BodyLimit` refuses an oversized body with 413 before any route runs, so the feed endpoints' own record of a
refused batch (`departments.record_refused`) never saw it. For the two routes that take a department's batch
(`POST /departments/{code}/batches`, `POST /web/batches`) the refusal is recorded here: the department, the kind,
the size and the reason, nothing of the body. What names them is read from the start of the body only (at most
`HEAD_BYTES`, far below the limit): the web form's security token, department and kind come before its file, an
API client may name the kind in the query (`?kind=`) or in its multipart or JSON body's first bytes. The sender
is the one the request authenticates (the bearer token; for the web, the session cookie and its form token); a
request that names no sender, or one the refusal's record does not accept (`record_refused`: not the
department's liaison, no such department), leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

from liangshi.access import service as access
from liangshi.clock import Clock
from liangshi.db import session_scope
from liangshi.departments import service as departments
from liangshi.errors import LiangshiError, Unauthenticated
from liangshi.registry import Context
from liangshi.web import session as web_session

# How much of an oversized body is read to find who sends what: the form's first fields, never the file.
HEAD_BYTES = 16_384
_API = re.compile(r"^/departments/([A-Za-z0-9_-]{1,30})/batches/?$")
_WEB = "/web/batches"
_FIELD = re.compile(rb'name="(csrf_token|department|kind)"\r?\n(?:[^\r\n]*\r?\n)*?\r?\n([^\r\n]{0,100})\r?\n')
_FILENAME = re.compile(rb'name="file"; filename="([^"\r\n]{1,300})"')
_JSON_KIND = re.compile(rb'"kind"\s*:\s*"([a-z_]{1,20})"')


def is_feed(scope: Mapping[str, Any]) -> bool:
    """Whether the request sends a department's batch (the routes whose oversized bodies are recorded)."""
    path = str(scope.get("path") or "")
    return scope.get("method") == "POST" and (path == _WEB or _API.match(path) is not None)


@dataclass(frozen=True)
class Oversized:
    """What an oversized batch request names: its department and kind as far as the body's head tells."""

    department: str | None
    kind: str
    file_name: str
    csrf: str | None


def read_head(scope: Mapping[str, Any], head: bytes) -> Oversized:
    """The department, kind, file name and form token of an oversized batch request, from its path, query and
    the first bytes of its body."""
    fields = {
        m.group(1).decode(): m.group(2).decode("utf-8", "replace").strip() for m in _FIELD.finditer(head)
    }
    query = parse_qs(bytes(scope.get("query_string") or b"").decode("latin-1"))
    match = _API.match(str(scope.get("path") or ""))
    department = match.group(1) if match else (fields.get("department") or None)
    json_kind = _JSON_KIND.search(head)
    kind = (
        (query.get("kind") or [""])[0]
        or fields.get("kind")
        or (json_kind.group(1).decode() if json_kind else "")
        or "persons"  # what the routes take when no kind is named
    )
    name = _FILENAME.search(head)
    file_name = name.group(1).decode("utf-8", "replace") if name else "upload"
    return Oversized(department, kind[:20], file_name, fields.get("csrf_token"))


def too_large(limit: int, size: int | None) -> LiangshiError:
    """The refusal as the batch's report keeps it."""
    mb = f"{limit / 1_000_000:g}"
    zh = f"{size:,} 字节，" if size else "超过上限，"
    en = f"{size:,} bytes; " if size else ""
    return LiangshiError(
        "request.too_large",
        f"上传内容过大（{zh}上限 {mb} MB），未保存任何内容",
        f"The upload is too large ({en}at most {mb} MB); nothing was stored",
        {"limit_bytes": limit, "size_bytes": size},
        http_status=413,
    )


def record(request: Request, head: bytes, limit: int, size: int | None) -> int | None:
    """Keep the oversized batch as a refused batch of its sender's department (see the module); returns its id,
    or None when nothing was kept."""
    seen = read_head(request.scope, head)
    web = request.url.path == _WEB
    token = request.cookies.get(web_session.SESSION_COOKIE) if web else None
    if web and (not token or seen.csrf != web_session.csrf_for(token)):
        return None  # a web form without its session's token is no one's batch
    if not web:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else None
    if not token:
        return None
    clock: Clock = request.app.state.clock
    minutes = request.app.state.settings.session_idle_minutes
    try:
        with session_scope(request.app.state.sessions) as session:
            now = clock.now()
            idle = dt.timedelta(minutes=minutes) if minutes else None
            actor = access.actor_from_token(session, token, now=now, idle=idle)
            ctx = Context(actor=actor, now=now, today=clock.today(), purpose="department batch")
            department = seen.department or actor.department
            if not department:
                return None
            return departments.record_refused(
                session,
                ctx,
                department=department,
                kind=seen.kind,
                file_name=seen.file_name,
                sha256="",  # nothing of the body was read to the end, nor kept
                refusal=too_large(limit, size),
            )
    except (Unauthenticated, LiangshiError):
        return None
