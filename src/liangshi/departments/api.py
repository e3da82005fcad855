"""Department exchange routes: departments and agreements, batches in, changes and extracts out, conflicts,
feedback, the exchange log."""

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from liangshi.departments import rules, service
from liangshi.departments.schemas import (
    AgreementIn,
    BatchRead,
    BatchRecords,
    DecideIn,
    DepartmentCreate,
    FeedbackDecideIn,
    FeedbackIn,
)
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.http.crud import paging
from liangshi.http.tx import unit
from liangshi.residence.calendar import default_calendar

router = APIRouter(tags=["departments 部门数据交换"])


def _precedence(request: Request) -> rules.Precedence:
    return rules.load_precedence(request.app.state.settings.precedence_file)


@router.post("/departments", status_code=201, summary="Register a department")
def add_department(body: DepartmentCreate, request: Request) -> dict[str, Any]:
    """Register a partner department (city or district administrators)."""
    with unit(request) as (session, ctx):
        d = service.add_department(session, ctx, code=body.code, name_zh=body.name_zh, name_en=body.name_en)
        return {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en}


@router.get("/departments", summary="Departments and their agreements")
def list_departments(request: Request) -> dict[str, Any]:
    """Every department with its agreements and whether each is in force."""
    with unit(request) as (session, ctx):
        return {"departments": service.list_departments(session, ctx)}


@router.post("/departments/{code}/agreements", status_code=201, summary="Register an agreement")
def add_agreement(code: str, body: AgreementIn, request: Request) -> dict[str, Any]:
    """A sharing agreement for the department: what it provides, what it may read, why, for how long."""
    with unit(request) as (session, ctx):
        spec = rules.parse_agreement({**body.model_dump(), "department": code}, service.known_fields())
        a = service.add_agreement(session, ctx, spec)
        return service.agreement_view(a, ctx.today)


@router.get("/departments/exchange-log/verify", summary="Verify the exchange log's hash chain")
def verify_log(request: Request) -> dict[str, Any]:
    """Walk the exchange log and report altered, missing or relinked entries."""
    with unit(request) as (session, ctx):
        return service.verify_log(session, ctx)


@router.post(
    "/departments/{code}/batches", status_code=201, response_model=BatchRead, summary="Submit a batch"
)
async def submit_batch(code: str, request: Request) -> BatchRead:
    """A department's batch: multipart (`file`: CSV in UTF-8/GB18030 or XLSX; `kind`, default persons) or a JSON
    body `{"kind": "persons", "records": [...]}`. A bad row is reported (`rejected`: line, field, code) and the
    good rows are kept, unless the agreement says all-or-nothing: then any bad row refuses the batch."""
    content_type = request.headers.get("content-type", "")
    kind, name, content = "persons", "body.json", b""
    try:
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            kind = str(form.get("kind") or "persons")
            if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
                raise service.no_file()
            content = await upload.read()  # type: ignore[union-attr]
            name = getattr(upload, "filename", None) or "upload.csv"
            table = service.table_from_upload(name, content)
        else:
            content = await request.body()
            try:
                body = BatchRecords.model_validate(json.loads(content))
            except (ValueError, TypeError) as exc:
                raise ValidationFailed(
                    "request.invalid",
                    "请求内容须为JSON批次或上传文件",
                    "Send a JSON batch or upload a file",
                    {"detail": str(exc)[:200]},
                ) from None
            kind = body.kind
            table = service.table_from_records(body.records)
        # The batch is one transaction of blocking database work: run it off the event loop.
        return await run_in_threadpool(_submit, request, code, kind, table)
    except LiangshiError as exc:
        # A batch refused as a whole is kept, with its report, in a transaction of its own (nothing else written).
        await run_in_threadpool(_record_refused, request, code, kind, name, content, exc)
        raise


def _record_refused(
    request: Request, code: str, kind: str, name: str, content: bytes, exc: LiangshiError
) -> None:
    try:
        with unit(request) as (session, ctx):
            service.record_refused(
                session,
                ctx,
                department=code,
                kind=kind,
                file_name=name,
                sha256=hashlib.sha256(content).hexdigest(),
                refusal=exc,
            )
    except LiangshiError:
        pass  # a caller the refusal's record cannot name (not signed in): the refusal alone answers


