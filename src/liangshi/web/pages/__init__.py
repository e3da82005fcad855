"""Page modules: each defines `router = web_router()` and is listed in liangshi.web.app.PAGE_MODULES."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from liangshi.web.session import csrf_protect


def web_router() -> APIRouter:
    """A router for pages under /web: hidden from the OpenAPI document, every POST CSRF-checked."""
    return APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_protect)])
