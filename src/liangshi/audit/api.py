"""Audit routes."""

from typing import Any

from fastapi import APIRouter, Request

from liangshi.audit import service
from liangshi.http.tx import unit

router = APIRouter(prefix="/audit", tags=["audit 审计"])


@router.get("/verify", summary="Verify the audit log's hash chain")
def verify(request: Request) -> dict[str, Any]:
    """Walk the chain and report altered, missing or relinked entries."""
    with unit(request) as (session, ctx):
        ctx.actor.ensure("audit.verify")
        result = service.verify(session)
        return {"ok": result.ok, "entries": result.entries, "problems": result.problems}
