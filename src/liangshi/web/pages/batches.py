"""Sending a department batch from the web (部门数据上报): the upload form (department, kind, file), the batch's
result (its counts and every refused row with all its problems) and the sender's recent batches.

The file goes through the same service calls as `POST /departments/{code}/batches` (`table_from_upload`,
`submit_batch`): the same checks, the same write path, the same refusals; a batch refused as a whole applies
nothing and is kept as a refused batch with its report (`record_refused`), listed with the sender's recent
batches."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.errors import LiangshiError
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/batches", N_("Send a batch"), "department.exchange", order=71))

# The kinds of batch a department sends (rules.FEED_KINDS), by their names.
KINDS = {
    "persons": N_("Persons (death dates, phones, occupations …)"),
    "dwellings": N_("Dwelling statuses (housing)"),
    "births": N_("Births (health)"),
    "areas": N_("Areas: names and codes (civil affairs)"),
    "streets": N_("Street names (civil affairs)"),
    "corrections": N_("Community-correction cases (justice)"),
}
KIND_NAMES = {
    "persons": N_("Person records"),
    "dwellings": N_("Dwelling statuses"),
    "births": N_("Births"),
    "areas": N_("Areas"),
    "streets": N_("Street names"),
    "corrections": N_("Community-correction cases"),
}
# Refusals shown on the form (the page's own refusal, 403 for a role that may send nothing, is the error page).
SHOWN = (403, 404, 409, 413, 422)


@dataclass
class Outcome:
    """What the page shows of a sent batch: accepted (with its batch id) or refused as a whole."""

    department: str
    kind: str
    file_name: str
    rows: int
    refused_lines: int
    accepted: int
    problems: list[dict[str, Any]]  # per line: {"line", "problems": [{"field", "code", "message"}]}
    batch_id: int | None = None
    refused: bool = False
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    proposals: list[int] = field(default_factory=list)
    shown_lines: int = 0


def _by_line(problems: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """A row's problems together, in line order, each message in the page language."""
    lines: dict[int, list[dict[str, str]]] = {}
    for p in problems:
        message = p["message_en"] if lang == "en" else p["message_zh"]
        lines.setdefault(int(p["line"]), []).append(
            {"field": str(p["field"]), "code": str(p["code"]), "message": str(message)}
        )
    return [{"line": line, "problems": found} for line, found in sorted(lines.items())]


def _rows(table: departments.FeedTable) -> int:
    """The file's rows that hold anything (an empty row is no record, as the service skips it)."""
    return sum(1 for _, cells in table.rows if any(c.strip() for c in cells))


def _form(
    request: Request,
    p: Page,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    code: str | None = None,
    outcome: Outcome | None = None,
    status: int = 200,
) -> Response:
    senders = departments.senders(p.session, p.ctx)
    chosen = values or {"department": senders[0]["code"] if senders else "", "kind": "persons"}
    return render(
        request,
        "batches.html",
        p,
        status=status,
        senders=senders,
        kinds=KINDS,
        kind_names=KIND_NAMES,
        values=chosen,
        error=error,
        error_code=code,
        outcome=outcome,
        recent=departments.recent_batches(p.session, p.ctx),
        limit_mb=f"{request.app.state.settings.max_body_bytes / 1_000_000:g}",
        suffixes=", ".join(departments.UPLOAD_SUFFIXES),
    )


@router.get("/batches")
def batches(request: Request, department: str | None = None) -> Response:
    """The upload form (`?department=` preselects one) and the user's recent batches (a department's liaison, or
    an administrator)."""
    with page(request) as p:
        departments.ensure_may_send(p.ctx)
        values = {"department": department, "kind": "persons"} if department else None
        return _form(request, p, values=values)


@router.post("/batches")
async def send_batch(request: Request) -> Response:
    """Send the file as a batch of the chosen department and kind; the result (counts and refused rows) or the
    reason nothing was accepted, on the same page."""
    form = await request.form()
    values = {
        "department": str(form.get("department") or "").strip(),
        "kind": str(form.get("kind") or "persons").strip(),
    }
    upload = form.get("file")
    name, data = "", b""
    if isinstance(upload, UploadFile):
        name, data = upload.filename or "", await upload.read()
    # The batch is one transaction of blocking database work: run it off the event loop (as the API does).
    return await run_in_threadpool(_send, request, values, name, data)


def _send(request: Request, values: dict[str, str], name: str, data: bytes) -> Response:
    with page(request, purpose="department batch") as p:
        departments.ensure_may_send(p.ctx)
        table: departments.FeedTable | None = None
        try:
            if not name and not data:
                raise departments.no_file()
            table = departments.table_from_upload(name or "upload.csv", data)
            result = departments.submit_batch(
                p.session,
                p.ctx,
                department=values["department"],
                kind=values["kind"],
                table=table,
                precedence=rules.load_precedence(request.app.state.settings.precedence_file),
            )
        except LiangshiError as exc:
            if exc.http_status not in SHOWN:
                raise
            p.session.rollback()
            # Kept as a refused batch with its report (committed with the page; nothing else is written).
            departments.record_refused(
                p.session,
                p.ctx,
                department=values["department"],
                kind=values["kind"],
                file_name=table.name if table is not None else name,
                sha256=hashlib.sha256(data).hexdigest(),
                refusal=exc,
            )
            message = exc.message("en" if p.lang == "en" else "zh")
            if exc.code == "department.batch_rows_invalid" and table is not None:
                errors = list(exc.data.get("errors", []))
                grouped = _by_line(errors, p.lang)
                refused = Outcome(
                    department=values["department"],
                    kind=values["kind"],
                    file_name=table.name,
                    rows=int(exc.data.get("rows", _rows(table))),
                    refused_lines=int(exc.data.get("rejected", len(grouped))),
                    accepted=0,
                    problems=grouped,
                    refused=True,
                    message=message,
                    shown_lines=len(grouped),
                )
                return _form(request, p, values=values, outcome=refused, status=exc.http_status)
            return _form(request, p, values=values, error=message, code=exc.code, status=exc.http_status)
        problems = _by_line([r.as_dict() for r in result.rejected], p.lang)
        rows = _rows(table)
        outcome = Outcome(
            department=result.department,
            kind=result.kind,
            file_name=table.name,
            rows=rows,
            refused_lines=len(problems),
            accepted=rows - len(problems),
            problems=problems,
            batch_id=result.batch_id,
            counts={
                "matched": result.matched,
                "unmatched": len(result.unmatched_lines),
                "applied": result.applied,
                "same": result.same,
                "conflicts": len(result.conflicts),
                "claims": result.claims,
                "queued": result.queued,
            },
            proposals=list(result.proposals),
            shown_lines=len(problems),
        )
        # The batch is written (committed when the page's unit ends); the list below already includes it.
        return _form(request, p, values=values, outcome=outcome)
