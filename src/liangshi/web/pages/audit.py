"""The auditor's pages (审计): verify the audit log (Merkle tree) and the exchange log (hash chain); access logs.

Only the auditor's own permissions are used: `audit.verify`, `exchange_log.verify` and `person.access_log`. The
access log is looked up by person number without reading the person (no name, no documents: an auditor sees who
did what, not the people themselves), scoped to the jurisdiction like every page, and the lookup is audited.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import Response

from liangshi.audit import service as audit
from liangshi.departments import service as departments
from liangshi.persons import service as persons
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import is_htmx, render
from liangshi.web.session import Page, page

router = web_router()

PAGE_SIZE = 50
_PERSON_NUMBER = re.compile(r"[0-9]{1,18}")

add_nav(NavItem("/web/audit", N_("Audit"), "audit.verify", order=60))
add_nav(NavItem("/web/access-log", N_("Access log lookup"), "person.access_log", order=61))

Chain = Literal["audit", "exchange"]
# Each chain: the permission that verifies it, its name and what it holds.
CHAINS: dict[str, tuple[str, str, str]] = {
    "audit": (
        "audit.verify",
        N_("Audit log"),
        N_("Every read of personal data and every write, with who, when and why."),
    ),
    "exchange": (
        "exchange_log.verify",
        N_("Exchange log"),
        N_("Every exchange of data with a department: what went in or out, under which agreement."),
    ),
}


def _verify(p: Page, chain: Chain, keys: audit.Keyring) -> dict[str, Any]:
    """Walk one chain with the actor's permission; the first problem is the first broken entry."""
    if chain == "audit":
        p.ctx.actor.ensure("audit.verify")
        found = audit.verify(p.session, keys=keys, now=p.ctx.now)
        result: dict[str, Any] = found.to_json()
    else:
        result = departments.verify_log(p.session, p.ctx)
    return {**result, "chain": chain, "checked_at": p.ctx.now}


def _ensure_verifier(p: Page) -> None:
    if not any(p.may(permission) for permission, _, _ in CHAINS.values()):
        p.ctx.actor.ensure("audit.verify")


@router.get("/audit")
def audit_page(request: Request) -> Response:
    """The chains this role may verify, each with a button."""
    with page(request) as p:
        _ensure_verifier(p)
        return render(request, "audit.html", p, chains=CHAINS, results={})


@router.post("/audit/verify/{chain}")
def verify(request: Request, chain: Chain) -> Response:
    """Verify one chain (as GET /audit/verify and GET /departments/exchange-log/verify do); htmx gets the result."""
    with page(request) as p:
        result = _verify(p, chain, request.app.state.audit_keys)
        if is_htmx(request):
            return render(request, "_verify_result.html", p, r=result)
        return render(request, "audit.html", p, chains=CHAINS, results={chain: result})


@router.get("/access-log")
def access_log(request: Request, person_id: str = "", offset: int = 0) -> Response:
    """Who read or changed a person's data, when and why, by person number (audited; scoped: 404 outside)."""
    with page(request) as p:
        p.ctx.actor.ensure("person.access_log")
        text = person_id.strip()
        invalid = bool(text) and _PERSON_NUMBER.fullmatch(text) is None
        entries: list[dict[str, Any]] = []
        total = 0
        number = int(text) if text and not invalid else None
        offset = max(offset, 0)
        if number is not None:
            entries, total = persons.access_log(p.session, p.ctx, number, limit=PAGE_SIZE, offset=offset)
        sizes = [e["tree_size"] for e in entries if e["tree_size"]]
        tree_head = audit.head_at(p.session, sizes[0]) if sizes else None
        return render(
            request,
            "access_log.html",
            p,
            status=422 if invalid else 200,
            person_id=text,
            number=number,
            invalid=invalid,
            entries=entries,
            total=total,
            offset=offset,
            page_size=PAGE_SIZE,
            tree_head=tree_head,
        )
