"""Audit routes: verify the log, its latest signed tree head."""

from typing import Any

from fastapi import APIRouter, Request

from liangshi.audit import service
from liangshi.errors import NotFound
from liangshi.http.tx import unit

router = APIRouter(prefix="/audit", tags=["audit 审计"])


@router.get("/verify", summary="Verify the audit log's Merkle tree and signed heads")
def verify(request: Request) -> dict[str, Any]:
    """Sequence, recompute every leaf and the tree, check every signed head: altered, missing, truncated …"""
    with unit(request) as (session, ctx):
        ctx.actor.ensure("audit.verify")
        result = service.verify(session, keys=request.app.state.audit_keys, now=ctx.now)
        return result.to_json()


@router.get("/head", summary="The audit log's latest signed tree head (publish it elsewhere)")
def head(request: Request) -> dict[str, Any]:
    """The newest signed tree head (RFC 6962 style: size, root, timestamp, Ed25519 signature, key id)."""
    with unit(request) as (session, ctx):
        ctx.actor.ensure("audit.verify")
        service.sequence(session, request.app.state.audit_keys, now=ctx.now)
        found = service.latest_head(session)
        if found is None:
            raise NotFound("audit.no_head", "审计日志尚无签名树头", "The audit log has no signed head yet")
        return found.to_json()
