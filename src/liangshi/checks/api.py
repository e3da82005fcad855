"""Check routes: the named checks, a run over an area, the findings (work items) and their dismissal."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from liangshi.checks import rules, service
from liangshi.checks.schemas import CheckRead, DismissIn, FindingPage, FindingRead, RunIn, RunRead
from liangshi.errors import ValidationFailed
from liangshi.http.errors import language
from liangshi.http.tx import unit

router = APIRouter(tags=["checks 质量检查"])


@router.get("/checks", response_model=list[CheckRead], summary="The named quality checks")
def list_checks(request: Request) -> list[CheckRead]:
    """Every check: code, title, severity, the rule it enforces and who owns the fix."""
    en = language(request).startswith("en")
    return [
        CheckRead(
            code=c.code,
            title=c.title("en" if en else "zh"),
            severity=c.severity,
            object_kind=c.object_kind,
            owner=c.owner,
            rule=c.rule_en if en else c.rule_zh,
        )
        for c in rules.CHECKS.values()
    ]


@router.post("/checks/runs", response_model=RunRead, status_code=201, summary="Run checks over an area")
def run_checks(request: Request, body: RunIn) -> RunRead:
    """Run the checks and merge the findings: new ones open, fixed ones close, dismissed ones stay dismissed."""
    with unit(request) as (session, ctx):
        result = service.run_checks(session, ctx, area_code=body.area, codes=body.checks or None)
        return RunRead(
            run_id=result.run.id,
            per_check=result.per_check,
            opened=result.opened,
            kept=result.kept,
            closed=result.closed,
            dismissed_kept=result.dismissed_kept,
        )


@router.get("/checks/findings", response_model=FindingPage, summary="Findings of an area")
def findings(
    request: Request,
    check: str | None = Query(None, description="Only this check"),
    status: str | None = Query("open", description="open, fixed or dismissed"),
    mine: bool = Query(False, description="Only the findings assigned to me"),
    area: str | None = Query(None, description="Area code (default: your own area)"),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> FindingPage:
    """A page of findings, ID numbers masked."""
    with unit(request) as (session, ctx):
        items, total = service.list_findings(
            session,
            ctx,
            check=check,
            status=status,
            mine=mine,
            area_code=area,
            offset=offset,
            limit=limit,
            lang=language(request),
        )
        return FindingPage(
            items=[FindingRead(**asdict(f)) for f in items], total=total, offset=offset, limit=limit
        )


@router.post("/checks/findings/{finding_id}/dismiss", response_model=FindingRead, summary="Dismiss a finding")
def dismiss(request: Request, finding_id: int, body: DismissIn) -> FindingRead:
    """Dismiss an open finding with a reason (required); later runs keep it dismissed."""
    with unit(request) as (session, ctx):
        finding = service.dismiss_finding(session, ctx, finding_id, reason=body.reason)
        return FindingRead(**asdict(service.finding_view(session, finding, language(request))))


@router.post("/checks/sources", status_code=201, summary="Hold a department's file for checking")
async def load_source(request: Request) -> dict[str, Any]:
    """Multipart: `file` (CSV or XLSX as the department sent it), `kind` (dwellings, persons, rentals) and
    `source` (its name; default the file's stem). Replaces that source's earlier rows; bad rows are reported with
    line, field and code, the good rows kept."""
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else None
    name = Path((upload.filename if isinstance(upload, UploadFile) else None) or "upload.csv")
    kind = str(form.get("kind") or "")
    source = str(form.get("source") or name.stem)
    return await run_in_threadpool(_load_source, request, data, name.suffix or ".csv", kind, source)


def _load_source(request: Request, data: bytes | None, suffix: str, kind: str, source: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="liangshi-source-") as tmp, unit(request) as (session, ctx):
        ctx.actor.ensure("check.source")  # the role is refused before the upload is looked at
        if data is None:
            raise ValidationFailed(
                "file.required", "请上传文件（字段 file）", "Upload a file (field 'file')", {"field": "file"}
            )
        path = Path(tmp) / f"upload{suffix if suffix in ('.csv', '.xlsx') else '.csv'}"
        path.write_bytes(data)
        loaded = service.load_source(session, ctx, source=source, kind=kind, path=path)
    return {
        "source": loaded.source,
        "kind": loaded.kind,
        "rows": loaded.rows,
        "kept": loaded.kept,
        "problems": loaded.problems,
    }
