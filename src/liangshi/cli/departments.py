"""`liangshi dept`: departments, agreements, extracts and the exchange log; department feeds through
`liangshi import KIND FILE --source DEPT`.

liangshi dept add health
liangshi dept agreement health-2026.toml
liangshi dept list
liangshi dept extract health --out health.xlsx
liangshi dept verify-log
liangshi dept batches health --status refused
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from liangshi.cli.common import context_as, database, err, fail
from liangshi.config import Settings
from liangshi.departments import rules, service
from liangshi.departments.models import Department
from liangshi.errors import LiangshiError
from liangshi.exchange.loaders.resolver import RowError
from liangshi.exchange.service import write_error_report

app = typer.Typer(help="Department data exchange / 部门数据交换", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Departments, agreements, feeds and the exchange log."""


@app.command("add")
def add(
    code: str = typer.Argument(..., help="health, justice, civil_affairs, statistics, housing, …"),
    name_zh: str = typer.Option(None, "--name-zh", help="Chinese name (default for standard codes)"),
    name_en: str = typer.Option(None, "--name-en", help="English name (default for standard codes)"),
) -> None:
    """Register a department (as the system operator; audited)."""
    try:
        with database() as (session, clock):
            d = service.add_department(
                session,
                context_as(session, clock, None),
                code=code,
                name_zh=name_zh,
                name_en=name_en,
            )
            print(f"部门已登记 / department registered: {d.code} {d.name_zh} / {d.name_en}")
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("agreement")
def agreement(file: Path = typer.Argument(..., help="The agreement as JSON or TOML")) -> None:
    """Register an agreement from a file: department, purpose, valid_from/valid_to, provides, reads,
    aggregates_only."""
    try:
        spec = rules.load_agreement_file(file, service.known_fields())
        with database() as (session, clock):
            a = service.add_agreement(session, context_as(session, clock, None), spec)
            print(
                f"协议已登记 / agreement registered: #{a.id} {spec.department} {spec.valid_from}–{spec.valid_to or ''}"
            )
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Departments and their agreements."""
    with database() as (session, clock):
        depts = service.list_departments(session, context_as(session, clock, None))
    if as_json:
        print(json.dumps(depts, ensure_ascii=False))
        return
    for d in depts:
        print(f"{d['code']:<18} {d['name_zh']} / {d['name_en']}")
        for a in d["agreements"]:
            state = "有效 in force" if a["in_force"] else "无效 not in force"
            print(f"    #{a['id']} {a['valid_from']}–{a['valid_to'] or ''} {state}: {a['purpose']}")


@app.command("extract")
def extract(
    code: str = typer.Argument(..., help="The department"),
    out: Path = typer.Option(..., "--out", help="Where to write it (.xlsx or .csv)"),
    kind: str = typer.Option(None, "--kind", help="Only this object kind"),
    as_user: str = typer.Option(None, "--as", help="Act as this user (a liaison of the department)"),
) -> None:
    """Write the department's extract of the current state (aggregates only for a statistics agreement)."""
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
        ) as p:
            p.add_task(f"导出 extracting {code}", total=None)
            with database() as (session, clock):
                sheets = service.extract(
                    session,
                    context_as(session, clock, as_user),
                    department=code,
                    kind=kind,
                )
    except LiangshiError as exc:
        raise fail(exc) from None
    data = service.sheets_xlsx(sheets) if out.suffix.lower() == ".xlsx" else service.sheets_csv(sheets)
    out.write_bytes(data)
    rows = sum(len(s.rows) for s in sheets)
    print(f"已导出 / extract written: {out} ({rows} rows, {', '.join(s.name for s in sheets)})")


