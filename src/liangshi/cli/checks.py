"""`liangshi checks`: the quality checks (质量检查) — list them, run them over an area, hold a department's file.

liangshi checks list
liangshi checks run [--area CODE] [--check CODE ...] [--json]
liangshi checks source FILE --kind dwellings|persons|rentals --source housing_dwellings
liangshi checks findings [--check CODE] [--status open|fixed|dismissed]
liangshi checks dismiss ID --reason TEXT
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liangshi.checks import rules
from liangshi.checks import service as checks
from liangshi.cli.common import context_as, database, err, fail, out
from liangshi.errors import LiangshiError

app = typer.Typer(help="Quality checks / 质量检查", no_args_is_help=True)


@app.command("list")
def list_checks() -> None:
    """The named checks: code, severity, owner of the fix, title / 检查项."""
    for c in rules.CHECKS.values():
        print(f"{c.code:<38} {c.severity:<7} {c.owner:<14} {c.title_zh} / {c.title_en}")


@app.command("run")
def run(
    area: str | None = typer.Option(None, "--area", help="Area code (default: the whole jurisdiction)"),
    check: list[str] = typer.Option(None, "--check", help="Only this check (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per finding"),
    as_user: str | None = typer.Option(None, "--as", help="Run as this user (default: the system operator)"),
) -> None:
    """Run the checks over an area and store the findings; a re-run closes what was fixed / 运行检查."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, as_user, purpose="checks")
            result = checks.run_checks(session, ctx, area_code=area, codes=check or None)
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        for f in result.found:
            print(json.dumps(f.line(), ensure_ascii=False, default=str))
        return
    for code, n in result.per_check.items():
        print(f"{code:<38} {n:>7,}  {rules.CHECKS[code].title_zh} / {rules.CHECKS[code].title_en}")
    print(
        f"新增 opened {result.opened:,}  仍在 still open {result.kept:,}  已整改 fixed {result.closed:,}"
        f"  已排除 dismissed {result.dismissed_kept:,}"
    )


@app.command("source")
def source(
    file: Path = typer.Argument(..., help="The department's CSV or XLSX file, as sent"),
    kind: str = typer.Option(..., "--kind", help="dwellings, persons or rentals"),
    name: str = typer.Option(None, "--source", help="Source name (default: the file's stem)"),
    as_user: str | None = typer.Option(None, "--as", help="Load as this user"),
) -> None:
    """Hold a department's file for checking (replaces that source's earlier rows) / 载入部门文件供核查."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, as_user, purpose="checks")
            loaded = checks.load_source(session, ctx, source=name or file.stem, kind=kind, path=file)
    except LiangshiError as exc:
        raise fail(exc) from None
    for p in loaded.problems[:50]:
        err.print(f"line {p['line']}: {p['field']}: {p['code']}", markup=False)
    print(
        f"{loaded.source}: kept 保留 {loaded.kept:,} of {loaded.rows:,} rows, {len(loaded.problems)} problems 问题"
    )


@app.command("findings")
def findings(
    check: str | None = typer.Option(None, "--check", help="Only this check"),
    status: str = typer.Option("open", "--status", help="open, fixed or dismissed"),
    area: str | None = typer.Option(None, "--area", help="Area code"),
    limit: int = typer.Option(50, "--limit", min=1, max=500),
    as_user: str | None = typer.Option(None, "--as", help="List as this user"),
) -> None:
    """The stored findings (ID numbers masked) / 检查问题清单."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, as_user, purpose="checks")
            items, total = checks.list_findings(
                session, ctx, check=check, status=status, area_code=area, limit=limit
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    for f in items:
        out.print(f"#{f.id} {f.check} [{f.status}] {json.dumps(f.keys, ensure_ascii=False)}", markup=False)
    print(f"{total:,} findings 条")


@app.command("dismiss")
def dismiss(
    finding_id: int = typer.Argument(...),
    reason: str = typer.Option(None, "--reason", help="Why this is not a defect (required)"),
    as_user: str | None = typer.Option(None, "--as", help="Dismiss as this user"),
) -> None:
    """Dismiss a finding with a reason; later runs keep it dismissed / 排除问题."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, as_user, purpose="checks")
            checks.dismiss_finding(session, ctx, finding_id, reason=reason)
    except LiangshiError as exc:
        raise fail(exc) from None
    print(f"已排除 dismissed #{finding_id}")
