"""`liangshi import KIND FILE`: bulk-import a police file, a department feed, or write an empty template."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from liangshi.cli import departments
from liangshi.cli.common import actor_as, err, fail
from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.errors import LiangshiError
from liangshi.exchange import formats, service


def import_(
    kind: str = typer.Argument(..., help=f"{', '.join(formats.KINDS)} — or 'template'"),
    file: Path = typer.Argument(..., help="CSV (UTF-8 / GB18030) or XLSX; for 'template': the kind"),
    source: str = typer.Option(None, "--source", help="The sending department (health, justice, …)"),
    as_user: str = typer.Option(
        None, "--as", help="Import within this user's jurisdiction (default: operator)"
    ),
    errors: Path = typer.Option(
        None, "--errors", help="Where to write rejected rows (default FILE.errors.csv)"
    ),
    out: Path = typer.Option(None, "--out", help="template: where to write it (.csv or .xlsx)"),
    chinese: bool = typer.Option(False, "--zh", help="template: Chinese column headers"),
) -> None:
    """Bulk-import a department file, or write an empty template (`liangshi import template persons`)."""
    if kind == "template":
        target_kind = str(file)
        if target_kind not in formats.KINDS:
            err.print(
                f"[red]import.kind_unknown[/red]: 未知的导入类型 / unknown kind {target_kind}: "
                f"{', '.join(formats.KINDS)}"
            )
            raise typer.Exit(2)
        path = out or Path(f"{target_kind}_template.csv")
        service.write_template(target_kind, path, chinese=chinese)
        print(f"模板已写入 / template written: {path}")
        return
    if departments.is_department_feed(source):
        # A department's file is a batch under its agreement (bad rows reported, conflicts reviewed); the police
        # files are the register's base and go through the bulk importer below.
        departments.import_feed(kind, file, source, as_user, errors)
        return
    settings = Settings()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        with session_scope(sessions) as session:
            actor = actor_as(session, as_user)
        # Refused before the progress bar starts (import_file checks again before it writes anything).
        service.ensure_may_import(actor, kind)
    except LiangshiError as exc:
        engine.dispose()
        raise fail(exc) from None
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} rows"),
        TextColumn("{task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
    ]
    try:
        with Progress(*columns, console=err) as progress:
            task = progress.add_task(f"导入 importing {kind}", total=None, rate=0.0)

            def advance(n: int) -> None:
                progress.advance(task, n)
                t = progress.tasks[task]
                progress.update(task, rate=(t.completed / t.elapsed) if t.elapsed else 0.0)

            result = service.import_file(
                sessions, kind=kind, path=file, source=source, actor=actor, clock=Clock(), progress=advance
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    print(
        f"批次 batch {result.batch_id}: {result.rows} 行 rows, 新增 loaded {result.loaded}, "
        f"已存在 existing {result.existing}, 拒绝 rejected {len(result.errors)} ({result.seconds:.1f} s)"
    )
    if result.errors:
        report = errors or file.with_name(file.name + ".errors.csv")
        service.write_error_report(result.errors, report)
        for e in result.errors[:5]:
            err.print(f"  line {e.line}, {e.field}: {e.code}: {e.message_zh} / {e.message_en}")
        err.print(f"被拒绝的行已写入 / rejected rows written to {report}")
        raise typer.Exit(1)