@app.command("verify-log")
def verify_log(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the exchange log's hash chain; exit 1 when an entry was altered or deleted."""
    with database() as (session, clock):
        result = service.verify_log(session, context_as(session, clock, None))
    if as_json:
        print(json.dumps(result))
    elif result["ok"]:
        print(f"交换日志完整 / exchange log intact: {result['entries']} entries")
    else:
        for p in result["problems"]:
            err.print(f"[red]entry {p['seq']}: {p['problem']}[/red]")
        err.print(f"[red]交换日志被篡改 / exchange log tampered[/red]: {len(result['problems'])} problem(s)")
    if not result["ok"]:
        raise typer.Exit(1)


def is_department_feed(source: str | None) -> bool:
    """Whether `liangshi import … --source X` is a department feed: X is a registered department, or any source
    but the police, whose files are the register's base (and are loaded by the bulk importer)."""
    if not source:
        return False

    with database() as (session, _):
        registered = session.execute(select(Department.id).where(Department.code == source)).first()
    return registered is not None or source != "police"


def import_feed(kind: str, file: Path, source: str, as_user: str | None, errors: Path | None = None) -> None:
    """Submit a file as a department batch: the good rows kept and the bad ones reported (line, field, code)
    to FILE.errors.csv, unless the agreement says all-or-nothing (then refused as a whole)."""
    try:
        _submit_file(kind, file, source, as_user, errors)
    except LiangshiError as exc:
        _record_refused(kind, file, source, as_user, exc)
        raise fail(exc) from None


def _record_refused(kind: str, file: Path, source: str, as_user: str | None, exc: LiangshiError) -> None:
    """Keep a batch refused as a whole, with its report, in a transaction of its own (nothing else written)."""
    try:
        content = file.read_bytes() if file.is_file() else b""
        with database() as (session, clock):
            service.record_refused(
                session,
                context_as(session, clock, as_user),
                department=source,
                kind=kind,
                file_name=file.name,
                sha256=hashlib.sha256(content).hexdigest(),
                refusal=exc,
            )
    except (LiangshiError, OSError):
        pass  # the refusal alone answers (an unknown user, an unreadable path)


def _submit_file(kind: str, file: Path, source: str, as_user: str | None, errors: Path | None) -> None:
    table = service.table_from_file(file)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as p:
        p.add_task(f"部门数据 department batch {source}: {len(table.rows)} rows", total=None)
        with database() as (session, clock):
            result = service.submit_batch(
                session,
                context_as(session, clock, as_user),
                department=source,
                kind=kind,
                table=table,
                precedence=rules.load_precedence(Settings().precedence_file),
            )
    print(
        f"批次 batch {result.batch_id} ({result.department}): {result.rows} 行 rows, 匹配 matched {result.matched}, "
        f"未匹配 unmatched {len(result.unmatched_lines)}, 采用 applied {result.applied}, "
        f"相同 same {result.same}, 待审冲突 conflicts {len(result.conflicts)}; "
        f"人员索引 master index: 关联 linked {result.linked}, 新建 created {result.created}, "
        f"待认领 claims {result.claims}, 待核 queued {result.queued}"
    )
    if result.rejected:
        report = errors or file.with_name(file.name + ".errors.csv")
        write_error_report([RowError(**problem.as_dict()) for problem in result.rejected], report)
        for problem in result.rejected[:5]:
            err.print(
                f"  line {problem.line}, {problem.field}: {problem.code}: "
                f"{problem.message_zh} / {problem.message_en}"
            )
        lines = len({problem.line for problem in result.rejected})
        err.print(f"拒收 {lines} 行，已写入 / {lines} row(s) rejected, written to {report}")
        raise typer.Exit(1)


@app.command("batches")
def batches(
    code: str = typer.Argument(..., help="The department"),
    status: str = typer.Option(None, "--status", help="accepted or refused"),
    as_user: str = typer.Option(None, "--as", help="As this user (default: operator)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A department's batches, newest first; a batch refused as a whole with why (its report)."""
    try:
        with database() as (session, clock):
            found = service.list_batches(session, context_as(session, clock, as_user), code, status=status)
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        print(json.dumps(found, ensure_ascii=False, default=str))
        return
    for b in found:
        when = b["received_at"].strftime("%Y-%m-%d %H:%M")
        if b["status"] == "refused":
            report = b["report"] or {}
            state = (
                f"拒收 refused: {report.get('code', '')} "
                f"{report.get('message_zh', '')} / {report.get('message_en', '')}"
            )
        else:
            state = (
                f"采纳 accepted: {b['accepted']} 行 rows, "
                f"拒收 rejected {b['rejected']}, 采用 applied {b['applied']}"
            )
        print(f"#{b['id']:<6} {when} {b['kind']:<10} {b['file_name']}  {state}")
        for e in (b["report"] or {}).get("errors", [])[:5]:
            print(f"    line {e['line']}, {e['field']}: {e['code']}: {e['message_zh']} / {e['message_en']}")