@router.get("/departments/{code}/batches", summary="A department's batches, accepted and refused")
def list_batches(
    code: str,
    request: Request,
    status: str | None = Query(None, pattern="^(accepted|refused)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Newest first; a batch refused as a whole (nothing applied) comes with its report: the refusal's code and
    messages and its rows' problems (line, field, code). For the department's own liaison or an administrator."""
    with unit(request) as (session, ctx):
        return service.list_batches(session, ctx, code, status=status, limit=limit)


def _submit(request: Request, code: str, kind: str, table: service.FeedTable) -> BatchRead:
    with unit(request) as (session, ctx):
        result = service.submit_batch(
            session, ctx, department=code, kind=kind, table=table, precedence=_precedence(request)
        )
        return BatchRead(
            batch_id=result.batch_id,
            department=result.department,
            kind=result.kind,
            rows=result.rows,
            matched=result.matched,
            unmatched_lines=result.unmatched_lines,
            applied=result.applied,
            same=result.same,
            conflicts=result.conflicts,
            linked=result.linked,
            created=result.created,
            claims=result.claims,
            queued=result.queued,
            proposals=result.proposals,
            rejected=[p.as_dict() for p in result.rejected],
        )


@router.get("/departments/{code}/changes", summary="Changes since a cursor (feed out)")
def changes(
    code: str,
    request: Request,
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(500, ge=1, le=5000),
) -> dict[str, Any]:
    """Version rows committed after the cursor (default: after your last pull), cut to your agreement.

    Pass each answer's `next_cursor` to the next call: across successive calls every committed row is delivered
    exactly once, also when a slower writer commits a row with an earlier `recorded_at` after a pull. Rows of each
    kind come in commit order; a page interleaves the kinds by `recorded_at`. On PostgreSQL a row is held back
    while any transaction older than it is still running. A cursor of the earlier form ([recorded_at, kind,
    row_id]) is still accepted and resumes 7 days before its record time (some rows are delivered again)."""
    with unit(request) as (session, ctx):
        return service.pull_changes(session, ctx, department=code, cursor=cursor, limit=limit)


@router.get("/departments/{code}/extract.{fmt}", summary="Extract of the current state (xlsx or csv)")
def extract(code: str, fmt: str, request: Request, kind: str | None = Query(None, max_length=20)) -> Response:
    """The current state cut to your agreement (aggregates only for a statistics agreement)."""
    if fmt not in ("xlsx", "csv"):
        raise ValidationFailed(
            "extract.format", "格式须为 xlsx 或 csv", "Format must be xlsx or csv", {"field": "format"}
        )
    with unit(request) as (session, ctx):
        sheets = service.extract(session, ctx, department=code, kind=kind)
    if fmt == "csv":
        return Response(
            service.sheets_csv(sheets),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{code}-extract.csv"'},
        )
    return Response(
        service.sheets_xlsx(sheets),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{code}-extract.xlsx"'},
    )


@router.get("/conflicts", summary="The review queue of department conflicts")
def list_conflicts(
    request: Request,
    status: str | None = Query(None, pattern="^(open|accepted|rejected)$"),
    department: str | None = Query(None, max_length=30),
    page: tuple[int, int] = Depends(paging),
) -> dict[str, Any]:
    """Conflicts between a department's value and the register's, in your jurisdiction."""
    with unit(request) as (session, ctx):
        rows, total = service.list_conflicts(
            session, ctx, status=status, department=department, offset=page[0], limit=page[1]
        )
        return {"items": [service.conflict_view(c) for c in rows], "total": total}


@router.post("/conflicts/{conflict_id}/decide", summary="Accept or reject a department's value")
def decide_conflict(conflict_id: int, body: DecideIn, request: Request) -> dict[str, Any]:
    """Accept (the value is written through the registry with the batch as provenance) or reject, with a reason."""
    with unit(request) as (session, ctx):
        c = service.decide_conflict(
            session, ctx, conflict_id, accept=body.decision == "accept", reason=body.reason
        )
        return service.conflict_view(c)


@router.post("/feedback", status_code=201, summary="File feedback on a doubted value")
def file_feedback(body: FeedbackIn, request: Request) -> dict[str, Any]:
    """Flag a value under investigation; pick-up due in 2 working days, a decision in the configured period."""
    with unit(request) as (session, ctx):
        f = service.file_feedback(
            session,
            ctx,
            object_kind=body.object_kind,
            object_id=body.object_id,
            attribute=body.attribute,
            reason=body.reason,
            suggested_value=body.suggested_value,
            calendar=default_calendar(),
            decision_days=request.app.state.settings.feedback_decision_days,
        )
        return service.feedback_view(f, ctx.today)


@router.get("/feedback", summary="Feedback items (overdue=true: pick-up or decision late)")
def list_feedback(
    request: Request, overdue: bool = False, page: tuple[int, int] = Depends(paging)
) -> dict[str, Any]:
    """Your department's feedback (liaison) or the feedback in your jurisdiction (police)."""
    with unit(request) as (session, ctx):
        rows, total = service.list_feedback(session, ctx, overdue=overdue, offset=page[0], limit=page[1])
        return {"items": [service.feedback_view(f, ctx.today) for f in rows], "total": total}


@router.post("/feedback/{feedback_id}/pickup", summary="Pick up a feedback item")
def pickup(feedback_id: int, request: Request) -> dict[str, Any]:
    """The holder of the value takes the feedback up."""
    with unit(request) as (session, ctx):
        return service.feedback_view(service.pick_up_feedback(session, ctx, feedback_id), ctx.today)


@router.post("/feedback/{feedback_id}/decide", summary="Decide a feedback item")
def decide_feedback(feedback_id: int, body: FeedbackDecideIn, request: Request) -> dict[str, Any]:
    """Confirm the register's value or correct it; the flag is resolved."""
    with unit(request) as (session, ctx):
        f = service.decide_feedback(
            session, ctx, feedback_id, outcome=body.outcome, note=body.note, value=body.value
        )
        return service.feedback_view(f, ctx.today)
