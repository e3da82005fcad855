"""The one renderer of errors: {"error": {"code", "message", "data"}} in Chinese or English."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from liangshi.errors import LiangshiError


def language(request: Request) -> str:
    """English when the client asks for it first, Chinese otherwise."""
    accept = request.headers.get("accept-language", "zh").lower()
    return "en" if accept.startswith("en") else "zh"


def render(status: int, code: str, message: str, data: dict[str, Any] | None = None) -> JSONResponse:
    """An error response."""
    return JSONResponse(
        status_code=status,
        content=jsonable_encoder({"error": {"code": code, "message": message, "data": data or {}}}),
    )


_GENERIC = {
    "json_invalid": ("请求内容不是有效的JSON", "The request body is not valid JSON"),
    "missing": ("缺少必填字段", "Field required"),
    "extra_forbidden": ("不允许的字段", "Unknown field"),
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the exception handlers."""

    @app.exception_handler(LiangshiError)
    async def _domain(request: Request, exc: LiangshiError) -> JSONResponse:
        return render(exc.http_status, exc.code, exc.message(language(request)), exc.data)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language(request)
        errors = []
        malformed = False
        for err in exc.errors():
            kind = str(err.get("type", "invalid"))
            ctx = err.get("ctx") or {}
            if kind == "json_invalid":
                malformed = True
            zh, en = _GENERIC.get(
                kind, (str(ctx.get("zh") or err.get("msg", "")), str(ctx.get("en") or err.get("msg", "")))
            )
            errors.append(
                {
                    "field": _field(tuple(err.get("loc", ()))),
                    "code": kind,
                    "message": en if lang == "en" else zh,
                }
            )
        if malformed:
            return render(
                400,
                "request.malformed_json",
                _GENERIC["json_invalid"][1 if lang == "en" else 0],
                {"errors": errors},
            )
        first = errors[0] if errors else {"field": "body", "message": ""}
        message = (
            f"Invalid field {first['field']}: {first['message']}"
            if lang == "en"
            else f"字段 {first['field']} 无效：{first['message']}"
        )
        return render(422, "request.invalid", message, {"field": first["field"], "errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        en = str(exc.detail)
        zh = {404: "未找到", 405: "不支持该请求方法", 413: "请求内容过大"}.get(exc.status_code, en)
        return render(exc.status_code, f"http.{exc.status_code}", en if language(request) == "en" else zh)
