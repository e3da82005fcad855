"""App-wide input checks run after routing and before FastAPI validates a request (issue 18).

Every integer parameter must fit a signed 64-bit column and no string may carry a NUL byte (PostgreSQL refuses
both with a server error; SQLite overflows); no path or query parameter may carry a full ID number (URLs land
in server and proxy logs); a JSON body may not nest deeper than a limit. A refusal is the same
422 `request.invalid` the validation handler renders, naming the field, so every route gets it without a line
of its own.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable, Coroutine, Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from liangshi.common.idnumber import carries_id_number
from liangshi.http.tx import bearer

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")

_OUT_OF_RANGE = ("须为64位整数（-2^63 至 2^63-1）", "must be a 64-bit integer (from -2^63 to 2^63-1)")
_NUL = ("不得含有NUL字符（\\x00）", "must not contain a NUL character (\\x00)")
_ID_IN_URL = (
    "身份证号不得出现在网址中（会留在服务器日志里），请放在请求正文中用POST发送",
    "an ID number may not travel in a URL (it would stay in server logs); send it in the request body by POST",
)
_TOO_DEEP = (f"JSON嵌套不得超过{MAX_JSON_DEPTH}层", f"JSON may not nest deeper than {MAX_JSON_DEPTH} levels")


def _error(kind: str, loc: tuple[Any, ...], text: tuple[str, str]) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": text[1], "ctx": {"zh": text[0], "en": text[1]}, "input": None}


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple, set, typing.Annotated):
        return any(_is_int(arg) for arg in typing.get_args(annotation))
    return False


def _int_params(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """Names of the integer path and query parameters of a route, its dependencies included."""
    path: set[str] = set()
    query: set[str] = set()
    todo: list[Dependant] = [route.dependant]
    while todo:
        current = todo.pop()
        path.update(f.alias for f in current.path_params if _is_int(f.field_info.annotation))
        query.update(f.alias for f in current.query_params if _is_int(f.field_info.annotation))
        todo.extend(current.dependencies)
    return frozenset(path), frozenset(query)


def _check_param(where: str, name: str, value: str, integer: bool) -> dict[str, Any] | None:
    if "\x00" in name or "\x00" in value:
        return _error("string_nul", (where, name.replace("\x00", "")), _NUL)
    if integer:
        if _INTEGER.match(value) and not INT64_MIN <= int(value) <= INT64_MAX:
            return _error("int_out_of_range", (where, name), _OUT_OF_RANGE)
        return None
    # Issue 18: full ID numbers never in a URL (lookups go by POST or an opaque handle). A 15-digit area code
    # looks like an old 15-digit ID number, so area parameters are checked for the 18-character form only.
    if carries_id_number(value, old_form="area" not in name.lower()):
        return _error("id_number_in_url", (where, name), _ID_IN_URL)
    return None


def check_json(value: Any, loc: tuple[Any, ...] = ("body",), depth: int = 0) -> dict[str, Any] | None:
    """The first integer out of range, string with a NUL or nesting too deep in a parsed JSON value."""
    if depth > MAX_JSON_DEPTH:
        return _error("json_too_deep", loc, _TOO_DEEP)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else _error("int_out_of_range", loc, _OUT_OF_RANGE)
    if isinstance(value, str):
        return _error("string_nul", loc, _NUL) if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return _error("string_nul", (*loc, key.replace("\x00", "")), _NUL)
            found = check_json(item, (*loc, key), depth + 1)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = check_json(item, (*loc, index), depth + 1)
            if found:
                return found
    return None


def _json_too_deep(raw: bytes) -> bool:
    """Whether brackets nest deeper than the limit, counted without parsing (so a deep body never recurses)."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_JSON_DEPTH + 1:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _check_body(content_type: str, body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    if content_type.startswith("application/json") or content_type.endswith("+json"):
        if _json_too_deep(body):
            return _error("json_too_deep", ("body",), _TOO_DEEP)
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # FastAPI reports malformed JSON itself
        return check_json(parsed)
    if content_type.startswith("application/x-www-form-urlencoded"):
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return _error("string_nul", ("body", name.replace("\x00", "")), _NUL)
    return None


def check_request(
    path_params: dict[str, Any],
    query: list[tuple[str, str]],
    int_path: frozenset[str],
    int_query: frozenset[str],
) -> dict[str, Any] | None:
    """The first bad path or query parameter of a request, if any."""
    for name, value in path_params.items():
        found = _check_param("path", name, str(value), name in int_path)
        if found:
            return found
    for name, value in query:
        found = _check_param("query", name, value, name in int_query)
        if found:
            return found
    return None


# API routes a client calls before it has a token; every other API route needs one (web pages use the session
# cookie and redirect to the login page themselves).
PUBLIC = frozenset(
    {
        ("POST", "/auth/token"),
        # Two-factor enrolment by API (issue 18): the password (and a code) stand in for the token.
        ("POST", "/auth/totp/enrol"),
        ("POST", "/auth/totp/confirm"),
        ("GET", "/"),
        ("GET", "/health"),
        # The statistics behind inspection and acceptance read no register data, so that anyone can check them
        # (issue 16: `liangshi stats`, and the same four over HTTP).
        ("GET", "/stats/wilson"),
        ("GET", "/stats/sample-size"),
        ("GET", "/stats/acceptance-plan"),
        ("GET", "/stats/chapman"),
        # A scanned QR door plate (issue 20): its address and contacts, and the resident's self-declaration.
        ("GET", "/plates/{code}"),
        ("POST", "/plates/{code}/declarations"),
        ("GET", "/q/{code}"),
    }
)


class CheckedRoute(APIRoute):
    """An APIRoute whose handler refuses a request without credentials with 401, then checks parameters and body,
    all before FastAPI validates them (issue 18: no 422 that answers an anonymous caller's probing)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        int_path, int_query = _int_params(self)
        needs_token = not self.path.startswith("/web") and not any(
            (method, self.path) in PUBLIC for method in self.methods or ()
        )

        async def checked(request: Request) -> Response:
            if needs_token:
                bearer(request)  # 401 auth.required; the token itself is checked by the handler's unit
            query = parse_qsl(
                request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            )
            found = check_request(request.path_params, query, int_path, int_query)
            if found is None and request.method in ("POST", "PUT", "PATCH"):
                # The body is cached on the request, so FastAPI reads the same bytes afterwards.
                found = _check_body(request.headers.get("content-type", "").lower(), await request.body())
            if found:
                raise RequestValidationError([found])
            return await handler(request)

        return checked


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(list(inner.routes))


def install(app: FastAPI) -> None:
    """Make every API and web route of the app a CheckedRoute; call after all routers are included, before any
    request (FastAPI builds an included route's handler lazily, from the route's get_route_handler)."""
    for route in _api_routes(list(app.router.routes)):
        route.__class__ = CheckedRoute
